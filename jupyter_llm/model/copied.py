"""The copied-text index: which spans of a text occur verbatim in a model's training text.

Training records a compact fingerprint of the text it trained on (a
:class:`CopyIndex`, saved in the model folder as ``copied.json`` and
``copied.npy``); :meth:`LanguageModel.copied` asks it which spans of a text,
such as a generation, were copied from that text, and where they are in it.

The scheme
----------
The training text is cut into aligned *blocks* of :data:`BLOCK` (11)
characters (Unicode code points, so Chinese counts one a character), and each
block is kept only as an 8-bit hash: one byte per 11 characters, so the index
costs 1/11 of the text's characters (9.1% of tiny Shakespeare's bytes). The
text itself is not kept.

A query hashes the 11 characters starting at *every* position of the text and
looks up runs of :data:`CHAIN` (5) consecutive blocks: a run matches when the
query's five hashes at ``q, q+11, ..., q+44`` equal five consecutive blocks of
one training text. Runs of one alignment that overlap are joined into a span.

What is guaranteed
------------------
* Every span reported is made of at least ``ceil(min_chars / BLOCK)``
  consecutive whole blocks of the training text whose hashes all match, so it
  is at least ``min_chars`` long. ``min_chars`` is 66 by default (six blocks)
  and at least :data:`MIN_CHARS` = 55 (five). A span not really in the
  training text needs all those 8-bit hashes to agree by chance: about
  ``blocks * query length / 2**(8 * m)`` false spans per query for spans of
  ``m`` blocks. Against tiny Shakespeare (91,000 blocks), per 1,000-character
  query: 8e-5 with five blocks (one was found in the 13 million characters of
  Python's PEPs), 3e-7 with six (the default).
* Every passage of the query that occurs verbatim in the training text and is
  at least ``(m + 1) * BLOCK - 1`` characters long, where ``m`` is the number
  of blocks a span needs (``ceil(min_chars / BLOCK)``, at least ``CHAIN``),
  is found: with the default ``min_chars`` of 66, every copy of 76 characters
  or more (65 with ``min_chars=55``). Shorter copies are found when they
  happen to cover enough whole blocks.
* A span's bounds are those of the whole blocks inside the copy: the copy may
  go on up to ``BLOCK - 1`` (10) characters beyond each end of the span
  reported. ``source_offset`` is the copy's place in the training text, to the
  character (``source_offset - start`` is the same for the copy and the span).
* Hash collisions: each block is checked by its own 8 bits, so a block next to
  a copy that differs from the training text still matches 1 time in 256. A
  span's end then runs on by that one block (11 characters) past the copy (8
  ends in 2,000 in the benchmark), and two copies one edited block apart are
  joined across it. Everywhere else ``span.text`` is the training text at
  ``source_offset``.

Size
----
At most :data:`MAX_BLOCKS` blocks (10,000,000 bytes on disk, the blocks of 110
million characters). A longer training text gets longer blocks, the fewest
characters that keep it under the limit (each text's block length is in
:attr:`CopyIndex.segments`): a span needs as many blocks as before, so the
lengths above grow in proportion to the block (``(m + 1) * block - 1``).

Privacy
-------
The hashes do not let anyone read the training text back, but whoever holds
the model folder can test whether a passage they already have was in it (that
is what :meth:`find` does). Train with ``copy_index=False`` to keep no index
of private text.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from dataclasses import asdict, dataclass
from typing import Any, Iterable, Iterator, Sequence, overload

import numpy as np

from ..errors import CorruptModelError, NoCopyIndexError, invalid

__all__ = ["BLOCK", "CHAIN", "MIN_CHARS", "DEFAULT_MIN_CHARS", "MAX_BLOCKS", "CopiedSpan", "Copies", "CopyIndex", "Segment"]

#: Characters per block of the training text (one hash byte each). 11 keeps tiny Shakespeare's index under
#: 10% of its size with room for the header; shorter blocks would cross it.
BLOCK = 11
#: Consecutive blocks a span needs at least: five 8-bit hashes, 40 bits, make a chance match rare.
CHAIN = 5
#: The smallest ``min_chars`` allowed: ``CHAIN * BLOCK``.
MIN_CHARS = CHAIN * BLOCK
#: The default ``min_chars``: six blocks, 48 bits, so that a false span is rarer still (see the module's docstring).
DEFAULT_MIN_CHARS = 6 * BLOCK
#: The most blocks an index holds (one byte each on disk).
MAX_BLOCKS = 10_000_000
#: The places of one chain of blocks a query looks at: the first 16 in the training text. A passage found
#: more often than that (a refrain, a run of spaces) may be reported in pieces, each at one of those places.
MAX_OCCURRENCES = 16

FORMAT = "jupyter_llm.copy_index"
FORMAT_VERSION = 1
HASH = "fnv1a64-codepoints-splitmix-top8"
#: The files of the index in a model folder.
HEADER_FILE = "copied.json"
HASHES_FILE = "copied.npy"
FILES = (HEADER_FILE, HASHES_FILE)

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)


# === Results ===


@dataclass(frozen=True)
class CopiedSpan:
    """One span of a text found verbatim in the training text.

    Attributes:
        start, end: the span in the text asked about (``text[start:end]``), in characters.
        text: the span's characters.
        source_offset: where the span starts in the training text, in characters
            (for a model trained on several texts in turn, in their concatenation:
            see :attr:`CopyIndex.segments`).
    """

    start: int
    end: int
    text: str
    source_offset: int

    def __len__(self) -> int:
        return self.end - self.start


class Copies(Sequence[CopiedSpan]):
    """The spans of a text found in the training text, in the order of the text (a read-only sequence).

    Attributes:
        text: the text asked about.
        min_chars: the shortest span reported.
        guaranteed_chars: every copy at least this long is among the spans.
    """

    def __init__(self, spans: Iterable[CopiedSpan], text: str, min_chars: int, guaranteed_chars: int) -> None:
        self._spans = tuple(sorted(spans, key=lambda s: s.start))
        self.text = text
        self.min_chars = min_chars
        self.guaranteed_chars = guaranteed_chars

    @overload
    def __getitem__(self, i: int) -> CopiedSpan: ...
    @overload
    def __getitem__(self, i: slice) -> tuple[CopiedSpan, ...]: ...
    def __getitem__(self, i):
        return self._spans[i]

    def __len__(self) -> int:
        return len(self._spans)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Copies):
            return self._spans == other._spans
        if isinstance(other, (list, tuple)):
            return list(self._spans) == list(other)
        return NotImplemented

    @property
    def copied_chars(self) -> int:
        """How many characters of the text are in a span."""
        return sum(len(s) for s in self._spans)

    @property
    def fraction(self) -> float:
        """The share of the text's characters in a span (0 for an empty text)."""
        return self.copied_chars / len(self.text) if self.text else 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the spans, the text's length and the two lengths of the guarantee."""
        return {"version": 1, "chars": len(self.text), "min_chars": self.min_chars,
                "guaranteed_chars": self.guaranteed_chars, "spans": [asdict(s) for s in self._spans]}

    def __repr__(self) -> str:
        head = (f"Copies: {len(self)} span(s), {self.copied_chars:,} of {len(self.text):,} characters "
                f"({self.fraction:.0%}) found verbatim in the training text "
                f"(spans of >= {self.min_chars} characters; every copy of >= {self.guaranteed_chars} is found)")
        lines = [head]
        for s in self._spans[:20]:
            shown = s.text if len(s.text) <= 60 else s.text[:28] + " ... " + s.text[-27:]
            lines.append(f"  [{s.start}:{s.end}] at {s.source_offset:,} in the training text: {shown!r}")
        if len(self) > 20:
            lines.append(f"  ... and {len(self) - 20} more")
        return "\n".join(lines)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self))


# === The index ===


@dataclass(frozen=True)
class Segment:
    """One training text of the index (a model trained further adds one per new text).

    Attributes:
        description: what the text was (``"first 90% of 'tinyshakespeare.txt'"``).
        fingerprint: ``sha256:`` of its UTF-8 text.
        chars: its length in characters.
        offset: where it starts in the concatenation of the index's texts.
        block: its block length in characters (:data:`BLOCK` unless the text was too long for the limit).
        first_block, blocks: its blocks' range in :attr:`CopyIndex.hashes`.
    """

    description: str
    fingerprint: str
    chars: int
    offset: int
    block: int
    first_block: int
    blocks: int


class CopyIndex:
    """The hashed blocks of a model's training text, to find what a text copied from it.

    Build one with :meth:`build` (or :meth:`extended` for one more text), save it
    with :meth:`to_files`, read it with :meth:`from_files`, and ask it with
    :meth:`find`. See the module's docstring for the scheme and its guarantees.

    Attributes:
        segments: the texts indexed, in order.
        hashes: ``(blocks,)`` uint8, one hash per block, the segments' blocks one after another.
    """

    def __init__(self, segments: Sequence[Segment], hashes: np.ndarray) -> None:
        self.segments = tuple(segments)
        self.hashes = np.ascontiguousarray(hashes, dtype=np.uint8)
        self._lookup: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None

    # === Building ===

    @classmethod
    def empty(cls) -> "CopyIndex":
        """An index of no text (:meth:`extended` adds one)."""
        return cls((), np.zeros(0, np.uint8))

    @classmethod
    def build(cls, chunks: Iterable[str] | str, description: str = "text", size_hint: int | None = None) -> "CopyIndex":
        """The index of one text, given whole or as a stream of chunks.

        ``size_hint``: an upper bound on its length in characters (a file's size
        in bytes will do), to choose a longer block when the text would pass
        :data:`MAX_BLOCKS`; without one, the chunks are first gathered in a list
        to measure them.
        """
        return cls.empty().extended(chunks, description, size_hint)

    def extended(self, chunks: Iterable[str] | str, description: str = "text",
                 size_hint: int | None = None) -> "CopyIndex":
        """This index with one more text (the text a model was trained further on).

        A text already indexed (the same fingerprint) adds nothing: training on
        the same text again copies nothing new.
        """
        if isinstance(chunks, str):
            chunks = [chunks]
        if size_hint is None:
            chunks = list(chunks) if not isinstance(chunks, list) else chunks
            size_hint = sum(len(c) for c in chunks)
        room = max(1, MAX_BLOCKS - len(self.hashes))
        block = max(BLOCK, math.ceil(size_hint / room))
        digest = hashlib.sha256()
        parts: list[np.ndarray] = []
        carry = ""
        chars = 0
        for chunk in chunks:
            digest.update(chunk.encode("utf-8", "surrogatepass"))
            chars += len(chunk)
            text = carry + chunk
            whole = len(text) - len(text) % block
            if whole:
                parts.append(_block_hashes(_codepoints(text[:whole]).reshape(-1, block)))
            carry = text[whole:]
        fingerprint = "sha256:" + digest.hexdigest()
        if any(s.fingerprint == fingerprint for s in self.segments):
            return self
        new = np.concatenate(parts) if parts else np.zeros(0, np.uint8)
        new = new[: max(0, MAX_BLOCKS - len(self.hashes))]
        offset = sum(s.chars for s in self.segments)
        segment = Segment(description, fingerprint, chars, offset, block, len(self.hashes), len(new))
        return CopyIndex((*self.segments, segment), np.concatenate([self.hashes, new]))

    # === Saving ===

    @property
    def nbytes(self) -> int:
        """Its size on disk in bytes (both files)."""
        return sum(len(data) for data in self.to_files().values())

    def to_files(self) -> dict[str, bytes]:
        """The index as the files of a model folder: a JSON header and a plain uint8 ``.npy`` (no pickle)."""
        header = {"format": FORMAT, "format_version": FORMAT_VERSION, "hash": HASH, "chain": CHAIN,
                  "blocks": int(len(self.hashes)), "segments": [asdict(s) for s in self.segments]}
        buffer = io.BytesIO()
        np.save(buffer, self.hashes, allow_pickle=False)
        return {HEADER_FILE: json.dumps(header, indent=1).encode("utf-8"), HASHES_FILE: buffer.getvalue()}

    @classmethod
    def from_files(cls, files: dict[str, bytes], folder: Any = "the model") -> "CopyIndex":
        """Read the index saved by :meth:`to_files`; a damaged or unknown one is a CorruptModelError."""
        where = f"'{folder}/{HEADER_FILE}'"
        try:
            header = json.loads(files[HEADER_FILE].decode("utf-8"))
            hashes = np.load(io.BytesIO(files[HASHES_FILE]), allow_pickle=False)
        except (KeyError, ValueError, UnicodeDecodeError, OSError, EOFError):
            raise CorruptModelError(f"{where} or its {HASHES_FILE} cannot be read. Expected the copied-text "
                                    "index saved with the model.") from None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise CorruptModelError(f"{where} is not a copied-text index. Expected format '{FORMAT}'.")
        version = header.get("format_version")
        if not isinstance(version, int) or isinstance(version, bool) or version > FORMAT_VERSION:
            raise CorruptModelError(f"{where} has format_version {version!r}. Expected {FORMAT_VERSION} or older; "
                                    "upgrade jupyter_llm to read it.")
        if header.get("hash") != HASH or header.get("chain") != CHAIN:
            raise CorruptModelError(f"{where} uses hash {header.get('hash')!r} over chains of {header.get('chain')!r}. "
                                    f"Expected {HASH!r} over chains of {CHAIN}.")
        try:
            segments = [Segment(**s) for s in header["segments"]]
            ok = (hashes.dtype == np.uint8 and hashes.ndim == 1 and len(hashes) == header["blocks"]
                  and all(isinstance(getattr(s, f), int) and getattr(s, f) >= 0
                          for s in segments for f in ("chars", "offset", "block", "first_block", "blocks"))
                  and all(s.block >= 1 and s.first_block + s.blocks <= len(hashes) for s in segments))
        except (KeyError, TypeError):
            ok = False
        if not ok:
            raise CorruptModelError(f"{where} does not describe the blocks of its {HASHES_FILE}. Expected the "
                                    "index saved with the model.")
        return cls(segments, hashes)

    # === Asking ===

    def guaranteed_chars(self, min_chars: int = DEFAULT_MIN_CHARS) -> int:
        """Every copy at least this long is found by ``find(text, min_chars)`` (the longest block decides)."""
        block = max((s.block for s in self.segments), default=BLOCK)
        return (_blocks_needed(min_chars, block) + 1) * block - 1

    def find(self, text: str, min_chars: int = DEFAULT_MIN_CHARS) -> Copies:
        """The spans of ``text`` found verbatim in the training text (see the module's guarantees).

        Args:
            text: any string; Unicode code points are compared exactly (no case
                folding, no normalisation of spaces).
            min_chars: the shortest span reported: 66 by default, at least :data:`MIN_CHARS` (55).

        Returns:
            :class:`Copies`, the spans in the order of the text, none overlapping.
        """
        if not isinstance(text, str):
            raise invalid("text", "a str", type(text).__name__)
        if isinstance(min_chars, bool) or not isinstance(min_chars, (int, np.integer)) or min_chars < MIN_CHARS:
            raise invalid("min_chars", f"an integer >= {MIN_CHARS} (the index confirms a copy in blocks of "
                          f"{BLOCK} characters, {CHAIN} at least)", min_chars)
        min_chars = int(min_chars)
        candidates: list[tuple[int, int, int]] = []  # (start, end, source offset)
        cps = _codepoints(text) if text else np.zeros(0, np.uint64)
        for block, (keys, order, starts) in self._lookups().items():
            candidates += _spans_for(cps, block, keys, order, starts, _blocks_needed(min_chars, block))
        spans = [CopiedSpan(a, b, text[a:b], p) for a, b, p in _without_overlaps(candidates, min_chars)]
        return Copies(spans, text, min_chars, self.guaranteed_chars(min_chars))

    def _lookups(self) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Per block length: the sorted chain keys, the block each came from, and each block's text offset.

        Made on the first :meth:`find` (a sort of the index: ~10 ms for tiny Shakespeare).
        """
        if self._lookup is None:
            lookup: dict[int, tuple[list, list, list]] = {}
            for s in self.segments:
                keys, index, offsets = lookup.setdefault(s.block, ([], [], []))
                h = self.hashes[s.first_block: s.first_block + s.blocks]
                first = sum(len(o) for o in offsets)
                keys.append(_chain_keys(h))
                index.append(first + np.arange(len(keys[-1]), dtype=np.int64))
                offsets.append(s.offset + s.block * np.arange(s.blocks, dtype=np.int64))
            self._lookup = {}
            for block, (keys, index, offsets) in lookup.items():
                k, i = np.concatenate(keys), np.concatenate(index)
                order = np.argsort(k, kind="stable")
                k, i = k[order], i[order]
                # The first MAX_OCCURRENCES places of each chain (repetitive text would otherwise make a
                # query of "      ..." meet every block).
                new = np.concatenate([[True], k[1:] != k[:-1]]) if len(k) else np.zeros(0, bool)
                first = np.maximum.accumulate(np.where(new, np.arange(len(k)), 0))
                kept = np.arange(len(k)) - first < MAX_OCCURRENCES
                self._lookup[block] = (k[kept], i[kept], np.concatenate(offsets))
        return self._lookup

    def __repr__(self) -> str:
        chars = sum(s.chars for s in self.segments)
        return (f"CopyIndex({len(self.segments)} text(s), {chars:,} characters in {len(self.hashes):,} blocks, "
                f"{self.nbytes:,} bytes)")


# === For LanguageModel (its copy_index and copied) ===


def files_of(files: dict[str, bytes], folder: Any) -> tuple[dict[str, bytes], Any] | None:
    """``(the index's files, folder)`` among a model folder's files, to read on first use; None when it has none."""
    found = {name: files[name] for name in FILES if name in files}
    return (found, folder) if found else None


def index_of(value: Any, check: bool = False) -> CopyIndex | None:
    """A CopyIndex from what a model holds: the index, None, or the ``(files, folder)`` of :func:`files_of`.

    ``check``: ``value`` was given by the user (``lm.copy_index = ...``): refuse anything else in one sentence.
    """
    if check and value is not None and not isinstance(value, CopyIndex):
        raise invalid("copy_index", "a CopyIndex or None", type(value).__name__)
    return CopyIndex.from_files(*value) if isinstance(value, tuple) else value


def copied(lm: Any, text: str, min_chars: int = DEFAULT_MIN_CHARS) -> Copies:
    """:meth:`LanguageModel.copied`: ask the model's index, or say in one sentence that it has none."""
    return require_index(lm).find(text, min_chars)


def require_index(lm: Any) -> CopyIndex:
    """The model's index; :class:`~jupyter_llm.NoCopyIndexError`, in one sentence, when it has none."""
    index = lm.copy_index
    if index is None:
        name = f"'{lm.name}'" if lm.name else "This model"
        raise NoCopyIndexError(
            f"{name} has no copied-text index (it was trained with copy_index=False, or by a jupyter_llm from "
            "before there was one). Expected a model trained with copy_index=True, the default, or an index "
            "given with lm.copy_index = jl.CopyIndex.build(training_text).")
    return index


# === The hashing (the format: changing it needs a new HASH name) ===


def _codepoints(text: str) -> np.ndarray:
    """The code points of ``text`` as ``(len(text),)`` uint64 (lone surrogates too)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(np.uint64)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every input bit moves the top byte."""
    h = h ^ (h >> np.uint64(30))
    h = h * np.uint64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> np.uint64(27))
    h = h * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def _block_hashes(blocks: np.ndarray) -> np.ndarray:
    """``(n, block)`` code points to ``(n,)`` uint8: FNV-1a over the code points, mixed, the top byte."""
    with np.errstate(over="ignore"):
        h = np.full(blocks.shape[0], _FNV_OFFSET, dtype=np.uint64)
        for j in range(blocks.shape[1]):
            h = (h ^ blocks[:, j]) * _FNV_PRIME
        return (_mix(h) >> np.uint64(56)).astype(np.uint8)


def _sliding_hashes(cps: np.ndarray, block: int) -> np.ndarray:
    """The hash of the ``block`` characters starting at each position: ``(len(cps) - block + 1,)`` uint8."""
    n = len(cps) - block + 1
    with np.errstate(over="ignore"):
        h = np.full(n, _FNV_OFFSET, dtype=np.uint64)
        for j in range(block):
            h = (h ^ cps[j: j + n]) * _FNV_PRIME
        return (_mix(h) >> np.uint64(56)).astype(np.uint8)


def _chain_keys(hashes: np.ndarray, step: int = 1) -> np.ndarray:
    """The 40-bit keys of :data:`CHAIN` hashes ``step`` apart: ``(len(hashes) - (CHAIN - 1) * step,)`` int64."""
    n = len(hashes) - (CHAIN - 1) * step
    if n <= 0:
        return np.zeros(0, np.int64)
    key = np.zeros(n, np.int64)
    for t in range(CHAIN):
        key = (key << 8) | hashes[t * step: t * step + n].astype(np.int64)
    return key


def _blocks_needed(min_chars: int, block: int) -> int:
    """Blocks a span needs: those ``min_chars`` takes in blocks of BLOCK characters (the same evidence, in
    bits, whatever the block length), at least CHAIN."""
    return max(CHAIN, -(-min_chars // BLOCK))


def _spans_for(cps: np.ndarray, block: int, keys: np.ndarray, order: np.ndarray, offsets: np.ndarray,
               need: int) -> list[tuple[int, int, int]]:
    """The spans of ``need`` blocks or more: ``(start, end, source offset)``, one per alignment and run."""
    if len(cps) < CHAIN * block or not len(keys):
        return []
    query = _chain_keys(_sliding_hashes(cps, block), step=block)  # (n - CHAIN * block + 1,)
    lo = np.searchsorted(keys, query, side="left")
    hi = np.searchsorted(keys, query, side="right")
    counts = hi - lo
    if not counts.any():
        return []
    q = np.repeat(np.arange(len(query), dtype=np.int64), counts)
    at = np.repeat(lo, counts) + (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts))
    p = offsets[order[at]]  # the text offset of each matching chain's first block
    d = p - q
    # Chains of one alignment (d) whose starts are one block apart overlap: one run, one span.
    idx = np.lexsort((q, d))
    q, d = q[idx], d[idx]
    breaks = np.flatnonzero((np.diff(d) != 0) | (np.diff(q) != block)) + 1
    firsts = np.concatenate([[0], breaks])
    lasts = np.concatenate([breaks - 1, [len(q) - 1]])
    keep = (q[lasts] - q[firsts]) // block + CHAIN >= need
    starts, ends = q[firsts[keep]], q[lasts[keep]] + CHAIN * block
    return list(zip(starts.tolist(), ends.tolist(), (starts + d[firsts[keep]]).tolist()))


def _without_overlaps(spans: list[tuple[int, int, int]], min_chars: int) -> Iterator[tuple[int, int, int]]:
    """The longest spans first (then the earliest in the training text), each cut to what is left uncovered.

    A part of a confirmed span is confirmed too, so a span cut short keeps its
    alignment; what is left below ``min_chars`` is dropped.
    """
    taken: list[tuple[int, int]] = []
    for start, end, offset in sorted(spans, key=lambda s: (s[0] - s[1], s[2], s[0])):
        for a, b in _uncovered(start, end, taken):
            if b - a >= min_chars:
                taken.append((a, b))
                yield a, b, offset + (a - start)


def _uncovered(start: int, end: int, taken: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """The parts of ``[start, end)`` outside every interval of ``taken``, longest first."""
    parts = [(start, end)]
    for a, b in taken:
        parts = [piece for s, e in parts for piece in ((s, min(e, a)), (max(s, b), e)) if piece[1] > piece[0]]
    yield from sorted(parts, key=lambda r: r[0] - r[1])
