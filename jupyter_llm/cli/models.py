"""``jupyter-llm models``: list, inspect or delete the models in the store."""

from __future__ import annotations

import argparse
from typing import Any

from .common import (EXIT_OK, PROG, UsageError, add_command, add_json_flag, add_model_argument, load, out, out_json,
                     table)

EXAMPLES = [
    "jupyter-llm models",
    "jupyter-llm models --json",
    "jupyter-llm models info bard",
    "jupyter-llm models delete bard --yes",
    "jupyter-llm models runs --model bard",
]


def register(commands) -> None:
    p = add_command(commands, "models", "List, inspect or delete the models in the store, and list the training runs.", EXAMPLES, run_list)
    add_json_flag(p)
    actions = p.add_subparsers(title="actions", metavar="ACTION")
    lst = actions.add_parser("list", help="list the saved models (the default)", description="List the saved models.")
    lst.set_defaults(handler=run_list)
    add_json_flag(lst, default=argparse.SUPPRESS)
    info = actions.add_parser("info", help="show facts about one model",
                              description="Show a model's size, config, training corpus and metrics.")
    info.set_defaults(handler=run_info)
    add_model_argument(info)
    add_json_flag(info, default=argparse.SUPPRESS)
    delete = actions.add_parser("delete", help="delete a model (needs --yes)", description="Delete a saved model.")
    delete.set_defaults(handler=run_delete)
    add_model_argument(delete, loads=False)
    delete.add_argument("-y", "--yes", action="store_true", help="confirm the deletion")
    delete.add_argument("--runs", choices=("keep", "delete"), default="keep",
                        help="what becomes of the model's training runs in the run history (default: keep)")
    history = actions.add_parser("runs", help="list the training runs of the run history",
                                 description="List the training runs recorded in the store, oldest first.")
    history.set_defaults(handler=run_runs)
    history.add_argument("--model", metavar="NAME", help="only the runs that saved this model")
    add_json_flag(history, default=argparse.SUPPRESS)


def run_list(args: argparse.Namespace) -> int:
    import jupyter_llm as jl
    from .. import store

    models = jl.list_models()
    if args.json:
        return out_json([m.to_dict() for m in models], indent=2, ensure_ascii=False)
    if not any(not m.bundled for m in models):
        out(f"No models saved yet in {store.models_dir()}. Train one with: {PROG} train FILE --name NAME")
        if not models:
            return EXIT_OK
        out("Bundled models, ready to use:")
    rows = [("NAME", "TOKENIZER", "PARAMETERS", "VAL_LOSS", "CREATED", "SIZE", "WHERE")]
    for m in models:
        rows.append((
            m.name,
            m.tokenizer or "?",
            f"{m.parameters:,}" if m.parameters is not None else "?",
            f"{m.val_loss:.3f}" if m.val_loss is not None else "-",
            (m.created or "?")[:16].replace("T", " "),
            _size(m.size_bytes),
            "damaged" if m.damaged else "bundled" if m.bundled else "saved",
        ))
    out(table(rows))
    for m in models:
        if m.damaged:  # listed, never hidden: say why its details are missing and what to do
            out(f"'{m.name}' is damaged: {m.damaged} Delete it with: {PROG} models delete {m.name} --yes")
    return EXIT_OK


def run_info(args: argparse.Namespace) -> int:
    summary = load(args.model, args.prefer).summary()
    if args.json:
        return out_json(summary, indent=2, ensure_ascii=False, default=str)
    out(_describe(summary))
    return EXIT_OK


def run_delete(args: argparse.Namespace) -> int:
    import jupyter_llm as jl
    from .. import store

    folder = store.resolve(args.model)
    if not args.yes and store.exists(args.model):
        raise UsageError(f"Refusing to delete '{args.model}' ({folder}) without confirmation. "
                         f"Expected --yes: {PROG} models delete {args.model} --yes")
    if not args.yes:
        jl.delete_model(args.model)  # there is no such model: raises the error that lists the saved ones
    jl.delete_model(args.model, runs=args.runs)
    kept = " and its training runs" if args.runs == "delete" else ""
    out(f"Deleted '{args.model}'{kept} ({folder}).")
    return EXIT_OK


def run_runs(args: argparse.Namespace) -> int:
    from .. import run_history as runs

    records = runs.select(runs.load_runs(), model=args.model)
    if getattr(args, "json", False):
        return out_json(records, indent=2, ensure_ascii=False)
    if not records:
        out(f"No training runs yet in {runs.runs_dir()}." + (f" (none saved '{args.model}')" if args.model else ""))
        return EXIT_OK
    rows = [("RUN", "STARTED", "STATUS", "MODEL", "VAL_LOSS", "BITS/CHAR", "TIME", "TEXT")]
    for r in map(runs.row_of, records):
        rows.append((r["id"], (r["started"] or "?")[:16].replace("T", " "), r["status"] or "?", r["model"] or "-",
                     _fixed(r["val_loss"]), _fixed(r["val_bits_per_char"]),
                     "-" if r["seconds"] is None else f"{r['seconds']:.0f} s", (r["data"] or "-")[:40]))
    out(table(rows))
    return EXIT_OK


def _fixed(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}"


def _describe(facts: dict[str, Any], indent: int = 0) -> str:
    """A nested dict as aligned ``key  value`` lines."""
    width = max((len(str(k)) for k in facts), default=0)
    lines = []
    for key, value in facts.items():
        if isinstance(value, dict):
            lines.append(" " * indent + f"{key}:")
            if value:
                lines.append(_describe(value, indent + 2))
        else:
            lines.append(" " * indent + f"{str(key):<{width}}  {_value(value)}")
    return "\n".join(lines)


def _value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"
