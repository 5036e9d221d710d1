"""The ``jupyter-llm`` command: train, run, inspect and manage models from a shell.

A thin surface over the Python API: each subcommand parses its arguments, calls
one function of :mod:`jupyter_llm` and prints the result. One module per
command (``train``, ``generate``, ``models``, ``evaluate`` for ``eval``,
``attention``, ``demo``, ``lab``), each with ``register(commands)`` and
``run(args)``; what they share is in :mod:`.common`. The arguments of
``generate`` and ``train`` are built from the options tables
(:data:`~jupyter_llm.generation.options.GENERATION`,
:data:`~jupyter_llm.training.options.TRAINING`). Importing this package (and
``jupyter-llm --help``) does not import TensorFlow; the commands that need a
model import it when they run.

Exit status: 0 on success, 2 for a mistake on the command line (an unknown
option, a bad value), 1 for any other error a user can cause (a missing file or
model), 130 when generation is interrupted. Errors print one line,
``jupyter-llm: error: <sentence>``, and no traceback.

>>> from jupyter_llm.cli import main
>>> main(["models"])                                  # doctest: +SKIP
No models saved yet in /home/me/.local/share/jupyter_llm/models.
0
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path
from typing import Sequence

from .._version import __version__
from ..errors import InvalidArgumentError, JupyterLLMError
from . import attention, demo, evaluate, generate, lab, models, train
from .common import (EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, PROG, Parser, UsageError, cli_spelling, error,
                     examples_text)

__all__ = ["main", "build_parser", "PROG", "EXIT_OK", "EXIT_ERROR", "EXIT_USAGE", "EXIT_INTERRUPTED"]

#: The commands in the order ``--help`` lists them.
COMMANDS = (train, generate, models, evaluate, attention, demo, lab)

_PACKAGE_DIR = Path(__file__).resolve().parents[1]


# === Entry point ===

def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``jupyter-llm`` command with ``argv`` (default: ``sys.argv[1:]``).

    Returns the exit status instead of exiting, so tests can call it in-process.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as e:
        return error(cli_spelling(str(e)), EXIT_USAGE)
    except SystemExit as e:  # --help and --version
        return e.code if isinstance(e.code, int) else EXIT_OK
    if args.handler is None:
        return error("Expected a command: lab, demo, train, generate, models, eval or attention "
                     f"(see '{PROG} --help').", EXIT_USAGE)
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            return args.handler(args)
        except UsageError as e:
            return error(str(e), EXIT_USAGE)
        except InvalidArgumentError as e:
            return error(cli_spelling(str(e)), EXIT_USAGE)
        except JupyterLLMError as e:
            return error(cli_spelling(str(e)), EXIT_ERROR)
        except KeyboardInterrupt:
            print(file=sys.stderr)
            return error("Interrupted.", EXIT_INTERRUPTED)
        except BrokenPipeError:
            # The reader of our output went away (`jupyter-llm generate ... | head`): stop quietly.
            _silence_stdout()
            return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``jupyter-llm`` and its subcommands."""
    parser = Parser(
        prog=PROG,
        description="Train, run and inspect small private GRU-attention language models.",
        epilog=examples_text(
            "jupyter-llm train notes/*.md --name notes --epochs 3",
            'jupyter-llm generate notes "Meeting with" -n 100 --seed 0',
            "jupyter-llm models",
            "jupyter-llm eval notes held_out.md",
            'jupyter-llm attention notes "The cat sat on the mat"',
        ) + f"\n\nModels are saved in $JUPYTER_LLM_HOME/models (see '{PROG} models').",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.set_defaults(handler=None)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for command in COMMANDS:
        command.register(commands)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """jupyter_llm's warnings as one line; other packages' warnings as Python shows them."""
    ours = category.__module__.startswith("jupyter_llm") or Path(filename).resolve().is_relative_to(_PACKAGE_DIR)
    if ours:
        print(f"{PROG}: warning: {message}", file=sys.stderr)
    else:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
