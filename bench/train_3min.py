"""Train the default configuration for a fixed wall-clock budget and report validation loss.

    python bench/train_3min.py ../shared/corpora/tinyshakespeare.txt --minutes 3 --prompt "ROMEO:"
    python bench/train_3min.py ../shared/corpora/tang_poetry.txt --minutes 3 --prompt "春眠不觉晓"

Validation is the last 10% of the text (nanoGPT's split), in nats per token.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus")
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--prompt", default="")
    parser.add_argument("--size", default="small")
    parser.add_argument("--save", default=None, help="save the model to this path")
    parser.add_argument("--json", default=None, help="write the results to this file")
    args = parser.parse_args()

    import jupyter_llm as jl

    start = time.perf_counter()
    lm = jl.train(args.corpus, epochs=1000, validation_split=0.1, size=args.size,
                  time_limit=args.minutes * 60, progress=False, sample_tokens=0,
                  on_progress=lambda e: e.kind == "epoch_end" and print(
                      f"epoch {e.epoch}: loss {e.loss:.3f} val_loss {e.val_loss:.3f} at {e.elapsed:.0f} s", flush=True))
    wall = time.perf_counter() - start
    metrics = lm.metadata["metrics"]
    partial = metrics.get("partial_epoch") or {}  # the epoch the time limit cut short is measured too
    val = min([h["val_loss"] for h in lm.metadata["history"]]
              + ([partial["val_loss"]] if partial.get("val_loss") is not None else []))
    sample = lm.generate(args.prompt, max_tokens=300, temperature=0.8, seed=0)
    result = {
        "corpus": os.path.basename(args.corpus),
        "size": args.size,
        "parameters": lm.num_parameters,
        "train_seconds": metrics["train_seconds"],
        "wall_seconds": round(wall, 1),
        "epochs": metrics["epochs_completed"],
        "tokens_seen": metrics["tokens_seen"],
        "val_loss_last": metrics["val_loss"],  # of the weights returned, after the cut-short epoch
        "val_loss_best": val,
        "sample": args.prompt + sample,
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, ensure_ascii=False, indent=2)
    if args.save:
        lm.save(args.save, overwrite=True)


if __name__ == "__main__":
    main()
