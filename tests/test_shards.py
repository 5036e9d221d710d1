"""A corpus read by several workers (#17.3): each reads its own files, or its own lines of one file, and
together they read every line exactly once."""

from __future__ import annotations

import random

import pytest

from jupyter_llm import InvalidArgumentError
from jupyter_llm.text import sources
from jupyter_llm.text.sources import TextSource


def _lines(source: TextSource) -> list[str]:
    """The source's lines (documents are joined by a newline, so a file's last newline adds an empty line)."""
    return "".join(source.iter_chunks()).splitlines()


def test_two_workers_reading_eight_shard_files_each_read_four_distinct_files(tmp_path):
    for i in range(8):
        (tmp_path / f"shard-{i:02}.txt").write_text("".join(f"file {i} line {j}\n" for j in range(100)), "utf-8")
    corpus = TextSource.from_any(str(tmp_path / "*.txt"))
    parts = [corpus.shard(2, w) for w in range(2)]
    files = [{p.path.name for p in part._parts} for part in parts]
    assert [len(f) for f in files] == [4, 4] and not files[0] & files[1]
    assert files[0] | files[1] == {f"shard-{i:02}.txt" for i in range(8)}
    assert all(part.description.startswith(f"files of worker {w + 1} of 2") for w, part in enumerate(parts))
    assert sorted(filter(None, _lines(parts[0]) + _lines(parts[1]))) == sorted(filter(None, _lines(corpus)))


def test_uneven_files_are_balanced_by_size(tmp_path):
    sizes = [9000, 100, 100, 100, 5000, 4000]
    for i, n in enumerate(sizes):
        (tmp_path / f"{i}.txt").write_text("x" * (n - 1) + "\n", "utf-8")
    corpus = TextSource.from_any(str(tmp_path / "*.txt"))
    loads = [corpus.shard(2, w).nbytes for w in range(2)]
    assert sum(loads) == sum(sizes) and max(loads) - min(loads) <= 300


@pytest.mark.parametrize("workers", [2, 3, 5, 7])
def test_one_large_file_splits_at_line_boundaries_with_no_line_twice_or_lost(tmp_path, workers, monkeypatch):
    monkeypatch.setattr(sources, "SCAN_BYTES", 7)  # the search for a newline crosses many reads
    rng = random.Random(workers)
    words = ["heron", "鹭", "é", "reeds", "", "water still"]
    lines = [" ".join(rng.choice(words) for _ in range(rng.randrange(0, 30))) + f" #{i}" for i in range(3000)]
    path = tmp_path / "big.txt"
    path.write_text("\n".join(lines), "utf-8")  # no final newline
    corpus = TextSource.from_any(path)
    parts = [corpus.shard(workers, w) for w in range(workers)]
    got = [_lines(p) for p in parts]
    assert [line for g in got for line in g] == lines  # in order, each line once, none cut
    assert all(g for g in got)
    sizes = [p.nbytes for p in parts]
    assert max(sizes) - min(sizes) < 0.05 * path.stat().st_size  # about equal
    for p in parts:
        (piece,) = p._parts
        assert piece.start == 0 or path.read_bytes()[piece.start - 1:piece.start] == b"\n"


def test_texts_in_memory_and_a_file_without_newlines(tmp_path):
    corpus = TextSource.from_any(["alpha\nbeta\ngamma\ndelta"])
    got = [_lines(corpus.shard(2, w)) for w in range(2)]
    assert got[0] + got[1] == ["alpha", "beta", "gamma", "delta"] and all(got)
    path = tmp_path / "one.txt"
    path.write_text("a single line with no newline at all", "utf-8")
    one = TextSource.from_any(path)
    assert _lines(one.shard(2, 0)) == ["a single line with no newline at all"] and one.shard(2, 1).nbytes == 0
    assert corpus.shard(1, 0) is corpus


@pytest.mark.parametrize("workers, index, name", [(0, 0, "workers"), (2, 2, "index"), (2, -1, "index"),
                                                  (True, 0, "workers"), (2.0, 0, "workers")])
def test_bad_workers_or_index_is_one_sentence(workers, index, name):
    with pytest.raises(InvalidArgumentError, match=f"Invalid value for argument {name}"):
        TextSource.from_any("some text").shard(workers, index)


def test_a_1_gb_file_read_by_two_workers_splits_at_a_line_with_none_twice_or_lost(tmp_path):
    """The issue's size: 1 GB of numbered lines of uneven length, streamed, never held whole."""
    path = tmp_path / "big.txt"
    filler = "the heron waits at the edge of the reeds until the water is still. " * 20
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        while f.tell() < 1_000_000_000:
            f.write("".join(f"{n + i:09d} {filler[: 300 + (n + i) * 7919 % 1000]}\n" for i in range(1000)))
            n += 1000
    size = path.stat().st_size
    corpus = TextSource.from_any(path)
    parts = [corpus.shard(2, w) for w in range(2)]
    assert [p._parts[0].start for p in parts] == [0, parts[0]._parts[0].end] and parts[1]._parts[0].end == size
    counts, first, last = [], [], []
    for part in parts:
        newlines, head, tail = 0, "", ""
        for chunk in part.iter_chunks():
            newlines += chunk.count("\n")
            head = head or chunk[:9]
            tail = (tail + chunk)[-2000:]
        counts.append(newlines)
        first.append(int(head))
        last.append(int(tail.rstrip("\n").rsplit("\n", 1)[-1][:9]))
        assert tail.endswith("\n")  # each part ends at the end of a line
    path.unlink()  # pytest keeps the last runs' folders: not 1 GB of them
    assert first == [0, last[0] + 1] and last[1] == n - 1  # consecutive: no line twice, none lost
    assert sum(counts) == n
    assert abs(parts[0].nbytes - parts[1].nbytes) < 2_000


def _jsonl(path, texts):
    import json

    path.write_text("".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in enumerate(texts)),
                    "utf-8")
    return path


def test_a_folder_of_jsonl_shards_is_a_source_of_their_texts(tmp_path):
    texts = [f"record {i}: the heron waits 鹭 {'.' * (i % 7)}" for i in range(40)]
    for k in range(4):
        _jsonl(tmp_path / f"part-{k}.jsonl", texts[k * 10:(k + 1) * 10])
    corpus = TextSource.from_any(str(tmp_path / "*.jsonl"))
    assert [line for line in _lines(corpus) if line] == texts  # the texts, not the JSON around them
    got = [[line for line in _lines(corpus.shard(2, w)) if line] for w in range(2)]
    assert sorted(got[0] + got[1]) == sorted(texts) and len(got[0]) == len(got[1]) == 20
    train, val = corpus.split(0.25)  # a record is never cut by the validation split either
    assert [line for line in _lines(train) + _lines(val) if line] == texts


def test_one_jsonl_file_splits_between_records(tmp_path):
    texts = [f"{i} " + "words " * (i % 13) for i in range(500)]
    corpus = TextSource.from_any(_jsonl(tmp_path / "one.jsonl", texts))
    got = [[line.strip() for line in _lines(corpus.shard(3, w)) if line] for w in range(3)]
    assert got[0] + got[1] + got[2] == [t.strip() for t in texts] and all(got)


def test_a_line_that_is_not_a_record_is_one_sentence(tmp_path):
    from jupyter_llm import DataError

    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "fine"}\n{"body": "no text field"}\n', "utf-8")
    with pytest.raises(DataError, match=r"not a JSON object with a \"text\" string, at byte 17"):
        "".join(TextSource.from_any(path).iter_chunks())


def test_training_on_jsonl_learns_the_texts_not_the_json(tmp_path):
    import jupyter_llm as jl

    _jsonl(tmp_path / "notes.jsonl", [f"the heron waits by the reeds, day {i}" for i in range(200)])
    lm = jl.train(str(tmp_path / "*.jsonl"), size="tiny", seq_len=16, batch_size=8, steps_per_epoch=2,
                  progress=False, sample_tokens=0)
    vocab = {lm.tokenizer.id_to_token(i) for i in range(lm.config.vocab_size)}
    assert "h" in vocab and not vocab & set('{}":')
