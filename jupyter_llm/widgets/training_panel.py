"""``TrainingPanel``: choose the text and the settings, train, watch the loss, save.

A thin view over :func:`jupyter_llm.train`. Training runs in a background thread
(:attr:`TrainingPanel.job`), so that Stop and the rest of the notebook stay
responsive; the thread updates the widgets itself, a few times a second.

>>> panel = TrainingPanel(text, size="tiny", epochs=2)    # doctest: +SKIP
>>> panel                                                  # doctest: +SKIP
>>> lm = panel.model       # the model trained so far, even after Stop or an error
"""

from __future__ import annotations

import collections
import glob
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from ..config import SIZES, ModelConfig
from ..errors import DataError, JupyterLLMError, invalid
from . import estimates
from ._namespace import count_chars, data_variables, is_language_model, kind_of, text_columns, user_namespace
from ._theme import error_html, esc, fmt_count, fmt_duration, section, style_widget
from ._threads import Job, Throttle
from .loss_chart import loss_chart_svg

TOKENIZERS = ("char", "word", "bpe")
_TOKENIZER_HELP = {
    "char": "one token per character: any language, smallest vocabulary",
    "word": "one token per word (jieba for Chinese): shorter sequences, large vocabulary",
    "bpe": "byte-level BPE sub-words: a middle way",
}
_GIVEN = "\x00given"  # the value of the variable option for data passed to the panel
_DEFAULTS = ModelConfig()
#: Assumed characters per token before a measurement says better (word, BPE).
_CHARS_PER_TOKEN = {"char": 1.0, "word": 5.0, "bpe": 3.5}
#: Decay of the moving average drawn as the training loss curve (about 10 steps).
_EMA = 0.9


@dataclass
class _Settings:
    """What one click on Train will do: read from the controls on the notebook's thread."""

    source: Any
    column: str | None
    description: str
    tokenizer: str
    size: str
    epochs: int
    seq_len: int
    batch_size: int
    learning_rate: float
    steps_per_epoch: int | None
    validation_split: float
    sample_prompt: str
    sample_tokens: int
    continue_training: bool
    seed: int | None = None


class _Run:
    """The progress of the current run, as reported by its events (guarded by the panel's lock)."""

    def __init__(self) -> None:
        self.phase = "idle"  # idle, preparing, training, done
        self.epoch = self.epochs = self.step = 0
        self.steps: int | None = None
        self.loss: float | None = None
        self.tokens_per_second: float | None = None
        self.elapsed = 0.0
        self.eta: float | None = None
        self.message: str | None = None
        self.warnings: list[str] = []


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
            initial values of the controls (see :func:`jupyter_llm.train`).
        name: the initial "save as" name.
        seed: fixes a new model's initial weights, the order of its training
            windows and its dropout, so that the same settings train the same
            weights (None: a different model each time). Also ``panel.seed``.
        measure_speed: time the selected size preset on this machine (in the
            background) when the panel is first shown.
        update_interval: seconds between two updates of the progress display.

    Attributes:
        model: the model being or last trained (None before the first run).
        job: the background job of the current or last run; ``wait()`` joins it.
        events: the latest progress events received (a deque).
        error: the exception that ended the last run, if any.
    """

    def __init__(self, data: Any = None, *, column: str | None = None, model: Any = None,
                 namespace: dict[str, Any] | None = None, tokenizer: str = "char", size: str = "small",
                 epochs: int = 1, seq_len: int | None = None, batch_size: int | None = None,
                 learning_rate: float | None = None, steps_per_epoch: int | None = None,
                 validation_split: float = 0.1, sample_prompt: str = "", sample_tokens: int = 120,
                 name: str | None = None, seed: int | None = None, measure_speed: bool = True,
                 update_interval: float = 0.25) -> None:
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise invalid("seed", "an integer or None", seed)
        if size not in SIZES:
            raise invalid("size", f"one of {sorted(SIZES)}", size)
        if tokenizer not in TOKENIZERS:
            raise invalid("tokenizer", f"one of {list(TOKENIZERS)}", tokenizer)
        if model is not None and not is_language_model(model):
            raise invalid("model", "a jupyter_llm LanguageModel to train further, or None", type(model).__name__)
        self._namespace = namespace
        self._given = data
        self.model = model
        self.job: Job | None = None
        self.error: BaseException | None = None
        self.events: collections.deque = collections.deque(maxlen=5000)
        self.samples: list[str] = []
        self.measure_speed = measure_speed
        self.seed = seed
        self._lock = threading.RLock()
        self._run = _Run()
        self._throttle = Throttle(update_interval)
        self._stop_event = threading.Event()
        self._train_points: list[tuple[int, float]] = []
        self._val_points: list[tuple[int, float]] = []
        self._global_step = 0
        self._epoch_mean: float | None = None
        self._ema, self._ema_n = 0.0, 0
        self._estimates: dict[str, estimates.SpeedEstimate] = {}
        self._measuring: str | None = None
        self._measure_job: Job | None = None
        self._measure_stop = threading.Event()
        self._measure_generation = 0
        self._shown = False
        self._build_widgets(tokenizer, size, epochs, seq_len, batch_size, learning_rate, steps_per_epoch,
                            validation_split, sample_prompt, sample_tokens, name)
        self.refresh_variables()
        if isinstance(data, os.PathLike) or (isinstance(data, str) and "\n" not in data and len(data) < 4096
                                             and (os.path.exists(os.path.expanduser(data)) or glob.has_magic(data))):
            self.source.value = "file"
            self.path.value = os.fspath(data)
            self._given = None
            self.refresh_variables()
        if column is not None and column in self.column.options:
            self.column.value = column
        if model is not None:
            self.continue_training.value = True
        self._update_visibility()
        self._render_sizes()
        self._render_data_info()
        self._render_progress()

    # === Widgets ===

    def _build_widgets(self, tokenizer, size, epochs, seq_len, batch_size, learning_rate, steps_per_epoch,
                       validation_split, sample_prompt, sample_tokens, name) -> None:
        L = widgets.Layout
        def desc(width: int) -> dict:
            return {"description_width": f"{width}px"}
        # --- Data ---
        self.source = widgets.ToggleButtons(
            options=[("Variable", "variable"), ("File", "file"), ("Upload", "upload")], value="variable",
            tooltips=["A str, list of str, pandas Series or DataFrame of the notebook",
                      "A text file, or a glob such as data/*.txt", "Upload text files from this computer"],
            style={"button_width": "74px"}, layout=L(width="auto"),
        )
        self.variable = widgets.Dropdown(options=[], description="", layout=L(width="250px"),
                                         tooltip="The notebook's variables that hold text")
        self.refresh_button = widgets.Button(icon="refresh", tooltip="Look for text variables again",
                                             layout=L(width="34px"))
        self.column = widgets.Dropdown(options=[], description="Column", layout=L(width="210px"),
                                       style={"description_width": "52px"}, tooltip="The DataFrame column of text")
        self.path = widgets.Text(placeholder="corpus.txt or data/*.txt", layout=L(width="290px"),
                                 tooltip="A text file, or a glob of text files")
        self.upload = widgets.FileUpload(accept=".txt,.md,.csv,.tsv,.json,.py,.rst,.html,text/*", multiple=True,
                                         description="Upload", layout=L(width="110px"),
                                         tooltip="UTF-8 text files; they are kept in memory")
        self.data_info = widgets.HTML()
        self.data_info.add_class("jl-note")
        # --- Model ---
        self.tokenizer = widgets.Dropdown(
            options=[(t, t) for t in TOKENIZERS], value=tokenizer, description="Tokenizer",
            tooltip="; ".join(f"{k}: {v}" for k, v in _TOKENIZER_HELP.items()),
            layout=L(width="170px"), style={"description_width": "64px"},
        )
        self.size = widgets.ToggleButtons(
            options=[(s, s) for s in SIZES], value=size,
            tooltips=[f"{s}: embedding {c['embedding_dim']}, {c['num_layers']} × GRU({c['rnn_units']}), "
                      f"attention {c['attention_dim']}" for s, c in SIZES.items()],
            style={"button_width": "74px"}, layout=L(width="auto"),
        )
        self.measure_button = widgets.Button(description="Measure all", icon="clock-o", layout=L(width="112px"),
                                             tooltip="Time every size preset on this machine (a few training steps each)")
        self.sizes_info = widgets.HTML()
        # --- Training ---
        self.epochs = widgets.BoundedIntText(value=epochs, min=1, max=100_000, description="Epochs",
                                             layout=L(width="130px"), style=desc(50),
                                             tooltip="Passes over the training text")
        self.seq_len = widgets.BoundedIntText(value=seq_len or _DEFAULTS.seq_len, min=2, max=8192,
                                              description="Seq. length", layout=L(width="160px"), style=desc(76),
                                              tooltip="Tokens per training window; also the attention span")
        self.batch_size = widgets.BoundedIntText(value=batch_size or _DEFAULTS.batch_size, min=1, max=8192,
                                                 description="Batch", layout=L(width="130px"), style=desc(44),
                                                 tooltip="Windows per training step")
        self.learning_rate = widgets.FloatLogSlider(
            value=learning_rate or _DEFAULTS.learning_rate, base=10, min=-5, max=-1, step=0.1,
            description="Learn. rate", readout_format=".1e", continuous_update=False,
            layout=L(width="290px"), style=desc(76), tooltip="Adam's learning rate",
        )
        self.steps_per_epoch = widgets.BoundedIntText(
            value=steps_per_epoch or 0, min=0, max=10_000_000, description="Steps/epoch",
            layout=L(width="170px"), style=desc(84), tooltip="Batches per epoch; 0: one pass over the text",
        )
        self.validation_split = widgets.FloatSlider(
            value=validation_split, min=0.0, max=0.5, step=0.05, description="Validation",
            readout_format=".0%", continuous_update=False, layout=L(width="250px"), style=desc(70),
            tooltip="The last part of the text held back to measure the validation loss (0: none)",
        )
        self.sample_prompt = widgets.Text(value=sample_prompt, description="Sample", placeholder="prompt of the sample",
                                          layout=L(width="260px"), style=desc(54),
                                          tooltip="A text is generated from this prompt after each epoch")
        self.sample_tokens = sample_tokens
        self.continue_training = widgets.Checkbox(
            value=False, description="continue training the current model", indent=False,
            layout=L(width="auto"), tooltip="Keep the current model's weights, tokenizer, size, sequence length, "
            "batch size and learning rate; train it for more epochs",
        )
        self.train_button = widgets.Button(description="Train", icon="play", button_style="primary",
                                           layout=L(width="96px"), tooltip="Start training in the background")
        self.stop_button = widgets.Button(description="Stop", icon="stop", disabled=True, layout=L(width="96px"),
                                          tooltip="Stop after the current step; the weights trained so far are kept")
        # --- Progress ---
        self.status = widgets.HTML()
        self.status.add_class("jl-status")
        self.progress = widgets.FloatProgress(value=0.0, min=0.0, max=1.0, layout=L(width="100%"))
        self.progress_text = widgets.HTML()
        self.progress_text.add_class("jl-note")
        self.progress_text.add_class("jl-progress-text")
        self.chart = widgets.HTML()
        self.chart.add_class("jl-chart")
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
        self.save_status = widgets.HTML()
        self.save_status.add_class("jl-note")

        # --- Layout ---
        title = widgets.HTML('<span class="jl-title">Train a language model</span>')
        header = widgets.HBox([title], layout=L(width="100%"))
        header.add_class("jl-header")
        self.data_info.layout = L(flex="1 1 200px", margin="0 0 0 8px")
        self.save_status.layout = L(margin="0 0 0 8px")
        results = widgets.HBox([self.chart, widgets.VBox([self.sample, self.summary],
                                                         layout=L(flex="1 1 300px", min_width="280px"))],
                               layout=L(flex_flow="row wrap", align_items="flex-start", width="100%"))
        progress = widgets.VBox([self.status, self.progress, self.progress_text, results],
                                layout=L(flex="1 1 0%", min_width="0"))
        super().__init__([
            style_widget(), header,
            section("Data", self.source, self.variable, self.refresh_button, self.column, self.path, self.upload,
                    self.data_info),
            section("Model", self.tokenizer, self.size, self.measure_button),
            section("", self.sizes_info),
            section("Training", self.epochs, self.seq_len, self.batch_size, self.steps_per_epoch),
            section("", self.learning_rate, self.validation_split, self.sample_prompt),
            section("", self.train_button, self.stop_button, self.continue_training),
            section("Progress", progress, align="flex-start"),
            section("Save", self.save_name, self.overwrite, self.save_button, self.save_status),
        ])
        self.add_class("jl-panel")
        self.add_class("jl-training-panel")

        # --- Events ---
        self.source.observe(self._on_source, names="value")
        self.variable.observe(self._on_data_change, names="value")
        self.column.observe(self._on_data_change, names="value")
        self.path.observe(self._on_data_change, names="value")
        self.upload.observe(self._on_data_change, names="value")
        self.refresh_button.on_click(lambda _: self.refresh_variables())
        for w in (self.tokenizer, self.seq_len, self.batch_size):
            w.observe(self._on_speed_settings, names="value")
        self.size.observe(self._on_size, names="value")
        for w in (self.steps_per_epoch, self.validation_split):
            w.observe(lambda _: (self._render_sizes(), self._render_data_info()), names="value")
        self.measure_button.on_click(lambda _: self.measure(sizes=tuple(SIZES)))
        self.continue_training.observe(lambda _: self._update_visibility(), names="value")
        self.train_button.on_click(lambda _: self.train())
        self.stop_button.on_click(lambda _: self.stop())
        self.save_button.on_click(lambda _: self.save())

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        # Showing the panel is the moment to time the chosen size, once, in the background.
        if not self._shown:
            self._shown = True
            if self.measure_speed:
                self.measure()
        return super()._repr_mimebundle_(**kwargs)

    # === Data ===

    @property
    def namespace(self) -> dict[str, Any]:
        return self._namespace if self._namespace is not None else user_namespace()

    def refresh_variables(self) -> None:
        """List the notebook's text variables again (keeping the selection when it still exists)."""
        options = []
        if self._given is not None:
            from ._namespace import describe_data

            options.append((f"(given) — {describe_data(self._given) or type(self._given).__name__}", _GIVEN))
        options += [(f"{name} — {desc}", name) for name, desc in data_variables(self.namespace)]
        current = self.variable.value
        self.variable.options = options
        values = [v for _, v in options]
        if current in values:
            self.variable.value = current
        elif values:
            self.variable.value = values[0]
        self._update_columns()
        self._render_data_info()

    def _variable_value(self) -> Any:
        name = self.variable.value
        if name == _GIVEN:
            return self._given
        if name is None:
            return None
        return self.namespace.get(name)

    def _update_columns(self) -> None:
        value = self._variable_value() if self.source.value == "variable" else None
        if kind_of(value) == "pandas.DataFrame":
            texty = text_columns(value)
            others = [str(c) for c in value.columns if str(c) not in texty]
            current = self.column.value
            self.column.options = texty + others
            self.column.value = current if current in texty + others else (texty[0] if texty else None)
            self.column.layout.display = None
        else:
            self.column.layout.display = "none"

    def _on_source(self, change: dict) -> None:
        self._update_visibility()
        self._update_columns()
        self._render_data_info()

    def _on_data_change(self, change: dict) -> None:
        if change["owner"] is self.variable:
            self._update_columns()
        self._render_data_info()
        self._render_sizes()

    def _update_visibility(self) -> None:
        mode = self.source.value
        for w, visible in ((self.variable, mode == "variable"), (self.refresh_button, mode == "variable"),
                           (self.path, mode == "file"), (self.upload, mode == "upload")):
            w.layout.display = None if visible else "none"
        has_model = self.model is not None
        self.continue_training.layout.display = None if has_model else "none"
        cont = has_model and self.continue_training.value
        if cont:
            c = self.model.config
            self.seq_len.value, self.batch_size.value = c.seq_len, c.batch_size
            self.learning_rate.value = c.learning_rate
            self.tokenizer.value = self.model.tokenizer.kind if self.model.tokenizer.kind in TOKENIZERS else "char"
        running = self.running
        for w in (self.tokenizer, self.size, self.seq_len, self.batch_size, self.learning_rate):
            w.disabled = running or cont
        for w in (self.source, self.variable, self.refresh_button, self.column, self.path, self.upload, self.epochs,
                  self.steps_per_epoch, self.validation_split, self.sample_prompt, self.continue_training,
                  self.measure_button):
            w.disabled = running
        self.train_button.disabled = running
        self.stop_button.disabled = not running
        self.save_button.disabled = running or self.model is None

    def _resolve_source(self) -> tuple[Any, str | None, str]:
        """``(source, column, description)`` for ``train``; raises a one-sentence error."""
        mode = self.source.value
        if mode == "variable":
            name = self.variable.value
            if name is None:
                raise DataError("No text variable is selected. Expected a str, list of str, pandas Series or "
                                "DataFrame in the notebook (press ↻ after defining one), or choose File.")
            value = self._variable_value()
            if value is None:
                raise DataError(f"The variable '{name}' is no longer defined. Expected a variable of the notebook; "
                                "press ↻ to list them again.")
            column = self.column.value if kind_of(value) == "pandas.DataFrame" else None
            label = "the given data" if name == _GIVEN else f"variable '{name}'"
            return value, column, label + (f", column '{column}'" if column else "")
        if mode == "file":
            path = self.path.value.strip()
            if not path:
                raise DataError("No file is given. Expected the path of a text file or a glob such as 'data/*.txt'.")
            return Path(path), None, f"'{path}'"
        files = self.upload.value
        if not files:
            raise DataError("No file is uploaded. Expected one or more UTF-8 text files (press Upload).")
        texts = []
        for f in files:
            try:
                texts.append(bytes(f["content"]).decode("utf-8"))
            except UnicodeDecodeError:
                raise DataError(f"'{f['name']}' is not UTF-8 text. Expected text files saved as UTF-8.") from None
        names = ", ".join(f"'{f['name']}'" for f in files)
        return texts, None, f"uploaded {names}"

    def _data_chars(self) -> int | None:
        """Characters of the chosen text (bytes for files), or None when unknown."""
        mode = self.source.value
        try:
            if mode == "variable":
                value = self._variable_value()
                column = self.column.value if kind_of(value) == "pandas.DataFrame" else None
                return count_chars(value, column) if value is not None else None
            if mode == "file":
                path = os.path.expanduser(self.path.value.strip())
                if not path:
                    return None
                paths = glob.glob(path, recursive=True) if glob.has_magic(path) else [path]
                return sum(os.path.getsize(p) for p in paths if os.path.isfile(p)) or None
            return sum(int(f["size"]) for f in self.upload.value) or None
        except (OSError, KeyError, TypeError, ValueError):
            return None

    def _data_sample(self, limit: int = estimates.SAMPLE_CHARS) -> str | None:
        """The first ``limit`` characters of the chosen text, for timing (None: use synthetic text)."""
        try:
            source, column, _ = self._resolve_source()
        except JupyterLLMError:
            return None
        try:
            if isinstance(source, str):
                return source[:limit] or None
            if isinstance(source, Path):
                path = os.path.expanduser(str(source))
                paths = sorted(glob.glob(path, recursive=True)) if glob.has_magic(path) else [path]
                with open(paths[0], encoding="utf-8", errors="replace") as f:
                    return f.read(limit) or None
            if kind_of(source) == "pandas.DataFrame":
                source = source[column]
            if kind_of(source) == "pandas.Series":
                source = source.dropna()
            pieces, total = [], 0
            for item in source:
                if not isinstance(item, str):
                    return None
                pieces.append(item)
                total += len(item) + 1
                if total >= limit:
                    break
            return "\n".join(pieces)[:limit] or None
        except (OSError, IndexError, KeyError, TypeError):
            return None

    def _epoch_tokens(self, chars_per_token: float | None) -> float | None:
        steps = self.steps_per_epoch.value
        if steps:
            return steps * self.seq_len.value * self.batch_size.value
        chars = self._data_chars()
        if chars is None:
            return None
        cpt = chars_per_token or _CHARS_PER_TOKEN.get(self.tokenizer.value, 1.0)
        return chars * (1 - self.validation_split.value) / cpt

    def _render_data_info(self) -> None:
        chars = self._data_chars()
        if chars is None:
            hint = {"variable": "Define a text variable and press ↻, or choose File or Upload.",
                    "file": "Type a path or a glob.", "upload": "Choose files to upload."}[self.source.value]
            self.data_info.value = esc(hint) if self._nothing_chosen() else "size unknown"
            return
        unit = "bytes" if self.source.value == "file" else "characters"
        cpt = _CHARS_PER_TOKEN.get(self.tokenizer.value, 1.0)
        train = chars * (1 - self.validation_split.value) / cpt
        approx = "" if self.tokenizer.value == "char" else "about "
        self.data_info.value = (f"{chars:,} {unit}: {approx}{fmt_count(train)} tokens to train on, "
                                f"{self.validation_split.value:.0%} held back for validation")

    def _nothing_chosen(self) -> bool:
        mode = self.source.value
        return ((mode == "variable" and self.variable.value is None) or (mode == "file" and not self.path.value.strip())
                or (mode == "upload" and not self.upload.value))

    # === Speed of the size presets ===

    def _speed_key(self) -> tuple[int, int, str]:
        return self.seq_len.value, self.batch_size.value, self.tokenizer.value

    def _on_speed_settings(self, change: dict) -> None:
        self._estimates = {}
        self._render_sizes()
        self._render_data_info()
        if self._shown and self.measure_speed and not self.running:
            self.measure()

    def _on_size(self, change: dict) -> None:
        self._render_sizes()
        est = self._estimates.get(self.size.value)
        if self._shown and self.measure_speed and not self.running and not (est and est.measured):
            self.measure()

    def measure(self, sizes: tuple[str, ...] | None = None, wait: bool = False) -> Job:
        """Time size presets on this machine in the background (default: the selected one).

        The first of ``sizes`` is timed first; the parameter count of every
        preset is known after the first measurement. ``wait=True`` blocks until done.
        """
        sizes = tuple(sizes or (self.size.value,))
        self._measure_stop.set()
        stop = self._measure_stop = threading.Event()
        self._measure_generation += 1
        generation = self._measure_generation
        seq_len, batch_size, tokenizer = self._speed_key()
        sample = self._data_sample()

        def run() -> None:
            for size in sizes:
                if stop.is_set():
                    return
                if not estimates.is_measured(size, seq_len, batch_size, tokenizer, sample):
                    self._measuring = size
                    self._render_sizes()
                result = estimates.measure(size, seq_len=seq_len, batch_size=batch_size, tokenizer=tokenizer,
                                           sample=sample, stop_event=stop)
                if generation == self._measure_generation:
                    self._estimates = result

        def done(job: Job) -> None:
            if generation == self._measure_generation:
                self._measuring = None
                if job.error is not None:
                    self.sizes_info.value = error_html(job.error)
                else:
                    self._render_sizes()

        self._measure_job = Job(run, "jupyter_llm-measure", done).start()
        if wait:
            self._measure_job.wait()
        return self._measure_job

    def _stop_measuring(self, timeout: float = 120.0) -> None:
        self._measure_stop.set()
        job = self._measure_job
        if job is not None:
            job.wait(timeout)

    def _render_sizes(self) -> None:
        cpt = None
        for est in self._estimates.values():
            cpt = est.chars_per_token or cpt
        tokens = self._epoch_tokens(cpt)
        rows = ["<tr><th>size</th><th>parameters</th><th>time per epoch</th><th>speed</th></tr>"]
        for size in SIZES:
            est = self._estimates.get(size)
            if self._measuring == size:
                params, per_epoch, speed = (fmt_count(est.parameters) if est else "…"), "measuring…", ""
            elif est is None:
                params, per_epoch, speed = "–", "not measured", ""
            else:
                params = fmt_count(est.parameters)
                seconds = est.seconds_per_epoch(tokens)
                how = "measured" if est.measured else est.basis
                per_epoch = f"≈ {fmt_duration(seconds)} ({how})" if seconds is not None else f"({how})"
                speed = f"{fmt_count(est.tokens_per_second)} tokens/s" if est.tokens_per_second else ""
            chosen = ' class="jl-chosen"' if size == self.size.value else ""
            rows.append(f'<tr{chosen}><td>{esc(size)}</td><td class="jl-num">{esc(params)}</td>'
                        f"<td>{esc(per_epoch)}</td><td>{esc(speed)}</td></tr>")
        title = ("Measured here with a few training steps at this sequence length and batch size; "
                 "'scaled' is a measured preset's speed scaled by the number of parameters.")
        self.sizes_info.value = f'<table class="jl-sizes" title="{esc(title)}">{"".join(rows)}</table>'

    # === Training ===

    @property
    def running(self) -> bool:
        """Whether a training run is in progress."""
        return self.job is not None and self.job.running

    def _settings(self) -> _Settings:
        source, column, description = self._resolve_source()
        steps = self.steps_per_epoch.value or None
        return _Settings(
            source=source, column=column, description=description, tokenizer=self.tokenizer.value,
            size=self.size.value, epochs=int(self.epochs.value), seq_len=int(self.seq_len.value),
            batch_size=int(self.batch_size.value), learning_rate=float(self.learning_rate.value),
            steps_per_epoch=steps, validation_split=round(float(self.validation_split.value), 4),
            sample_prompt=self.sample_prompt.value, sample_tokens=int(self.sample_tokens),
            continue_training=bool(self.continue_training.value and self.model is not None),
            seed=self.seed,
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
            return None
        self.error = None
        self._stop_event = threading.Event()
        self._throttle.reset()
        with self._lock:
            self._run = _Run()
            self._run.phase = "preparing"
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

    def _train(self, s: _Settings) -> Any:
        """The background job: build (or reuse) the model, then ``jl.train`` it."""
        self._stop_measuring()
        if self._stop_event.is_set():
            return None
        import jupyter_llm as jl

        if s.continue_training:
            lm = self.model
        else:
            lm = _new_model(s)
            self.model = lm  # kept from now on, whatever happens to the run
            with self._lock:
                self._train_points, self._val_points, self._global_step = [], [], 0
                self._ema, self._ema_n = 0.0, 0
            self.samples = []
        return jl.train(
            s.source, model=lm, epochs=s.epochs, validation_split=s.validation_split, column=s.column,
            steps_per_epoch=s.steps_per_epoch, on_progress=self._on_progress, progress=False,
            stop_event=self._stop_event, sample_prompt=s.sample_prompt or None, sample_tokens=s.sample_tokens,
        )

    def _on_progress(self, event: Any) -> None:
        """A ProgressEvent from the training thread: record it, update the display now and then."""
        self.events.append(event)
        with self._lock:
            run = self._run
            run.phase = "training"
            run.epoch, run.epochs, run.elapsed = event.epoch, event.epochs, event.elapsed
            if event.kind == "step":
                self._global_step += 1
                run.step, run.steps = event.step, event.steps
                run.loss, run.tokens_per_second, run.eta = event.loss, event.tokens_per_second, event.eta
                if event.loss is not None:
                    self._train_points.append((self._global_step, self._smooth(event.step, event.loss)))
            elif event.kind == "epoch_end":
                run.eta = None
                if event.val_loss is not None:
                    self._val_points.append((self._global_step, event.val_loss))
            elif event.kind == "warning" and event.message:
                run.warnings.append(event.message)
            elif event.kind == "train_end":
                run.message = event.message
        if event.kind == "sample" and event.sample is not None:
            self.samples.append(event.sample)
            self._render_sample(event.epoch, event.sample)
        if event.kind != "step" or self._throttle.ready():
            self._render_progress()
            self._render_chart()

    def _smooth(self, step: int, mean: float) -> float:
        """The loss curve's next point: an average of the last ~10 steps' losses.

        The events carry the running mean of the epoch (as Keras reports it);
        the loss of step k is ``k * mean_k - (k - 1) * mean_(k-1)``.
        """
        loss = mean if step == 1 or self._epoch_mean is None else step * mean - (step - 1) * self._epoch_mean
        self._epoch_mean = mean
        self._ema_n += 1
        self._ema = _EMA * self._ema + (1 - _EMA) * loss
        return self._ema / (1 - _EMA ** self._ema_n)

    def _on_done(self, job: Job) -> None:
        """On the training thread, after the run: the final state of every widget."""
        self.error = job.error
        with self._lock:
            self._run.phase = "done"
        if job.error is None and job.result is not None:
            self.model = job.result
        self._render_progress()
        self._render_chart()
        self._render_summary()
        self._update_visibility()

    # === Rendering ===

    def _render_progress(self) -> None:
        with self._lock:
            run = self._run
            phase, epoch, epochs, step, steps = run.phase, run.epoch, run.epochs, run.step, run.steps
            loss, tps, eta, elapsed, message = run.loss, run.tokens_per_second, run.eta, run.elapsed, run.message
            warnings_ = list(run.warnings)
        if epochs and steps:
            done = ((max(epoch, 1) - 1) * steps + step) / (epochs * steps)
        elif eta is not None and elapsed + eta > 0:
            done = elapsed / (elapsed + eta)
        else:
            done = 0.0
        parts = []
        if epochs:
            parts.append(f"epoch {epoch}/{epochs}")
        if step:
            parts.append(f"step {step:,}/{steps:,}" if steps else f"step {step:,}")
        if tps:
            parts.append(f"{tps:,.0f} tokens/s")
        if phase == "training" and eta is not None:
            parts.append(f"ETA {fmt_duration(eta)}")
        if elapsed:
            parts.append(f"{fmt_duration(elapsed)} elapsed")
        if loss is not None:
            parts.append(f"loss {loss:.3f}")
        self.progress_text.value = esc(" · ".join(parts)) if parts else ""
        if phase == "idle":
            self.progress.value = 0.0
            self.status.value = esc("Ready: choose the text and the settings, then press Train.")
            return
        if phase in ("preparing", "training"):
            self.progress.value = min(done, 1.0)
            self.progress.bar_style = "info"
            if phase == "training":
                stopping = " (stopping after this step…)" if self._stop_event.is_set() else ""
                self.status.value = esc(f"Training{stopping}") + "".join(
                    f'<div class="jl-warn">{esc(w)}</div>' for w in warnings_)
            return
        # The run is over.
        error = self.error
        notes = "".join(f'<div class="jl-warn">{esc(w)}</div>' for w in warnings_)
        if error is not None:
            self.progress.bar_style = "danger"
            details = None if isinstance(error, JupyterLLMError) else (self.job.traceback if self.job else None)
            kept = ('<div class="jl-note">The weights trained so far are kept: <code>panel.model</code>.</div>'
                    if self.model is not None else "")
            self.status.value = error_html(error, details) + kept + notes
            return
        stopped = self._stop_event.is_set() or (message or "").startswith(("Training stopped", "Early stopping"))
        self.progress.value = 1.0 if not stopped else min(done, 1.0)
        self.progress.bar_style = "warning" if stopped else "success"
        kept = " The weights trained so far are kept." if stopped else ""
        css = "jl-warn" if stopped else "jl-ok"
        self.status.value = f'<span class="{css}">{esc((message or "Training ended.") + kept)}</span>{notes}'

    def _render_chart(self) -> None:
        with self._lock:
            train, val = list(self._train_points), list(self._val_points)
        self.chart.value = loss_chart_svg(train, val, train_label="training (smoothed)")

    def _render_sample(self, epoch: int, text: str) -> None:
        self.sample.value = (f'<div class="jl-sample-title">Sample after epoch {epoch}</div>'
                             f'<pre class="jl-text" style="max-height:140px">{esc(text)}</pre>')

    def _render_summary(self) -> None:
        lm = self.model
        if lm is None:
            self.summary.value = ""
            return
        metrics = lm.metadata.get("metrics") or {}
        rows = [("model", f"{lm.num_parameters:,} parameters, {lm.tokenizer.kind} tokenizer "
                          f"({lm.config.vocab_size:,} tokens)")]
        if metrics:
            rows.append(("epochs completed", f"{metrics.get('epochs_completed', 0)}"))
            partial = metrics.get("partial_epoch")
            if partial:
                rows.append(("stopped in", f"epoch {partial['epoch']} after {partial['steps']:,} step(s) "
                                           "(not counted as completed; its weights are kept)"))
            if metrics.get("loss") is not None:
                rows.append(("training loss", f"{metrics['loss']:.3f} nats/token"))
            if metrics.get("val_loss") is not None:
                bpc = metrics.get("val_bits_per_char")
                extra = f" ({bpc:.2f} bits/char)" if bpc is not None else ""
                rows.append(("validation loss", f"{metrics['val_loss']:.3f} nats/token{extra}"))
            seconds = metrics.get("train_seconds")
            tokens = metrics.get("tokens_seen")
            if seconds is not None:
                rows.append(("time", fmt_duration(seconds)))
            if tokens:
                rows.append(("tokens seen", f"{tokens:,}"))
        table = "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in rows)
        self.summary.value = f"<table>{table}</table>"

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


def _new_model(s: _Settings) -> Any:
    """A new, untrained model for the settings, built before training so the panel holds it.

    ``jl.train`` builds its model internally and returns it only at the end; an
    error in the middle of a run would lose the weights trained so far. Building
    it here, as ``train`` would, and passing it as ``model=`` keeps it.
    """
    from ..model.language_model import LanguageModel
    from ..text.sources import TextSource
    from ..text.tokenizers import fit_tokenizer

    config = ModelConfig.from_size(s.size, seq_len=s.seq_len, batch_size=s.batch_size, learning_rate=s.learning_rate,
                                   seed=s.seed)
    src = TextSource.from_any(s.source, column=s.column)
    if src.is_blank():
        raise DataError(f"The training text ({src.description}) is empty or only whitespace. Expected some text to learn from.")
    tokenizer = fit_tokenizer(s.tokenizer, src.iter_chunks())
    return LanguageModel.build(config, tokenizer)
