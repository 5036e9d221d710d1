"""What the notebook holds: text variables to train on and models to generate with.

Looking is cheap and imports nothing heavy: pandas objects are recognised by
their type's name, and a LanguageModel can only exist once its module was
imported by whoever built it.
"""

from __future__ import annotations

from typing import Any

from ..resolver import is_language_model

#: Names IPython puts in every namespace.
_HIDDEN = {"In", "Out", "exit", "quit", "get_ipython", "open"}
#: A str shorter than this is a name or a label, not a training text.
MIN_TEXT_CHARS = 32


def user_namespace() -> dict[str, Any]:
    """The notebook's namespace, or an empty one outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return {}
    shell = get_ipython()
    return shell.user_ns if shell is not None else {}


def kind_of(value: Any) -> str:
    """``"pandas.DataFrame"``, ``"builtins.str"``, ...: the type's package and name."""
    return type(value).__module__.split(".")[0] + "." + type(value).__name__


def text_columns(df: Any) -> list[str]:
    """The columns of a DataFrame that hold text (object or string dtype), in order."""
    out = []
    for c in df.columns:
        dtype = df[c].dtype
        if dtype == object or "str" in str(dtype).lower():
            out.append(str(c))
    return out


def describe_data(value: Any) -> str | None:
    """A short description of a value usable as training text, or None if it is not."""
    if isinstance(value, str):
        if len(value) >= MIN_TEXT_CHARS or "\n" in value:
            return f"str, {len(value):,} characters"
        return None
    kind = kind_of(value)
    if kind == "pandas.Series":
        if len(value) and (value.dtype == object or "str" in str(value.dtype).lower()):
            return f"Series, {len(value):,} values"
        return None
    if kind == "pandas.DataFrame":
        if len(value) and text_columns(value):
            return f"DataFrame, {len(value):,} rows × {len(value.columns)} columns"
        return None
    if isinstance(value, (list, tuple)) and value:
        head = value[:1000]
        if all(isinstance(v, str) for v in head):
            return f"{type(value).__name__} of {len(value):,} str"
    return None


def data_variables(namespace: dict[str, Any]) -> list[tuple[str, str]]:
    """``(name, description)`` of every variable that can be trained on, by name."""
    out = []
    for name, value in list(namespace.items()):
        if name.startswith("_") or name in _HIDDEN:
            continue
        try:
            desc = describe_data(value)
        except Exception:  # an odd object must not break the panel
            desc = None
        if desc is not None:
            out.append((name, desc))
    return sorted(out, key=lambda item: item[0].lower())


def count_chars(value: Any, column: str | None = None) -> int | None:
    """Characters of text in a str, list, Series or DataFrame column (None when unknown)."""
    try:
        if isinstance(value, str):
            return len(value)
        kind = kind_of(value)
        if kind == "pandas.DataFrame":
            if column is None:
                return None
            value = value[column]
            kind = "pandas.Series"
        if kind == "pandas.Series":
            return int(sum(len(v) for v in value.dropna() if isinstance(v, str)))
        if isinstance(value, (list, tuple)):
            return sum(len(v) for v in value if isinstance(v, str))
    except Exception:
        return None
    return None


def model_variables(namespace: dict[str, Any]) -> list[str]:
    """Names of the LanguageModel variables, sorted."""
    return sorted((n for n, v in list(namespace.items()) if not n.startswith("_") and is_language_model(v)),
                  key=str.lower)
