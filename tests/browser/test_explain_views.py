"""The "See why" renderer (#15) in a real JupyterLab: explanations and saliency.

A notebook explains a line under the bundled model (``lm.explain``), computes
the saliency of its last token (``lm.saliency``, integrated gradients) and
shows both through ``application/vnd.jupyter-llm.explain+json``; then a payload
whose tokens are markup, and a payload of a newer version. The kernel writes
each payload it shows to a JSON file, so the tests compare what the page says
with what the kernel sent.

Takes the docs' screenshots ``explain-view.png`` and ``explain-saliency.png``
(into docs/images only when ``JUPYTER_LLM_SCREENSHOTS=docs/images``).
"""

from __future__ import annotations

import json

import pytest

from .conftest import open_notebook, run_all_cells

NOTEBOOK = "see_why.ipynb"
MIME = "application/vnd.jupyter-llm.explain+json"
LINE = "ROMEO:\nBut soft, what light through yonder window breaks?"
TEXT = LINE + "\nIt is the east, and Juliet is the sun.\nArise, fair sun, and kill the envious moon,"
COPY = {"start": 7, "end": 21, "source_offset": 1234}  # "But soft, what": marked as if found in the training text
PROMPT = "JULIET:\nO Romeo, Romeo"
EVIL = "<img src=x onerror=alert(1)>"

CELLS = [
    "import json, types\n"
    "from IPython.display import display\n"
    "import jupyter_llm as jl\n"
    "lm = jl.load('shakespeare')\n"
    f"MIME = {MIME!r}\n"
    "def save(payload, name):\n"
    "    with open(name + '.json', 'w') as f:\n"
    "        json.dump(payload, f)\n"
    "def show(payload, name):\n"
    "    save(payload, name)\n"
    "    display({MIME: payload, 'text/plain': name}, raw=True)",
    # An explanation shown as a user shows it, with a span marked as lm.copied would mark it.
    f"e = lm.explain({TEXT!r}, top_k=5).mark_copies([types.SimpleNamespace(**{COPY!r})])\n"
    "save(e.to_dict(), 'explanation')\n"
    "e",
    f"s = lm.saliency({LINE!r}, position=-1, method='integrated_gradients', steps=64)\n"
    "save(s.to_dict(), 'saliency')\n"
    "s",
    # A generation: only the continuation has rows; the prompt shows muted.
    f"_, g = lm.generate({PROMPT!r}, max_tokens=30, greedy=True, explain=True)\n"
    "save(g.to_dict(), 'generation')\n"
    "g",
    # Markup in tokens, alternatives and sources: text, never HTML (and a key no version knows).
    "evil = {'version': 1, 'kind': 'explanation', 'top_k': 2, 'meta': {'model': '<b>m</b>'},\n"
    "        'a_key_from_a_newer_kernel': {'ignored': True},\n"
    f"        'tokens': ['<script>alert(2)</script>', {EVIL!r}],\n"
    f"        'rows': [{{'index': 1, 'token': {EVIL!r}, 'id': 0, 'prob': 0.5, 'logprob': -0.69,\n"
    "                  'surprisal_bits': 1.0, 'entropy_bits': 1.0,\n"
    f"                  'alternatives': [[{EVIL!r}, 0.5], ['<b>bold</b>', 0.25]],\n"
    "                  'logit': 1.0, 'gru_logit': 0.5, 'attention_logit': 0.25, 'bias': 0.25,\n"
    "                  'runner_up': '<b>bold</b>', 'margin': 0.7, 'gru_margin': 0.3, 'attention_margin': 0.2,\n"
    "                  'bias_margin': 0.2, 'attention_sources': [{'index': 0, 'token': '<script>alert(2)</script>',\n"
    "                  'weight': 1.0, 'contribution': 0.25}]}],\n"
    "        'summary': {'tokens': 1, 'chars': 28, 'total_bits': 1.0, 'bits_per_token': 1.0, 'bits_per_char': 0.04,\n"
    f"                    'most_surprising': [{{'index': 1, 'token': {EVIL!r}, 'surprisal_bits': 1.0}}]}}}}\n"
    "show(evil, 'evil')",
    # A payload from a newer jupyter_llm, and one that is not an explanation.
    "newer = {**e.to_dict(), 'version': 2}\n"
    "show(newer, 'newer')\n"
    "show({**e.to_dict(), 'rows': [{'index': 1}]}, 'broken')\n"
    "show({**e.to_dict(), 'kind': 'story'}, 'unknown_kind')\n"
    "show({**s.to_dict(), 'attention': [0.5]}, 'short_attention')",
]


@pytest.fixture(scope="module")
def nb(browser, lab):
    """A page with the notebook open and run, a log of dialogs, and the payloads the kernel showed."""
    lab.write_notebook(NOTEBOOK, CELLS)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(60_000)
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    open_notebook(page, lab, NOTEBOOK)
    run_all_cells(page, timeout=240_000)
    tracebacks = page.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']")
    assert tracebacks.count() == 0, page.locator(".jp-OutputArea").all_inner_texts()
    page.payloads = {name: json.loads((lab.root / f"{name}.json").read_text())
                     for name in ("explanation", "saliency", "generation", "evil")}
    yield page
    context.close()


def view(page, cell: int, k: int = 0):
    """The k-th explain view in the output of code cell ``cell``."""
    found = page.locator(".jp-Notebook .jp-CodeCell").nth(cell).locator(".jp-LLMExplain").nth(k)
    found.wait_for()
    return found


def quote(token: str) -> str:
    """A token as the view quotes it (JSON, as JavaScript's JSON.stringify writes it)."""
    return json.dumps(token, ensure_ascii=False)


def signed(value: float, digits: int = 2) -> str:
    text = f"{abs(value):.{digits}f}"
    return f"−{text}" if value < 0 and float(text) != 0 else f"+{text}"


def card_shows(page, v, row: dict) -> str:
    """Wait until the view's card shows ``row`` and return its text, checked against the row."""
    v.locator(f".jp-LLMExplain-card[data-index='{row['index']}']").wait_for()
    card = v.locator(".jp-LLMExplain-card").inner_text()
    assert f"p = {row['prob']:.3f}" in card and f"surprisal {row['surprisal_bits']:.2f} bits" in card
    assert f"entropy {row['entropy_bits']:.2f} bits" in card
    alternatives = v.locator(".jp-LLMExplain-card .jp-LLMExplain-alt").all_inner_texts()
    for (token, prob), line in zip(row["alternatives"], alternatives):  # in the payload's order
        assert quote(token) in line and f"{prob:.3f}" in line, (token, prob, line)
    assert len(alternatives) >= len(row["alternatives"])
    assert (f"{row['logit']:.2f} = {signed(row['gru_logit'])} (GRU) {signed(row['attention_logit'])} (attention) "
            f"{signed(row['bias'])} (bias)") in card
    assert f"Margin over the runner-up {quote(row['runner_up'])}" in card
    assert (f"{signed(row['margin'])} = {signed(row['gru_margin'])} (GRU) {signed(row['attention_margin'])} "
            f"(attention) {signed(row['bias_margin'])} (bias)") in card
    return card


def sources(v) -> set[int]:
    return {int(i) for i in v.locator(".jp-LLMExplain-text .jp-mod-source").evaluate_all(
        "nodes => nodes.map(n => n.dataset.index ?? '0')")}


def test_hovering_or_focusing_a_token_shows_its_alternatives_and_why(nb, screenshot):
    payload = nb.payloads["explanation"]
    rows = {r["index"]: r for r in payload["rows"]}
    v = view(nb, 1)
    tokens = v.locator(".jp-LLMExplain-text .jp-LLMExplain-token")
    assert tokens.count() == len(payload["tokens"])
    assert "".join(t.replace("\n", "↵") for t in payload["tokens"]) == \
        v.locator(".jp-LLMExplain-text").text_content()

    # The summary: bits per character and the most surprising tokens.
    s = payload["summary"]
    header = v.locator(".jp-LLMExplain-header").inner_text()
    assert f"{s['tokens']} tokens predicted" in header and f"{s['bits_per_char']:.3f} bits per character" in header
    jumps = v.locator(".jp-LLMExplain-jump").all_inner_texts()
    assert [j.split(" #")[0] for j in jumps] == [quote(w["token"]) for w in s["most_surprising"]]

    # Shaded by surprisal: the most surprising token is the darkest.
    worst = s["most_surprising"][0]["index"]
    alphas = v.locator(".jp-LLMExplain-text [data-index]").evaluate_all(
        "nodes => nodes.map(n => [+n.dataset.index, getComputedStyle(n).backgroundColor])")
    alpha = {i: float(c.rstrip(")").split("/")[-1]) if "/" in c else (0.0 if c.endswith(", 0)") else 1.0)
             for i, c in alphas}
    assert alpha[worst] == max(alpha.values()) > 0.5 and min(alpha.values()) < 0.1

    # Hover: the card shows the token's alternatives, its logit split and its attention sources.
    hovered = 20
    v.locator(f".jp-LLMExplain-token[data-index='{hovered}']").hover()
    card_shows(nb, v, rows[hovered])
    assert sources(v) == {src["index"] for src in rows[hovered]["attention_sources"]}
    for src in rows[hovered]["attention_sources"]:
        assert f"{quote(src['token'])} #{src['index']}" in v.locator(".jp-LLMExplain-sources").inner_text()

    # Keyboard: focus a token, then the arrow keys move the card along (and the focus with it).
    v.locator(".jp-LLMExplain-token[data-index='10']").focus()
    card_shows(nb, v, rows[10])
    nb.keyboard.press("ArrowRight")
    card_shows(nb, v, rows[11])
    assert nb.evaluate("() => document.activeElement.dataset.index") == "11"
    assert nb.evaluate("() => document.activeElement.getAttribute('aria-describedby')") == \
        v.locator(".jp-LLMExplain-card").get_attribute("id")
    nb.keyboard.press("End")
    card_shows(nb, v, rows[len(payload["tokens"]) - 1])

    # A most-surprising button jumps to its token.
    v.locator(".jp-LLMExplain-jump").nth(1).click()
    second = s["most_surprising"][1]["index"]
    card_shows(nb, v, rows[second])
    assert nb.evaluate("() => document.activeElement.dataset.index") == str(second)

    # The copied span marked, and said in the card.
    copied = v.locator(".jp-LLMExplain-text .jp-mod-copied").all_text_contents()
    assert "".join(copied) == TEXT[COPY["start"]:COPY["end"]]
    v.locator(f".jp-LLMExplain-token[data-index='{COPY['start'] + 2}']").hover()
    card = card_shows(nb, v, rows[COPY["start"] + 2])
    assert f"at character {COPY['source_offset']} of the training text" in card
    assert nb.errors == []

    # For the docs: a token chosen by a click (what stays when the pointer leaves).
    v.locator(f".jp-LLMExplain-token[data-index='{hovered}']").click()
    nb.mouse.move(0, 0)
    card_shows(nb, v, rows[hovered])
    screenshot(nb, "explain-view", v)


def test_saliency_shows_attributions_and_attention_of_the_same_position(nb, screenshot):
    payload = nb.payloads["saliency"]
    p = payload["position"]
    v = view(nb, 2)
    assert "integrated gradients, 64 steps" in v.locator(".jp-LLMExplain-header").inner_text()
    assert f"explains token #{p} {quote(payload['tokens'][p])}" in v.locator(".jp-LLMExplain-header").inner_text()
    logprob = v.locator(".jp-LLMExplain-logprob").inner_text()
    assert f"{payload['logprob']:.3f} at the input" in logprob
    assert f"{payload['baseline_logprob']:.3f} at the baseline" in logprob
    assert f"sum to {signed(sum(payload['attributions']), 3)}" in logprob

    # One column per input token and one for the token explained, each with both rows.
    columns = v.locator(".jp-LLMExplain-column")
    assert columns.count() == p + 1
    assert v.locator(".jp-LLMExplain-column.jp-mod-target").get_attribute("data-index") == str(p)
    bars = v.locator(".jp-LLMExplain-column").evaluate_all(
        """cols => cols.map(c => {
            const a = c.querySelector('.jp-mod-attribution .jp-LLMExplain-bar');
            const w = c.querySelector('.jp-mod-attention .jp-LLMExplain-bar');
            const box = c.getBoundingClientRect();
            return [a ? (a.classList.contains('jp-mod-negative') ? -1 : 1) * a.getBoundingClientRect().height : null,
                    w ? w.getBoundingClientRect().height : null, box.left, box.right];
        })""")
    attributions, attention = payload["attributions"], payload["attention"]
    assert bars[p][:2] == [None, None]
    for i in range(p):  # the two rows of a token lie in its one column: aligned by construction
        assert (bars[i][0] < 0) == (attributions[i] < 0) or abs(attributions[i]) < 1e-9
    top_a = max(range(p), key=lambda i: abs(attributions[i]))
    top_w = max(range(p), key=lambda i: attention[i])
    assert abs(bars[top_a][0]) == pytest.approx(30, abs=1)  # half of the 60 px row
    assert bars[top_w][1] == pytest.approx(40, abs=1)  # the whole 40 px row
    assert all(a[3] <= b[2] + 0.5 for a, b in zip(bars, bars[1:]))  # columns side by side, in order

    # Hover a column: the status line gives both numbers of that token.
    for i in (top_a, top_w):
        v.locator(f".jp-LLMExplain-column[data-index='{i}']").hover()
        v.locator(f".jp-LLMExplain-status[data-index='{i}']").wait_for()
        status = v.locator(".jp-LLMExplain-status").inner_text()
        assert f"attribution {signed(attributions[i], 4)}" in status
        assert f"attention weight {attention[i]:.4f}" in status
    assert "Attention is not explanation" in v.locator(".jp-LLMExplain-caveat").inner_text()
    # Before anything is chosen, the pointer leaving the columns brings back the explained token, the one tab stop.
    nb.mouse.move(0, 0)
    v.locator(f".jp-LLMExplain-status[data-index='{p}']").wait_for()
    assert v.locator(".jp-LLMExplain-column[tabindex='0']").get_attribute("data-index") == str(p)
    # Keyboard: focus a column, then move.
    v.locator(f".jp-LLMExplain-column[data-index='{p - 1}']").focus()
    nb.keyboard.press("ArrowLeft")
    v.locator(f".jp-LLMExplain-status[data-index='{p - 2}']").wait_for()
    v.locator(f".jp-LLMExplain-column[data-index='{top_a}']").click()
    nb.mouse.move(0, 0)
    v.locator(f".jp-LLMExplain-status[data-index='{top_a}']").wait_for()
    screenshot(nb, "explain-saliency", v)


def test_a_generation_shows_its_prompt_muted_and_explains_the_continuation(nb):
    payload = nb.payloads["generation"]
    p = payload["prompt_tokens"]
    assert p == len(PROMPT) and payload["rows"][0]["index"] == p  # a character model: one token a character
    v = view(nb, 3)
    prompt = v.locator(".jp-LLMExplain-text .jp-mod-prompt")
    assert "".join(prompt.all_text_contents()) == PROMPT.replace("\n", "↵")
    assert prompt.evaluate_all("ns => ns.filter(n => n.tabIndex >= 0 || n.dataset.index).length") == 0
    assert f"prompt: the first {p} of {len(payload['tokens'])} tokens" in v.locator(".jp-LLMExplain-header").inner_text()
    indices = v.locator(".jp-LLMExplain-text [data-index]").evaluate_all("ns => ns.map(n => +n.dataset.index)")
    assert indices == [r["index"] for r in payload["rows"]]
    v.locator(".jp-LLMExplain-text [data-index]").first.focus()
    card_shows(nb, v, payload["rows"][0])
    nb.keyboard.press("ArrowLeft")  # the first token of the continuation: nowhere further left to go
    card_shows(nb, v, payload["rows"][0])
    nb.keyboard.press("ArrowRight")
    card_shows(nb, v, payload["rows"][1])
    # greedy: the chosen token is every row's first alternative, marked in the card
    assert v.locator(".jp-LLMExplain-alt").first.get_attribute("class").endswith("jp-mod-chosen")


def test_markup_in_tokens_shows_as_text(nb):
    v = view(nb, 4)
    text = v.locator(".jp-LLMExplain-text").text_content()
    assert text == "<script>alert(2)</script>" + EVIL
    v.locator(".jp-LLMExplain-token[data-index='1']").hover()
    card = card_shows(nb, v, nb.payloads["evil"]["rows"][0])
    assert quote("<b>bold</b>") in card and "<script>alert(2)</script>" in card
    assert "<b>m</b>" in v.locator(".jp-LLMExplain-header").inner_text()
    assert v.locator("script, img, b").count() == 0
    assert nb.locator(".jp-LLMExplain img, .jp-LLMExplain script").count() == 0
    assert nb.dialogs == []


def test_a_newer_or_broken_payload_says_why_instead_of_drawing(nb):
    newer, broken = view(nb, 5, 0), view(nb, 5, 1)
    said = newer.locator(".jp-LLMExplain-error").inner_text()
    assert said.startswith("Cannot show this explanation:") and "version 2" in said and "newer" in said
    assert "update jupyter_llm" in said
    said = broken.locator(".jp-LLMExplain-error").inner_text()
    assert said == ("Cannot show this explanation: Row 0: expected prob to be a number. Received: none.")
    assert newer.locator(".jp-LLMExplain-token").count() == 0
    said = view(nb, 5, 2).locator(".jp-LLMExplain-error").inner_text()
    assert said == 'Cannot show this explanation: Expected kind "explanation" or "saliency". Received: kind "story".'
    said = view(nb, 5, 3).locator(".jp-LLMExplain-error").inner_text()
    position = nb.payloads["saliency"]["position"]
    assert said == (f"Cannot show this explanation: Expected attention to hold {position} numbers "
                    f"(one per token before position {position}).")
    assert nb.errors == []


def test_the_views_follow_the_dark_theme(nb, screenshot):
    """Theme colours only: in JupyterLab Dark the card is dark and its text light."""
    def luminance(prop: str, selector: str) -> float:
        rgb = nb.evaluate(f"(s) => getComputedStyle(document.querySelector(s)).{prop}", selector)
        return sum(float(x) for x in rgb[rgb.index("(") + 1: rgb.index(")")].split(",")[:3]) / 3

    card = ".jp-LLMExplain-card"
    view(nb, 1)
    assert luminance("backgroundColor", card) > 200 and luminance("color", card) < 100
    nb.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})")
    try:
        nb.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'")
        nb.wait_for_function(f"() => getComputedStyle(document.querySelector('{card}')).backgroundColor"
                             " !== 'rgb(255, 255, 255)'")
        assert luminance("backgroundColor", card) < 80 and luminance("color", card) > 150
        v = view(nb, 1)
        worst = nb.payloads["explanation"]["summary"]["most_surprising"][0]["index"]
        v.locator(f".jp-LLMExplain-token[data-index='{worst}']").click()
        nb.mouse.move(0, 0)
        v.locator(f"{card}[data-index='{worst}']").wait_for()
        screenshot(nb, "explain-view-dark", v)
    finally:
        nb.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'})")
        nb.wait_for_function("() => document.body.dataset.jpThemeLight === 'true'")
