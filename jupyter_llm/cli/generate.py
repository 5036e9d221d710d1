"""``jupyter-llm generate``: continue a prompt, printing text as it is made.

The sampling arguments (``-n``, ``-t``, ``--top-k``, ...) are built from the
:data:`~jupyter_llm.generation.options.GENERATION` table, so their ranges,
defaults and help are the table's, and a bad value gets the table's sentence.
"""

from __future__ import annotations

import argparse

from ..generation.options import GENERATION, SamplingOptions
from .common import (EXIT_OK, add_command, add_model_argument, add_table_arguments, interrupted, load, out,
                     read_text_argument, stream_out, unescape)

EXAMPLES = [
    'jupyter-llm generate bard "ROMEO:" -n 300 --seed 0',
    'jupyter-llm generate ./models/corpus "Dear" --temperature 0.7 --top-p 0.9 --stop "\\n\\n"',
    'jupyter-llm generate bard "To be" --samples 3 -n 80',
    'echo "Once upon a time" | jupyter-llm generate bard - --greedy',
]


def register(commands) -> None:
    p = add_command(commands, "generate", "Continue a prompt with a model, printing text as it is made.",
                    EXAMPLES, run)
    add_model_argument(p)
    p.add_argument("prompt", metavar="PROMPT", nargs="?", default="",
                   help="the text to continue; '-' reads it from stdin (default: start a new document)")
    add_table_arguments(p, GENERATION.values())
    p.add_argument("--no-stream", dest="stream", action="store_false",
                   help="print the text once it is complete")


def sampling_options(args: argparse.Namespace) -> SamplingOptions:
    """The options of the parsed arguments: what was not given takes the table's CLI default."""
    values = {**vars(args), "stop": [unescape(s) for s in args.stop or []] or None}
    return SamplingOptions.from_dict(values, "cli")


def run(args: argparse.Namespace) -> int:
    prompt = read_text_argument(args.prompt)
    options = sampling_options(args)  # checks the options together (beam and samples) before loading
    lm = load(args.model, args.prefer)
    pieces = lm.stream(prompt, **options.to_dict())
    n = options.n
    if n == 1 and args.stream:
        text, stopped = stream_out(prompt, pieces)
        if stopped:
            return interrupted()
        if not (prompt + text).endswith("\n"):
            out()
        return EXIT_OK

    texts = [""] * n
    stopped = False
    try:
        for step in pieces:
            texts = [t + p for t, p in zip(texts, [step] if n == 1 else step)]
    except KeyboardInterrupt:
        stopped = True
    for i, text in enumerate(texts, 1):
        if n > 1:
            out(f"--- sample {i} ---")
        full = prompt + text
        out(full, end="" if full.endswith("\n") else "\n")
    return interrupted() if stopped else EXIT_OK
