"""The :class:`IntentSlotModel`: a joint intent classifier and slot tagger.

>>> from jupyter_llm import nlu                                        # doctest: +SKIP
>>> data = nlu.load_bio_dataset("snips")                               # doctest: +SKIP
>>> model = nlu.IntentSlotModel.train(data["train"], validation=data["valid"])  # doctest: +SKIP
>>> model.predict("add this song to my road trip playlist").intent     # doctest: +SKIP
'AddToPlaylist'
>>> model.evaluate(data["test"])                                       # doctest: +SKIP
{'intent_accuracy': 0.98, 'slot_f1': 0.89, 'sentence_accuracy': 0.77, ...}

Keras and TensorFlow are imported by the first call that builds or runs a
network, never by importing this module.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import store
from ..errors import CorruptModelError, DataError, invalid
from .config import NLUConfig
from .data import NLUDataset
from .decoding import allowed_transitions, viterbi_bio
from .metrics import chunks, score
from .prediction import Prediction, SlotSpan, WordAttention
from .tokenize import Token, tokenize

__all__ = ["IntentSlotModel", "Vocab", "nlu_models_dir", "resolve"]

WEIGHTS = store.WEIGHTS
KIND = "intent_slot"
PAD, UNK = 0, 1


def nlu_models_dir() -> Path:
    """Where named intent and slot models are saved: ``home()/nlu``."""
    return store.home() / "nlu"


def resolve(path_or_name: str | os.PathLike) -> Path:
    """The folder of an intent and slot model: a name in :func:`nlu_models_dir`, or a path."""
    if isinstance(path_or_name, str) and store.is_name(path_or_name):
        return nlu_models_dir() / path_or_name
    if not isinstance(path_or_name, (str, os.PathLike)) or not str(path_or_name).strip():
        raise invalid("path_or_name", "a model name such as 'snips' or a folder path", path_or_name)
    return Path(path_or_name).expanduser()


# === Vocabulary ===

@dataclass
class Vocab:
    """The words, characters, intents and tags a model knows, in id order.

    Word and char ids 0 and 1 are padding and ``<unk>``.
    """

    words: list[str]
    chars: list[str]
    intents: list[str]
    tags: list[str]
    word_counts: list[int]

    @classmethod
    def build(cls, data: NLUDataset, config: NLUConfig) -> "Vocab":
        words = Counter(_norm_word(t, config.lowercase) for ex in data for t in ex.tokens)
        chars = Counter(c for ex in data for t in ex.tokens for c in _norm_chars(t, config))
        ordered = sorted(words.items(), key=lambda kv: (-kv[1], kv[0]))
        return cls(
            words=["<pad>", "<unk>"] + [w for w, _ in ordered],
            chars=["<pad>", "<unk>"] + sorted(chars),
            intents=data.intents,
            tags=data.tags,
            word_counts=[0, 0] + [n for _, n in ordered],
        )

    def __post_init__(self) -> None:
        self._word_ids = {w: i for i, w in enumerate(self.words)}
        self._char_ids = {c: i for i, c in enumerate(self.chars)}
        self._tag_ids = {t: i for i, t in enumerate(self.tags)}
        self._intent_ids = {t: i for i, t in enumerate(self.intents)}

    def to_dict(self) -> dict[str, Any]:
        return {"words": self.words, "chars": self.chars, "intents": self.intents, "tags": self.tags,
                "word_counts": self.word_counts}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Vocab":
        return cls(list(d["words"]), list(d["chars"]), list(d["intents"]), list(d["tags"]),
                   list(d.get("word_counts") or [0] * len(d["words"])))

    def encode(self, tokens_list: Sequence[Sequence[str]], config: NLUConfig) -> tuple[np.ndarray, np.ndarray]:
        """Word ids ``(N, T)`` and char ids ``(N, T, L)``, padded with 0 to the longest."""
        n = len(tokens_list)
        t = max((len(toks) for toks in tokens_list), default=1) or 1
        chars_of = [[_norm_chars(tok, config) for tok in toks] for toks in tokens_list]
        length = max((len(c) for cs in chars_of for c in cs), default=1) or 1
        words = np.zeros((n, t), np.int32)
        chars = np.zeros((n, t, length), np.int32)
        for i, toks in enumerate(tokens_list):
            for j, tok in enumerate(toks):
                words[i, j] = self._word_ids.get(_norm_word(tok, config.lowercase), UNK)
                for k, c in enumerate(chars_of[i][j]):
                    chars[i, j, k] = self._char_ids.get(c, UNK)
        return words, chars

    def encode_tags(self, tags_list: Sequence[Sequence[str]], t: int) -> np.ndarray:
        out = np.zeros((len(tags_list), t), np.int32)
        for i, tags in enumerate(tags_list):
            out[i, :len(tags)] = [self._tag_ids.get(tag, 0) for tag in tags]  # unseen slot types -> O
        return out

    def intent_id(self, intent: str) -> int:
        return self._intent_ids.get(intent, -1)


def _norm_word(token: str, lowercase: bool) -> str:
    token = token.lower() if lowercase else token
    return "".join("0" if c.isdigit() else c for c in token)


def _norm_chars(token: str, config: NLUConfig) -> str:
    token = token.lower() if config.lowercase else token
    return token[:config.max_word_chars]


# === The model ===

class IntentSlotModel:
    """A trained intent and slot model: a Keras network with its vocabulary and config.

    Make one with :meth:`train` or :meth:`load`.

    Attributes:
        network: the Keras model (an :class:`~jupyter_llm.nlu.layers.IntentSlotNetwork`).
        vocab: the :class:`Vocab`.
        config: the :class:`NLUConfig`.
        metadata: data fingerprint, sizes, training history and validation metrics.
    """

    def __init__(self, network: Any, vocab: Vocab, config: NLUConfig,
                 metadata: dict[str, Any] | None = None, name: str | None = None) -> None:
        self.network = network
        self.vocab = vocab
        self.config = config
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.name = name
        self._predict_fn = None
        self._transitions = allowed_transitions(vocab.tags)

    @property
    def intents(self) -> list[str]:
        return list(self.vocab.intents)

    @property
    def slot_names(self) -> list[str]:
        return sorted({t[2:] for t in self.vocab.tags if t != "O"})

    @property
    def num_parameters(self) -> int:
        return int(self.network.count_params())

    def __repr__(self) -> str:
        name = f"'{self.name}'" if self.name else "unsaved"
        return (f"IntentSlotModel({name}, {len(self.vocab.intents)} intents, {len(self.slot_names)} slot types, "
                f"{len(self.vocab.words):,} words, BiGRU({self.config.rnn_units}))")

    # === Training ===

    @classmethod
    def train(cls, data: Any, validation: Any = None, epochs: int | None = None, *,
              progress: bool | Callable[[dict[str, Any]], None] = False, **options: Any) -> "IntentSlotModel":
        """Train a new model on ``data``.

        Args:
            data: an :class:`NLUDataset` (e.g. ``load_bio_dataset(path)["train"]``),
                a DataFrame, Markdown text or a path (see :meth:`NLUDataset.from_any`).
            validation: examples to choose the best epoch on and stop early; the
                best weights are kept. None: train ``epochs`` epochs.
            epochs: passes over ``data`` at most. None: until validation stops
                improving (``patience`` epochs), or 30 without validation.
                Training also stops after ``max_time`` seconds (420 by default).
            progress: True prints a line per epoch; a callable gets a dict per epoch.
            **options: any field of :class:`NLUConfig` (``rnn_units=128``,
                ``batch_size=64``, ``max_time=None``, ``zh="jieba"``, ...).
        """
        unknown = sorted(set(options) - set(NLUConfig.options()))
        if unknown:
            raise invalid(unknown[0], f"one of the options {', '.join(NLUConfig.options())}", options[unknown[0]])
        if epochs is not None and (isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1):
            raise invalid("epochs", "a positive integer or None", epochs)
        config = NLUConfig(**options)
        train_set = NLUDataset.from_any(data, zh=config.zh)
        if len(train_set) == 0:
            raise DataError("The training data holds no examples. Expected at least one.")
        valid_set = NLUDataset.from_any(validation, zh=config.zh) if validation is not None else None
        vocab = Vocab.build(train_set, config)
        config.num_words, config.num_chars = len(vocab.words), len(vocab.chars)
        config.num_intents, config.num_tags = len(vocab.intents), len(vocab.tags)
        model = cls(_build_network(config), vocab, config)
        from .training import fit

        history = fit(model, train_set, valid_set, epochs, progress)
        model.metadata.update({
            "kind": KIND,
            "created": _now(),
            "data_fingerprint": train_set.fingerprint(),
            "train_examples": len(train_set),
            "validation_examples": len(valid_set) if valid_set is not None else 0,
            "history": history["epochs"],
            "train_seconds": history["seconds"],
            "stopped": history["stopped"],
        })
        if history.get("validation"):
            model.metadata["validation"] = history["validation"]
        return model

    # === Prediction ===

    def _forward(self, words: np.ndarray, chars: np.ndarray):
        net = self.network
        if self._predict_fn is None:
            self._predict_fn = _shared_forward(net, self.config)
        probs, slot_logp, weights = self._predict_fn([v.value for v in net.trainable_variables],
                                                     [v.value for v in net.non_trainable_variables], words, chars)
        return np.asarray(probs), np.asarray(slot_logp), np.asarray(weights)

    def _run(self, tokens_list: Sequence[Sequence[str]], batch_size: int = 256):
        """Intent probabilities, decoded tag ids with their probabilities, and attention, per utterance."""
        order = sorted(range(len(tokens_list)), key=lambda i: len(tokens_list[i]))
        results: list[Any] = [None] * len(tokens_list)
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            words, chars = self.vocab.encode([tokens_list[i] for i in idx], self.config)
            probs, slot_logp, weights = self._forward(words, chars)
            for row, i in enumerate(idx):
                t = len(tokens_list[i])
                logp = slot_logp[row, :t].astype(np.float64)
                tag_ids = viterbi_bio(logp, *self._transitions)
                tag_probs = np.exp(logp[np.arange(t), tag_ids]) if t else np.zeros(0)
                results[i] = (probs[row], tag_ids, tag_probs, weights[row, :t])
        return results

    def predict(self, text: str | Sequence[str], top_k: int = 3) -> Prediction | list[Prediction]:
        """Understand an utterance (or a list of them).

        Returns a :class:`Prediction`: ``intent``, ``confidence``, ``slots``
        (``{name: value}``) and ``attention`` (a :class:`WordAttention` over the
        words), plus ``spans``, ``tokens``, ``tags`` and the ``top_k`` ``candidates``.
        """
        if isinstance(text, str):
            return self.predict([text], top_k)[0]
        if not isinstance(text, (list, tuple)) or not all(isinstance(t, str) for t in text):
            raise invalid("text", "a str or a list of str", type(text).__name__)
        toks = [tokenize(t, self.config.zh) or [Token(t, 0, len(t))] for t in text]
        out = []
        for t, tk, (probs, tag_ids, tag_probs, weights) in zip(text, toks, self._run([[x.text for x in y] for y in toks])):
            out.append(self._prediction(t, tk, probs, tag_ids, tag_probs, weights, top_k))
        return out

    def _prediction(self, text, tokens: list[Token], probs, tag_ids, tag_probs, weights, top_k) -> Prediction:
        order = np.argsort(-probs, kind="stable")
        candidates = [(self.vocab.intents[i], float(probs[i])) for i in order[:max(1, top_k)]]
        tags = [self.vocab.tags[i] for i in tag_ids]
        spans = []
        for name, i, j in chunks(tags):
            start, end = tokens[i].start, tokens[j - 1].end
            spans.append(SlotSpan(name, text[start:end], start, end, i, j, float(np.mean(tag_probs[i:j]))))
        slots: dict[str, str] = {}
        for s in spans:
            slots.setdefault(s.slot, s.value)
        attention = WordAttention([t.text for t in tokens], weights if len(tokens) else np.zeros(0))
        return Prediction(candidates[0][0], candidates[0][1], slots, attention, text=text,
                          tokens=[t.text for t in tokens], tags=tags, spans=spans, candidates=candidates)

    def predict_tags(self, tokens_list: Sequence[Sequence[str]]) -> tuple[list[str], list[list[str]]]:
        """The intent and the BIO tags of already tokenized utterances (as in a benchmark)."""
        results = self._run([list(t) for t in tokens_list])
        intents = [self.vocab.intents[int(np.argmax(r[0]))] for r in results]
        tags = [[self.vocab.tags[i] for i in r[1]] for r in results]
        return intents, tags

    # === Evaluation ===

    def evaluate(self, data: Any) -> dict[str, Any]:
        """Scores on labelled examples, as fractions in ``[0, 1]``.

        Returns ``intent_accuracy``, ``slot_f1`` (CoNLL span F1, as conlleval),
        ``sentence_accuracy`` (intent and every tag right), ``slot_precision``,
        ``slot_recall``, ``examples`` and ``per_slot``.
        """
        dataset = NLUDataset.from_any(data, zh=self.config.zh)
        if len(dataset) == 0:
            raise DataError("The evaluation data holds no examples. Expected at least one.")
        intents, tags = self.predict_tags([ex.tokens for ex in dataset])
        return score([ex.intent for ex in dataset], intents, [ex.tags for ex in dataset], tags)

    # === Persistence ===

    def save(self, path_or_name: str | os.PathLike, overwrite: bool = False) -> Path:
        """Save to a folder, or under a name in ``home()/nlu`` (atomic; weights in .h5, vocab in JSON)."""
        target = resolve(path_or_name)
        if target.exists() and not overwrite:
            store.write_bundle(target, {}, overwrite=False)  # raises the standard error
        from .. import _tf

        weights = store.weights_to_bytes(self.network)
        metadata = {**self.metadata, "kind": KIND, "saved": _now(), "parameters": self.num_parameters,
                    "versions": _tf.versions()}
        files = {
            "config.json": json.dumps({"kind": KIND, **self.config.to_dict()}, indent=2).encode(),
            "vocab.json": json.dumps(self.vocab.to_dict(), ensure_ascii=True).encode(),
            "metadata.json": store.json_bytes(metadata),
            WEIGHTS: weights,
        }
        folder = store.write_bundle(target, files, overwrite=overwrite)
        self.metadata = metadata
        if (isinstance(path_or_name, str) and store.is_name(path_or_name)) or self.name is None:
            self.name = folder.name
        return folder

    @classmethod
    def load(cls, path_or_name: str | os.PathLike) -> "IntentSlotModel":
        """Load a model saved by :meth:`save`. Runs no code from the files."""
        folder = resolve(path_or_name)
        files = store.read_bundle(Path(folder))
        raw = store.read_json(files, "config.json", folder)
        if raw.pop("kind", None) != KIND:
            raise CorruptModelError(f"'{folder}' is not an intent and slot model. Expected a folder saved by "
                                    "IntentSlotModel.save.")
        try:
            config = NLUConfig.from_dict(raw)
            vocab = Vocab.from_dict(store.read_json(files, "vocab.json", folder))
        except (TypeError, ValueError, KeyError) as e:
            raise CorruptModelError(f"'{folder}' holds an invalid config or vocabulary ({e}). "
                                    "Expected files saved by IntentSlotModel.save.") from None
        if (len(vocab.words) > config.num_words or len(vocab.chars) > config.num_chars  # fine-tuning leaves spare rows
                or (len(vocab.intents), len(vocab.tags)) != (config.num_intents, config.num_tags)):
            raise CorruptModelError(f"'{folder}' is inconsistent: its vocabulary does not match its config. "
                                    "Expected files saved together.")
        metadata = store.read_json(files, "metadata.json", folder)
        network = _build_network(config, seeded=False)  # the saved weights replace the initial ones
        store.load_weights_from(network, files, folder, writer="IntentSlotModel.save")
        return cls(network, vocab, config, metadata, name=folder.name)


#: One traced forward pass per network shape, shared by every model of that shape.
_FORWARDS: dict[tuple, Any] = {}
_FORWARDS_LOCK = threading.Lock()


def _shape_key(config: NLUConfig) -> tuple:
    """What decides the network's weights' shapes and its forward pass."""
    return (config.num_words, config.num_chars, config.num_intents, config.num_tags, config.word_dim, config.char_dim,
            config.char_filters, config.char_kernel, config.rnn_units, config.attention_dim)


def _shared_forward(net: Any, config: NLUConfig):
    """``forward(trainable, non_trainable, words, chars) -> (intent probs, slot log-probs, attention)``.

    Traced once per shape (tracing the BiGRU takes seconds) on the first
    network of that shape, then run with the weights of whichever model calls
    it (Keras' ``stateless_call``), so a fine-tuned copy answers at once.
    """
    key = _shape_key(config)
    with _FORWARDS_LOCK:
        if key in _FORWARDS:
            return _FORWARDS[key]
        from .. import _tf  # noqa: F401  (TensorFlow without its start-up notices)
        import tensorflow as tf

        spec = [[tf.TensorSpec(v.shape, v.dtype) for v in net.trainable_variables],
                [tf.TensorSpec(v.shape, v.dtype) for v in net.non_trainable_variables],
                tf.TensorSpec((None, None), tf.int32), tf.TensorSpec((None, None, None), tf.int32)]

        @tf.function(input_signature=spec, reduce_retracing=True)
        def forward(trainable, non_trainable, w, c):
            (intent_logits, slot_logits, weights), _ = net.stateless_call(trainable, non_trainable, (w, c),
                                                                          training=False)
            return tf.nn.softmax(intent_logits), tf.nn.log_softmax(slot_logits), weights

        _FORWARDS[key] = forward
        return forward


def _build_network(config: NLUConfig, seeded: bool = True):
    """A new network for ``config``, built (its weights exist) by one call on a dummy batch.

    ``seeded``: initialise the weights from ``config.seed``. Pass False when
    the weights are replaced at once (a load, a copy): setting the global seed
    clears TensorFlow's kernel caches, and the next call of every traced
    function (the shared forward pass, a fine-tuning step) takes seconds again.
    """
    from .. import _tf
    import keras

    from .layers import IntentSlotNetwork

    if seeded and config.seed is not None:
        keras.utils.set_random_seed(config.seed)
    net = IntentSlotNetwork(config.num_words, config.num_chars, config.num_intents, config.num_tags,
                            word_dim=config.word_dim, char_dim=config.char_dim, char_filters=config.char_filters,
                            char_kernel=config.char_kernel, rnn_units=config.rnn_units,
                            attention_dim=config.attention_dim, dropout=config.dropout)
    with _tf.native_notices_hidden():  # the first masked GRU call may log a oneDNN notice
        net((np.ones((1, 2), np.int32), np.ones((1, 2, 3), np.int32)))
    return net


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
