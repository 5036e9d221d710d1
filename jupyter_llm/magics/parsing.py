"""Reading a magic's line: options (argparse, from ``magic_arguments``) and free text.

``%generate -n 20 It's a "fine" day`` must keep the prompt exactly as typed,
quotes and apostrophes included, so the line is split in two: the leading
options, parsed by the magic's argparse parser, and the raw rest of the line.
"""

from __future__ import annotations

import argparse
import keyword
import re
import shlex
from contextlib import contextmanager
from typing import Any, Iterator

from IPython.core.error import UsageError

from ..errors import JupyterLLMError

# A shell-like word: quoted runs and bare runs glued together; a lone quote
# (an apostrophe in free text) is part of a word rather than an error.
_WORD = re.compile(r"""(?:"(?:\\.|[^"\\])*"|'[^']*'|[^\s"']+|["'])+""")


def split_line(line: str, parser: argparse.ArgumentParser) -> tuple[list[str], str]:
    """Split ``line`` into its leading option words and the raw text after them.

    Options end at the first word that is not an option of ``parser`` (or the
    value of one), or after ``--``. Option words are unquoted as a shell would.

    >>> from IPython.core.magic_arguments import MagicArgumentParser
    >>> p = MagicArgumentParser("demo"); _ = p.add_argument("-n", type=int)
    >>> split_line('-n 5 It\\'s "fine"', p)
    (['-n', '5'], 'It\\'s "fine"')
    """
    takes_value = {s: a.nargs != 0 for a in parser._actions for s in a.option_strings}
    longs = [s for s in takes_value if s.startswith("--")]
    words = [(m.group(), m.start(), m.end()) for m in _WORD.finditer(line)]
    options: list[str] = []
    i = 0
    while i < len(words):
        word, start, end = words[i]
        if word == "--":
            return options, line[end:].strip()
        if not word.startswith("-") or word == "-" or _is_number(word):
            return options, line[start:].strip()
        options.append(_unquote(word))
        name = word.split("=", 1)[0]
        if name not in takes_value and name.startswith("--"):
            matches = [s for s in longs if s.startswith(name)]  # argparse's abbreviations
            name = matches[0] if len(matches) == 1 else name
        if takes_value.get(name) and "=" not in word and i + 1 < len(words):
            i += 1
            options.append(_unquote(words[i][0]))
        i += 1
    return options, ""


def parse(parser: argparse.ArgumentParser, words: list[str], magic: str) -> argparse.Namespace:
    """Parse option words; argparse's complaints become one-sentence UsageErrors."""
    try:
        return parser.parse_args(words)
    except UsageError as e:
        raise UsageError(f"Invalid options for {magic}: {e} (see {magic}? for every option).") from None


def unquote_text(text: str) -> str:
    """Free text, with one pair of surrounding quotes removed if it is a single quoted word."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        try:
            words = shlex.split(text)
        except ValueError:
            return text
        if len(words) == 1:
            return words[0]
    return text


def unescape(value: str) -> str:
    r"""``\n``, ``\t`` and ``\\`` in an option value (``--stop '\n\n'``) as the characters."""
    return re.sub(r"\\([nt\\])", lambda m: {"n": "\n", "t": "\t", "\\": "\\"}[m.group(1)], value)


def _unquote(word: str) -> str:
    try:
        parts = shlex.split(word)
    except ValueError:
        return word
    return parts[0] if len(parts) == 1 else word


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


# === Arguments from an options table ===

def table_arguments(table: dict[str, Any], surface: str, names: list[str] | None = None):
    """A decorator adding ``magic_arguments`` for the options ``names`` of ``table`` (all: None), in order.

    Flags, types, ranges, defaults and help come from the table
    (:func:`jupyter_llm.options.argparse_spec`), so the magic says what the API says.
    """
    from IPython.core.magic_arguments import argument

    from ..options import argparse_spec

    def decorate(func):
        for name in reversed(names or list(table)):  # magic_arguments reads its decorators bottom-up
            flags, kwargs = argparse_spec(table[name], surface)
            func = argument(*flags, **kwargs)(func)
        return func

    return decorate


# === Argument types: the message says what was expected ===

def _typed(convert, check, expected: str):
    def parse_value(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not check(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, received {text!r}")
        return value

    parse_value.__name__ = expected
    return parse_value


positive_int = _typed(int, lambda v: v >= 1, "an integer >= 1")
non_negative_int = _typed(int, lambda v: v >= 0, "an integer >= 0")
positive_float = _typed(float, lambda v: v > 0 and v != float("inf"), "a number > 0")
probability = _typed(float, lambda v: 0 < v <= 1, "a number in (0, 1]")
fraction = _typed(float, lambda v: 0 <= v < 1, "a number in [0, 1)")


def identifier(text: str) -> str:
    """A variable name for ``--out``."""
    if not text.isidentifier() or keyword.iskeyword(text):
        raise argparse.ArgumentTypeError(f"expected a Python variable name, received {text!r}")
    return text


# === Errors ===

@contextmanager
def user_errors() -> Iterator[None]:
    """Show a :class:`~jupyter_llm.JupyterLLMError` as IPython shows a user's mistake: one line, no traceback."""
    try:
        yield
    except JupyterLLMError as e:
        raise UsageError(str(e)) from None
