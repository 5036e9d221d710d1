"""The model configuration: one dataclass, no TensorFlow.

The defaults are the ``"small"`` size, chosen so that a model trains at a useful
speed on a 2-core laptop (tens of thousands of characters a second) and reaches
a validation loss below 2.0 nats/char on tiny Shakespeare in about 3 minutes.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field
from typing import Any

from .errors import invalid

#: Named sizes. Each is a set of overrides of :class:`ModelConfig`.
SIZES: dict[str, dict[str, Any]] = {
    # A few seconds per epoch on a small corpus: tests, demos, teaching.
    "tiny": dict(embedding_dim=32, rnn_units=64, num_layers=1, attention_dim=32),
    # The default: about 0.3M parameters for a 65-symbol vocabulary.
    "small": dict(embedding_dim=64, rnn_units=256, num_layers=1, attention_dim=64),
    # Two stacked GRUs; wants a GPU or patience.
    "medium": dict(embedding_dim=128, rnn_units=512, num_layers=2, attention_dim=128),
}


#: Learning-rate schedules of :func:`jupyter_llm.train`.
LR_SCHEDULES = ("constant", "cosine")


class DictFields:
    """``to_dict``/``from_dict`` of a config dataclass; ``from_dict`` refuses unknown keys in one sentence."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise invalid("config", f"only the keys {sorted(known)}", unknown)
        return cls(**data)


@dataclass
class ModelConfig(DictFields):
    """Everything needed to rebuild a :class:`~jupyter_llm.LanguageModel`.

    The architecture is ``Embedding -> GRU x num_layers -> causal attention over
    the last GRU's outputs -> concat [h_t; a_t] -> Dense(vocab_size)``.
    """

    # === Architecture ===
    vocab_size: int = 0  # set from the tokenizer when training starts
    embedding_dim: int = 64  # small: characters carry little information each
    rnn_units: int = 256  # the width that trains fastest per nat on 2 CPU cores
    num_layers: int = 1  # stacked GRUs; 2+ pays off only with a GPU or hours
    attention_dim: int = 64  # size of the query/key projections of the attention
    attention_window: int | None = None  # W: steps each position attends to; None = seq_len
    dropout: float = 0.0  # between layers; tiny corpora overfit without it

    # === Sequences ===
    seq_len: int = 128  # training window in tokens; also the default attention span
    max_context: int = 4096  # longest prompt accepted by generate / attention

    # === Optimisation ===
    batch_size: int = 64
    learning_rate: float = 3e-3  # Adam; higher than usual, GRUs are stable with clipping
    clipnorm: float = 1.0  # gradient clipping keeps early GRU training from blowing up
    lr_schedule: str = "constant"  # or "cosine": decay to 5% of learning_rate over the run
    seed: int | None = None

    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("embedding_dim", "rnn_units", "num_layers", "attention_dim",
                     "seq_len", "max_context", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise invalid(name, "a positive integer", value)
        if self.vocab_size < 0:
            raise invalid("vocab_size", "a non-negative integer", self.vocab_size)
        if self.attention_window is not None and (
            isinstance(self.attention_window, bool)
            or not isinstance(self.attention_window, int)
            or self.attention_window < 1
        ):
            raise invalid("attention_window", "a positive integer or None", self.attention_window)
        if not (_is_real(self.dropout) and 0.0 <= self.dropout < 1.0):
            raise invalid("dropout", "a number in [0, 1)", self.dropout)
        if not (_is_real(self.learning_rate) and math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise invalid("learning_rate", "a finite number > 0", self.learning_rate)
        if not (_is_real(self.clipnorm) and math.isfinite(self.clipnorm) and self.clipnorm > 0):
            raise invalid("clipnorm", "a finite number > 0", self.clipnorm)
        if self.lr_schedule not in LR_SCHEDULES:
            raise invalid("lr_schedule", f"one of {', '.join(map(repr, LR_SCHEDULES))}", self.lr_schedule)

    @property
    def window(self) -> int:
        """The attention span W actually used (``attention_window`` or ``seq_len``)."""
        return self.attention_window or self.seq_len

    @classmethod
    def from_size(cls, size: str = "small", **overrides: Any) -> "ModelConfig":
        """A config of a named size (``tiny``, ``small``, ``medium``) with overrides."""
        if size not in SIZES:
            raise invalid("size", f"one of {sorted(SIZES)}", size)
        return cls(**{**SIZES[size], **overrides})




CONFIG_FIELDS = frozenset(f.name for f in dataclasses.fields(ModelConfig))


def _is_real(value: Any) -> bool:
    """A real number (a bool is not one): what a rate, a norm or a dropout must be."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
