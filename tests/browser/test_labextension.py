"""The JupyterLab extension in a real browser, against a real kernel.

One notebook and one page serve the whole module (JupyterLab and TensorFlow
load once) and its first cell is ``%load_ext jupyter_llm``, as a user would
type it: nothing registers the comm by hand. The tests share the kernel but
each one opens what it needs (the panel, the notebook), so any one of them
runs alone. Every wait is on a selector or a condition, never a fixed sleep.
"""

from __future__ import annotations

import json

import pytest

from .conftest import open_notebook, run_all_cells

NOTEBOOK = "llm_ui.ipynb"
EVIL = "<script>alert(1)</script><img src=x onerror=alert(2)>"

TWO_LAYERS = {
    "version": 1, "tokens": ["a", "b", "c"], "prompt_length": 2, "meta": {},
    "layers": [{"name": "first", "weights": [[1, 0, 0], [1, 0, 0], [1, 0, 0]]},
               {"name": "second", "weights": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]}],
}

CELLS = [
    "%load_ext jupyter_llm",  # registers the comm target of the panel
    "import jupyter_llm as jl\n"
    "from jupyter_llm import datasets\n"
    "text = datasets.load('shakespeare')[:30000]  # the excerpt shipped with the package\n"
    "lm = jl.train(text, size='tiny', seq_len=16, batch_size=8, epochs=1, steps_per_epoch=30,\n"
    "              progress=False, sample_tokens=0, name='ui_tiny', overwrite=True, seed=0)\n"
    # The bundled model, when this checkout has it, makes the screenshots readable.
    "try:\n"
    "    best = jl.load('shakespeare')\n"
    "except jl.JupyterLLMError:\n"
    "    best = lm",
    "best.attention('To be, or not to be, that is the question:')",
    # A model whose text is markup: it must show as text, never as HTML.
    "class Evil(type(lm)):\n"
    "    def stream(self, prompt='', **options):\n"
    "        yield '<script>alert(1)</script>'\n"
    "        yield '<img src=x onerror=alert(2)>'\n"
    "evil = Evil(lm.model, lm.tokenizer, lm.config, lm.metadata)\n"
    "jl.AttentionMap(['<script>alert(1)</script>', '<img src=x onerror=alert(2)>'], [[1, 0], [0.4, 0.6]])",
    # A map of two layers, then a payload that is not a map.
    "from IPython.display import display\n"
    "from jupyter_llm.display.attention import MIME_TYPE\n"
    f"display({{MIME_TYPE: {json.dumps(TWO_LAYERS)}}}, raw=True)\n"
    "display({MIME_TYPE: {'version': 1, 'tokens': ['a'], 'layers': [{'name': 'x', 'weights': [[1, 2]]}]}}, raw=True)",
    # The tiny model at a reader's pace (50 ms a token) and on one line (a blank line would end a
    # suggestion early): a streamed suggestion arrives in pieces, and is still arriving when
    # the test types on, however fast the machine.
    "import time\n"
    "class Paced(type(lm)):\n"
    "    def stream(self, prompt='', **options):\n"
    "        for piece in super().stream(prompt, **options):\n"
    "            time.sleep(0.05)\n"
    "            yield piece.replace('\\n', ' ')\n"
    "paced = Paced(lm.model, lm.tokenizer, lm.config, lm.metadata)",
]

PANEL = "#jupyter-llm-draft"
COMPLETION_TOKENS = 40
WIDGET_MANAGER = "@jupyter-widgets/jupyterlab-manager"
#: The shared model of cell ``i`` of the notebook in view.
CELL = "window.jupyterapp.shell.currentWidget.content.widgets[{i}].model.sharedModel"


@pytest.fixture(scope="module")
def ui(browser, lab):
    """A page with the test notebook open, every cell run, and a log of dialogs (alerts)."""
    lab.write_notebook(NOTEBOOK, CELLS)
    # No "get notified about Jupyter news?" toast over the screenshots.
    news = lab.root.parent / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True, exist_ok=True)
    news.write_text('{"fetchNews": "false"}')
    # Inline suggestions of 40 tokens (setting "Inline completion length"): long enough to stream in pieces.
    ours = lab.root.parent / "settings" / "@jupyter-llm" / "labextension" / "plugin.jupyterlab-settings"
    ours.parent.mkdir(parents=True, exist_ok=True)
    ours.write_text(json.dumps({"completionTokens": COMPLETION_TOKENS}))
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(60_000)
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.problems = []  # console errors and warnings that name the extension
    page.on("console", lambda m: page.problems.append(m.text) if m.type in ("error", "warning")
            and ("jupyter-llm" in m.text or "jupyter_llm" in m.text) else None)
    # Ours is the only extension that talks to the kernel on this page. The widget manager
    # opens a comm after every kernel restart, and the status of that request is all that
    # used to tell the panel the restarted kernel was up: JupyterLab ignores the status of
    # kernel_info requests, so without it a restarted kernel stays "starting" (see
    # test_the_panel_survives_a_kernel_restart...). Without the widget manager that test
    # checks the panel never waits for such a status. Pages read this when they load.
    labconfig = lab.root.parent / "config" / "labconfig" / "page_config.json"
    labconfig.parent.mkdir(parents=True, exist_ok=True)
    labconfig.write_text(json.dumps({"disabledExtensions": {WIDGET_MANAGER: True}}))
    try:
        open_notebook(page, lab, NOTEBOOK)
    finally:
        labconfig.unlink()
    assert not page.evaluate("(id) => window.jupyterapp.hasPlugin(id)", f"{WIDGET_MANAGER}:plugin")
    run_all_cells(page, timeout=240_000)
    tracebacks = page.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']")
    assert tracebacks.count() == 0, page.locator(".jp-OutputArea").all_inner_texts()
    yield page
    context.close()


def command(page, cmd: str, args: dict | None = None):
    return page.evaluate("([c, a]) => window.jupyterapp.commands.execute(c, a)", [cmd, args or {}])


def open_panel(page):
    """Show the drafting panel for the notebook and wait until it is connected and lists ``ui_tiny``."""
    close_extra_tabs(page)
    command(page, "jupyter-llm:open-panel")
    status = page.locator(f"{PANEL} .jp-LLMDraft-status")
    # Connecting ends in `ready` (%load_ext registered the comm target) or `not-loaded` (it did not).
    page.wait_for_selector(f"{PANEL} .jp-LLMDraft-status:is([data-state='ready'], [data-state='not-loaded'],"
                           " [data-state='incompatible'])")
    assert status.get_attribute("data-state") == "ready", page.locator(PANEL).inner_text()
    page.wait_for_function(
        "() => [...document.querySelectorAll('#jupyter-llm-draft .jp-LLMDraft-model option')]"
        ".some(o => o.value === 'saved:ui_tiny')"
    )


def select_cell(page, index: int, edit: bool = False):
    page.evaluate(
        """([i, edit]) => {
            const nb = window.jupyterapp.shell.currentWidget.content;
            nb.activeCellIndex = i;
            nb.mode = edit ? 'edit' : 'command';
        }""",
        [index, edit],
    )


def cell_source(page, index: int) -> str:
    return page.evaluate(
        "(i) => window.jupyterapp.shell.currentWidget.content.widgets[i].model.sharedModel.getSource()", index
    )


# === Attention renderer ===

def test_attention_output_is_drawn_and_hovering_a_token_changes_the_shading(ui, screenshot):
    view = ui.locator(".jp-OutputArea .jp-LLMAttention").first
    view.wait_for()
    tokens = view.locator(".jp-LLMAttention-token")
    assert tokens.count() == len("To be, or not to be, that is the question:")
    assert view.locator("canvas").count() == 1
    assert ui.locator(".jupyter-llm-attention-static").count() == 0  # the static fallback is not used here

    def shading():
        return tokens.evaluate_all("ts => ts.map(t => t.style.backgroundColor)")

    before = shading()  # the last token's attention, shown at first
    tokens.nth(6).hover()
    ui.wait_for_function(
        "() => document.querySelector('.jp-LLMAttention-token.jp-mod-current')?.dataset.index === '6'"
    )
    after = shading()
    assert after != before
    assert all(s == "" for s in after[7:])  # causal: nothing after token 6 is shaded
    assert "Token #6" in view.locator(".jp-LLMAttention-status").inner_text()

    # Keyboard: focus a token, arrows move along the text.
    tokens.nth(2).focus()
    ui.keyboard.press("ArrowRight")
    ui.wait_for_function("() => document.activeElement?.dataset?.index === '3'")
    assert "Token #3" in view.locator(".jp-LLMAttention-status").inner_text()
    # For the docs: the second "be" chosen by a click, the mouse moved away.
    tokens.nth(17).click()
    ui.mouse.move(5, 5)
    ui.wait_for_function(
        "() => document.querySelector('.jp-LLMAttention-token.jp-mod-current')?.dataset.index === '17'"
    )
    screenshot(ui, "attention_renderer", view)


def test_a_layer_selector_for_several_layers_and_a_sentence_for_a_bad_payload(ui):
    view = ui.locator(".jp-OutputArea .jp-LLMAttention").nth(2)
    status = view.locator(".jp-LLMAttention-status")
    assert '"a" (#0) 1.00' in status.inner_text()  # layer "first": everything attends to "a"
    view.locator(".jp-LLMAttention-layer select").select_option(label="second")
    ui.wait_for_function("(el) => el.textContent.includes('\"c\" (#2) 1.00')", arg=status.element_handle())
    assert view.locator(".jp-LLMAttention-text .jp-mod-generated").count() == 1  # the token after the prompt
    bad = ui.locator(".jp-OutputArea .jp-LLMAttention").nth(3)
    assert "Cannot show this attention map: Expected layer 0 to hold a 1 x 1 matrix" in bad.inner_text()


# === Drafting panel ===

def test_drafting_panel_lists_models_streams_stops_and_inserts(ui, screenshot):
    open_panel(ui)
    panel = ui.locator(PANEL)
    options = panel.locator(".jp-LLMDraft-model option").evaluate_all("os => os.map(o => o.value)")
    assert {"saved:ui_tiny", "variable:lm", "variable:evil", "variable:best"} <= set(options)
    labels = panel.locator(".jp-LLMDraft-model option").evaluate_all("os => os.map(o => o.textContent)")
    assert "ui_tiny — saved" in labels and "lm — this notebook's variable" in labels  # the kernel's labels
    panel.locator(".jp-LLMDraft-model").select_option("variable:best")

    # A long generation: text streams in, then Stop ends it early.
    panel.locator(".jp-LLMDraft-maxTokens").fill("4000")
    panel.locator(".jp-LLMDraft-prompt").fill("ROMEO:\n")
    panel.locator(".jp-LLMDraft-generate").click()
    output = panel.locator(".jp-LLMDraft-output")
    ui.wait_for_function(
        """() => {
            const o = document.querySelector('#jupyter-llm-draft .jp-LLMDraft-output');
            return o.dataset.status === 'generating' && o.textContent.length > 20;
        }"""
    )
    ui.wait_for_function(  # still streaming: the text grows while the status says generating
        """(n) => {
            const o = document.querySelector('#jupyter-llm-draft .jp-LLMDraft-output');
            return o.dataset.status === 'generating' && o.textContent.length > n;
        }""",
        arg=len(output.text_content()),
    )
    panel.locator(".jp-LLMDraft-stop").click()
    ui.wait_for_selector(f"{PANEL} .jp-LLMDraft-output[data-status='stopped']", timeout=15_000)
    stopped = output.text_content()
    assert 20 < len(stopped) < 3000
    assert "Stopped" in panel.locator(".jp-LLMDraft-stats").inner_text()

    # A shorter one, put into cell 3: at the cursor, then at the end.
    panel.locator(".jp-LLMDraft-maxTokens").fill("240")
    panel.locator(".jp-LLMDraft-seed").fill("1")
    panel.locator(".jp-LLMDraft-generate").click()
    ui.wait_for_selector(f"{PANEL} .jp-LLMDraft-output[data-status='done']")
    draft = output.text_content()
    assert draft
    select_cell(ui, 2)
    ui.wait_for_function(
        "() => document.querySelector('#jupyter-llm-draft .jp-LLMDraft-target').textContent.includes('cell 3')"
    )
    ui.mouse.move(700, 500)
    screenshot(ui, "drafting_panel")
    before = cell_source(ui, 2)
    cell = "window.jupyterapp.shell.currentWidget.content.widgets[i].model.sharedModel"
    source_is = f"([i, s]) => {cell}.getSource() === s"
    reset = f"([i, s]) => {cell}.setSource(s)"
    ui.evaluate("(i) => window.jupyterapp.shell.currentWidget.content.widgets[i].editor"
                ".setCursorPosition({line: 0, column: 0})", 2)
    panel.locator(".jp-LLMDraft-insert").click()
    ui.wait_for_function(source_is, arg=[2, draft + before])
    ui.evaluate(reset, [2, before])
    panel.locator(".jp-LLMDraft-append").click()
    ui.wait_for_function(source_is, arg=[2, before + draft])
    ui.evaluate(reset, [2, before])


# === Inline completion ===

def new_markdown_cell(page) -> int:
    """A new Markdown cell below the active one, in edit mode with the cursor in it; its index."""
    command(page, "notebook:insert-cell-below")
    command(page, "notebook:change-cell-to-markdown")
    index = page.evaluate("() => window.jupyterapp.shell.currentWidget.content.activeCellIndex")
    command(page, "notebook:enter-edit-mode")
    editor = page.locator(".jp-Notebook .jp-Cell.jp-mod-active .cm-content")
    editor.wait_for()
    editor.click()
    return index


def test_inline_completion_shows_ghost_text_that_tab_accepts(ui, screenshot):
    open_panel(ui)  # the kernel's channel is ready before the first keystroke asks for a suggestion
    index = new_markdown_cell(ui)
    ui.keyboard.type("ROMEO:\nWhat light thro")
    suggestion = settled_ghost_text(ui, ".jp-Notebook .jp-Cell.jp-mod-active")
    assert suggestion
    screenshot(ui, "inline_completion")
    ui.keyboard.press("Tab")
    ui.wait_for_function("([i, s]) => window.jupyterapp.shell.currentWidget.content.widgets[i]"
                         ".model.sharedModel.getSource().endsWith(s)", arg=[index, suggestion])
    assert cell_source(ui, index) == "ROMEO:\nWhat light thro" + suggestion
    ui.keyboard.press("Escape")

    # The setting turns it off and on (palette: "Inline completion with jupyter_llm").
    toggled = "() => window.jupyterapp.commands.isToggled('jupyter-llm:toggle-inline-completion')"
    assert ui.evaluate(toggled) is True
    command(ui, "jupyter-llm:toggle-inline-completion")
    ui.wait_for_function(f"() => !({toggled})()")
    command(ui, "jupyter-llm:toggle-inline-completion")
    ui.wait_for_function(toggled)


#: The ghost text of a suggestion (not the transient spacer JupyterLab leaves for a moment where one was).
GHOST = ".jp-GhostText:not(.jp-GhostText-letterSpacer):not(.jp-GhostText-lineSpacer)"
#: The text of the element ``selector`` (null: none), its line breaks included: the ghost text
#: draws a new line as a <br>, which ``textContent`` leaves out.
TEXT_AT = """(selector) => {
    const textOf = (n) => n.nodeType === Node.TEXT_NODE ? n.data
        : n.nodeName === 'BR' ? '\\n' : [...n.childNodes].map(textOf).join('');
    const element = document.querySelector(selector);
    return element ? textOf(element) : null;
}"""


def settled_ghost_text(page, scope: str) -> str:
    """The ghost text in ``scope`` once its suggestion has stopped growing (no streaming indicator)."""
    page.wait_for_function(
        f"""(scope) => {{
            const ghost = document.querySelector(`${{scope}} {GHOST}`);
            return !!ghost && !ghost.querySelector('.jp-GhostText-streamingIndicator');
        }}""",
        arg=scope,
        timeout=30_000,
    )
    return page.evaluate(TEXT_AT, f"{scope} {GHOST}")


#: Records in the page, in order, every text the ghost text of the active cell shows (``{"ghost": null}``:
#: none) and every message of the jupyter_llm channel; ``window.llmRecording.stop()`` ends it.
RECORD = f"""() => {{
    const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
    const log = [];
    const ghostText = () => ({TEXT_AT})('.jp-Notebook .jp-Cell.jp-mod-active {GHOST}');
    let last;
    const observer = new MutationObserver(() => {{
        const text = ghostText();
        if (text !== last) {{ last = text; log.push({{ ghost: text }}); }}
    }});
    observer.observe(document.querySelector('.jp-Notebook'), {{ childList: true, subtree: true, characterData: true }});
    const onMessage = (_, m) => {{
        const d = m.msg.header.msg_type === 'comm_msg' ? m.msg.content.data : null;
        if (d && d.v === 1) {{
            log.push({{ direction: m.direction, kind: d.kind, name: d.name, id: d.id, payload: d.payload }});
        }}
    }};
    kernel.anyMessage.connect(onMessage);
    const stop = () => {{ observer.disconnect(); kernel.anyMessage.disconnect(onMessage); }};
    window.llmRecording = {{ log, stop }};
}}"""
#: The id of the ``complete`` request sent for the text ``text`` (null: none yet).
COMPLETE_FOR = """(text) => window.llmRecording.log.filter(e => e.direction === 'send' && e.name === 'complete'
    && e.payload.text === text).map(e => e.id).pop() ?? null"""
#: What the kernel sent about request ``id``, in order.
ABOUT = "(id) => window.llmRecording.log.filter(e => e.direction === 'recv' && e.id === id)"
ACTIVE_GHOST = f".jp-Notebook .jp-Cell.jp-mod-active {GHOST}"


def markdown_cell_with_the_paced_model(page) -> int:
    """A new Markdown cell in edit mode, completed by the model ``paced``, recording; its index."""
    open_panel(page)
    page.locator(f"{PANEL} .jp-LLMDraft-model").select_option("variable:paced")
    index = new_markdown_cell(page)
    page.evaluate(RECORD)
    return index


def request_for(page, text: str) -> str:
    """The id of the ``complete`` request for ``text``, once it is sent."""
    page.wait_for_function(f"(t) => ({COMPLETE_FOR})(t) !== null", arg=text, timeout=30_000)
    return page.evaluate(COMPLETE_FOR, text)


def ghosts_since(log: list[dict], request: str) -> list[str | None]:
    """The ghost texts shown since ``request`` was sent (None: no ghost text), each change once."""
    start = next(i for i, e in enumerate(log) if e.get("id") == request)
    return [e["ghost"] for e in log[start:] if "ghost" in e]


def test_inline_completion_streams_ghost_text_in_pieces_that_end_on_words(ui):
    index = markdown_cell_with_the_paced_model(ui)
    typed = "ROMEO:\nWhat light thro"
    try:
        ui.keyboard.type(typed)
        request = request_for(ui, typed)
        ui.wait_for_function(f"(id) => ({ABOUT})(id).some(e => e.kind === 'response')", arg=request,
                             timeout=30_000)
        final = settled_ghost_text(ui, ".jp-Notebook .jp-Cell.jp-mod-active")
        log = ui.evaluate("() => window.llmRecording.log")
    finally:
        ui.evaluate("() => window.llmRecording.stop()")
    about = [e for e in log if e.get("direction") == "recv" and e["id"] == request]
    chunks = [e["payload"]["text"] for e in about if e["kind"] == "event" and e["name"] == "chunk"]
    (answer,) = [e["payload"] for e in about if e["kind"] == "response"]
    assert about[-1]["kind"] == "response"  # the chunks come before the answer
    assert answer["cancelled"] is False and "".join(chunks) == answer["text"] == final
    # The ghost text grew in pieces, each one the start of the next, each ending where a word ends.
    ghosts = [g for g in ghosts_since(log, request) if g]
    ghosts = [g for i, g in enumerate(ghosts) if i == 0 or g != ghosts[i - 1]]
    assert len(chunks) >= 2 and len(ghosts) >= 2, (chunks, ghosts)
    assert ghosts[-1] == final
    for shorter, longer in zip(ghosts, ghosts[1:]):
        assert longer.startswith(shorter) and len(longer) > len(shorter), ghosts
    for shown in ghosts:
        assert shown == shown.rstrip()
        assert not (shown[-1].isalnum() and final[len(shown):][:1].isalnum()), (shown, final)
    ui.keyboard.press("Tab")
    ui.wait_for_function("([i, s]) => window.jupyterapp.shell.currentWidget.content.widgets[i]"
                         ".model.sharedModel.getSource() === s", arg=[index, typed + final])
    ui.keyboard.press("Escape")
    ui.locator(f"{PANEL} .jp-LLMDraft-model").select_option("variable:best")


def test_typing_on_cancels_a_streamed_completion_in_the_kernel(ui):
    markdown_cell_with_the_paced_model(ui)
    typed = "ROMEO:\nBut soft, what light"
    try:
        ui.keyboard.type(typed)
        request = request_for(ui, typed)
        # Its suggestion shows and is still streaming.
        ui.wait_for_function(
            f"""(id) => ({ABOUT})(id).some(e => e.kind === 'event')
                && !!document.querySelector('{ACTIVE_GHOST} .jp-GhostText-streamingIndicator')""",
            arg=request, timeout=30_000)
        shown = ui.evaluate(TEXT_AT, ACTIVE_GHOST)
        assert shown and not ui.evaluate(f"(id) => ({ABOUT})(id).some(e => e.kind === 'response')", request)
        ui.keyboard.type("~")  # not what the suggestion goes on with
        # The front end tells the kernel to stop, and the suggestion is gone.
        ui.wait_for_function(
            "(id) => window.llmRecording.log.some(e => e.direction === 'send' && e.name === 'cancel'"
            " && e.payload.id === id)", arg=request, timeout=10_000)
        ui.wait_for_function(
            f"""(old) => {{
                const now = ({TEXT_AT})('{ACTIVE_GHOST}');
                return now === null || !now.startsWith(old);
            }}""", arg=shown)
        # The kernel stopped the model and answered with what it had sent, cancelled.
        ui.wait_for_function(f"(id) => ({ABOUT})(id).some(e => e.kind === 'response')", arg=request,
                             timeout=30_000)
        log = ui.evaluate("() => window.llmRecording.log")
    finally:
        ui.evaluate("() => window.llmRecording.stop()")
    about = [e for e in log if e.get("direction") == "recv" and e["id"] == request]
    (answer,) = [e["payload"] for e in about if e["kind"] == "response"]
    assert answer["cancelled"] is True, about
    assert about[-1]["kind"] == "response"  # no chunk after the answer
    assert "".join(e["payload"]["text"] for e in about if e["kind"] == "event") == answer["text"]
    assert answer["text"].startswith(shown)
    ghosts = ghosts_since(log, request)
    assert None in ghosts[ghosts.index(shown):], ghosts  # typing on took the ghost text away
    ui.keyboard.press("Escape")
    ui.locator(f"{PANEL} .jp-LLMDraft-model").select_option("variable:best")


def type_past_the_suggestion(page, typed: str, while_streaming: bool) -> tuple[str, str, list]:
    """Type ``typed``, let a suggestion show (still streaming, or settled), then type ``~``.

    Returns the suggestion shown before ``~``, the answer to the request for the text with
    ``~``, and every ghost text shown after ``~`` until the ghost text is that answer (or none).
    """
    markdown_cell_with_the_paced_model(page)
    try:
        page.keyboard.type(typed)
        request = request_for(page, typed)
        if while_streaming:
            page.wait_for_function(
                f"""(id) => ({ABOUT})(id).some(e => e.kind === 'event')
                    && !!document.querySelector('{ACTIVE_GHOST} .jp-GhostText-streamingIndicator')""",
                arg=request, timeout=30_000)
            old = page.evaluate(TEXT_AT, ACTIVE_GHOST)
        else:
            page.wait_for_function(f"(id) => ({ABOUT})(id).some(e => e.kind === 'response')", arg=request,
                                   timeout=30_000)
            old = settled_ghost_text(page, ".jp-Notebook .jp-Cell.jp-mod-active")
        assert old and not old.startswith("~")
        page.evaluate("() => window.llmRecording.log.push({typing: '~'})")
        page.keyboard.type("~")  # not what the suggestion goes on with
        again = request_for(page, typed + "~")
        page.wait_for_function(f"(id) => ({ABOUT})(id).some(e => e.kind === 'response')", arg=again,
                               timeout=30_000)
        (answer,) = [e["payload"]["text"] for e in page.evaluate(ABOUT, again) if e["kind"] == "response"]
        page.wait_for_function(f"(a) => {{ const g = ({TEXT_AT})('{ACTIVE_GHOST}'); return a ? g === a : !g; }}",
                               arg=answer, timeout=30_000)
        log = page.evaluate("() => window.llmRecording.log")
    finally:
        page.evaluate("() => window.llmRecording.stop()")
        page.keyboard.press("Escape")
        page.locator(f"{PANEL} .jp-LLMDraft-model").select_option("variable:best")
    typed_at = next(i for i, e in enumerate(log) if "typing" in e)
    after = [e["ghost"] for e in log[typed_at + 1:] if "ghost" in e]
    while after and after[0] and after[0].startswith(old):  # it grew on before the key landed
        after.pop(0)
    return old, answer, after


@pytest.mark.parametrize("while_streaming", [False, True], ids=["settled", "streaming"])
def test_typing_what_the_suggestion_does_not_say_leaves_no_fragment_of_it(ui, while_streaming):
    """A suggestion the user types past is gone at once, whole: no letter of it stays as ghost text."""
    old, answer, after = type_past_the_suggestion(ui, "ROMEO:\nO, she doth teach the torches", while_streaming)
    assert after and not after[0], (old, after)  # the old suggestion went away whole
    leftovers = [g for g in after if g and not answer.startswith(g)]
    assert leftovers == [], (old, answer, after)  # nothing shown but the start of the new suggestion


# === Commands ===

def test_continue_writing_and_show_attention_for_selection(ui):
    open_panel(ui)
    # A Markdown cell of its own, first in the notebook: no Markdown above it joins the prompt.
    select_cell(ui, 0)
    command(ui, "notebook:insert-cell-above")
    command(ui, "notebook:change-cell-to-markdown")
    index = 0
    ui.evaluate(f"(s) => {CELL.format(i=index)}.setSource(s)", "ROMEO:\nWhat light through yonder window breaks?")
    select_cell(ui, index, edit=True)
    ui.evaluate("""(i) => {
        const editor = window.jupyterapp.shell.currentWidget.content.widgets[i].editor;
        editor.setCursorPosition({line: 0, column: 6});
    }""", index)
    # The commands are in the context menu of a cell's editor.
    ui.locator(".jp-Notebook .jp-Cell.jp-mod-active .jp-Editor").click(button="right")
    menu = ui.locator(".lm-Menu").last
    menu.get_by_text("Continue writing with jupyter_llm").wait_for()
    assert menu.get_by_text("Show attention for selection").is_visible()
    ui.keyboard.press("Escape")
    menu.wait_for(state="detached")

    command(ui, "jupyter-llm:continue-writing")
    ui.wait_for_selector(f"{PANEL} .jp-LLMDraft-output[data-status='done']")
    assert ui.locator(f"{PANEL} .jp-LLMDraft-prompt").input_value() == "ROMEO:"

    # Show attention for the selected text, in a new tab beside the notebook.
    ui.evaluate("""(i) => {
        const editor = window.jupyterapp.shell.currentWidget.content.widgets[i].editor;
        editor.setSelection({start: {line: 1, column: 0}, end: {line: 1, column: 10}});
    }""", index)
    command(ui, "jupyter-llm:show-attention")
    tokens = ui.locator(".jp-LLMAttentionPanel .jp-LLMAttention-token")
    tokens.first.wait_for()
    assert "".join(tokens.all_text_contents()).replace("·", " ") == "What light"
    close_extra_tabs(ui)


def test_a_markdown_file_drafts_with_the_notebook_kernel(ui, lab):
    open_panel(ui)
    (lab.root / "notes.md").write_text("# Notes\n\n")
    command(ui, "docmanager:open", {"path": "notes.md"})
    editor = ui.locator(".jp-FileEditor .cm-content")
    editor.wait_for()
    panel = ui.locator(PANEL)
    picker = panel.locator(".jp-LLMDraft-kernelPicker")
    picker.wait_for()  # a text file has no kernel: the panel offers the running ones
    assert NOTEBOOK in picker.locator("option:checked").text_content()
    ui.wait_for_selector(f"{PANEL} .jp-LLMDraft-status[data-state='ready']")

    # Inline completion in the file.
    ui.evaluate("""() => {
        const editor = window.jupyterapp.shell.currentWidget.content.editor;
        editor.setCursorPosition({line: 2, column: 0});
        editor.focus();
    }""")
    ui.keyboard.type("ROMEO:\nBut soft")
    suggestion = settled_ghost_text(ui, ".jp-FileEditor")
    ui.keyboard.press("Tab")
    ui.wait_for_function("(s) => window.jupyterapp.shell.currentWidget.content.model.sharedModel"
                         ".getSource().endsWith(s)", arg=suggestion)

    # A draft from the panel, inserted at the cursor (the end of the file).
    panel.locator(".jp-LLMDraft-continue").click()
    ui.wait_for_selector(f"{PANEL} .jp-LLMDraft-output[data-status='done']")
    draft = panel.locator(".jp-LLMDraft-output").text_content()
    source = ui.evaluate("() => window.jupyterapp.shell.currentWidget.content.model.sharedModel.getSource()")
    assert panel.locator(".jp-LLMDraft-prompt").input_value() == source
    panel.locator(".jp-LLMDraft-insert").click()
    ui.wait_for_function("(s) => window.jupyterapp.shell.currentWidget.content.model.sharedModel"
                         ".getSource() === s", arg=source + draft)
    close_extra_tabs(ui)


def close_extra_tabs(page):
    """Close every main-area tab but the notebook, which becomes current again."""
    page.evaluate("""(name) => {
        const app = window.jupyterapp;
        let notebook = null;
        for (const w of [...app.shell.widgets('main')]) {
            if (w.context?.path === name) { notebook = w; } else { w.dispose(); }
        }
        app.shell.activateById(notebook.id);
    }""", NOTEBOOK)
    page.wait_for_function("(name) => window.jupyterapp.shell.currentWidget?.context?.path === name", arg=NOTEBOOK)


# === Safety ===

def test_markup_from_the_model_shows_as_literal_text(ui):
    open_panel(ui)
    # The attention map of cell 4 has markup tokens.
    view = ui.locator(".jp-OutputArea .jp-LLMAttention").nth(1)
    view.wait_for()
    assert "<script>alert(1)</script>" in view.locator(".jp-LLMAttention-text").text_content()
    assert view.locator("script, img").count() == 0

    panel = ui.locator(PANEL)
    panel.locator(".jp-LLMDraft-model").select_option("variable:evil")
    panel.locator(".jp-LLMDraft-prompt").fill("<b>prompt</b>")
    panel.locator(".jp-LLMDraft-generate").click()
    ui.wait_for_selector(f"{PANEL} .jp-LLMDraft-output[data-status='done']")
    assert panel.locator(".jp-LLMDraft-output").text_content() == EVIL
    assert panel.locator("script, img, b").count() == 0
    assert ui.locator("#jupyter-llm-draft script, .jp-LLMAttention script, .jp-LLMAttention img").count() == 0
    assert ui.dialogs == []
    panel.locator(".jp-LLMDraft-model").select_option("variable:best")


# === Kernel restart ===

def test_the_panel_survives_a_kernel_restart_and_connects_when_the_user_loads_jupyter_llm(ui):
    """After a restart the panel says hello to the new kernel as soon as the connection is back.

    (It used to wait for an "idle" status, which JupyterLab does not report for a
    restarted kernel that has run nothing yet: the panel stayed "restarting".)
    Then it finds jupyter_llm not loaded and says, in one line, what to run; it
    sends no code itself. The user runs ``%load_ext jupyter_llm`` in a cell and
    the panel connects by itself (the kernel announces the channel).
    """
    open_panel(ui)
    panel = ui.locator(PANEL)
    ui.evaluate("""() => {
        const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
        window.executedByFrontEnd = [];
        kernel.anyMessage.connect((_, m) => {
            if (m.direction === 'send' && m.msg.header.msg_type === 'execute_request') {
                window.executedByFrontEnd.push(m.msg.content.code);
            }
        });
        kernel.restart();
    }""")
    ui.wait_for_selector(f"{PANEL} .jp-LLMDraft-status[data-state='not-loaded']", timeout=90_000)
    box = panel.locator(".jp-LLMDraft-loadBox")
    box.wait_for()
    assert box.inner_text().strip() == "Run %load_ext jupyter_llm in this notebook's kernel to connect."
    assert panel.locator(".jp-LLMDraft-load").count() == 0  # no button that runs code
    assert ui.evaluate("() => window.executedByFrontEnd") == []

    # The user runs the notebook's %load_ext cell.
    index = ui.evaluate("""() => window.jupyterapp.shell.currentWidget.content.widgets
        .findIndex(c => c.model.sharedModel.getSource() === '%load_ext jupyter_llm')""")
    assert index >= 0
    select_cell(ui, index)
    command(ui, "notebook:run-cell")
    ui.wait_for_selector(f"{PANEL} .jp-LLMDraft-status[data-state='ready']", timeout=90_000)
    assert box.is_hidden()
    ui.wait_for_function(
        "() => [...document.querySelectorAll('#jupyter-llm-draft .jp-LLMDraft-model option')]"
        ".some(o => o.value === 'saved:ui_tiny')"
    )
    assert ui.evaluate("() => window.executedByFrontEnd") == ["%load_ext jupyter_llm"]  # the cell, nothing else
    assert ui.dialogs == []
    assert ui.problems == []
