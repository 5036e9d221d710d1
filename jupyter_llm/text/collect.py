"""Training text gathered from notebooks and folders, with a report of what was read.

:func:`notebooks` takes the Markdown cells, the code cells or both of every
notebook a glob matches, and never an output; :func:`folder` takes the text
files under a folder. Each returns a :class:`CollectedSource`, a
:class:`~jupyter_llm.text.sources.TextSource` that any training call accepts,
whose :attr:`~CollectedSource.report` says what was read (files, cells,
characters) and what was skipped, and why. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import codecs
import glob as _glob
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DataError, invalid
from .sources import TextSource, _Text

#: Which cells :func:`notebooks` takes.
CELLS = ("markdown", "code", "both")

#: The files :func:`folder` reads by default: Markdown and plain text.
TEXT_SUFFIXES = (".md", ".markdown", ".txt", ".rst", ".text")

#: Folders never read: checkpoint copies, version control, caches, virtual environments.
SKIPPED_FOLDERS = frozenset({".ipynb_checkpoints", ".git", "__pycache__", "node_modules", ".venv", "venv"})


@dataclass
class ReadReport:
    """What a collected source read and what it skipped (``skipped``: ``(path, why)`` pairs)."""

    files: int = 0
    cells: int = 0
    chars: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    what: str = ""

    def __str__(self) -> str:
        cells = f", {self.cells:,} cells" if self.cells else ""
        lines = [f"Read {self.files:,} file{'s' if self.files != 1 else ''}{cells}, {self.chars:,} characters "
                 f"({self.what})."]
        if self.skipped:
            lines.append(f"Skipped {len(self.skipped):,}:")
            lines += [f"  {path}: {why}" for path, why in self.skipped]
        return "\n".join(lines)


class CollectedSource(TextSource):
    """A :class:`TextSource` with the :class:`ReadReport` of how it was gathered."""

    def __init__(self, parts: list[_Text], description: str, report: ReadReport) -> None:
        super().__init__(parts, description)
        self.report = report

    def __repr__(self) -> str:
        return f"CollectedSource({self.description}; {self.report.chars:,} characters)"

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython shows the report
        printer.text(str(self.report))


def notebooks(pattern: str | os.PathLike, cells: str = "markdown", encoding: str = "utf-8") -> CollectedSource:
    """The cells of the notebooks matching ``pattern`` (a path or glob; ``**`` reaches into subfolders).

    ``cells``: ``"markdown"`` (the default: prose), ``"code"`` or ``"both"``.
    Outputs are never read. Each notebook is one document, its cells joined by
    a blank line. Checkpoint copies (``.ipynb_checkpoints``), files that are not
    notebooks (not JSON, or JSON without cells) and notebooks without a chosen
    cell are skipped and listed in the report.
    """
    if cells not in CELLS:
        raise invalid("cells", f"one of {list(CELLS)}", cells)
    _check_encoding(encoding)
    paths = _matching(pattern, "notebook")
    wanted = {"markdown"} if cells == "markdown" else {"code"} if cells == "code" else {"markdown", "code"}
    report = ReadReport(what=f"{'Markdown and code' if cells == 'both' else cells.capitalize()} cells; no outputs")
    parts = []
    for path in paths:
        why = _skipped_folder(path, {".ipynb_checkpoints"})  # (the path's own folders may be anything else)
        if why:
            report.skipped.append((str(path), why))
            continue
        try:
            chosen, other = _cells_of(path, wanted, encoding)
        except _NotANotebook as e:
            report.skipped.append((str(path), str(e)))
            continue
        if not chosen:
            report.skipped.append((str(path), f"no {cells} cell with text ({other} other cell(s))"))
            continue
        text = "\n\n".join(chosen)
        parts.append(_Text(text))
        report.files += 1
        report.cells += len(chosen)
        report.chars += len(text)
    return _collected(parts, report, pattern, "notebooks")


def this_notebook(namespace: dict | None = None) -> Path:
    """The ``.ipynb`` file of the notebook this kernel runs.

    ipykernel 6.20 and later (JupyterLab, Notebook 7) put its name in the
    namespace's ``__session__`` (and ``JPY_SESSION_NAME``); VS Code puts the
    path in ``__vsc_ipynb_file__``. Raises :class:`~jupyter_llm.DataError`
    when none of them names a notebook that exists.
    """
    namespace = namespace or {}
    for candidate in (namespace.get("__session__"), os.environ.get("JPY_SESSION_NAME"),
                      namespace.get("__vsc_ipynb_file__")):
        if isinstance(candidate, str) and candidate.endswith(".ipynb"):
            for path in (Path(candidate).expanduser(), Path.cwd() / Path(candidate).name):
                if path.is_file():
                    return path
    raise DataError("Cannot tell which notebook this kernel runs (no __session__ or JPY_SESSION_NAME names one). "
                    "Expected a kernel started by JupyterLab, Notebook 7 or VS Code, or the notebook's path.")


def folder(path: str | os.PathLike, suffixes: tuple[str, ...] = TEXT_SUFFIXES,
           encoding: str = "utf-8") -> CollectedSource:
    """The text files under ``path`` (every subfolder), in name order; ``suffixes``: which endings.

    A file that is not valid ``encoding`` text (a binary file, another
    encoding) is skipped and listed in the report, as are checkpoint copies,
    version control and cache folders.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise invalid("path", "a folder of text files", path)
    _check_encoding(encoding)
    root = Path(os.path.expanduser(os.fspath(path)))
    if not root.is_dir():
        raise DataError(f"'{path}' is not a folder. Expected a folder of text files "
                        f"({', '.join(suffixes)}).")
    if isinstance(suffixes, str) or not suffixes or not all(isinstance(s, str) and s.startswith(".")
                                                              for s in suffixes):
        raise invalid("suffixes", "a tuple of file endings such as ('.md', '.txt')", suffixes)
    endings = tuple(s.lower() for s in suffixes)
    report = ReadReport(what=f"files ending in {', '.join(endings)}")
    parts = []
    for file in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in endings):
        why = _skipped_folder(file.relative_to(root), SKIPPED_FOLDERS)
        if why:
            report.skipped.append((str(file), why))
            continue
        try:
            text = file.read_text(encoding=encoding)
        except UnicodeDecodeError:
            report.skipped.append((str(file), f"not {encoding} text"))
            continue
        except OSError as e:
            report.skipped.append((str(file), f"unreadable ({e.strerror or type(e).__name__})"))
            continue
        if not text.strip():
            report.skipped.append((str(file), "empty"))
            continue
        parts.append(_Text(text))
        report.files += 1
        report.chars += len(text)
    return _collected(parts, report, path, "text files")


def _check_encoding(encoding: str) -> None:
    try:
        codecs.lookup(encoding)
    except (LookupError, TypeError):
        raise invalid("encoding", "a codec name known to Python, such as 'utf-8'", encoding) from None


class _NotANotebook(Exception):
    """Why a file is not read as a notebook (the report's words)."""


def _matching(pattern: str | os.PathLike, what: str) -> list[Path]:
    if not isinstance(pattern, (str, os.PathLike)) or not os.fspath(pattern).strip():
        raise invalid("pattern", f"a {what} path or a glob such as 'notes/**/*.ipynb'", pattern)
    expanded = os.path.expanduser(os.fspath(pattern))
    if _glob.has_magic(expanded):
        return [Path(p) for p in sorted(_glob.glob(expanded, recursive=True)) if os.path.isfile(p)]
    if os.path.isdir(expanded):
        raise DataError(f"'{pattern}' is a folder. Expected a {what} or a glob such as "
                        f"'{os.fspath(pattern).rstrip('/')}/**/*.ipynb'.")
    if not os.path.isfile(expanded):
        raise DataError(f"No such file: '{pattern}'. Expected a {what} path or a glob.")
    return [Path(expanded)]


def _skipped_folder(path: Path, names: set[str] | frozenset[str]) -> str | None:
    folders = set(Path(path).parts[:-1]) & names
    return f"inside {sorted(folders)[0]}" if folders else None


def _cells_of(path: Path, wanted: set[str], encoding: str) -> tuple[list[str], int]:
    """The text of the wanted cells of a notebook (outputs never), and how many other cells it has."""
    try:
        data = json.loads(path.read_text(encoding=encoding))
    except UnicodeDecodeError:
        raise _NotANotebook(f"not {encoding} text") from None
    except json.JSONDecodeError:
        raise _NotANotebook("not a notebook (not JSON)") from None
    except OSError as e:
        raise _NotANotebook(f"unreadable ({e.strerror or type(e).__name__})") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        if isinstance(data, dict) and data.get("nbformat") == 3:
            raise _NotANotebook("an nbformat 3 notebook: convert it with jupyter nbconvert --to notebook")
        raise _NotANotebook("not a notebook (no list of cells)")
    chosen, other = [], 0
    for cell in data["cells"]:
        kind = cell.get("cell_type") if isinstance(cell, dict) else None
        source = cell.get("source", "") if isinstance(cell, dict) else ""
        text = "".join(source) if isinstance(source, list) else source if isinstance(source, str) else ""
        if kind in wanted and text.strip():
            chosen.append(text.strip("\n"))
        else:
            other += 1
    return chosen, other


def _collected(parts: list[_Text], report: ReadReport, where, what: str) -> CollectedSource:
    if not parts:
        detail = f" Skipped: {'; '.join(f'{p} ({w})' for p, w in report.skipped[:5])}." if report.skipped else ""
        raise DataError(f"No text found in {what} at '{where}'.{detail} Expected at least one {what[:-1]} "
                        f"with {report.what.split(';')[0]}.")
    return CollectedSource(parts, f"{report.files:,} {what} under '{where}'", report)
