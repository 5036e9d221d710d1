"""Small public-domain excerpts shipped with the package, for demos, tutorials and quick tests.

>>> from jupyter_llm import datasets
>>> datasets.names()
['shakespeare', 'tang-poetry']
>>> text = datasets.load("shakespeare")       # a str, about 200,000 characters
>>> path = datasets.path("tang-poetry")        # a pathlib.Path to the UTF-8 file

They are excerpts of the corpora the bundled models were trained on:

* ``shakespeare``: the first 200,376 characters of "tiny Shakespeare" (the
  40,000-line collection of Shakespeare's plays used by char-rnn and nanoGPT);
* ``tang-poetry``: the first 120,003 characters of a collection of Tang-dynasty
  five- and seven-character verse, one couplet a line.

Nothing is downloaded: for the full corpora, point :func:`jupyter_llm.train` at
your own copy.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import invalid

__all__ = ["names", "path", "load", "describe"]

_HERE = Path(__file__).resolve().parent

#: name -> (file, one-line description)
_DATASETS = {
    "shakespeare": ("shakespeare_excerpt.txt",
                    "Shakespeare's plays: the first 200k characters of tiny Shakespeare (English, public domain)"),
    "tang-poetry": ("tang_poetry_excerpt.txt",
                    "Tang-dynasty verse, one couplet a line: 120k characters (Chinese, public domain)"),
}


def names() -> list[str]:
    """The names of the shipped excerpts."""
    return list(_DATASETS)


def path(name: str) -> Path:
    """The path of a shipped excerpt (a UTF-8 text file)."""
    if not isinstance(name, str) or name not in _DATASETS:
        raise invalid("name", f"one of {', '.join(map(repr, _DATASETS))}", name)
    return _HERE / _DATASETS[name][0]


def load(name: str) -> str:
    """The text of a shipped excerpt."""
    return path(name).read_text(encoding="utf-8")


def describe(name: str) -> str:
    """A one-line description of a shipped excerpt."""
    path(name)  # checks the name
    return _DATASETS[name][1]
