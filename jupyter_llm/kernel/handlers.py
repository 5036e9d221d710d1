"""What the kernel does for each request of the channel.

A handler takes the request's payload (already checked against
``protocol.SPEC``) and a :class:`Context`, and returns the payload of the
response; it raises :class:`~jupyter_llm.JupyterLLMError` or
:class:`~jupyter_llm.kernel.protocol.ProtocolError` for an error. Handlers call
the public API only (the model registry, ``SamplingOptions``, ``lm.stream``,
``lm.attention``) and know nothing of comms, so tests call them directly.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from .._version import __version__
from ..errors import invalid
from ..generation.options import SamplingOptions
from .models import ModelRegistry
from .protocol import LIMITS, REQUESTS, VERSION
from .suggestion import whole_words

# The limits below are protocol.json's; the sampling options' defaults and ranges (max_tokens,
# temperature, ...) are the options table's, for the surfaces "channel" (generate) and
# "completion" (complete), through SamplingOptions.from_dict.

#: ``complete`` continues at most this many characters before the cursor (it must be fast).
COMPLETE_CONTEXT_CHARS: int = LIMITS["complete"]["context_chars"]
#: The most tokens an ``attention`` request may cover: the answer holds T x T weights.
MAX_ATTENTION_TOKENS: int = LIMITS["attention"]["max_tokens"]
#: Streamed text is sent at most this often (seconds), so a fast model does not flood the channel.
CHUNK_INTERVAL: float = LIMITS["generate"]["chunk_interval_ms"] / 1000
#: The same for the words of an inline suggestion (seconds).
COMPLETE_CHUNK_INTERVAL: float = LIMITS["complete"]["chunk_interval_ms"] / 1000


@dataclass
class Context:
    """What a handler may use besides its payload.

    Attributes:
        models: lists and loads the models.
        emit: sends an event of the running request: ``emit("chunk", {"text": ...})``.
        cancelled: whether a ``cancel`` for the running request has arrived.
    """

    models: ModelRegistry
    emit: Callable[[str, dict[str, Any]], None] = lambda name, payload: None
    cancelled: Callable[[], bool] = lambda: False


def hello(payload: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Versions: the front end checks ``protocol`` before anything else."""
    return {"protocol": VERSION, "version": __version__, "requests": list(REQUESTS)}


def list_models(payload: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Every model the requests can name (``model_info``), and the key of the one used when none is named."""
    return {"models": ctx.models.list(), "default": ctx.models.default()}


def generate(payload: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Stream a continuation of ``prompt`` as ``chunk`` events; answer with the whole text.

    The answer's ``text`` is always the concatenation of the chunks sent, also
    when a ``cancel`` stopped the generation (then ``cancelled`` is true).
    """
    options = SamplingOptions.from_dict(payload, "channel")
    lm = ctx.models.get(payload["model"], payload.get("source"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pieces = lm.stream(payload["prompt"], **options.to_dict())
    text, cancelled = _pump(pieces, ctx, CHUNK_INTERVAL)
    return {"text": text, "cancelled": cancelled, "model": payload["model"],
            "warnings": [str(w.message) for w in caught]}


def attention(payload: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """The attention map of ``text``, as the payload of the attention mime type."""
    lm = ctx.models.get(payload["model"], payload.get("source"))
    text = payload["text"]
    if not text:
        raise invalid("text", "a non-empty string", text)
    n = len(lm.tokenizer.encode(text))
    if n > MAX_ATTENTION_TOKENS:
        raise invalid("text", f"at most {MAX_ATTENTION_TOKENS} tokens (select less text)", f"{n} tokens")
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        result = lm.attention(text)
    return {"attention": result.to_dict()}


def complete(payload: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """A short continuation of the text before the cursor, streamed as ``chunk`` events.

    Only whole words are sent (see :mod:`.suggestion`): the suggestion grows word
    by word, ends before a blank line, and a word the model had not finished when
    it reached ``max_tokens`` (or was cancelled) is left out. The answer's
    ``text`` is the concatenation of the chunks, as for ``generate``.
    """
    options = SamplingOptions.from_dict(payload, "completion")
    text = payload["text"][-COMPLETE_CONTEXT_CHARS:]
    if not text.strip():
        return {"text": "", "cancelled": False}
    lm = ctx.models.get(payload["model"], payload.get("source"))
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        pieces = lm.stream(text, **options.to_dict())
    completion, cancelled = _pump(whole_words(pieces), ctx, COMPLETE_CHUNK_INTERVAL)
    return {"text": completion, "cancelled": cancelled}


HANDLERS: dict[str, Callable[[dict[str, Any], Context], dict[str, Any]]] = {
    "hello": hello,
    "list_models": list_models,
    "generate": generate,
    "attention": attention,
    "complete": complete,
}
#: Requests answered at once on the thread that received them; the others run on a worker.
QUICK = frozenset({"hello", "list_models"})


def _pump(pieces: Iterable[str], ctx: Context, interval: float) -> tuple[str, bool]:
    """Read a stream of text pieces until it ends or the request is cancelled.

    The pieces go out as ``chunk`` events, joined, at most every ``interval``
    seconds; the text returned is the concatenation of the chunks.
    """
    iterator = iter(pieces)
    parts: list[str] = []
    pending: list[str] = []
    last = time.monotonic()
    cancelled = ctx.cancelled()
    try:
        while not cancelled:
            try:
                piece = next(iterator)
            except StopIteration:
                break
            parts.append(piece)
            pending.append(piece)
            if time.monotonic() - last >= interval and any(pending):
                ctx.emit("chunk", {"text": "".join(pending)})
                pending.clear()
                last = time.monotonic()
            cancelled = ctx.cancelled()
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()  # a generator keeps what it made and frees the decoder
    if any(pending):
        ctx.emit("chunk", {"text": "".join(pending)})
    return "".join(parts), cancelled
