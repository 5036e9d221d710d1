"""The decoding loops behind ``LanguageModel.generate`` and ``LanguageModel.stream``.

:func:`sample_stream` yields, after every step, the new text of each row; the
caller stops consuming it whenever it likes (an interrupt keeps what was made).
:func:`beam_search` keeps the ``beam`` most likely continuations.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from .decoder import CHUNK, Decoder
from .sampling import Sampler, SamplingOptions, log_softmax


class TextAssembler:
    """Turns one row's token ids into text pieces, honouring stop sequences.

    Text that might be the start of a stop sequence is held back until it is
    clear either way, and a trailing partial UTF-8 character (byte-level BPE)
    is held back until its last byte arrives.

    The cost of a token does not grow with the length of the text: only the
    ids after a *settled* prefix are decoded again, together with ``CONTEXT``
    ids before it, whose text must come out unchanged (it does for every
    tokenizer here: their text is the concatenation of their tokens' text, up
    to a partial UTF-8 character). Were it ever to change, the whole text is
    decoded again, so the text is always ``tokenizer.decode(ids)``.
    """

    #: ids decoded before the unsettled tail to check it joins the settled text unchanged
    CONTEXT = 16

    def __init__(self, tokenizer, stop: list[str]) -> None:
        self.tokenizer = tokenizer
        self.stop = stop
        self.holdback = max((len(s) for s in stop), default=1) - 1
        self.ids: list[int] = []
        self.text = ""
        self.emitted = 0
        self.finished = False
        self.stopped = False  # ended by a stop sequence: the last ids decode past self.text
        self._settled = 0  # ids[:_settled] decode to _settled_text, which never changes again
        self._settled_text = ""
        self._context_text = ""  # decode(ids[_settled - CONTEXT:_settled])

    def _decode(self) -> str:
        """``tokenizer.decode(self.ids)``, decoding only the tail after the settled prefix."""
        start = max(0, self._settled - self.CONTEXT)
        window = self.tokenizer.decode(self.ids[start:])
        if not window.startswith(self._context_text):  # the tail changed the context's text
            self._settled, self._settled_text, self._context_text = 0, "", ""
            return self.tokenizer.decode(self.ids)
        text = self._settled_text + window[len(self._context_text):]
        if len(self.ids) - self._settled >= 2 * self.CONTEXT:
            self._settle(text)
        return text

    def _settle(self, text: str) -> None:
        """Move the settled prefix up to ``CONTEXT`` ids before the end, at a clean boundary."""
        n = len(self.ids) - self.CONTEXT
        suffix = self.tokenizer.decode(self.ids[n:])
        context = self.tokenizer.decode(self.ids[n - self.CONTEXT:n])
        # (The context may start inside a character: every window starts at that same id.)
        if suffix.startswith("\ufffd") or context.endswith("\ufffd") or not text.endswith(suffix):
            return  # a character split across the boundary: settle at a later token
        self._settled, self._settled_text, self._context_text = n, text[:len(text) - len(suffix)], context

    def push(self, token: int) -> str:
        """Add a token; return the text that can now be shown (maybe "")."""
        return self.push_many((token,))

    def push_many(self, tokens) -> str:
        """Add several tokens (a chunk of the decoding loop) at once; the same text as one ``push`` each.

        The ids are decoded once for the whole chunk, not once per token.
        """
        if self.finished:
            return ""
        self.ids.extend(int(t) for t in tokens)
        text = self._decode()
        found = [at for at in (text.find(s, max(0, self.emitted - len(s))) for s in self.stop) if at >= 0]
        if found:  # the earliest stop sequence ends the text
            self.finished = True
            self.text = text[:min(found)]
            self.stopped = True
            return self.flush()
        self.text = text
        safe = len(text) - self.holdback
        while safe > self.emitted and text[safe - 1] == "\ufffd" and self.tokenizer.kind == "bpe":
            safe -= 1
        if safe <= self.emitted:
            return ""
        piece = text[self.emitted : safe]
        self.emitted = safe
        return piece

    def flush(self) -> str:
        """Everything not yet shown."""
        piece = self.text[self.emitted :]
        self.emitted = len(self.text)
        return piece


@dataclass
class Trace:
    """What a generation produced besides its text (filled in as it runs).

    Pass one to ``LanguageModel.generate``/``stream`` (``trace=Trace(record_attention=True)``)
    and read it afterwards: the ids the model saw and chose, and, when asked, the
    attention weights of every step. ``LanguageModel.trace_attention(trace)`` turns
    it into an :class:`~jupyter_llm.AttentionMap` without encoding the text again.
    """

    prompt_ids: np.ndarray | None = None
    token_ids: list[list[int]] = field(default_factory=list)  # per row
    step_weights: list[list[np.ndarray]] = field(default_factory=list)  # per row, per fed token
    prompt_weights: np.ndarray | None = None  # (T, T)
    record_attention: bool = False


def sample_stream(
    decoder: Decoder,
    tokenizer,
    prompt_ids: np.ndarray,
    options: SamplingOptions,
    trace: Trace | None = None,
    record_attention: bool = False,
) -> Iterator[list[str]]:
    """Yield, for each chunk of steps, the list of new text pieces of the ``n`` rows.

    The tokens are chosen inside the compiled decoding loop (:meth:`Decoder.run`),
    a chunk of steps per call; stop sequences, streaming and an interrupt act
    between chunks. The first token is drawn from the prompt's logits before
    the loop is called, so the first text comes as soon as the prompt is read;
    the chunks start short and grow (see :class:`ChunkSizes`). A seed gives the
    same text whatever the chunk sizes.
    """
    import tensorflow as tf

    from .decoder import DecodingRun

    n = options.n
    banned = [tokenizer.unk_id] if tokenizer.unk_id is not None else []
    logits, state = decoder.prime(prompt_ids[None, :])
    if n > 1:
        logits = tf.repeat(logits, n, axis=0)
        state = state.select(np.zeros(n, dtype=np.int32))
    run = DecodingRun(decoder, logits, state, prompt_ids, options, banned, record_attention)
    rows = [TextAssembler(tokenizer, options.stop) for _ in range(n)]
    if trace is not None:
        if record_attention:  # the whole (T, T) of the prompt: only when asked for
            trace.prompt_weights = decoder.prefill(prompt_ids[None, :])[2][0]
        trace.token_ids = [r.ids for r in rows]
        trace.step_weights = [[] for _ in range(n)]
    # The first token is chosen from the prompt's logits at once (the loop feeds it in its first call).
    tokens, weights, position = run.pick_first()[None, :], None, run.state.position
    sizes = ChunkSizes()
    made = 0
    while True:
        pieces = []
        for i, row in enumerate(rows):
            if weights is not None and trace is not None and not row.finished:
                trace.step_weights[i].extend(decoder.ring_to_absolute(weights[j, i], position + j)
                                             for j in range(len(weights)))
            pieces.append(row.push_many(tokens[:, i]))
        made += len(tokens)
        done = all(r.finished for r in rows)
        if done:
            _trim(trace, rows)
        yield pieces
        if done:
            return
        if made >= options.max_tokens:
            break
        steps = min(sizes.next(options.max_tokens - made), CHUNK - run.first_pending)
        position = run.state.position
        started = time.perf_counter()
        tokens, weights = decoder.run(run, steps)
        sizes.took(steps, time.perf_counter() - started)
    if record_attention and trace is not None and run.first_pending:  # one token made: feed it for its weights
        _, _, weights = decoder.step(tokens[0], run.state)
        for i in range(n):
            trace.step_weights[i].append(decoder.ring_to_absolute(weights[i], run.state.position))
    _trim(trace, rows)
    final = [row.flush() for row in rows]
    if any(final):
        yield final


class ChunkSizes:
    """How many steps the next call of the decoding loop runs.

    The first token comes before any call (see :meth:`DecodingRun.pick_first`);
    the first call is four steps, which cost little more than one (a call's own
    cost, about 0.3 ms, is most of it: at the ``medium`` size one step takes
    1.5 ms in a stream, four 1.6 ms), so the text keeps coming at once. Each
    next call is four times longer while a call stays under a quarter of
    ``budget`` seconds, twice while under half, up to
    :data:`~jupyter_llm.generation.decoder.CHUNK`; a call over ``budget`` halves
    it (so streamed text keeps flowing and a stop sequence or an interrupt is
    acted on soon).
    """

    def __init__(self, first: int = 4, budget: float = 0.05) -> None:
        from .decoder import CHUNK

        self.size, self.limit, self.budget = first, CHUNK, budget

    def next(self, left: int) -> int:
        return max(1, min(self.size, self.limit, left))

    def took(self, steps: int, seconds: float) -> None:
        if seconds * 4 <= self.budget:
            self.size = min(self.limit, steps * 4)
        elif seconds * 2 <= self.budget:
            self.size = min(self.limit, steps * 2)
        elif seconds > self.budget:
            self.size = max(1, steps // 2)


def _trim(trace: Trace | None, rows: list[TextAssembler]) -> None:
    """Cut each traced row's ids to those of its text: a stop sequence's own tokens are not part of it."""
    if trace is None:
        return
    for i, row in enumerate(rows):
        if row.stopped:
            trace.token_ids[i] = _ids_of_text(row.tokenizer, row.ids, row.text)


def beam_search(
    decoder: Decoder,
    tokenizer,
    prompt_ids: np.ndarray,
    options: SamplingOptions,
    trace: Trace | None = None,
) -> list[str]:
    """The ``options.n`` most likely continuations among ``options.beam`` beams.

    With a ``trace``, its ``token_ids`` get the ids of each returned continuation
    (up to its stop sequence; no attention weights: beams are re-ranked as they go).

    Scores are total log-probabilities; continuations ended by a stop sequence
    compete with the others by their length-normalised score.
    """
    width = options.beam or 1
    banned = [tokenizer.unk_id] if tokenizer.unk_id is not None else []
    sampler = Sampler(SamplingOptions(greedy=True, repetition_penalty=options.repetition_penalty), banned)
    logits, state = decoder.prime(prompt_ids[None, :])
    logits = logits.numpy()
    scores = np.zeros(1)
    beams: list[list[int]] = [[]]
    finished: list[tuple[float, str]] = []
    for _ in range(options.max_tokens):
        history = [np.concatenate([prompt_ids, np.asarray(b, dtype=np.int64)]) for b in beams]
        logp = log_softmax(sampler.process(logits, history))  # (beams, V)
        total = scores[:, None] + logp
        flat = np.argsort(-total, axis=None, kind="stable")[: width * 2]
        parents, tokens = np.unravel_index(flat, total.shape)
        keep_parents, keep_tokens, keep_scores, new_beams = [], [], [], []
        for parent, token in zip(parents, tokens):
            if not np.isfinite(total[parent, token]):
                continue
            ids = beams[parent] + [int(token)]
            text = tokenizer.decode(ids)
            hit = [text.find(s) for s in options.stop if s in text]
            if hit:
                length = len(ids)
                finished.append((float(total[parent, token]) / length, text[: min(hit)], ids))
                continue
            keep_parents.append(parent)
            keep_tokens.append(int(token))
            keep_scores.append(total[parent, token])
            new_beams.append(ids)
            if len(new_beams) == width:
                break
        if not new_beams or len(finished) >= width * 2:
            break
        state = state.select(np.asarray(keep_parents, dtype=np.int32))
        logits, state, _ = decoder.step(np.asarray(keep_tokens, dtype=np.int32), state)
        beams, scores = new_beams, np.asarray(keep_scores)
    candidates = finished + [(float(s) / max(1, len(b)), tokenizer.decode(b), b) for s, b in zip(scores, beams)]
    candidates.sort(key=lambda c: -c[0])
    best = candidates[: options.n]
    out = [text for _, text, _ in best]
    while len(out) < options.n:
        out.append(out[-1] if out else "")
    if trace is not None:
        trace.prompt_ids = prompt_ids
        trace.token_ids = [_ids_of_text(tokenizer, ids, text) for _, text, ids in best]
    return out


def _ids_of_text(tokenizer, ids: list[int], text: str) -> list[int]:
    """The shortest prefix of ``ids`` whose text covers ``text`` (a stop sequence cut it short)."""
    low, high = 0, len(ids)  # decoded length grows with the prefix: bisect it
    while low < high:
        mid = (low + high) // 2
        if len(tokenizer.decode(ids[:mid])) >= len(text):
            high = mid
        else:
            low = mid + 1
    return list(ids[:low])
