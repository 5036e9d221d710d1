"""Scores of an intent and slot model: intent accuracy, CoNLL span F1, sentence accuracy.

The slot F1 follows ``conlleval.pl`` (CoNLL-2000), the script the ATIS and
SNIPS results are reported with: a span (chunk) is correct when its type and
both its boundaries match; ``I-x`` after ``O`` or after another type starts a
new span, as does any ``B-x``. Scores are fractions in ``[0, 1]``.

>>> span_f1([["B-a", "I-a", "O"]], [["B-a", "I-a", "O"]])["f1"]
1.0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import invalid

__all__ = ["chunks", "span_f1", "intent_accuracy", "sentence_accuracy", "score"]


def _split(tag: str) -> tuple[str, str]:
    """``"B-city"`` -> ``("B", "city")``; ``"O"`` -> ``("O", "")``; a bare type counts as ``I``."""
    if tag == "O" or not tag:
        return "O", ""
    if len(tag) > 2 and tag[1] == "-" and tag[0] in "BIES":
        return tag[0], tag[2:]
    return "I", tag


def _end_of_chunk(prev_tag: str, tag: str, prev_type: str, type_: str) -> bool:
    if prev_tag in ("E", "S"):
        return True
    if prev_tag in ("B", "I") and tag in ("B", "S", "O"):
        return True
    return prev_tag != "O" and prev_type != type_


def _start_of_chunk(prev_tag: str, tag: str, prev_type: str, type_: str) -> bool:
    if tag in ("B", "S"):
        return True
    if prev_tag in ("E", "S", "O") and tag in ("E", "I"):
        return True
    return tag != "O" and prev_type != type_


def chunks(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """The spans of a tag sequence as ``(type, start, end)`` token ranges, conlleval's way.

    >>> chunks(["B-x", "I-x", "I-y", "O", "I-x", "B-x"])
    [('x', 0, 2), ('y', 2, 3), ('x', 4, 5), ('x', 5, 6)]
    """
    out: list[tuple[str, int, int]] = []
    prev_tag, prev_type, start = "O", "", None
    for i, raw in enumerate(list(tags) + ["O"]):
        tag, type_ = _split(raw)
        if start is not None and _end_of_chunk(prev_tag, tag, prev_type, type_):
            out.append((prev_type, start, i))
            start = None
        if _start_of_chunk(prev_tag, tag, prev_type, type_):
            start = i
        prev_tag, prev_type = tag, type_
    return out


def span_f1(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> dict[str, Any]:
    """CoNLL span precision, recall and F1 of predicted tag sequences against gold ones.

    Returns ``precision``, ``recall``, ``f1`` (fractions) and the counts
    ``correct``, ``predicted``, ``gold``; ``per_slot`` holds the same per slot type.
    """
    if len(gold) != len(predicted):
        raise invalid("predicted", f"{len(gold)} tag sequences, one per gold sequence", len(predicted))
    correct = found = expected = 0
    per: dict[str, list[int]] = {}
    for g, p in zip(gold, predicted):
        if len(g) != len(p):
            raise invalid("predicted", f"one tag per token ({len(g)})", list(p))
        gs, ps = set(chunks(g)), set(chunks(p))
        correct += len(gs & ps)
        found += len(ps)
        expected += len(gs)
        for kind, spans in ((0, gs & ps), (1, ps), (2, gs)):
            for name, _, _ in spans:
                per.setdefault(name, [0, 0, 0])[kind] += 1
    return {**_prf(correct, found, expected),
            "per_slot": {name: _prf(*counts) for name, counts in sorted(per.items())}}


def _prf(correct: int, found: int, expected: int) -> dict[str, Any]:
    precision = correct / found if found else 0.0
    recall = correct / expected if expected else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    if not found and not expected:  # nothing to find and nothing found: perfect
        precision = recall = f1 = 1.0
    return {"precision": precision, "recall": recall, "f1": f1,
            "correct": correct, "predicted": found, "gold": expected}


def intent_accuracy(gold: Sequence[str], predicted: Sequence[str]) -> float:
    if len(gold) != len(predicted):
        raise invalid("predicted", f"{len(gold)} intents", len(predicted))
    return sum(g == p for g, p in zip(gold, predicted)) / len(gold) if gold else 0.0


def sentence_accuracy(gold_intents: Sequence[str], predicted_intents: Sequence[str],
                      gold_tags: Sequence[Sequence[str]], predicted_tags: Sequence[Sequence[str]]) -> float:
    """The fraction of utterances whose intent and every tag are right."""
    n = len(gold_intents)
    right = sum(gi == pi and list(gt) == list(pt)
                for gi, pi, gt, pt in zip(gold_intents, predicted_intents, gold_tags, predicted_tags))
    return right / n if n else 0.0


def score(gold_intents: Sequence[str], predicted_intents: Sequence[str],
          gold_tags: Sequence[Sequence[str]], predicted_tags: Sequence[Sequence[str]]) -> dict[str, Any]:
    """``intent_accuracy``, ``slot_f1``, ``sentence_accuracy`` and the slot precision and recall."""
    spans = span_f1(gold_tags, predicted_tags)
    return {
        "intent_accuracy": intent_accuracy(gold_intents, predicted_intents),
        "slot_f1": spans["f1"],
        "sentence_accuracy": sentence_accuracy(gold_intents, predicted_intents, gold_tags, predicted_tags),
        "slot_precision": spans["precision"],
        "slot_recall": spans["recall"],
        "examples": len(gold_intents),
        "per_slot": spans["per_slot"],
    }
