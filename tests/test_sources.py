"""TextSource: every kind of input, streaming, splitting, and the errors a user can meet."""

from pathlib import Path

import pytest

import jupyter_llm.text.sources as sources
from jupyter_llm import DataError, InvalidArgumentError
from jupyter_llm.text.sources import TextSource


def test_str_is_text_and_list_is_documents():
    assert TextSource.from_any("hello world").read_text() == "hello world"
    assert TextSource.from_any(["a b", "c d"]).read_text() == "a b\nc d"
    assert TextSource.from_any(iter(["x", "y"])).read_text() == "x\ny"


def test_path_glob_and_pathlib(tmp_path):
    (tmp_path / "a.txt").write_text("alpha", encoding="utf-8")
    (tmp_path / "b.txt").write_text("beta", encoding="utf-8")
    assert TextSource.from_any(str(tmp_path / "a.txt")).read_text() == "alpha"
    assert TextSource.from_any(tmp_path / "b.txt").read_text() == "beta"
    assert TextSource.from_any(str(tmp_path / "*.txt")).read_text() == "alpha\nbeta"
    assert TextSource.from_any([tmp_path / "a.txt", tmp_path / "b.txt"]).read_text() == "alpha\nbeta"


def test_pandas_series_and_dataframe_column():
    pd = pytest.importorskip("pandas")
    s = pd.Series(["one", None, "two"], name="t")
    assert TextSource.from_any(s).read_text() == "one\ntwo"
    df = pd.DataFrame({"text": ["first", "second"], "n": [1, 2]})
    assert TextSource.from_any(df).read_text() == "first\nsecond"  # the only text column
    assert TextSource.from_any(df, column="text").read_text() == "first\nsecond"
    with pytest.raises(InvalidArgumentError, match="column.*'text'.*Received: column='body'"):
        TextSource.from_any(df, column="body")
    with pytest.raises(InvalidArgumentError, match="all str"):
        TextSource.from_any(df, column="n")


def test_missing_path_and_empty_glob(tmp_path):
    with pytest.raises(DataError, match="No such file: 'nowhere/corpus.txt'"):
        TextSource.from_any("nowhere/corpus.txt")
    with pytest.raises(DataError, match="No file matches the pattern"):
        TextSource.from_any(str(tmp_path / "*.md"))
    with pytest.raises(DataError, match="is a folder"):
        TextSource.from_any(tmp_path)


def test_non_utf8_file_names_file_and_offset(tmp_path):
    bad = tmp_path / "latin.txt"
    bad.write_bytes("caf".encode() + "é au lait".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin\.txt.*offset 3.*encoding="):
        TextSource.from_any(bad).read_text()
    assert TextSource.from_any(bad, encoding="latin-1").read_text() == "café au lait"


def test_binary_file_is_refused(tmp_path):
    blob = tmp_path / "model.bin"
    blob.write_bytes(b"abc\x00\x01\x02")
    with pytest.raises(DataError, match=r"looks binary.*offset 3"):
        TextSource.from_any(blob).read_text()


def test_wrong_types():
    with pytest.raises(InvalidArgumentError, match="not bytes"):
        TextSource.from_any(b"raw")
    with pytest.raises(InvalidArgumentError, match="Received: source=42|int"):
        TextSource.from_any(42)
    with pytest.raises(InvalidArgumentError, match="encoding"):
        TextSource.from_any("text", encoding="no-such-codec")


def test_large_file_is_streamed_in_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "CHUNK_BYTES", 1000)
    path = tmp_path / "big.txt"
    path.write_text("汉字 and ascii\n" * 2000, encoding="utf-8")
    src = TextSource.from_any(path)
    chunks = list(src.iter_chunks())
    assert len(chunks) > 10 and max(len(c.encode()) for c in chunks) <= 1003
    assert "".join(chunks) == path.read_text(encoding="utf-8")
    monkeypatch.setenv("JUPYTER_LLM_STREAM_THRESHOLD", "1000")
    assert src.is_large()


def test_split_holds_back_the_last_part(tmp_path):
    text = "".join(chr(0x4E00 + i % 50) for i in range(1000))  # 3 bytes a character on disk
    train, val = TextSource.from_any(text).split(0.1)
    assert train.read_text() + val.read_text() == text and len(val.read_text()) == 100
    path = tmp_path / "zh.txt"
    path.write_text(text, encoding="utf-8")
    train, val = TextSource.from_any(path).split(0.25)
    assert train.read_text() + val.read_text() == text  # never cut inside a character
    assert abs(len(val.read_text()) - 250) <= 1
    with pytest.raises(InvalidArgumentError, match="validation_split"):
        TextSource.from_any(text).split(1.5)


def test_blank_and_fingerprint():
    assert TextSource.from_any("  \n\t ").is_blank()
    a, b = TextSource.from_any("abc"), TextSource.from_any(["abc"])
    assert a.fingerprint() == b.fingerprint() != TextSource.from_any("abd").fingerprint()


def test_a_device_or_pipe_is_refused_in_one_sentence(tmp_path):
    import os

    with pytest.raises(DataError, match=r"'/dev/zero' is not a regular file \(a character device\)\. Expected a text file"):
        TextSource.from_any("/dev/zero")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match=r"is not a regular file \(a named pipe\)"):
        TextSource.from_any(str(fifo))
