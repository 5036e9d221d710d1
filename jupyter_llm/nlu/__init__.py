"""Natural language understanding: a joint intent and slot model, its data and its scores.

>>> from jupyter_llm import nlu
>>> data = nlu.load_markdown('''
... ## intent:add_reminder
... - remind me to [call Bob](task) [tomorrow at 3pm](time)
... ''')
>>> data[0].slots()
[('task', 'call Bob'), ('time', 'tomorrow at 3pm')]

Training and prediction (``nlu.IntentSlotModel``) import TensorFlow on first
use; importing this package does not.
"""

from __future__ import annotations

from .config import NLUConfig
from .data import Example, NLUDataset, from_dataframe, load_bio_dataset, load_markdown, parse_annotated
from .decoding import repair_bio, viterbi_bio
from .finetune import fine_tune
from .metrics import chunks, span_f1
from .metrics import score as score_predictions
from .model import IntentSlotModel
from .prediction import Prediction, SlotSpan, WordAttention
from .tokenize import tokenize

__all__ = [
    "IntentSlotModel",
    "fine_tune",
    "NLUConfig",
    "NLUDataset",
    "Example",
    "Prediction",
    "SlotSpan",
    "WordAttention",
    "load_bio_dataset",
    "load_markdown",
    "from_dataframe",
    "parse_annotated",
    "tokenize",
    "chunks",
    "span_f1",
    "score_predictions",
    "viterbi_bio",
    "repair_bio",
]
