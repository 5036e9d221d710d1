"""The ``jupyter-llm`` command: train, run, inspect and manage models from a shell.

A thin surface over the Python API: each subcommand parses its arguments, calls
one function of :mod:`jupyter_llm` and prints the result. Importing this module
(and ``jupyter-llm --help``) does not import TensorFlow; the commands that need
a model import it when they run.

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
import glob
import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any, Callable, Sequence

from .._version import __version__
from ..errors import DataError, InvalidArgumentError, JupyterLLMError, ModelExistsError

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

_PACKAGE_DIR = Path(__file__).resolve().parents[1]


class UsageError(Exception):
    """A mistake on the command line (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises instead of printing usage and exiting."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(f"{message} (see '{self.prog} --help')")


# === Entry point ===

def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``jupyter-llm`` command with ``argv`` (default: ``sys.argv[1:]``).

    Returns the exit status instead of exiting, so tests can call it in-process.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as e:
        return _error(str(e), EXIT_USAGE)
    except SystemExit as e:  # --help and --version
        return e.code if isinstance(e.code, int) else EXIT_OK
    if args.handler is None:
        return _error("Expected a command: lab, demo, train, generate, models, eval or attention "
                      f"(see '{PROG} --help').", EXIT_USAGE)
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            return args.handler(args)
        except UsageError as e:
            return _error(str(e), EXIT_USAGE)
        except InvalidArgumentError as e:
            return _error(_cli_spelling(str(e)), EXIT_USAGE)
        except JupyterLLMError as e:
            return _error(_cli_spelling(str(e)), EXIT_ERROR)
        except KeyboardInterrupt:
            print(file=sys.stderr)
            return _error("Interrupted.", EXIT_INTERRUPTED)
        except BrokenPipeError:
            # The reader of our output went away (`jupyter-llm generate ... | head`): stop quietly.
            _silence_stdout()
            return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``jupyter-llm`` and its subcommands."""
    parser = _Parser(
        prog=PROG,
        description="Train, run and inspect small private GRU-attention language models.",
        epilog=_examples(
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
    _add_train(commands)
    _add_generate(commands)
    _add_models(commands)
    _add_eval(commands)
    _add_attention(commands)
    _add_demo(commands)
    _add_lab(commands)
    return parser


def _add_command(commands, name: str, help: str, examples: list[str], handler: Callable[[argparse.Namespace], int]):
    sub = commands.add_parser(name, help=help, description=help, epilog=_examples(*examples),
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    sub.set_defaults(handler=handler)
    return sub


def _examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


# === train ===

def _add_train(commands) -> None:
    p = _add_command(commands, "train", "Train a model on text files and save it.", [
        "jupyter-llm train shakespeare.txt --name bard --size tiny --epochs 2",
        "jupyter-llm train 'notes/**/*.md' --name notes --tokenizer word --time-limit 600",
        "jupyter-llm train corpus.txt --output ./models/corpus --early-stopping 2 --epochs 20",
        "jupyter-llm train corpus.txt --name notes --resume --epochs 10   # continue to 10 epochs",
    ], _train)
    p.add_argument("sources", nargs="+", metavar="SOURCE",
                   help="text files or globs (quote globs such as 'notes/**/*.md' to expand them recursively)")
    where = p.add_argument_group("where to save (one is required)").add_mutually_exclusive_group(required=True)
    where.add_argument("--name", help="save under this name in the model store")
    where.add_argument("--output", metavar="PATH", help="save to this folder instead")
    p.add_argument("--overwrite", action="store_true", help="replace a model already saved there")
    p.add_argument("--resume", action="store_true",
                   help="continue from the last checkpoint of --name (--epochs is then the total)")
    model = p.add_argument_group("model")
    model.add_argument("--tokenizer", choices=["char", "word", "bpe"], default="char", help="(default: char)")
    model.add_argument("--size", choices=["tiny", "small", "medium"], default="small", help="(default: small)")
    model.add_argument("--max-vocab", type=_positive_int, metavar="N", help="largest vocabulary of the tokenizer")
    model.add_argument("--seq-len", type=_positive_int, metavar="N", help="training window in tokens")
    fit = p.add_argument_group("training")
    fit.add_argument("--epochs", type=_positive_int, default=1, metavar="N", help="passes over the text (default: 1)")
    fit.add_argument("--batch-size", type=_positive_int, metavar="N")
    fit.add_argument("--learning-rate", type=float, metavar="F")
    fit.add_argument("--validation-split", type=float, default=0.1, metavar="F",
                     help="fraction of the text held back for the validation loss, 0 for none (default: 0.1)")
    fit.add_argument("--steps-per-epoch", type=_positive_int, metavar="N",
                     help="batches per epoch (default: one pass over the text)")
    fit.add_argument("--early-stopping", type=_positive_int, metavar="PATIENCE",
                     help="stop after this many epochs without a better validation loss")
    fit.add_argument("--time-limit", type=float, metavar="SECONDS", help="stop after this many seconds")
    fit.add_argument("--tensorboard", metavar="DIR", help="write TensorBoard logs to this folder")
    fit.add_argument("--sample-tokens", type=_non_negative_int, default=0, metavar="N",
                     help="print a sample of N tokens after each epoch (default: 0, none)")
    fit.add_argument("--sample-prompt", default="", metavar="TEXT", help="the prompt of those samples")


def _train(args: argparse.Namespace) -> int:
    if args.resume and args.name is None:
        raise UsageError("--resume continues the checkpoints of a named model. Expected --name NAME with --resume.")
    sources = _source_paths(args.sources)  # fails fast, before TensorFlow starts
    output = Path(args.output) if args.output is not None else None
    if output is not None and output.exists() and not args.overwrite:
        raise ModelExistsError(f"'{output}' already exists. Expected a new path, or pass --overwrite to replace it.")

    _import_tensorflow()
    import jupyter_llm as jl
    from .. import store

    options = {"seq_len": args.seq_len, "batch_size": args.batch_size, "learning_rate": args.learning_rate}
    lm = jl.train(
        sources[0] if len(sources) == 1 else sources,
        tokenizer=args.tokenizer,
        epochs=args.epochs,
        validation_split=args.validation_split,
        name=args.name,
        size=args.size,
        max_vocab=args.max_vocab,
        steps_per_epoch=args.steps_per_epoch,
        early_stopping=args.early_stopping,
        resume=args.resume,
        tensorboard_dir=args.tensorboard,
        time_limit=args.time_limit,
        overwrite=args.overwrite,
        progress=True,
        on_progress=_print_sample,
        sample_prompt=args.sample_prompt,
        sample_tokens=args.sample_tokens,
        **{k: v for k, v in options.items() if v is not None},
    )
    folder = lm.save(output, overwrite=args.overwrite) if output is not None else store.resolve(args.name)
    metrics = lm.metadata.get("metrics", {})
    label = f"'{args.name}'" if args.name is not None else "the model"
    _out(f"Saved {label} ({lm.num_parameters:,} parameters) to {folder}")
    rows = [
        ("loss", _nats(metrics.get("loss")) + " (training)"),
        ("val_loss", _nats(metrics.get("val_loss"))),
    ]
    if metrics.get("val_bits_per_char") is not None:
        rows.append(("val bits/char", f"{metrics['val_bits_per_char']:.3f}"))
    rows += [
        ("epochs", str(metrics.get("epochs_completed", 0))),
        ("tokens seen", f"{metrics.get('tokens_seen', 0):,}"),
        ("time", f"{metrics.get('train_seconds', 0):.1f} s"),
        ("stopped", str(metrics.get("stopped"))),
    ]
    _out(_table(rows, indent=2))
    return EXIT_OK


def _print_sample(event) -> None:
    """Show the text sampled after each epoch (the tqdm bar shows the rest)."""
    if event.kind == "sample" and event.sample is not None:
        _out(f"--- sample after epoch {event.epoch} ---\n{event.sample}\n---")


def _source_paths(sources: list[str]) -> list[Path]:
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


# === generate ===

def _add_generate(commands) -> None:
    p = _add_command(commands, "generate", "Continue a prompt with a model, printing text as it is made.", [
        'jupyter-llm generate bard "ROMEO:" -n 300 --seed 0',
        'jupyter-llm generate ./models/corpus "Dear" --temperature 0.7 --top-p 0.9 --stop "\\n\\n"',
        'jupyter-llm generate bard "To be" --samples 3 -n 80',
        'echo "Once upon a time" | jupyter-llm generate bard - --greedy',
    ], _generate)
    p.add_argument("model", metavar="MODEL", help="a model name in the store, or a model folder")
    p.add_argument("prompt", metavar="PROMPT", nargs="?", default="",
                   help="the text to continue; '-' reads it from stdin (default: start a new document)")
    p.add_argument("-n", "--max-tokens", type=_non_negative_int, default=200, metavar="N",
                   help="tokens to generate at most (default: 200)")
    p.add_argument("-t", "--temperature", type=float, default=1.0, metavar="F",
                   help="> 0; lower is more conservative, higher more surprising (default: 1.0)")
    p.add_argument("--top-k", type=int, metavar="N", help="sample among the N most likely tokens only")
    p.add_argument("--top-p", type=float, metavar="F",
                   help="sample among the most likely tokens whose probabilities add up to F")
    p.add_argument("--repetition-penalty", type=float, default=1.0, metavar="F",
                   help="> 1 discourages repeating tokens (default: 1.0, none)")
    p.add_argument("--stop", action="append", metavar="S",
                   help="end before this text (repeatable; escapes such as \\n are understood)")
    p.add_argument("--seed", type=int, metavar="N", help="the same seed gives the same text")
    p.add_argument("--samples", type=_positive_int, default=1, metavar="N",
                   help="generate N samples, each under a '--- sample i ---' header")
    p.add_argument("--beam", type=_positive_int, metavar="N", help="beam search with N beams")
    p.add_argument("--greedy", action="store_true", help="take the most likely token at every step")
    p.add_argument("--no-stream", dest="stream", action="store_false",
                   help="print the text once it is complete")


def _generate(args: argparse.Namespace) -> int:
    prompt = _read_text_argument(args.prompt)
    lm = _load(args.model)
    n = args.samples
    pieces = lm.stream(  # checks every option before the first token
        prompt, max_tokens=args.max_tokens, temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
        repetition_penalty=args.repetition_penalty, stop=[_unescape(s) for s in args.stop or []],
        seed=args.seed, n=n, greedy=args.greedy, beam=args.beam,
    )
    if n == 1 and args.stream:
        _out(prompt, end="", flush=True)
        text = ""
        try:
            for piece in pieces:
                text += piece
                _out(piece, end="", flush=True)
        except KeyboardInterrupt:
            _out()
            return _interrupted()
        if not (prompt + text).endswith("\n"):
            _out()
        return EXIT_OK

    texts = [""] * n
    interrupted = False
    try:
        for step in pieces:
            texts = [t + p for t, p in zip(texts, [step] if n == 1 else step)]
    except KeyboardInterrupt:
        interrupted = True
    for i, text in enumerate(texts, 1):
        if n > 1:
            _out(f"--- sample {i} ---")
        full = prompt + text
        _out(full, end="" if full.endswith("\n") else "\n")
    return _interrupted() if interrupted else EXIT_OK


def _interrupted() -> int:
    return _error("Interrupted; the text above is what was generated.", EXIT_INTERRUPTED)


# === models ===

def _add_models(commands) -> None:
    p = _add_command(commands, "models", "List, inspect or delete the models in the store.", [
        "jupyter-llm models",
        "jupyter-llm models --json",
        "jupyter-llm models info bard",
        "jupyter-llm models delete bard --yes",
    ], _models_list)
    p.add_argument("--json", action="store_true", help="print JSON")
    actions = p.add_subparsers(title="actions", metavar="ACTION")
    lst = actions.add_parser("list", help="list the saved models (the default)", description="List the saved models.")
    lst.set_defaults(handler=_models_list)
    lst.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    info = actions.add_parser("info", help="show facts about one model",
                              description="Show a model's size, config, training corpus and metrics.")
    info.set_defaults(handler=_models_info)
    info.add_argument("model", metavar="MODEL", help="a model name in the store, or a model folder")
    info.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    delete = actions.add_parser("delete", help="delete a model (needs --yes)", description="Delete a saved model.")
    delete.set_defaults(handler=_models_delete)
    delete.add_argument("model", metavar="MODEL", help="a model name in the store, or a model folder")
    delete.add_argument("-y", "--yes", action="store_true", help="confirm the deletion")


def _models_list(args: argparse.Namespace) -> int:
    import jupyter_llm as jl
    from .. import store

    models = jl.list_models()
    if args.json:
        _out(json.dumps([m.to_dict() for m in models], indent=2, ensure_ascii=False))
        return EXIT_OK
    if not any(not m.bundled for m in models):
        _out(f"No models saved yet in {store.models_dir()}. Train one with: {PROG} train FILE --name NAME")
        if not models:
            return EXIT_OK
        _out("Bundled models, ready to use:")
    rows = [("NAME", "TOKENIZER", "PARAMETERS", "VAL_LOSS", "CREATED", "SIZE", "WHERE")]
    for m in models:
        rows.append((
            m.name,
            m.tokenizer or "?",
            f"{m.parameters:,}" if m.parameters is not None else "?",
            f"{m.val_loss:.3f}" if m.val_loss is not None else "-",
            (m.created or "?")[:16].replace("T", " "),
            _size(m.size_bytes),
            "bundled" if m.bundled else "store",
        ))
    _out(_table(rows))
    return EXIT_OK


def _models_info(args: argparse.Namespace) -> int:
    summary = _load(args.model).summary()
    if args.json:
        _out(json.dumps(summary, indent=2, ensure_ascii=False, default=str))
    else:
        _out(_describe(summary))
    return EXIT_OK


def _models_delete(args: argparse.Namespace) -> int:
    import jupyter_llm as jl
    from .. import store

    folder = store.resolve(args.model)
    if not args.yes and store.exists(args.model):
        raise UsageError(f"Refusing to delete '{args.model}' ({folder}) without confirmation. "
                         f"Expected --yes: {PROG} models delete {args.model} --yes")
    if not args.yes:
        jl.delete_model(args.model)  # there is no such model: raises the error that lists the saved ones
    jl.delete_model(args.model)
    _out(f"Deleted '{args.model}' ({folder}).")
    return EXIT_OK


# === eval ===

def _add_eval(commands) -> None:
    p = _add_command(commands, "eval", "Measure a model's loss on text files.", [
        "jupyter-llm eval bard held_out.txt",
        "jupyter-llm eval ./models/corpus 'test/*.txt' --json",
    ], _eval)
    p.add_argument("model", metavar="MODEL", help="a model name in the store, or a model folder")
    p.add_argument("sources", nargs="+", metavar="SOURCE", help="text files or globs")
    p.add_argument("--json", action="store_true", help="print JSON")


def _eval(args: argparse.Namespace) -> int:
    sources = _source_paths(args.sources)
    lm = _load(args.model)
    result = lm.evaluate(sources[0] if len(sources) == 1 else sources)
    if args.json:
        _out(json.dumps(result, indent=2))
        return EXIT_OK
    _out(_table([
        ("loss", _nats(result["loss"])),
        ("bits/token", f"{result['bits_per_token']:.3f}"),
        ("bits/char", f"{result['bits_per_char']:.3f}"),
        ("perplexity", f"{result['perplexity']:.2f}"),
        ("tokens", f"{result['tokens']:,}"),
        ("chars", f"{result['chars']:,}"),
    ]))
    return EXIT_OK


# === attention ===

def _add_attention(commands) -> None:
    p = _add_command(commands, "attention", "Show which earlier tokens each token of a text attends to.", [
        'jupyter-llm attention bard "To be, or not to be"',
        'jupyter-llm attention bard "To be, or not to be" --top 5',
        'jupyter-llm attention bard "To be, or not to be" --html attention.html',
        "jupyter-llm attention bard - --json < passage.txt",
    ], _attention)
    p.add_argument("model", metavar="MODEL", help="a model name in the store, or a model folder")
    p.add_argument("text", metavar="TEXT", help="the text to read; '-' reads it from stdin")
    p.add_argument("--top", type=_positive_int, default=3, metavar="K",
                   help="show the K most attended tokens of each token (default: 3)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the tokens and the full weight matrix as JSON")
    out.add_argument("--html", metavar="FILE", help="write a static HTML heatmap to FILE")


def _attention(args: argparse.Namespace) -> int:
    text = _read_text_argument(args.text)
    amap = _load(args.model).attention(text)
    if args.json:
        _out(json.dumps(amap.to_dict(), ensure_ascii=False))
        return EXIT_OK
    if args.html is not None:
        page = ('<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>jupyter-llm attention</title>'
                f"</head><body>\n{amap.to_html()}\n</body></html>\n")
        try:
            Path(args.html).write_text(page, encoding="utf-8")
        except OSError as e:
            raise DataError(f"Cannot write '{args.html}' ({e.strerror}). Expected a writable file path.") from None
        _out(f"Wrote the attention of {len(amap)} tokens to {args.html}")
        return EXIT_OK
    _out(f"{len(amap)} tokens; each attends to (position: weight):")
    width = max(len(_token(t)) for t in amap.tokens)
    for i, token in enumerate(amap.tokens):
        tops = "  ".join(f"{_token(tok)}@{pos}: {w:.2f}" for pos, tok, w in amap.top(i, args.top))
        _out(f"{i:>5}  {_token(token):<{width}}  -> {tops}")
    return EXIT_OK


# === Helpers ===

# === demo ===

DEMO_PROMPTS = {"shakespeare": ["ROMEO:\n", "First Citizen:\n"], "tang-poetry": ["春眠不觉晓，", "明月"]}


def _add_demo(commands) -> None:
    p = _add_command(commands, "demo", "Generate text with a bundled default model: no training needed.", [
        "jupyter-llm demo",
        "jupyter-llm demo --model tang-poetry",
        'jupyter-llm demo --prompt "KING HENRY:" -n 400',
    ], _demo)
    p.add_argument("--model", default="shakespeare", metavar="NAME",
                   help="a bundled or saved model (default: shakespeare)")
    p.add_argument("--prompt", action="append", metavar="TEXT", help="a prompt to continue (repeatable)")
    p.add_argument("-n", "--max-tokens", type=_non_negative_int, default=300, metavar="N",
                   help="tokens per prompt (default: 300)")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="the same seed gives the same text (default: 0)")


def _demo(args: argparse.Namespace) -> int:
    lm = _load(args.model)
    facts = lm.summary()
    val = (facts.get("metrics") or {}).get("val_loss")
    _out(f"# {lm!r}")
    if val is not None:
        _out(f"# validation loss {val:.3f} nats/token")
    prompts = args.prompt or DEMO_PROMPTS.get(args.model, ["\n"])
    for i, prompt in enumerate(prompts):
        _out(f"\n--- {prompt.strip() or 'new document'} ---")
        _out(prompt, end="", flush=True)
        try:
            for piece in lm.stream(prompt, max_tokens=args.max_tokens, temperature=0.8, seed=args.seed + i):
                _out(piece, end="", flush=True)
        except KeyboardInterrupt:
            _out()
            return _interrupted()
        _out()
    return EXIT_OK


# === lab ===

QUICKSTART = Path("demo_notebooks") / "01_quickstart.ipynb"


def _add_lab(commands) -> None:
    p = _add_command(commands, "lab", "Open JupyterLab on the quickstart notebook (or run it headless).", [
        "jupyter-llm lab",
        "jupyter-llm lab --headless",
        "jupyter-llm lab demo_notebooks/04_chinese_poetry.ipynb --port 8899",
        "jupyter-llm lab --ip 0.0.0.0 --no-browser",
    ], _lab)
    p.add_argument("notebook", nargs="?", type=Path, metavar="NOTEBOOK",
                   help=f"the notebook to open (default: {QUICKSTART.as_posix()}, found in the current folder "
                        "or the jupyter_llm checkout)")
    p.add_argument("--headless", action="store_true",
                   help="no browser, no server: run the notebook top to bottom in a kernel and print its outputs")
    p.add_argument("--port", type=int, default=None, metavar="N", help="the server's port (default: JupyterLab's)")
    p.add_argument("--no-browser", action="store_true", help="print the URL but do not open a browser")
    p.add_argument("--ip", default=None, metavar="ADDRESS", help="the address to listen on (default: localhost)")


def _find_notebook(given: Path | None) -> Path | None:
    if given is not None:
        if not given.is_file():
            raise UsageError(f"No notebook at '{given}'. Expected the path of an .ipynb file.")
        if given.suffix != ".ipynb":
            raise UsageError(f"'{given}' is not a notebook. Expected an .ipynb file.")
        return given.resolve()
    checkout = Path(__file__).resolve().parents[2]
    for root in (Path.cwd(), checkout):
        if (root / QUICKSTART).is_file():
            return (root / QUICKSTART).resolve()
    return None


def _lab(args: argparse.Namespace) -> int:
    notebook = _find_notebook(args.notebook)
    if args.headless:
        if notebook is None:
            raise UsageError(f"No notebook to run: {QUICKSTART.as_posix()} is not in the current folder. "
                             "Expected a notebook path: jupyter-llm lab NOTEBOOK --headless.")
        return _run_headless(notebook)
    import importlib.util

    if importlib.util.find_spec("jupyterlab") is None:
        raise UsageError("JupyterLab is not installed here. Expected it next to jupyter_llm: "
                         "pip install 'jupyter_llm[notebook]' (or run 'jupyter-llm lab --headless').")
    import secrets
    import socket

    port = args.port or _free_port(8888)
    token = os.environ.get("JUPYTER_TOKEN") or secrets.token_hex(24)
    argv = [sys.executable, "-m", "jupyterlab", f"--port={port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}"]
    path = ""
    if notebook is not None:
        # Serve the folder above demo_notebooks/ so every demo (and docs/images) is reachable.
        root = notebook.parent.parent if notebook.parent.name == "demo_notebooks" else notebook.parent
        path = notebook.relative_to(root).as_posix()
        argv += [f"--ServerApp.root_dir={root}", f"--LabApp.default_url=/lab/tree/{path}"]
    else:
        print(f"{PROG}: {QUICKSTART.as_posix()} is not here; opening JupyterLab in {Path.cwd()}.", file=sys.stderr)
    if args.ip is not None:
        argv.append(f"--ip={args.ip}")
    if args.no_browser:
        argv.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--allow-root")  # JupyterLab refuses root without it (containers, CI machines)
    host = socket.gethostname() if args.ip in ("0.0.0.0", "::") else (args.ip or "localhost")
    url = f"http://{host}:{port}/lab/tree/{path}?token={token}" if path else f"http://{host}:{port}/lab?token={token}"
    print(f"{PROG}: starting JupyterLab (Ctrl-C to stop). Open:\n\n    {url}\n", file=sys.stderr, flush=True)
    os.execv(sys.executable, argv)  # JupyterLab takes over this process: its signals, its exit status
    return EXIT_OK  # pragma: no cover


def _free_port(start: int) -> int:
    """The first port from ``start`` that nothing listens on (JupyterLab's own default is 8888)."""
    import socket

    for port in range(start, start + 100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise JupyterLLMError(f"No free port between {start} and {start + 99}. Expected one: pass --port N.")


def _run_headless(notebook: Path) -> int:
    """Run ``notebook`` in a fresh kernel and print each code cell with its text outputs."""
    import importlib.util

    if importlib.util.find_spec("nbclient") is None:
        raise UsageError("Running a notebook needs nbclient. Expected it installed: pip install 'jupyter_llm[notebook]'.")
    import nbclient
    import nbformat

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    nb = nbformat.read(notebook, as_version=4)
    _out(f"# Running {notebook} in a kernel (no browser).")
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=1800,
                                     resources={"metadata": {"path": str(notebook.parent)}})
    count = 0
    # The kernel's own stderr is its start-up chatter; what the cells write reaches us as their outputs.
    with client.setup_kernel(stderr=subprocess.DEVNULL):
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            count += 1
            _out(f"\nIn [{count}]: " + cell.source.replace("\n", "\n   ...: "))
            try:
                client.execute_cell(cell, index)
            except nbclient.exceptions.CellExecutionError as e:
                _print_outputs(cell)
                return _error(f"The notebook stopped at a cell that raised {e.ename}: {e.evalue}", EXIT_ERROR)
            _print_outputs(cell)
    return EXIT_OK


def _print_outputs(cell) -> None:
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "stream":
            _out(output.get("text", ""), end="")
        elif kind in ("execute_result", "display_data"):
            text = (output.get("data") or {}).get("text/plain")
            if text:
                _out(text)
    sys.stdout.flush()


def _load(model: str):
    _import_tensorflow()
    import jupyter_llm as jl

    return jl.load(model)


def _import_tensorflow() -> None:
    """Import TensorFlow quietly (see ``jupyter_llm._tf``), with its logs below errors off in a terminal."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from .. import _tf  # noqa: F401,F811


def _read_text_argument(value: str) -> str:
    """The argument itself, or stdin for '-' (without the one newline that ends it)."""
    if value != "-":
        return value
    text = sys.stdin.read()
    return text[:-1] if text.endswith("\n") else text


def _unescape(text: str) -> str:
    r"""``\n``, ``\t`` and ``\\`` typed on the command line as the characters they name."""
    return re.sub(r"\\(\\|n|t)", lambda m: {"\\": "\\", "n": "\n", "t": "\t"}[m.group(1)], text)


def _positive_int(value: str) -> int:
    return _int_at_least(value, 1, "a positive integer")


def _non_negative_int(value: str) -> int:
    return _int_at_least(value, 0, "an integer >= 0")


def _int_at_least(value: str, minimum: int, expected: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or number < minimum:
        raise argparse.ArgumentTypeError(f"expected {expected}, received {value!r}")
    return number


def _out(text: str = "", end: str = "\n", flush: bool = False) -> None:
    sys.stdout.write(text + end)
    if flush:
        sys.stdout.flush()


def _error(message: str, code: int) -> int:
    sys.stdout.flush()
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return code


def _cli_spelling(message: str) -> str:
    for python, flag in _FLAG_SPELLING.items():
        message = message.replace(python, flag)
    return message


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


def _table(rows: list[tuple[str, ...]], indent: int = 0) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        " " * indent + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows
    )


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


def _nats(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f} nats/token"


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def _token(token: str) -> str:
    """A token shown so that spaces and newlines are visible: ``' '``, ``'\\n'``."""
    return repr(token)


if __name__ == "__main__":
    sys.exit(main())
