"""The TrainingPanel's size table: each size preset's parameters and time per epoch on this machine.

:class:`SizeTable` owns the size buttons, the Measure button and the table;
measurements (:mod:`jupyter_llm.widgets.estimates`) run in a background job.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

import ipywidgets as widgets

from ...config import SIZES
from .. import estimates
from .._theme import error_html, esc, fmt_count, fmt_duration
from .._threads import Job


#: The time per epoch before a text is chosen (an epoch is one pass over it).
NO_TEXT = "– (choose a text)"


def keep_known_speeds(old: dict[str, estimates.SpeedEstimate],
                      new: dict[str, estimates.SpeedEstimate]) -> dict[str, estimates.SpeedEstimate]:
    """``new``, except where a measurement was cut short (a run started): a speed known before is kept.

    (A measurement stopped after a step records the parameter counts but no
    speed; it used to replace the table's measured speeds with "not measured".)
    """
    merged = dict(new)
    for size, known in old.items():
        if known.tokens_per_second and not (size in new and new[size].tokens_per_second):
            merged[size] = known
    return merged


class SizeTable:
    """The size presets: which one is chosen, and how fast each trains here.

    Args:
        size: the chosen preset.
        key: ``() -> (seq_len, batch_size, tokenizer)``, the settings a measurement depends on.
        sample: ``() -> str | None``, the start of the user's text to time on (None: synthetic text).
        epoch_tokens: ``(chars_per_token) -> tokens`` in one epoch (None when unknown).
    """

    def __init__(self, size: str, key: Callable[[], tuple[int, int, str]], sample: Callable[[], str | None],
                 epoch_tokens: Callable[[float | None], float | None]) -> None:
        self._key, self._sample, self._epoch_tokens = key, sample, epoch_tokens
        L = widgets.Layout
        self.size = widgets.ToggleButtons(
            options=[(s, s) for s in SIZES], value=size,
            tooltips=[f"{s}: embedding {c['embedding_dim']}, {c['num_layers']} × GRU({c['rnn_units']}), "
                      f"attention {c['attention_dim']}" for s, c in SIZES.items()],
            style={"button_width": "74px"}, layout=L(width="auto"),
        )
        self.measure_button = widgets.Button(description="Measure all", icon="clock-o", layout=L(width="112px"),
                                             tooltip="Time every size preset on this machine (a few training steps each)")
        self.info = widgets.HTML()
        self.estimates: dict[str, estimates.SpeedEstimate] = {}
        self.measuring: str | None = None  # the preset being timed now
        self.job: Job | None = None  # the background job of the current or last measurement
        self._stop = threading.Event()
        self._generation = 0
        self.on_render: Callable[[], None] | None = None  # called after each render (the panel's plan)
        self.measure_button.on_click(lambda _: self.measure(sizes=tuple(SIZES)))

    def speed(self) -> float | None:
        """Tokens per second of the chosen preset here (measured or scaled), or None."""
        est = self.estimates.get(self.size.value)
        return est.tokens_per_second if est else None

    def measured(self) -> bool:
        """Whether the chosen preset was timed here (not scaled from another)."""
        est = self.estimates.get(self.size.value)
        return bool(est and est.measured)

    def measure(self, sizes: tuple[str, ...] | None = None, wait: bool = False) -> Job:
        """Time size presets on this machine in the background (default: the selected one).

        The first of ``sizes`` is timed first; the parameter count of every
        preset is known after the first measurement. ``wait=True`` blocks until done.
        """
        sizes = tuple(sizes or (self.size.value,))
        self._stop.set()
        stop = self._stop = threading.Event()
        self._generation += 1
        generation = self._generation
        seq_len, batch_size, tokenizer = self._key()
        sample = self._sample()

        def run() -> None:
            for size in sizes:
                if stop.is_set():
                    return
                if not estimates.is_measured(size, seq_len, batch_size, tokenizer, sample):
                    self.measuring = size
                    self.render()
                result = estimates.measure(size, seq_len=seq_len, batch_size=batch_size, tokenizer=tokenizer,
                                           sample=sample, stop_event=stop)
                if generation == self._generation:
                    self.estimates = keep_known_speeds(self.estimates, result)

        def done(job: Job) -> None:
            if generation == self._generation:
                self.measuring = None
                if job.error is not None:
                    self.info.value = error_html(job.error)
                else:
                    self.render()

        self.job = Job(run, "jupyter_llm-measure", done).start()
        if wait:
            self.job.wait()
        return self.job

    def record_run(self, size: str, parameters: int, tokens_per_second: float) -> None:
        """A training run's own speed, measured on the whole run: the best measurement of ``size`` there is.

        The presets with no speed of their own are scaled from it by their parameter counts.
        """
        cpt = next((e.chars_per_token for e in self.estimates.values() if e.chars_per_token), None)
        known = dict(self.estimates)
        known[size] = estimates.SpeedEstimate(size, parameters, tokens_per_second, True, "measured", cpt)
        for other, est in self.estimates.items():
            if other != size and not est.measured and est.parameters:
                known[other] = estimates.SpeedEstimate(other, est.parameters, tokens_per_second * parameters
                                                       / est.parameters, False, f"scaled from {size}", cpt)
        self.estimates = known
        self.render()

    def stop(self, timeout: float = 120.0) -> None:
        """Stop measuring (before a training run takes the CPU) and wait for it."""
        self._stop.set()
        if self.job is not None:
            self.job.wait(timeout)

    def render(self) -> None:
        cpt = None
        for est in self.estimates.values():
            cpt = est.chars_per_token or cpt
        tokens = self._epoch_tokens(cpt)
        rows = ["<tr><th>size</th><th>parameters</th><th>time per epoch</th><th>speed</th></tr>"]
        for size in SIZES:
            rows.append(self._row(size, tokens))
        title = ("Measured here with a few training steps at this sequence length and batch size; "
                 "'scaled' is a measured preset's speed scaled by the number of parameters. "
                 "An epoch is one pass over the chosen text.")
        self.info.value = f'<table class="jl-sizes" title="{esc(title)}">{"".join(rows)}</table>'
        if self.on_render is not None:
            self.on_render()

    def _row(self, size: str, tokens: Any) -> str:
        est = self.estimates.get(size)
        if self.measuring == size:
            params, per_epoch, speed = (fmt_count(est.parameters) if est else "…"), "measuring…", ""
        elif est is None or not est.tokens_per_second:
            params, per_epoch, speed = (fmt_count(est.parameters) if est else "–"), "not measured", ""
        else:
            params = fmt_count(est.parameters)
            seconds = est.seconds_per_epoch(tokens)
            how = "measured" if est.measured else est.basis
            # Without a text there is no epoch to time: the speed is known, the epoch's length is not.
            per_epoch = f"≈ {fmt_duration(seconds)}" if seconds is not None else NO_TEXT
            speed = f"{fmt_count(est.tokens_per_second)} tokens/s ({how})"
        chosen = ' class="jl-chosen"' if size == self.size.value else ""
        return (f'<tr{chosen}><td>{esc(size)}</td><td class="jl-num">{esc(params)}</td>'
                f"<td>{esc(per_epoch)}</td><td>{esc(speed)}</td></tr>")
