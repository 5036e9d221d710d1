"""The TrainingPanel's status line and progress bar, from the run's state (rendering only, no widgets)."""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import JupyterLLMError
from .._theme import error_html, esc
from .run import Progress, summary_rows


@dataclass
class StatusView:
    """What the progress bar and the status line show; None leaves that part as it is."""

    value: float | None = None  # the bar, 0 to 1
    bar_style: str | None = None
    html: str | None = None  # the status line


def status_view(run: Progress, error: BaseException | None, details: str | None, model_kept: bool,
                stopping: bool) -> StatusView:
    """The bar and the status line for ``run``.

    ``details``: the traceback of an error that is not a jupyter_llm error;
    ``model_kept``: the panel holds the weights trained so far; ``stopping``: Stop was pressed.
    """
    done = run.done()
    if run.phase == "idle":
        return StatusView(0.0, None, esc("Ready: choose the text and the settings, then press Train."))
    notes = "".join(f'<div class="jl-warn">{esc(w)}</div>' for w in run.warnings)
    if run.phase in ("preparing", "training"):
        html = None  # preparing: the line train() wrote stays
        if run.phase == "training":
            html = esc(f"Training{' (stopping after this step…)' if stopping else ''}") + notes
        return StatusView(min(done, 1.0), "info", html)
    # The run is over.
    if error is not None:
        kept = ('<div class="jl-note">The weights trained so far are kept: <code>panel.model</code>.</div>'
                if model_kept else "")
        return StatusView(None, "danger", error_html(error, None if isinstance(error, JupyterLLMError) else details)
                          + kept + notes)
    message = run.message or ""
    budget_ended = message.startswith("Training stopped at the time limit")  # Train for: as planned
    stopped = stopping or (not budget_ended and message.startswith(("Training stopped", "Early stopping")))
    kept = " The weights trained so far are kept." if stopped else ""
    css = "jl-warn" if stopped else "jl-ok"
    return StatusView(min(done, 1.0) if stopped else 1.0, "warning" if stopped else "success",
                      f'<span class="{css}">{esc((message or "Training ended.") + kept)}</span>{notes}')


def summary_table(model) -> str:
    """The trained model's facts (size, epochs, losses, time) as an HTML table, every value escaped."""
    return "<table>" + "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in summary_rows(model)) + "</table>"
