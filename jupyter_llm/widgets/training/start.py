"""The TrainingPanel's "Start from": a new model, or a copy of a bundled or saved model to fine-tune.

Choosing a model makes the panel call ``jl.train(text, base=NAME)`` (see
:mod:`jupyter_llm.training.finetune`): the base's size, tokenizer and sequence
length are kept, so the panel hides or disables those controls and says so.
"""

from __future__ import annotations

import ipywidgets as widgets

from ... import store
from ...errors import invalid
from .._theme import esc


class StartFrom:
    """The "Start from" Dropdown (``choice``; its value ``""`` is a new model) and the note under it."""

    def __init__(self, base: str | None = None) -> None:
        names = [m.name for m in store.list_models() if not m.damaged]
        if base is not None and base not in names:
            raise invalid("base", f"a bundled or saved model (one of {names})" if names
                          else "None (no model is saved or bundled yet)", base)
        self.choice = widgets.Dropdown(
            options=[("a new model", "")] + [(f"{n} (fine-tune)", n) for n in names], value=base or "",
            description="Start from", layout=widgets.Layout(width="260px"), style={"description_width": "70px"},
            tooltip="A new model, or a copy of a bundled or saved model fine-tuned on the text (the model itself "
                    "is never changed)")
        self.note = widgets.HTML()
        self.note.add_class("jl-note")

    @property
    def base(self) -> str | None:
        """The model chosen to fine-tune, or None for a new model."""
        return self.choice.value or None

    def update(self, new_model_controls: list[widgets.Widget]) -> None:
        """Hide ``new_model_controls`` (size, tokenizer, ...) while a base is chosen, and say why."""
        base = self.base
        for w in new_model_controls:
            w.layout.display = "none" if base else None
        self.note.layout.display = None if base else "none"
        self.note.value = esc(
            f"Fine-tuning a copy of '{base}': it keeps that model's size, tokenizer and sequence length "
            "(new characters are added to its vocabulary) and its learning rate; "
            f"'{base}' itself is not changed.") if base else ""
