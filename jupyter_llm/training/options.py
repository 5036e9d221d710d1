"""The options of training, declared once (see :mod:`jupyter_llm.options`).

:class:`TrainOptions` validates :func:`jupyter_llm.train`'s arguments with this
table; ``%llm train``, ``jupyter-llm train``, the TrainingPanel's controls and
``docs/options.md`` are built from it. The options that are
:class:`~jupyter_llm.config.ModelConfig` fields (``seq_len``, ``batch_size``,
``learning_rate``, ...) default to the ``"small"`` size's values; a model
trained further keeps its own unless they are given. This module imports
neither TensorFlow nor numpy.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..config import LR_SCHEDULES, SIZES, ModelConfig
from ..options import Option, SurfaceRule

__all__ = ["TRAINING", "CONFIG_OPTIONS", "TOKENIZERS", "TrainOptions"]

#: The tokenizer kinds a surface offers (the API also takes a fitted Tokenizer).
TOKENIZERS = ("char", "word", "bpe")

_CONFIG = ModelConfig()  # the defaults of the ModelConfig fields below

_PRINTED = ("A sample is printed below the progress after every epoch: it is asked for, not shown unasked, "
            "so that a long run's output stays short.")
_PANEL_SAMPLE = "The panel shows the sample in its own box, which about 120 tokens fill."

TRAINING: dict[str, Option] = {o.name: o for o in [
    # === The run ===
    Option("epochs", int, 1, "passes over the text (with resume: the total)", low=1, metavar="N",
           ui=(1, 100_000, 1)),
    Option("steps_per_epoch", int, None, "batches per epoch", low=1, none="one pass over the text", metavar="N",
           ui=(0, 10_000_000, 1)),  # the panel's 0 means None
    Option("validation_split", float, 0.1, "the last fraction of the text held back to measure the validation "
           "loss (0: none)", low=0, high=1, high_open=True, metavar="F", ui=(0.0, 0.5, 0.05)),
    Option("early_stopping", int, None, "stop after this many epochs without a better validation loss, "
           "restoring the best weights", low=1, none="off", metavar="PATIENCE"),
    Option("time_limit", float, None, "stop after this many seconds (at the end of a step)", low=0, low_open=True,
           none="no limit", metavar="SECONDS"),
    Option("sample_tokens", int, 100, "tokens of the text sample generated after each epoch (0: none)", low=0,
           metavar="N", surfaces={"magic": SurfaceRule(default=0, why=_PRINTED),
                                  "cli": SurfaceRule(default=0, why=_PRINTED),
                                  "panel": SurfaceRule(default=120, why=_PANEL_SAMPLE)}),
    Option("sample_prompt", str, "", "the prompt of the sample generated after each epoch", none="an empty prompt",
           metavar="TEXT"),
    Option("resume", bool, False, "continue from the last checkpoint (epochs is then the total)"),
    Option("overwrite", bool, False, "replace a saved model of the same name"),
    Option("copy_index", bool, True, "keep a hashed index of the training text in the model, for lm.copied "
           "(turn it off for private text: the index lets whoever has the model test whether a passage was in it)",
           flag="--no-copy-index"),
    Option("workers", int, 1, "train in this many local worker processes, with a generated TF_CONFIG "
           "(multi-worker training on this machine; each reads its own part of the text, batch_size is global)",
           low=1, high=64, metavar="N"),
    Option("backup_every", int, 100, "with several workers, back up the run every this many steps and at each "
           "epoch's end, so that a lost worker's restart resumes from there (0: at epoch ends only)", low=0,
           metavar="STEPS"),
    Option("base", str, None, "fine-tune a copy of this model (a bundled or saved name, or a model folder) on the "
           "text (early stopping by default; the base's size, tokenizer and learning rate); not with tokenizer or size",
           none="a new model", metavar="NAME"),
    Option("freeze_embedding_epochs", int, 0, "keep the embedding fixed for this many epochs at the start of the "
           "run (0: train it from the first step)", low=0, metavar="N"),
    # === Tokenizer and size of a new model ===
    Option("tokenizer", str, "char", "how text is cut into tokens", choices=TOKENIZERS,
           metavar="{" + ",".join(TOKENIZERS) + "}"),
    Option("size", str, "small", "the model's size", choices=tuple(SIZES), metavar="{" + ",".join(SIZES) + "}"),
    Option("max_vocab", int, None, "largest vocabulary of the tokenizer (word and bpe)", low=1, none="no limit",
           metavar="N"),
    Option("min_freq", int, 1, "fewest occurrences of a word or merge kept in the vocabulary", low=1, metavar="N"),
    # === ModelConfig fields (a model trained further keeps its own unless given) ===
    Option("seq_len", int, _CONFIG.seq_len, "training window in tokens; also the default attention span", low=1,
           metavar="N", ui=(2, 8192, 1)),
    Option("batch_size", int, _CONFIG.batch_size, "windows per training step", low=1, metavar="N",
           ui=(1, 8192, 1)),
    # ui: a log slider from 1e-5 to 0.1, its step in powers of ten.
    Option("learning_rate", float, _CONFIG.learning_rate, "Adam's learning rate", low=0, low_open=True,
           metavar="F", ui=(1e-5, 1e-1, 0.1)),
    Option("lr_schedule", str, _CONFIG.lr_schedule,
           "constant, or cosine: decay to a twentieth of learning_rate over the run",
           choices=LR_SCHEDULES, metavar="{" + ",".join(LR_SCHEDULES) + "}"),
    Option("clipnorm", float, _CONFIG.clipnorm, "gradients are clipped to this norm", low=0, low_open=True,
           metavar="F"),
    Option("dropout", float, _CONFIG.dropout, "dropout between layers", low=0, high=1, high_open=True, metavar="F"),
    Option("seed", int, None, "seed of the initial weights, the order of the training windows and dropout",
           low=0, none="a different model each time", metavar="S"),
]}

#: The options that are ModelConfig fields: passed to the config only when given.
CONFIG_OPTIONS = frozenset(name for name in TRAINING if name in {f.name for f in dataclasses.fields(ModelConfig)})


@dataclass
class TrainOptions:
    """The options of one :func:`jupyter_llm.train` call, each checked once against :data:`TRAINING`.

    A bad value raises :class:`~jupyter_llm.InvalidArgumentError` with one
    sentence naming the option, what it allows and what it received, the same
    on every surface. ``tokenizer`` may also be a fitted Tokenizer. The
    ModelConfig fields are None when not given (the size's, or the model's,
    value is used); :meth:`config_overrides` returns the given ones.
    """

    epochs: int = TRAINING["epochs"].default
    steps_per_epoch: int | None = None
    validation_split: float = TRAINING["validation_split"].default
    early_stopping: int | None = None
    time_limit: float | None = None
    sample_tokens: int = TRAINING["sample_tokens"].default
    sample_prompt: str | None = None
    resume: bool = False
    overwrite: bool = False
    copy_index: bool = TRAINING["copy_index"].default
    workers: int = 1
    backup_every: int = TRAINING["backup_every"].default
    base: str | None = None  # the base's name or folder (a LanguageModel given: its name)
    freeze_embedding_epochs: int = 0
    tokenizer: Any = TRAINING["tokenizer"].default
    size: str = TRAINING["size"].default
    max_vocab: int | None = None
    min_freq: int = TRAINING["min_freq"].default
    seq_len: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    lr_schedule: str | None = None
    clipnorm: float | None = None
    dropout: float | None = None
    seed: int | None = None
    #: The ModelConfig fields given (a given None, such as seed=None, counts).
    given: frozenset = frozenset()

    def __post_init__(self) -> None:
        for name, option in TRAINING.items():
            value = getattr(self, name)
            if name in CONFIG_OPTIONS and value is None and name not in self.given:
                continue  # not given: the size's or the model's value
            if name == "tokenizer":
                _check_tokenizer(value)
                continue
            setattr(self, name, option.check(value))

    @classmethod
    def from_call(cls, config_options: dict[str, Any], **arguments: Any) -> "TrainOptions":
        """The options of ``train(**arguments, **config_options)`` (``config_options``: its ModelConfig fields)."""
        given = {k: v for k, v in config_options.items() if k in CONFIG_OPTIONS}
        return cls(**arguments, **given, given=frozenset(given))

    def config_overrides(self) -> dict[str, Any]:
        """The ModelConfig fields given, with their checked values."""
        return {name: getattr(self, name) for name in sorted(self.given)}


def _check_tokenizer(value: Any) -> None:
    """A tokenizer kind (any case) or a Tokenizer; else the tokenizer registry's sentence."""
    if isinstance(value, str) and value.strip().lower() in TOKENIZERS:
        return
    from ..text.tokenizers import Tokenizer, get_tokenizer

    if not isinstance(value, Tokenizer):
        get_tokenizer(value)  # a Tokenizer class is accepted; anything else raises the one sentence
