"""``%llm``: train, list, select, save, load, delete, evaluate and inspect models.

``%llm COMMAND ...`` dispatches to one small method per command; each command
declares its arguments with ``magic_arguments``, and ``%llm?`` / ``%llm help``
show the help generated from those declarations.
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from IPython.core import magic_arguments
from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, kwds

from .. import store
from ..training.options import CONFIG_OPTIONS, TRAINING
from .models import DEFAULT_BUNDLED, ModelSession, Resolved
from .output import (TrainingProgress, provenance, quiet_retracing, show, show_attention, table_bundle,
                     updates_in_place, warnings_as_notes)
from .parsing import identifier, parse, split_line, table_arguments, unquote_text, user_errors
from .templates import interpolate

if TYPE_CHECKING:  # pragma: no cover
    from ..shell import ShellState

SOURCE_HELP = ("a variable (str, list of str, pandas Series, or DataFrame with --column), "
               "a file path or a glob such as 'texts/*.txt'")

#: The options of ``%llm train`` from the TRAINING table, in the order of its help.
_TRAIN_FIRST = ("overwrite", "epochs", "base", "tokenizer", "size")
_TRAIN_REST = ("max_vocab", "seq_len", "batch_size", "learning_rate", "steps_per_epoch", "early_stopping", "time_limit",
               "validation_split", "sample_tokens", "seed", "copy_index", "freeze_embedding_epochs", "workers",
               "backup_every")
_TRAIN_OPTIONS = _TRAIN_FIRST + _TRAIN_REST
#: Options whose None train() reads itself (a new model's size and tokenizer; no base).
_NONE_GIVEN = frozenset({"base", "tokenizer", "size"})


@magics_class
class LLMMagics(Magics):
    """``%llm``: the management magic."""

    def __init__(self, shell, state: "ShellState") -> None:
        super().__init__(shell=shell)
        self.session = ModelSession(state)

    @no_var_expand
    @line_magic
    def llm(self, line: str) -> None:
        # The docstring is set below from the commands' declarations.
        if not line.strip():
            print(HELP)
            return
        command, rest = (line.split(None, 1) + [""])[:2]
        handler = COMMANDS.get(command)
        if handler is None:
            raise UsageError(f"Unknown %llm command '{command}'. Expected one of: {', '.join(COMMANDS)} "
                             "(%llm help shows them all).")
        handler(self, rest.strip())

    # === Commands ===

    @magic_arguments.magic_arguments("llm train")
    @kwds(description="Train a new model on SOURCE and make it the current model. Ctrl-C stops "
                      "training cleanly and keeps the best weights so far.",
          epilog="\nExamples::\n\n  %llm train poems --name poems --epochs 3\n"
                 "  %llm train 'texts/*.txt' --tokenizer bpe --size medium --name big\n"
                 "  %llm train df --column body --time-limit 60\n"
                 "  %llm train notes --base shakespeare --time-limit 60 --name my-notes\n"
                 "  %llm train --from-notebook --size tiny\n"
                 "  %llm train --notebooks 'notes/**/*.ipynb' --base shakespeare --time-limit 60")
    @argument("source", nargs="?", metavar="SOURCE", help=SOURCE_HELP)
    @argument("--from-notebook", nargs="?", const="", metavar="PATH",
              help="train on the markdown and code cells of this notebook (or of the notebook at PATH)")
    @argument("--notebooks", metavar="PATTERN",
              help="train on the cells of the notebooks a glob matches (Markdown cells unless --cells says "
                   "otherwise; never outputs), and say what was read")
    @argument("--cells", choices=("markdown", "code", "both"), default=None,
              help="which cells of the --notebooks to read (default: markdown)")
    @argument("--name", help="save the model in the store under NAME (refused before training if it exists)")
    @table_arguments(TRAINING, "magic", _TRAIN_FIRST)
    @argument("--column", help="the text column of a DataFrame SOURCE")
    @table_arguments(TRAINING, "magic", _TRAIN_REST)
    @argument("-o", "--out", type=identifier, metavar="VAR", help="also store the model in variable VAR")
    def _train(self, rest: str) -> None:
        args = self._parse(self._train, rest)
        given = [name for name, value in (("SOURCE", args.source), ("--from-notebook", args.from_notebook),
                                          ("--notebooks", args.notebooks)) if value is not None]
        if len(given) != 1:
            raise UsageError("%llm train needs one text to learn from. Expected one source: SOURCE, "
                             f"--from-notebook or --notebooks. Received: {' and '.join(given) or 'none'}")
        if args.cells is not None and args.notebooks is None:
            raise UsageError(f"--cells chooses the cells of --notebooks. Expected --notebooks PATTERN with "
                             f"--cells {args.cells}.")
        if args.notebooks is not None:
            from ..text.collect import notebooks

            with user_errors():
                source = notebooks(args.notebooks, cells=args.cells or "markdown")
            print(source.report)
        elif args.from_notebook is not None:
            source = notebook_cells(self.shell.user_ns, args.from_notebook)
        else:
            source = resolve_source(args.source, self.shell.user_ns)
        import jupyter_llm

        options = {name: getattr(args, name) for name in _TRAIN_OPTIONS}  # None: not given
        # Not given: the table's default, except the ModelConfig fields, the base, and the size and tokenizer
        # (train's None: a new model's default, and none at all with --base).
        options = {k: TRAINING[k].default_for("magic") if v is None and k not in CONFIG_OPTIONS | _NONE_GIVEN
                   else v for k, v in options.items()}
        if options["base"] in self.session.variables():
            options["base"] = self.shell.user_ns[options["base"]]  # a model variable of the session
        progress = TrainingProgress(live=updates_in_place(self.shell))
        with user_errors(), quiet_retracing():
            lm = jupyter_llm.train(source, name=args.name, column=args.column, on_progress=progress, progress=False,
                                   **{k: v for k, v in options.items() if v is not None})
        if args.out:
            self.shell.user_ns[args.out] = lm
        if args.name:
            self.session.remember(store.resolve(args.name), lm)
            self._select(args.name)
            print(f"Model '{args.name}' is saved in the store and is now the current model.")
        else:  # current until another model is chosen; JupyterLLM.default_model is left as it was
            self.session.current = Resolved(lm, args.out or "the model trained last", "memory")
            print("The trained model is now the current model (unsaved: keep it with %llm save NAME).")

    @magic_arguments.magic_arguments("llm list")
    @kwds(description="List the models saved in the store and the model variables of this session; "
                      "* marks the current model.")
    def _list(self, rest: str) -> None:
        self._parse(self._list, rest)
        default = self.session.config.default_model if self.session.current is None else None
        fallback = DEFAULT_BUNDLED if self.session.current is None and not default else None
        rows = []
        for m in store.list_models():
            params = f"{m.parameters:,}" if m.parameters else None
            val = f"{m.val_loss:.3f}" if m.val_loss is not None else None
            current = m.name == default or (m.bundled and m.name == fallback)
            label = m.name + (" (bundled)" if m.bundled else "") + (f" (damaged: {m.damaged})" if m.damaged else "")
            rows.append(["*" if current else "", label,
                         m.tokenizer, params, val,
                         (m.created or "")[:16].replace("T", " "), f"{m.size_bytes / 1e6:.1f} MB"])
        for var in self.session.variables():
            lm = self.shell.user_ns[var]
            current = self.session.current is not None and self.session.current.model is lm
            rows.append(["*" if current or var == default else "", f"{var} (variable)", lm.tokenizer.kind,
                         f"{lm.num_parameters:,}", None, None, None])
        if not rows:
            print(f"No models yet in {store.models_dir()}. Train one with %llm train SOURCE --name NAME.")
            return
        show(table_bundle(["", "name", "tokenizer", "parameters", "val_loss", "created", "size"], rows,
                          title=f"Models in {store.models_dir()}"))

    @magic_arguments.magic_arguments("llm info")
    @kwds(description="Show what is known about a model: sizes, tokenizer, corpus, metrics, fingerprint.")
    @argument("name", nargs="?", metavar="NAME", help="a model (default: the current model)")
    def _info(self, rest: str) -> None:
        args = self._parse(self._info, rest)
        resolved = self.session.resolve(args.name)
        summary = json.loads(json.dumps(resolved.model.summary(), default=str))
        summary["name"] = summary.get("name") or resolved.name
        show({"text/plain": _describe(summary), "application/json": summary},
             provenance(resolved, "info"))

    @magic_arguments.magic_arguments("llm use")
    @kwds(description="Make NAME the model %%generate uses by default (sets JupyterLLM.default_model).")
    @argument("name", metavar="NAME", help="a model variable, a name in the store or a model folder")
    def _use(self, rest: str) -> None:
        args = self._parse(self._use, rest)
        resolved = self.session.resolve(args.name, option="%llm use")
        self._select(args.name)
        print(f"%%generate now uses {resolved.name} by default.")

    @magic_arguments.magic_arguments("llm save")
    @kwds(description="Save the current model (or --model) in the store under NAME, or in a folder.")
    @argument("name", metavar="NAME", help="a name in the store, or a folder path")
    @argument("-m", "--model", metavar="MODEL", help="the model to save (default: the current model)")
    @argument("--overwrite", action="store_true", help="replace a model saved under NAME")
    def _save(self, rest: str) -> None:
        args = self._parse(self._save, rest)
        resolved = self.session.resolve(args.model)
        with user_errors():
            folder = resolved.model.save(args.name, overwrite=args.overwrite)
        self.session.remember(folder, resolved.model)
        if args.model is None:  # the current model keeps being current, now by name
            self._select(args.name if store.is_name(args.name) else str(folder))
        print(f"Saved {resolved.name} to {folder}.")

    @magic_arguments.magic_arguments("llm load")
    @kwds(description="Load a saved model and make it the current model.")
    @argument("path", metavar="PATH", help="a model folder (or a name in the store)")
    @argument("--name", help="also save it in the store under NAME")
    @argument("--overwrite", action="store_true", help="replace a model saved under NAME")
    @argument("-o", "--out", type=identifier, metavar="VAR", help="also store the model in variable VAR")
    def _load(self, rest: str) -> None:
        args = self._parse(self._load, rest)
        with user_errors():
            folder = store.locate(args.path, self.session.prefer)  # a path, a bundled or saved model
            if store.is_name(args.path) and not folder.exists():
                store.read_bundle(args.path)  # the standard "no such model" error, listing the saved ones
        lm = self.session.load(folder)
        if args.name:
            with user_errors():
                saved = lm.save(args.name, overwrite=args.overwrite)
            self.session.remember(saved, lm)
        if args.out:
            self.shell.user_ns[args.out] = lm
        self._select(args.name or (args.path if store.is_name(args.path) else str(folder.resolve())))
        print(f"Loaded {lm!r}; it is now the current model.")

    @magic_arguments.magic_arguments("llm delete")
    @kwds(description="Delete a saved model (it cannot be undone, so --yes is required).")
    @argument("name", metavar="NAME", help="a name in the store, or a model folder")
    @argument("--yes", action="store_true", help="confirm the deletion")
    @argument("--runs", choices=("keep", "delete"), default="keep",
              help="what becomes of the model's training runs in the run history (default: keep)")
    def _delete(self, rest: str) -> None:
        args = self._parse(self._delete, rest)
        if not args.yes:
            raise UsageError(f"Deleting '{args.name}' cannot be undone. Expected --yes to confirm: "
                             f"%llm delete {args.name} --yes")
        folder = store.resolve(args.name)
        from ..run_history import delete_model

        with user_errors():
            delete_model(args.name, runs=args.runs)
        self.session.forget(folder)
        if self.session.config.default_model in (args.name, str(folder)):
            self.session.config.default_model = None
        print(f"Deleted model '{args.name}'" + (" and its training runs." if args.runs == "delete" else
                                                 " (its training runs are kept: %llm runs)."))

    @magic_arguments.magic_arguments("llm runs")
    @kwds(description="Show the training runs of the run history, newest last: when, the text, the result.",
          epilog="\nExamples::\n\n  %llm runs\n  %llm runs --model poems --last 5 -o history")
    @argument("--model", metavar="NAME", help="only the runs that saved this model")
    @argument("--last", type=int, metavar="N", help="only the last N runs")
    @argument("-o", "--out", type=identifier, metavar="VAR",
              help="store the runs (a pandas DataFrame, with each run's curve) in variable VAR")
    def _runs(self, rest: str) -> None:
        args = self._parse(self._runs, rest)
        if args.last is not None and args.last < 1:
            raise UsageError(f"Invalid value for --last. Expected a whole number of runs >= 1. Received: {args.last}")
        from ..run_history import runs

        with user_errors():
            frame = runs(model=args.model)
        if args.last is not None:
            frame = frame.tail(args.last)
        self._keep(args.out, frame)
        if frame.empty:
            where = f" that saved '{args.model}'" if args.model else ""
            print(f"No training runs{where} yet. Each jl.train or %llm train adds one.")
            return
        rows = [[r.id, (r.started or "")[:16].replace("T", " "), r.status, r.model or "(not saved)", _short(r.data),
                 r.size, _fixed(r.val_loss), _fixed(r.val_bits_per_char), _fixed(r.loss),
                 None if r.seconds is None else f"{r.seconds:.0f} s"] for r in frame.itertuples()]
        show(table_bundle(["run", "started (UTC)", "status", "model", "text", "size", "val_loss", "bits/char",
                           "loss", "time"], rows, title=f"{len(rows)} training run(s)"))

    @magic_arguments.magic_arguments("llm eval")
    @kwds(description="Measure a model's loss on a text (nats and bits per token, bits per character, "
                      "perplexity).",
          epilog="\nExample::\n\n  %llm eval poems held_out_text")
    @argument("name", metavar="NAME", help="the model")
    @argument("source", metavar="SOURCE", help=SOURCE_HELP)
    @argument("--column", help="the text column of a DataFrame SOURCE")
    @argument("-o", "--out", type=identifier, metavar="VAR", help="store the metrics (a dict) in variable VAR")
    def _eval(self, rest: str) -> None:
        args = self._parse(self._eval, rest)
        resolved = self.session.resolve(args.name)
        source = resolve_source(args.source, self.shell.user_ns)
        with user_errors(), warnings_as_notes(), quiet_retracing():
            metrics = resolved.model.evaluate(source, column=args.column)
        text = (f"{resolved.name} on {args.source}: loss {metrics['loss']:.4f} nats/token, "
                f"{metrics['bits_per_char']:.3f} bits/char, perplexity {metrics['perplexity']:.2f} "
                f"({metrics['tokens']:,} tokens)")
        show({"text/plain": text, "application/json": metrics},
             provenance(resolved, "evaluation", source=args.source))
        self._keep(args.out, metrics)

    @magic_arguments.magic_arguments("llm attention")
    @kwds(description="Show which earlier tokens each token of TEXT attends to. TEXT is the rest of the "
                      "line, a template like the prompt of %%generate.",
          epilog="\nExample::\n\n  %llm attention poems Shall I compare thee to a summer's day?")
    @argument("-o", "--out", type=identifier, metavar="VAR", help="store the AttentionMap in variable VAR")
    @argument("--no-interpolate", action="store_true", help="take TEXT literally")
    @argument("name", metavar="NAME", help="the model")
    @argument("text", nargs="*", metavar="TEXT", help="the text to read")
    def _attention(self, rest: str) -> None:
        words, tail = split_line(rest, self._attention.parser)
        name, _, text = tail.partition(" ")
        name, text = unquote_text(name), unquote_text(text)
        if not name or not text.strip():
            raise UsageError("%llm attention needs a model and a text. Expected %llm attention NAME TEXT. "
                             f"Received: {rest!r}")
        args = parse(self._attention.parser, [*words, name], "%llm attention")
        if not args.no_interpolate:
            text = interpolate(text, self.shell.user_ns)
        resolved = self.session.resolve(name)
        with user_errors(), warnings_as_notes():
            amap = resolved.model.attention(text)
        show_attention(amap, provenance(resolved, "attention", text_tokens=len(amap)))
        self._keep(args.out, amap)

    @magic_arguments.magic_arguments("llm panel")
    @kwds(description="Open an interactive panel: 'train' (data, sizes, live loss curves, Stop, save), "
                      "'generate' (sliders, streamed text, Insert below, attention) or 'assistant' (chat).",
          epilog="\nExamples::\n\n  %llm panel train\n  %llm panel generate -m poems\n  %llm panel assistant")
    @argument("-m", "--model", metavar="NAME", help="the model of the generate panel (default: the current model)")
    @argument("kind", metavar="KIND", help="train, generate or assistant")
    def _panel(self, rest: str) -> None:
        args = self._parse(self._panel, rest)
        from ..widgets import PANELS, open_panel

        if args.kind not in PANELS:
            raise UsageError(f"Unknown panel '{args.kind}'. Expected one of: {', '.join(PANELS)}. "
                             f"Received: {args.kind!r}")
        kwargs: dict[str, Any] = {}
        if args.kind == "generate":
            if args.model is not None:  # checked here (one UsageError); the panel shows it by its key
                resolved = self.session.resolve(args.model)
                kwargs["model"] = resolved.key if resolved.origin in ("variable", "saved", "bundled") else resolved.model
            kwargs["namespace"] = self.shell.user_ns  # the shell's resolver: it picks the current model itself
        elif args.kind == "train":
            kwargs["namespace"] = self.shell.user_ns
        with user_errors():
            panel = open_panel(args.kind, **kwargs)
        from IPython.display import display

        display(panel)

    @magic_arguments.magic_arguments("llm help")
    @kwds(description="Show this help, or the help of one command.")
    @argument("command", nargs="?", metavar="COMMAND")
    def _help(self, rest: str) -> None:
        args = self._parse(self._help, rest)
        if args.command is None:
            print(HELP)
        elif args.command in COMMANDS:
            print(COMMANDS[args.command].__doc__)
        else:
            raise UsageError(f"Unknown %llm command '{args.command}'. Expected one of: {', '.join(COMMANDS)}.")

    # === Helpers ===

    def _parse(self, command: Callable, rest: str):
        name = "%" + command.parser.prog
        try:
            words = shlex.split(rest)
        except ValueError as e:
            raise UsageError(f"Invalid options for {name}: {e} (quote text with matching quotes).") from None
        return parse(command.parser, words, name)

    def _keep(self, variable: str | None, value: Any) -> None:
        """``-o VAR``: store ``value`` in the user's variable."""
        if variable:
            self.shell.user_ns[variable] = value

    def _select(self, spec: str) -> None:
        """Make the model ``spec`` names the current model."""
        self.session.current = None
        self.session.config.default_model = spec


COMMANDS: dict[str, Callable[[LLMMagics, str], None]] = {
    "train": LLMMagics._train,
    "list": LLMMagics._list,
    "info": LLMMagics._info,
    "use": LLMMagics._use,
    "save": LLMMagics._save,
    "load": LLMMagics._load,
    "delete": LLMMagics._delete,
    "runs": LLMMagics._runs,
    "eval": LLMMagics._eval,
    "attention": LLMMagics._attention,
    "panel": LLMMagics._panel,
    "help": LLMMagics._help,
}

HELP = "\n".join([
    "Manage the language models of this session: %llm COMMAND [options].",
    "",
    "Commands: " + ", ".join(COMMANDS) + ". Generate text with %%generate (see %%generate?).",
    "",
    *(COMMANDS[c].__doc__.rstrip() + "\n" for c in COMMANDS),
    "Settings: %config JupyterLLM (default_model, max_tokens, temperature, stream, store_path).",
])
LLMMagics.llm.__doc__ = HELP


# === Sources ===

def resolve_source(spec: str, namespace: dict[str, Any]) -> Any:
    """The training or evaluation text SOURCE names: a variable's value, or a path or glob."""
    if not spec.strip():
        raise UsageError(f"SOURCE is empty ({spec!r}). Expected a variable holding text, a file path or a glob.")
    if spec.isidentifier() and spec in namespace:
        value = namespace[spec]
        kind = type(value).__module__.split(".")[0] + "." + type(value).__name__
        if isinstance(value, (str, list, tuple, os.PathLike)) or kind in ("pandas.Series", "pandas.DataFrame"):
            return value
        raise UsageError(f"SOURCE {spec} is a variable of type {type(value).__name__}. Expected a str, a list of "
                         "str, a pandas Series or DataFrame (with --column), or a file path or glob.")
    if any(c in spec for c in "*?["):
        return spec
    path = Path(spec).expanduser()
    if not path.exists() and spec.isidentifier():
        raise UsageError(f"SOURCE {spec} is neither a variable nor a file. Expected a variable holding text, "
                         "a file path or a glob.")
    return path


def notebook_cells(namespace: dict[str, Any], explicit: str) -> list[str]:
    """The markdown and code cells of the running notebook (or of the notebook at ``explicit``)."""
    if explicit:
        path = Path(explicit).expanduser()
    else:
        path = _find_notebook(namespace)
    try:
        notebook = json.loads(path.read_text("utf-8"))
        cells = notebook["cells"]
        texts = [c["source"] if isinstance(c["source"], str) else "".join(c["source"])
                 for c in cells if c.get("cell_type") in ("markdown", "code")]
    except FileNotFoundError:
        raise UsageError(f"No notebook at '{path}'. Expected the path of an .ipynb file.") from None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise UsageError(f"'{path}' could not be read as a notebook ({type(e).__name__}). "
                         "Expected an .ipynb file of format 4.") from None
    return [t for t in texts if t.strip()]


def _find_notebook(namespace: dict[str, Any]) -> Path:
    from ..errors import DataError
    from ..text.collect import this_notebook

    try:
        return this_notebook(namespace)
    except DataError as e:
        raise UsageError(f"{e} Or give --from-notebook PATH naming the .ipynb file.") from None


def _fixed(value: Any) -> str | None:
    return None if value is None or value != value else f"{value:.3f}"


def _short(text: Any, limit: int = 40) -> str | None:
    if text is None:
        return None
    text = str(text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _describe(summary: dict[str, Any], indent: str = "") -> str:
    lines = []
    for key, value in summary.items():
        if isinstance(value, dict):
            lines.append(f"{indent}{key}:")
            lines.append(_describe(value, indent + "  "))
        elif value is not None:
            lines.append(f"{indent}{key}: {value:,}" if isinstance(value, int) and not isinstance(value, bool)
                         else f"{indent}{key}: {value}")
    return "\n".join(line for line in lines if line)


__all__ = ["LLMMagics", "COMMANDS", "resolve_source", "notebook_cells"]
