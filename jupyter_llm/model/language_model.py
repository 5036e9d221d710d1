"""The :class:`LanguageModel`: a Keras model with its tokenizer, config and history.

Every surface of jupyter_llm (magics, widgets, the kernel channel, the CLI)
calls the methods of this class.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import math
import os
import threading
import warnings
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from .. import _background
from .. import store
from ..config import ModelConfig
from ..errors import CorruptModelError, DataError, PromptTooLongError, invalid
from ..generation.sampling import SamplingOptions
from ..text.sources import TextSource
from ..text.tokenizers import Tokenizer
from .attention import AttentionMap
from .copied import DEFAULT_MIN_CHARS

WEIGHTS = store.WEIGHTS

_DECODER_LOCK = threading.Lock()  # two threads asking for a new model's decoder make one


class UnknownSymbolWarning(UserWarning):
    """Part of a prompt was never seen in training and maps to the unknown token."""


class LanguageModel:
    """A trained GRU-attention language model.

    Make one with :func:`jupyter_llm.train` or :func:`jupyter_llm.load`.

    Attributes:
        model: the Keras model, token ids ``(batch_size, T)`` to logits
            ``(batch_size, T, vocab_size)``.
        tokenizer: the :class:`~jupyter_llm.Tokenizer` it was trained with.
        config: the :class:`~jupyter_llm.ModelConfig`.
        metadata: corpus fingerprint, sizes, metrics, history, versions.
        name: the store name it was saved or loaded under, if any.
    """

    def __init__(self, model, tokenizer: Tokenizer, config: ModelConfig,
                 metadata: dict[str, Any] | None = None, name: str | None = None) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.config = config
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.name = name
        self._decoder = None
        self._nats = None
        self._logits = None
        self._copy_index: Any = None  # a CopyIndex, or (files, folder) to read it from on first use

    @classmethod
    def build(cls, config: ModelConfig, tokenizer: Tokenizer, metadata: dict[str, Any] | None = None) -> "LanguageModel":
        """A new, untrained model for a tokenizer (``config.vocab_size`` is set from it)."""
        from .backbone import build_model

        config.vocab_size = tokenizer.vocab_size
        return cls(build_model(config), tokenizer, config, metadata)

    # === Introspection ===

    @property
    def num_parameters(self) -> int:
        return int(self.model.count_params())

    @property
    def fingerprint(self) -> str:
        """A short hash of the weights: it changes whenever the model is trained further."""
        h = hashlib.sha256()
        for w in self.model.get_weights():
            h.update(np.ascontiguousarray(w).tobytes())
        return h.hexdigest()[:16]

    def __repr__(self) -> str:
        name = f"'{self.name}'" if self.name else "unsaved"
        c = self.config
        return (f"LanguageModel({name}, {self.tokenizer.kind} tokenizer, vocab {c.vocab_size}, "
                f"{c.num_layers}x GRU({c.rnn_units}) + attention(W={c.window}), "
                f"{self.num_parameters:,} parameters)")

    def summary(self) -> dict[str, Any]:
        """Facts about the model as a dict (what ``%llm info`` and ``jupyter-llm models`` show)."""
        return {
            "name": self.name,
            "tokenizer": self.tokenizer.kind,
            "vocab_size": self.config.vocab_size,
            "parameters": self.num_parameters,
            "config": self.config.to_dict(),
            "fingerprint": self.fingerprint,
            **{k: v for k, v in self.metadata.items() if k != "history"},
        }

    # === Encoding ===

    def encode_prompt(self, prompt: str, allow_empty: bool = True) -> np.ndarray:
        """Token ids of a prompt, warning about symbols never seen in training."""
        if not isinstance(prompt, str):
            raise invalid("prompt", "a str", type(prompt).__name__)
        unknown = self.tokenizer.unknown_symbols(prompt)
        if unknown:
            shown = ", ".join(repr(u) for u in unknown[:10]) + (" ..." if len(unknown) > 10 else "")
            warnings.warn(
                f"{len(unknown)} symbol(s) of the prompt were never seen in training and map to the "
                f"unknown token: {shown}",
                UnknownSymbolWarning,
                stacklevel=3,
            )
        ids = self.tokenizer.encode(prompt) if prompt else np.zeros(0, np.int32)
        if len(ids) == 0:
            if not allow_empty:
                raise invalid("text", "a non-empty string", prompt)
            ids = self.tokenizer.encode("\n")  # documents start after a newline
            if len(ids) == 0:
                ids = np.array([0], np.int32)
        if len(ids) > self.config.max_context:
            raise PromptTooLongError(
                f"The prompt is {len(ids):,} tokens long, but this model reads at most "
                f"{self.config.max_context:,} (config.max_context). Expected a shorter prompt; "
                f"for example keep its end: prompt[-{self.config.max_context // 2}:]."
            )
        return ids.astype(np.int32)

    @property
    def decoder(self):
        """The incremental decoder over this model's weights (made once, whichever thread asks first)."""
        if self._decoder is None:
            from ..generation.decoder import Decoder

            with _DECODER_LOCK:
                if self._decoder is None:
                    self._decoder = Decoder(self.model, self.config)
        return self._decoder

    def prepare(self, wait: bool = False) -> "LanguageModel":
        """Prepare what generation runs (the prompt pass and the decoding loop) now.

        Traces them (a fraction of a second), so the first ``generate`` or
        ``stream`` answers at once, then compiles them with XLA on a background
        thread; generations that start before that is done run uncompiled (the
        same text, slower). Safe to call from any thread, and more than once: a
        second call, or a generation started meanwhile, waits for the first
        instead of tracing again. ``wait=True`` returns once XLA has compiled
        them too. Returns the model.
        """
        self.decoder.prepare(wait=wait)
        return self

    def prepare_in_background(self) -> threading.Thread:
        """Start :meth:`prepare` on a daemon thread and return it (what :meth:`load` does).

        A failure there says nothing: the ``generate`` that needs the compiled
        functions meets it again and reports it.
        """
        thread = threading.Thread(target=_prepare_quietly, args=(self,), name="jupyter_llm-prepare", daemon=True)
        _background.keep(thread)  # the exit waits for it
        thread.start()
        return thread

    def logits(self, text: str) -> np.ndarray:
        """The model's next-token logits at every position of ``text``: ``(T, vocab_size)``."""
        ids = self.encode_prompt(text, allow_empty=False)
        if self._logits is None:
            from .. import _tf  # noqa: F401  (TensorFlow without its start-up notices)
            import tensorflow as tf

            self._logits = tf.function(lambda x: self.model(x, training=False),
                                       input_signature=[tf.TensorSpec([None, None], tf.int32)])
        return self._logits(ids[None, :]).numpy()[0]

    # === Generation ===

    def generate(self, prompt: str = "", max_tokens: int = 200, temperature: float = 1.0,
                 top_k: int | None = None, top_p: float | None = None, repetition_penalty: float = 1.0,
                 stop: str | list[str] | None = None, seed: int | None = None, n: int = 1, *,
                 greedy: bool = False, beam: int | None = None, return_attention: bool = False,
                 explain: bool = False, trace: Any = None):
        """Continue ``prompt``; returns the new text (a list of ``n`` texts when ``n > 1``).

        Args:
            prompt: the text to continue ("" starts a new document).
            max_tokens: how many tokens to generate at most.
            temperature: > 0; below 1 is more conservative, above 1 more surprising.
            top_k: sample only among the k most likely tokens.
            top_p: sample only among the most likely tokens whose probabilities add up to top_p.
            repetition_penalty: > 1 discourages tokens already in the prompt or output.
            stop: a string or list of strings; generation ends before the first one.
            seed: the same seed gives the same text.
            n: how many samples, generated together as one batch.
            greedy: take the most likely token at every step (ignores temperature, top-k, top-p).
            beam: beam search with this many beams (returns the n best).
            return_attention: also return an :class:`AttentionMap` of prompt and
                continuation (of the first sample); the result is then ``(text, map)``.
            explain: also return the :class:`~jupyter_llm.Explanation` of the continuation (one per sample:
                a list when ``n > 1``); the result is then ``(text, explanation)`` (after the map, if asked).
            trace: a :class:`~jupyter_llm.generation.generator.Trace` to fill in
                with the ids (and, if it asks, the attention weights) of the generation.
        """
        from ..generation.generator import Trace
        from ..generation.options import VIEWS

        explain = VIEWS["explain"].check(explain)  # before generating, in the words of every surface
        trace = trace if trace is not None else Trace()
        trace.record_attention = trace.record_attention or return_attention
        stream = self.stream(prompt, max_tokens, temperature, top_k, top_p, repetition_penalty, stop, seed,
                             n, greedy=greedy, beam=beam, trace=trace)  # checks every option (n too) first
        texts = [""] * n
        for pieces in stream:
            texts = [t + p for t, p in zip(texts, [pieces] if n == 1 else pieces)]
        result = texts if n > 1 else texts[0]
        from .explain import generation_extras  # (the attention map and the explanations, as asked)

        extras = generation_extras(self, trace, n, return_attention, explain)
        return (result, *extras) if extras else result

    def stream(self, prompt: str = "", max_tokens: int = 200, temperature: float = 1.0,
               top_k: int | None = None, top_p: float | None = None, repetition_penalty: float = 1.0,
               stop: str | list[str] | None = None, seed: int | None = None, n: int = 1, *,
               greedy: bool = False, beam: int | None = None, trace: Any = None) -> Iterator[Any]:
        """Like :meth:`generate`, but yields the text piece by piece as it is made.

        With ``n == 1`` each item is a str; with ``n > 1`` it is a list of ``n``
        pieces (some may be empty). Beam search yields its result in one piece.
        Stopping the iteration early (``break``, an interrupt) keeps what was made,
        in the text and in ``trace`` (see :meth:`generate`).
        """
        options = SamplingOptions(max_tokens, temperature, top_k, top_p, repetition_penalty,
                                  stop, seed, n, greedy, beam)
        ids = self.encode_prompt(prompt)
        if trace is not None:
            trace.prompt_ids = ids
        return self._stream(ids, options, trace)

    def _stream(self, ids: np.ndarray, options: SamplingOptions, trace: Any = None) -> Iterator[Any]:
        if options.beam is not None:
            from ..generation.generator import beam_search

            texts = beam_search(self.decoder, self.tokenizer, ids, options, trace)
            yield texts if options.n > 1 else texts[0]
            return
        from ..generation.generator import sample_stream

        record = trace is not None and trace.record_attention
        for pieces in sample_stream(self.decoder, self.tokenizer, ids, options, trace, record):
            if options.n > 1:
                if any(pieces):
                    yield pieces
            elif pieces[0]:
                yield pieces[0]

    def trace_attention(self, trace: Any, row: int = 0) -> AttentionMap:
        """The attention map of a generation (prompt and continuation of sample ``row``) from its trace.

        The ids come from the trace, never from encoding the text again. A trace
        that recorded the weights step by step (``Trace(record_attention=True)``)
        is read as it is; one without them (beam search) is read with one pass of
        the model over those ids.
        """
        prompt_ids = [int(i) for i in trace.prompt_ids]
        generated = [int(i) for i in trace.token_ids[row]] if trace.token_ids else []
        ids = prompt_ids + generated
        p = len(prompt_ids)
        if not ids:
            raise invalid("trace", "a trace of a generation with a prompt or generated tokens", "an empty trace")
        steps = trace.step_weights[row] if trace.step_weights else []
        if trace.prompt_weights is not None and len(steps) >= len(generated):
            t = len(ids)
            weights = np.zeros((t, t), np.float32)
            weights[:p, :p] = trace.prompt_weights
            for i, step in enumerate(steps[: len(generated)]):
                weights[p + i, : len(step)] = step
        else:
            _, _, full = self.decoder.prefill(np.asarray(ids, dtype=np.int32)[None, :])
            weights = np.asarray(full[0], np.float32)
        tokens = [self.tokenizer.id_to_token(i) for i in ids]
        return AttentionMap(tokens, weights, prompt_length=p, meta=self._provenance())

    # === Attention ===

    def attention(self, text: str, *, prompt_length: int | None = None) -> AttentionMap:
        """The tokens of ``text`` and the causal attention weights ``(T, T)`` over them.

        ``prompt_length`` (in tokens) marks where a prompt ends and generated text begins.
        """
        ids = self.encode_prompt(text, allow_empty=False)
        _, _, weights = self.decoder.prefill(ids[None, :])
        tokens = [self.tokenizer.id_to_token(int(i)) for i in ids]
        return AttentionMap(tokens, weights[0], prompt_length=prompt_length, meta=self._provenance())

    def _provenance(self) -> dict[str, Any]:
        return {"model": self.name, "fingerprint": self.fingerprint}

    # === Evaluation ===

    def evaluate(self, source: Any, *, column: str | None = None, encoding: str = "utf-8",
                 batch_size: int | None = None) -> dict[str, float]:
        """Loss of the model on a text (any training source: str, path, Series, ...).

        Returns ``loss`` (nats per token), ``bits_per_token``, ``bits_per_char``
        (nats over the characters predicted, in bits), ``perplexity``, ``tokens``
        (the tokens predicted: all but the first) and ``chars`` (the characters
        of the text those tokens cover, counted in the text itself, so an
        unknown word counts its own length, not that of ``<unk>``). The text is
        read in windows of ``seq_len`` tokens, as in validation during
        training; a large file is streamed, in one pass.
        """
        from .. import _tf  # noqa: F401  (TensorFlow without its start-up notices)
        import tensorflow as tf

        from .windows import iter_windows

        src = _CharCount(TextSource.from_any(source, column=column, encoding=encoding))
        batch_size = batch_size or self.config.batch_size
        total_nats, tokens = 0.0, 0
        first_id: int | None = None
        batch: list[np.ndarray] = []

        nats = self._nats_function()

        def flush():
            nonlocal total_nats
            if batch:
                total_nats += float(nats(tf.constant(np.stack(batch), dtype=tf.int32)))
                batch.clear()

        for window in iter_windows(src, self.tokenizer, self.config.seq_len):
            if batch and len(window) != len(batch[0]):
                flush()
            batch.append(window)
            if first_id is None:
                first_id = int(window[0])
            tokens += len(window) - 1
            if len(batch) == batch_size:
                flush()
        flush()
        if tokens == 0:
            raise DataError(f"The evaluation text ({src.description}) has fewer than 2 tokens. Expected a longer text.")
        chars = src.chars - _token_chars(self.tokenizer, first_id, src.head)  # the first token is not predicted
        loss = total_nats / tokens
        return {
            "loss": loss,
            "bits_per_token": loss / math.log(2),
            "bits_per_char": total_nats / max(chars, 1) / math.log(2),
            "perplexity": math.exp(min(loss, 700.0)),
            "tokens": tokens,
            "chars": chars,
        }

    def _nats_function(self):
        """Total cross-entropy (nats) of a batch of windows ``(B, T + 1)``; traced once per model."""
        if self._nats is None:
            from .. import _tf  # noqa: F401  (TensorFlow without its start-up notices)
            import tensorflow as tf

            @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32)])
            def nats(windows):
                logits = self.model(windows[:, :-1], training=False)
                return tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(windows[:, 1:], logits))

            self._nats = nats
        return self._nats

    # === Explanation (#15; the work is in explain.py) ===

    def explain(self, text: str, top_k: int = 5):
        """Every token of ``text`` after the first: probability, bits, alternatives, logit split.

        Read in the windows of :meth:`evaluate`, so the rows' log-probabilities
        add up to its total. Returns an :class:`~jupyter_llm.model.explain.Explanation`.
        """
        from .explain import explain

        return explain(self, text, top_k=top_k)

    def saliency(self, text: str, position: int = -1, method: str = "integrated_gradients", steps: int = 64):
        """Attributions of the input tokens to the log-probability of the token at ``position``.

        ``method``: ``"integrated_gradients"`` (``steps`` from zero embeddings) or
        ``"gradient_x_input"``. Returns a :class:`~jupyter_llm.model.explain.Saliency`
        with the attention weights of the same step beside them.
        """
        from .explain import saliency

        return saliency(self, text, position=position, method=method, steps=steps)

    # === Copied text (#15; the work is in copied.py) ===

    @property
    def copy_index(self):
        """The :class:`~jupyter_llm.model.copied.CopyIndex` of the training text, or None (read on first use)."""
        from .copied import index_of

        self._copy_index = index_of(self._copy_index)
        return self._copy_index

    @copy_index.setter
    def copy_index(self, index) -> None:
        from .copied import index_of

        self._copy_index = index_of(index, check=True)

    def copied(self, text: str, min_chars: int = DEFAULT_MIN_CHARS):
        """The spans of ``text`` found verbatim in the training text, with their offsets there.

        Returns :class:`~jupyter_llm.model.copied.Copies` of ``CopiedSpan(start, end, text, source_offset)``, spans
        of ``min_chars`` (>= 55) or more; guarantees in :mod:`jupyter_llm.model.copied`. NoCopyIndexError: none.
        """
        from .copied import copied

        return copied(self, text, min_chars)

    # === Persistence ===

    def save(self, path_or_name: str | os.PathLike, overwrite: bool = False) -> Path:
        """Save to a folder path, or under a name in the model store (atomic)."""
        target = store.resolve(path_or_name)
        if target.exists() and not overwrite:
            store.write_bundle(target, {}, overwrite=False)  # raises the standard error
        from .. import _tf

        weights = store.weights_to_bytes(self._weights_only_model())
        metadata = {**self.metadata, "versions": _tf.versions(), "parameters": self.num_parameters,
                    "tokenizer": self.tokenizer.kind, "fingerprint": self.fingerprint}
        metadata.setdefault("created", _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
        metadata["saved"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        files = {
            "config.json": json.dumps(self.config.to_dict(), indent=2).encode(),
            "tokenizer.json": self.tokenizer.to_json().encode(),
            "metadata.json": store.json_bytes(metadata),
            WEIGHTS: weights,
        }
        files.update(self.copy_index.to_files() if self.copy_index is not None else {})  # copied.json, .npy
        folder = store.write_bundle(target, files, overwrite=overwrite)
        self.metadata = metadata
        if store.is_bundled_name(path_or_name):
            warnings.warn(
                f"Saved as '{path_or_name}' in your model store, but a bundled model has that name too: "
                f"jl.load('{path_or_name}') still loads the bundled one. Load yours with "
                f"jl.load('{path_or_name}', prefer='user'), or save it under another name.",
                UserWarning, stacklevel=2)
        if (isinstance(path_or_name, str) and store.is_name(path_or_name)) or self.name is None:
            self.name = folder.name
        return folder

    def _weights_only_model(self):
        """The model without its optimizer, whose state Keras would otherwise save too (3x the size)."""
        if getattr(self.model, "optimizer", None) is None:
            return self.model
        from .backbone import build_model

        clone = build_model(dataclasses.replace(self.config, seed=None))
        clone.set_weights(self.model.get_weights())
        return clone

    @classmethod
    def load(cls, path_or_name: str | os.PathLike, prefer: str = "bundled",
             prepare: bool | None = None) -> "LanguageModel":
        """Load a model saved by :meth:`save`. Runs no code from the files.

        ``path_or_name`` is a folder, or a name: a bundled model or one in your
        store. When both have the name, the bundled one is loaded unless
        ``prefer="user"``.

        ``prepare``: compile the model's generation (:meth:`prepare`) on a
        background thread, so the first ``generate`` a moment later answers at
        once (a ``generate`` that comes sooner waits for it). None: yes, unless
        ``$JUPYTER_LLM_WARM_UP`` is ``0``.
        """
        if prepare not in (None, True, False):
            raise invalid("prepare", "True, False or None", prepare)
        files = store.read_bundle(path_or_name, prefer)
        folder = store.locate(path_or_name, prefer)
        config_data = store.read_json(files, "config.json", folder)
        _check_config_types(config_data, folder)
        try:
            config = ModelConfig.from_dict(config_data)
        except (TypeError, ValueError) as e:
            raise CorruptModelError(f"'{folder}/config.json' is not a valid model config: {e}") from None
        try:
            tokenizer = Tokenizer.from_dict(store.read_json(files, "tokenizer.json", folder))
        except CorruptModelError:
            raise
        except (TypeError, ValueError, KeyError, AttributeError, IndexError) as e:
            raise CorruptModelError(f"'{folder}/tokenizer.json' is not a valid tokenizer "
                                    f"({type(e).__name__}). Expected the tokenizer saved with the model.") from None
        metadata = store.read_json(files, "metadata.json", folder)
        if tokenizer.vocab_size != config.vocab_size:
            raise CorruptModelError(
                f"'{folder}' is inconsistent: the tokenizer has {tokenizer.vocab_size} tokens but the "
                f"config expects {config.vocab_size}. Expected files saved together."
            )
        from .backbone import build_model

        model = build_model(config)
        store.load_weights_from(model, files, folder, writer="jupyter_llm")
        lm = cls(model, tokenizer, config, metadata, name=folder.name)
        from .copied import files_of  # the copied-text index, read on first use (lm.copy_index)
        lm._copy_index = files_of(files, folder)
        if prepare or (prepare is None and _warm_up_wanted()):
            lm.prepare_in_background()
        return lm


def _warm_up_wanted() -> bool:
    from ..warm_up import enabled_by_environment

    return enabled_by_environment()


def _prepare_quietly(lm: LanguageModel) -> None:
    """``lm.prepare()`` on a background thread: a failure here is the first generate's to report, in its words."""
    try:
        lm.prepare()
    except Exception:  # noqa: BLE001 (the generate that needs it raises the same error where it can be read)
        pass



def _check_config_types(data: dict[str, Any], folder: Any) -> None:
    """Refuse a ``config.json`` value of the wrong JSON type before Keras sees it (a CorruptModelError naming it).

    The types come from :class:`ModelConfig`'s annotations: an ``int`` field takes
    an integer (not a bool or a float), a ``float`` field any number but a bool,
    ``str`` a string, ``dict`` an object, and ``... | None`` also null.
    """
    for f in dataclasses.fields(ModelConfig):
        if f.name not in data:
            continue
        value, annotation = data[f.name], str(f.type)
        if value is None and "None" in annotation:
            continue
        if annotation.startswith("int"):
            ok, expected = isinstance(value, int) and not isinstance(value, bool), "an integer"
        elif annotation.startswith("float"):
            ok, expected = isinstance(value, (int, float)) and not isinstance(value, bool), "a number"
        elif annotation.startswith("str"):
            ok, expected = isinstance(value, str), "a string"
        elif annotation.startswith("dict"):
            ok, expected = isinstance(value, dict), "an object"
        else:  # pragma: no cover (a field of a new type: ModelConfig checks it)
            continue
        if not ok:
            expected += " or null" if "None" in annotation else ""
            shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
            raise CorruptModelError(f"'{folder}/config.json' has an invalid {f.name}. Expected {expected}. "
                                    f"Received: {f.name}={shown}")


class _CharCount:
    """A TextSource that counts the characters of the chunks read from it (for a one-pass evaluation)."""

    def __init__(self, source: TextSource) -> None:
        self.source = source
        self.description = source.description
        self.chars = 0
        self.head = ""  # the start of the text, to measure its first token

    def iter_chunks(self) -> Iterator[str]:
        for chunk in self.source.iter_chunks():
            self.chars += len(chunk)
            if len(self.head) < 256:
                self.head += chunk[: 256 - len(self.head)]
            yield chunk


def _token_chars(tokenizer: Tokenizer, token_id: int, text: str) -> int:
    """How many characters of ``text`` its first token, ``token_id``, covers."""
    piece = tokenizer.decode([token_id])
    if text.startswith(piece):
        return len(piece)
    unknown = tokenizer.unknown_symbols(text)  # in order of appearance: the first token's is first
    if unknown and text.startswith(unknown[0]):
        return len(unknown[0])
    return len(piece)  # a byte-level piece of a character: close enough
