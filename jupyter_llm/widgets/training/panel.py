"""``TrainingPanel``: choose the text and the settings, train, watch the loss, save.

A thin view over :func:`jupyter_llm.build_model` and :func:`jupyter_llm.train`.
Training runs in a background thread (:attr:`TrainingPanel.job`), so that Stop
and the rest of the notebook stay responsive; the thread updates the widgets
itself, a few times a second. The controls' ranges and defaults come from the
TRAINING options table; the parts are the source picker (:mod:`.source`), the
size table (:mod:`.sizes`) and the run state (:mod:`.run`).

>>> panel = TrainingPanel(text, size="tiny", epochs=2)    # doctest: +SKIP
>>> panel                                                  # doctest: +SKIP
>>> lm = panel.model       # the model trained so far, even after Stop or an error
"""

from __future__ import annotations

import collections
import math
import threading
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from ...errors import DataError, JupyterLLMError, invalid
from ...training.options import TOKENIZERS, TRAINING
from .._namespace import is_language_model
from .._theme import error_html, esc, section, style_widget
from .._threads import Job, Throttle
from ..loss_chart import loss_chart_svg
from .history import earlier_runs, text_fingerprint
from .plan import BUDGETS, budget_words, plan
from .run import Curve, Progress, Settings, record
from .sizes import SizeTable
from .status import status_view, summary_table
from .start import StartFrom
from .source import CHARS_PER_TOKEN, SourcePicker

_TOKENIZER_HELP = {
    "char": "one token per character: any language, smallest vocabulary",
    "word": "one token per word (jieba for Chinese): shorter sequences, large vocabulary",
    "bpe": "byte-level BPE sub-words: a middle way",
}


#: Steps of a run's first epoch after which its speed counts as measured (the first step traces the model).
RUN_SPEED_STEPS = 20


def _default(name: str) -> Any:
    return TRAINING[name].default_for("panel")


def _tip(name: str) -> str:
    text = TRAINING[name].help
    return text[:1].upper() + text[1:]


def _int_box(name: str, value: int, description: str, width: int, label: int) -> widgets.BoundedIntText:
    """A number box whose reach is the option's ``ui`` (low, high, step)."""
    low, high, step = TRAINING[name].ui
    return widgets.BoundedIntText(value=value, min=int(low), max=int(high), step=int(step), description=description,
                                  layout=widgets.Layout(width=f"{width}px"),
                                  style={"description_width": f"{label}px"}, tooltip=_tip(name))


class TrainingPanel(widgets.VBox):
    """Train a language model interactively.

    Args:
        data: the text to train on (str, list of str, pandas Series or DataFrame,
            or a path); by default the panel offers the notebook's variables.
        column: the text column when ``data`` is a DataFrame.
        model: a LanguageModel to train further.
        namespace: where to look for text variables (default: the notebook's).
        tokenizer, size, epochs, seq_len, batch_size, learning_rate,
        steps_per_epoch, validation_split, sample_prompt, sample_tokens: the
            initial values of the controls (see :func:`jupyter_llm.train`; the
            defaults and ranges are those of the TRAINING options table).
        time_budget: seconds to train for ("Train for"; 0: the epochs set). The
            epochs are then chosen from the text and the measured speed, and
            the run stops at the budget in any case.
        name: the initial "save as" name.
        seed: fixes a new model's initial weights, the order of its training
            windows and its dropout, so that the same settings train the same
            weights (None: a different model each time). Also ``panel.seed``.
        measure_speed: time the selected size preset on this machine (in the
            background) when the panel is first shown.
        update_interval: seconds between two updates of the progress display.
        base: the initial "Start from": None for a new model, or the name of a bundled or saved
            model to fine-tune a copy of (``jl.train(base=...)``; the size and tokenizer controls are
            then hidden: the base's are kept).

    Attributes:
        model: the model being or last trained (None before the first run).
        job: the background job of the current or last run; ``wait()`` joins it.
        events: the latest progress events received (a deque).
        error: the exception that ended the last run, if any.
        picker, sizes: the source picker and the size table.
    """

    def __init__(self, data: Any = None, *, column: str | None = None, model: Any = None,
                 namespace: dict[str, Any] | None = None, tokenizer: str = _default("tokenizer"),
                 size: str = _default("size"), epochs: int = _default("epochs"), seq_len: int | None = None,
                 batch_size: int | None = None, learning_rate: float | None = None,
                 steps_per_epoch: int | None = None, validation_split: float = _default("validation_split"),
                 sample_prompt: str = "", sample_tokens: int = _default("sample_tokens"),
                 time_budget: float = 0, name: str | None = None, seed: int | None = None, measure_speed: bool = True,
                 update_interval: float = 0.25, base: str | None = None) -> None:
        for option, value in (("seed", seed), ("size", size), ("tokenizer", tokenizer)):
            TRAINING[option].check(value, "panel")
        if time_budget:
            TRAINING["time_limit"].check(time_budget, "panel")
        if model is not None and not is_language_model(model):
            raise invalid("model", "a jupyter_llm LanguageModel to train further, or None", type(model).__name__)
        self.model = model
        self.job: Job | None = None
        self.error: BaseException | None = None
        self.events: collections.deque = collections.deque(maxlen=5000)
        self.samples: list[str] = []
        self.measure_speed = measure_speed
        self.seed = seed
        self.sample_tokens = sample_tokens
        self._lock = threading.RLock()
        self._run = Progress()
        self._curve = Curve()
        self._earlier: list = []  # earlier runs on the same text, drawn behind this one (training/history.py)
        self._own_runs: list[str | None] = []  # the run ids of this panel's model, continued or not
        self._throttle = Throttle(update_interval)
        self._stop_event = threading.Event()
        self._shown = False
        self._refused = False  # the status shows why Train was refused (cleared once the choice is valid)
        self._steps_by_hand = 0  # Steps/epoch as set before a time budget chose it
        self.picker = SourcePicker(data, namespace, lambda: (self.tokenizer.value, self.validation_split.value))
        self.sizes = SizeTable(size, self._speed_key, self.picker.sample, self._epoch_tokens)
        self._build_controls(tokenizer, epochs, seq_len, batch_size, learning_rate, steps_per_epoch,
                             validation_split, sample_prompt, time_budget)
        self.start = StartFrom(base)
        self.start_from, self.start_note = self.start.choice, self.start.note
        self._build_results(name)
        self._layout()
        self._connect()
        self.picker.refresh()
        self.picker.choose_path(data)
        if column is not None and column in self.column.options:
            self.column.value = column
        if model is not None:
            self.continue_training.value = True
        self._update_visibility()
        self.sizes.on_render = self._render_plan
        self.sizes.render()
        self.picker.render_info()
        self._render_progress()

    # === Widgets ===

    def _build_controls(self, tokenizer, epochs, seq_len, batch_size, learning_rate, steps_per_epoch,
                        validation_split, sample_prompt, time_budget) -> None:
        """The Model and Training rows (each numeric control's reach is its option's ``ui``)."""
        L = widgets.Layout
        # The source picker's and the size table's widgets, by the names the panel always had.
        p, s = self.picker, self.sizes
        self.source, self.variable, self.refresh_button, self.column = p.source, p.variable, p.refresh_button, p.column
        self.path, self.upload, self.data_info = p.path, p.upload, p.info
        self.size, self.measure_button, self.sizes_info = s.size, s.measure_button, s.info
        self.tokenizer = widgets.Dropdown(
            options=[(t, t) for t in TOKENIZERS], value=tokenizer, description="Tokenizer",
            tooltip="; ".join(f"{k}: {v}" for k, v in _TOKENIZER_HELP.items()),
            layout=L(width="170px"), style={"description_width": "64px"},
        )
        self.epochs = _int_box("epochs", epochs, "Epochs", 130, 50)
        budgets = list(BUDGETS) + ([] if time_budget in dict(BUDGETS).values() else
                                   [(budget_words(time_budget), time_budget)])
        self.train_for = widgets.Dropdown(
            options=budgets, value=time_budget, description="Train for", layout=L(width="210px"),
            style={"description_width": "64px"},
            tooltip="A time budget: the epochs are chosen from the text and the measured speed, and training "
                    "stops at the budget in any case")
        self.plan = widgets.HTML()
        self.plan.add_class("jl-note")
        self.plan.add_class("jl-plan")
        self.seq_len = _int_box("seq_len", seq_len or _default("seq_len"), "Seq. length", 160, 76)
        self.batch_size = _int_box("batch_size", batch_size or _default("batch_size"), "Batch", 130, 44)
        self.steps_per_epoch = _int_box("steps_per_epoch", steps_per_epoch or 0, "Steps/epoch", 170, 84)
        self.steps_per_epoch.tooltip += "; 0: one pass over the text"
        low, high, step = TRAINING["learning_rate"].ui  # a log slider: the step is in powers of ten
        self.learning_rate = widgets.FloatLogSlider(
            value=learning_rate or _default("learning_rate"), base=10, min=math.log10(low), max=math.log10(high),
            step=step, description="Learn. rate", readout_format=".1e", continuous_update=False,
            layout=L(width="290px"), style={"description_width": "76px"}, tooltip=_tip("learning_rate"),
        )
        low, high, step = TRAINING["validation_split"].ui
        self.validation_split = widgets.FloatSlider(
            value=validation_split, min=low, max=high, step=step, description="Validation",
            readout_format=".0%", continuous_update=False, layout=L(width="250px"),
            style={"description_width": "70px"}, tooltip=_tip("validation_split"),
        )
        self.sample_prompt = widgets.Text(value=sample_prompt, description="Sample", placeholder="prompt of the sample",
                                          layout=L(width="260px"), style={"description_width": "54px"},
                                          tooltip="A text is generated from this prompt after each epoch")
        self.continue_training = widgets.Checkbox(
            value=False, description="continue training the current model", indent=False,
            layout=L(width="auto"), tooltip="Keep the current model's weights, tokenizer, size, sequence length, "
            "batch size and learning rate; train it for more epochs",
        )
        self.train_button = widgets.Button(description="Train", icon="play", button_style="primary",
                                           layout=L(width="96px"), tooltip="Start training in the background")
        self.stop_button = widgets.Button(description="Stop", icon="stop", disabled=True, layout=L(width="96px"),
                                          tooltip="Stop after the current step; the weights trained so far are kept")

    def _build_results(self, name: str | None) -> None:
        """The Progress and Save rows."""
        L = widgets.Layout
        self.status = widgets.HTML()
        self.status.add_class("jl-status")
        self.progress = widgets.FloatProgress(value=0.0, min=0.0, max=1.0, layout=L(width="100%"))
        self.progress_text = widgets.HTML()
        self.progress_text.add_class("jl-note")
        self.progress_text.add_class("jl-progress-text")
        self.chart = widgets.HTML()
        self.chart.add_class("jl-chart")
        self.compare = widgets.Checkbox(value=True, description="show earlier runs on this text", indent=False,
                                        layout=L(width="auto"),
                                        tooltip="Draw the loss curves of earlier training runs on the same text "
                                                "(from the run history, jl.runs()) behind this one")
        self.sample = widgets.HTML()
        self.summary = widgets.HTML()
        self.summary.add_class("jl-summary")
        self.save_name = widgets.Text(value=name or "", placeholder="name", description="Save as",
                                      layout=L(width="220px"), style={"description_width": "54px"},
                                      tooltip="A name in the model store: letters, digits, '-', '_' or '.'")
        self.overwrite = widgets.Checkbox(value=False, description="overwrite", indent=False, layout=L(width="90px"),
                                          tooltip="Replace a saved model of the same name")
        self.save_button = widgets.Button(description="Save", icon="save", layout=L(width="80px"), disabled=True,
                                          tooltip="Save the trained model in the model store")
        self.save_status = widgets.HTML(layout=L(margin="0 0 0 8px"))
        self.save_status.add_class("jl-note")

    def _layout(self) -> None:
        L = widgets.Layout
        title = widgets.HTML('<span class="jl-title">Train a language model</span>')
        header = widgets.HBox([title], layout=L(width="100%"))
        header.add_class("jl-header")
        chart = widgets.VBox([self.chart, self.compare], layout=L(flex="0 0 auto"))
        results = widgets.HBox([chart, widgets.VBox([self.sample, self.summary],
                                                         layout=L(flex="1 1 300px", min_width="280px"))],
                               layout=L(flex_flow="row wrap", align_items="flex-start", width="100%"))
        progress = widgets.VBox([self.status, self.progress, self.progress_text, results],
                                layout=L(flex="1 1 0%", min_width="0"))
        super().__init__([
            style_widget(), header,
            section("Data", *self.picker.row),
            section("Model", self.start_from, self.tokenizer, self.size, self.measure_button),
            section("", self.start_note),
            section("", self.sizes_info),
            section("Training", self.train_for, self.epochs, self.seq_len, self.batch_size, self.steps_per_epoch),
            section("", self.plan),
            section("", self.learning_rate, self.validation_split, self.sample_prompt),
            section("", self.train_button, self.stop_button, self.continue_training),
            section("Progress", progress, align="flex-start"),
            section("Save", self.save_name, self.overwrite, self.save_button, self.save_status),
        ])
        self.add_class("jl-panel")
        self.add_class("jl-training-panel")

    def _connect(self) -> None:
        self.source.observe(self._on_source, names="value")
        for w in (self.variable, self.column, self.path, self.upload):
            w.observe(self._on_data_change, names="value")
        for w in (self.tokenizer, self.seq_len, self.batch_size):
            w.observe(self._on_speed_settings, names="value")
        self.size.observe(self._on_size, names="value")
        for w in (self.steps_per_epoch, self.validation_split):
            w.observe(lambda _: (self.sizes.render(), self.picker.render_info()), names="value")
        self.epochs.observe(lambda _: self._render_plan(), names="value")
        self.train_for.observe(self._on_budget, names="value")
        for w in (self.continue_training, self.start_from):
            w.observe(lambda _: self._update_visibility(), names="value")
        self.train_button.on_click(lambda _: self.train())
        self.stop_button.on_click(lambda _: self.stop())
        self.save_button.on_click(lambda _: self.save())
        self.compare.observe(lambda _: self._render_chart(), names="value")

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        # Showing the panel is the moment to time the chosen size, once, in the background.
        if not self._shown:
            self._shown = True
            if self.measure_speed:
                self.measure()
        return super()._repr_mimebundle_(**kwargs)

    # === Data and sizes ===

    @property
    def namespace(self) -> dict[str, Any]:
        return self.picker.namespace

    def refresh_variables(self) -> None:
        """List the notebook's text variables again (keeping the selection when it still exists)."""
        self.picker.refresh()

    def _on_source(self, change: dict) -> None:
        self._update_visibility()
        self.picker.update_columns()
        self.picker.render_info()
        self.sizes.render()
        self._recheck()

    def _on_data_change(self, change: dict) -> None:
        if change["owner"] is self.variable:
            self.picker.update_columns()
        self.picker.render_info()
        self.sizes.render()
        self._recheck()

    def _recheck(self) -> None:
        """After Train was refused for the text chosen: clear the sentence once the choice is valid (or update it)."""
        if not self._refused or self.running:
            return
        try:
            self.picker.resolve()
        except JupyterLLMError as e:
            self.status.value = error_html(e)
            return
        self._refused = False
        self._render_progress()

    def _render_plan(self) -> None:
        """What the run will do (steps, time, and a word when that is too little); sets the epochs of a budget."""
        budget = float(self.train_for.value)
        steps = 0 if budget else self.steps_per_epoch.value  # a budget chooses the steps too
        tokens_per_step = int(self.seq_len.value) * int(self.batch_size.value)
        what = plan(epochs=int(self.epochs.value), budget=budget,
                    tokens_per_epoch=steps * tokens_per_step if steps else self._text_tokens(None),
                    tokens_per_step=tokens_per_step, tokens_per_second=self.sizes.speed(),
                    max_epochs=int(TRAINING["epochs"].ui[1]))
        if budget and what.seconds is not None and not self.running:
            self.epochs.value = what.epochs
            # On a short text the budget's epoch is several passes: Steps/epoch shows how many steps (0: one pass).
            self.steps_per_epoch.value = what.steps_per_epoch if what.passes else 0
        css = "jl-warn" if what.few else "jl-note"
        self.plan.value = f'<span class="{css}">{esc(what.note)}</span>'

    def _on_budget(self, change: dict) -> None:
        if change["new"] and not change["old"]:
            self._steps_by_hand = self.steps_per_epoch.value
        elif not change["new"]:
            self.steps_per_epoch.value = self._steps_by_hand
        self._render_plan()
        self._update_visibility()

    def _epoch_tokens(self, chars_per_token: float | None) -> float | None:
        """Tokens of one epoch: Steps/epoch's worth, or one pass over the text (None: no text)."""
        steps = self.steps_per_epoch.value
        if steps:
            return steps * self.seq_len.value * self.batch_size.value
        return self._text_tokens(chars_per_token)

    def _text_tokens(self, chars_per_token: float | None) -> float | None:
        """Tokens of one pass over the chosen text's training part (None: no text)."""
        chars = self.picker.chars()
        if chars is None:
            return None
        cpt = chars_per_token or CHARS_PER_TOKEN.get(self.tokenizer.value, 1.0)
        return chars * (1 - self.validation_split.value) / cpt

    def _speed_key(self) -> tuple[int, int, str]:
        return self.seq_len.value, self.batch_size.value, self.tokenizer.value

    def _on_speed_settings(self, change: dict) -> None:
        self.sizes.estimates = {}
        self.sizes.render()
        self.picker.render_info()
        if self._shown and self.measure_speed and not self.running:
            self.measure()

    def _on_size(self, change: dict) -> None:
        self.sizes.render()
        if self._shown and self.measure_speed and not self.running and not self.sizes.measured():
            self.measure()

    def measure(self, sizes: tuple[str, ...] | None = None, wait: bool = False) -> Job:
        """Time size presets on this machine in the background (default: the selected one)."""
        return self.sizes.measure(sizes, wait)

    def _update_visibility(self) -> None:
        has_model = self.model is not None
        base = self.start.base
        self.continue_training.layout.display = None if has_model and not base else "none"
        cont = has_model and self.continue_training.value and not base
        self.start_from.disabled = self.running or cont
        self.start.update([self.tokenizer, self.size, self.measure_button, self.sizes_info])
        if cont:
            c = self.model.config
            self.seq_len.value, self.batch_size.value = c.seq_len, c.batch_size
            self.learning_rate.value = c.learning_rate
            self.tokenizer.value = self.model.tokenizer.kind if self.model.tokenizer.kind in TOKENIZERS else "char"
        running = self.running
        self.picker.update_visibility(disabled=running)
        for w in (self.tokenizer, self.size, self.seq_len, self.batch_size, self.learning_rate):
            w.disabled = running or cont or bool(base)
        for w in (self.steps_per_epoch, self.validation_split, self.sample_prompt, self.continue_training,
                  self.measure_button, self.train_for):
            w.disabled = running
        budget = bool(self.train_for.value)  # a budget chooses the epochs and the steps
        self.epochs.disabled = self.steps_per_epoch.disabled = running or budget
        self.train_button.disabled = running
        self.stop_button.disabled = not running
        self.save_button.disabled = running or self.model is None

    # === Training ===

    @property
    def running(self) -> bool:
        """Whether a training run is in progress."""
        return self.job is not None and self.job.running

    def _settings(self) -> Settings:
        source, column, description = self.picker.resolve()
        budget = float(self.train_for.value)
        if budget:
            self._render_plan()  # the epochs of the budget, from the latest speed
        # A budget whose speed is not known yet: as many epochs as allowed, the budget ends the run.
        epochs = int(self.epochs.value) if not budget or self.sizes.speed() else int(TRAINING["epochs"].ui[1])
        return Settings(
            source=source, column=column, description=description, tokenizer=self.tokenizer.value,
            size=self.size.value, epochs=epochs, seq_len=int(self.seq_len.value),
            batch_size=int(self.batch_size.value), learning_rate=float(self.learning_rate.value),
            steps_per_epoch=self.steps_per_epoch.value or None,  # the control's 0 means one pass
            validation_split=round(float(self.validation_split.value), 4),
            sample_prompt=self.sample_prompt.value, sample_tokens=int(self.sample_tokens),
            continue_training=bool(self.continue_training.value and self.model is not None and not self.start.base),
            seed=self.seed, time_limit=budget or None, base=self.start.base,
        )

    def train(self) -> Job | None:
        """What the Train button does: check the settings, then train in the background.

        Returns the background job (None when the settings were refused; the
        panel then shows why).
        """
        if self.running:
            return self.job
        try:
            settings = self._settings()
        except JupyterLLMError as e:
            self.status.value = error_html(e)
            self._refused = True
            return None
        self._refused = False
        self.error = None
        self._stop_event = threading.Event()
        self._throttle.reset()
        with self._lock:
            self._run = Progress(phase="preparing")
        self.summary.value = ""
        self.save_status.value = ""
        self.job = Job(lambda: self._train(settings), "jupyter_llm-train", self._on_done)
        self.status.value = esc(f"Preparing: reading {settings.description} and building the model…")
        self.progress.bar_style = "info"
        self.job.start()
        self._update_visibility()
        return self.job

    def stop(self) -> None:
        """What the Stop button does: stop after the current step, keeping the weights."""
        self._stop_event.set()
        if self.running:
            self.status.value = esc("Stopping after the current step…")
            self.stop_button.disabled = True

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the current run ends; True when it has (False after ``timeout`` seconds)."""
        return self.job.wait(timeout) if self.job is not None else True

    def _train(self, s: Settings) -> Any:
        """The background job: build (or reuse) the model, then ``jl.train`` it.

        A new model is built first (``jl.build_model``) and held by the panel, so
        that an error in the middle of a run keeps the weights trained so far.
        """
        self.sizes.stop()
        if self._stop_event.is_set():
            return None
        import jupyter_llm as jl

        if not s.continue_training and s.base is None:
            self.model = jl.build_model(s.source, size=s.size, tokenizer=s.tokenizer, column=s.column,
                                        seq_len=s.seq_len, batch_size=s.batch_size, learning_rate=s.learning_rate,
                                        seed=s.seed)
        if not s.continue_training:
            with self._lock:
                self._curve.reset()
            self.samples = []
            self._own_runs = []
        self._find_earlier(s)
        # A base: train() fine-tunes a copy of it, with its defaults (the base is never changed).
        start = {"model": self.model} if s.base is None else {"base": s.base, "seed": s.seed}
        return jl.train(
            s.source, **start, epochs=s.epochs, validation_split=s.validation_split, column=s.column,
            steps_per_epoch=s.steps_per_epoch, on_progress=self._on_progress, progress=False,
            stop_event=self._stop_event, sample_prompt=s.sample_prompt or None, sample_tokens=s.sample_tokens,
            time_limit=s.time_limit,
        )

    def _find_earlier(self, s: Settings) -> None:
        """The earlier runs on this text, from the run history (a run on a new text has none)."""
        own = set(self._own_runs) if s.continue_training else set()  # already on the chart: this model's runs
        try:
            fingerprint = text_fingerprint(s.source, s.column)
            earlier = earlier_runs(fingerprint, exclude=own)
        except (OSError, ValueError, KeyError, TypeError):  # an unreadable history draws no comparison
            earlier = []
        with self._lock:
            self._earlier = earlier
        self._render_chart()

    def _on_progress(self, event: Any) -> None:
        """A ProgressEvent from the training thread: record it, update the display now and then."""
        self.events.append(event)
        with self._lock:
            record(self._run, self._curve, event)
        if event.kind == "sample" and event.sample is not None:
            self.samples.append(event.sample)
            self.sample.value = (f'<div class="jl-sample-title">Sample after epoch {event.epoch}</div>'
                                 f'<pre class="jl-text" style="max-height:140px">{esc(event.sample)}</pre>')
        if event.kind != "step" or self._throttle.ready():
            self._render_progress()
            self._render_chart()

    def _on_done(self, job: Job) -> None:
        """On the training thread, after the run: the final state of every widget."""
        self.error = job.error
        with self._lock:
            self._run.phase = "done"
        if job.error is None and job.result is not None:
            self.model = job.result
            self._own_runs.append(self.model.metadata.get("run"))
            self._record_speed()
        self._render_progress()
        self._render_chart()
        self._render_summary()
        self._update_visibility()

    def _record_speed(self) -> None:
        """Give the size table the run's own speed (a steady one: past the first epoch's tracing, or many steps)."""
        last = next((e for e in reversed(self.events) if e.kind == "step"), None)
        if (last is None or not last.tokens_per_second or self.continue_training.value
                or not (last.epoch >= 2 or last.step >= RUN_SPEED_STEPS)):
            return
        self.sizes.record_run(self.size.value, self.model.num_parameters, last.tokens_per_second)

    # === Rendering ===

    def _render_progress(self) -> None:
        with self._lock:
            run = Progress(**{**vars(self._run), "warnings": list(self._run.warnings)})
        self.progress_text.value = esc(run.line())
        details = self.job.traceback if self.job is not None and self.error is not None else None
        view = status_view(run, self.error, details, self.model is not None, self._stop_event.is_set())
        if view.value is not None:
            self.progress.value = view.value
        if view.bar_style is not None:
            self.progress.bar_style = view.bar_style
        if view.html is not None:
            self.status.value = view.html

    def _render_chart(self) -> None:
        with self._lock:
            train, val = list(self._curve.train), list(self._curve.val)
            earlier = list(self._earlier) if self.compare.value else []
        self.compare.layout.display = None if self._earlier else "none"
        self.chart.value = loss_chart_svg(train, val, train_label="training (smoothed)", earlier=earlier)

    def _render_summary(self) -> None:
        self.summary.value = summary_table(self.model) if self.model is not None else ""

    # === Saving ===

    def save(self, name: str | None = None, overwrite: bool | None = None) -> Path | None:
        """What the Save button does: save the model under the "save as" name."""
        if name is not None:
            self.save_name.value = name
        if overwrite is not None:
            self.overwrite.value = overwrite
        if self.model is None:
            self.save_status.value = error_html(DataError("There is no model to save yet. Expected a trained model; press Train first."))
            return None
        name = self.save_name.value.strip()
        try:
            if not name:
                raise invalid("name", "a name for the model, such as 'poems'", name)
            path = self.model.save(name, overwrite=self.overwrite.value)
        except JupyterLLMError as e:
            self.save_status.value = error_html(e)
            return None
        self.save_status.value = (f'<span class="jl-ok">Saved as <code>{esc(name)}</code></span>: '
                                  f"load it with <code>jl.load({esc(repr(name))})</code>")
        return path
