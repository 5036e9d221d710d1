"""Teaching: the assistant's model fine-tuned on the examples the user taught, then checked one by one.

``%assistant --teach add_todo "stick [oat milk](task) on the shopping pile"``
stores the example; the model for the shipped and taught examples is then the
default model (nothing taught: the shipped one) fine-tuned on the taught
examples, each repeated :data:`TAUGHT_COPIES` times among
:data:`REPLAY_PER_INTENT` shipped examples of every intent (so it keeps what it
knew), for :data:`TEACH_EPOCHS` epochs: seconds, where training from scratch
takes most of a minute.

Then each taught example is parsed. One that does not come back as taught
(its intent and every slot, with the same values) gets up to
:data:`EXTRA_ROUNDS` more short rounds with :data:`EXTRA_COPIES` copies of it,
doubled each round. The
outcome of each is in the model's ``metadata["taught"]``:
``[{"intent", "example", "learned", "understood_as"}]`` and
``metadata["teach_rounds"]``; :meth:`Assistant.teach` says plainly when an
example was not learned.

Before, a taught example counted three times among the thousand shipped ones
in a training from scratch, and nothing checked it: whether its slots were
learned depended on the machine's arithmetic (a test of it failed at random).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..nlu.data import Example, NLUDataset

if TYPE_CHECKING:  # pragma: no cover
    from ..nlu.model import IntentSlotModel

__all__ = ["taught_model", "taught_fingerprint", "parses_as_taught", "reading", "outcome",
           "TAUGHT_COPIES", "REPLAY_PER_INTENT", "TEACH_EPOCHS", "EXTRA_ROUNDS", "EXTRA_COPIES", "EXTRA_EPOCHS",
           "TEACH_SEED"]

#: Copies of each taught example in the first round (about 3% of the round's examples).
TAUGHT_COPIES = 8
#: Shipped examples of each intent mixed in (at most), so no intent is forgotten.
REPLAY_PER_INTENT = 10
#: Epochs of the first round.
TEACH_EPOCHS = 3
#: Rounds more for the examples not learned after the first.
EXTRA_ROUNDS = 3
#: Copies of a not yet learned example in the first extra round, doubled in each next one.
EXTRA_COPIES = 16
#: Epochs of each extra round.
EXTRA_EPOCHS = 2
#: The seed of the first round (round k uses ``seed + k``).
TEACH_SEED = 0


def _settings() -> dict[str, Any]:
    from ..nlu.finetune import FINE_TUNE_LEARNING_RATE

    return {"copies": TAUGHT_COPIES, "replay": REPLAY_PER_INTENT, "epochs": TEACH_EPOCHS, "rounds": EXTRA_ROUNDS,
            "extra_copies": EXTRA_COPIES, "extra_epochs": EXTRA_EPOCHS, "learning_rate": FINE_TUNE_LEARNING_RATE}


def taught_fingerprint(base: str, taught: Sequence[tuple[str, str]], seed: int = TEACH_SEED) -> str:
    """What the model taught ``taught`` from the base model keyed ``base`` is keyed by."""
    h = hashlib.sha256()
    h.update(json.dumps(["taught", base, [list(t) for t in taught], _settings(), seed], sort_keys=True,
                        ensure_ascii=False).encode())
    return h.hexdigest()[:12]


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower()).strip()


def parses_as_taught(model: "IntentSlotModel", example: Example) -> bool:
    """Whether ``model`` reads ``example``'s text with its intent and exactly its slots (names and values)."""
    return outcome(model, example)["learned"]


def reading(intent: str, slots: Sequence[tuple[str, str]]) -> str:
    """``"add_todo with task='oat milk'"`` (or ``"add_todo with no slots"``)."""
    if not slots:
        return f"{intent} with no slots"
    return f"{intent} with " + ", ".join(f"{name}={value!r}" for name, value in slots)


def _replay(shipped: NLUDataset, avoid: set[str], seed: int) -> list[Example]:
    """Up to :data:`REPLAY_PER_INTENT` shipped examples of each intent (none with a taught text)."""
    rng = np.random.default_rng(seed)
    out: list[Example] = []
    for intent in shipped.intents:
        pool = [ex for ex in shipped if ex.intent == intent and _norm(ex.utterance) not in avoid]
        order = rng.permutation(len(pool))[:REPLAY_PER_INTENT]
        out += [pool[i] for i in sorted(order)]
    return out


def taught_model(base: "IntentSlotModel", shipped: NLUDataset, taught: Sequence[tuple[str, str]],
                 seed: int = TEACH_SEED) -> "IntentSlotModel":
    """``base`` fine-tuned on the ``taught`` ``(intent, Markdown text)`` pairs, checked, retried where needed.

    ``shipped`` is what ``base`` was trained on (replayed so it is not forgotten).
    """
    from ..nlu.finetune import fine_tune

    examples = [Example.from_markdown(text, intent) for intent, text in taught]
    avoid = {_norm(ex.utterance) for ex in examples}  # a taught text overrides a shipped one
    copies = {i: TAUGHT_COPIES for i in range(len(examples))}

    def data(round_seed: int) -> NLUDataset:
        out = _replay(shipped, avoid, round_seed)
        for i, ex in enumerate(examples):
            out += [ex] * copies[i]
        return NLUDataset(out, name="taught")

    model = fine_tune(base, data(seed), epochs=TEACH_EPOCHS, seed=seed)
    failing = [i for i, ex in enumerate(examples) if not parses_as_taught(model, ex)]
    rounds = 0
    while failing and rounds < EXTRA_ROUNDS:
        rounds += 1
        for i in failing:
            copies[i] = EXTRA_COPIES * 2 ** (rounds - 1)
        model = fine_tune(model, data(seed + rounds), epochs=EXTRA_EPOCHS, seed=seed + rounds)
        failing = [i for i, ex in enumerate(examples) if not parses_as_taught(model, ex)]
    model.metadata["teach_rounds"] = rounds
    model.metadata["taught"] = [outcome(model, ex) | {"markdown": text}
                                for ex, (_, text) in zip(examples, taught)]
    return model


def outcome(model: "IntentSlotModel", example: Example) -> dict[str, Any]:
    """``{"intent", "example", "learned", "understood_as"}``: how ``model`` reads a taught example."""
    p = model.predict(example.utterance)
    got = [(s.slot, s.value) for s in p.spans]
    learned = p.intent == example.intent and got == example.slots()
    return {"intent": example.intent, "example": example.utterance, "learned": learned,
            "understood_as": reading(p.intent, got), "expected": reading(example.intent, example.slots())}
