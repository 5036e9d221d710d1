"""Issue 16: does fine-tuning a bundled base beat training from scratch on modern English prose?

    python bench/finetune_base.py                         # shakespeare, 60 s each (about 4 minutes in all)
    python bench/finetune_base.py --seconds 20 --json bench/results/finetune_quick.json
    python bench/finetune_base.py --base ./peps-base      # any saved model or folder as the candidate base
    python bench/finetune_base.py --train-base-on ../shared/corpora/python_peps.txt --base-seconds 300
                                  # a candidate base: the shakespeare size trained on that text first

The text: modern technical English the default models never see. It is
assembled from this repository, in this order: ``README.md``, ``docs/*.md``
(sorted by name), then the docstrings of ``jupyter_llm/**/*.py`` (sorted by
path; module, class and function docstrings, extracted with :mod:`ast`, never
run). Code blocks of the Markdown are kept (they are part of what a user's
notes look like). The last 10% is held out as the validation text; the rest is
the training text.

It prints three validation losses (nats per character) of one run on one
machine, all on that held-out text:

1. the base as it is, without fine-tuning (characters it never saw read as ``<unk>``);
2. the base fine-tuned on the training text for ``--seconds`` (``jl.train(base=...)``, its defaults);
3. a model of the same size (the base's config) trained from scratch for ``--seconds`` on the same text.

Every number comes from ``LanguageModel.evaluate`` on the same held-out text.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def assemble_text(repo: Path = REPO) -> str:
    """README, the docs and the package's docstrings, as one text (see the module docstring)."""
    parts = [(repo / "README.md").read_text("utf-8")]
    parts += [p.read_text("utf-8") for p in sorted((repo / "docs").glob("*.md"))]
    for path in sorted((repo / "jupyter_llm").rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node)
                if doc:
                    parts.append(doc)
    return "\n\n".join(parts)


def split(text: str, held_out: float = 0.1) -> tuple[str, str]:
    cut = int(len(text) * (1 - held_out))
    return text[:cut], text[cut:]


def load_average() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "uptime unavailable"


def run(base_name: str, seconds: float, seed: int, learning_rate: float | None = None,
        scratch: bool = True, freeze: int = 0) -> dict[str, Any]:
    import jupyter_llm as jl

    text = assemble_text()
    train_text, val_text = split(text)
    base = jl.load(base_name, prepare=False)
    before = {"uptime": load_average()}
    result: dict[str, Any] = {
        "base": base_name, "seconds": seconds, "seed": seed, "text_chars": len(text),
        "train_chars": len(train_text), "val_chars": len(val_text), "config": base.config.to_dict(),
        "base_fingerprint": base.fingerprint, "uptime_before": before["uptime"],
        "text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),  # the repo's text changes with it
    }
    result["base_val_loss"] = base.evaluate(val_text)["loss"]
    print(f"base {base_name} without fine-tuning: {result['base_val_loss']:.4f} nats/char", flush=True)

    t0 = time.monotonic()
    lr = {} if learning_rate is None else {"learning_rate": learning_rate}
    tuned = jl.train(train_text, base=base, validation_data=val_text, epochs=1000, time_limit=seconds,
                     progress=False, copy_index=False, seed=seed, sample_tokens=0, freeze_embedding_epochs=freeze, **lr)
    result["finetuned_wall_s"] = round(time.monotonic() - t0, 1)
    result["finetuned_val_loss"] = tuned.evaluate(val_text)["loss"]
    result["finetuned_metrics"] = tuned.metadata["metrics"]
    result["finetuned_new_symbols"] = tuned.metadata["base"]["new_symbols"]
    result["finetuned_learning_rate"] = tuned.config.learning_rate
    print(f"base fine-tuned for {seconds:g} s: {result['finetuned_val_loss']:.4f} nats/char", flush=True)

    if not scratch:
        result["uptime_after"] = load_average()
        return result
    shape = {k: v for k, v in base.config.to_dict().items() if k not in ("vocab_size", "extra")}
    shape["seed"] = seed
    t0 = time.monotonic()
    scratch = jl.train(train_text, config=shape, validation_data=val_text, epochs=1000, time_limit=seconds,
                       progress=False, copy_index=False, sample_tokens=0)
    result["scratch_wall_s"] = round(time.monotonic() - t0, 1)
    result["scratch_val_loss"] = scratch.evaluate(val_text)["loss"]
    result["scratch_metrics"] = scratch.metadata["metrics"]
    print(f"from scratch for {seconds:g} s (same size): {result['scratch_val_loss']:.4f} nats/char", flush=True)

    result["base_unchanged"] = jl.load(base_name, prepare=False).fingerprint == result["base_fingerprint"]
    result["uptime_after"] = load_average()
    result["machine"] = {"platform": platform.platform(), "cpus": os.cpu_count(), "python": sys.version.split()[0]}
    return result


def train_candidate(size_of: str, corpus: Path, seconds: float, seed: int) -> Path:
    """A base of ``size_of``'s config trained from scratch on ``corpus`` for ``seconds``, saved to a temp folder."""
    import tempfile

    import jupyter_llm as jl

    shape = {k: v for k, v in jl.load(size_of, prepare=False).config.to_dict().items()
             if k not in ("vocab_size", "extra")}
    shape["seed"] = seed
    lm = jl.train(str(corpus), config=shape, epochs=1000, time_limit=seconds, progress=False,
                  copy_index=False, sample_tokens=0, validation_split=0.02)
    folder = Path(tempfile.mkdtemp(prefix="finetune_base_")) / corpus.stem
    lm.save(folder)
    print(f"candidate base trained on {corpus.name} for {seconds:g} s: {lm.metadata['metrics']}", flush=True)
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="shakespeare", help="a bundled or saved model, or a folder")
    parser.add_argument("--seconds", type=float, default=60.0, help="the time budget of each training run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--learning-rate", type=float, help="fine-tune at this rate (default: train's, the base's / 3)")
    parser.add_argument("--freeze-embedding-epochs", type=int, default=0, help="fine-tune with the embedding fixed "
                        "for this many epochs")
    parser.add_argument("--no-scratch", action="store_true", help="leave out the run from scratch")
    parser.add_argument("--train-base-on", type=Path, metavar="FILE",
                        help="first train a candidate base of --base's size on FILE (from scratch) and use it")
    parser.add_argument("--base-seconds", type=float, default=300.0, help="how long to train that candidate")
    parser.add_argument("--json", type=Path, help="write all the numbers here")
    args = parser.parse_args(argv)
    if args.train_base_on is not None:
        args.base = str(train_candidate(args.base, args.train_base_on, args.base_seconds, args.seed))
    result = run(args.base, args.seconds, args.seed, args.learning_rate, scratch=not args.no_scratch,
                 freeze=args.freeze_embedding_epochs)
    print(json.dumps({k: result.get(k) for k in ("base_val_loss", "finetuned_val_loss", "scratch_val_loss")}))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
