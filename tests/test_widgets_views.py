"""AttentionView, the loss chart, the PNG encoder, "Insert below", open_panel and a TensorFlow-free import."""

from __future__ import annotations

import re
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

from jupyter_llm import AttentionMap, InvalidArgumentError  # noqa: E402
from jupyter_llm.widgets import AttentionView, GeneratePanel, TrainingPanel, open_panel  # noqa: E402
from jupyter_llm.widgets._png import encode_png  # noqa: E402
from jupyter_llm.widgets.attention_view import row_scale, window_bounds  # noqa: E402
from jupyter_llm.widgets.insert import QUEUED, insert_below, pending, register_insert_handler  # noqa: E402
from jupyter_llm.widgets.loss_chart import MAX_POINTS, downsample, loss_chart_svg  # noqa: E402


def causal_map(tokens: list[str], seed: int = 0, prompt_length: int | None = None) -> AttentionMap:
    rng = np.random.default_rng(seed)
    t = len(tokens)
    w = np.tril(rng.random((t, t)).astype(np.float32))
    return AttentionMap(tokens, w / w.sum(axis=1, keepdims=True), prompt_length=prompt_length)


# === AttentionView ===

def test_tokens_are_escaped_and_hover_rules_follow_the_weights():
    tokens = ["<script>alert(1)</script>", "&", "a\n", " ", '"q"']
    weights = np.array([[1, 0, 0, 0, 0], [.2, .8, 0, 0, 0], [.1, .1, .8, 0, 0],
                        [.7, .1, .1, .1, 0], [.1, .1, .1, .1, .6]], np.float32)
    view = AttentionView(AttentionMap(tokens, weights, prompt_length=2))
    body = view.body.value
    assert "<script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "&amp;" in body and "a↵\n" in body and "&quot;q&quot;" in body
    u = view._uid
    # Token 3 attended most to token 0: hovering 3 shades 0 darkest; its row of the heatmap lights up.
    assert f".{u}:has(.t3:hover) .t0" in body and f".{u}:has(.t3:hover) .h3" in body
    assert f'id="{u}-r4" class="r4" checked' in body  # the last token is selected first
    assert 'class="jlav-tok jlav-p t1"' in body and 'class="jlav-tok t2"' in body  # prompt vs generated
    assert "data:image/png;base64," in body
    # Each token's status line, shown by CSS while it is hovered or pinned; tokens quoted as JSON.
    assert '<div class="jlav-st s4">Token #4 &quot;\&quot;q\&quot;&quot; attended most to: ' in body
    assert f"{u}:has(.t4:hover) .s4" in body

    view.token.value = 3
    assert f'class="r3" checked' in view.body.value
    assert 'Token #3 &quot; &quot; attended most to: &quot;&lt;script&gt;' in view.body.value
    assert "(#0) 0.70" in view.body.value


def test_each_row_is_scaled_between_its_own_extremes_as_the_legend_says():
    assert row_scale(np.array([0.010, 0.020, 0.015])).tolist() == pytest.approx([0.0, 1.0, 0.5])
    assert row_scale(np.array([0.2, 0.2])).tolist() == [1.0, 1.0]  # a flat row is all full colour
    # Flat attention over 200 tokens (largest weight about 0.02): the shading still spans the whole scale.
    rng = np.random.default_rng(0)
    w = np.tril(1 + 0.3 * rng.random((200, 200)))
    view = AttentionView(AttentionMap([f"t{i}" for i in range(200)], w / w.sum(axis=1, keepdims=True)), window=256)
    body = view.body.value
    u = view._uid
    shades = {int(re.match(rf"\.{u}:has\(\.t199:hover\) \.t(\d+),", rule).group(1)):
              int(re.search(r"\) (\d+)%, transparent", rule).group(1))
              for rule in body.split("}") if rule.startswith(f".{u}:has(.t199:hover) .t")}
    row = view.attention.weights[199]
    assert row.max() < 0.01
    top = np.argsort(-row, kind="stable")[: view.top_k]
    assert shades == {int(j): round(80 * (row[j] - row.min()) / (row.max() - row.min())) for j in top}
    assert max(shades.values()) == 80
    assert "each row scaled on its own" in body


def test_heatmap_labels_thin_out_to_stay_readable():
    view = AttentionView(causal_map([f"w{i}" for i in range(207)]), window=256)
    labels = re.findall(r'class="jlav-axis jlav-col" style="left:([\d.]+)px">([^<]*)<', view.body.value)
    assert 10 < len(labels) < 30  # far fewer than 207, and each column label at least 14 px from the next
    lefts = [float(x) for x, _ in labels]
    assert min(b - a for a, b in zip(lefts, lefts[1:])) >= 14
    assert labels[0][1] == "w0"
    short = AttentionView(causal_map(["a", " ", "\n"]))
    assert re.findall(r'jlav-col" style="left:[\d.]+px">([^<]*)<', short.body.value) == ["a", "·", "↵"]


def test_a_long_text_shows_a_window_around_the_selected_token():
    amap = causal_map([f"w{i} " for i in range(3000)])
    view = AttentionView(amap, window=128)
    assert view.bounds == (2872, 3000)
    assert view.body.value.count('class="jlav-tok') == 128
    assert "2,872 earlier tokens" in view.body.value
    assert "tokens 2,872–2,999 of 3,000" in view.header.value
    assert len(view.body.value) < 400_000

    view.token.value = 1500
    start, end = view.bounds
    assert start <= 1500 < end and end - start == 128
    assert "later tokens" in view.body.value
    view.window.value = 512
    assert view.body.value.count('class="jlav-tok') == 512
    assert window_bounds(10, 3, 128) == (0, 10)


def test_attention_view_of_a_model_and_of_a_payload(tiny_lm):
    view = AttentionView.from_model(tiny_lm, "To be, or not to be", selected=3)
    assert len(view.attention) == 19 and view.selected == 3
    again = AttentionView(view.attention.to_dict())
    assert again.attention.tokens == view.attention.tokens
    with pytest.raises(TypeError, match="Expected an AttentionMap"):
        AttentionView([1, 2])


def test_png_encoder_writes_a_valid_image():
    rgba = np.zeros((3, 5, 4), np.uint8)
    rgba[1, 2] = (31, 119, 180, 255)
    data = encode_png(rgba)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (5, 3)
    length = struct.unpack(">I", data[33:37])[0]
    raw = zlib.decompress(data[41:41 + length])
    rows = np.frombuffer(raw, np.uint8).reshape(3, 1 + 5 * 4)
    assert (rows[:, 0] == 0).all() and tuple(rows[1, 1 + 2 * 4: 1 + 3 * 4]) == (31, 119, 180, 255)


# === Loss chart ===

def test_loss_chart_draws_both_curves_and_stays_small():
    empty = loss_chart_svg([], [])
    assert empty.startswith("<svg") and "appear after the first steps" in empty
    train = [(i, 4.0 / (1 + i / 100)) for i in range(1, 10_001)]
    svg = loss_chart_svg(train, [(2500, 3.0), (5000, 2.0)])
    assert svg.count("<polyline") == 2 and svg.count("<circle") == 2
    assert len(svg) < 20_000
    points = downsample(train)
    assert len(points) == MAX_POINTS and points[-1] == train[-1]
    assert "var(--jp-brand-color1" in svg  # themed by JupyterLab's variables


# === Insert below ===

def test_insert_below_queues_the_text_for_the_next_execution():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    inserted = []
    shell.set_next_input = lambda text, replace=False: inserted.append((text, replace))
    try:
        assert insert_below("first", shell) == QUEUED
        assert insert_below("second", shell) == QUEUED  # the latest wins
        assert pending(shell) == "second"
        shell.run_cell("1 + 1")
        assert inserted == [("second", False)] and pending(shell) is None
        shell.run_cell("2 + 2")
        assert inserted == [("second", False)]  # once only
    finally:
        del shell.set_next_input


def test_a_registered_handler_inserts_at_once(monkeypatch):
    got = []
    remove = register_insert_handler(lambda text: got.append(text) or True)
    try:
        assert insert_below("hello") == "Inserted the text in a new cell."
        assert got == ["hello"]
    finally:
        remove()
    monkeypatch.setattr("IPython.get_ipython", lambda: None)
    with pytest.raises(RuntimeError, match="needs a notebook"):
        insert_below("hello")


# === Opening the panels ===

def test_open_panel_builds_each_kind(tiny_lm):
    assert isinstance(open_panel("train", namespace={}, measure_speed=False), TrainingPanel)
    panel = open_panel("generate", model=tiny_lm, namespace={})
    assert isinstance(panel, GeneratePanel) and panel.model is tiny_lm
    with pytest.raises(InvalidArgumentError) as e:
        open_panel("assistent")
    assert str(e.value) == ("Invalid value for argument kind. Expected one of ['assistant', 'generate', 'train']. "
                            "Received: kind='assistent'")
    with pytest.raises(InvalidArgumentError, match="argument size"):
        TrainingPanel(size="huge")


def test_importing_and_building_the_panels_imports_no_tensorflow():
    code = (
        "import sys\n"
        "import jupyter_llm.widgets as w\n"
        "w.TrainingPanel(namespace={'text': 'a long enough text to be offered as data, surely'}, measure_speed=False)\n"
        "w.GeneratePanel, w.AttentionView\n"
        "heavy = [m for m in ('tensorflow', 'keras') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_register_panel_adds_a_kind(monkeypatch):
    from jupyter_llm import widgets

    monkeypatch.setitem(widgets.PANELS, "chart", "jupyter_llm.widgets.attention_view:AttentionView")
    view = open_panel("chart", attention=AttentionMap(["a", "b"], np.array([[1, 0], [.5, .5]])))
    assert isinstance(view, AttentionView)
    widgets.register_panel("echo", lambda **kw: kw)
    try:
        assert open_panel("echo", x=1) == {"x": 1}
    finally:
        widgets.PANELS.pop("echo")
