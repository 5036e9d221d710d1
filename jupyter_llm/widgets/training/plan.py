"""The TrainingPanel's plan: how many steps a run makes, how long it takes, and what to expect of it.

A text of a few thousand characters is one training step per epoch: one epoch
then trains one step, and the loss chart is one dot. :func:`plan` says so
before Train is pressed and, given a time budget ("train for 2 minutes"),
chooses the epochs from the text and the measured speed. Nothing here draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .._theme import fmt_count, fmt_duration

#: The budgets offered by "Train for" (seconds; 0: the epochs set by hand).
BUDGETS: tuple[tuple[str, int], ...] = (
    ("the epochs set", 0), ("1 minute", 60), ("2 minutes", 120), ("5 minutes", 300), ("15 minutes", 900),
    ("1 hour", 3600),
)
#: Fewer training steps than this in a run are too few to show a loss curve or a readable sample.
FEW_STEPS = 50
#: A budget's run is cut into at most this many epochs: each ends with a validation loss and a sample,
#: which cost time of their own; on a short text an epoch is then several passes over it.
BUDGET_EPOCHS = 20


@dataclass(frozen=True)
class Plan:
    """What a run will do.

    Attributes:
        epochs: the epochs to train (chosen from the budget, or the ones set).
        steps_per_epoch: training steps in one epoch (None: the text is not known yet).
        passes: passes over the text in one epoch, when a budget makes an epoch longer than one (else None).
        seconds: about how long the steps take (None: the speed or the text is not known).
        note: one or two sentences for the panel, plain text.
        few: whether the run has too few steps to learn much (the note says what to do).
    """

    epochs: int
    steps_per_epoch: int | None
    seconds: float | None
    note: str
    few: bool = False
    passes: int | None = None


def budget_words(seconds: float) -> str:
    """``"2 minutes"`` for a budget offered by Train for, else the duration."""
    return next((label for label, value in BUDGETS if value == seconds), fmt_duration(seconds))


def plan(*, epochs: int, budget: float, tokens_per_epoch: float | None, tokens_per_step: int,
         tokens_per_second: float | None, max_epochs: int) -> Plan:
    """The plan of a run of ``epochs`` (or of ``budget`` seconds when > 0).

    Args:
        epochs: the epochs set by hand (used when ``budget`` is 0).
        budget: seconds to train for (0: none); the run also stops at this time.
        tokens_per_epoch: tokens of one epoch (None: no text is chosen yet).
        tokens_per_step: ``seq_len * batch_size``.
        tokens_per_second: the chosen size's speed here (None: not measured yet).
        max_epochs: the most epochs the panel allows.
    """
    steps = None if tokens_per_epoch is None else max(1, math.floor(tokens_per_epoch / tokens_per_step))
    step_seconds = tokens_per_step / tokens_per_second if tokens_per_second else None
    if budget:
        if steps is None or step_seconds is None:
            missing = "a text" if steps is None else "the speed of this size (measuring…)"
            return Plan(max_epochs, steps, None, f"Training stops after {budget_words(budget)}; the number of "
                                                  f"epochs is chosen from the text and the speed, once there is "
                                                  f"{missing}.")
        total = max(1, math.floor(budget / step_seconds))
        epochs = max(1, min(BUDGET_EPOCHS, math.floor(total / steps)))
        passes = max(1, math.floor(total / (epochs * steps)))
        steps *= passes
        what = (f"{epochs:,} epoch(s) of {steps:,} step(s) = {epochs * steps:,} training step(s) of "
                f"{fmt_count(tokens_per_step)} tokens, about {fmt_duration(epochs * steps * step_seconds)}")
        longer = f" (an epoch is {passes:,} passes over this short text)" if passes > 1 else ""
        return Plan(epochs, steps, epochs * steps * step_seconds,
                    f"Train for {budget_words(budget)}: {what}{longer}; it stops at the time budget in any case.",
                    epochs * steps < FEW_STEPS, passes if passes > 1 else None)
    total = None if steps is None else epochs * steps
    seconds = None if total is None or step_seconds is None else total * step_seconds
    if steps is None:
        return Plan(epochs, None, None, "Choose a text: an epoch is one pass over it.")
    what = (f"{epochs:,} epoch(s) of {steps:,} step(s) = {total:,} training step(s) of "
            f"{fmt_count(tokens_per_step)} tokens")
    when = f", about {fmt_duration(seconds)}" if seconds is not None else ""
    if total < FEW_STEPS:
        return Plan(epochs, steps, seconds, f"{what}{when}: too few to learn much (the loss chart will be a few "
                                            "points and the sample noise). Choose a time budget in Train for, "
                                            "or more epochs.", True)
    return Plan(epochs, steps, seconds, f"{what}{when}.")
