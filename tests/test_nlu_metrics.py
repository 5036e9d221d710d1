"""CoNLL span F1 (conlleval's rules) on hand-made cases, sentence accuracy, and BIO decoding."""

from __future__ import annotations

import numpy as np
import pytest

from jupyter_llm import nlu
from jupyter_llm.nlu.decoding import allowed_transitions
from jupyter_llm.nlu.metrics import intent_accuracy, score, sentence_accuracy


@pytest.mark.parametrize("tags, spans", [
    (["O", "O"], []),
    (["B-city", "I-city", "O"], [("city", 0, 2)]),
    (["B-city", "B-city"], [("city", 0, 1), ("city", 1, 2)]),
    (["I-city", "I-city"], [("city", 0, 2)]),  # I after O starts a span
    (["B-city", "I-state"], [("city", 0, 1), ("state", 1, 2)]),  # a new type starts a new span
    (["O", "I-a", "O", "B-b", "I-b", "I-b"], [("a", 1, 2), ("b", 3, 6)]),
    (["B-a", "I-a", "I-b", "O", "I-a", "B-a"], [("a", 0, 2), ("b", 2, 3), ("a", 4, 5), ("a", 5, 6)]),
    (["city"], [("city", 0, 1)]),  # a bare type counts as I-
])
def test_chunks_follow_conlleval(tags, spans):
    assert nlu.chunks(tags) == spans


def test_span_f1_hand_computed():
    gold = [["B-a", "I-a", "O", "B-b"], ["O", "B-c", "I-c"]]
    pred = [["B-a", "I-a", "O", "B-c"], ["O", "B-c", "O"]]
    # gold spans: a(0,2) b(3,4) c(1,3) = 3; predicted: a(0,2) c(3,4) c(1,2) = 3; correct: a only.
    r = nlu.span_f1(gold, pred)
    assert (r["correct"], r["predicted"], r["gold"]) == (1, 3, 3)
    assert r["precision"] == pytest.approx(1 / 3) and r["recall"] == pytest.approx(1 / 3)
    assert r["f1"] == pytest.approx(1 / 3)
    assert r["per_slot"]["a"]["f1"] == 1.0 and r["per_slot"]["b"]["recall"] == 0.0


def test_span_f1_boundaries_must_match_exactly():
    assert nlu.span_f1([["B-a", "I-a", "I-a"]], [["B-a", "I-a", "O"]])["f1"] == 0.0
    assert nlu.span_f1([["B-a", "I-a"]], [["I-a", "I-a"]])["f1"] == 1.0  # same span, conlleval's reading
    assert nlu.span_f1([["O"]], [["O"]])["f1"] == 1.0  # nothing to find, nothing found


def test_span_f1_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="one tag per token"):
        nlu.span_f1([["O", "O"]], [["O"]])


def test_intent_and_sentence_accuracy():
    assert intent_accuracy(["a", "b", "c", "a"], ["a", "b", "b", "a"]) == 0.75
    assert sentence_accuracy(["a", "b"], ["a", "b"], [["O", "B-x"], ["O"]], [["O", "B-x"], ["B-y"]]) == 0.5
    r = score(["a", "b"], ["a", "a"], [["B-x"], ["O"]], [["B-x"], ["O"]])
    assert (r["intent_accuracy"], r["slot_f1"], r["sentence_accuracy"]) == (0.5, 1.0, 0.5)


def test_viterbi_never_starts_a_span_with_I():
    tags = ["O", "B-x", "I-x", "B-y", "I-y"]
    start, trans = allowed_transitions(tags)
    logp = np.log(np.array([
        [0.1, 0.1, 0.6, 0.1, 0.1],  # I-x most likely, but nothing precedes it
        [0.1, 0.1, 0.5, 0.1, 0.2],
        [0.6, 0.1, 0.1, 0.1, 0.1],
    ]))
    best = [tags[i] for i in nlu.viterbi_bio(logp, start, trans)]
    assert best == ["B-x", "I-x", "O"]
    assert nlu.viterbi_bio(np.zeros((0, 5)), start, trans) == []


def test_repair_bio():
    assert nlu.repair_bio(["I-a", "I-a", "O", "I-b", "I-c"]) == ["B-a", "I-a", "O", "B-b", "B-c"]
