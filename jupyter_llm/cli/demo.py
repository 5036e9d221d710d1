"""``jupyter-llm demo``: generate text with a bundled default model, no training needed."""

from __future__ import annotations

import argparse

from ..generation.options import GENERATION
from .common import EXIT_OK, add_command, add_prefer_argument, add_table_arguments, interrupted, load, out, stream_out

#: The sampling options the demo takes (its defaults are the table's "demo" rules).
OPTIONS = ("max_tokens", "temperature", "seed")

EXAMPLES = [
    "jupyter-llm demo",
    "jupyter-llm demo --model tang-poetry",
    'jupyter-llm demo --prompt "KING HENRY:" -n 400',
]

DEMO_PROMPTS = {"shakespeare": ["ROMEO:\n", "First Citizen:\n"], "tang-poetry": ["春眠不觉晓，", "明月"]}


def register(commands) -> None:
    p = add_command(commands, "demo", "Generate text with a bundled default model: no training needed.",
                    EXAMPLES, run)
    p.add_argument("--model", default="shakespeare", metavar="NAME",
                   help="a bundled or saved model (default: shakespeare)")
    add_prefer_argument(p)
    p.add_argument("--prompt", action="append", metavar="TEXT", help="a prompt to continue (repeatable)")
    add_table_arguments(p, [GENERATION[name] for name in OPTIONS], "demo")


def run(args: argparse.Namespace) -> int:
    lm = load(args.model, args.prefer)
    val = (lm.summary().get("metrics") or {}).get("val_loss")
    out(f"# {lm!r}")
    if val is not None:
        out(f"# validation loss {val:.3f} nats/token")
    prompts = args.prompt or DEMO_PROMPTS.get(args.model, ["\n"])
    options = {name: GENERATION[name].default_for("demo") if getattr(args, name) is None else getattr(args, name)
               for name in OPTIONS}
    for i, prompt in enumerate(prompts):
        out(f"\n--- {prompt.strip() or 'new document'} ---")
        pieces = lm.stream(prompt, **{**options, "seed": options["seed"] + i})
        if stream_out(prompt, pieces)[1]:
            return interrupted()
        out()
    return EXIT_OK
