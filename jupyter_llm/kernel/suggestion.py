"""Where an inline suggestion may end: where a word ends, never inside one.

The ``complete`` request streams its text as the model makes it, but only up
to the last place where a word is known to end, so the ghost text of the front
end grows word by word and a suggestion never stops mid-word. A word is a run
of letters, digits, ``_`` and apostrophes. A character of a script written
without spaces (Chinese, Japanese kana) is a word of its own: such text ends
between two characters or at punctuation. Trailing whitespace is held back
(it is shown once the next word is), and a blank line ends the suggestion.

Nothing here imports TensorFlow.
"""

from __future__ import annotations

from typing import Iterable, Iterator

#: A suggestion ends before the first blank line it makes.
BLANK_LINE = "\n\n"

#: Scripts written without spaces between words: each character stands alone.
_ALONE = (
    ("\u2e80", "\u2fdf"),  # CJK radicals, Kangxi radicals
    ("\u3040", "\u30ff"),  # Hiragana, Katakana
    ("\u3100", "\u312f"),  # Bopomofo
    ("\u3400", "\u4dbf"),  # CJK unified ideographs, extension A
    ("\u4e00", "\u9fff"),  # CJK unified ideographs
    ("\uf900", "\ufaff"),  # CJK compatibility ideographs
    ("\U00020000", "\U0003134f"),  # CJK unified ideographs, extensions B to G
)


def stands_alone(ch: str) -> bool:
    """Whether the character ``ch`` is a word by itself (a Chinese character, kana)."""
    return any(low <= ch <= high for low, high in _ALONE)


def joins(ch: str) -> bool:
    """Whether the character ``ch`` may be continued by the next one within a word."""
    return (ch.isalnum() or ch in "_'\u2019") and not stands_alone(ch)


def word_end(text: str, start: int = 0) -> int:
    """The length of the longest prefix of ``text`` that ends a word, when more text may follow.

    The prefix ends on a non-space character after which a word cannot go on:
    punctuation, a character that stands alone, or a letter followed by a
    character that does not join it; ``start`` when there is none after it (0
    by default). ``word_end("What light thro")`` is 10 (``"What light"``);
    ``word_end("我们走")`` is 3.
    """
    for i in range(len(text), start, -1):
        before = text[i - 1]
        if before.isspace():
            continue  # trailing whitespace waits for the next word
        if not joins(before) or (i < len(text) and not joins(text[i])):
            return i
    return start


def visible(text: str) -> tuple[str, bool]:
    """What may be shown of a suggestion made so far, and whether it is finished.

    Returns ``(shown, finished)``: ``shown`` is a prefix of ``text`` that ends
    where a word ends (it only grows as ``text`` grows); ``finished`` is true
    once ``text`` holds a blank line, which ends the suggestion before it.
    """
    blank = text.find(BLANK_LINE)
    if blank >= 0:
        return text[:blank].rstrip(), True
    return text[: word_end(text)], False


def whole_words(pieces: Iterable[str]) -> Iterator[str]:
    """The pieces of a suggestion, regrouped so that the text yielded so far always ends a word.

    Yields one item for each piece read (often ``""``: the piece only made a
    word longer), so that a reader may stop between any two tokens; what was
    yielded, joined, is then ``visible(text)[0]`` of the text read. Stops at a
    blank line, and closes ``pieces`` when it stops or is closed.
    """
    iterator = iter(pieces)
    text = ""
    shown = 0  # characters yielded so far
    try:
        for piece in iterator:
            start = max(0, len(text) - len(BLANK_LINE) + 1)  # a blank line may begin in the last piece
            text += piece
            blank = text.find(BLANK_LINE, start)
            if blank >= 0:
                yield text[shown: len(text[:blank].rstrip())]
                return
            end = word_end(text, shown)
            yield text[shown:end]
            shown = end
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


__all__ = ["BLANK_LINE", "joins", "stands_alone", "visible", "whole_words", "word_end"]
