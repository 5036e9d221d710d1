"""Background work for the panels: a joinable job and a rate limit for widget updates.

Training and generation run in a daemon thread so that the Stop button, and the
rest of the notebook, stay responsive: the kernel keeps handling widget messages
while the job runs. ipykernel (6 and later) sends trait changes made on any
thread, so the job updates its widgets itself, at most a few times a second.
"""

from __future__ import annotations

import threading
import time
import traceback
from typing import Any, Callable


class Throttle:
    """``ready()`` is true at most once every ``interval`` seconds (thread-safe)."""

    def __init__(self, interval: float) -> None:
        self.interval = float(interval)
        self._last = float("-inf")
        self._lock = threading.Lock()

    def ready(self) -> bool:
        now = time.monotonic()
        with self._lock:
            if now - self._last < self.interval:
                return False
            self._last = now
            return True

    def reset(self) -> None:
        with self._lock:
            self._last = float("-inf")


class Job:
    """One run of ``target()`` in a daemon thread; keeps its result or its error.

    ``on_done(job)`` is called on the job's thread when ``target`` returns or raises.
    """

    def __init__(self, target: Callable[[], Any], name: str,
                 on_done: Callable[["Job"], None] | None = None) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        self.traceback: str | None = None
        self._target = target
        self._on_done = on_done
        self._finished = threading.Event()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> "Job":
        self.thread.start()
        return self

    def _run(self) -> None:
        try:
            self.result = self._target()
        except BaseException as e:  # shown in the panel; a thread has nobody else to tell
            self.error = e
            self.traceback = traceback.format_exc()
        finally:
            self._finished.set()  # before on_done, which then sees the job as ended
            if self._on_done is not None:
                self._on_done(self)

    @property
    def running(self) -> bool:
        """Started and ``target`` not yet returned (``on_done`` may still be running)."""
        return self.thread.ident is not None and not self._finished.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job ends (or ``timeout`` seconds pass); True when it has ended."""
        if self.thread.ident is None:
            return True
        self.thread.join(timeout)
        return not self.thread.is_alive()
