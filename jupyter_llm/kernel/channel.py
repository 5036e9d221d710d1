"""One open comm of the ``jupyter_llm`` target: reads requests, answers each exactly once.

Quick requests (``hello``, ``list_models``) are answered on the thread that
received them. Model work (``generate``, ``attention``, ``complete``) runs
on one worker thread per kernel, so the kernel keeps
receiving messages meanwhile, ``cancel`` included: a cancelled request stops
between two tokens and answers with what it made so far. ``comm.send`` is
safe to call from the worker thread.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any, Callable

from ..errors import InvalidArgumentError, JupyterLLMError, ModelNotFoundError, PromptTooLongError
from .handlers import HANDLERS, QUICK, Context
from .models import ModelRegistry
from .protocol import Envelope, ProtocolError, error, event, parse_request, response

log = logging.getLogger("jupyter_llm.kernel")


class Worker:
    """A daemon thread that runs jobs one after the other (it never delays kernel shutdown)."""

    def __init__(self, name: str = "jupyter_llm-worker") -> None:
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, job: Callable[[], None]) -> None:
        self._jobs.put(job)

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                job()
            except BaseException:  # a job answers its own errors; this is a last resort
                log.exception("jupyter_llm: a kernel channel job failed")


class Channel:
    """The kernel end of one comm.

    Args:
        comm: an open comm (anything with ``send``, ``on_msg`` and ``on_close``).
        models: the model registry of the kernel.
        worker: runs the model requests; requests of every channel share it.
    """

    def __init__(self, comm: Any, models: ModelRegistry, worker: Worker) -> None:
        self.comm = comm
        self.models = models
        self.worker = worker
        self.closed = False
        self._running: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        # Held while sending and while closing: once the comm is closed nothing more goes out,
        # not even a message the worker was about to send.
        self._send_lock = threading.Lock()
        comm.on_msg(self._on_msg)
        comm.on_close(self._on_close)

    # === Incoming ===

    def _on_msg(self, msg: dict[str, Any]) -> None:
        self.handle(msg.get("content", {}).get("data"))

    def _on_close(self, msg: dict[str, Any] | None = None) -> None:
        with self._send_lock:
            self.closed = True
        with self._lock:
            for flag in self._running.values():
                flag.set()

    def handle(self, data: Any) -> None:
        """Answer one incoming message (a decoded envelope)."""
        try:
            request = parse_request(data)
        except ProtocolError as e:
            name = data.get("name") if isinstance(data, dict) and isinstance(data.get("name"), str) else ""
            self._send(error(e.id, name, e.code, str(e)))
            return
        if request.name == "cancel":
            self._send(response(request, {"cancelled": self.cancel(request.payload["id"])}))
            return
        if request.name in QUICK:
            self._answer(request, threading.Event())
            return
        flag = threading.Event()
        with self._lock:
            duplicate = request.id in self._running
            if not duplicate:
                self._running[request.id] = flag
        if duplicate:
            # Answered without an id, like any malformed message: the id belongs to the running
            # request, whose one answer must stay the only answer the front end sees for it.
            self._send(error("", request.name, "invalid_message",
                             f"A request with id {request.id!r} is already running. Expected a new id."))
            return
        self.worker.submit(lambda: self._answer(request, flag))

    def cancel(self, request_id: str) -> bool:
        """Ask a running request to stop; whether it was running."""
        with self._lock:
            flag = self._running.get(request_id)
        if flag is None:
            return False
        flag.set()
        return True

    # === Answering ===

    def _answer(self, request: Envelope, flag: threading.Event) -> None:
        """Run the handler and send exactly one response or error."""
        ctx = Context(
            models=self.models,
            emit=lambda name, payload: self._send(event(request.id, name, payload)),
            cancelled=lambda: flag.is_set() or self.closed,
        )
        try:
            reply = response(request, HANDLERS[request.name](request.payload, ctx))
        except ProtocolError as e:
            reply = error(request.id, request.name, e.code, str(e))
        except JupyterLLMError as e:
            reply = error(request.id, request.name, error_code(e), str(e))
        except Exception as e:
            log.exception("jupyter_llm: the %s request failed", request.name)
            reply = error(request.id, request.name, "internal_error",
                          f"The kernel could not answer the {request.name} request: {type(e).__name__}: {e}")
        finally:
            with self._lock:
                self._running.pop(request.id, None)
        self._send(reply)

    def notify(self, data: dict[str, Any]) -> bool:
        """Send an event that answers no request (``insert_cell``); whether it went out."""
        return self._send(data)

    def _send(self, data: dict[str, Any]) -> bool:
        with self._send_lock:
            if self.closed:
                return False
            try:
                self.comm.send(data)
            except Exception:  # the front end went away: nothing to answer to
                log.debug("jupyter_llm: could not send on the kernel channel", exc_info=True)
                return False
            return True


def error_code(e: JupyterLLMError) -> str:
    """The protocol error code of a jupyter_llm exception."""
    if isinstance(e, ModelNotFoundError):
        return "model_not_found"
    if isinstance(e, (InvalidArgumentError, PromptTooLongError)):
        return "invalid_argument"
    return "model_error"


__all__ = ["Channel", "Worker", "error_code"]
