"""Small helpers the skills share: matching titles, two-language messages, HTML pieces."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from typing import Any

from ...nlu.tokenize import has_cjk, is_cjk

__all__ = ["match_score", "words_of", "say", "table_html", "escape", "lang_of"]

_STOP_EN = set("""a an the my me our your to of for on in at and with about from by is are be this that it please
that's my all up""".split())
_STOP_ZH = set("的了把我吧个一下我的那个这个")


def lang_of(text: str) -> str:
    """``"zh"`` when the text holds Chinese (or Japanese, Korean) characters, else ``"en"``."""
    return "zh" if has_cjk(text or "") else "en"


def words_of(text: str) -> list[str]:
    """Lower-case words of ``text`` without stop words; Chinese counts character by character."""
    out = []
    for w in re.findall(r"[^\W_]+", (text or "").lower()):
        if has_cjk(w):
            out += [c for c in w if is_cjk(c) and c not in _STOP_ZH] + re.findall(r"[a-z0-9]+", w)
        elif w not in _STOP_EN:
            out.append(w)
    return out


def match_score(query: str, text: str) -> float:
    """The fraction of the query's words found in ``text`` (0: none, 1: all).

    >>> match_score("dentist appointment", "Dentist appointment with Dr Lee")
    1.0
    """
    q = words_of(query)
    if not q:
        return 0.0
    t = set(words_of(text))
    t_joined = (text or "").lower()
    hits = sum(1 for w in q if w in t or (len(w) > 3 and w.rstrip("s") in t_joined))
    return hits / len(q)


def say(lang: str, en: str, zh: str, **values: Any) -> str:
    """The message in the user's language, with ``values`` filled in (not escaped)."""
    return (zh if lang == "zh" else en).format(**values)


def escape(value: Any) -> str:
    return html.escape(str(value), quote=True)


def table_html(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A small HTML table; every cell escaped."""
    head = "".join(f'<th style="text-align:left;padding:2px 8px">{escape(h)}</th>' for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td style="padding:2px 8px">{escape(c)}</td>' for c in row) + "</tr>" for row in rows
    )
    return f'<table style="border-collapse:collapse;margin:4px 0">' f"<tr>{head}</tr>{body}</table>"
