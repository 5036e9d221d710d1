"""Where training text comes from: one :class:`TextSource` for every kind of input.

A source is an ordered list of *documents* (strings in memory, or files or
byte ranges of files on disk) read as a stream of text chunks, so that a file
larger than memory is never read whole. Documents are joined with a newline.

>>> src = TextSource.from_any(["first document", "second one"])
>>> src.read_text()
'first document\\nsecond one'
>>> train, val = src.split(0.5)
"""

from __future__ import annotations

import codecs
import dataclasses
import glob as _glob
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..errors import DataError, invalid

#: Sources on disk larger than this are streamed through tf.data instead of
#: being encoded in memory (override with JUPYTER_LLM_STREAM_THRESHOLD, bytes).
DEFAULT_STREAM_THRESHOLD = 256 * 2**20
CHUNK_BYTES = 1 << 20
SEPARATOR = "\n"

_PATHLIKE = re.compile(r"^(~|\.{1,2}[\\/]|[\\/])|[*?\[]|\.[A-Za-z0-9]{1,6}$")


def stream_threshold() -> int:
    value = os.environ.get("JUPYTER_LLM_STREAM_THRESHOLD")
    return int(value) if value else DEFAULT_STREAM_THRESHOLD


@dataclass(frozen=True)
class _Text:
    text: str

    @property
    def nbytes(self) -> int:
        return len(self.text)

    def chunks(self, chunk_chars: int) -> Iterator[str]:
        for i in range(0, len(self.text), chunk_chars):
            yield self.text[i : i + chunk_chars]

    def slice(self, start: float, end: float) -> "_Text":
        n = len(self.text)
        return _Text(self.text[int(n * start) : int(n * end)])


@dataclass(frozen=True)
class _File:
    """A byte range ``[start, end)`` of a text file (``end=None``: to the end)."""

    path: Path
    encoding: str = "utf-8"
    start: int = 0
    end: int | None = None

    @property
    def nbytes(self) -> int:
        end = self.end if self.end is not None else self.path.stat().st_size
        return max(0, end - self.start)

    def chunks(self, chunk_chars: int) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder(self.encoding)(errors="strict")
        remaining = self.nbytes
        offset = self.start
        with open(self.path, "rb") as f:
            f.seek(self.start)
            while remaining > 0:
                raw = f.read(min(CHUNK_BYTES, remaining))
                if not raw:
                    break
                remaining -= len(raw)
                nul = raw.find(b"\x00")
                if nul >= 0 and self.encoding.replace("-", "").lower() in ("utf8", "ascii", "latin1"):
                    raise DataError(
                        f"File '{self.path}' looks binary, not text: it has a NUL byte at "
                        f"offset {offset + nul}. Expected a UTF-8 text file."
                    )
                try:
                    text = decoder.decode(raw, final=remaining == 0)
                except UnicodeDecodeError as e:
                    raise DataError(
                        f"File '{self.path}' is not valid {self.encoding} text: the byte at offset "
                        f"{offset + e.start} cannot be decoded. Expected {self.encoding} text; pass "
                        f"encoding='...' if the file uses another encoding."
                    ) from None
                offset += len(raw)
                if text:
                    yield text

    def slice(self, start: float, end: float) -> "_File":
        total = self.nbytes
        a = self.start + _char_boundary(self.path, self.start + int(total * start)) - self.start
        b = self.start + _char_boundary(self.path, self.start + int(total * end)) - self.start
        return _File(self.path, self.encoding, a, b)


@dataclass(frozen=True)
class _JsonLines(_File):
    """A byte range of a JSON Lines file (``.jsonl``): the ``"text"`` of each record, one document a line.

    Each line is a JSON object with a ``"text"`` string (the shape large corpora
    are shared in) or a JSON string; blank lines are skipped. Byte ranges start
    and end at line starts, so a record is never cut.
    """

    field: str = "text"

    def chunks(self, chunk_chars: int) -> Iterator[str]:
        pending, offset = "", self.start
        for text in super().chunks(chunk_chars):
            lines = (pending + text).split("\n")
            pending = lines.pop()
            out = []
            for line in lines:
                out.append(self._record(line, offset))
                offset += len(line.encode(self.encoding)) + 1
            if any(out):
                yield "".join(out)
        if pending.strip():
            yield self._record(pending, offset)

    def _record(self, line: str, offset: int) -> str:
        if not line.strip():
            return ""
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        text = record.get(self.field) if isinstance(record, dict) else record
        if not isinstance(text, str):
            raise DataError(f"'{self.path}' has a line that is not a JSON object with a \"{self.field}\" string, at "
                            f"byte {offset}. Expected JSON Lines: one {{\"{self.field}\": \"...\"}} per line.")
        return text + "\n"

    def slice(self, start: float, end: float) -> "_JsonLines":
        total = self.nbytes
        a = self.start + line_start(self, int(total * start))
        b = self.start + line_start(self, int(total * end))
        return dataclasses.replace(self, start=a, end=b)


#: Bytes read at a time when looking for the next newline after a cut.
SCAN_BYTES = 1 << 16


def line_start(part: "_Text | _File", offset: int) -> int:
    """The first line start at or after ``offset`` in ``part`` (characters of a text, bytes of a file; its end
    when no line starts after it)."""
    if offset <= 0:
        return 0
    if isinstance(part, _Text):
        found = part.text.find("\n", offset - 1)
        return len(part.text) if found < 0 else found + 1
    end = part.nbytes
    position = offset - 1  # the byte before the cut: a newline there makes the cut a line start
    with open(part.path, "rb") as f:
        f.seek(part.start + position)
        while position < end:
            data = f.read(min(SCAN_BYTES, end - position))
            if not data:
                break
            found = data.find(b"\n")  # never inside a UTF-8 character: its bytes are all >= 0x80
            if found >= 0:
                return position + found + 1
            position += len(data)
    return end


def _char_boundary(path: Path, offset: int) -> int:
    """The first offset >= ``offset`` that does not split a UTF-8 character."""
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read(4)
    for i, byte in enumerate(data):
        if byte & 0xC0 != 0x80:
            return offset + i
    return offset + len(data)



def _file_kind(path: str) -> str:
    """What a path that exists but is not a regular file is, in words."""
    import stat

    mode = os.stat(path).st_mode
    for test, words in ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                        (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return words
    return "not a file of text"


class TextSource:
    """An ordered collection of documents, read as a stream of text chunks."""

    def __init__(self, parts: list[_Text | _File], description: str) -> None:
        self._parts = parts
        self.description = description

    # === Construction ===

    @classmethod
    def from_any(
        cls, source: Any, *, column: str | None = None, encoding: str = "utf-8"
    ) -> "TextSource":
        """Make a source from a str, path, glob, list, pandas Series/DataFrame or iterable.

        A string that looks like a path (one line, ending in an extension such as
        ``.txt``, or with glob characters, or starting with ``/``, ``./`` or ``~``)
        is treated as a file path or glob; any other string is the text itself.
        Pass a :class:`pathlib.Path` to force a path.
        """
        if isinstance(source, TextSource):
            return source
        try:
            codecs.lookup(encoding)
        except (LookupError, TypeError):
            raise invalid("encoding", "a codec name known to Python, such as 'utf-8'", encoding) from None
        if isinstance(source, os.PathLike):
            return cls._from_paths(os.fspath(source), encoding)
        if isinstance(source, str):
            if _looks_like_path(source):
                return cls._from_paths(source, encoding)
            return cls([_Text(source)], f"text of {len(source):,} characters")
        if isinstance(source, (bytes, bytearray)):
            raise invalid("source", "text (str), not bytes; decode it first, e.g. data.decode('utf-8')",
                          f"bytes of length {len(source)}")
        kind = type(source).__module__.split(".")[0] + "." + type(source).__name__
        if kind == "pandas.DataFrame":
            return cls._from_dataframe(source, column)
        if kind == "pandas.Series":
            return cls._from_strings(list(source.dropna()), f"Series '{source.name}'", what="values of the Series")
        if isinstance(source, dict):
            raise invalid("source", "a str, path, glob, list of str, pandas Series or DataFrame column",
                          "a dict")
        if isinstance(source, Iterable):
            items = list(source)
            if items and all(isinstance(i, os.PathLike) for i in items):
                return cls._join([cls._from_paths(os.fspath(p), encoding) for p in items])
            return cls._from_strings(items, f"{len(items):,} documents", what="items")
        raise invalid("source", "a str, path, glob, list of str, pandas Series or DataFrame column",
                      type(source).__name__)

    @classmethod
    def _from_strings(cls, items: list[Any], description: str, what: str) -> "TextSource":
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise invalid("source", f"{what} that are all str", f"{type(item).__name__} at position {i}")
        return cls([_Text(t) for t in items], description)

    @classmethod
    def _from_dataframe(cls, df: Any, column: str | None) -> "TextSource":
        columns = [str(c) for c in df.columns]
        if column is None:
            from pandas.api.types import is_object_dtype, is_string_dtype

            texty = [c for c in df.columns if is_string_dtype(df[c].dtype) or is_object_dtype(df[c].dtype)]
            if len(texty) != 1:
                raise invalid("column", f"the name of the text column, one of {columns}", None)
            column = texty[0]
        if column not in df.columns:
            raise invalid("column", f"one of the DataFrame's columns {columns}", column)
        return cls._from_strings(list(df[column].dropna()), f"column '{column}'", what=f"values of column '{column}'")

    @classmethod
    def _from_paths(cls, pattern: str, encoding: str) -> "TextSource":
        expanded = os.path.expanduser(pattern)
        if _glob.has_magic(expanded):
            paths = sorted(p for p in _glob.glob(expanded, recursive=True) if os.path.isfile(p))
            if not paths:
                raise DataError(f"No file matches the pattern '{pattern}'. Expected a glob that matches at least one text file.")
        else:
            if not os.path.exists(expanded):
                raise DataError(f"No such file: '{pattern}'. Expected the path of a text file (or pass the text itself).")
            if os.path.isdir(expanded):
                raise DataError(f"'{pattern}' is a folder. Expected a text file, or a glob such as '{pattern.rstrip('/')}/*.txt'.")
            if not os.path.isfile(expanded):  # /dev/zero, a pipe, a socket: no end or no size
                raise DataError(f"'{pattern}' is not a regular file ({_file_kind(expanded)}). Expected a text file.")
            paths = [expanded]
        parts = [(_JsonLines if p.lower().endswith(".jsonl") else _File)(Path(p), encoding) for p in paths]
        desc = f"file '{paths[0]}'" if len(paths) == 1 else f"{len(paths)} files matching '{pattern}'"
        return cls(parts, desc)

    @classmethod
    def _join(cls, sources: list["TextSource"]) -> "TextSource":
        parts = [p for s in sources for p in s._parts]
        return cls(parts, f"{len(parts)} files")

    # === Reading ===

    @property
    def nbytes(self) -> int:
        """Size of the source: characters for text in memory, bytes for files."""
        return sum(p.nbytes for p in self._parts)

    @property
    def on_disk(self) -> bool:
        return any(isinstance(p, _File) for p in self._parts)

    def is_large(self) -> bool:
        """Whether this source should be streamed rather than encoded in memory."""
        return self.on_disk and self.nbytes > stream_threshold()

    def iter_chunks(self, chunk_chars: int = CHUNK_BYTES) -> Iterator[str]:
        """The text as a stream of pieces; documents are separated by a newline."""
        for i, part in enumerate(self._parts):
            if i:
                yield SEPARATOR
            yield from part.chunks(chunk_chars)

    def read_text(self) -> str:
        """The whole text in memory (use :meth:`iter_chunks` for large sources)."""
        return "".join(self.iter_chunks())

    def fingerprint(self) -> str:
        """``sha256:`` of the UTF-8 text, computed by streaming."""
        h = hashlib.sha256()
        for chunk in self.iter_chunks():
            h.update(chunk.encode("utf-8"))
        return "sha256:" + h.hexdigest()

    def is_blank(self) -> bool:
        """True when the source holds no non-whitespace character."""
        return not any(chunk.strip() for chunk in self.iter_chunks())

    # === Splitting ===

    def split(self, fraction: float) -> tuple["TextSource", "TextSource"]:
        """Hold back the last ``fraction`` of the text, as the standard splits do.

        Returns ``(train, validation)``. The cut is made by size over the
        concatenation of all documents (characters in memory, bytes on disk,
        never inside a UTF-8 character).
        """
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction < 1:
            raise invalid("validation_split", "a number in (0, 1), or 0 for no validation", fraction)
        sizes = [p.nbytes for p in self._parts]
        total = sum(sizes)
        cut = total * (1 - fraction)
        train: list[_Text | _File] = []
        val: list[_Text | _File] = []
        seen = 0
        for part, size in zip(self._parts, sizes):
            if seen + size <= cut:
                train.append(part)
            elif seen >= cut:
                val.append(part)
            elif size:
                at = (cut - seen) / size
                train.append(part.slice(0.0, at))
                val.append(part.slice(at, 1.0))
            seen += size
        return (
            TextSource(train, f"first {1 - fraction:.0%} of {self.description}"),
            TextSource(val, f"last {fraction:.0%} of {self.description}"),
        )

    def shard(self, workers: int, index: int) -> "TextSource":
        """Worker ``index``'s part when ``workers`` read this source: whole files, or lines (see :mod:`.shards`)."""
        from .shards import shard

        return shard(self, workers, index)

    def __repr__(self) -> str:
        return f"TextSource({self.description})"


def _looks_like_path(text: str) -> bool:
    """Whether a string given as a source names files rather than being the text."""
    stripped = text.strip()
    if not stripped or len(stripped) > 4096 or "\n" in stripped:
        return False
    if os.path.exists(os.path.expanduser(stripped)):
        return True
    if _glob.has_magic(stripped) and ("/" in stripped or re.search(r"\.[A-Za-z0-9]{1,6}$", stripped)):
        return True
    return not re.search(r"\s", stripped) and bool(_PATHLIKE.search(stripped))
