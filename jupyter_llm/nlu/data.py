"""Training data for the intent and slot model, in three formats.

* **Markdown** (the format Rasa users know), examples grouped by intent, slot
  values in brackets followed by the slot name::

      ## intent:add_reminder
      - remind me to [call Bob](task) [tomorrow at 3pm](time)
      - 提醒我[明天下午3点](time)[给妈妈打电话](task)

* **A DataFrame** with a text and an intent column, and optionally a spans
  column (a list of ``(start, end, slot)`` per row) or Markdown-annotated text.

* **The benchmark format of ATIS and SNIPS**: a folder with ``train/``,
  ``valid/`` and ``test/``, each holding ``seq.in`` (space-separated tokens,
  one utterance a line), ``seq.out`` (one BIO tag per token) and ``label``
  (one intent a line).

All three become an :class:`NLUDataset` of :class:`Example`: tokens, one BIO
tag per token and an intent.

>>> data = NLUDataset.from_markdown('''
... ## intent:add_todo
... - add [buy milk](task) to my list
... ''')
>>> data[0].tokens, data[0].tags
(('add', 'buy', 'milk', 'to', 'my', 'list'), ('O', 'B-task', 'I-task', 'O', 'O', 'O'))
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DataError, invalid
from .tokenize import tokenize

__all__ = [
    "Example",
    "NLUDataset",
    "load_bio_dataset",
    "load_markdown",
    "from_dataframe",
    "parse_annotated",
    "spans_from_tags",
    "SPLITS",
]

#: The splits of a benchmark folder, and the other names their folders may have.
SPLITS = {"train": ("train",), "valid": ("valid", "dev", "validation"), "test": ("test",)}

# [value](slot), [value](slot:synonym) and Rasa 2's [value]{"entity": "slot", ...}
_ANNOTATION = re.compile(r"\[([^\[\]]+)\](?:\(([^()]+)\)|(\{[^{}]*\}))")
_SLOT_NAME = re.compile(r"^[^\s\[\](){}]+$")


@dataclass(frozen=True)
class Example:
    """One utterance: its tokens, one BIO tag per token and its intent.

    Attributes:
        tokens: the words, shape ``(T,)``.
        tags: ``"O"``, ``"B-slot"`` or ``"I-slot"`` for each token, shape ``(T,)``.
        intent: the intent's name.
        text: the utterance as written (None for the benchmark format, whose
            tokens are joined by spaces).
        offsets: ``(start, end)`` of each token in ``text``.
    """

    tokens: tuple[str, ...]
    tags: tuple[str, ...]
    intent: str
    text: str | None = None
    offsets: tuple[tuple[int, int], ...] | None = None

    def __post_init__(self) -> None:
        if len(self.tokens) != len(self.tags):
            raise DataError(
                f"An example has {len(self.tokens)} tokens but {len(self.tags)} tags. "
                f"Expected one tag per token. Received: {' '.join(self.tokens)!r}"
            )
        for tag in self.tags:
            if tag != "O" and not (tag[:2] in ("B-", "I-") and len(tag) > 2):
                raise DataError(f"Invalid slot tag {tag!r}. Expected 'O', 'B-<slot>' or 'I-<slot>'.")

    @property
    def utterance(self) -> str:
        """The text (or the tokens joined by spaces, Chinese characters without)."""
        return self.text if self.text is not None else join_tokens(self.tokens)

    @classmethod
    def from_spans(cls, text: str, intent: str, spans: Iterable[Any] = (), zh: str = "char") -> "Example":
        """Tokenize ``text`` and tag the characters ``[start, end)`` of each span.

        ``spans`` holds ``(start, end, slot)`` tuples or dicts with ``start``,
        ``end`` and ``slot`` (or ``entity``). Tokens are cut at span
        boundaries, so a slot never starts or ends inside a word.
        """
        norm = sorted(_norm_span(s, text) for s in spans)
        for (s1, e1, n1), (s2, _, n2) in zip(norm, norm[1:]):
            if s2 < e1:
                raise DataError(f"The slots {n1!r} and {n2!r} overlap in {text!r}. Expected separate spans.")
        tokens, tags, offsets = [], [], []
        pos = 0
        for start, end, name in norm + [(len(text), len(text), None)]:
            for tok in tokenize(text[pos:start], zh, offset=pos):
                tokens.append(tok.text), tags.append("O"), offsets.append((tok.start, tok.end))
            if name is not None:
                inside = tokenize(text[start:end], zh, offset=start)
                if not inside:
                    raise DataError(f"The slot {name!r} of {text!r} is empty. Expected a value in the brackets.")
                for k, tok in enumerate(inside):
                    tokens.append(tok.text), offsets.append((tok.start, tok.end))
                    tags.append(("B-" if k == 0 else "I-") + name)
            pos = end
        if not tokens:
            raise DataError(f"An example of intent {intent!r} is empty. Expected some words.")
        return cls(tuple(tokens), tuple(tags), intent, text, tuple(offsets))

    @classmethod
    def from_markdown(cls, line: str, intent: str, zh: str = "char") -> "Example":
        """An example from one Markdown-annotated line: ``remind me to [call Bob](task)``."""
        text, spans = parse_annotated(line)
        return cls.from_spans(text, intent, spans, zh)

    def slots(self) -> list[tuple[str, str]]:
        """The ``(slot, value)`` pairs of the tags, in order."""
        out = []
        for name, i, j in spans_from_tags(self.tags):
            if self.text is not None and self.offsets is not None:
                value = self.text[self.offsets[i][0]:self.offsets[j - 1][1]]
            else:
                value = join_tokens(self.tokens[i:j])
            out.append((name, value))
        return out

    def to_markdown(self) -> str:
        """The example as one Markdown-annotated line (without the leading ``- ``)."""
        text = self.utterance
        offsets = self.offsets or _space_offsets(self.tokens)
        out, pos = [], 0
        for name, i, j in spans_from_tags(self.tags):
            start, end = offsets[i][0], offsets[j - 1][1]
            out.append(text[pos:start] + f"[{text[start:end]}]({name})")
            pos = end
        return "".join(out) + text[pos:]


def _needs_space(left: str, right: str) -> bool:
    from .tokenize import is_cjk

    return not (is_cjk(left[-1]) or is_cjk(right[0]))


def join_tokens(tokens: Sequence[str]) -> str:
    """Tokens joined by spaces, except next to Chinese (Japanese, Korean) characters.

    >>> join_tokens(["call", "Bob", "明", "天"])
    'call Bob明天'
    """
    out = ""
    for tok in tokens:
        out += (" " if out and _needs_space(out, tok) else "") + tok
    return out


def _space_offsets(tokens: Sequence[str]) -> tuple[tuple[int, int], ...]:
    out, pos, text = [], 0, ""
    for tok in tokens:
        if text and _needs_space(text, tok):
            pos += 1
            text += " "
        out.append((pos, pos + len(tok)))
        pos += len(tok)
        text += tok
    return tuple(out)


def _norm_span(span: Any, text: str) -> tuple[int, int, str]:
    if isinstance(span, dict):
        start, end = span.get("start"), span.get("end")
        name = span.get("slot", span.get("entity"))
    else:
        try:
            start, end, name = span
        except (TypeError, ValueError):
            raise invalid("spans", "(start, end, slot) tuples or dicts with start, end and slot", span) from None
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
        raise DataError(f"The span {span!r} does not fit {text!r}. Expected 0 <= start < end <= {len(text)}.")
    if not isinstance(name, str) or not _SLOT_NAME.match(name):
        raise DataError(f"Invalid slot name {name!r} in {text!r}. Expected a name without spaces or brackets.")
    return start, end, name


def parse_annotated(line: str) -> tuple[str, list[tuple[int, int, str]]]:
    """The plain text of a Markdown-annotated line and its ``(start, end, slot)`` spans.

    >>> parse_annotated("call [Bob](person) [now](time)")
    ('call Bob now', [(5, 8, 'person'), (9, 12, 'time')])
    """
    text, spans, pos = [], [], 0
    length = 0
    for m in _ANNOTATION.finditer(line):
        before = line[pos:m.start()]
        text.append(before)
        length += len(before)
        value = m.group(1)
        if m.group(2) is not None:
            name = m.group(2).split(":", 1)[0].strip()
        else:
            try:
                name = json.loads(m.group(3)).get("entity")
            except (ValueError, AttributeError):
                name = None
        if not isinstance(name, str) or not _SLOT_NAME.match(name):
            raise DataError(f"Invalid slot annotation {m.group(0)!r}. Expected [value](slot_name).")
        # Spaces just inside the brackets belong to the text, not to the slot.
        lead = len(value) - len(value.lstrip())
        core = value.strip()
        if not core:
            raise DataError(f"The slot annotation {m.group(0)!r} is empty. Expected [value](slot_name).")
        spans.append((length + lead, length + lead + len(core), name))
        text.append(value)
        length += len(value)
        pos = m.end()
    text.append(line[pos:])
    plain = "".join(text)
    if "](" in plain:
        raise DataError(f"Unbalanced slot annotation in {line!r}. Expected [value](slot_name).")
    return plain, spans


def spans_from_tags(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """The slots of a BIO tag sequence as ``(slot, start, end)`` token ranges.

    Follows conlleval: an ``I-x`` after ``O`` or after a tag of another slot
    starts a new span.

    >>> spans_from_tags(["O", "B-a", "I-a", "I-b", "O", "I-a"])
    [('a', 1, 3), ('b', 3, 4), ('a', 5, 6)]
    """
    from .metrics import chunks

    return chunks(tags)


class NLUDataset(Sequence[Example]):
    """A list of :class:`Example` with the intents and slots it holds.

    Build one with :meth:`from_markdown`, :meth:`from_dataframe`,
    :func:`load_bio_dataset` or from a list of examples.
    """

    def __init__(self, examples: Iterable[Example], name: str | None = None) -> None:
        self.examples: list[Example] = list(examples)
        for ex in self.examples:
            if not isinstance(ex, Example):
                raise invalid("examples", "Example objects", type(ex).__name__)
        self.name = name

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return NLUDataset(self.examples[index], self.name)
        return self.examples[index]

    def __iter__(self) -> Iterator[Example]:
        return iter(self.examples)

    def __add__(self, other: "NLUDataset") -> "NLUDataset":
        return NLUDataset(self.examples + list(other), self.name)

    def __repr__(self) -> str:
        name = f" {self.name!r}" if self.name else ""
        return (f"NLUDataset{name}({len(self)} examples, {len(self.intents)} intents, "
                f"{len(self.slot_names)} slot types)")

    @property
    def intents(self) -> list[str]:
        """The intents, sorted."""
        return sorted({ex.intent for ex in self.examples})

    @property
    def slot_names(self) -> list[str]:
        """The slot types, sorted."""
        return sorted({t[2:] for ex in self.examples for t in ex.tags if t != "O"})

    @property
    def tags(self) -> list[str]:
        """Every BIO tag, ``"O"`` first."""
        return ["O"] + [f"{p}-{s}" for s in self.slot_names for p in ("B", "I")]

    def counts(self) -> dict[str, int]:
        """How many examples each intent has."""
        return dict(sorted(Counter(ex.intent for ex in self.examples).items()))

    def fingerprint(self) -> str:
        """A short hash of the examples: it changes when any example changes."""
        h = hashlib.sha256()
        for ex in self.examples:
            h.update(json.dumps([ex.intent, ex.tokens, ex.tags], ensure_ascii=False).encode())
        return h.hexdigest()[:16]

    def split(self, test_fraction: float = 0.2, seed: int = 0) -> tuple["NLUDataset", "NLUDataset"]:
        """``(train, held_out)``: ``test_fraction`` of each intent's examples held out.

        The split is deterministic for a seed; an intent with a single example
        stays entirely in ``train``.
        """
        if not 0.0 < test_fraction < 1.0:
            raise invalid("test_fraction", "a number in (0, 1)", test_fraction)
        by_intent: dict[str, list[Example]] = {}
        for ex in self.examples:
            by_intent.setdefault(ex.intent, []).append(ex)
        rng = random.Random(seed)
        train, test = [], []
        for intent in sorted(by_intent):
            items = list(by_intent[intent])
            rng.shuffle(items)
            k = int(round(len(items) * test_fraction)) if len(items) > 1 else 0
            test += items[:k]
            train += items[k:]
        return NLUDataset(train, self.name), NLUDataset(test, self.name)

    def augment(self, copies: int = 3, seed: int = 0) -> "NLUDataset":
        """The examples plus ``copies`` variants of each with its slot values swapped.

        Each variant replaces every slot value with a value of the same slot
        taken from another example in the same script (Chinese values into
        Chinese examples): "remind me to [call Bob](task)" may become "remind
        me to [water the plants](task)". Small datasets generalise much better
        to new values this way. Examples without slots are not copied.
        """
        from .tokenize import has_cjk

        rng = random.Random(seed)
        pools: dict[tuple[str, bool], list[tuple[str, ...]]] = {}
        for ex in self.examples:
            for name, i, j in spans_from_tags(ex.tags):
                value = tuple(ex.tokens[i:j])
                pools.setdefault((name, has_cjk("".join(value))), []).append(value)
        out = list(self.examples)
        for ex in self.examples:
            spans = spans_from_tags(ex.tags)
            if not spans:
                continue
            cjk = has_cjk(ex.utterance)
            for _ in range(copies):
                tokens: list[str] = []
                tags: list[str] = []
                pos = 0
                for name, i, j in spans:
                    tokens += ex.tokens[pos:i]
                    tags += ex.tags[pos:i]
                    pool = pools.get((name, cjk)) or [tuple(ex.tokens[i:j])]
                    value = rng.choice(pool)
                    tokens += value
                    tags += [("B-" if k == 0 else "I-") + name for k in range(len(value))]
                    pos = j
                tokens += ex.tokens[pos:]
                tags += ex.tags[pos:]
                out.append(Example(tuple(tokens), tuple(tags), ex.intent))
        return NLUDataset(out, self.name)

    def to_markdown(self) -> str:
        """The examples in the Markdown format, grouped by intent."""
        lines = []
        for intent in self.intents:
            lines.append(f"## intent:{intent}")
            lines += [f"- {ex.to_markdown()}" for ex in self.examples if ex.intent == intent]
            lines.append("")
        return "\n".join(lines)

    def to_dataframe(self):
        """A DataFrame with ``text``, ``intent``, ``tokens`` and ``tags`` columns."""
        import pandas as pd

        return pd.DataFrame({
            "text": [ex.utterance for ex in self.examples],
            "intent": [ex.intent for ex in self.examples],
            "tokens": [list(ex.tokens) for ex in self.examples],
            "tags": [list(ex.tags) for ex in self.examples],
        })

    # === Loaders ===

    @classmethod
    def from_markdown(cls, source: str | os.PathLike, zh: str = "char") -> "NLUDataset":
        return load_markdown(source, zh=zh)

    @classmethod
    def from_dataframe(cls, df: Any, text: str = "text", intent: str = "intent",
                       spans: str | None = "spans", zh: str = "char") -> "NLUDataset":
        return from_dataframe(df, text=text, intent=intent, spans=spans, zh=zh)

    @classmethod
    def from_any(cls, data: Any, zh: str = "char") -> "NLUDataset":
        """A dataset from whatever a user may pass to training.

        An :class:`NLUDataset`, a list of :class:`Example` or of ``(text, intent)``
        pairs, a pandas DataFrame, a Markdown string, or the path of a Markdown
        file or of a benchmark split folder (holding ``seq.in``).
        """
        if isinstance(data, NLUDataset):
            return data
        if isinstance(data, (str, os.PathLike)):
            text = str(data)
            if isinstance(data, os.PathLike) or ("\n" not in text and len(text) < 4096 and os.path.exists(text)):
                path = Path(text).expanduser()
                if path.is_dir():
                    if (path / "seq.in").is_file():
                        return _read_bio_split(path)
                    raise DataError(
                        f"'{path}' is a folder without seq.in. Expected a benchmark split folder "
                        "(seq.in, seq.out, label); pass load_bio_dataset(path)['train'] for a whole benchmark."
                    )
                return load_markdown(path, zh=zh)
            return load_markdown(text, zh=zh)
        if hasattr(data, "columns") and hasattr(data, "iterrows"):
            return from_dataframe(data, zh=zh)
        if isinstance(data, (list, tuple)):
            out = []
            for item in data:
                if isinstance(item, Example):
                    out.append(item)
                elif isinstance(item, (list, tuple)) and len(item) == 2 and all(isinstance(x, str) for x in item):
                    out.append(Example.from_markdown(item[0], item[1], zh))
                else:
                    raise invalid("data", "Examples or (text, intent) pairs", item)
            return NLUDataset(out)
        raise invalid("data", "an NLUDataset, a DataFrame, Markdown text or a path", type(data).__name__)


# === Markdown ===

def load_markdown(source: str | os.PathLike, zh: str = "char") -> NLUDataset:
    """Examples from Markdown text or a ``.md`` file (the Rasa NLU format).

    ``## intent:NAME`` (or ``## NAME``) starts an intent; each ``- `` line is one
    example. Sections ``## synonym:``, ``## regex:`` and ``## lookup:`` are
    skipped, as are HTML comments.
    """
    name = None
    if isinstance(source, os.PathLike) or ("\n" not in source and os.path.isfile(source)):
        path = Path(source).expanduser()
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise DataError(f"Cannot read '{path}' ({e.__class__.__name__}). Expected a UTF-8 Markdown file.") from None
        name = path.stem
    else:
        text = source
    text = re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)
    examples, intent, skipping = [], None, False
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("#"):
            header = line.lstrip("#").strip()
            kind, _, value = header.partition(":")
            if value and kind.strip() in ("synonym", "regex", "lookup"):
                skipping = True
                continue
            intent = (value if value and kind.strip() == "intent" else header).strip()
            skipping = False
            if not intent or " " in intent:
                raise DataError(f"Line {number}: invalid intent header {raw!r}. Expected '## intent:name'.")
            continue
        if skipping or not line or line[0] not in "-*+" or len(line) < 2:
            continue
        if intent is None:
            raise DataError(f"Line {number}: the example {line!r} comes before any intent. Expected '## intent:name' first.")
        try:
            examples.append(Example.from_markdown(line[1:].strip(), intent, zh))
        except DataError as e:
            raise DataError(f"Line {number}: {e}") from None
    if not examples:
        raise DataError("The Markdown holds no examples. Expected '## intent:name' followed by '- example' lines.")
    return NLUDataset(examples, name)


# === DataFrame ===

def from_dataframe(df: Any, text: str = "text", intent: str = "intent",
                   spans: str | None = "spans", zh: str = "char") -> NLUDataset:
    """Examples from a DataFrame with a text and an intent column.

    Slots come from the ``spans`` column when it exists (each cell a list of
    ``(start, end, slot)`` or of dicts, or empty), else from Markdown
    annotations in the text (``[Bob](person)``); a text without either has no slots.
    """
    for col, arg in ((text, "text"), (intent, "intent")):
        if col not in df.columns:
            raise invalid(arg, f"a column of the DataFrame ({', '.join(map(str, df.columns))})", col)
    has_spans = spans is not None and spans in df.columns
    examples = []
    for row_number, (_, row) in enumerate(df.iterrows()):
        value, label = row[text], row[intent]
        if not isinstance(value, str) or not isinstance(label, str) or not value.strip() or not label.strip():
            raise DataError(f"Row {row_number} has text={value!r}, intent={label!r}. Expected two non-empty strings.")
        cell = row[spans] if has_spans else None
        if isinstance(cell, (list, tuple)) and len(cell):
            examples.append(Example.from_spans(value, label.strip(), cell, zh))
        else:
            examples.append(Example.from_markdown(value, label.strip(), zh))
    if not examples:
        raise DataError("The DataFrame has no rows. Expected at least one example.")
    return NLUDataset(examples)


# === Benchmark folders (ATIS, SNIPS) ===

def load_bio_dataset(path: str | os.PathLike) -> dict[str, NLUDataset]:
    """The splits of a benchmark folder in the ATIS/SNIPS format.

    ``path`` holds ``train/``, ``valid/`` (or ``dev/``) and ``test/``, each with
    ``seq.in``, ``seq.out`` and ``label``. Returns ``{"train": ..., "valid": ...,
    "test": ...}`` with the splits that exist (``train`` is required).
    ``BOS``/``EOS`` markers some copies of ATIS carry are removed.
    """
    root = Path(path).expanduser()
    if not root.is_dir():
        raise DataError(f"No benchmark folder at '{root}'. Expected a folder with train/, valid/ and test/.")
    out = {}
    for split, names in SPLITS.items():
        for folder_name in names:
            folder = root / folder_name
            if (folder / "seq.in").is_file():
                out[split] = _read_bio_split(folder, name=f"{root.name}/{split}")
                break
    if "train" not in out:
        raise DataError(f"'{root}' has no train/seq.in. Expected train/, valid/ and test/ folders "
                        "each holding seq.in, seq.out and label.")
    return out


def _read_lines(path: Path) -> list[str]:
    if not path.is_file():
        raise DataError(f"'{path}' is missing. Expected seq.in, seq.out and label in '{path.parent}'.")
    try:
        text = path.read_text("utf-8")
    except UnicodeDecodeError:
        raise DataError(f"'{path}' is not UTF-8 text. Expected UTF-8.") from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.rstrip("\r") for line in lines]


def _read_bio_split(folder: Path, name: str | None = None) -> NLUDataset:
    seq_in, seq_out, labels = (_read_lines(folder / f) for f in ("seq.in", "seq.out", "label"))
    if not (len(seq_in) == len(seq_out) == len(labels)):
        raise DataError(
            f"'{folder}' has {len(seq_in)} lines in seq.in, {len(seq_out)} in seq.out and {len(labels)} in label. "
            "Expected one line per utterance in each."
        )
    examples = []
    for number, (words, tags, label) in enumerate(zip(seq_in, seq_out, labels), 1):
        words_l, tags_l = words.split(), tags.split()
        if words_l and words_l[0] == "BOS":  # the tag of BOS, when there is one, goes too
            tags_l = tags_l[1:] if len(tags_l) == len(words_l) else tags_l
            words_l = words_l[1:]
        if words_l and words_l[-1] == "EOS":
            tags_l = tags_l[:-1] if len(tags_l) == len(words_l) else tags_l
            words_l = words_l[:-1]
        if len(words_l) != len(tags_l):
            raise DataError(f"'{folder}' line {number}: {len(words_l)} tokens in seq.in but {len(tags_l)} tags "
                            "in seq.out. Expected one tag per token.")
        if not words_l or not label.strip():
            raise DataError(f"'{folder}' line {number} is empty. Expected tokens, tags and an intent.")
        try:
            examples.append(Example(tuple(words_l), tuple(tags_l), label.strip()))
        except DataError as e:
            raise DataError(f"'{folder}' line {number}: {e}") from None
    return NLUDataset(examples, name or folder.name)
