"""The assistant's two models, ready on first use: the intent and slot model, and the mood model.

Both are :class:`~jupyter_llm.nlu.IntentSlotModel` trained on the examples
shipped in ``jupyter_llm/assistant/data/`` (English and Chinese), the intent
model also on the examples the user taught (``%assistant --teach``). Training
takes seconds; the result is cached twice, keyed by a fingerprint of the
examples and settings: in memory for the process, and on disk as
``home()/nlu/assistant-<fingerprint>`` (or ``mood-<fingerprint>``). Teaching
changes the fingerprint, so the next message retrains.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._version import __version__
from ..errors import JupyterLLMError
from ..nlu.config import NLUConfig
from ..nlu.data import Example, NLUDataset, load_markdown

if TYPE_CHECKING:  # pragma: no cover
    from ..nlu.model import IntentSlotModel

__all__ = ["shipped_examples", "mood_examples", "prepare", "training_set", "ready_model", "ready_mood_model",
           "INTENT_EPOCHS", "MOOD_EPOCHS", "DATA_DIR"]

DATA_DIR = Path(__file__).resolve().parent / "data"
#: Epochs of the intent model on the shipped examples (about 1,000: seconds on 2 cores).
INTENT_EPOCHS = 20
#: Epochs of the mood model (about 230 sentences and 400 words).
MOOD_EPOCHS = 20
#: Word dropout of the mood model: low, its words matter more than their spelling.
MOOD_WORD_DROPOUT = 0.05
#: Copies of each example with its slot values swapped (see :func:`prepare`); 0: measured no better.
AUGMENT_COPIES = 0
#: How many times a taught example counts.
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


def _fingerprint(kind: str, data: NLUDataset, config: NLUConfig, epochs: int) -> str:
    h = hashlib.sha256()
    h.update(json.dumps([kind, __version__, data.fingerprint(), config.to_dict(), epochs], sort_keys=True).encode())
    return h.hexdigest()[:12]


def _ready(kind: str, data: NLUDataset, config: NLUConfig, epochs: int, cache: bool = True) -> "IntentSlotModel":
    from ..nlu.model import IntentSlotModel, nlu_models_dir

    key = _fingerprint(kind, data, config, epochs)
    name = f"{kind}-{key}"
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
        folder = nlu_models_dir() / name
        model = None
        if cache and (folder / "manifest.json").is_file():
            try:
                model = IntentSlotModel.load(folder)
            except JupyterLLMError:
                model = None  # a damaged cache: train again
        if model is None:
            model = IntentSlotModel.train(data, epochs=epochs, **config.train_options())
            if cache:
                try:
                    model.save(folder, overwrite=True)
                    _remove_stale(folder.parent, kind, keep=name)
                except (OSError, JupyterLLMError):
                    pass  # a cache that cannot be written only costs a retrain next time
        _CACHE[key] = model
        return model


def _remove_stale(root: Path, kind: str, keep: str) -> None:
    for old in root.glob(f"{kind}-*"):
        if old.name != keep and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)


def ready_model(taught: Iterable[tuple[str, str]] = (), epochs: int = INTENT_EPOCHS,
                config: NLUConfig | None = None, cache: bool = True) -> "IntentSlotModel":
    """The intent and slot model for the shipped and taught examples (trained once, then cached)."""
    return _ready("assistant", training_set(taught), config or intent_config(), epochs, cache)


def ready_mood_model(epochs: int = MOOD_EPOCHS, config: NLUConfig | None = None,
                     cache: bool = True) -> "IntentSlotModel":
    """The sentiment model (labels positive, negative, neutral)."""
    return _ready("mood", mood_examples() + mood_lexicon(), config or intent_config(word_dropout=MOOD_WORD_DROPOUT),
                  epochs, cache)
