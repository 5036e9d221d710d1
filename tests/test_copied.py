"""Copied text (#15.4): ``lm.copied`` finds what a text copied verbatim from the training text, and where.

The index is recorded by ``jl.train`` (``tiny_lm`` has one, of the first 90% of
its 50,000 characters), saved with the model and read back without code; the
bundled models ship theirs.
"""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import numpy as np
import pytest

import jupyter_llm as jl
from jupyter_llm import store
from jupyter_llm.errors import CorruptModelError, NoCopyIndexError
from jupyter_llm.model import copied
from jupyter_llm.model.copied import BLOCK, DEFAULT_MIN_CHARS, MIN_CHARS, CopiedSpan, Copies, CopyIndex
from jupyter_llm.text.sources import TextSource

ROOT = Path(__file__).resolve().parents[1]
#: The copied-text indexes of the bundled models, together, at most (they are 0.17 MB).
BUNDLED_INDEX_BUDGET = 1_000_000


def unseen_text() -> str:
    """English the models never saw: this project's own documentation."""
    return "\n".join(p.read_text("utf-8") for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])


def copy_bounds(text: str, source: str, start: int, offset: int, length: int) -> tuple[int, int]:
    """The whole copy around ``text[start:start + length] == source[offset:offset + length]``: ``(start, end)``."""
    a, p, b = start, offset, start + length
    while a > 0 and p > 0 and text[a - 1] == source[p - 1]:
        a, p = a - 1, p - 1
    while b < len(text) and offset + b - start < len(source) and text[b] == source[offset + b - start]:
        b += 1
    return a, b


def trained_on(text: str) -> str:
    return text[: int(len(text) * 0.9)]  # validation_split=0.1: the last 10% is held back, not trained on


# === What a user asks ===


def test_a_200_character_passage_of_the_training_text_is_found_with_its_offset(tiny_lm, shakespeare_text):
    train = trained_on(shakespeare_text)
    rng = random.Random(0)
    for offset in [rng.randrange(len(train) - 200) for _ in range(20)]:
        before, after = "Something new, never in the corpus. ", " And more that is not."
        text = before + train[offset: offset + 200] + after
        found = tiny_lm.copied(text)
        assert len(found) == 1, (offset, found)
        [span] = found
        assert text[span.start: span.end] == span.text
        assert train[span.source_offset: span.source_offset + len(span)] == span.text
        assert span.source_offset - (span.start - len(before)) == offset  # the passage's own place
        start, end = copy_bounds(text, train, len(before), offset, 200)
        assert start <= span.start <= start + BLOCK - 1 and end - (BLOCK - 1) <= span.end <= end  # within 10


def test_nothing_longer_than_30_characters_is_found_in_text_never_seen(tiny_lm):
    text = unseen_text()
    assert len(text) > 20_000
    for start in range(0, len(text) - 1000, 1000):
        assert [s for s in tiny_lm.copied(text[start: start + 1000]) if len(s) > 30] == []


def test_every_copy_of_the_guaranteed_length_is_found_at_every_alignment(shakespeare_text):
    index = CopyIndex.build(shakespeare_text)
    assert (index.guaranteed_chars(), index.guaranteed_chars(MIN_CHARS), index.guaranteed_chars(100)) == (76, 65, 120)
    for min_chars, length in [(55, 65), (55, 66), (66, 76), (66, 80), (100, 120), (66, 140)]:
        for offset in range(1000, 1000 + 2 * BLOCK):
            text = "<" + shakespeare_text[offset: offset + length] + ">"
            [span] = index.find(text, min_chars)
            assert 1 <= span.start <= BLOCK and length + 1 - BLOCK < span.end <= length + 1
            assert span.source_offset - span.start == offset - 1 and len(span) >= min_chars
    # Shorter than the guarantee: found only when it covers enough whole blocks.
    for min_chars in (MIN_CHARS, DEFAULT_MIN_CHARS):
        assert len(index.find(shakespeare_text[BLOCK * 100: BLOCK * 100 + min_chars], min_chars)) == 1
        assert len(index.find(shakespeare_text[BLOCK * 100 + 1: BLOCK * 100 + 1 + min_chars], min_chars)) == 0
    assert tuple(jl.LanguageModel.copied.__defaults__) == (DEFAULT_MIN_CHARS,)


def test_min_chars_is_the_shortest_span_reported(shakespeare_text):
    index = CopyIndex.build(shakespeare_text)
    text = shakespeare_text[2000:2090] + "|" + shakespeare_text[9000:9300]
    assert sorted(len(s) >= DEFAULT_MIN_CHARS for s in index.find(text)) == [True, True]
    [long] = index.find(text, min_chars=150)
    assert long.start > 90 and len(long) >= 150
    with pytest.raises(jl.InvalidArgumentError, match=r"min_chars\. Expected an integer >= 55 .*min_chars=30"):
        index.find(text, min_chars=30)
    with pytest.raises(jl.InvalidArgumentError, match=r"argument text\. Expected a str"):
        index.find(b"bytes")


def test_empty_and_short_texts_find_nothing(tiny_lm, shakespeare_text):
    for text in ("", "a", shakespeare_text[:DEFAULT_MIN_CHARS - 1]):
        found = tiny_lm.copied(text)
        assert list(found) == [] and found.copied_chars == 0 and found.fraction == 0.0
    assert list(CopyIndex.build("").find(shakespeare_text[:500])) == []
    assert list(CopyIndex.build("short").find("short")) == []


def test_chinese_text_is_read_one_character_a_character(tang_text):
    index = CopyIndex.build(tang_text)
    assert index.segments[0].chars == len(tang_text)
    passage = tang_text[5000:5100]
    [span] = index.find("这不是唐诗。" + passage + "也不是。")
    assert tang_text[span.source_offset: span.source_offset + len(span)] == span.text
    assert span.source_offset - (span.start - 6) == 5000
    assert list(index.find("深度学习的语言模型在笔记本里训练，" * 10)) == []


def test_the_result_reads_well_and_serialises():
    text = "x" * 20 + "Now is the winter of our discontent made glorious summer by this sun of York." * 3
    found = CopyIndex.build("...." + text[20:] + "....").find(text)
    assert isinstance(found, Copies) and isinstance(found[0], CopiedSpan)
    assert found == [CopiedSpan(found[0].start, found[0].end, found[0].text, found[0].source_offset)]
    shown = repr(found)
    assert shown.startswith("Copies: 1 span(s)") and f"[{found[0].start}:{found[0].end}]" in shown
    data = json.loads(json.dumps(found.to_dict()))
    assert data["spans"][0] == {"start": found[0].start, "end": found[0].end, "text": found[0].text,
                                "source_offset": found[0].source_offset}
    assert data["guaranteed_chars"] == 76 and data["min_chars"] == 66 and data["chars"] == len(text)


def test_repetitive_text_is_answered_quickly_in_pieces():
    index = CopyIndex.build(" " * 200_000)
    found = index.find(" " * 1000)
    assert found.copied_chars >= 900 and all(s.text == " " * len(s) for s in found)  # the tail may be too short


# === The index's size ===


def test_the_index_costs_at_most_a_tenth_of_the_text(shakespeare_text, tang_text):
    """One byte per 11 characters, and a header of under 1,000 bytes: under 10% from 60,000 characters on."""
    for text in (shakespeare_text, tang_text, shakespeare_text * 4):
        index = CopyIndex.build(text)
        assert index.nbytes <= len(text) / BLOCK + 1000, index
    assert index.nbytes <= 0.1 * len((shakespeare_text * 4).encode("utf-8")), index


def test_a_text_past_the_limit_gets_longer_blocks(monkeypatch, shakespeare_text):
    monkeypatch.setattr(copied, "MAX_BLOCKS", 1000)
    index = CopyIndex.build(shakespeare_text)
    [segment] = index.segments
    assert segment.block == -(-len(shakespeare_text) // 1000) and len(index.hashes) <= 1000
    assert index.guaranteed_chars() == 7 * segment.block - 1
    passage = shakespeare_text[10_000: 10_000 + index.guaranteed_chars()]
    [span] = index.find(passage)
    assert span.source_offset - span.start == 10_000


# === Training records it ===


def test_training_records_the_index_and_copy_index_false_keeps_none(shakespeare_text):
    text = shakespeare_text[:20_000]
    common = dict(size="tiny", seq_len=16, batch_size=8, epochs=1, steps_per_epoch=2, progress=False,
                  sample_tokens=0, seed=0, validation_split=0)
    lm = jl.train(text, name="kept", **common)
    assert [s.chars for s in lm.copy_index.segments] == [len(text)]
    again = jl.train(text, model=lm, **{k: v for k, v in common.items() if k not in ("size", "seq_len")})
    assert again.copy_index.segments == lm.copy_index.segments  # the same text adds nothing
    more = shakespeare_text[30_000:40_000]
    further = jl.train(more, model=lm, **{k: v for k, v in common.items() if k not in ("size", "seq_len")})
    assert [s.offset for s in further.copy_index.segments] == [0, len(text)]
    [span] = further.copied(more[500:700])
    assert span.source_offset - span.start == len(text) + 500  # offsets run on across the texts, in order

    private = jl.train(text, name="private", copy_index=False, **common)
    assert private.copy_index is None
    assert not any(p.name.startswith("copied") for p in store.resolve("private").iterdir())
    with pytest.raises(NoCopyIndexError) as info:
        jl.load("private", prepare=False).copied(text[:300])
    message = str(info.value)
    assert "'private' has no copied-text index" in message and "copy_index=False" in message
    assert "\n" not in message
    dropped = jl.train(text, model=lm, copy_index=False,
                       **{k: v for k, v in common.items() if k not in ("size", "seq_len")})
    assert dropped.copy_index is None  # an index of only part of the text would say "not copied" wrongly


def test_the_cli_and_the_table_have_no_copy_index():
    from jupyter_llm.cli import build_parser
    from jupyter_llm.cli.train import train_options
    from jupyter_llm.training.options import TRAINING, TrainOptions

    assert TRAINING["copy_index"].default is True and TRAINING["copy_index"].long_flag == "--no-copy-index"
    assert TrainOptions().copy_index is True
    parser = build_parser()
    assert train_options(parser.parse_args(["train", "c.txt", "--name", "x"]))["copy_index"] is True
    assert train_options(parser.parse_args(["train", "c.txt", "--name", "x", "--no-copy-index"]))["copy_index"] is False
    with pytest.raises(jl.InvalidArgumentError, match=r"copy_index\. Expected True or False"):
        jl.train("/no/such/file.txt", copy_index="no")


# === Saved with the model ===


def test_the_index_is_saved_with_the_model_and_read_back_on_first_use(shakespeare_text, jl_home):
    lm = jl.build_model(shakespeare_text, size="tiny", seed=0)
    lm.copy_index = CopyIndex.build(shakespeare_text, "the text")
    lm.save("indexed")
    folder = store.resolve("indexed")
    manifest = json.loads((folder / store.MANIFEST).read_text("utf-8"))
    assert {"copied.json", "copied.npy"} <= set(manifest["files"])
    header = json.loads((folder / "copied.json").read_text("utf-8"))
    assert header["format"] == "jupyter_llm.copy_index" and header["blocks"] == len(shakespeare_text) // BLOCK
    assert np.load(folder / "copied.npy", allow_pickle=False).dtype == np.uint8

    loaded = jl.load("indexed", prepare=False)
    assert isinstance(loaded._copy_index, tuple)  # (files, folder): not read until asked
    text = "Nothing here. " + shakespeare_text[7000:7300]
    assert loaded.copied(text) == lm.copied(text) and len(loaded.copied(text)) == 1
    assert loaded.copy_index.segments == lm.copy_index.segments

    (folder / "copied.npy").write_bytes((folder / "copied.npy").read_bytes()[:-3])
    with pytest.raises(CorruptModelError, match="copied.npy' is truncated or was modified"):
        jl.load("indexed", prepare=False)


def test_a_damaged_index_is_one_sentence_and_never_unpickled(shakespeare_text):
    files = CopyIndex.build(shakespeare_text).to_files()
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    for damaged in ({**files, "copied.npy": buffer.getvalue()},
                    {**files, "copied.json": b"{}"},
                    {**files, "copied.json": files["copied.json"].replace(b'"blocks": ', b'"blocks": 1')},
                    {"copied.json": files["copied.json"]}):
        with pytest.raises(CorruptModelError) as info:
            CopyIndex.from_files(damaged, "m")
        assert str(info.value).startswith("'m/copied.") and "\n" not in str(info.value)
    assert CopyIndex.from_files(files).find(shakespeare_text[:200]) == CopyIndex.build(shakespeare_text).find(
        shakespeare_text[:200])


# === The bundled models ===


@pytest.mark.parametrize("name, corpus", [("shakespeare", "tinyshakespeare.txt"), ("tang-poetry", "tang_poetry.txt")])
def test_the_bundled_models_ship_the_index_of_their_training_text(name, corpus, corpora):
    folder = store.bundled_dir() / name
    index = CopyIndex.from_files({f: (folder / f).read_bytes() for f in copied.FILES}, folder)
    [segment] = index.segments
    meta = json.loads((folder / "metadata.json").read_text("utf-8"))
    assert segment.chars == meta["corpus"]["train_tokens"]  # character models: one token a character
    assert index.nbytes <= 0.1 * meta["corpus"]["bytes"]
    path = corpora / corpus
    if path.is_file():
        train = TextSource.from_any(path).split(0.1)[0].read_text()  # a file is cut by bytes, as training cut it
        assert len(train) == segment.chars
        offset = len(train) // 3
        [span] = index.find(train[offset: offset + 200])
        assert span.source_offset - span.start == offset


def test_the_bundled_indexes_fit_their_budget():
    total = sum((store.bundled_dir() / m / f).stat().st_size for m in ("shakespeare", "tang-poetry")
                for f in copied.FILES)
    assert total <= BUNDLED_INDEX_BUDGET, total


def test_the_bundled_model_answers_through_lm_copied():
    lm = jl.load("shakespeare", prepare=False)
    text = unseen_text()[:3000]
    assert list(lm.copied(text)) == []
    first = "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
    [span] = lm.copied(first)
    assert span.source_offset == span.start  # the corpus's first lines


def test_index_only_adds_the_index_and_leaves_every_other_file_as_it_was(tmp_path, corpora):
    """``scripts/train_default_models.py --index-only``, on a copy of the bundled folder (never the shipped one)."""
    import importlib.util

    if not (corpora / "tinyshakespeare.txt").is_file():
        return  # the script needs the corpus; the bundled index itself is checked above
    spec = importlib.util.spec_from_file_location("train_default_models", ROOT / "scripts" / "train_default_models.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    shipped = store.bundled_dir() / "shakespeare"
    out = tmp_path / "models"
    without = {k: v for k, v in store.read_bundle(shipped).items() if k not in copied.FILES}
    store.write_bundle(out / "shakespeare", without)  # as the model was before it had an index
    result = script.index_one("shakespeare", corpora, out, log=tmp_path / "log.jsonl")
    assert result["index_bytes"] <= 0.1 * result["corpus_bytes"]
    for path in shipped.iterdir():
        if path.name != store.MANIFEST:
            assert (out / "shakespeare" / path.name).read_bytes() == path.read_bytes(), path.name
    assert store.read_bundle(out / "shakespeare").keys() == store.read_bundle(shipped).keys()


def test_a_streamed_text_gives_the_index_of_the_whole_text(shakespeare_text):
    """Training reads a large file in chunks: the blocks run on across the chunks' ends."""
    rng = random.Random(1)
    cuts = sorted(rng.sample(range(1, len(shakespeare_text)), 40))
    chunks = [shakespeare_text[a:b] for a, b in zip([0, *cuts], [*cuts, len(shakespeare_text)])]
    streamed = CopyIndex.build(iter(chunks), size_hint=len(shakespeare_text))
    whole = CopyIndex.build(shakespeare_text)
    assert streamed.segments == whole.segments and np.array_equal(streamed.hashes, whole.hashes)


def test_jupyter_llm_train_no_copy_index_saves_no_index(tmp_path, capsys, shakespeare_text):
    from jupyter_llm.cli import main

    corpus = tmp_path / "private.txt"
    corpus.write_text(shakespeare_text[:20_000], encoding="utf-8")
    tiny = ["--size", "tiny", "--seq-len", "16", "--batch-size", "8", "--steps-per-epoch", "2", "--epochs", "1"]
    assert main(["train", str(corpus), "--name", "private", "--no-copy-index", *tiny]) == 0
    assert main(["train", str(corpus), "--name", "kept", *tiny]) == 0
    capsys.readouterr()
    assert not any(p.name.startswith("copied") for p in store.resolve("private").iterdir())
    assert {"copied.json", "copied.npy"} <= {p.name for p in store.resolve("kept").iterdir()}
    [span] = jl.load("kept", prepare=False).copied(shakespeare_text[1000:1300])
    assert span.source_offset - span.start == 1000
