"""Contract tests for jupyter_llm.text.tokenizers (no TensorFlow, a few seconds)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import _read as read_corpus

from jupyter_llm.errors import (
    CorruptModelError,
    DataError,
    InvalidArgumentError,
    ModelNotFoundError,
)
from jupyter_llm.text import (
    BPETokenizer,
    CharTokenizer,
    Tokenizer,
    WordTokenizer,
    fit_tokenizer,
    get_tokenizer,
)

SLICE = 50_000

ENGLISH = (
    "To be, or not to be: that is the question.\n  Whether 'tis nobler in the mind to suffer\n"
)
CHINESE = "我喜欢吃苹果。床前明月光，疑是地上霜。\n"
MIXED = "Hello 世界! 我喜欢 Python 3.12 和 jieba。\tこんにちは 안녕하세요\n"
SAMPLES = [ENGLISH, CHINESE, MIXED]
KINDS = ["char", "word", "bpe"]


@pytest.fixture(scope="module")
def shakespeare() -> str:
    """The first 50,000 characters of tiny Shakespeare (../shared/corpora, else the shipped excerpt)."""
    return read_corpus("tinyshakespeare.txt", SLICE)


@pytest.fixture(scope="module")
def tang() -> str:
    return read_corpus("tang_poetry.txt", SLICE)


@pytest.fixture(scope="module")
def fitted() -> dict[str, Tokenizer]:
    """One tokenizer of each kind fitted on text that covers SAMPLES."""
    texts = SAMPLES * 3
    return {
        "char": CharTokenizer.fit(texts),
        "word": WordTokenizer.fit(texts),
        "bpe": BPETokenizer.fit(texts, max_vocab=400),
    }


# === Round trips ===


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("text", SAMPLES, ids=["english", "chinese", "mixed"])
def test_round_trip(fitted, kind, text):
    tok = fitted[kind]
    ids = tok.encode(text)
    assert ids.dtype == np.int32 and ids.ndim == 1
    assert ((0 <= ids) & (ids < tok.vocab_size)).all()
    assert tok.decode(ids) == text
    assert tok.decode(ids.tolist()) == text
    assert tok.decode(int(i) for i in ids) == text  # any iterable, even a generator
    assert len(tok.tokenize(text)) == len(ids)
    assert tok.unknown_symbols(text) == []
    assert tok.encode("").shape == (0,) and tok.decode([]) == ""


@pytest.mark.parametrize("kind", KINDS)
def test_round_trip_on_corpora(kind, shakespeare, tang):
    train = [shakespeare[:20_000], tang[:20_000]]
    tok = fit_tokenizer(kind, iter(train))
    for text in train:
        assert tok.decode(tok.encode(text)) == text


def test_char_tokens_are_code_points(fitted):
    tok = fitted["char"]
    assert tok.tokenize("我喜欢") == ["我", "喜", "欢"]
    assert tok.kind == "char" and tok.unk_id == 0
    assert tok.id_to_token(0) == "<unk>"
    assert [tok.id_to_token(i) for i in tok.encode("abt").tolist()] == ["a", "b", "t"]


def test_word_tokens(fitted):
    tok = fitted["word"]
    assert tok.kind == "word" and tok.unk_id == 0
    assert tok.tokenize("我喜欢吃苹果") == ["我", "喜欢", "吃", "苹果"]
    assert tok.tokenize("Hello 世界!") == ["Hello", " ", "世界", "!"]
    assert tok.tokenize("the mind\n  to") == ["the", " ", "mind", "\n  ", "to"]


def test_word_segmenter_chars_needs_no_jieba():
    tok = WordTokenizer.fit([CHINESE, "hello world"], segmenter="chars")
    assert tok.segmenter == "chars"
    assert tok.tokenize("我喜欢") == ["我", "喜", "欢"]
    assert tok.decode(tok.encode(CHINESE)) == CHINESE
    with pytest.raises(InvalidArgumentError, match="segmenter"):
        WordTokenizer.fit([CHINESE], segmenter="mecab")


def test_word_fit_ignores_chunk_boundaries(shakespeare, tang):
    text = shakespeare[:5000] + tang[:5000]
    whole = WordTokenizer.fit([text])
    cut = WordTokenizer.fit(text[i : i + 37] for i in range(0, len(text), 37))
    assert cut.to_dict() == whole.to_dict()


def test_bpe_chinese_and_readable_tokens(tang):
    tok = BPETokenizer.fit([tang[:20_000]], max_vocab=600)
    assert tok.kind == "bpe" and tok.unk_id is None
    text = "我喜欢吃苹果 and 🍎"  # characters never seen still round trip, as bytes
    assert tok.decode(tok.encode(text)) == text
    assert tok.unknown_symbols(text) == []
    shown = tok.tokenize("春风 spring")
    assert "".join(shown) == "春风 spring"  # whole characters, so no U+FFFD
    assert not any("Ġ" in s for s in tok.tokenize(" spring wind"))
    assert tok.id_to_token(tok.encode(" ")[0]) == " "
    merged = [i for i in range(256, tok.vocab_size) if len(tok.id_to_token(i)) == 1]
    # a learned merge that is a whole Han character
    assert any("\u4e00" <= tok.id_to_token(i) <= "\u9fff" for i in merged)


def test_bpe_long_text_encodes_like_one_piece(shakespeare, tang):
    tok = BPETokenizer.fit([shakespeare[:10_000], tang[:10_000]], max_vocab=500)
    text = (shakespeare + tang + "\n\n  x\n" + shakespeare) * 2  # long enough to be cut into pieces
    ids = tok.encode(text)
    assert ids.tolist() == tok.hf_tokenizer.encode(text).ids
    assert tok.decode(ids) == text


# === Vocabulary ===


def test_char_vocab_order_cap_and_unknowns():
    tok = CharTokenizer.fit(["aaaa bbb cc d", "我我"], max_vocab=4)
    # <unk>, then by count: a(4), b(3), then ' '(3) vs ... ties by code point: ' ' < 'b'
    assert [tok.id_to_token(i) for i in range(tok.vocab_size)] == ["<unk>", "a", " ", "b"]
    assert tok.encode("abcd我").tolist() == [1, 3, 0, 0, 0]
    assert tok.decode(tok.encode("abx")) == "ab\ufffd"
    assert tok.tokenize("ax") == ["a", "<unk>"]
    assert tok.unknown_symbols("xcabx我c") == ["x", "c", "我"]


def test_char_min_freq():
    tok = CharTokenizer.fit(["aaab"], min_freq=2)
    assert tok.vocab_size == 2 and tok.encode("ab").tolist() == [1, 0]
    with pytest.raises(InvalidArgumentError, match="min_freq"):
        CharTokenizer.fit(["ab"], min_freq=5)


def test_word_vocab_cap_and_unknowns():
    tok = WordTokenizer.fit(["the cat the dog the end"], max_vocab=3)
    assert [tok.id_to_token(i) for i in range(3)] == ["<unk>", " ", "the"]
    assert tok.encode("the cat").tolist() == [2, 1, 0]
    assert tok.decode(tok.encode("the cat")) == "the <unk>"
    assert tok.tokenize("the cat") == ["the", " ", "<unk>"]
    assert tok.unknown_symbols("dog the cat dog") == ["dog", "cat"]
    assert WordTokenizer.fit(["a b"]).vocab_size == 4


def test_word_default_cap(shakespeare):
    assert WordTokenizer.fit([shakespeare], max_vocab=None).vocab_size <= 20000
    assert WordTokenizer.fit([shakespeare], max_vocab=50).vocab_size == 50


def test_bpe_vocab_size(shakespeare):
    tok = BPETokenizer.fit([shakespeare], max_vocab=300)
    assert tok.vocab_size == 300
    assert repr(tok) == "BPETokenizer(vocab_size=300)"


@pytest.mark.parametrize("kind", KINDS)
def test_ids_are_deterministic(kind, shakespeare, tang):
    a = fit_tokenizer(kind, [shakespeare[:10_000], tang[:10_000]])
    b = fit_tokenizer(kind, [shakespeare[:10_000], tang[:10_000]])
    assert a.to_dict() == b.to_dict()
    assert a.encode(shakespeare[:2000]).tolist() == b.encode(shakespeare[:2000]).tolist()


def test_char_fit_on_corpus(tang):
    tok = CharTokenizer.fit(tang.splitlines(keepends=True))
    assert tok.vocab_size == len(set(tang)) + 1
    assert repr(tok) == f"CharTokenizer(vocab_size={tok.vocab_size})"


# === Streaming ===


class OneShot:
    """An iterable that fails if iterated twice."""

    def __init__(self, chunks):
        self.chunks = chunks
        self.used = False

    def __iter__(self):
        assert not self.used, "fit iterated the texts twice"
        self.used = True
        yield from self.chunks


@pytest.mark.parametrize("kind", KINDS)
def test_fit_consumes_texts_once(kind):
    chunks = OneShot([ENGLISH, CHINESE, MIXED])
    tok = fit_tokenizer(kind, chunks)
    assert chunks.used
    assert tok.decode(tok.encode(MIXED)) == MIXED
    gen = (chunk for chunk in [ENGLISH, CHINESE])
    fit_tokenizer(kind, gen)
    assert next(gen, None) is None


@pytest.mark.parametrize("kind", KINDS)
def test_fit_accepts_one_string(kind):
    tok = fit_tokenizer(kind, ENGLISH)
    assert tok.decode(tok.encode(ENGLISH)) == ENGLISH


# === Serialisation ===


@pytest.mark.parametrize("kind", KINDS)
def test_save_load_round_trip(kind, fitted, tmp_path):
    tok = fitted[kind]
    path = tok.save(tmp_path / f"{kind}.json")
    assert [p.name for p in tmp_path.iterdir()] == [f"{kind}.json"]  # no temp file left
    loaded = Tokenizer.load(path)
    assert type(loaded) is type(tok)
    assert loaded.to_dict() == tok.to_dict()
    for text in SAMPLES:
        assert loaded.encode(text).tolist() == tok.encode(text).tolist()
    again = Tokenizer.from_json(tok.to_json())
    assert again.encode(MIXED).tolist() == tok.encode(MIXED).tolist()
    d = json.loads(tok.to_json())
    assert d["kind"] == kind and d["format_version"] == 1


def test_save_overwrites(fitted, tmp_path):
    path = tmp_path / "tok.json"
    fitted["word"].save(path)
    fitted["char"].save(path)
    assert isinstance(Tokenizer.load(path), CharTokenizer)


@pytest.mark.parametrize(
    "bad",
    [
        None,
        [],
        "char",
        {},
        {"kind": "sentencepiece", "format_version": 1},
        {"kind": ["char"], "format_version": 1},
        {"kind": "char", "format_version": 99, "symbols": ["a"]},
        {"kind": "char", "symbols": ["a"]},
        {"kind": "char", "format_version": 1},
        {"kind": "char", "format_version": 1, "symbols": "ab"},
        {"kind": "char", "format_version": 1, "symbols": ["ab"]},
        {"kind": "char", "format_version": 1, "symbols": ["a", "a"]},
        {"kind": "char", "format_version": 1, "symbols": [1]},
        {"kind": "word", "format_version": 1, "words": ["a"]},
        {"kind": "word", "format_version": 1, "words": ["a"], "segmenter": "x"},
        {"kind": "word", "format_version": 1, "words": ["<unk>"], "segmenter": "chars"},
        {"kind": "bpe", "format_version": 1},
        {"kind": "bpe", "format_version": 1, "hf_tokenizer": "{not json"},
        {"kind": "bpe", "format_version": 1, "hf_tokenizer": {"model": {}}},
    ],
)
def test_from_dict_rejects_garbage(bad):
    with pytest.raises(CorruptModelError) as info:
        Tokenizer.from_dict(bad)
    assert "\n" not in str(info.value)


def test_from_dict_rejects_a_foreign_hf_tokenizer():
    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers import models

    foreign = HFTokenizer(models.WordLevel()).to_str()
    d = {"kind": "bpe", "format_version": 1, "hf_tokenizer": foreign}
    with pytest.raises(CorruptModelError, match="byte-level BPE"):
        Tokenizer.from_dict(d)


def test_load_errors(tmp_path):
    with pytest.raises(ModelNotFoundError):
        Tokenizer.load(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{oops", encoding="utf-8")
    with pytest.raises(CorruptModelError):
        Tokenizer.load(tmp_path / "bad.json")
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(CorruptModelError):
        Tokenizer.load(tmp_path / "bin.json")


# === Arguments ===


def test_get_tokenizer():
    assert get_tokenizer("char") is CharTokenizer
    assert get_tokenizer("Word") is WordTokenizer
    assert get_tokenizer("BPE") is BPETokenizer
    tok = CharTokenizer("ab")
    assert get_tokenizer(tok) is tok
    assert fit_tokenizer(tok, iter(())) is tok
    for bad in ("sentencepiece", "", 3, None, Tokenizer):
        with pytest.raises(InvalidArgumentError, match="argument tokenizer"):
            get_tokenizer(bad)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"max_vocab": 1}, "max_vocab"),
        ({"max_vocab": 2.5}, "max_vocab"),
        ({"max_vocab": "100"}, "max_vocab"),
        ({"max_vocab": True}, "max_vocab"),
        ({"min_freq": 0}, "min_freq"),
        ({"min_freq": 1.5}, "min_freq"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_fit_arguments(kind, kwargs, argument):
    with pytest.raises(InvalidArgumentError, match=f"argument {argument}"):
        fit_tokenizer(kind, [ENGLISH], **kwargs)


def test_bpe_needs_room_for_the_bytes():
    with pytest.raises(InvalidArgumentError, match=r"max_vocab.*>= 257"):
        BPETokenizer.fit([ENGLISH], max_vocab=256)
    assert CharTokenizer.fit([ENGLISH], max_vocab=2).vocab_size == 2


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("texts", [[], [""], ["", "  \n\t "], " "])
def test_empty_text(kind, texts):
    with pytest.raises(DataError, match="empty"):
        fit_tokenizer(kind, texts)


@pytest.mark.parametrize("kind", KINDS)
def test_bad_texts(kind, fitted):
    with pytest.raises(InvalidArgumentError, match="argument texts"):
        fit_tokenizer(kind, [ENGLISH, b"bytes"])
    with pytest.raises(InvalidArgumentError, match="argument texts"):
        fit_tokenizer(kind, 42)
    tok = fitted[kind]
    with pytest.raises(InvalidArgumentError, match="argument text"):
        tok.encode(b"bytes")
    with pytest.raises(InvalidArgumentError, match="argument ids"):
        tok.decode([0, tok.vocab_size])
    with pytest.raises(InvalidArgumentError, match="argument ids"):
        tok.decode([-1])
    with pytest.raises(InvalidArgumentError, match="argument ids"):
        tok.decode([0.5])
    with pytest.raises(InvalidArgumentError, match="argument i"):
        tok.id_to_token(tok.vocab_size)
    assert tok.decode(np.zeros(0, dtype=np.int32)) == ""


def test_a_million_characters_round_trip_in_one_call(tang):
    """Scale, not speed (bench/micro.py measures the speed): a 1M-character text in one call."""
    tok = CharTokenizer.fit([tang])
    text = tang * (1_000_000 // len(tang) + 1)
    ids = tok.encode(text)
    assert ids.shape == (len(text),) and ids.dtype == np.int32
    assert tok.decode(ids) == text


def test_import_is_light():
    code = (
        "import sys, jupyter_llm.text as t; t.CharTokenizer.fit(['ab']).encode('ab');"
        "t.WordTokenizer.fit(['a b']).encode('a b');"
        "heavy = ('jieba', 'tokenizers', 'tensorflow', 'keras');"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert out.stderr == ""
