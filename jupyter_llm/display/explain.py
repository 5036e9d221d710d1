"""How an :class:`Explanation` and a :class:`Saliency` display: mime bundle, static HTML and text.

Both show in any Jupyter front end: JupyterLab with the jupyter_llm extension
draws ``application/vnd.jupyter-llm.explain+json`` (exactly the object's
``to_dict()``) interactively; everything else (Notebook, VS Code, nbviewer)
shows the static ``text/html``, which holds no script: each token is
focusable (Tab) and its alternatives show on hover and on focus by CSS alone;
a terminal gets text.

The objects themselves are core types of :mod:`jupyter_llm.model.explain`; their
display methods call this module through the hook the package root registers
(#11: the core never imports display). Every piece of model or user text goes
through :func:`html.escape`.
"""

from __future__ import annotations

import html
import itertools
from typing import Any

import numpy as np

from ..model.explain import VERSION, Explanation, Saliency

__all__ = ["MIME_TYPE", "VERSION", "HTML_MAX_TOKENS", "mime_bundle", "to_html", "to_text",
           "explanation_html", "saliency_html", "attention_share", "copies_bundle"]

MIME_TYPE = "application/vnd.jupyter-llm.explain+json"
#: The static HTML shows at most this many tokens (the JSON carries them all).
HTML_MAX_TOKENS = 2000
#: Surprisal (bits) at which a token gets the darkest shade.
DARKEST_BITS = 8.0
SURPRISAL_RGB = "230,80,40"
ATTENTION_RGB = "25,118,210"  # JupyterLab's brand blue, as in the attention views
COPY_RGB = "142,36,170"

#: A unique id per rendering (tooltips are referenced by id; several outputs share one page).
_IDS = itertools.count()


def mime_bundle(obj: Explanation | Saliency) -> dict[str, Any]:
    """The custom mime type (``obj.to_dict()``) with ``text/html`` and ``text/plain`` fallbacks."""
    return {MIME_TYPE: obj.to_dict(), "text/html": to_html(obj), "text/plain": to_text(obj)}


def to_html(obj: Explanation | Saliency) -> str:
    return explanation_html(obj) if isinstance(obj, Explanation) else saliency_html(obj)


def to_text(obj: Explanation | Saliency) -> str:
    return explanation_text(obj) if isinstance(obj, Explanation) else saliency_text(obj)


# === Figures ===

def attention_share(row: dict[str, Any]) -> float:
    """The attention context's share of the chosen token's logit, bias aside: ``|A| / (|G| + |A|)`` in [0, 1]."""
    g, a = abs(row["gru_logit"]), abs(row["attention_logit"])
    return a / (g + a) if g + a > 0 else 0.0


def _mean_share(rows: list[dict[str, Any]]) -> float | None:
    return float(np.mean([attention_share(r) for r in rows])) if rows else None


def _show(token: str) -> str:
    """A token piece as it reads in a sentence: quoted, with newlines and tabs visible."""
    return repr(token)


def _copy_of_token(e: Explanation) -> list[dict[str, int] | None]:
    """For each token, the copied span it overlaps (None if none), by the characters of ``e.text``."""
    found: list[dict[str, int] | None] = []
    start = 0
    for token in e.tokens:
        end = start + len(token)
        found.append(next((c for c in e.copies or () if c["start"] < end and start < c["end"]
                           and end > start), None))
        start = end
    return found


# === Explanation ===

def explanation_text(e: Explanation) -> str:
    """Bits per character, the attention share and the most surprising tokens, on a few lines."""
    s = e.summary
    what = "tokens of the continuation" if e.prompt_tokens is not None else "tokens predicted"
    lines = [f"Explanation: {s['tokens']} {what}, {s['bits_per_char']:.3f} bits per character "
             f"({s['bits_per_token']:.2f} bits per token, {s['total_bits']:.1f} bits in total)"]
    share = _mean_share(e.rows)
    if share is not None:
        lines.append(f"  attention gave {share:.0%} of the chosen tokens' logits (GRU + attention, bias aside)")
    if s["most_surprising"]:
        lines.append("  most surprising: " + ", ".join(f"{_show(w['token'])} {w['surprisal_bits']:.1f} bits"
                                                       for w in s["most_surprising"]))
    if e.copies is not None:
        lines.append("  " + _copies_sentence(e))
    return "\n".join(lines)


def _copies_sentence(e: Explanation) -> str:
    copies = e.copies or []
    if not copies:
        return "nothing found verbatim in the training text"
    text = e.text
    shown = "; ".join(f"{_show(text[c['start']:c['end']])} (characters {c['start']}-{c['end']}, at "
                      f"{c['source_offset']:,} in the training text)" for c in copies[:5])
    more = f"; and {len(copies) - 5} more" if len(copies) > 5 else ""
    return f"{len(copies)} span(s) found verbatim in the training text: {shown}{more}"


_STYLE = (
    "<style>"
    ".jl-explain{font-family:var(--jp-content-font-family,sans-serif);font-size:13px}"
    ".jl-explain .jl-note{font-size:12px;opacity:.75;margin:2px 0}"
    ".jl-explain .jl-text{font-family:monospace;white-space:pre-wrap;word-break:break-word;line-height:2}"
    ".jl-explain .jl-tok{position:relative;border-radius:2px}"
    ".jl-explain .jl-tok:focus{outline:2px solid #1a73e8;outline-offset:1px}"
    ".jl-explain .jl-tip{position:absolute;left:0;top:1.9em;z-index:10;min-width:22em;"
    "background:var(--jp-layout-color0,#fff);color:var(--jp-ui-font-color0,#000);border:1px solid #888;"
    "border-radius:3px;padding:3px 6px;white-space:pre;font-size:12px;line-height:1.4;"
    "box-shadow:0 2px 6px rgba(0,0,0,.25)}"
    # (a tip is hidden by its own style attribute, so it stays hidden where this sheet is stripped)
    ".jl-explain .jl-tok:hover>.jl-tip,.jl-explain .jl-tok:focus>.jl-tip{display:block !important}"
    "</style>"
)


def _tooltip(row: dict[str, Any], copy: dict[str, int] | None) -> str:
    alternatives = ", ".join(f"{_show(t)} {p:.3f}" for t, p in row["alternatives"])
    sources = ", ".join(f"{_show(src['token'])}@{src['index']} {src['contribution']:+.2f}"
                        for src in row["attention_sources"][:3])
    lines = [
        f"{_show(row['token'])}: p {row['prob']:.3f}, {row['surprisal_bits']:.2f} bits "
        f"(entropy {row['entropy_bits']:.2f} bits)",
        f"alternatives: {alternatives}",
        f"logit {row['logit']:.2f} = GRU {row['gru_logit']:+.2f} + attention {row['attention_logit']:+.2f} "
        f"+ bias {row['bias']:+.2f} (attention {attention_share(row):.0%})",
        f"margin over {_show(row['runner_up'])} {row['margin']:+.2f} = GRU {row['gru_margin']:+.2f} "
        f"+ attention {row['attention_margin']:+.2f} + bias {row['bias_margin']:+.2f}",
    ]
    if sources:
        lines.append(f"attention part from: {sources}")
    if copy is not None:
        lines.append(f"copied: characters {copy['start']}-{copy['end']} are in the training text at "
                     f"{copy['source_offset']:,}")
    return "\n".join(lines)


def explanation_html(e: Explanation) -> str:
    """The text shaded by surprisal, underlined by the attention share; every predicted token is
    focusable and shows its alternatives and its logit split on hover or focus. No script."""
    s = e.summary
    uid = f"jl-x{next(_IDS)}"
    share = _mean_share(e.rows)
    what = "tokens of the continuation" if e.prompt_tokens is not None else "tokens predicted"
    head = (f"<div><b>{s['tokens']}</b> {what}: <b>{s['bits_per_char']:.3f}</b> bits per character, "
            f"{s['bits_per_token']:.2f} bits per token, {s['total_bits']:.1f} bits in total"
            + (f"; attention gave {share:.0%} of the chosen tokens' logits (GRU + attention, bias aside)"
               if share is not None else "") + ".</div>")
    worst = ", ".join(f"{_esc(_show(w['token']))} ({w['surprisal_bits']:.1f} bits)" for w in s["most_surprising"])
    if worst:
        head += f"<div>Most surprising: {worst}</div>"
    if e.copies is not None:
        head += f"<div style='color:rgb({COPY_RGB})'>{_esc(_copies_sentence(e))}</div>"
    legend = ("<div class='jl-note'>Shade: surprisal (none at 0 bits, darkest from "
              f"{DARKEST_BITS:g} bits). Blue underline: the attention context's share of the chosen token's logit. "
              + ("Dotted box: found verbatim in the training text. " if e.copies else "")
              + ("Faded: the prompt. " if e.prompt_tokens else "")
              + "Hover over a token, or Tab to it, for its alternatives and its logit split.</div>")
    rows = {row["index"]: row for row in e.rows}
    copies = _copy_of_token(e)
    start, end = _shown_range(e)
    spans = []
    for i in range(start, end):
        token, row = e.tokens[i], rows.get(i)
        if row is None:
            faded = ";opacity:.55" if e.prompt_tokens is not None and i < e.prompt_tokens else ""
            spans.append(f"<span class='jl-ctx' style='{faded[1:]}'>{_esc(token)}</span>")
            continue
        alpha = min(row["surprisal_bits"] / DARKEST_BITS, 1.0) * 0.6
        style = (f"background:rgba({SURPRISAL_RGB},{alpha:.3f});"
                 f"border-bottom:3px solid rgba({ATTENTION_RGB},{attention_share(row):.2f})")
        if copies[i] is not None:
            style += f";outline:1px dotted rgb({COPY_RGB})"
        tip_id = f"{uid}-{i}"
        spans.append(f"<span class='jl-tok' tabindex='0' aria-describedby='{tip_id}' style='{style}'>{_esc(token)}"
                     f"<span class='jl-tip' id='{tip_id}' role='tooltip' style='display:none'>"
                     f"{_esc(_tooltip(row, copies[i]))}</span></span>")
    cut = "" if (start, end) == (0, len(e.tokens)) else (
        f"<div class='jl-note'>Tokens {start}-{end - 1} of {len(e.tokens)} shown (the JSON payload holds all).</div>")
    return f"{_STYLE}<div class='jl-explain'>{head}{legend}{cut}<div class='jl-text'>{''.join(spans)}</div></div>"


def _shown_range(e: Explanation) -> tuple[int, int]:
    """The tokens the static HTML shows: all, or the first (a text) or last (a generation) HTML_MAX_TOKENS."""
    n = len(e.tokens)
    if n <= HTML_MAX_TOKENS:
        return 0, n
    return (n - HTML_MAX_TOKENS, n) if e.prompt_tokens is not None else (0, HTML_MAX_TOKENS)


# === Copied spans of a text (``%%generate --check-copies`` without --explain) ===

def copies_bundle(text: str, spans: Any) -> dict[str, Any]:
    """``text`` with the spans ``lm.copied`` found in it marked: a list as text, ``<mark>`` in escaped HTML.

    ``spans``: objects with ``start``, ``end`` (characters of ``text``) and ``source_offset``.
    """
    spans = sorted(spans, key=lambda c: c.start)
    if not spans:
        plain = "Nothing of this text was found verbatim in the training text."
    else:
        plain = f"{len(spans)} span(s) found verbatim in the training text:\n" + "\n".join(
            f"  characters {c.start}-{c.end} (at {c.source_offset:,} in the training text): "
            f"{_show(text[c.start:c.end])}" for c in spans)
    parts, at = [], 0
    for c in spans:
        parts.append(_esc(text[at:c.start]))
        parts.append(f"<mark style='background:rgba({COPY_RGB},.18);outline:1px dotted rgb({COPY_RGB})' "
                     f"title='copied: at {c.source_offset:,} in the training text'>{_esc(text[c.start:c.end])}</mark>")
        at = max(at, c.end)
    parts.append(_esc(text[at:]))
    head = _esc(plain.splitlines()[0])
    markup = (f"<div class='jl-explain jl-copies'><div style='color:rgb({COPY_RGB})'>{head}</div>"
              f"<div style='font-family:monospace;white-space:pre-wrap;word-break:break-word'>{''.join(parts)}</div></div>")
    return {"text/plain": plain, "text/html": markup}


# === Saliency ===

def saliency_text(s: Saliency) -> str:
    """The input tokens that moved the output's log-probability most, beside their attention weights."""
    steps = f", {s.steps} steps" if s.steps else ""
    order = np.argsort(-np.abs(s.attributions), kind="stable")[:5]
    top = ", ".join(f"{_show(s.tokens[i])}@{i} {s.attributions[i]:+.3f} (attention {s.attention[i]:.3f})"
                    for i in order)
    return (f"Saliency ({s.method}{steps}) of {_show(s.tokens[s.position])} at position {s.position}: "
            f"log p {s.logprob:.3f}, at the baseline {s.baseline_logprob:.3f}\n  moved most by: {top}")


def saliency_html(s: Saliency) -> str:
    """The input tokens shaded by attribution (red up, blue down) above the same tokens shaded by attention."""
    scale = float(np.abs(s.attributions).max()) if len(s.attributions) else 0.0
    scale = scale or 1.0

    def line(values, what, rgb_of, strength_of):
        return "".join(
            f"<span class='jl-tok' tabindex='0' title='{_esc(_show(token))} {what} {v:+.4f}' "
            f"aria-label='{_esc(_show(token))} {what} {v:+.4f}' "
            f"style='background:rgba({rgb_of(v)},{min(strength_of(v), 1.0) * 0.6:.3f})'>{_esc(token)}</span>"
            for token, v in zip(s.tokens[: s.position], values))

    saliency_line = line(s.attributions, "attribution",
                         lambda v: SURPRISAL_RGB if v >= 0 else ATTENTION_RGB, lambda v: abs(v) / scale)
    attention_line = line(s.attention, "attention weight", lambda v: "40,160,80", lambda v: v)
    steps = f", {s.steps} steps" if s.steps else ""
    target = _esc(_show(s.tokens[s.position]))
    return (f"{_STYLE}<div class='jl-explain'><div>{_esc(s.method)}{steps} for {target} (position {s.position}): "
            f"log p {s.logprob:.3f}, at the baseline {s.baseline_logprob:.3f}</div>"
            "<div class='jl-note'>Red: raised the log-probability, blue: lowered it; green: the attention weights "
            "of the same step (attention is not explanation: compare the two).</div>"
            f"<div class='jl-text'>saliency: {saliency_line}</div>"
            f"<div class='jl-text'>attention: {attention_line}</div></div>")


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)
