"""The TrainingPanel's source picker: a notebook variable, a file or glob, uploaded files, or this notebook's notes.

:class:`SourcePicker` owns the Data row's widgets and says what ``jl.train``
will read (:meth:`SourcePicker.resolve`) and about how long it is.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Any, Callable

import ipywidgets as widgets

from ...errors import DataError, JupyterLLMError
from .. import estimates
from .._namespace import count_chars, data_variables, describe_data, kind_of, text_columns, user_namespace
from .._theme import esc, fmt_count

#: The value of the variable option for data passed to the panel.
GIVEN = "\x00given"
#: Assumed characters per token before a measurement says better (word, BPE).
CHARS_PER_TOKEN = {"char": 1.0, "word": 5.0, "bpe": 3.5}


class SourcePicker:
    """The text to train on: the Data row's widgets and what they choose.

    Args:
        given: data passed to the panel (offered first as "(given)"), or None.
        namespace: where to look for text variables (None: the notebook's).
        context: ``() -> (tokenizer kind, validation split)``, for the token count shown.
    """

    def __init__(self, given: Any, namespace: dict[str, Any] | None,
                 context: Callable[[], tuple[str, float]]) -> None:
        self.given = given
        self._namespace = namespace
        self._context = context
        L = widgets.Layout
        self.source = widgets.ToggleButtons(
            options=[("Variable", "variable"), ("File", "file"), ("Upload", "upload"), ("Notes", "notebook")],
            value="variable",
            tooltips=["A str, list of str, pandas Series or DataFrame of the notebook",
                      "A text file, or a glob such as data/*.txt", "Upload text files from this computer",
                      "This notebook's own Markdown cells (never its code or outputs)"],
            style={"button_width": "74px"}, layout=L(width="auto"),
        )
        self.variable = widgets.Dropdown(options=[], description="", layout=L(width="250px"),
                                         tooltip="The notebook's variables that hold text")
        self.refresh_button = widgets.Button(icon="refresh", tooltip="Look for text variables again",
                                             layout=L(width="34px"))
        self.column = widgets.Dropdown(options=[], description="Column", layout=L(width="210px"),
                                       style={"description_width": "52px"}, tooltip="The DataFrame column of text")
        self.path = widgets.Text(placeholder="corpus.txt or data/*.txt", layout=L(width="290px"),
                                 tooltip="A text file, or a glob of text files")
        self.upload = widgets.FileUpload(accept=".txt,.md,.csv,.tsv,.json,.py,.rst,.html,text/*", multiple=True,
                                         description="Upload", layout=L(width="110px"),
                                         tooltip="UTF-8 text files; they are kept in memory")
        self.info = widgets.HTML(layout=L(flex="1 1 200px", margin="0 0 0 8px"))
        self.info.add_class("jl-note")
        self.refresh_button.on_click(lambda _: self.refresh())

    @property
    def row(self) -> list[widgets.Widget]:
        """The row's widgets, in order."""
        return [self.source, self.variable, self.refresh_button, self.column, self.path, self.upload, self.info]

    @property
    def namespace(self) -> dict[str, Any]:
        return self._namespace if self._namespace is not None else user_namespace()

    def choose_path(self, data: Any) -> bool:
        """Choose File when ``data`` is a path or a glob (True); else keep it as the given data."""
        if isinstance(data, os.PathLike) or (isinstance(data, str) and "\n" not in data and len(data) < 4096
                                             and (os.path.exists(os.path.expanduser(data)) or glob.has_magic(data))):
            self.source.value = "file"
            self.path.value = os.fspath(data)
            self.given = None
            self.refresh()
            return True
        return False

    # === Variables ===

    def refresh(self) -> None:
        """List the notebook's text variables again (keeping the selection when it still exists)."""
        options = []
        if self.given is not None:
            options.append((f"(given) — {describe_data(self.given) or type(self.given).__name__}", GIVEN))
        options += [(f"{name} — {desc}", name) for name, desc in data_variables(self.namespace)]
        current = self.variable.value
        self.variable.options = options
        values = [v for _, v in options]
        if current in values:
            self.variable.value = current
        elif values:
            self.variable.value = values[0]
        self.update_columns()
        self.render_info()

    def variable_value(self) -> Any:
        name = self.variable.value
        if name == GIVEN:
            return self.given
        if name is None:
            return None
        return self.namespace.get(name)

    def update_columns(self) -> None:
        value = self.variable_value() if self.source.value == "variable" else None
        if kind_of(value) == "pandas.DataFrame":
            texty = text_columns(value)
            others = [str(c) for c in value.columns if str(c) not in texty]
            current = self.column.value
            self.column.options = texty + others
            self.column.value = current if current in texty + others else (texty[0] if texty else None)
            self.column.layout.display = None
        else:
            self.column.layout.display = "none"

    def update_visibility(self, disabled: bool) -> None:
        """Show the widgets of the chosen kind of source; ``disabled`` while a run is in progress."""
        mode = self.source.value
        for w, visible in ((self.variable, mode == "variable"), (self.refresh_button, mode == "variable"),
                           (self.path, mode == "file"), (self.upload, mode == "upload")):
            w.layout.display = None if visible else "none"
        for w in self.row[:-1]:
            w.disabled = disabled

    # === The chosen text ===

    def resolve(self) -> tuple[Any, str | None, str]:
        """``(source, column, description)`` for ``train``; raises a one-sentence error."""
        mode = self.source.value
        if mode == "variable":
            name = self.variable.value
            if name is None:
                raise DataError("No text variable is selected. Expected a str, list of str, pandas Series or "
                                "DataFrame in the notebook (press ↻ after defining one), or choose File.")
            value = self.variable_value()
            if value is None:
                raise DataError(f"The variable '{name}' is no longer defined. Expected a variable of the notebook; "
                                "press ↻ to list them again.")
            column = self.column.value if kind_of(value) == "pandas.DataFrame" else None
            label = "the given data" if name == GIVEN else f"variable '{name}'"
            return value, column, label + (f", column '{column}'" if column else "")
        if mode == "file":
            path = self.path.value.strip()
            if not path:
                raise DataError("No file is given. Expected the path of a text file or a glob such as 'data/*.txt'.")
            return Path(path), None, f"'{path}'"
        if mode == "notebook":
            collected = self.notes()
            return collected, None, f"this notebook's Markdown cells ({collected.report.cells} cells)"
        files = self.upload.value
        if not files:
            raise DataError("No file is uploaded. Expected one or more UTF-8 text files (press Upload).")
        texts = []
        for f in files:
            try:
                texts.append(bytes(f["content"]).decode("utf-8"))
            except UnicodeDecodeError:
                raise DataError(f"'{f['name']}' is not UTF-8 text. Expected text files saved as UTF-8.") from None
        names = ", ".join(f"'{f['name']}'" for f in files)
        return texts, None, f"uploaded {names}"

    def notes(self) -> Any:
        """This notebook's Markdown cells, as read from its file (saved: what the last save holds)."""
        from ...text.collect import notebooks, this_notebook

        path = this_notebook(self.namespace)
        try:
            return notebooks(glob.escape(str(path)), cells="markdown")
        except DataError:
            raise DataError(f"This notebook ({path.name}) has no Markdown cell with text yet. Expected some notes "
                            "in Markdown cells (saved), or choose another source.") from None

    def chars(self) -> int | None:
        """Characters of the chosen text (bytes for files), or None when unknown."""
        mode = self.source.value
        try:
            if mode == "variable":
                value = self.variable_value()
                column = self.column.value if kind_of(value) == "pandas.DataFrame" else None
                return count_chars(value, column) if value is not None else None
            if mode == "notebook":
                return self.notes().report.chars
            if mode == "file":
                path = os.path.expanduser(self.path.value.strip())
                if not path:
                    return None
                paths = glob.glob(path, recursive=True) if glob.has_magic(path) else [path]
                return sum(os.path.getsize(p) for p in paths if os.path.isfile(p)) or None
            return sum(int(f["size"]) for f in self.upload.value) or None
        except (OSError, KeyError, TypeError, ValueError, JupyterLLMError):
            return None

    def sample(self, limit: int = estimates.SAMPLE_CHARS) -> str | None:
        """The first ``limit`` characters of the chosen text, for timing (None: use synthetic text)."""
        try:
            source, column, _ = self.resolve()
        except JupyterLLMError:
            return None
        try:
            if isinstance(source, str):
                return source[:limit] or None
            if self.source.value == "notebook":
                return "".join(source.iter_chunks())[:limit] or None
            if isinstance(source, Path):
                path = os.path.expanduser(str(source))
                paths = sorted(glob.glob(path, recursive=True)) if glob.has_magic(path) else [path]
                with open(paths[0], encoding="utf-8", errors="replace") as f:
                    return f.read(limit) or None
            if kind_of(source) == "pandas.DataFrame":
                source = source[column]
            if kind_of(source) == "pandas.Series":
                source = source.dropna()
            pieces, total = [], 0
            for item in source:
                if not isinstance(item, str):
                    return None
                pieces.append(item)
                total += len(item) + 1
                if total >= limit:
                    break
            return "\n".join(pieces)[:limit] or None
        except (OSError, IndexError, KeyError, TypeError):
            return None

    def render_info(self) -> None:
        """The size of the chosen text and how many tokens of it are trained on."""
        chars = self.chars()
        if chars is None:
            hint = {"variable": "Define a text variable and press ↻, or choose File or Upload.",
                    "file": "Type a path or a glob.", "upload": "Choose files to upload.",
                    "notebook": "This notebook's Markdown cells, as last saved: write some notes and save."
                    }[self.source.value]
            self.info.value = esc(hint) if self.nothing_chosen() else "size unknown"
            return
        tokenizer, split = self._context()
        unit = "bytes" if self.source.value == "file" else "characters"
        train = chars * (1 - split) / CHARS_PER_TOKEN.get(tokenizer, 1.0)
        approx = "" if tokenizer == "char" else "about "
        self.info.value = (f"{chars:,} {unit}: {approx}{fmt_count(train)} tokens to train on, "
                           f"{split:.0%} held back for validation")

    def nothing_chosen(self) -> bool:
        mode = self.source.value
        return ((mode == "variable" and self.variable.value is None) or (mode == "file" and not self.path.value.strip())
                or (mode == "upload" and not self.upload.value) or (mode == "notebook" and self.chars() is None))
