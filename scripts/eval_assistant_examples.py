"""Held-out accuracy of the assistant's intent and slot model on its shipped examples.

    python scripts/eval_assistant_examples.py [--seed 0] [--fraction 0.2] [--epochs N] [--option key=value ...]

Splits the shipped English and Chinese examples (``jupyter_llm/assistant/data``)
per intent, 80% to train and 20% held out, trains the model exactly as the
assistant does at first use (same configuration and epochs, unless changed
here), and prints intent accuracy, slot F1 and sentence accuracy on the held-out
examples, overall and per language, with the training time. The same is done
for the mood model (its sentences split the same way; the single mood words of
the lexicon files are always in training).
"""

from __future__ import annotations

import argparse
import json
import time

from jupyter_llm import nlu
from jupyter_llm.assistant import understanding
from jupyter_llm.assistant.understanding import (INTENT_EPOCHS, MOOD_EPOCHS, MOOD_WORD_DROPOUT, intent_config, mood_examples,
                                                 mood_lexicon, prepare, shipped_examples)
from jupyter_llm.nlu.tokenize import has_cjk


def report(name: str, model, held_out: nlu.NLUDataset, seconds: float, train_size: int) -> dict:
    out = {"model": name, "train_examples": train_size, "held_out": len(held_out), "train_seconds": round(seconds, 1)}
    for lang, part in (("all", list(held_out)), ("en", [e for e in held_out if not has_cjk(e.utterance)]),
                       ("zh", [e for e in held_out if has_cjk(e.utterance)])):
        r = model.evaluate(nlu.NLUDataset(part))
        out[lang] = {k: round(r[k], 4) for k in ("intent_accuracy", "slot_f1", "sentence_accuracy")} | {"n": len(part)}
    print(json.dumps(out, ensure_ascii=False), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fraction", type=float, default=0.2)
    parser.add_argument("--epochs", type=int, default=INTENT_EPOCHS)
    parser.add_argument("--augment", type=int, default=understanding.AUGMENT_COPIES, metavar="N",
                        help="copies of each example with its slot values swapped")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="an NLUConfig field, e.g. --option rnn_units=96")
    args = parser.parse_args()
    overrides = {k: json.loads(v) for k, v in (o.split("=", 1) for o in args.option)}
    understanding.AUGMENT_COPIES = args.augment

    train, held = shipped_examples().split(args.fraction, seed=args.seed)
    data = prepare(train)  # as the assistant prepares its examples
    started = time.perf_counter()
    model = nlu.IntentSlotModel.train(data, epochs=args.epochs, **intent_config(**overrides).train_options())
    report("intent", model, held, time.perf_counter() - started, len(train))

    mtrain, mheld = mood_examples().split(args.fraction, seed=args.seed)
    started = time.perf_counter()
    mood = nlu.IntentSlotModel.train(mtrain + mood_lexicon(), epochs=MOOD_EPOCHS,
                                     **intent_config(word_dropout=MOOD_WORD_DROPOUT).train_options())
    report("mood", mood, mheld, time.perf_counter() - started, len(mtrain))


if __name__ == "__main__":
    main()
