"""Background threads inside TensorFlow, waited for before the interpreter shuts down.

TensorFlow (XLA above all) does not survive being torn down under a daemon thread
still compiling or tracing in it: the process aborts ("terminate called without
an active exception"), so that a command that printed its result can still exit
with status 134. Threads started with :func:`keep` are joined first, by
``threading``'s own exit hook, which runs before any ``atexit`` handler, TensorFlow's
included (an ``atexit`` handler registered before TensorFlow's runs after it).
This module imports nothing heavy.
"""

from __future__ import annotations

import atexit
import threading
import weakref

#: Seconds the exit waits for each thread (a compilation takes a few at most).
EXIT_WAIT = 60.0

_THREADS: "weakref.WeakSet[threading.Thread]" = weakref.WeakSet()


def keep(thread: threading.Thread) -> threading.Thread:
    """Have the exit wait for ``thread`` (started or not); returns it."""
    _THREADS.add(thread)
    return thread


def wait_all(timeout: float = EXIT_WAIT) -> None:
    """Join every kept thread still running, and those they start meanwhile (at most ``timeout`` seconds each)."""
    joined: set[int] = set()
    while True:
        running = [t for t in list(_THREADS)
                   if t.is_alive() and t is not threading.current_thread() and id(t) not in joined]
        if not running:
            return
        for thread in running:  # a preparation may start a compilation before it ends: look again after
            thread.join(timeout)
            joined.add(id(thread))


try:  # runs in threading._shutdown, before the atexit handlers
    threading._register_atexit(wait_all)  # type: ignore[attr-defined]
except (AttributeError, RuntimeError):  # not CPython 3.9+, or already shutting down
    atexit.register(wait_all)
