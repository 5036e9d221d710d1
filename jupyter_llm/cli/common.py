"""What every ``jupyter-llm`` command shares: the parser, exit statuses, output, errors and loading.

Nothing here imports TensorFlow at import time; :func:`load` imports it when a
command needs a model.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, Callable, Iterable

from ..errors import DataError
from ..options import Option, argparse_spec

PROG = "jupyter-llm"

EXIT_OK = 0
EXIT_ERROR = 1  # a JupyterLLMError other than a bad argument: missing file or model, bad data, ...
EXIT_USAGE = 2  # a mistake on the command line, as argparse reports it
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C

# The library's messages name Python arguments; on the command line they are flags.
_FLAG_SPELLING = {
    "pass overwrite=True": "pass --overwrite",
    "pass greedy=True": "pass --greedy",
}

Handler = Callable[[argparse.Namespace], int]


class UsageError(Exception):
    """A mistake on the command line (exit status 2)."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises instead of printing usage and exiting."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(f"{message} (see '{self.prog} --help')")


# === Building the parser ===

def add_command(commands, name: str, help: str, examples: Iterable[str], handler: Handler) -> argparse.ArgumentParser:
    """A subcommand with its help, its examples (the epilog) and the function that runs it."""
    sub = commands.add_parser(name, help=help, description=help, epilog=examples_text(*examples),
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    sub.set_defaults(handler=handler)
    return sub


def examples_text(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def add_model_argument(parser: argparse.ArgumentParser, loads: bool = True) -> None:
    """The positional ``MODEL`` of the commands that take one, and ``--prefer`` for those that load it."""
    parser.add_argument("model", metavar="MODEL",
                        help="a model name (bundled or saved), a key such as saved:NAME, or a model folder")
    if loads:
        add_prefer_argument(parser)


def add_prefer_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--prefer", choices=("bundled", "user"), default="bundled",
                        help="which model a name means when one of yours has a bundled model's name "
                             "(default: bundled; the magics' JupyterLLM.prefer_user_models)")


def add_json_flag(parser, **kwargs: Any) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON", **kwargs)


def add_table_arguments(parser, options: Iterable[Option], surface: str = "cli") -> None:
    """One argument for each option of a table (:func:`jupyter_llm.options.argparse_spec`).

    Each argument's default is None ("not given"); the command takes the
    table's default for ``surface`` (``Option.default_for``) when it builds the options.
    """
    for option in options:
        flags, kwargs = argparse_spec(option, surface)
        parser.add_argument(*flags, **kwargs)


def positive_int(value: str) -> int:
    return _int_at_least(value, 1, "a positive integer")


def port_number(value: str) -> int:
    number = _int_at_least(value, 1, "a port number from 1 to 65535")
    if number > 65535:
        raise argparse.ArgumentTypeError(f"expected a port number from 1 to 65535, received {value!r}")
    return number


def non_negative_int(value: str) -> int:
    return _int_at_least(value, 0, "an integer >= 0")


def _int_at_least(value: str, minimum: int, expected: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or number < minimum:
        raise argparse.ArgumentTypeError(f"expected {expected}, received {value!r}")
    return number


# === Reading what the user gave ===

def read_text_argument(value: str) -> str:
    """The argument itself, or stdin for '-' (without the one newline that ends it)."""
    if value != "-":
        return value
    text = sys.stdin.read()
    return text[:-1] if text.endswith("\n") else text


def unescape(text: str) -> str:
    r"""``\n``, ``\t`` and ``\\`` typed on the command line as the characters they name."""
    return re.sub(r"\\(\\|n|t)", lambda m: {"\\": "\\", "n": "\n", "t": "\t"}[m.group(1)], text)


def source_paths(sources: list[str]) -> list[Path]:
    """Files named on the command line, globs expanded ('**' recursively), in order."""
    paths: list[Path] = []
    for source in sources:
        expanded = os.path.expanduser(source)
        if glob.has_magic(expanded):
            matches = sorted(p for p in glob.glob(expanded, recursive=True) if os.path.isfile(p))
            if not matches:
                raise DataError(f"No file matches '{source}'. Expected a glob that matches at least one text file.")
            paths.extend(Path(p) for p in matches)
        elif os.path.isdir(expanded):
            raise DataError(f"'{source}' is a folder. Expected a text file, or a glob such as "
                            f"'{source.rstrip('/')}/*.txt'.")
        elif not os.path.isfile(expanded):
            raise DataError(f"No such file: '{source}'. Expected the path of a text file.")
        else:
            paths.append(Path(expanded))
    return paths


def one_or_many(paths: list[Path]) -> Path | list[Path]:
    """What the API takes as a source: the one path, or the list."""
    return paths[0] if len(paths) == 1 else paths


def load(model: str, prefer: str = "bundled"):
    """The model named on the command line, by the rule every surface uses (:mod:`jupyter_llm.resolver`)."""
    import_tensorflow()
    from ..resolver import Resolver

    return Resolver(prefer=prefer).resolve(model).model


def import_tensorflow() -> None:
    """Import TensorFlow quietly (see ``jupyter_llm._tf``), with its logs below errors off in a terminal."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from .. import _tf  # noqa: F401,F811


# === Output ===

def out(text: str = "", end: str = "\n", flush: bool = False) -> None:
    sys.stdout.write(text + end)
    if flush:
        sys.stdout.flush()


def out_json(value: Any, **kwargs: Any) -> int:
    """Print ``value`` as JSON (keyword arguments go to ``json.dumps``); returns EXIT_OK."""
    out(json.dumps(value, **kwargs))
    return EXIT_OK


def stream_out(prompt: str, pieces: Iterable[str]) -> tuple[str, bool]:
    """Print ``prompt``, then each piece as it comes; returns (the text after the prompt, interrupted)."""
    out(prompt, end="", flush=True)
    text = ""
    try:
        for piece in pieces:
            text += piece
            out(piece, end="", flush=True)
    except KeyboardInterrupt:
        out()
        return text, True
    return text, False


def error(message: str, code: int) -> int:
    """Print ``jupyter-llm: error: message`` on stderr; returns ``code``."""
    sys.stdout.flush()
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return code


def interrupted() -> int:
    return error("Interrupted; the text above is what was generated.", EXIT_INTERRUPTED)


def cli_spelling(message: str) -> str:
    """A library message with its Python arguments spelled as the flags that set them."""
    for python, flag in _FLAG_SPELLING.items():
        message = message.replace(python, flag)
    return message


def table(rows: list[tuple[str, ...]], indent: int = 0) -> str:
    """Rows as aligned columns."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        " " * indent + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows
    )


def nats(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f} nats/token"
