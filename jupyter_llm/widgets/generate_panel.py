"""``GeneratePanel``: pick a model, write a prompt, and watch the text stream in.

A thin view over :meth:`LanguageModel.stream`: generation runs in a background
thread (:attr:`GeneratePanel.job`) so that Stop works, and the text is shown as
it is made, a few times a second. "Copy" uses the browser's clipboard; "Insert
below" puts the text in a new cell below the panel's (a Markdown cell unless
the user picks Code), see :mod:`jupyter_llm.widgets.insert`. "Explain" shows why
each token of the result came out (:func:`jupyter_llm.model.explain.explain_trace`),
with the spans copied from the training text marked when the model has an index.

>>> GeneratePanel(lm, prompt="ROMEO:")    # doctest: +SKIP
"""

from __future__ import annotations

import threading
import time
import uuid
import warnings
from typing import Any

import ipywidgets as widgets

from ..errors import JupyterLLMError, invalid
from ..generation.options import GENERATION, VIEWS
from ..resolver import Resolved, Resolver, is_language_model
from ..shell import current_state
from ._namespace import user_namespace
from ._theme import error_html, esc, message, section, style_widget
from ._threads import Job, Throttle
from .insert import FLUSHED, insert_below

# The Copy button runs in the browser: the kernel cannot reach the user's clipboard.
_COPY_JS = (
    "var b=this,h=b.innerHTML,a=b.parentNode.querySelector('textarea');"
    "function ok(){b.innerHTML='\\u2713 Copied';setTimeout(function(){b.innerHTML=h},1500)}"
    "function fb(){a.style.display='block';a.select();try{document.execCommand('copy');ok()}catch(e){}"
    "a.style.display='none'}"
    "if(navigator.clipboard&&window.isSecureContext){navigator.clipboard.writeText(a.value).then(ok,fb)}else{fb()}"
)


class GeneratePanel(widgets.VBox):
    """Generate text with a model interactively.

    Args:
        model: a LanguageModel, or a name or key of the listing (``"poems"``,
            ``"saved:shakespeare"``); a name means what it means to ``%%generate``
            (:mod:`jupyter_llm.resolver`). By default the notebook's default model
            (``%llm use``), else the first one listed.
        prompt: the initial prompt.
        namespace: where to look for LanguageModel variables (default: the notebook's).
        max_tokens, temperature, top_k, top_p, repetition_penalty, seed, n:
            the initial values of the controls (see :meth:`LanguageModel.generate`;
            None: the defaults of ``jupyter_llm.generation.options.GENERATION``);
            ``top_k=0`` and ``top_p=1.0`` mean off, ``seed=None`` random.
        resolver: the model resolver to list and load with (default: the shell's).
        attention: show the attention view of the result.
        explain: show the Explain view of the result: each token shaded by surprisal, its
            alternatives and logit split on hover or focus, copied spans marked.
        update_interval: seconds between two updates of the streamed text.

    Attributes:
        model: the selected LanguageModel (None until one is picked and loaded).
        texts: the generated texts (one per sample), without the prompt.
        explanations: the :class:`~jupyter_llm.Explanation` of each text, once the Explain view has shown them.
        explain_job: the background job of an Explain pressed after a generation (else the generation's
            job explains, when Explain is on as it ends).
        job: the background job of the current or last generation; ``wait()`` joins it.
        renders: how many times the streamed output was redrawn.
    """

    def __init__(self, model: Any = None, *, prompt: str = "", namespace: dict[str, Any] | None = None,
                 max_tokens: int | None = None, temperature: float | None = None, top_k: int = 0, top_p: float = 1.0,
                 repetition_penalty: float | None = None, seed: int | None = None, n: int | None = None,
                 attention: bool = False, explain: bool = False, update_interval: float = 0.1,
                 resolver: Resolver | None = None) -> None:
        if model is not None and not isinstance(model, str) and not is_language_model(model):
            raise invalid("model", "a LanguageModel, the name of a saved model, or None", type(model).__name__)
        explain = VIEWS["explain"].check(explain, "panel")
        self._namespace = namespace
        self.resolver = resolver or _resolver_for(namespace, lambda: self.namespace)
        self._given = Resolved(model, model.name or "the model passed in", "memory") if is_language_model(model) else None
        self.model: Any = model if self._given is not None else None
        self.texts: list[str] = []
        self.prompt_used = ""
        self.attention_map: Any = None
        self.explanations: list[Any] = []
        self.explain_job: Job | None = None
        self._trace: Any = None
        self.error: BaseException | None = None
        self.job: Job | None = None
        self._load_job: Job | None = None
        self._loading: str | None = None
        self.renders = 0
        self._steps = 0
        self._seconds = 0.0
        self._notes: list[str] = []
        self._stop_event = threading.Event()
        self._throttle = Throttle(update_interval)
        panel = {name: GENERATION[name].default_for("panel") for name in GENERATION}
        self._build_widgets(prompt, panel["max_tokens"] if max_tokens is None else max_tokens,
                            panel["temperature"] if temperature is None else temperature, top_k, top_p,
                            panel["repetition_penalty"] if repetition_penalty is None else repetition_penalty,
                            seed, panel["n"] if n is None else n, attention, explain)
        wanted = self._wanted_key(model)
        self.refresh_models(wanted=wanted)
        if isinstance(model, str) and (wanted is None or self.picker.value != wanted):
            # Not in the listing: a model folder is loaded now and shown first; an unknown name is one sentence.
            self._given = self.resolver.resolve(model)
            self.refresh_models()
            self.picker.value = self._given.key
        self._on_pick(None)

    # === Widgets ===

    def _build_widgets(self, prompt, max_tokens, temperature, top_k, top_p, repetition_penalty, seed, n,
                       attention, explain) -> None:
        L = widgets.Layout
        st = {"description_width": "86px"}
        self.picker = widgets.Dropdown(options=[], layout=L(width="280px"),
                                       tooltip="A model of the notebook or of the model store")
        self.refresh_button = widgets.Button(icon="refresh", tooltip="Look for models again", layout=L(width="34px"))
        self.model_info = widgets.HTML()
        self.model_info.add_class("jl-note")
        self.prompt = widgets.Textarea(value=prompt, placeholder="Prompt (empty: start a new text)", rows=3,
                                       layout=L(flex="1 1 0%", min_width="0"), tooltip="The text to continue")
        self.temperature = widgets.FloatSlider(value=temperature, **_reach("temperature"), description="Temperature",
                                               readout_format=".2f", style=st, layout=L(width="100%"),
                                               tooltip="Below 1: more conservative; above 1: more surprising")
        self.top_k = widgets.IntSlider(value=top_k, **_reach("top_k"), description="Top-k", style=st,
                                       layout=L(width="100%"), tooltip="Sample among the k most likely tokens (0: off)")
        self.top_p = widgets.FloatSlider(value=top_p, **_reach("top_p"), description="Top-p",
                                         readout_format=".2f", style=st, layout=L(width="100%"),
                                         tooltip="Sample among the most likely tokens whose probabilities add up "
                                                 "to p (1.00: off)")
        self.max_tokens = widgets.IntSlider(value=max_tokens, **_reach("max_tokens"), description="Max tokens", style=st,
                                            layout=L(width="100%"), tooltip="How many tokens to generate at most")
        self.repetition_penalty = widgets.FloatSlider(
            value=repetition_penalty, **_reach("repetition_penalty"), description="Rep. penalty", readout_format=".2f",
            style=st, layout=L(width="100%"), tooltip="Above 1 discourages tokens already used (1.00: off)")
        self.seed = widgets.Text(value="" if seed is None else str(seed), placeholder="random", description="Seed",
                                 style=st, layout=L(width="170px"),
                                 tooltip="The same seed gives the same text; empty: random")
        self.n = widgets.BoundedIntText(value=n, **_reach("n"), description="Samples", style={"description_width": "56px"},
                                        layout=L(width="116px"),
                                        tooltip="How many texts to generate from the prompt, together")
        self.generate_button = widgets.Button(description="Generate", icon="play", button_style="primary",
                                              layout=L(width="110px"), tooltip="Generate in the background")
        self.stop_button = widgets.Button(description="Stop", icon="stop", disabled=True, layout=L(width="84px"),
                                          tooltip="Stop generating; the text so far is kept")
        self.insert_button = widgets.Button(description="Insert below", icon="arrow-down", disabled=True,
                                            layout=L(width="120px"), tooltip="Put the text in a new cell below")
        self.insert_as = widgets.Dropdown(options=[("as Markdown", "markdown"), ("as code", "code")],
                                          value="markdown", layout=L(width="120px"),
                                          tooltip="The type of the cell Insert below makes")
        self.copy = widgets.HTML(_copy_html("", enabled=False))
        self.copy.add_class("jl-copy-widget")
        self.attention_toggle = widgets.ToggleButton(value=attention, description="Attention", icon="eye",
                                                     layout=L(width="110px"),
                                                     tooltip="Show what each token of the result attended to")
        self.explain_toggle = widgets.ToggleButton(value=explain, description="Explain", icon="search",
                                                   layout=L(width="110px"),
                                                   tooltip="Show why each token of the result came out: its "
                                                           "probability, its alternatives, what attention added, "
                                                           "and text copied from the training text")
        self.output = widgets.HTML()
        self.status = widgets.HTML()
        self.status.add_class("jl-status")
        self.attention_box = widgets.VBox()
        # The explanations' mime bundles: JupyterLab's renderer where the extension is, static HTML elsewhere.
        self.explain_box = widgets.Output(layout=L(display=None if explain else "none"))
        self.explain_box.add_class("jl-explain-box")

        title = widgets.HTML('<span class="jl-title">Generate text</span>')
        header = widgets.HBox([title], layout=L(width="100%"))
        header.add_class("jl-header")
        small = widgets.HBox([self.seed, self.n], layout=L(width="100%"))
        grid = widgets.GridBox(
            [self.temperature, self.top_k, self.top_p, self.max_tokens, self.repetition_penalty, small],
            layout=L(grid_template_columns="repeat(auto-fill, minmax(290px, 1fr))", grid_gap="0 16px",
                     flex="1 1 0%", min_width="0"),
        )
        buttons = widgets.HBox([self.generate_button, self.stop_button, self.insert_button, self.insert_as,
                                self.copy, self.attention_toggle, self.explain_toggle],
                               layout=L(align_items="center", flex_flow="row wrap"))
        super().__init__([
            style_widget(), header,
            section("Model", self.picker, self.refresh_button, self.model_info),
            section("Prompt", self.prompt),
            section("Sampling", grid),
            section("", buttons),
            self.output, self.status, self.attention_box, self.explain_box,
        ])
        self.add_class("jl-panel")
        self.add_class("jl-generate-panel")
        #: A CSS class of this panel only: the front end inserts the cell below the cell that shows it.
        self.anchor = f"jl-anchor-{uuid.uuid4().hex[:12]}"
        self.add_class(self.anchor)
        self._render_output()

        self.picker.observe(self._on_pick, names="value")
        self.refresh_button.on_click(lambda _: self.refresh_models())
        self.generate_button.on_click(lambda _: self.generate())
        self.stop_button.on_click(lambda _: self.stop())
        self.insert_button.on_click(lambda _: self.insert())
        self.attention_toggle.observe(self._on_attention_toggle, names="value")
        self.explain_toggle.observe(self._on_explain_toggle, names="value")

    # === Models ===

    @property
    def namespace(self) -> dict[str, Any]:
        return self._namespace if self._namespace is not None else user_namespace()

    def refresh_models(self, wanted: str | None = None) -> None:
        """List the models again: the given one, the notebook's variables, the saved and bundled ones.

        One entry per model, keyed ``origin:name`` by the resolver, so a saved and a
        bundled model of one name stay two choices. The choice stays if it is still
        listed; else ``wanted``, else the notebook's chosen model, else the first.
        """
        try:
            entries = self.resolver.list()
        except OSError:
            entries = []
        options = [(e.label, e.key) for e in entries]
        given = self._given
        for extra in reversed(self._in_memory()):  # models no listing has: shown first, unless a variable holds them
            if not any(e.origin == "variable" and self.namespace.get(e.name) is extra.model for e in entries):
                options.insert(0, (extra.label, extra.key))
        values = [v for _, v in options]
        if given is not None and given.key not in values:  # the given model is a variable: pick it
            wanted = wanted or next(k for k in values if self.namespace.get(k.partition(":")[2]) is given.model)
        current = self.picker.value
        self.picker.options = options
        for choice in (current, wanted, self._default_key()):
            if choice in values:
                self.picker.value = choice
                return
        if values:
            self.picker.value = values[0]

    def _in_memory(self) -> list[Resolved]:
        """Models in no listing: the one passed in, and the notebook's unsaved model (``%llm train`` without a name)."""
        extras = [self._given] if self._given is not None else []
        current = self.resolver.current
        if current is not None and current.origin == "memory" and all(current.model is not r.model for r in extras):
            extras.append(current)
        return extras

    def _wanted_key(self, model: Any) -> str | None:
        """The key of the model the constructor was given by name (a name means what it means everywhere)."""
        if self._given is not None:
            return self._given.key
        if model is None:
            return None
        try:
            return self.resolver.key_for(model)
        except JupyterLLMError:
            return None

    def _default_key(self) -> str | None:
        """The notebook's chosen model (``%llm use``, ``%llm train``, ``JupyterLLM.default_model``), if any.

        Without a choice the first listed model is picked (the notebook's own variables come first).
        """
        try:
            return self.resolver.default_key() if self.resolver.has_choice() else None
        except (JupyterLLMError, OSError):
            return None

    def _on_pick(self, change: Any) -> None:
        key = self.picker.value
        if key is None:
            self.model = None
            self.model_info.value = esc("No model yet: train one (jl.train or TrainingPanel) or save one, then press ↻.")
            return
        extra = next((r for r in self._in_memory() if r.key == key), None)
        if extra is not None:
            self._set_model(extra.model)
            return
        if key.startswith("variable:"):
            try:
                self._set_model(self.resolver.resolve(key).model)
            except JupyterLLMError as e:
                self.model = None
                self.model_info.value = error_html(e)
            return
        if self._load_job is not None and self._load_job.running and self._loading == key:
            return
        self.model = None
        self._loading = key
        self.model_info.value = esc(f"Loading '{key.partition(':')[2]}'…")

        def done(job: Job) -> None:
            if self.picker.value != key:
                return
            if job.error is not None:
                self.model_info.value = error_html(job.error)
            else:
                self._set_model(job.result)

        self._load_job = Job(lambda: self.resolver.resolve(key).model, "jupyter_llm-load", done).start()

    def _set_model(self, lm: Any) -> None:
        self.model = lm
        c = lm.config
        self.model_info.value = esc(f"{c.num_layers} × GRU({c.rnn_units}) + attention, {lm.tokenizer.kind} "
                                    f"tokenizer, vocabulary {c.vocab_size:,}, {lm.num_parameters:,} parameters")

    # === Generation ===

    @property
    def running(self) -> bool:
        return self.job is not None and self.job.running

    def _options(self) -> dict[str, Any]:
        seed_text = self.seed.value.strip()
        if seed_text:
            try:
                seed = int(seed_text)
            except ValueError:
                raise invalid("seed", "an integer >= 0, or empty for a random seed", seed_text) from None
        else:
            seed = None
        values = dict(
            max_tokens=int(self.max_tokens.value), temperature=float(self.temperature.value),
            top_k=int(self.top_k.value) or None,
            top_p=float(self.top_p.value) if self.top_p.value < 1.0 else None,
            repetition_penalty=float(self.repetition_penalty.value), seed=seed, n=int(self.n.value),
        )
        for name, value in values.items():  # the table's sentence for a value the controls let through
            GENERATION[name].check(value, "panel")
        return values

    def generate(self) -> Job | None:
        """What the Generate button does: stream a generation in the background.

        Returns the background job (None when the settings were refused; the panel shows why).
        """
        if self.running:
            return self.job
        if self._load_job is not None and self._load_job.running:
            self._load_job.wait()
        if self.model is None:
            self.status.value = error_html(invalid("model", "a model: pick one above (↻ lists them again)", None))
            return None
        lm = self.model
        prompt = self.prompt.value
        try:
            options = self._options()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                from ..generation.generator import Trace  # a model is loaded: TensorFlow is too

                trace = Trace()  # its ids count the tokens made (a piece of text may hold several)
                stream = lm.stream(prompt, **options, trace=trace)  # checks the prompt and options now
        except JupyterLLMError as e:
            self.status.value = error_html(e)
            return None
        notes = [str(w.message) for w in caught]
        self.error = None
        self.attention_map = None
        self.attention_box.children = ()
        self.explanations = []
        self._trace = trace
        self.explain_box.outputs = ()
        self.prompt_used = prompt
        self.texts = [""] * options["n"]
        self._steps, self._seconds = 0, 0.0
        self._stop_event = threading.Event()
        self._throttle.reset()
        self._notes = notes
        self.job = Job(lambda: self._generate(lm, stream, trace, options["n"]), "jupyter_llm-generate",
                       self._on_done)
        self.status.value = "".join(f'<div class="jl-warn">{esc(n)}</div>' for n in notes) + esc("Generating…")
        self.job.start()
        self._update_buttons()
        return self.job

    def stop(self) -> None:
        """What the Stop button does: end the generation, keeping the text so far."""
        self._stop_event.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the current generation ends; True when it has."""
        return self.job.wait(timeout) if self.job is not None else True

    def _generate(self, lm: Any, stream: Any, trace: Any, n: int) -> None:
        start = time.perf_counter()
        try:
            for piece in stream:
                if n == 1:
                    self.texts[0] += piece
                else:
                    self.texts = [t + p for t, p in zip(self.texts, piece)]
                self._steps = max(map(len, trace.token_ids), default=0)
                self._seconds = time.perf_counter() - start
                if self._stop_event.is_set():
                    break
                if self._throttle.ready():
                    self._render_output(streaming=True)
        finally:
            stream.close()
            self._seconds = time.perf_counter() - start
        if self.attention_toggle.value:
            self._compute_attention(lm)
        if self.explain_toggle.value:
            self._compute_explanations(lm, trace)

    def _on_done(self, job: Job) -> None:
        self.error = job.error
        self._render_output()
        self._render_status()
        self._update_buttons()

    def _update_buttons(self) -> None:
        running = self.running
        has_text = any(self.texts) or bool(self.prompt_used)
        self.generate_button.disabled = running
        self.stop_button.disabled = not running
        self.insert_button.disabled = running or not has_text
        self.copy.value = _copy_html(self.text, enabled=not running and has_text)

    @property
    def text(self) -> str:
        """The prompt and its continuation (all samples, one after another, when there are several)."""
        if not self.texts:
            return ""
        full = [self.prompt_used + t for t in self.texts]
        if len(full) == 1:
            return full[0]
        return "\n\n".join(f"--- sample {i + 1} ---\n{t}" for i, t in enumerate(full))

    # === Output ===

    def _render_output(self, streaming: bool = False) -> None:
        self.renders += 1
        if not self.texts:
            self.output.value = '<pre class="jl-text jl-empty">The generated text appears here.</pre>'
            return
        cursor = '<span class="jl-cursor">▍</span>' if streaming else ""
        blocks = []
        for i, t in enumerate(self.texts):
            title = f'<div class="jl-sample-title">Sample {i + 1}</div>' if len(self.texts) > 1 else ""
            blocks.append(f'{title}<pre class="jl-text jl-output"><span class="jl-prompt">{esc(self.prompt_used)}</span>'
                          f'<span class="jl-gen">{esc(t)}</span>{cursor}</pre>')
        self.output.value = "".join(blocks)

    def _render_status(self) -> None:
        notes = "".join(f'<div class="jl-warn">{esc(n)}</div>' for n in self._notes)
        if self.error is not None:
            self.status.value = notes + error_html(self.error)
            return
        rate = f" ({self._steps / self._seconds:,.0f} tokens/s)" if self._seconds > 0 and self._steps else ""
        what = "Stopped after" if self._stop_event.is_set() else "Generated"
        chars = sum(len(t) for t in self.texts)
        self.status.value = notes + (f'<span class="jl-note">{what} {self._steps:,} tokens, {chars:,} characters, '
                                     f"in {self._seconds:.1f} s{rate}.</span>")

    # === Insert, attention ===

    def insert(self) -> str:
        """What "Insert below" does: put :attr:`text` in a new cell below the panel's (see :mod:`.insert`).

        The cell is of the type :attr:`insert_as` shows (Markdown by default). Returns the
        sentence the panel shows: inserted, or queued for the next cell run (and then inserted).
        """
        try:
            note = insert_below(self.text, cell_type=self.insert_as.value, anchor=self.anchor,
                                on_inserted=lambda: self._note(FLUSHED))
        except RuntimeError as e:
            note = str(e)
        self._note(note)
        return note

    def _note(self, sentence: str) -> None:
        self.status.value = f'<span class="jl-note">{esc(sentence)}</span>'

    def _on_attention_toggle(self, change: dict) -> None:
        if not change["new"]:
            self.attention_box.layout.display = "none"
            return
        self.attention_box.layout.display = None
        if self.attention_map is None and self.texts and not self.running and self.model is not None:
            lm = self.model
            Job(lambda: self._compute_attention(lm), "jupyter_llm-attention").start()

    def _compute_attention(self, lm: Any) -> None:
        from .attention_view import AttentionView

        text = self.prompt_used + (self.texts[0] if self.texts else "")
        if not text:
            return
        prompt_length = len(lm.tokenizer.encode(self.prompt_used)) if self.prompt_used else 0
        try:
            self.attention_map = lm.attention(text, prompt_length=prompt_length)
        except JupyterLLMError as e:
            self.attention_box.children = (widgets.HTML(error_html(e)),)
            return
        except Exception as e:  # the view is an extra: never lose the text for it
            self.attention_box.children = (widgets.HTML(f'<div class="jl-error">{esc(message(e))}</div>'),)
            return
        self.attention_box.children = (AttentionView(self.attention_map),)


    # === Explain ===

    def _on_explain_toggle(self, change: dict) -> None:
        if not change["new"]:
            self.explain_box.layout.display = "none"
            return
        self.explain_box.layout.display = None
        if not self.explanations and self.texts and not self.running and self.model is not None:
            lm, trace = self.model, self._trace
            self.explain_job = Job(lambda: self._compute_explanations(lm, trace), "jupyter_llm-explain").start()

    def _compute_explanations(self, lm: Any, trace: Any) -> None:
        """Explain each text from the generation's own ids; mark copied spans when the model has an index."""
        from ..errors import NoCopyIndexError
        from ..model.explain import explain_trace

        if trace is None or trace.prompt_ids is None or not self.texts:
            return
        outputs, explanations = [], []
        try:
            for row in range(len(self.texts)):
                e = explain_trace(lm, trace, row)
                try:
                    e.mark_copies_of(lm)
                except NoCopyIndexError:
                    pass  # (said once, below)
                explanations.append(e)
        except Exception as e:  # the view is an extra: never lose the text for it
            note = error_html(e) if isinstance(e, JupyterLLMError) else f'<div class="jl-error">{esc(message(e))}</div>'
            self.explain_box.outputs = (_display_data({"text/plain": message(e), "text/html": note}),)
            return
        for i, e in enumerate(explanations):
            if len(explanations) > 1:
                outputs.append(_display_data({"text/plain": f"Sample {i + 1}",
                                              "text/html": f'<div class="jl-sample-title">Sample {i + 1}</div>'}))
            outputs.append(_display_data(e._repr_mimebundle_()))
        if explanations and explanations[0].copies is None:
            sentence = "Copied text is not marked: this model has no index of its training text."
            outputs.append(_display_data({"text/plain": sentence,
                                          "text/html": f'<div class="jl-note">{esc(sentence)}</div>'}))
        self.explanations = explanations
        self.explain_box.outputs = tuple(outputs)


def _display_data(bundle: dict[str, Any]) -> dict[str, Any]:
    """An output of an Output widget: a mime bundle as a notebook stores it."""
    return {"output_type": "display_data", "data": bundle, "metadata": {}}


def _copy_html(text: str, enabled: bool) -> str:
    disabled = "" if enabled else " disabled"
    return (f'<span class="jl-copy"><button type="button" title="Copy the text to the clipboard" '
            f'onclick="{esc(_COPY_JS)}"{disabled}><i class="fa fa-copy"></i> Copy</button>'
            f"<textarea readonly>{esc(text)}</textarea></span>")


def _reach(name: str) -> dict[str, Any]:
    """A control's ``min``, ``max`` and ``step``: the option's ``ui`` reach, capped by the panel's limit."""
    option = GENERATION[name]
    low, high, step = option.ui
    limit = option.high_for("panel")
    reach = {"min": low, "max": min(high, limit) if limit is not None else high}
    if option.kind is float:
        reach["step"] = step
    return reach


def _resolver_for(namespace: dict[str, Any] | None, getter: Any) -> Resolver:
    """The shell's resolver when the panel looks at the shell's namespace; else one over ``namespace``."""
    state = current_state()
    if state is not None and (namespace is None or namespace is state.shell.user_ns):
        return state.resolver
    if state is None:
        return Resolver(namespace=getter)
    return Resolver(namespace=getter, prefer=lambda: state.resolver.prefer)  # the shell's setting, read when used
