"""Measure the bundled language models on the validation split they were trained with.

    python scripts/eval_default_models.py                  # shakespeare and tang-poetry
    python scripts/eval_default_models.py shakespeare --context 1024

The split is the one ``scripts/train_default_models.py`` (and ``jl.train(...,
validation_split=0.1)``) uses: the last 10% of the corpus in ``../shared/corpora``,
cut by size. The loss is ``LanguageModel.evaluate``'s: nats per character, every
held-out character predicted once, the text read in windows of the model's
``seq_len`` (each window starts from a fresh state). ``--context N`` also reads it
in windows of N characters (a GRU carries any length; the attention still spans
its trained window), which is closer to how the model is used when generating.
Takes seconds per model on a CPU; nothing is trained or written.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"
MODELS = {"shakespeare": "tinyshakespeare.txt", "tang-poetry": "tang_poetry.txt"}


def evaluate(name: str, corpora: Path, contexts: list[int]) -> dict:
    import jupyter_llm as jl
    from jupyter_llm.text.sources import TextSource

    lm = jl.load(name)  # the bundled model (a saved model of the same name only with prefer="user")
    _, validation = TextSource.from_any(corpora / MODELS[name]).split(0.1)
    result = {"name": name, "parameters": lm.num_parameters, "seq_len": lm.config.seq_len,
              "val_loss": lm.evaluate(validation)["loss"]}
    for n in contexts:
        longer = jl.LanguageModel(lm.model, lm.tokenizer,
                                  dataclasses.replace(lm.config, seq_len=n, attention_window=lm.config.window),
                                  lm.metadata)
        result[f"val_loss_context_{n}"] = longer.evaluate(validation, batch_size=16)["loss"]
    recorded = (lm.metadata.get("metrics") or {}).get("val_loss")
    result["recorded_at_training"] = recorded
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"models (default: {', '.join(MODELS)})")
    parser.add_argument("--corpora", type=Path, default=CORPORA)
    parser.add_argument("--context", type=int, action="append", default=[], metavar="N",
                        help="also evaluate with windows of N tokens (repeatable)")
    args = parser.parse_args()
    unknown = [n for n in args.names if n not in MODELS]
    if unknown:
        parser.error(f"unknown model {unknown[0]!r}; expected one of {', '.join(MODELS)}")
    for name in args.names or list(MODELS):
        print(json.dumps(evaluate(name, args.corpora, args.context), ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
