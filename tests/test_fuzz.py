"""Fuzzing (#12): every entry point either succeeds or raises a documented one-sentence error.

The property, for each generated input: success, or one of the package's documented
exceptions (the ``JupyterLLMError`` family; ``ProtocolError`` / an ``error`` envelope on the
kernel channel) with a short message (one line, no traceback); never another exception,
never a hang (``pytest.mark.timeout``, small ``max_tokens``), never a change to a model
the input did not name.

Profiles: ``ci`` (default) is derandomized (a fixed seed) with a fixed example budget and
no example database; ``JUPYTER_LLM_FUZZ=long`` runs many more random examples
(docs/testing.md, "Fuzzing").
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from jupyter_llm.errors import JupyterLLMError
from magics_support import copy_of

# === Profiles ===

settings.register_profile(
    "ci", derandomize=True, max_examples=40, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "long", derandomize=False, max_examples=2000, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
PROFILE = os.environ.get("JUPYTER_LLM_FUZZ", "ci")
settings.load_profile(PROFILE)
#: Per-test budgets are multiplied by this in the long profile.
SCALE = 50 if PROFILE == "long" else 1
TIMEOUT = 3600 if PROFILE == "long" else 120


def budget(n: int):
    return settings(max_examples=n * SCALE)


def assert_short(message: str) -> None:
    """A documented error's message: one line, no traceback, not a page."""
    assert message.strip(), "an empty error message"
    assert "\n" not in message.strip(), f"a multi-line error message: {message!r}"
    assert "Traceback" not in message, message
    assert len(message) < 600, f"a long error message ({len(message)} chars): {message[:200]!r}"
    event("refused")  # --hypothesis-show-statistics shows how many examples were refused


# === Values of every JSON type, and some that are not JSON ===

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
)
json_values = st.recursive(
    scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                     st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=8,
)


# === SamplingOptions ===

def _option(good):
    return st.one_of(good, json_values)


sampling_kwargs = st.fixed_dictionaries({}, optional={
    "max_tokens": _option(st.integers(0, 50)),
    "temperature": _option(st.floats(min_value=0, max_value=1e6)),
    "top_k": _option(st.integers(-2, 100)),
    "top_p": _option(st.floats(min_value=-1, max_value=2)),
    "repetition_penalty": _option(st.floats(min_value=0, max_value=1e4)),
    "stop": _option(st.lists(st.text(max_size=3), max_size=3)),
    "seed": _option(st.integers(-5, 2**64)),
    "n": _option(st.integers(-1, 5)),
    "greedy": _option(st.booleans()),
    "beam": _option(st.integers(-1, 5)),
})


@pytest.mark.timeout(TIMEOUT)
@budget(300)
@given(sampling_kwargs)
@example({"stop": 5})  # #12 item 8: was a TypeError
@example({"temperature": 1e-320})
@example({"temperature": -9_223_372_036_854_775_809})  # was a TypeError from np.isfinite (an int past 64 bits)
@example({"top_p": 2**64, "repetition_penalty": -(2**70)})
@example({"temperature": 10**400})  # past the largest float: refused, not an OverflowError later
@example({"repetition_penalty": 1e-320})
def test_sampling_options_accept_or_refuse_in_one_sentence(kwargs):
    from jupyter_llm.generation.sampling import SamplingOptions

    try:
        SamplingOptions(**kwargs)
    except JupyterLLMError as e:
        assert_short(str(e))


@pytest.fixture(scope="module")
def lm(tiny_lm):
    """The session's tiny model in a wrapper of its own: this module saves it ('victim', 'bystander'),
    which names it, and the session's model must keep its name for the tests after these."""
    return copy_of(tiny_lm)


@pytest.mark.timeout(TIMEOUT)
@budget(25)
@given(kwargs=sampling_kwargs, prompt=st.text(max_size=8))
@example(kwargs={"temperature": 1e-300, "max_tokens": 5}, prompt="A")
def test_generate_with_fuzzed_options(lm, kwargs, prompt):
    if isinstance(kwargs.get("max_tokens"), int) and not isinstance(kwargs["max_tokens"], bool):
        kwargs["max_tokens"] = min(kwargs["max_tokens"], 8)  # never a hang: a short run
    else:
        kwargs["max_tokens"] = 4
    for k in ("n", "beam"):  # beam search and many samples cost n x max_tokens steps
        if isinstance(kwargs.get(k), int) and not isinstance(kwargs[k], bool) and kwargs[k] > 3:
            kwargs[k] = 3
    try:
        out = lm.generate(prompt, **kwargs)
    except JupyterLLMError as e:
        assert_short(str(e))
        return
    texts = out if isinstance(out, list) else [out]
    assert all(isinstance(t, str) for t in texts)
    assert not any("\ufffd" in t for t in texts), "the unknown token was generated"


# === Kernel channel ===

class FakeComm:
    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.lock = threading.Lock()

    def send(self, data):
        with self.lock:
            self.sent.append(data)

    def on_msg(self, callback):
        self.msg_callback = callback

    def on_close(self, callback):
        pass

    def close(self):
        pass


def _drain(worker) -> None:
    done = threading.Event()
    worker.submit(done.set)
    assert done.wait(60), "the channel's worker did not finish within 60 s"


REQUEST_NAMES = ["hello", "list_models", "generate", "attention", "complete", "cancel", "nothing", ""]

payload_fields = st.dictionaries(
    st.sampled_from(["model", "source", "prompt", "text", "max_tokens", "temperature", "top_k", "top_p",
                     "repetition_penalty", "stop", "seed", "id", "client", "protocol", "extra"]),
    st.one_of(json_values, st.sampled_from(["lm", "missing", "../x", "A", ""]), st.integers(0, 6)),
    max_size=6,
)
envelopes = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"v": st.one_of(st.just(1), json_values), "id": st.one_of(st.text(max_size=4), json_values),
         "kind": st.one_of(st.just("request"), json_values), "name": st.sampled_from(REQUEST_NAMES),
         "payload": st.one_of(payload_fields, json_values)},
        optional={"extra": json_values},
    ),
)


@pytest.fixture(scope="module")
def channel(lm):
    from jupyter_llm.kernel.channel import Channel, Worker
    from jupyter_llm.kernel.models import ModelRegistry

    fake = FakeComm()
    worker = Worker()
    return fake, Channel(fake, ModelRegistry(lambda: {"lm": lm}), worker), worker


@pytest.mark.timeout(TIMEOUT)
@budget(300)
@given(envelopes)
@example({"v": True, "id": "a", "kind": "request", "name": "hello", "payload": {}})  # #12 item 10
@example({"v": 1.0, "id": "a", "kind": "request", "name": "hello", "payload": {}})
def test_kernel_channel_answers_every_envelope_once(channel, data):
    from jupyter_llm.kernel.protocol import ProtocolError, parse_request

    try:
        parse_request(data)
    except ProtocolError as e:
        assert_short(str(e))

    fake, ch, worker = channel
    payload = data.get("payload") if isinstance(data, dict) else None
    if isinstance(payload, dict) and isinstance(payload.get("max_tokens"), int):
        payload["max_tokens"] = max(min(payload["max_tokens"], 6), -1)  # never a hang
    elif isinstance(payload, dict) and data.get("name") in ("generate", "complete"):
        payload["max_tokens"] = 4
    with fake.lock:
        fake.sent.clear()
    ch.handle(data)
    _drain(worker)
    answers = [m for m in fake.sent if m.get("kind") in ("response", "error")]
    assert len(answers) == 1, answers
    answer = answers[0]
    if answer["kind"] == "error":
        assert answer["payload"]["code"] != "internal_error", answer
        assert_short(answer["payload"]["message"])


# === .ics files ===

FREQS = ["DAILY", "WEEKLY", "MONTHLY", "YEARLY", "SOMETIMES", "", "HOURLY", "daily"]
dates = st.sampled_from([
    "20260105", "20260105T090000", "20260105T090000Z", "2026010", "20261340T250000", "", "abc", "00000101",
])
rrule_parts = st.lists(st.one_of(
    st.sampled_from(FREQS).map(lambda f: f"FREQ={f}"),
    st.sampled_from(["COUNT=3", "COUNT=abc", "COUNT=-1", "COUNT=0", "INTERVAL=2", "INTERVAL=0",
                     "UNTIL=20260331T130000Z", "UNTIL=20260331", "UNTIL=x", "BYDAY=MO,WE", "BYDAY=XX",
                     "BYMONTHDAY=31", "BYMONTHDAY=99", "WKST=SU", "BYSETPOS=-1"]),
), min_size=0, max_size=4).map(";".join)


@st.composite
def ics_files(draw):
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//fuzz//EN"]
    for _ in range(draw(st.integers(0, 3))):
        lines.append("BEGIN:VEVENT")
        lines.append(f"UID:{draw(st.text('abc123', min_size=1, max_size=4))}@fuzz")
        lines.append(f"SUMMARY:{draw(st.text(max_size=10)).replace(chr(10), ' ').replace(chr(13), ' ')}")
        start = draw(dates)
        param = draw(st.sampled_from(["", ";TZID=America/New_York", ";VALUE=DATE", ";TZID=Nowhere/Else"]))
        if draw(st.booleans()) or not start:
            lines.append(f"DTSTART{param}:{start}")
        for name, values in (("DTEND" + param, dates), ("RRULE", rrule_parts), ("EXDATE" + param, dates),
                             ("RDATE" + param, dates), ("RECURRENCE-ID" + param, dates)):
            if draw(st.booleans()):  # each optional property, drawn in this order
                lines.append(f"{name}:{draw(values)}")
        if draw(st.booleans()):
            lines.append("BEGIN:VALARM\r\nTRIGGER:-PT15M\r\nACTION:DISPLAY\r\nEND:VALARM")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    text = "\r\n".join(lines) + "\r\n"
    cut = draw(st.one_of(st.none(), st.integers(0, len(text))))
    return text.encode("utf-8") if cut is None else text.encode("utf-8")[:cut]


@pytest.mark.timeout(TIMEOUT)
@budget(300)
@given(data=st.one_of(ics_files(), st.binary(max_size=200)))
@example(data=b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:x\r\nDTSTART:20260105T090000\r\n"
              b"RRULE:FREQ=SOMETIMES\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")  # #12 item 1
@example(data=b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:x\r\nDTSTART;TZID=America/New_York:20260105T090000\r\n"
              b"RRULE:FREQ=WEEKLY;UNTIL=20260331T130000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")  # #12 item 2
def test_ics_files_import_or_refuse_in_one_sentence(tmp_path_factory, data):
    from jupyter_llm.assistant.ics import read_ics, to_ics

    path = tmp_path_factory.mktemp("ics") / "cal.ics"
    path.write_bytes(data)
    refused: list[str] = []
    try:
        events = read_ics(path, refused)
    except JupyterLLMError as e:
        assert_short(str(e))
        return
    for why in refused:
        assert_short(why)
    assert isinstance(events, list)
    _import_list_and_export(path.parent, events)


def _import_list_and_export(folder: Path, events: list) -> None:
    """What `%assistant import` does next: add the events, list them, fire reminders, export and read back."""
    import datetime as dt

    from jupyter_llm.assistant.ics import read_ics, write_ics
    from jupyter_llm.assistant.state import AssistantStore

    clock = lambda: dt.datetime(2026, 3, 4, 12, 0)  # noqa: E731
    db = AssistantStore(folder / "assistant.sqlite", now=clock)
    try:
        try:
            ids = db.import_events(events)
        except JupyterLLMError as e:  # read_ics let through a rule import_events refuses: still one sentence
            assert_short(str(e))
            return
        assert len(ids) == len(db.events())
        skipped: list = []
        db.occurrences(dt.datetime(2025, 1, 1), dt.datetime(2028, 1, 1), skipped)
        db.due_reminders(skipped)
        for _, why in skipped:
            assert_short(why)
        written: list = []
        out = write_ics(db.events(), folder / "again.ics", clock(), written)
        again = read_ics(out, [])
        assert len(again) == len(ids) - len(written), (again, written)
    finally:
        db.close()


# === Mutated store folders ===

@pytest.fixture(scope="module")
def store_home(lm, tmp_path_factory):
    """A private store with two saved models: 'victim' (mutated per example) and 'bystander'."""
    from jupyter_llm import store

    home = tmp_path_factory.mktemp("fuzz_home")
    old = os.environ.get("JUPYTER_LLM_HOME")
    os.environ["JUPYTER_LLM_HOME"] = str(home)
    try:
        lm.save("victim")
        lm.save("bystander")
        pristine = home / "pristine"
        shutil.copytree(store.resolve("victim"), pristine)
        yield home, store.resolve("victim"), store.resolve("bystander"), pristine
    finally:
        if old is None:
            os.environ.pop("JUPYTER_LLM_HOME", None)
        else:
            os.environ["JUPYTER_LLM_HOME"] = old


def _snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _mutate_json(value, draw_path, replacement):
    """Replace one value in a JSON tree, reached by the drawn path of indices."""
    if not draw_path or not isinstance(value, (dict, list)) or not value:
        return replacement
    keys = list(value.keys()) if isinstance(value, dict) else list(range(len(value)))
    key = keys[draw_path[0] % len(keys)]
    value[key] = _mutate_json(value[key], draw_path[1:], replacement)
    return value


mutations = st.lists(st.tuples(
    st.sampled_from(["truncate", "json", "delete", "garbage"]),
    st.integers(0, 10),  # which file
    st.lists(st.integers(0, 50), max_size=4),  # where in it
    json_values,
    st.booleans(),  # re-hash the manifest afterwards (so the change passes the checksums)
), min_size=1, max_size=3)


@pytest.mark.timeout(TIMEOUT)
@budget(40)
@given(mutations)
@example([("json", 0, [0], "abc", True)])
def test_mutated_store_folders_load_or_refuse_in_one_sentence(store_home, muts):
    import jupyter_llm as jl
    from jupyter_llm import store

    home, victim, bystander, pristine = store_home
    os.environ["JUPYTER_LLM_HOME"] = str(home)  # the autouse jl_home fixture restores it after the test
    before = _snapshot(bystander)
    shutil.rmtree(victim)
    shutil.copytree(pristine, victim)
    for op, which, where, value, rehash in muts:
        files = sorted(p for p in victim.iterdir() if p.is_file())
        if not files:
            break
        target = files[which % len(files)]
        data = target.read_bytes()
        if op == "truncate":
            target.write_bytes(data[: (where[0] if where else 0) * len(data) // 50])
        elif op == "delete":
            target.unlink()
        elif op == "garbage":
            target.write_bytes(json.dumps(value).encode())
        else:
            try:
                tree = json.loads(data)
            except ValueError:
                tree = None
            if tree is not None:
                target.write_bytes(json.dumps(_mutate_json(tree, where, value)).encode())
        manifest = victim / store.MANIFEST
        if rehash and manifest.is_file():
            try:
                m = json.loads(manifest.read_text())
                m["files"] = {p.name: {"size": p.stat().st_size,
                                       "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
                              for p in victim.iterdir() if p.is_file() and p.name != store.MANIFEST}
                manifest.write_text(json.dumps(m))
            except (ValueError, TypeError, AttributeError):
                pass
    try:
        loaded = jl.load("victim")
    except JupyterLLMError as e:
        assert_short(str(e))
    else:
        try:
            loaded.generate("A", max_tokens=3, seed=0)
        except JupyterLLMError as e:
            assert_short(str(e))
    names = {m.name for m in jl.list_models()}
    assert "bystander" in names
    jl.load("bystander")
    assert _snapshot(bystander) == before, "another model changed"


# === Magics ===

from magics_support import shell  # noqa: E402,F401  (the one session shell of the magics tests)

NAMES = ["lm", "victim", "m2", "..", ".", "''", "a/b", "x" * 300, "'a b'", "$x", "{x}", "nothing"]
FLAGS = ["-m", "-n", "-t", "--top-k", "--top-p", "--repetition-penalty", "--stop", "--seed", "--greedy",
         "--beam", "--samples", "-f", "--insert", "--echo", "-o", "--attention", "--no-stream",
         "--no-interpolate", "--name", "--overwrite", "--yes", "--column", "--tokenizer", "--size",
         "--validation-split", "--", "-", "--help", "-h"]
VALUES = ["0", "1", "3", "-1", "1e308", "inf", "nan", "0.5", "abc", "text", "html", "json", "char",
          "tiny", "'", '"', "\\", "1_000", "True"]
tokens = st.one_of(st.sampled_from(NAMES + FLAGS + VALUES), st.text(max_size=5))
lines = st.lists(tokens, max_size=6).map(" ".join)


@pytest.fixture(scope="module")
def magic_shell(shell, lm, tmp_path_factory):
    """The session shell with jupyter_llm loaded, a private store holding 'bystander', ``lm`` and ``text``."""
    home = tmp_path_factory.mktemp("fuzz_magics_home")
    old = os.environ.get("JUPYTER_LLM_HOME")
    os.environ["JUPYTER_LLM_HOME"] = str(home)
    shell.config.pop("JupyterLLM", None)
    shell.run_line_magic("load_ext", "jupyter_llm")
    before = set(shell.user_ns)
    try:
        lm.save("bystander")
        shell.user_ns.update(lm=lm, text="To be, or not to be, that is the question. " * 20, x=1)
        yield shell, home
    finally:
        shell.run_line_magic("unload_ext", "jupyter_llm")
        shell.config.pop("JupyterLLM", None)
        for name in set(shell.user_ns) - before:
            del shell.user_ns[name]
        if old is None:
            os.environ.pop("JUPYTER_LLM_HOME", None)
        else:
            os.environ["JUPYTER_LLM_HOME"] = old


def _run_magic(magic_shell, call) -> None:
    from IPython.core.error import UsageError

    shell, home = magic_shell
    os.environ["JUPYTER_LLM_HOME"] = str(home)  # the autouse jl_home fixture restores it after the test
    bystander = home / "models" / "bystander"
    before = _snapshot(bystander)
    assistant_db = sorted(home.glob("assistant*"))
    try:
        call(shell)
    except UsageError as e:
        assert_short(str(e))
    except SystemExit:  # argparse's --help ends in SystemExit inside IPython's magic_arguments: not reached
        pytest.fail("a magic raised SystemExit")
    assert _snapshot(bystander) == before, "another model changed"
    assert sorted(home.glob("assistant*")) == assistant_db, "the assistant's state changed"


@pytest.mark.timeout(TIMEOUT)
@budget(150)
@given(command=st.sampled_from(["list", "info", "use", "save", "load", "delete", "eval", "attention",
                                "panel", "help", "nope", ""]),
       line=lines)
@example(command="save", line="..")  # #12 item 12
@example(command="eval", line="lm ''")
def test_llm_magic_lines(magic_shell, command, line):
    _run_magic(magic_shell, lambda shell: shell.run_line_magic("llm", f"{command} {line}"))


@pytest.mark.timeout(TIMEOUT)
@budget(60)
@given(line=lines, cell=st.one_of(st.none(), st.text(max_size=20)))
def test_generate_magic_lines(magic_shell, line, cell):
    # Never a hang: a short run (a later -n in the line would override, so the cap comes last).
    line = f"-m lm {line} -n 4" if "--" not in line.split() else f"-m lm -n 4 {line}"
    if cell is None:
        _run_magic(magic_shell, lambda shell: shell.run_line_magic("generate", line))
    else:
        _run_magic(magic_shell, lambda shell: shell.run_cell_magic("generate", line, cell))


@pytest.mark.timeout(TIMEOUT)
@budget(4)
@given(line=lines)
def test_llm_train_magic_lines(magic_shell, line):
    # Cheap runs: the caps come last, so they win over the same options in the fuzzed line.
    capped = (f"text {line} --size tiny --epochs 1 --steps-per-epoch 1 --seq-len 8 --batch-size 2 "
              "--sample-tokens 0 --time-limit 20")
    _run_magic(magic_shell, lambda shell: shell.run_line_magic("llm", f"train {capped}"))


# === %assistant ===

from assistant_support import Clock, assistant_models  # noqa: E402,F401


@pytest.fixture(scope="module")
def assistant_shell(shell, assistant_models, tmp_path_factory):
    from IPython.core.displaypub import CapturingDisplayPublisher

    from jupyter_llm.assistant import Assistant
    from jupyter_llm.extension import load_ipython_extension, unload_ipython_extension

    home = tmp_path_factory.mktemp("fuzz_assistant_home")
    old = os.environ.get("JUPYTER_LLM_HOME")
    os.environ["JUPYTER_LLM_HOME"] = str(home)
    load_ipython_extension(shell)
    magics = shell.magics_manager.registry["AssistantMagics"]
    nlu, mood = assistant_models
    magics.set_assistant(Assistant(namespace=lambda: shell.user_ns, nlu=nlu, mood=mood, now=Clock(),
                                   threshold=magics.settings.threshold))
    old_pub, shell.display_pub = shell.display_pub, CapturingDisplayPublisher()
    try:
        yield shell, home
    finally:
        shell.display_pub = old_pub
        unload_ipython_extension(shell)
        if old is None:
            os.environ.pop("JUPYTER_LLM_HOME", None)
        else:
            os.environ["JUPYTER_LLM_HOME"] = old


PHRASES = ["remind me to call Bob tomorrow at 3pm", "what's on my calendar this week", "note that",
           "add milk to my todo list", "cancel the dentist appointment", "undo", "help", "明天有什么安排",
           "every day at", "at 25:99", "on February 30", "in -3 hours", "\ud800"]
ASSISTANT_FLAGS = ["--yes", "--teach", "--explain", "--intent", "--threshold", "--seed", "-o", "-m", "nan",
                   "2", "-1", "add_todo", "lm", "'", '"']
messages = st.lists(st.one_of(st.sampled_from(PHRASES + ASSISTANT_FLAGS), st.text(max_size=8)),
                    max_size=5).map(" ".join)


@pytest.mark.timeout(TIMEOUT)
@budget(80)
@given(line=messages, cell=st.one_of(st.none(), st.text(max_size=20)))
@example(line="note that \ud800", cell=None)  # #12 item 8
def test_assistant_magic_lines(assistant_shell, line, cell):
    from IPython.core.error import UsageError

    shell, home = assistant_shell
    os.environ["JUPYTER_LLM_HOME"] = str(home)
    for call in ((lambda: shell.run_line_magic("assistant", line)) if cell is None
                 else (lambda: shell.run_cell_magic("assistant", line, cell)),
                 lambda: shell.run_line_magic("assistant", "what's on my calendar today")):
        try:
            call()  # the second: whatever the first did, %assistant still answers
        except UsageError as e:
            assert_short(str(e))


# === Training options ===

train_kwargs = st.fixed_dictionaries({}, optional={
    "epochs": _option(st.integers(-1, 2)),
    "validation_split": _option(st.floats(-0.5, 1.5)),
    "tokenizer": _option(st.sampled_from(["char", "word", "bpe", "nope"])),
    "max_vocab": _option(st.integers(-1, 300)),
    "min_freq": _option(st.integers(-1, 3)),
    "early_stopping": _option(st.integers(-1, 2)),
    "time_limit": _option(st.floats(-1, 30)),
    "learning_rate": _option(st.floats(0, 1e30)),
    "clipnorm": _option(st.floats(-1, 10)),
    "lr_schedule": _option(st.sampled_from(["constant", "cosine", "linear"])),
    "seq_len": _option(st.integers(-1, 40)),
    "batch_size": _option(st.integers(-1, 8)),
    "dropout": _option(st.floats(-0.5, 1.5)),
    "attention_window": _option(st.integers(-1, 40)),
    "seed": _option(st.integers(-1, 2**40)),
})


@pytest.mark.timeout(TIMEOUT)
@budget(6)
@given(train_kwargs)
@example({"learning_rate": 1e30})  # #12 item 3
def test_training_options(store_home, shakespeare_text, kwargs):
    import jupyter_llm as jl

    home, victim, bystander, pristine = store_home
    os.environ["JUPYTER_LLM_HOME"] = str(home)  # the autouse jl_home fixture restores it after the test
    before = _snapshot(bystander)
    for k in ("epochs", "seq_len", "batch_size", "max_vocab"):  # cheap runs: never more than a few steps
        v = kwargs.get(k)
        if isinstance(v, int) and not isinstance(v, bool):
            kwargs[k] = min(v, {"epochs": 2, "seq_len": 40, "batch_size": 8, "max_vocab": 300}[k])
    try:
        lm = jl.train(shakespeare_text[:3000], size="tiny", steps_per_epoch=2, progress=False, sample_tokens=0,
                      rnn_units=16, name="trained", overwrite=True, **kwargs)
    except JupyterLLMError as e:
        assert_short(str(e))
    else:
        assert isinstance(lm.generate("A", max_tokens=3, seed=0), str)
    assert _snapshot(bystander) == before, "another model changed"
