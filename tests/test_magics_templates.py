"""Prompt templates and line splitting of the magics (pure functions, no model)."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError
from IPython.core.magic_arguments import MagicArgumentParser

from jupyter_llm.magics.parsing import split_line, unescape, unquote_text
from jupyter_llm.magics.templates import interpolate

NS = {"name": "Ada", "n": 3, "In": ["", "x = 1", "name"], "Out": {2: "Ada"}}


@pytest.mark.parametrize("template, expected", [
    ("Dear {name}", "Dear Ada"),
    ("{n} times", "3 times"),
    ("{ name }", "Ada"),
    ("{In[1]} then {Out[2]}", "x = 1 then Ada"),
    ("{{literal}} and {{ {name} }}", "{literal} and { Ada }"),
    ("no fields at all", "no fields at all"),
])
def test_interpolate(template, expected):
    assert interpolate(template, NS) == expected


@pytest.mark.parametrize("template, message", [
    ("{nobody}", "no variable 'nobody' is defined"),
    ("{name.upper}", "is an expression"),
    ("{name[0]}", "is an expression"),
    ("{__import__('os')}", "is an expression"),
    ("{n + 1}", "is an expression"),
    ("{}", "is empty"),
    ("{name!r}", "has a conversion or format"),
    ("{n:>5}", "has a conversion or format"),
    ("{In[7]}", "there is no input cell 7 (this session has In[1] to In[2])"),
    ("{Out[1]}", "cell 1 has no output"),
    ("a } b", "unbalanced braces"),
    ("a { b", "unbalanced braces"),
])
def test_interpolate_refuses(template, message):
    with pytest.raises(UsageError, match=None) as info:
        interpolate(template, NS)
    assert message in str(info.value)


def test_interpolate_evaluates_nothing():
    class Loud:
        def __str__(self):  # looked up only for a plain {name}
            return "loud"

        def __getattr__(self, item):
            raise AssertionError("attribute access must not happen")

    assert interpolate("{x}", {"x": Loud()}) == "loud"
    with pytest.raises(UsageError):
        interpolate("{x.anything}", {"x": Loud()})


@pytest.fixture
def parser():
    p = MagicArgumentParser("demo")
    p.add_argument("-n", "--max-tokens", type=int)
    p.add_argument("--stop", action="append")
    p.add_argument("--echo", action="store_true")
    return p


@pytest.mark.parametrize("line, words, rest", [
    ("-n 5 To be", ["-n", "5"], "To be"),
    ("-n5 To be", ["-n5"], "To be"),
    ("--max-tokens=5 --echo It's", ["--max-tokens=5", "--echo"], "It's"),
    ("--max 5 hi", ["--max", "5"], "hi"),  # argparse's abbreviations
    ('--stop "a b" --stop \'\\n\' "quoted prompt"', ["--stop", "a b", "--stop", "\\n"], '"quoted prompt"'),
    ("-- -n is text", [], "-n is text"),
    ("-n 2 -3 degrees", ["-n", "2"], "-3 degrees"),
    ("just text -n 5", [], "just text -n 5"),
    ("", [], ""),
])
def test_split_line(parser, line, words, rest):
    assert split_line(line, parser) == (words, rest)


def test_unquote_and_unescape():
    assert unquote_text('"To be"') == "To be"
    assert unquote_text("'a' and 'b'") == "'a' and 'b'"
    assert unquote_text("It's") == "It's"
    assert unescape(r"\n\t\\n") == "\n\t\\n"
