"""The copied-text index (#15.4) on tiny Shakespeare: its size, a query's time, recall and false hits.

    python bench/copied_index.py                       # a few seconds
    python bench/copied_index.py --json bench/results/copied_index.json

It indexes the text the bundled ``shakespeare`` model was trained on (the first
90% of ``../shared/corpora/tinyshakespeare.txt``; the shipped excerpt if the
corpus is absent) and writes the index's files, as a model folder holds them,
to measure their size on disk against the whole corpus's. Then:

* **time**: the median of 1,000-character queries, half taken from the
  training text, half from text it never saw (``python_peps.txt``; this
  project's docs if absent), after one query that makes the lookup tables;
* **recall**: 200-character passages of the training text, each found as one
  span at the passage's own offset (``source_offset - start`` equal to it);
* **exactness**: how far the span's ends fall inside the whole copy around the
  passage (at most 10 characters is the guarantee), and how many ends run one
  block past it because that block's 8-bit hash matched by chance (1 in 256);
* **false hits**: the longest span found in 1,000-character pieces of the
  unseen text (the issue's line: nothing longer than 30 characters), with the
  default ``min_chars`` (66: six blocks), and the spans found with the
  smallest one allowed (55: five blocks).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPORA = ROOT.parent / "shared" / "corpora"


def _texts() -> tuple[str, str, str, str]:
    """``(corpus, training text, unseen text, where they came from)``."""
    from jupyter_llm.text.sources import TextSource

    path = CORPORA / "tinyshakespeare.txt"
    if path.is_file():
        corpus = path.read_text("utf-8")
        train = TextSource.from_any(path).split(0.1)[0].read_text()  # as the bundled model was trained
        where = str(path)
    else:
        from jupyter_llm import datasets

        corpus = datasets.load("shakespeare")
        train, where = corpus[: int(len(corpus) * 0.9)], "the shipped excerpt (jupyter_llm.datasets)"
    peps = CORPORA / "python_peps.txt"
    if peps.is_file():
        unseen = peps.read_text("utf-8")  # 13 million characters
    else:
        unseen = "\n".join(p.read_text("utf-8") for p in sorted((ROOT / "docs").glob("*.md")))
    return corpus, train, unseen, where


def _copy_bounds(text: str, source: str, start: int, offset: int, length: int) -> tuple[int, int]:
    a, p, b = start, offset, start + length
    while a > 0 and p > 0 and text[a - 1] == source[p - 1]:
        a, p = a - 1, p - 1
    while b < len(text) and offset + b - start < len(source) and text[b] == source[offset + b - start]:
        b += 1
    return a, b


def run(queries: int, passages: int, seed: int) -> dict:
    from jupyter_llm.model.copied import FILES, CopyIndex

    corpus, train, unseen, where = _texts()
    rng = random.Random(seed)
    start = time.perf_counter()
    index = CopyIndex.build(train, "first 90% of tinyshakespeare.txt")
    build_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in index.to_files().items():
            Path(tmp, name).write_bytes(data)
        on_disk = sum(os.path.getsize(Path(tmp, name)) for name in FILES)
    corpus_bytes = len(corpus.encode("utf-8"))
    whole = CopyIndex.build(corpus).nbytes  # the index of all of it, validation part too

    start = time.perf_counter()
    index.find(train[:1000])  # makes the lookup tables
    first_s = time.perf_counter() - start
    times, longest_false = [], 0
    for i in range(queries):
        if i % 2:
            a = rng.randrange(len(unseen) - 1000)
            text = unseen[a: a + 1000]
        else:
            a = rng.randrange(len(train) - 1000)
            text = train[a: a + 1000]
        start = time.perf_counter()
        found = index.find(text)
        times.append(time.perf_counter() - start)
        if i % 2:
            longest_false = max([longest_false, *(len(s) for s in found)])
    false_55 = []
    for a in range(0, len(unseen) - 1000, 1000):  # every piece of the unseen text, not only the timed ones
        longest_false = max([longest_false, *(len(s) for s in index.find(unseen[a: a + 1000]))])
        false_55 += [len(s) for s in index.find(unseen[a: a + 1000], min_chars=55)]

    found_right, exact, inside, run_on = 0, 0, [], 0
    before, after = "A line that is not Shakespeare's. ", " Nor this."
    for _ in range(passages):
        offset = rng.randrange(len(train) - 200)
        text = before + train[offset: offset + 200] + after
        spans = index.find(text)
        if len(spans) != 1 or spans[0].source_offset - (spans[0].start - len(before)) != offset:
            continue
        [span] = spans
        found_right += 1
        exact += train[span.source_offset: span.source_offset + len(span)] == span.text
        a, b = _copy_bounds(text, train, len(before), offset, 200)
        for gap in (span.start - a, b - span.end):
            if gap < 0:
                run_on += 1  # an end block whose 8-bit hash matched by chance (1/256 an end)
            else:
                inside.append(gap)
    return {
        "corpus": where,
        "corpus_bytes": corpus_bytes,
        "train_chars": len(train),
        "index_bytes_on_disk": on_disk,
        "index_fraction_of_corpus": round(on_disk / corpus_bytes, 4),
        "index_of_whole_corpus_bytes": whole,
        "index_of_whole_corpus_fraction": round(whole / corpus_bytes, 4),
        "build_s": round(build_s, 4),
        "first_query_ms": round(first_s * 1000, 2),
        "query_1000_chars_median_ms": round(statistics.median(times) * 1000, 3),
        "query_1000_chars_max_ms": round(max(times) * 1000, 3),
        "queries": queries,
        "passages_200": passages,
        "recall_200_with_offset": found_right / passages,
        "spans_exact_text": exact / max(found_right, 1),
        "span_ends_inside_copy_max_chars": max(inside) if inside else None,
        "span_ends_inside_copy_mean_chars": round(statistics.mean(inside), 2) if inside else None,
        "span_ends_past_copy": run_on,
        "span_ends": 2 * found_right,
        "unseen_chars_checked": len(unseen),
        "longest_false_span_chars": longest_false,
        "min_chars": index.find("").min_chars,
        "guaranteed_chars": index.guaranteed_chars(),
        "false_spans_with_min_chars_55": false_55,
        "python": platform.python_version(),
        "load_average": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=200, help="timed 1,000-character queries")
    parser.add_argument("--passages", type=int, default=1000, help="200-character passages for the recall")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args()
    result = run(args.queries, args.passages, args.seed)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
