"""Request handlers of the kernel channel, called directly (no comm, no kernel)."""

from __future__ import annotations

import pytest

import jupyter_llm as jl
from jupyter_llm.generation.options import GENERATION
from jupyter_llm.kernel import handlers
from jupyter_llm.kernel.handlers import Context
from jupyter_llm.kernel.models import ModelRegistry
from jupyter_llm.kernel.protocol import LIMITS, SPEC, check_fields
from jupyter_llm.kernel.suggestion import visible, whole_words, word_end


class Recorder:
    """A Context whose events are recorded and which cancels after ``cancel_after`` events."""

    def __init__(self, ns: dict, cancel_after: int | None = None) -> None:
        self.events: list[tuple[str, dict]] = []
        self.cancel_after = cancel_after
        self.ctx = Context(ModelRegistry(lambda: ns), self.emit, self.cancelled)

    def emit(self, name: str, payload: dict) -> None:
        check_fields(payload, SPEC["events"][name], name)
        self.events.append((name, payload))

    def cancelled(self) -> bool:
        return self.cancel_after is not None and len(self.events) >= self.cancel_after


def call(name: str, payload: dict, rec: Recorder) -> dict:
    reply = handlers.HANDLERS[name](payload, rec.ctx)
    check_fields(reply, SPEC["requests"][name]["response"], f"the {name} response")  # matches the spec
    return reply


@pytest.fixture
def ns(tiny_lm):
    return {"lm": tiny_lm, "x": 1, "_private": tiny_lm}


def test_hello_reports_versions(ns):
    reply = call("hello", {}, Recorder(ns))
    assert reply["protocol"] == 1
    assert reply["version"] == jl.__version__
    assert set(reply["requests"]) == set(SPEC["requests"])


def test_list_models_lists_variables_and_saved_models(ns, tiny_lm):
    tiny_lm.save("saved_tiny")
    listing = call("list_models", {}, Recorder(ns))
    by_key = {m["key"]: m for m in listing["models"]}
    assert "variable:lm" in by_key and "saved:saved_tiny" in by_key
    assert "variable:_private" not in by_key and "variable:x" not in by_key
    for m in listing["models"]:
        check_fields(m, SPEC["shapes"]["model_info"], "model_info")
        assert m["key"] == f"{m['origin']}:{m['name']}" and m["origin"] in SPEC["model_origins"]
        assert m["name"] in m["label"]
    assert by_key["variable:lm"]["parameters"] == tiny_lm.num_parameters
    assert by_key["saved:saved_tiny"]["tokenizer"] == "char"
    assert listing["default"] in by_key


def test_list_models_of_an_empty_kernel_lists_only_bundled_models(jl_home):
    listing = call("list_models", {}, Recorder({}))
    assert [m["name"] for m in listing["models"]] == [m.name for m in jl.list_models() if m.bundled]
    assert all(m["origin"] == "bundled" for m in listing["models"])
    assert listing["default"] is None or listing["default"] in {m["key"] for m in listing["models"]}


def test_generate_streams_chunks_that_add_up_to_the_text(ns, tiny_lm):
    rec = Recorder(ns)
    reply = call("generate", {"model": "lm", "prompt": "ROMEO:", "max_tokens": 40, "seed": 3}, rec)
    assert not reply["cancelled"] and reply["model"] == "lm"
    assert rec.events and all(name == "chunk" for name, _ in rec.events)
    assert "".join(p["text"] for _, p in rec.events) == reply["text"]
    assert reply["text"] == tiny_lm.generate("ROMEO:", max_tokens=40, seed=3)


def test_generate_from_a_saved_model(ns, tiny_lm):
    tiny_lm.save("saved_tiny")
    for model, source in [("saved_tiny", "saved"), ("saved:saved_tiny", None), ("saved_tiny", "store")]:
        payload = {"model": model, "prompt": "A", "max_tokens": 5, "seed": 0}
        if source:
            payload["source"] = source
        reply = call("generate", payload, Recorder(ns))
        assert reply["text"] == tiny_lm.generate("A", max_tokens=5, seed=0)


def test_generate_without_max_tokens_takes_the_channel_default(ns, tiny_lm, monkeypatch):
    seen = {}
    real = type(tiny_lm).stream

    def stream(self, prompt="", **options):
        seen.update(options)
        return real(self, prompt, **options)

    monkeypatch.setattr(type(tiny_lm), "stream", stream)
    call("generate", {"model": "lm", "prompt": "A", "seed": 0}, Recorder(ns))
    assert seen["max_tokens"] == GENERATION["max_tokens"].default_for("channel") == LIMITS["generate"]["max_tokens_default"]
    assert seen["temperature"] == GENERATION["temperature"].default_for("channel")
    seen.clear()
    call("complete", {"model": "lm", "text": "ROMEO:", "seed": 0}, Recorder(ns))
    assert seen["max_tokens"] == GENERATION["max_tokens"].default_for("completion") == 24
    assert seen["temperature"] == GENERATION["temperature"].default_for("completion") == 0.5
    assert not seen["stop"]  # the handler ends a suggestion at a blank line itself (suggestion.whole_words)


def test_generate_stops_when_cancelled_and_keeps_the_text(ns, monkeypatch):
    monkeypatch.setattr(handlers, "CHUNK_INTERVAL", 0.0)  # one event per token
    rec = Recorder(ns, cancel_after=3)
    reply = call("generate", {"model": "lm", "prompt": "A", "max_tokens": 200, "seed": 0}, rec)
    assert reply["cancelled"]
    assert len(rec.events) == 3
    assert reply["text"] == "".join(p["text"] for _, p in rec.events)


def test_generate_reports_unknown_symbols_as_warnings(ns):
    reply = call("generate", {"model": "lm", "prompt": "\u2603 snow", "max_tokens": 3, "seed": 0}, Recorder(ns))
    assert any("never seen in training" in w for w in reply["warnings"])


@pytest.mark.parametrize("payload, error, message", [
    ({"model": "nope", "prompt": "A"}, jl.ModelNotFoundError, "There is no model named 'nope'"),
    ({"model": "lm", "source": "saved", "prompt": "A"}, jl.ModelNotFoundError, "model named 'lm'"),
    ({"model": "lm", "source": "cloud", "prompt": "A"}, jl.InvalidArgumentError, "source"),
    ({"model": "lm", "prompt": "A", "max_tokens": 4001}, jl.InvalidArgumentError, "from 1 to 4000"),
    ({"model": "lm", "prompt": "A", "temperature": -1.0}, jl.InvalidArgumentError, "temperature"),
    ({"model": "lm", "prompt": "A", "stop": [""]}, jl.InvalidArgumentError, "non-empty string"),
    ({"model": "lm", "prompt": "A" * 5000}, jl.PromptTooLongError, "at most"),
])
def test_generate_errors_are_one_sentence(ns, payload, error, message):
    with pytest.raises(error, match=None) as info:
        handlers.generate(payload, Recorder(ns).ctx)
    assert message in str(info.value)


def test_attention_returns_the_mime_payload(ns, tiny_lm):
    reply = call("attention", {"model": "lm", "text": "To be or not"}, Recorder(ns))
    att = reply["attention"]
    assert att == tiny_lm.attention("To be or not").to_dict()
    assert att["version"] == 1 and len(att["layers"][0]["weights"]) == len(att["tokens"]) == 12


@pytest.mark.parametrize("text, message", [("", "non-empty"), ("a" * 1000, "at most 400 tokens")])
def test_attention_refuses_empty_or_long_text(ns, text, message):
    with pytest.raises(jl.InvalidArgumentError, match=message):
        handlers.attention({"model": "lm", "text": text}, Recorder(ns).ctx)


def test_complete_is_short_and_stops_before_a_blank_line(ns):
    for seed_text in ["ROMEO:\nI will", "First Citizen:\n", "a\n"]:
        rec = Recorder(ns)
        reply = call("complete", {"model": "lm", "text": seed_text, "max_tokens": 60, "temperature": 1.0}, rec)
        assert "\n\n" not in reply["text"]
        assert len(reply["text"]) <= 60
        assert "".join(p["text"] for _, p in rec.events) == reply["text"]


def test_complete_with_a_seed_is_reproducible(ns, tiny_lm):
    payload = {"model": "lm", "text": "ROMEO:\nI will", "max_tokens": 30, "temperature": 1.0, "seed": 7}
    first = call("complete", payload, Recorder(ns))["text"]
    assert call("complete", payload, Recorder(ns))["text"] == first
    made = tiny_lm.generate("ROMEO:\nI will", max_tokens=30, temperature=1.0, seed=7)
    assert first == visible(made)[0] and made.startswith(first)


def words(tiny_lm, pieces: list[str]) -> dict:
    """A namespace whose model ``words`` makes ``pieces`` (one a token), whatever the prompt."""

    class Words(type(tiny_lm)):
        def stream(self, prompt="", **options):
            yield from pieces[: options["max_tokens"]]

    return {"words": Words(tiny_lm.model, tiny_lm.tokenizer, tiny_lm.config, tiny_lm.metadata)}


def test_complete_streams_whole_words_as_chunks(tiny_lm, monkeypatch):
    monkeypatch.setattr(handlers, "COMPLETE_CHUNK_INTERVAL", 0.0)  # one event per step that ends a word
    rec = Recorder(words(tiny_lm, ["ugh", " yon", "der", " win", "dow", " br"]))
    reply = call("complete", {"model": "words", "text": "What light thro", "max_tokens": 40}, rec)
    assert [p["text"] for _, p in rec.events] == ["ugh", " yonder", " window"]
    assert reply == {"text": "ugh yonder window", "cancelled": False}  # "br" was not finished


@pytest.mark.parametrize("pieces, text", [
    (["ugh yonder,", " win"], "ugh yonder,"),  # punctuation ends a word
    (["ugh ", "yonder  ", "\n"], "ugh yonder"),  # trailing whitespace waits for a next word
    (["ugh\n", "\nROMEO"], "ugh"),  # a blank line ends the suggestion, and ends its last word
    (["ugh don", "'", "t"], "ugh"),  # an apostrophe is inside a word
    (["我们", "今天", "去"], "我们今天去"),  # Chinese: every character is a word
    (["春眠不觉晓，", "处处"], "春眠不觉晓，处处"),
    (["ugh"], ""),  # no word ended: no suggestion
])
def test_complete_ends_on_a_word_boundary(tiny_lm, pieces, text):
    rec = Recorder(words(tiny_lm, pieces))
    reply = call("complete", {"model": "words", "text": "What light thro", "max_tokens": 40}, rec)
    assert reply["text"] == text == "".join(p["text"] for _, p in rec.events)


@pytest.mark.parametrize("size", [1, 2, 3, 7])
def test_whole_words_shows_what_visible_says_after_every_piece(size):
    text = "What light through yon-der window, 我们今天去 breaks? It's\n the east\n\nJULIET"
    pieces = [text[i:i + size] for i in range(0, len(text), size)]
    shown, made = "", ""
    for piece, out in zip(pieces, whole_words(pieces)):
        made, shown = made + piece, shown + out
        assert shown == visible(made)[0]
    assert shown == "What light through yon-der window, 我们今天去 breaks? It's\n the east"


def test_word_end_of_partial_text():
    assert word_end("What light thro") == len("What light")
    assert word_end("What light ") == len("What light")
    assert word_end("light.") == len("light.")
    assert word_end("abc中") == 4 and word_end("中文") == 2
    assert word_end("thro") == 0 and word_end("") == 0
    assert visible("a b\n\nc d") == ("a b", True)


def test_complete_of_blank_text_is_empty_without_a_model(jl_home):
    assert call("complete", {"model": "missing", "text": "  \n"}, Recorder({}))["text"] == ""


def test_complete_can_be_cancelled(ns):
    rec = Recorder(ns, cancel_after=0)  # cancelled before it starts
    assert call("complete", {"model": "lm", "text": "ROMEO:"}, rec) == {"text": "", "cancelled": True}


def test_a_cancelled_complete_keeps_the_words_it_sent(tiny_lm, monkeypatch):
    monkeypatch.setattr(handlers, "COMPLETE_CHUNK_INTERVAL", 0.0)
    rec = Recorder(words(tiny_lm, ["ugh", " yon", "der", " win", "dow", " br", "eaks"]), cancel_after=2)
    reply = call("complete", {"model": "words", "text": "What light thro", "max_tokens": 40}, rec)
    assert reply == {"text": "ugh yonder", "cancelled": True}
    assert [p["text"] for _, p in rec.events] == ["ugh", " yonder"]


def test_the_assistant_request_is_gone():
    assert "assistant" not in handlers.HANDLERS and "assistant" not in SPEC["requests"]


def test_registry_caches_loaded_models(ns, tiny_lm):
    tiny_lm.save("saved_tiny")
    registry = ModelRegistry(lambda: {})
    first = registry.get("saved_tiny")
    assert registry.get("saved_tiny") is first
    tiny_lm.save("saved_tiny", overwrite=True)  # a new version on disk is loaded again
    assert registry.get("saved_tiny") is not first


def test_a_variable_shadows_a_saved_model_of_the_same_name(ns, tiny_lm):
    tiny_lm.save("lm")
    registry = ModelRegistry(lambda: ns)
    assert registry.get("lm") is tiny_lm
    assert registry.get("lm", "store") is not tiny_lm
