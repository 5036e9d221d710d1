"""Why each token came out: per-token probabilities, the logit split, and saliency (#15).

:func:`explain` reads a text the way :meth:`LanguageModel.evaluate` does (the
same windows of ``seq_len`` tokens, the first token not predicted) and returns
an :class:`Explanation`: for every later token its probability, surprisal and
the entropy of the distribution (in bits), the ``top_k`` most likely tokens,
and the split of its logit. The model's output is
``y_t = softmax(W [h_t; a_t] + b)``, so with ``W = [W_h; W_a]`` (the Dense
kernel split at ``rnn_units``) every logit is exactly::

    logit_t[c] = (h_t W_h)[c] + (a_t W_a)[c] + b[c]       # GRU part + attention part + bias
    (a_t W_a)[c] = sum_s alpha_ts (h_s W_a)[c]             # one term per earlier position s

:func:`saliency` attributes the log-probability of one token to the input
tokens (gradient x input or integrated gradients over the embeddings) and
returns them beside the attention weights of the same position.

:func:`explain_trace` explains a generation from its
:class:`~jupyter_llm.generation.generator.Trace`: one pass of the model over the
prompt's and the generated ids, so each row's probabilities are the model's
for that generated token given everything before it (``generate(explain=True)``).

Imports neither TensorFlow nor Keras at module level. The core never imports a
surface: the mime bundle, the static HTML and the text are made by
:mod:`jupyter_llm.display.explain`, reached through :mod:`jupyter_llm._hooks`.
"""

from __future__ import annotations

import dataclasses
import math
import weakref
from typing import Any

import numpy as np

from .. import _hooks
from ..errors import invalid

VERSION = 1  # of the payload of Explanation.to_dict and Saliency.to_dict
LN2 = math.log(2)
METHODS = ("integrated_gradients", "gradient_x_input")


@dataclasses.dataclass
class Explanation:
    """Per-token view of a text under a model (what :meth:`LanguageModel.explain` returns).

    Attributes:
        tokens: the text pieces of every token of the text (the first one included).
        rows: one dict per predicted token (every token after the first), with
            ``index`` (its position in ``tokens``), ``token``, ``id``, ``prob``,
            ``logprob`` (nats), ``surprisal_bits``, ``entropy_bits``,
            ``alternatives`` (``top_k`` pairs ``(token, prob)``, most likely first),
            ``logit`` (the model's), its split ``gru_logit + attention_logit + bias``,
            the ``runner_up`` (the most likely other token), ``margin`` over it and
            the margin's split ``gru_margin + attention_margin + bias_margin``, and
            ``attention_sources``: the earlier tokens whose terms
            ``alpha_ts (h_s W_a)[chosen]`` are largest in size, as dicts of
            ``index``, ``token``, ``weight``, ``contribution``.
        summary: ``tokens`` (predicted), ``chars``, ``total_bits``,
            ``bits_per_token``, ``bits_per_char``, ``most_surprising``.
        meta: the model's name and fingerprint.
        prompt_tokens: for a generation (:func:`explain_trace`), how many of ``tokens`` are the
            prompt: only the continuation has rows and counts in ``summary``. None for a text.
        copies: the spans of ``"".join(tokens)`` found verbatim in the model's training text
            (``lm.copied``), as dicts of ``start``, ``end`` (character offsets, end excluded) and
            ``source_offset`` (where the span starts in the training text); None when not checked.
    """

    tokens: list[str]
    rows: list[dict[str, Any]]
    summary: dict[str, Any]
    top_k: int
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)
    prompt_tokens: int | None = None
    copies: list[dict[str, int]] | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        s = self.summary
        what = "tokens predicted" if self.prompt_tokens is None else "tokens of the continuation"
        return (f"Explanation({s['tokens']} {what}, {s['bits_per_char']:.3f} bits per character, "
                f"{s['total_bits']:.1f} bits in total)")

    def to_frame(self):
        """The rows as a pandas DataFrame (one row per predicted token)."""
        import pandas as pd

        return pd.DataFrame(self.rows)

    @property
    def text(self) -> str:
        """The text explained: its tokens' pieces joined (what ``copies`` offsets count in)."""
        return "".join(self.tokens)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe, versioned payload: ``{"version": 1, "kind": "explanation", ...}``.

        Besides the attributes of the same names it holds ``prompt_tokens`` (an int, or null
        for a text that is not a generation) and ``copies`` (a list, or null when not checked).
        """
        rows = [{**row, "alternatives": [[t, p] for t, p in row["alternatives"]]} for row in self.rows]
        copies = None if self.copies is None else [dict(c) for c in self.copies]
        return {"version": VERSION, "kind": "explanation", "top_k": self.top_k, "meta": dict(self.meta),
                "tokens": list(self.tokens), "rows": rows, "summary": dict(self.summary),
                "prompt_tokens": self.prompt_tokens, "copies": copies}

    def mark_copies(self, spans: Any, offset: int = 0) -> "Explanation":
        """Record copied spans (``lm.copied``'s, of a text starting ``offset`` characters into :attr:`text`).

        Returns the explanation itself.
        """
        marked = [{"start": int(s.start) + offset, "end": int(s.end) + offset,
                   "source_offset": int(s.source_offset)} for s in spans]
        self.copies = sorted((self.copies or []) + marked, key=lambda c: (c["start"], c["end"]))
        return self

    def mark_copies_of(self, lm: Any) -> "Explanation":
        """Mark the spans of the explained text (of a generation: its continuation) that ``lm.copied`` finds.

        Raises :class:`~jupyter_llm.NoCopyIndexError` when ``lm`` has no index. Returns the explanation itself.
        """
        p = self.prompt_tokens or 0
        return self.mark_copies(lm.copied("".join(self.tokens[p:])), offset=len("".join(self.tokens[:p])))

    # === Display: jupyter_llm.display.explain, reached through the hook ===

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        return _renderer().mime_bundle(self)

    def _repr_html_(self) -> str:
        return _renderer().to_html(self)

    def to_html(self) -> str:
        """Static HTML: the text shaded by surprisal, alternatives on hover and on focus (no script)."""
        return _renderer().to_html(self)

    def to_text(self) -> str:
        """A plain-text summary: bits per character and the most surprising tokens."""
        return _renderer().to_text(self)


@dataclasses.dataclass
class Saliency:
    """Which input tokens moved the log-probability of the token at ``position`` (:meth:`LanguageModel.saliency`).

    Attributes:
        tokens: the text pieces of the text's tokens.
        position: the token explained (its log-probability is the output).
        method: ``"integrated_gradients"`` or ``"gradient_x_input"``.
        attributions: ``(position,)``, one per input token ``0 .. position - 1``.
        attention: ``(position,)``, the attention weights of the same step over those tokens.
        logprob: the output at the input; ``baseline_logprob`` at zero embeddings.
        steps: the integration steps (integrated gradients only).
    """

    tokens: list[str]
    position: int
    method: str
    attributions: np.ndarray
    attention: np.ndarray
    logprob: float
    baseline_logprob: float
    steps: int | None = None
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe, versioned payload: ``{"version": 1, "kind": "saliency", ...}``."""
        return {"version": VERSION, "kind": "saliency", "meta": dict(self.meta), "tokens": list(self.tokens),
                "position": self.position, "method": self.method, "steps": self.steps,
                "attributions": [float(a) for a in self.attributions],
                "attention": [float(a) for a in self.attention],
                "logprob": self.logprob, "baseline_logprob": self.baseline_logprob}

    # === Display: jupyter_llm.display.explain, reached through the hook ===

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        return _renderer().mime_bundle(self)

    def _repr_html_(self) -> str:
        return _renderer().to_html(self)

    def to_html(self) -> str:
        """Static HTML: the input tokens shaded by attribution and by attention (no script)."""
        return _renderer().to_html(self)

    def to_text(self) -> str:
        """A plain-text summary: the input tokens that moved the output most."""
        return _renderer().to_text(self)


def _renderer() -> Any:
    if _hooks.explain_renderer is None:  # pragma: no cover (the package root registers it on import)
        raise RuntimeError("No renderer for Explanation is registered: import jupyter_llm to register it.")
    return _hooks.explain_renderer()


# === Explain ===

def explain(lm, text: str, top_k: int = 5, top_sources: int = 5) -> Explanation:
    """The :class:`Explanation` of ``text`` under ``lm`` (see :meth:`LanguageModel.explain`)."""
    from ..text.sources import TextSource
    from .language_model import _token_chars
    from .windows import iter_windows

    if not isinstance(text, str) or not text:
        raise invalid("text", "a non-empty str", text if isinstance(text, str) else type(text).__name__)
    vocab = lm.config.vocab_size
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= vocab:
        raise invalid("top_k", f"an integer from 1 to the vocabulary size ({vocab})", top_k)
    if isinstance(top_sources, bool) or not isinstance(top_sources, int) or top_sources < 1:
        raise invalid("top_sources", "a positive integer", top_sources)
    windows = list(iter_windows(TextSource.from_any(text), lm.tokenizer, lm.config.seq_len))
    if not windows:
        raise invalid("text", "a text of at least 2 tokens", text if len(text) <= 60 else text[:57] + "...")
    kernel, bias = (np.asarray(w, np.float64) for w in lm.model.get_layer("logits").get_weights())
    units = lm.config.rnn_units
    split = (kernel[:units], kernel[units:], bias)  # W_h (units, V), W_a (units, V), b (V,)
    decode = _piece_decoder(lm.tokenizer)
    ids = np.concatenate([windows[0][:1]] + [w[1:] for w in windows])
    tokens = [decode(int(i)) for i in ids]
    rows: list[dict[str, Any]] = []
    start = 0
    batch = lm.config.batch_size
    for first in range(0, len(windows), batch):
        group = windows[first: first + batch]
        full = [w for w in group if len(w) == len(group[0])]  # only the text's last window may be shorter
        for part in (full, group[len(full):]):
            if not part:
                continue
            logits, hidden, context, weights = _forward(lm, np.stack(part)[:, :-1])
            for b, window in enumerate(part):
                rows.extend(_window_rows(window, start, logits[b], hidden[b], context[b], weights[b], split,
                                         tokens, top_k, top_sources, decode))
                start += len(window) - 1
    chars = len(text) - _token_chars(lm.tokenizer, int(ids[0]), text[:256])
    meta = {"model": lm.name, "fingerprint": lm.fingerprint}
    return Explanation(tokens, rows, _summary(rows, chars), top_k, meta)


def explain_trace(lm, trace: Any, row: int = 0, top_k: int = 5, top_sources: int = 5) -> Explanation:
    """The :class:`Explanation` of the continuation of sample ``row`` of a generation, from its trace.

    The model reads the prompt's ids and the generated ids of the trace (never the
    text encoded again) in one pass, as the decoder did while generating, so
    each row holds the model's own distribution for that token given
    everything before it: for greedy decoding the chosen token is every row's
    first alternative. The probabilities are the model's (temperature 1, no top-k
    or top-p, no repetition penalty), not those of the sampler's settings.
    ``tokens`` are the prompt's and the continuation's; only the continuation has
    rows (``prompt_tokens`` says where it starts) and counts in ``summary``.

    Args:
        trace: the :class:`~jupyter_llm.generation.generator.Trace` a ``generate`` or
            ``stream`` call filled in.
        row: which sample (``0 .. n - 1``).
    """
    vocab = lm.config.vocab_size
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= vocab:
        raise invalid("top_k", f"an integer from 1 to the vocabulary size ({vocab})", top_k)
    if getattr(trace, "prompt_ids", None) is None:
        raise invalid("trace", "the trace of a generation (passed to generate or stream)", "a trace without a prompt")
    samples = len(trace.token_ids)
    if isinstance(row, bool) or not isinstance(row, int) or not 0 <= row < max(samples, 1):
        raise invalid("row", f"a sample of the trace, from 0 to {max(samples - 1, 0)}", row)
    prompt = np.asarray(trace.prompt_ids, np.int64)
    generated = np.asarray(trace.token_ids[row] if samples else [], np.int64)
    ids = np.concatenate([prompt, generated])
    decode = _piece_decoder(lm.tokenizer)
    tokens = [decode(int(i)) for i in ids]
    p = len(prompt)
    rows: list[dict[str, Any]] = []
    if len(generated):
        kernel, bias = (np.asarray(w, np.float64) for w in lm.model.get_layer("logits").get_weights())
        units = lm.config.rnn_units
        split = (kernel[:units], kernel[units:], bias)
        logits, hidden, context, weights = _forward(lm, ids[None, :-1])  # (1, T - 1, ...): every step
        # rows of the continuation only: the logits at input p - 1 + j predict generated[j]
        first = p - 1
        rows = _window_rows(ids[first:], first, logits[0, first:], hidden[0], context[0], weights[0, first:],
                            split, tokens, top_k, top_sources, decode, history=first)
    meta = {"model": lm.name, "fingerprint": lm.fingerprint}
    chars = len("".join(tokens[p:]))
    return Explanation(tokens, rows, _summary(rows, chars), top_k, meta, prompt_tokens=p)


def generation_extras(lm, trace: Any, n: int, return_attention: bool, explain: bool) -> tuple:
    """What ``generate`` returns after the text, as asked: the attention map (of the first sample),
    then the explanation (a list of one per sample when ``n > 1``)."""
    extras: tuple = ()
    if return_attention:
        extras += (lm.trace_attention(trace),)
    if explain:
        explanations = [explain_trace(lm, trace, row) for row in range(n)]
        extras += (explanations if n > 1 else explanations[0],)
    return extras


def _piece_decoder(tokenizer):
    cache: dict[int, str] = {}

    def decode(i: int) -> str:
        if i not in cache:
            cache[i] = tokenizer.decode([i])
        return cache[i]

    return decode


#: LanguageModel -> (its Keras model, its traced functions by name), made on first use. The functions
#: hold the Keras model, never the LanguageModel, so an entry goes when its LanguageModel does.
_FUNCTIONS: "weakref.WeakKeyDictionary[Any, tuple[Any, dict[str, Any]]]" = weakref.WeakKeyDictionary()


def _function(lm, name: str):
    """A tf.function of ``lm``'s model traced once per model: ``"forward"`` or ``"gradients"``."""
    model, functions = _FUNCTIONS.get(lm, (None, {}))
    if model is not lm.model:
        model, functions = lm.model, {}
        _FUNCTIONS[lm] = (model, functions)
    if name not in functions:
        make = _make_forward if name == "forward" else _make_gradients
        functions[name] = make(model, lm.config.num_layers, lm.config.embedding_dim)
    return functions[name]


def _make_forward(model, num_layers: int, width: int):
    from .. import _tf  # noqa: F401  (TensorFlow without its start-up notices)
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32)])
    def forward(x):
        logits = model(x, training=False)  # (B, T, V)
        h = _hidden_from_embeddings(model, num_layers, model.get_layer("embedding")(x))  # (B, T, units)
        context, weights = model.get_layer("attention")(h, return_attention_scores=True)  # (B, T, units), (B, T, T)
        return logits, h, context, weights

    return forward


def _forward(lm, ids: np.ndarray):
    """The model's logits, and its GRU states ``h``, attention context ``a`` and weights, for ids ``(B, T)``."""
    return tuple(np.asarray(t, np.float64) for t in _function(lm, "forward")(ids.astype(np.int32)))


def _window_rows(window, start, logits, hidden, context, weights, split, tokens, top_k, top_sources, decode,
                 history: int = 0):
    """One row per target of a window: ``logits[j]`` (at input ``start + j``) predicts ``window[j + 1]``.

    ``hidden`` and ``context`` ``(history + T, units)`` and the columns of ``weights`` ``(T, history + T)``
    may start ``history`` positions before the window (a generation's prompt, read in the same pass);
    the rows' ``index`` and the sources' ``index`` count from ``start - history``.
    """
    w_h, w_a, bias = split
    targets = window[1:].astype(np.int64)
    n = len(targets)
    shifted = logits - logits.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (T, V) log-softmax
    probs = np.exp(logp)
    entropy = -(probs * logp).sum(axis=1) / LN2
    gru = hidden[history:] @ w_h  # (T, V)
    attention = context[history:] @ w_a  # (T, V)
    values = hidden @ w_a  # (history + T, V): (h_s W_a), what each position s adds per unit of weight
    base = start - history  # the position of column 0
    order = np.argsort(-logp, axis=1, kind="stable")
    rows = []
    for j in range(n):
        c = int(targets[j])
        runner_up = int(order[j, 0] if order[j, 0] != c else order[j, 1])
        contributions = weights[j, : history + j + 1] * values[: history + j + 1, c]  # sums to attention[j, c]
        top = np.argsort(-np.abs(contributions), kind="stable")[:top_sources]
        rows.append({
            "index": start + j + 1,
            "token": tokens[start + j + 1],
            "id": c,
            "prob": float(probs[j, c]),
            "logprob": float(logp[j, c]),
            "surprisal_bits": float(-logp[j, c] / LN2),
            "entropy_bits": float(entropy[j]),
            "alternatives": [(decode(int(k)), float(probs[j, k])) for k in order[j, :top_k]],
            "logit": float(logits[j, c]),
            "gru_logit": float(gru[j, c]),
            "attention_logit": float(attention[j, c]),
            "bias": float(bias[c]),
            "runner_up": decode(runner_up),
            "margin": float(logits[j, c] - logits[j, runner_up]),
            "gru_margin": float(gru[j, c] - gru[j, runner_up]),
            "attention_margin": float(attention[j, c] - attention[j, runner_up]),
            "bias_margin": float(bias[c] - bias[runner_up]),
            "attention_sources": [{"index": base + int(s), "token": tokens[base + int(s)],
                                   "weight": float(weights[j, s]), "contribution": float(contributions[s])}
                                  for s in top],
        })
    return rows


def _summary(rows: list[dict[str, Any]], chars: int) -> dict[str, Any]:
    total_nats = -sum(r["logprob"] for r in rows)
    worst = sorted(rows, key=lambda r: -r["surprisal_bits"])[:5]
    return {
        "tokens": len(rows),
        "chars": chars,
        "total_bits": total_nats / LN2,
        "bits_per_token": total_nats / max(len(rows), 1) / LN2,
        "bits_per_char": total_nats / max(chars, 1) / LN2,
        "most_surprising": [{"index": r["index"], "token": r["token"], "surprisal_bits": r["surprisal_bits"]}
                            for r in worst],
    }


# === Saliency ===

def saliency(lm, text: str, position: int = -1, method: str = "integrated_gradients", steps: int = 64) -> Saliency:
    """The :class:`Saliency` of the token at ``position`` of ``text`` (see :meth:`LanguageModel.saliency`)."""
    from .. import _tf  # noqa: F401  (TensorFlow without its start-up notices)
    import tensorflow as tf

    if method not in METHODS:
        raise invalid("method", "one of {'integrated_gradients', 'gradient_x_input'}", method)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise invalid("steps", "a positive integer", steps)
    ids = lm.encode_prompt(text, allow_empty=False)
    n = len(ids)
    if isinstance(position, bool) or not isinstance(position, int) or not (1 <= position < n or -n < position <= -1):
        raise invalid("position", f"an integer from 1 to {n - 1} (or -1 to {1 - n}), a token with one before it",
                      position)
    position = position % n
    target = int(ids[position])
    embeddings = tf.gather(lm.model.get_layer("embedding").embeddings, ids[None, :position])  # (1, P, E) float32
    if method == "gradient_x_input":
        alphas = tf.ones([1, 1, 1])
    else:
        alphas = tf.reshape((tf.range(steps, dtype=tf.float32) + 0.5) / steps, [steps, 1, 1])  # midpoints
    grads, ends, weights = _function(lm, "gradients")(embeddings, alphas, tf.constant(target, tf.int32))
    attributions = np.sum(np.asarray(grads, np.float64) * np.asarray(embeddings[0], np.float64), axis=-1)
    tokens = [lm.tokenizer.decode([int(i)]) for i in ids]
    return Saliency(tokens, position, method, attributions, np.asarray(weights, np.float64),
                    float(ends[0]), float(ends[1]), steps if method == "integrated_gradients" else None,
                    {"model": lm.name, "fingerprint": lm.fingerprint})


def _make_gradients(model, num_layers: int, width: int):
    """``(embeddings (1, P, E), alphas (S, 1, 1), target)`` -> mean gradient ``(P, E)`` of the target's
    log-probability at the last step over the points ``alpha * embeddings``; its log-probability at the
    input and at zero embeddings ``(2,)``; the attention weights of the last step ``(P,)``."""
    from .. import _tf  # noqa: F401  (TensorFlow without its start-up notices)
    import tensorflow as tf

    def logprob(x, target):  # (B, P, E) -> (B,)
        return tf.nn.log_softmax(_logits_from_embeddings(model, num_layers, x)[:, -1, :])[:, target]

    @tf.function(input_signature=[tf.TensorSpec([1, None, width], tf.float32), tf.TensorSpec([None, 1, 1], tf.float32),
                                  tf.TensorSpec([], tf.int32)])
    def gradients(embeddings, alphas, target):
        scaled = alphas * embeddings  # (S, P, E): from the zero baseline to the input
        with tf.GradientTape() as tape:
            tape.watch(scaled)
            out = logprob(scaled, target)
        grads = tf.reduce_mean(tape.gradient(out, scaled), axis=0)  # (P, E)
        ends = logprob(tf.concat([embeddings, tf.zeros_like(embeddings)], axis=0), target)
        _, weights = model.get_layer("attention")(_hidden_from_embeddings(model, num_layers, embeddings),
                                                  return_attention_scores=True)
        return grads, ends, tf.cast(weights[0, -1], tf.float32)

    return gradients


def _hidden_from_embeddings(model, num_layers: int, x):
    """The last GRU's states ``(B, T, units)`` from embeddings ``(B, T, E)`` (dropout is off at inference).

    Float32 whatever the layers' dtype policy (each layer's output is cast back: a model trained under
    ``mixed_float16`` computes its layers in float16), as are the logits below.
    """
    import tensorflow as tf

    for i in range(num_layers):
        x = tf.cast(model.get_layer(f"gru_{i}")(x, training=False)[0], tf.float32)
    return x


def _logits_from_embeddings(model, num_layers: int, x):
    import tensorflow as tf

    h = _hidden_from_embeddings(model, num_layers, x)
    context = tf.cast(model.get_layer("attention")(h), tf.float32)
    return tf.cast(model.get_layer("logits")(tf.concat([h, context], axis=-1)), tf.float32)
