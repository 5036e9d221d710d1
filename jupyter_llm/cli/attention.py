"""``jupyter-llm attention``: which earlier tokens each token of a text attends to."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import DataError
from .common import EXIT_OK, add_command, add_model_argument, load, out, out_json, positive_int, read_text_argument

EXAMPLES = [
    'jupyter-llm attention bard "To be, or not to be"',
    'jupyter-llm attention bard "To be, or not to be" --top 5',
    'jupyter-llm attention bard "To be, or not to be" --html attention.html',
    "jupyter-llm attention bard - --json < passage.txt",
]

_PAGE = ('<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>jupyter-llm attention</title>'
         "</head><body>\n{}\n</body></html>\n")


def register(commands) -> None:
    p = add_command(commands, "attention", "Show which earlier tokens each token of a text attends to.",
                    EXAMPLES, run)
    add_model_argument(p)
    p.add_argument("text", metavar="TEXT", help="the text to read; '-' reads it from stdin")
    p.add_argument("--top", type=positive_int, default=3, metavar="K",
                   help="show the K most attended tokens of each token (default: 3)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--json", action="store_true", help="print the tokens and the full weight matrix as JSON")
    where.add_argument("--html", metavar="FILE", help="write a static HTML heatmap to FILE")


def run(args: argparse.Namespace) -> int:
    text = read_text_argument(args.text)
    amap = load(args.model, args.prefer).attention(text)
    if args.json:
        return out_json(amap.to_dict(), ensure_ascii=False)
    if args.html is not None:
        try:
            Path(args.html).write_text(_PAGE.format(amap.to_html()), encoding="utf-8")
        except OSError as e:
            raise DataError(f"Cannot write '{args.html}' ({e.strerror}). Expected a writable file path.") from None
        out(f"Wrote the attention of {len(amap)} tokens to {args.html}")
        return EXIT_OK
    out(f"{len(amap)} tokens; each attends to (position: weight):")
    width = max(len(_token(t)) for t in amap.tokens)
    for i, token in enumerate(amap.tokens):
        tops = "  ".join(f"{_token(tok)}@{pos}: {w:.2f}" for pos, tok, w in amap.top(i, args.top))
        out(f"{i:>5}  {_token(token):<{width}}  -> {tops}")
    return EXIT_OK


def _token(token: str) -> str:
    """A token shown so that spaces and newlines are visible: ``' '``, ``'\\n'``."""
    return repr(token)
