"""Train the bundled default models from ../shared/corpora and write them into the package.

    python scripts/train_default_models.py                  # every model
    python scripts/train_default_models.py shakespeare      # one of them

Each model is trained with a fixed seed and a fixed number of epochs, so a run
on the same machine and versions gives the same model. The results (time,
validation loss, a sample) are printed as JSON and appended to
``bench/results/default_models.jsonl``; docs/benchmarks.md records them.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"
OUT = ROOT / "jupyter_llm" / "models"

#: name -> (corpus, train() arguments, sample prompt)
RECIPES = {
    # One GRU of 512 with dropout and a cosine learning rate: 1.19M parameters, about 4.8 MB.
    "shakespeare": ("tinyshakespeare.txt",
                    dict(size="small", epochs=20, embedding_dim=128, rnn_units=512, attention_dim=128,
                         dropout=0.25, lr_schedule="cosine"), "ROMEO:\n"),
    "tang-poetry": ("tang_poetry.txt", dict(size="small", epochs=4, seq_len=64, max_vocab=3000), "春眠不觉晓，"),
}


def train_one(name: str, corpora: Path, epochs: int | None) -> dict:
    import jupyter_llm as jl

    corpus, options, prompt = RECIPES[name]
    options = {**options, **({"epochs": epochs} if epochs else {})}
    start = time.perf_counter()
    lm = jl.train(corpora / corpus, validation_split=0.1, seed=0, progress=False, sample_tokens=0,
                  on_progress=lambda e: e.kind == "epoch_end" and print(
                      f"{name} epoch {e.epoch}/{e.epochs}: loss {e.loss:.3f} val_loss {e.val_loss:.3f} "
                      f"({e.elapsed:.0f} s)", flush=True),
                  **options)
    seconds = time.perf_counter() - start
    lm.metadata["description"] = f"Bundled default model: character level, trained on {corpus}."
    lm.save(OUT / name, overwrite=True)
    result = {
        "name": name,
        "corpus": corpus,
        "options": options,
        "seconds": round(seconds, 1),
        "parameters": lm.num_parameters,
        "val_loss": lm.metadata["history"][-1]["val_loss"],
        "sample": prompt + lm.generate(prompt, max_tokens=200, temperature=0.8, seed=0),
        "weights_bytes": (OUT / name / "model.weights.h5").stat().st_size,
    }
    print(json.dumps(result, ensure_ascii=False, indent=2), flush=True)
    log = ROOT / "bench" / "results" / "default_models.jsonl"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a", encoding="utf-8") as f:
        f.write(json.dumps(result, ensure_ascii=False) + "\n")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"models to train (default: all of {', '.join(RECIPES)})")
    parser.add_argument("--corpora", type=Path, default=CORPORA)
    parser.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs (for a quick check)")
    args = parser.parse_args()
    unknown = [n for n in args.names if n not in RECIPES]
    if unknown:
        parser.error(f"unknown model {unknown[0]!r}; expected one of {', '.join(RECIPES)}")
    for name in args.names or list(RECIPES):
        train_one(name, args.corpora, args.epochs)


if __name__ == "__main__":
    main()
