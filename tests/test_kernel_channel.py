"""The kernel channel over a comm: one answer per request, cancel, errors, registration."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import comm as comm_package
import pytest

from jupyter_llm.kernel import is_registered, register_comm, unregister_comm
from jupyter_llm.kernel.channel import Channel, Worker
from jupyter_llm.kernel.models import ModelRegistry
from jupyter_llm.kernel.protocol import SPEC, TARGET, check_fields


class FakeComm:
    """Records what the channel sends; thread-safe like ipykernel's comm.

    Waits are on a condition notified by every ``send``, never a fixed sleep; ``worker``
    (set by the fixture) lets a wait drain the channel's worker thread, so "exactly one
    answer" is checked after the job that answers has run to its very end.
    """

    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.changed = threading.Condition()
        self.msg_callback = self.close_callback = None
        self.closed = False
        self.worker: Worker | None = None

    def send(self, data):
        with self.changed:
            self.sent.append(data)
            self.changed.notify_all()

    def on_msg(self, callback):
        self.msg_callback = callback

    def on_close(self, callback):
        self.close_callback = callback

    def close(self):
        self.closed = True

    # --- the front end's side ---

    def deliver(self, data):
        self.msg_callback({"content": {"comm_id": "c", "data": data}})

    def answers(self, request_id):
        with self.changed:
            return [m for m in self.sent if m["id"] == request_id and m["kind"] in ("response", "error")]

    def until(self, condition, timeout=60.0, what="the condition"):
        """Block until ``condition(sent)`` holds (re-checked at every send)."""
        with self.changed:
            if not self.changed.wait_for(lambda: condition(self.sent), timeout=timeout):
                raise AssertionError(f"{what} did not happen within {timeout} s: {self.sent[-5:]}")

    def wait(self, request_id, timeout=60.0, count=1):
        """The answers to ``request_id`` once ``count`` have come and the worker has nothing left to run."""
        self.until(lambda sent: len([m for m in sent if m["id"] == request_id
                                     and m["kind"] in ("response", "error")]) >= count,
                   timeout, f"{count} answer(s) to {request_id!r}")
        drain(self.worker, timeout)
        return self.answers(request_id)


def drain(worker: Worker | None, timeout: float = 60.0) -> None:
    """Return once every job submitted to ``worker`` so far has finished (it runs them in order)."""
    if worker is None:
        return
    done = threading.Event()
    worker.submit(done.set)
    assert done.wait(timeout), f"the worker did not finish its jobs within {timeout} s"


def req(rid, name, payload=None):
    return {"v": 1, "id": rid, "kind": "request", "name": name, "payload": payload or {}}


@pytest.fixture
def setup(tiny_lm):
    class Slow(type(tiny_lm)):
        """A model whose stream is slow and endless, to test cancel."""

        def stream(self, prompt="", **options):
            while True:  # until cancelled: the channel checks between two tokens
                yield "x"

    class Talker(type(tiny_lm)):
        """A model that makes words until cancelled, to test a streamed completion."""

        def stream(self, prompt="", **options):
            while True:
                yield "word "

    class Broken(type(tiny_lm)):
        def stream(self, prompt="", **options):
            raise RuntimeError("the weights fell over")

    slow = Slow(tiny_lm.model, tiny_lm.tokenizer, tiny_lm.config, tiny_lm.metadata)
    broken = Broken(tiny_lm.model, tiny_lm.tokenizer, tiny_lm.config, tiny_lm.metadata)
    talker = Talker(tiny_lm.model, tiny_lm.tokenizer, tiny_lm.config, tiny_lm.metadata)
    ns = {"lm": tiny_lm, "slow": slow, "broken": broken, "talker": talker}
    fake = FakeComm()
    fake.worker = Worker()
    channel = Channel(fake, ModelRegistry(lambda: ns), fake.worker)
    return fake, channel


def test_quick_requests_are_answered_at_once(setup):
    fake, _ = setup
    fake.deliver(req("h", "hello"))
    fake.deliver(req("l", "list_models"))
    (hello,), (listing,) = fake.answers("h"), fake.answers("l")
    assert hello["kind"] == "response" and hello["payload"]["protocol"] == 1
    assert {m["name"] for m in listing["payload"]["models"]} >= {"lm", "slow", "broken", "talker"}


def test_generate_sends_events_then_exactly_one_response(setup):
    fake, _ = setup
    fake.deliver(req("g", "generate", {"model": "lm", "prompt": "A", "max_tokens": 30, "seed": 1}))
    (answer,) = fake.wait("g")
    assert answer["kind"] == "response"
    events = [m for m in fake.sent if m["id"] == "g" and m["kind"] == "event"]
    assert events and all(fake.sent.index(e) < fake.sent.index(answer) for e in events)
    assert "".join(e["payload"]["text"] for e in events) == answer["payload"]["text"]
    check_fields(answer["payload"], SPEC["requests"]["generate"]["response"], "generate")


def test_cancel_stops_a_running_generation(setup):
    fake, _ = setup
    fake.deliver(req("g", "generate", {"model": "slow", "prompt": "A"}))
    fake.until(lambda sent: any(m["kind"] == "event" for m in sent), what="a first event")
    fake.deliver(req("c", "cancel", {"id": "g"}))
    (cancel_answer,) = fake.answers("c")
    assert cancel_answer["payload"] == {"cancelled": True}
    (answer,) = fake.wait("g", timeout=10)
    assert answer["kind"] == "response" and answer["payload"]["cancelled"] is True
    assert answer["payload"]["text"].startswith("x")


def test_complete_sends_chunk_events_then_exactly_one_response(setup):
    fake, _ = setup
    fake.deliver(req("k", "complete", {"model": "lm", "text": "ROMEO:\nWhat light", "max_tokens": 40, "seed": 1}))
    (answer,) = fake.wait("k")
    assert answer["kind"] == "response" and answer["payload"]["cancelled"] is False
    check_fields(answer["payload"], SPEC["requests"]["complete"]["response"], "complete")
    events = [m for m in fake.sent if m["id"] == "k" and m["kind"] == "event"]
    assert all(e["name"] == "chunk" and fake.sent.index(e) < fake.sent.index(answer) for e in events)
    assert "".join(e["payload"]["text"] for e in events) == answer["payload"]["text"]


def test_cancel_stops_a_streamed_completion(setup):
    fake, _ = setup
    fake.deliver(req("k", "complete", {"model": "talker", "text": "What light"}))
    fake.until(lambda sent: len([m for m in sent if m["id"] == "k" and m["kind"] == "event"]) >= 2,
               what="two chunks of the completion")
    fake.deliver(req("c", "cancel", {"id": "k"}))
    assert fake.answers("c")[0]["payload"] == {"cancelled": True}
    (answer,) = fake.wait("k", timeout=10)
    assert answer["kind"] == "response" and answer["payload"]["cancelled"] is True
    about_k = [m for m in fake.sent if m["id"] == "k"]
    assert about_k[-1] is answer  # no chunk after the answer
    chunks = "".join(m["payload"]["text"] for m in about_k if m["kind"] == "event")
    assert chunks == answer["payload"]["text"] and chunks.startswith("word word")
    assert not chunks.endswith(" ")  # whole words, no trailing space


def test_cancel_of_an_unknown_request_says_so(setup):
    fake, _ = setup
    fake.deliver(req("c", "cancel", {"id": "nothing"}))
    assert fake.answers("c")[0]["payload"] == {"cancelled": False}


@pytest.mark.parametrize("name, payload, code, words", [
    ("generate", {"model": "nope", "prompt": "A"}, "model_not_found", "no model named 'nope'"),
    ("generate", {"model": "lm", "prompt": "A", "temperature": 0}, "invalid_argument", "temperature"),
    ("generate", {"model": "broken", "prompt": "A"}, "internal_error", "RuntimeError: the weights fell over"),
    ("attention", {"model": "lm", "text": ""}, "invalid_argument", "non-empty"),
    ("complete", {"model": "lm", "text": "A", "max_tokens": 201}, "invalid_argument", "from 1 to 200"),
    ("assistant", {"action": "ask"}, "unknown_request", "Unknown request 'assistant'"),  # removed in 0.2
    ("generate", {"model": "lm"}, "invalid_argument", "Missing field prompt"),
    ("teleport", {}, "unknown_request", "Unknown request 'teleport'"),
])
def test_errors_answer_the_request_once(setup, name, payload, code, words):
    fake, _ = setup
    fake.deliver(req("e", name, payload))
    (answer,) = fake.wait("e")
    assert answer["kind"] == "error" and answer["name"] == name
    assert answer["payload"]["code"] == code
    assert words in answer["payload"]["message"]
    assert "Traceback" not in answer["payload"]["message"]


def test_a_malformed_message_is_answered_without_an_id(setup):
    fake, _ = setup
    fake.deliver("hello?")
    fake.deliver({"v": 1, "kind": "request", "name": "hello"})
    assert [m["payload"]["code"] for m in fake.sent] == ["invalid_message", "invalid_message"]
    assert all(m["id"] == "" and m["kind"] == "error" for m in fake.sent)


def test_a_duplicate_id_of_a_running_request_is_refused(setup):
    fake, channel = setup
    fake.deliver(req("g", "generate", {"model": "slow", "prompt": "A"}))
    fake.deliver(req("g", "generate", {"model": "slow", "prompt": "A"}))
    (refusal,) = [m for m in fake.sent if m["kind"] == "error"]
    assert refusal["id"] == "" and refusal["payload"]["code"] == "invalid_message"
    assert "'g' is already running" in refusal["payload"]["message"]
    channel.cancel("g")
    (answer,) = fake.wait("g")  # the running request's one answer is the only one with its id
    assert answer["kind"] == "response" and answer["payload"]["cancelled"] is True


def test_every_request_of_a_burst_gets_one_answer(setup):
    fake, _ = setup
    ids = []
    for i in range(12):
        name, payload = [("hello", {}), ("list_models", {}),
                         ("complete", {"model": "lm", "text": "ROMEO:"}),
                         ("generate", {"model": "lm", "prompt": "A", "max_tokens": 5}),
                         ("attention", {"model": "lm", "text": "abc"}),
                         ("generate", {"model": "zzz", "prompt": "A"})][i % 6]
        fake.deliver(req(f"r{i}", name, payload))
        ids.append(f"r{i}")
    for rid in ids:
        assert len(fake.wait(rid)) == 1


def test_closing_the_comm_stops_work_and_sends_nothing_more(setup):
    fake, channel = setup
    fake.deliver(req("g", "generate", {"model": "slow", "prompt": "A"}))
    fake.until(lambda sent: any(m["kind"] == "event" for m in sent), what="a first event")
    fake.close_callback({})
    count = len(fake.sent)
    drain(fake.worker)  # returns only if the endless generation stopped
    assert channel.closed and len(fake.sent) == count
    assert not fake.answers("g")  # no answer to a front end that went away


# === Registration ===

def fake_shell():
    """A shell with a kernel's comm manager: a Configurable, hashable and weak-referenceable like a real one."""
    from traitlets.config import Configurable

    shell = Configurable()
    shell.kernel = SimpleNamespace(comm_manager=comm_package.base_comm.CommManager())
    shell.user_ns = {}
    return shell


def test_register_comm_is_idempotent_and_reversible():
    shell = fake_shell()
    manager = shell.kernel.comm_manager
    assert register_comm(shell) is True
    target = manager.targets[TARGET]
    assert register_comm(shell) is True
    assert manager.targets[TARGET] == target and is_registered(shell)
    unregister_comm(shell)
    assert TARGET not in manager.targets and not is_registered(shell)
    unregister_comm(shell)  # a second time does nothing


def test_register_comm_outside_a_kernel_does_nothing():
    assert register_comm(SimpleNamespace(user_ns={})) is False


def test_the_target_answers_the_hello_sent_with_comm_open(tiny_lm):
    shell = fake_shell()
    shell.user_ns["lm"] = tiny_lm
    register_comm(shell)
    fake = FakeComm()
    shell.kernel.comm_manager.targets[TARGET](fake, {"content": {"data": req("h", "hello")}})
    (hello,) = fake.answers("h")
    assert hello["payload"]["protocol"] == 1
    fake.deliver(req("l", "list_models"))
    listing = fake.answers("l")[0]["payload"]
    check_fields(listing, SPEC["requests"]["list_models"]["response"], "the list_models response")
    assert [m["key"] for m in listing["models"] if m["origin"] == "variable"] == ["variable:lm"]
    unregister_comm(shell)
    assert fake.closed
