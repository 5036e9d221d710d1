"""The assistant's two models, ready on first use: the intent and slot model, and the mood model.

Both are :class:`~jupyter_llm.nlu.IntentSlotModel` trained on the examples
shipped in ``jupyter_llm/assistant/data/`` (English and Chinese). The examples
the user taught (``%assistant --teach``) fine-tune the intent model in
seconds and are checked one by one (``teaching.py``). Every model is cached
twice, keyed by a fingerprint of its examples and settings: in memory for the
process, and on disk as ``home()/nlu/assistant-<fingerprint>`` (or ``mood-``,
or ``taught-`` for a fine-tuned one). Teaching changes the fingerprint, so
the model is fine-tuned again from the default one.

A fresh install trains nothing: both default models (no taught examples) ship
read-only in ``jupyter_llm/assistant/models/assistant`` and ``.../mood``, each
recording the fingerprint it was trained for, and are used whenever the
current fingerprint is the same. ``python scripts/train_default_models.py
assistant-nlu mood`` trains them again (tests/test_assistant_shipped.py fails
until it is run after a change of the examples or settings).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import JupyterLLMError, invalid
from ..nlu.config import NLUConfig
from ..nlu.data import Example, NLUDataset, load_markdown

if TYPE_CHECKING:  # pragma: no cover
    from ..nlu.model import IntentSlotModel

__all__ = ["shipped_examples", "mood_examples", "prepare", "training_set", "ready_model", "ready_mood_model",
           "default_recipe", "fingerprint", "shipped_fingerprint", "train_default", "save_shipped",
           "INTENT_EPOCHS", "MOOD_EPOCHS", "DATA_DIR", "SHIPPED_DIR", "MODEL_FORMAT", "KINDS"]

DATA_DIR = Path(__file__).resolve().parent / "data"
#: The default models shipped in the package (read-only): ``SHIPPED_DIR / kind``.
SHIPPED_DIR = Path(__file__).resolve().parent / "models"
#: The two models: the intent and slot model, and the mood model.
KINDS = ("assistant", "mood")
#: Part of every fingerprint instead of the package version, so that a release
#: keeps the shipped models and the user's cache. Bump it when a change to
#: ``jupyter_llm.nlu`` (network, tokenizer, vocabulary, training loop) or to
#: :func:`prepare` makes a model trained before answer differently; then
#: retrain the shipped models.
MODEL_FORMAT = 1
#: Settings left out of the fingerprint: a safety limit, not part of the recipe.
_NOT_FINGERPRINTED = ("max_time",)
#: Epochs of the intent model on the shipped examples (about 1,000: seconds on 2 cores).
INTENT_EPOCHS = 20
#: Epochs of the mood model (about 230 sentences and 400 words).
MOOD_EPOCHS = 20
#: Word dropout of the mood model: low, its words matter more than their spelling.
MOOD_WORD_DROPOUT = 0.05
#: Copies of each example with its slot values swapped (see :func:`prepare`); 0: measured no better.
AUGMENT_COPIES = 0
#: How many times a taught example counts in :func:`training_set` (a training from scratch on the
#: taught examples; the assistant fine-tunes on them instead, see ``teaching.py``).
TAUGHT_REPEATS = 3

_CACHE: dict[str, "IntentSlotModel"] = {}
_LOCK = threading.Lock()


def shipped_examples() -> NLUDataset:
    """The assistant's training examples in English and Chinese."""
    return NLUDataset(list(load_markdown(DATA_DIR / "assistant_en.md")) + list(load_markdown(DATA_DIR / "assistant_zh.md")),
                      name="assistant")


def mood_examples() -> NLUDataset:
    """Labelled sentiment sentences (positive, negative, neutral) in English and Chinese."""
    return NLUDataset(list(load_markdown(DATA_DIR / "mood_en.md")) + list(load_markdown(DATA_DIR / "mood_zh.md")),
                      name="mood")


def mood_lexicon() -> NLUDataset:
    """Single mood words in both languages: training only, so the model knows words the sentences lack."""
    return NLUDataset(list(load_markdown(DATA_DIR / "mood_lexicon_en.md"))
                      + list(load_markdown(DATA_DIR / "mood_lexicon_zh.md")), name="mood-lexicon")


def intent_config(**overrides: Any) -> NLUConfig:
    return NLUConfig.tiny(**overrides)


def prepare(examples: NLUDataset, taught: Iterable[tuple[str, str]] = ()) -> NLUDataset:
    """The training data made of ``examples`` and taught ``(intent, Markdown text)`` pairs.

    A taught example is repeated a few times so that one example weighs
    against the twenty or so shipped for each intent; then every example with
    slots gets ``AUGMENT_COPIES`` copies with slot values swapped
    (:meth:`NLUDataset.augment`), so new values are tagged better.
    """
    out = list(examples)
    for intent, text in taught:
        out += [Example.from_markdown(text, intent)] * TAUGHT_REPEATS
    data = NLUDataset(out, name="assistant")
    return data.augment(AUGMENT_COPIES, seed=0) if AUGMENT_COPIES else data


def training_set(taught: Iterable[tuple[str, str]] = ()) -> NLUDataset:
    """The shipped examples plus the taught ones, prepared for training."""
    return prepare(shipped_examples(), taught)


def fingerprint(kind: str, data: NLUDataset, config: NLUConfig, epochs: int) -> str:
    """What a model of ``kind`` trained on ``data`` with ``config`` for ``epochs`` is keyed by.

    Covers the examples, the settings (but ``max_time``), the epochs and
    :data:`MODEL_FORMAT`; not the package version.
    """
    settings = {k: v for k, v in config.to_dict().items() if k not in _NOT_FINGERPRINTED}
    h = hashlib.sha256()
    h.update(json.dumps([kind, MODEL_FORMAT, data.fingerprint(), settings, epochs], sort_keys=True).encode())
    return h.hexdigest()[:12]


_fingerprint = fingerprint  # the former private name


def default_recipe(kind: str) -> tuple[NLUDataset, NLUConfig, int]:
    """``(data, config, epochs)`` of the default model of ``kind`` ("assistant" or "mood"), nothing taught."""
    if kind == "assistant":
        return training_set(), intent_config(), INTENT_EPOCHS
    if kind == "mood":
        return mood_examples() + mood_lexicon(), intent_config(word_dropout=MOOD_WORD_DROPOUT), MOOD_EPOCHS
    raise invalid("kind", f"one of {', '.join(KINDS)}", kind)


def shipped_fingerprint(kind: str) -> str | None:
    """The fingerprint the shipped model of ``kind`` was trained for (None: none is shipped or readable)."""
    try:
        meta = json.loads((SHIPPED_DIR / kind / "metadata.json").read_text("utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    value = meta.get("fingerprint") if isinstance(meta, dict) else None
    return value if isinstance(value, str) else None


def _load_shipped(kind: str, key: str) -> "IntentSlotModel | None":
    """The shipped model of ``kind`` if it was trained for ``key`` and loads whole, else None."""
    if shipped_fingerprint(kind) != key:
        return None
    from ..nlu.model import IntentSlotModel

    try:
        model = IntentSlotModel.load(SHIPPED_DIR / kind)  # checks every file's checksum
    except JupyterLLMError:
        return None  # damaged: train instead
    return model if model.metadata.get("fingerprint") == key else None


def train_default(kind: str, progress: Any = False) -> "IntentSlotModel":
    """Train the default model of ``kind`` as shipped: the default recipe, every epoch (no time limit).

    The model's metadata records its ``fingerprint`` and ``model_format``.
    """
    from ..nlu.model import IntentSlotModel

    data, config, epochs = default_recipe(kind)
    options = {**config.train_options(), "max_time": None}
    model = IntentSlotModel.train(data, epochs=epochs, progress=progress, **options)
    model.metadata.update({"fingerprint": fingerprint(kind, data, config, epochs), "model_format": MODEL_FORMAT,
                           "description": f"The assistant's default {kind} model, shipped with jupyter_llm."})
    return model


def save_shipped(kind: str, model: "IntentSlotModel", root: Path | None = None) -> Path:
    """Write ``model`` as the shipped model of ``kind`` (atomically, with the model's own save)."""
    if kind not in KINDS:
        raise invalid("kind", f"one of {', '.join(KINDS)}", kind)
    if not model.metadata.get("fingerprint"):
        raise invalid("model", "a model made by train_default (its metadata records a fingerprint)", model)
    return model.save((root or SHIPPED_DIR) / kind, overwrite=True)


def _ready(kind: str, data: NLUDataset, config: NLUConfig, epochs: int, cache: bool = True,
           shipped: bool = True) -> "IntentSlotModel":
    from ..nlu.model import IntentSlotModel

    key = fingerprint(kind, data, config, epochs)
    return _remembered(kind, key, lambda: IntentSlotModel.train(data, epochs=epochs, **config.train_options()),
                       cache, kind if shipped else None)


def _remembered(prefix: str, key: str, train: Callable[[], "IntentSlotModel"], cache: bool,
                shipped: str | None = None) -> "IntentSlotModel":
    """The model keyed ``key``: from memory, the shipped model of kind ``shipped``, the disk cache, else ``train()``.

    A trained model records ``fingerprint`` and ``model_format`` in its metadata
    and (``cache=True``) is saved as ``home()/nlu/<prefix>-<key>``, replacing
    older ``<prefix>-*`` folders.
    """
    from ..nlu.model import IntentSlotModel, nlu_models_dir

    name = f"{prefix}-{key}"
    with _LOCK:
        if name in _CACHE:
            return _CACHE[name]
        model = _load_shipped(shipped, key) if shipped else None
        folder = nlu_models_dir() / name
        if model is None and cache and (folder / "manifest.json").is_file():
            try:
                model = IntentSlotModel.load(folder)
            except JupyterLLMError:
                model = None  # a damaged cache: train again
        if model is None:
            model = train()
            model.metadata.update({"fingerprint": key, "model_format": MODEL_FORMAT})
            if cache:
                try:
                    model.save(folder, overwrite=True)
                    _remove_stale(folder.parent, prefix, keep=name)
                except (OSError, JupyterLLMError):
                    pass  # a cache that cannot be written only costs a retrain next time
        _CACHE[name] = model
        return model


def _remove_stale(root: Path, kind: str, keep: str) -> None:
    for old in root.glob(f"{kind}-*"):
        if old.name != keep and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)


def ready_model(taught: Iterable[tuple[str, str]] = (), epochs: int = INTENT_EPOCHS,
                config: NLUConfig | None = None, cache: bool = True, shipped: bool = True,
                teach_seed: int | None = None) -> "IntentSlotModel":
    """The intent and slot model for the shipped and taught examples.

    Nothing taught: the model shipped in the package when the settings are the
    defaults (``shipped=False`` ignores it), else trained once. Something
    taught: that model fine-tuned on the taught examples and checked on each
    (:func:`~jupyter_llm.assistant.teaching.taught_model`, seconds;
    ``teach_seed`` seeds it). Either is cached in memory and (``cache=True``) on disk.
    """
    from . import teaching

    taught = [(str(intent), str(text)) for intent, text in taught]
    base = _ready("assistant", training_set(), config or intent_config(), epochs, cache, shipped)
    if not taught:
        return base
    seed = teaching.TEACH_SEED if teach_seed is None else teach_seed
    key = teaching.taught_fingerprint(str(base.metadata.get("fingerprint")), taught, seed)
    return _remembered("taught", key, lambda: teaching.taught_model(base, shipped_examples(), taught, seed), cache)


def ready_mood_model(epochs: int = MOOD_EPOCHS, config: NLUConfig | None = None,
                     cache: bool = True, shipped: bool = True) -> "IntentSlotModel":
    """The sentiment model (labels positive, negative, neutral): shipped, else trained once and cached."""
    return _ready("mood", mood_examples() + mood_lexicon(), config or intent_config(word_dropout=MOOD_WORD_DROPOUT),
                  epochs, cache, shipped)
