"""NLU data: tokenization, the Markdown, DataFrame and benchmark formats, splits and augmentation."""

from __future__ import annotations

import pytest

from jupyter_llm import nlu
from jupyter_llm.errors import DataError, InvalidArgumentError
from jupyter_llm.nlu import Example, NLUDataset


def test_tokenize_keeps_offsets_and_splits_punctuation():
    text = "Remind me, tomorrow at 3:30pm!"
    toks = nlu.tokenize(text)
    assert [t.text for t in toks] == ["Remind", "me", ",", "tomorrow", "at", "3:30pm", "!"]
    assert all(text[t.start:t.end] == t.text for t in toks)


def test_tokenize_chinese_by_character_and_by_jieba():
    chars = [t.text for t in nlu.tokenize("明天下午3点开会 with Bob")]
    assert chars == ["明", "天", "下", "午", "3", "点", "开", "会", "with", "Bob"]
    words = nlu.tokenize("我们明天开会", zh="jieba")
    assert "".join(t.text for t in words) == "我们明天开会" and len(words) < 6
    with pytest.raises(InvalidArgumentError):
        nlu.tokenize("x", zh="words")


def test_markdown_examples_grouped_by_intent():
    data = nlu.load_markdown("""
<!-- a comment -->
## intent:add_reminder
- remind me to [call Bob](task) [tomorrow at 3pm](time)
- 提醒我[明天下午3点](time)[给妈妈打电话](task)

## synonym:NYC
- New York City

## intent:greet
* hello
""")
    assert len(data) == 3 and data.intents == ["add_reminder", "greet"]
    assert data.slot_names == ["task", "time"]
    assert data[0].slots() == [("task", "call Bob"), ("time", "tomorrow at 3pm")]
    assert data[1].slots() == [("time", "明天下午3点"), ("task", "给妈妈打电话")]
    assert data[1].tags[:4] == ("O", "O", "O", "B-time")
    assert data.counts() == {"add_reminder": 2, "greet": 1}


def test_markdown_round_trip_and_rasa_variants():
    ex = Example.from_markdown("fly to [New York](city:NYC) on [monday]{\"entity\": \"day\"}", "book")
    assert ex.slots() == [("city", "New York"), ("day", "monday")]
    assert ex.to_markdown() == "fly to [New York](city) on [monday](day)"
    again = Example.from_markdown(ex.to_markdown(), "book")
    assert again.tags == ex.tags


@pytest.mark.parametrize("text, fragment", [
    ("## intent:x\n- call [Bob](bad name)", "Invalid slot annotation"),
    ("- hello", "before any intent"),
    ("## intent:x\n", "no examples"),
    ("## intent:x\n- call [](person)", "Line 2"),
])
def test_markdown_errors_are_one_sentence(text, fragment):
    with pytest.raises(DataError, match=fragment):
        nlu.load_markdown(text)


def test_markdown_file(tmp_path):
    path = tmp_path / "mine.md"
    path.write_text("## intent:add_todo\n- add [buy milk](task) to my list\n", "utf-8")
    data = nlu.load_markdown(path)
    assert data.name == "mine" and data[0].slots() == [("task", "buy milk")]
    assert NLUDataset.from_any(str(path))[0].intent == "add_todo"


def test_dataframe_with_spans_and_with_annotations():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({
        "text": ["call Bob now", "play [jazz](genre)", "hello"],
        "intent": ["call", "play", "greet"],
        "spans": [[(5, 8, "person")], None, []],
    })
    data = nlu.from_dataframe(df)
    assert [ex.slots() for ex in data] == [[("person", "Bob")], [("genre", "jazz")], []]
    with pytest.raises(InvalidArgumentError, match="Received: text='utterance'"):
        nlu.from_dataframe(df, text="utterance")
    with pytest.raises(DataError, match="does not fit"):
        nlu.from_dataframe(pd.DataFrame({"text": ["hi"], "intent": ["g"], "spans": [[(0, 9, "x")]]}))


def write_split(folder, lines):
    folder.mkdir(parents=True)
    (folder / "seq.in").write_text("".join(a + "\n" for a, _, _ in lines), "utf-8")
    (folder / "seq.out").write_text("".join(b + "\n" for _, b, _ in lines), "utf-8")
    (folder / "label").write_text("".join(c + "\n" for _, _, c in lines), "utf-8")


def test_bio_benchmark_folder(tmp_path):
    rows = [("add this song to my road trip playlist", "O O B-music_item O B-playlist_owner B-playlist I-playlist O",
             "AddToPlaylist"), ("play jazz", "O B-genre", "PlayMusic")]
    write_split(tmp_path / "train", rows)
    write_split(tmp_path / "dev", rows[:1])
    write_split(tmp_path / "test", [("BOS play jazz EOS", "O O B-genre O", "PlayMusic")])
    data = nlu.load_bio_dataset(tmp_path)
    assert set(data) == {"train", "valid", "test"}
    assert len(data["train"]) == 2 and data["train"][0].slots()[1] == ("playlist_owner", "my")
    assert data["test"][0].tokens == ("play", "jazz") and data["test"][0].tags == ("O", "B-genre")


def test_bio_benchmark_errors(tmp_path):
    with pytest.raises(DataError, match="no train"):
        (tmp_path / "empty").mkdir()
        nlu.load_bio_dataset(tmp_path / "empty")
    write_split(tmp_path / "b" / "train", [("play jazz", "O", "PlayMusic")])
    with pytest.raises(DataError, match="line 1: 2 tokens in seq.in but 1 tags"):
        nlu.load_bio_dataset(tmp_path / "b")
    write_split(tmp_path / "c" / "train", [("play jazz", "O X-genre", "PlayMusic")])
    with pytest.raises(DataError, match="Invalid slot tag 'X-genre'"):
        nlu.load_bio_dataset(tmp_path / "c")


def test_split_is_stratified_and_deterministic():
    data = NLUDataset([Example(("a", str(i)), ("O", "O"), f"i{i % 3}") for i in range(30)])
    train, test = data.split(0.2, seed=1)
    assert len(train) == 24 and len(test) == 6
    assert test.counts() == {"i0": 2, "i1": 2, "i2": 2}
    assert [e.tokens for e in data.split(0.2, seed=1)[1]] == [e.tokens for e in test]


def test_augment_swaps_slot_values_within_a_language():
    data = nlu.load_markdown("""
## intent:add_todo
- add [buy milk](task) to my list
- add [fix the bike](task) to my list
- 把[买牛奶](task)加到待办
- hello there
""")
    more = data.augment(copies=4, seed=0)
    assert len(more) == len(data) + 3 * 4
    values = {v for ex in more for _, v in ex.slots()}
    assert values == {"buy milk", "fix the bike", "买牛奶"}
    for ex in more[len(data):]:
        assert len(ex.tokens) == len(ex.tags)
        zh = any("\u4e00" <= c <= "\u9fff" for c in "".join(ex.tokens))
        slot_text = "".join(t for t, g in zip(ex.tokens, ex.tags) if g != "O")
        assert zh == any("\u4e00" <= c <= "\u9fff" for c in slot_text)
