"""``jupyter-llm train``: train a model on text files and save it.

Every option of the :data:`~jupyter_llm.training.options.TRAINING` table is an
argument, built from the table (range, default, help); the command adds only
what a shell needs besides: the sources, where to save (``--name`` or
``--output``) and ``--tensorboard``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import ModelExistsError
from ..training.options import CONFIG_OPTIONS, TRAINING
from .common import (EXIT_OK, UsageError, add_command, add_table_arguments, import_tensorflow, nats, one_or_many,
                     out, source_paths, table)

EXAMPLES = [
    "jupyter-llm train shakespeare.txt --name bard --size tiny --epochs 2",
    "jupyter-llm train 'notes/**/*.md' --name notes --tokenizer word --time-limit 600",
    "jupyter-llm train corpus.txt --output ./models/corpus --early-stopping 2 --epochs 20",
    "jupyter-llm train corpus.txt --name notes --resume --epochs 10   # continue to 10 epochs",
    "jupyter-llm train 'notes/**/*.md' --name my-notes --base shakespeare --time-limit 300   # fine-tune",
]

#: Where each option of the table is listed in ``--help`` (the rest are under "training").
_TOP = ("overwrite", "resume")
_MODEL = ("base", "tokenizer", "size", "max_vocab", "min_freq", "seq_len", "dropout")


def register(commands) -> None:
    p = add_command(commands, "train", "Train a model on text files and save it.", EXAMPLES, run)
    p.add_argument("sources", nargs="+", metavar="SOURCE",
                   help="text files or globs (quote globs such as 'notes/**/*.md' to expand them recursively)")
    where = p.add_argument_group("where to save (one is required)").add_mutually_exclusive_group(required=True)
    where.add_argument("--name", help="save under this name in the model store")
    where.add_argument("--output", metavar="PATH", help="save to this folder instead")
    add_table_arguments(p, [TRAINING[name] for name in _TOP])
    add_table_arguments(p.add_argument_group("model"), [TRAINING[name] for name in _MODEL])
    fit = p.add_argument_group("training")
    add_table_arguments(fit, [o for name, o in TRAINING.items() if name not in _TOP + _MODEL])
    fit.add_argument("--tensorboard", metavar="DIR", help="write TensorBoard logs to this folder")


def train_options(args: argparse.Namespace) -> dict[str, Any]:
    """The table's options as keyword arguments of ``jl.train``.

    An option not given takes the table's CLI default, except the ModelConfig
    fields, which are left out: the size's (or the resumed model's) value is used; so are
    ``base``, ``tokenizer`` and ``size`` (train's None: a new model's size and tokenizer, none with a base).
    """
    options = {}
    for name, option in TRAINING.items():
        value = getattr(args, name)
        if value is None and (name in CONFIG_OPTIONS or name in ("base", "tokenizer", "size")):
            continue
        options[name] = option.default_for("cli") if value is None else value
    return options


def run(args: argparse.Namespace) -> int:
    if args.resume and args.name is None:
        raise UsageError("--resume continues the checkpoints of a named model. Expected --name NAME with --resume.")
    sources = source_paths(args.sources)  # fails fast, before TensorFlow starts
    output = Path(args.output) if args.output is not None else None
    if output is not None and output.exists() and not args.overwrite:
        raise ModelExistsError(f"'{output}' already exists. Expected a new path, or pass --overwrite to replace it.")

    import_tensorflow()
    import jupyter_llm as jl
    from .. import store

    lm = jl.train(one_or_many(sources), name=args.name, tensorboard_dir=args.tensorboard, progress=True,
                  on_progress=_print_sample, **train_options(args))
    folder = lm.save(output, overwrite=args.overwrite) if output is not None else store.resolve(args.name)
    label = f"'{args.name}'" if args.name is not None else "the model"
    out(f"Saved {label} ({lm.num_parameters:,} parameters) to {folder}")
    out(table(_metric_rows(lm.metadata.get("metrics", {})), indent=2))
    return EXIT_OK


def _metric_rows(metrics: dict[str, Any]) -> list[tuple[str, str]]:
    rows = [
        ("loss", nats(metrics.get("loss")) + " (training)"),
        ("val_loss", nats(metrics.get("val_loss"))),
    ]
    if metrics.get("val_bits_per_char") is not None:
        rows.append(("val bits/char", f"{metrics['val_bits_per_char']:.3f}"))
    return rows + [
        ("epochs", str(metrics.get("epochs_completed", 0))),
        ("tokens seen", f"{metrics.get('tokens_seen', 0):,}"),
        ("time", f"{metrics.get('train_seconds', 0):.1f} s"),
        ("stopped", str(metrics.get("stopped"))),
    ]


def _print_sample(event) -> None:
    """Show the text sampled after each epoch (the tqdm bar shows the rest)."""
    if event.kind == "sample" and event.sample is not None:
        out(f"--- sample after epoch {event.epoch} ---\n{event.sample}\n---")
