"""Cutting an utterance into the words the intent and slot model reads.

English (and any space-separated script) is cut at whitespace, with leading
and trailing punctuation split off: ``"tomorrow, 3:30pm?"`` gives
``tomorrow`` ``,`` ``3:30pm`` ``?``. Chinese, Japanese and Korean runs are
cut into single characters (``zh="char"``, the default: a slot boundary can
fall anywhere) or into jieba words (``zh="jieba"``). Every token keeps its
character offsets, so a slot's value is a slice of the original text.

>>> [t.text for t in tokenize("remind me to call Bob, tomorrow at 3pm!")]
['remind', 'me', 'to', 'call', 'Bob', ',', 'tomorrow', 'at', '3pm', '!']
>>> [t.text for t in tokenize("明天下午3点开会")]
['明', '天', '下', '午', '3', '点', '开', '会']
"""

from __future__ import annotations

import re
from typing import NamedTuple

from ..errors import invalid

__all__ = ["Token", "tokenize", "is_cjk", "has_cjk", "ZH_MODES"]

#: How Chinese (CJK) runs are cut.
ZH_MODES = ("char", "jieba")

_CJK = "\u2e80-\u2fff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_CJK_RUN = re.compile(f"[{_CJK}]+")
_CJK_CHAR = re.compile(f"[{_CJK}]")
# Punctuation split off the ends of a chunk (ASCII and full-width).
_PUNCT = set("!\"#$%&'()*+,./:;<=>?@[\\]^`{|}~" "，。！？；：、“”‘’（）《》【】…—·「」『』")


class Token(NamedTuple):
    """A word of an utterance and where it is: ``text == utterance[start:end]``."""

    text: str
    start: int
    end: int


def is_cjk(ch: str) -> bool:
    return bool(_CJK_CHAR.match(ch))


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds any Chinese, Japanese or Korean character."""
    return bool(_CJK_CHAR.search(text))


def tokenize(text: str, zh: str = "char", offset: int = 0) -> list[Token]:
    """The tokens of ``text`` with their offsets (shifted by ``offset``)."""
    if zh not in ZH_MODES:
        raise invalid("zh", "one of 'char', 'jieba'", zh)
    tokens: list[Token] = []
    for chunk in re.finditer(r"\S+", text):
        start = chunk.start() + offset
        pos = 0
        piece = chunk.group()
        # Cut the chunk at CJK runs first; the Latin parts between them are words.
        for run in _CJK_RUN.finditer(piece):
            _latin(piece[pos:run.start()], start + pos, tokens)
            _cjk(run.group(), start + run.start(), zh, tokens)
            pos = run.end()
        _latin(piece[pos:], start + pos, tokens)
    return tokens


def _latin(piece: str, start: int, out: list[Token]) -> None:
    if not piece:
        return
    i, j = 0, len(piece)
    lead: list[Token] = []
    while i < j and piece[i] in _PUNCT:
        lead.append(Token(piece[i], start + i, start + i + 1))
        i += 1
    trail: list[Token] = []
    while j > i and piece[j - 1] in _PUNCT:
        j -= 1
        trail.append(Token(piece[j], start + j, start + j + 1))
    out.extend(lead)
    if i < j:
        out.append(Token(piece[i:j], start + i, start + j))
    out.extend(reversed(trail))


def _cjk(run: str, start: int, zh: str, out: list[Token]) -> None:
    if zh == "char":
        out.extend(Token(ch, start + k, start + k + 1) for k, ch in enumerate(run))
        return
    import jieba

    jieba.setLogLevel(60)  # no "Building prefix dict ..." chatter
    pos = 0
    for word in jieba.cut(run, HMM=False):
        out.append(Token(word, start + pos, start + pos + len(word)))
        pos += len(word)
