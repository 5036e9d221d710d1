"""``jupyter-llm eval``: measure a model's loss on text files."""

from __future__ import annotations

import argparse

from .common import (EXIT_OK, add_command, add_json_flag, add_model_argument, load, nats, one_or_many, out, out_json,
                     source_paths, table)

EXAMPLES = [
    "jupyter-llm eval bard held_out.txt",
    "jupyter-llm eval ./models/corpus 'test/*.txt' --json",
]


def register(commands) -> None:
    p = add_command(commands, "eval", "Measure a model's loss on text files.", EXAMPLES, run)
    add_model_argument(p)
    p.add_argument("sources", nargs="+", metavar="SOURCE", help="text files or globs")
    add_json_flag(p)


def run(args: argparse.Namespace) -> int:
    sources = source_paths(args.sources)
    result = load(args.model, args.prefer).evaluate(one_or_many(sources))
    if args.json:
        return out_json(result, indent=2)
    out(table([
        ("loss", nats(result["loss"])),
        ("bits/token", f"{result['bits_per_token']:.3f}"),
        ("bits/char", f"{result['bits_per_char']:.3f}"),
        ("perplexity", f"{result['perplexity']:.2f}"),
        ("tokens", f"{result['tokens']:,}"),
        ("chars", f"{result['chars']:,}"),
    ]))
    return EXIT_OK
