"""Turning per-token tag probabilities into a valid BIO sequence (numpy only).

The slot head scores each token on its own, so its most likely tags can be
inconsistent (``O I-city``). :func:`viterbi_bio` finds the most likely
sequence in which every ``I-x`` follows ``B-x`` or ``I-x``: a CRF's decoding
with the transitions fixed to allowed (0) or forbidden (-inf).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["allowed_transitions", "viterbi_bio", "repair_bio"]


def allowed_transitions(tags: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(start, trans)``: log-scores 0 or -inf of starting with a tag, ``(n,)``,
    and of going from tag i to tag j, ``(n, n)``."""
    n = len(tags)
    start = np.zeros(n, np.float64)
    trans = np.zeros((n, n), np.float64)
    for j, tag in enumerate(tags):
        if tag.startswith("I-"):
            start[j] = -np.inf
            for i, prev in enumerate(tags):
                if prev[2:] != tag[2:] or prev == "O":
                    trans[i, j] = -np.inf
    return start, trans


def viterbi_bio(log_probs: np.ndarray, start: np.ndarray, trans: np.ndarray) -> list[int]:
    """The best valid tag ids of one utterance.

    Args:
        log_probs: ``(T, n_tags)`` log-probabilities of the tags of each token.
        start, trans: from :func:`allowed_transitions`.
    """
    t = log_probs.shape[0]
    if t == 0:
        return []
    score = start + log_probs[0]  # (n,)
    back = np.zeros((t, log_probs.shape[1]), np.int64)
    for i in range(1, t):
        total = score[:, None] + trans  # (n_prev, n)
        back[i] = np.argmax(total, axis=0)
        score = total[back[i], np.arange(total.shape[1])] + log_probs[i]
    best = [int(np.argmax(score))]
    for i in range(t - 1, 0, -1):
        best.append(int(back[i, best[-1]]))
    return best[::-1]


def repair_bio(tags: Sequence[str]) -> list[str]:
    """Make a tag sequence valid by turning a stray ``I-x`` into ``B-x`` (conlleval's reading).

    >>> repair_bio(["O", "I-city", "I-city", "I-state"])
    ['O', 'B-city', 'I-city', 'B-state']
    """
    out = []
    prev = "O"
    for tag in tags:
        if tag.startswith("I-") and (prev == "O" or prev[2:] != tag[2:]):
            tag = "B-" + tag[2:]
        out.append(tag)
        prev = tag
    return out
