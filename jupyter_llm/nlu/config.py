"""The configuration of an :class:`~jupyter_llm.nlu.IntentSlotModel`: one dataclass, no TensorFlow.

The defaults reach the published attention-RNN results on SNIPS-sized data
(13k utterances, ~11k words, many unseen entity words in the test set) in a
few minutes on two CPU cores; ``NLUConfig.tiny()`` trains the assistant's
few hundred examples in seconds.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..config import DictFields
from ..errors import invalid
from .tokenize import ZH_MODES


@dataclass
class NLUConfig(DictFields):
    """Everything needed to rebuild and train an intent and slot model.

    The network is ``[word embedding; char CNN over the word's letters] ->
    BiGRU -> (attention pooling -> intent) and (per token [h_t; context] -> BIO tag)``.
    """

    # === Inputs ===
    lowercase: bool = True  # SNIPS and ATIS are lower-cased; users type either way
    zh: str = "char"  # Chinese as single characters: a slot may start at any character
    max_word_chars: int = 16  # letters the char CNN reads per word; longer words are cut

    # === Architecture ===
    word_dim: int = 128  # word embedding
    char_dim: int = 32  # character embedding
    char_filters: int = 96  # char CNN width: the word's shape and spelling, for unseen words
    char_kernel: int = 3  # letters per CNN window
    rnn_units: int = 160  # per direction of the BiGRU
    attention_dim: int = 128  # size of the intent attention's scoring layer
    dropout: float = 0.5  # on embeddings and encoder outputs: the data is small for 11k words
    word_dropout: float = 0.25  # alpha: a word seen n times is replaced by <unk> with p = alpha / (alpha + n)

    # === Optimisation ===
    batch_size: int = 32
    learning_rate: float = 2e-3  # Adam; halved when validation stops improving
    clipnorm: float = 5.0
    patience: int = 5  # epochs without a better validation score before stopping
    max_time: float | None = 420.0  # seconds of training at most (None: no limit); keeps SNIPS < 10 min
    seed: int | None = 0

    # === Set from the data ===
    num_words: int = 0
    num_chars: int = 0
    num_intents: int = 0
    num_tags: int = 0

    def __post_init__(self) -> None:
        for name in ("max_word_chars", "word_dim", "char_dim", "char_filters", "char_kernel",
                     "rnn_units", "attention_dim", "batch_size", "patience"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise invalid(name, "a positive integer", value)
        if self.zh not in ZH_MODES:
            raise invalid("zh", "one of 'char', 'jieba'", self.zh)
        for name in ("dropout",):
            if not (0.0 <= float(getattr(self, name)) < 1.0):
                raise invalid(name, "a number in [0, 1)", getattr(self, name))
        if not float(self.word_dropout) >= 0:
            raise invalid("word_dropout", "a number >= 0", self.word_dropout)
        if not float(self.learning_rate) > 0:
            raise invalid("learning_rate", "a number > 0", self.learning_rate)
        if not float(self.clipnorm) > 0:
            raise invalid("clipnorm", "a number > 0", self.clipnorm)
        if self.max_time is not None and not float(self.max_time) > 0:
            raise invalid("max_time", "a number of seconds > 0, or None", self.max_time)

    @classmethod
    def tiny(cls, **overrides: Any) -> "NLUConfig":
        """A small, fast configuration for a few hundred examples (the assistant's default)."""
        return cls(**{**dict(word_dim=64, char_dim=24, char_filters=48, rnn_units=64, attention_dim=64,
                             dropout=0.2, batch_size=16, learning_rate=5e-3, max_time=60.0), **overrides})

    def train_options(self) -> dict[str, Any]:
        """The fields as options of :meth:`IntentSlotModel.train` (those set from the data left out)."""
        return {k: v for k, v in self.to_dict().items() if not k.startswith("num_")}

    @classmethod
    def options(cls) -> list[str]:
        """The names that :meth:`IntentSlotModel.train` accepts as options."""
        return [f.name for f in dataclasses.fields(cls) if not f.name.startswith("num_")]
