"""Train the bundled default models from ../shared/corpora and write them into the package.

    python scripts/train_default_models.py                  # every model
    python scripts/train_default_models.py shakespeare      # one of them
    python scripts/train_default_models.py assistant-nlu mood   # the assistant's two NLU models
    python scripts/train_default_models.py --index-only     # add the copied-text index to the shipped models

Each model is trained with a fixed seed and a fixed number of epochs, so a run
on the same machine and versions gives the same model. The results (time,
validation loss, a sample) are printed as JSON and appended to
``bench/results/default_models.jsonl``; docs/benchmarks.md records them.

The assistant's NLU targets (``assistant-nlu``, ``mood``) train the intent and
slot model and the mood model exactly as ``%assistant`` would on first use
(nothing taught; every epoch, no time limit) and write them into
``jupyter_llm/assistant/models/``, each recording the fingerprint of the
examples and settings it was trained for. Before that, the same recipe is
trained on 80% of each intent's examples and scored on the other 20% (the
held-out accuracy recorded). Run them after editing the examples in
``jupyter_llm/assistant/data`` or the settings in ``understanding.py``.

``--index-only`` trains nothing: it adds the copied-text index (``lm.copied``)
of exactly the text each bundled language model was trained on (the first 90%
of its corpus, checked against the fingerprint in its metadata) to the shipped
folder, leaving every other file byte for byte as it was. Training records the
index itself; this is for models trained before it did.

``--quick`` is a smoke test of the whole script: the same recipes for a few
steps (one epoch of each NLU model), written under ``--out`` (required with
``--quick``, so a quick model never replaces a shipped one) and logged to
``--log`` (default: ``OUT/default_models.jsonl``).

    python scripts/train_default_models.py --quick --out /tmp/quick
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
    # One GRU of 512 with strong dropout, 256-character windows and a cosine learning rate:
    # 1.2M parameters, about 4.8 MB. (Dropout 0.25 and 128-character windows overfit at 1.51.)
    "shakespeare": ("tinyshakespeare.txt",
                    dict(size="small", epochs=20, embedding_dim=128, rnn_units=512, attention_dim=128,
                         dropout=0.5, seq_len=256, batch_size=32, lr_schedule="cosine"), "ROMEO:\n"),
    "tang-poetry": ("tang_poetry.txt", dict(size="small", epochs=4, seq_len=64, max_vocab=3000), "春眠不觉晓，"),
}


LOG = ROOT / "bench" / "results" / "default_models.jsonl"
#: --quick: training steps of a language model (one epoch) and epochs of an NLU model
QUICK_STEPS, QUICK_NLU_EPOCHS = 3, 1


def _record(result: dict, log: Path = LOG) -> dict:
    """Print a run's result and append it to ``log`` (bench/results/default_models.jsonl)."""
    print(json.dumps(result, ensure_ascii=False, indent=2), flush=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a", encoding="utf-8") as f:
        f.write(json.dumps(result, ensure_ascii=False) + "\n")
    return result


def train_one(name: str, corpora: Path, epochs: int | None, out: Path = OUT, log: Path = LOG,
              quick: bool = False) -> dict:
    import jupyter_llm as jl

    corpus, options, prompt = RECIPES[name]
    options = {**options, **({"epochs": epochs} if epochs else {})}
    if quick:
        options.update(epochs=1, steps_per_epoch=QUICK_STEPS)
    start = time.perf_counter()
    lm = jl.train(corpora / corpus, validation_split=0.1, seed=0, progress=False, sample_tokens=0,
                  on_progress=lambda e: e.kind == "epoch_end" and print(
                      f"{name} epoch {e.epoch}/{e.epochs}: loss {e.loss:.3f} val_loss {e.val_loss:.3f} "
                      f"({e.elapsed:.0f} s)", flush=True),
                  **options)
    seconds = time.perf_counter() - start
    lm.metadata["description"] = f"Bundled default model: character level, trained on {corpus}."
    lm.save(out / name, overwrite=True)
    result = {
        "name": name,
        "quick": quick,
        "corpus": corpus,
        "options": options,
        "seconds": round(seconds, 1),
        "parameters": lm.num_parameters,
        "val_loss": lm.metadata["history"][-1]["val_loss"],
        "sample": prompt + lm.generate(prompt, max_tokens=200, temperature=0.8, seed=0),
        "weights_bytes": (out / name / "model.weights.h5").stat().st_size,
    }
    return _record(result, log)


def index_one(name: str, corpora: Path, out: Path = OUT, log: Path = LOG) -> dict:
    """Add the copied-text index of the text ``name`` was trained on to its folder (no training)."""
    from jupyter_llm import store
    from jupyter_llm.model.copied import FILES, CopyIndex
    from jupyter_llm.text.sources import TextSource

    corpus = RECIPES[name][0]
    folder = out / name
    files = {k: v for k, v in store.read_bundle(folder).items() if k not in FILES}
    recorded = json.loads(files["metadata.json"])["corpus"]
    source = TextSource.from_any(corpora / corpus)
    if source.fingerprint() != recorded["fingerprint"]:
        raise SystemExit(f"{name}: {corpora / corpus} is not the text it was trained on (its fingerprint differs).")
    train, _ = source.split(0.1)  # as train_one's validation_split=0.1 cut it
    start = time.perf_counter()
    index = CopyIndex.build(train.iter_chunks(), f"first 90% of {corpus}", size_hint=train.nbytes)
    seconds = time.perf_counter() - start
    if recorded.get("chars_per_token") == 1.0 and index.segments[0].chars != recorded["train_tokens"]:
        raise SystemExit(f"{name}: the text indexed has {index.segments[0].chars:,} characters, but the model "
                         f"was trained on {recorded['train_tokens']:,}.")
    files.update(index.to_files())
    store.write_bundle(folder, files, overwrite=True)
    return _record({"name": name, "copy_index": True, "corpus": corpus, "chars": index.segments[0].chars,
                    "index_bytes": index.nbytes, "corpus_bytes": (corpora / corpus).stat().st_size,
                    "seconds": round(seconds, 3)}, log)


#: target -> the assistant model it trains (see jupyter_llm.assistant.understanding.KINDS)
NLU_TARGETS = {"assistant-nlu": "assistant", "mood": "mood"}


def train_nlu(target: str, out: Path | None = None, log: Path = LOG, quick: bool = False) -> dict:
    """Train and ship one of the assistant's default NLU models; record held-out scores, time and size.

    ``out``: write it under ``out/KIND`` instead of the package's shipped folder.
    """
    from jupyter_llm import nlu
    from jupyter_llm.assistant import understanding as u

    kind = NLU_TARGETS[target]
    data, config, epochs = u.default_recipe(kind)
    if quick:
        epochs = QUICK_NLU_EPOCHS
    options = {**config.train_options(), "max_time": None}
    # Held-out scores: the same recipe on 80% of each intent's examples (split with seed 0).
    if kind == "assistant":
        train, held = u.shipped_examples().split(0.2, seed=0)
        train = u.prepare(train)
    else:
        train, held = u.mood_examples().split(0.2, seed=0)
        train = train + u.mood_lexicon()
    start = time.perf_counter()
    probe = nlu.IntentSlotModel.train(train, epochs=epochs, **options)
    probe_seconds = time.perf_counter() - start
    scores = probe.evaluate(held)
    del probe
    # The shipped model: every example.
    start = time.perf_counter()
    if quick:
        model = nlu.IntentSlotModel.train(data, epochs=epochs, **options)
        model.metadata["fingerprint"] = u.fingerprint(kind, data, config, epochs)
    else:
        model = u.train_default(kind)
    seconds = time.perf_counter() - start
    if model.metadata.get("stopped") != "epochs":
        raise SystemExit(f"{target}: training stopped early ({model.metadata.get('stopped')}); not shipped.")
    folder = u.save_shipped(kind, model, out)
    result = {
        "name": target,
        "quick": quick,
        "corpus": f"jupyter_llm/assistant/data ({kind})",
        "options": {"epochs": epochs, **{k: v for k, v in options.items() if v != getattr(nlu.NLUConfig(), k)}},
        "seconds": round(seconds, 1),
        "parameters": model.num_parameters,
        "fingerprint": model.metadata["fingerprint"],
        "train_examples": len(data),
        "held_out": {"examples": len(held), "train_seconds": round(probe_seconds, 1),
                     **{k: round(scores[k], 4) for k in ("intent_accuracy", "slot_f1", "sentence_accuracy")}},
        "weights_bytes": (folder / "model.weights.h5").stat().st_size,
        "folder_bytes": sum(p.stat().st_size for p in folder.iterdir() if p.is_file()),
    }
    return _record(result, log)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"models to train (default: all of {', '.join([*RECIPES, *NLU_TARGETS])})")
    parser.add_argument("--corpora", type=Path, default=CORPORA)
    parser.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs (for a quick check)")
    parser.add_argument("--out", type=Path, default=None,
                        help="write the models under this folder instead of into the package")
    parser.add_argument("--log", type=Path, default=None,
                        help="append results here (default: bench/results/default_models.jsonl, "
                             "or OUT/default_models.jsonl with --out)")
    parser.add_argument("--quick", action="store_true",
                        help=f"a smoke test: {QUICK_STEPS} steps of each language model, "
                             f"{QUICK_NLU_EPOCHS} epoch of each NLU model (needs --out)")
    parser.add_argument("--index-only", action="store_true",
                        help="train nothing: add the copied-text index of their training text to the language models")
    args = parser.parse_args()
    unknown = [n for n in args.names if n not in RECIPES and n not in NLU_TARGETS]
    if unknown:
        parser.error(f"unknown model {unknown[0]!r}; expected one of {', '.join([*RECIPES, *NLU_TARGETS])}")
    if args.epochs and any(n in NLU_TARGETS for n in args.names):
        parser.error("--epochs applies to the language models only; the NLU models ship with their recipe's epochs")
    if args.quick and args.out is None:
        parser.error("--quick needs --out: a quick model must not replace a shipped one")
    log = args.log or (args.out / "default_models.jsonl" if args.out else LOG)
    if args.index_only:
        for name in args.names or RECIPES:
            if name not in RECIPES:
                parser.error(f"--index-only applies to the language models ({', '.join(RECIPES)}), not {name!r}")
            index_one(name, args.corpora, args.out or OUT, log)
        return
    for name in args.names or [*RECIPES, *NLU_TARGETS]:
        if name in NLU_TARGETS:
            train_nlu(name, args.out, log, args.quick)
        else:
            train_one(name, args.corpora, args.epochs, args.out or OUT, log, args.quick)


if __name__ == "__main__":
    main()
