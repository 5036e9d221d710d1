"""Options tables: each option of generation and training declared once.

An :class:`Option` holds an option's name, type, range, default and help text,
and, where one surface truly needs something else, that surface's own default
or limit with the reason (:class:`SurfaceRule`). Everything else is derived:

* the Python API validates with :meth:`Option.check` (``SamplingOptions``,
  ``TrainOptions``), so a bad value gets the same sentence everywhere;
* the magics and the CLI build their arguments with :func:`argparse_spec`;
* the panels read :attr:`Option.ui` (a control's reach) and
  :meth:`Option.default_for`;
* the kernel protocol's limits come from :meth:`Option.high_for`;
* ``docs/options.md`` is :func:`markdown_table` of each table.

The tables themselves live beside what they configure:
``jupyter_llm.generation.options.GENERATION`` and
``jupyter_llm.training.options.TRAINING``. This module imports neither
TensorFlow nor numpy.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .errors import invalid

__all__ = ["Option", "SurfaceRule", "SURFACES", "argparse_spec", "markdown_table"]

#: The places an option can be set. ``api``: Python calls; ``magic``: ``%%generate``/``%llm train``;
#: ``cli``: ``jupyter-llm``; ``demo``: ``jupyter-llm demo``; ``panel``: the ipywidgets panels; ``channel``: the
#: kernel channel's ``generate`` request (the drafting side panel); ``completion``: its ``complete`` request
#: (inline completion); ``config``: the defaults set with ``%config JupyterLLM.NAME``.
SURFACES = ("api", "magic", "cli", "demo", "panel", "channel", "completion", "config")


@dataclass(frozen=True)
class SurfaceRule:
    """What one surface does differently, and why (shown in the docs)."""

    default: Any = None
    low: float | None = None
    high: float | None = None
    why: str = ""


_UNSET = object()


@dataclass(frozen=True)
class Option:
    """One option: its type, range, default and help, stated once.

    Attributes:
        name: the keyword argument (``max_tokens``); the long flag is ``--max-tokens``.
        kind: ``int``, ``float``, ``bool``, ``str`` or ``list`` (a list of non-empty strings).
        default: the default of the API (and of every surface without a rule of its own).
        help: one line for ``--help``, tooltips and the docs.
        low, high: the range (inclusive; ``low_open``/``high_open`` exclude an end).
        none: when ``None`` is allowed, what it means ("off", "one pass", ...).
        choices: the allowed values of a ``str`` option.
        flags: other spellings of the flag (``-n``); ``flag`` replaces the long one (``--samples`` for ``n``).
        metavar: the value's name in ``--help``.
        ui: ``(low, high, step)``: the reach of a panel's control, where it differs from the range.
        surfaces: per-surface rules (``{"completion": SurfaceRule(default=0.5, why=...)}``).
        note: added to the error sentence after the expected range (a hint, e.g. "pass greedy=True").
    """

    name: str
    kind: type
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    none: str | None = None
    choices: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    flag: str | None = None
    metavar: str | None = None
    ui: tuple[float, float, float] | None = None
    surfaces: Mapping[str, SurfaceRule] = field(default_factory=dict)
    note: str = ""

    # === What the option allows ===

    @property
    def long_flag(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    def default_for(self, surface: str = "api") -> Any:
        rule = self.surfaces.get(surface)
        return rule.default if rule is not None and rule.default is not None else self.default

    def low_for(self, surface: str = "api") -> float | None:
        rule = self.surfaces.get(surface)
        return rule.low if rule is not None and rule.low is not None else self.low

    def high_for(self, surface: str = "api") -> float | None:
        rule = self.surfaces.get(surface)
        return rule.high if rule is not None and rule.high is not None else self.high

    def expected(self, surface: str = "api", api: bool = True) -> str:
        """The allowed values in words: ``an integer from 1 to 4000``, ``a number > 0``.

        ``api=False``: for a command line (no None to type, no hint about keyword arguments).
        """
        high = self.high_for(surface)
        if self.kind is bool:
            text = "True or False"
        elif self.kind is list:
            text = "a non-empty string or a list of them"
        elif self.choices:
            text = "one of " + ", ".join(repr(c) for c in self.choices)
        elif self.kind is str:
            text = "a string"
        else:
            noun = "an integer" if self.kind is int else "a number"
            text = noun + _range_words(self, self.low_for(surface), high)
        if self.none and api:
            text += f", or None ({self.none})"
        return text + (f" ({self.note})" if self.note and api else "")

    def check(self, value: Any, surface: str = "api") -> Any:
        """``value`` if this option allows it (an int given for a float becomes a float), else raise.

        Raises:
            InvalidArgumentError: one sentence naming the option, what it allows and what it received.
        """
        if value is None and self.none:
            return None
        ok, value = _conforms(self, value, self.low_for(surface), self.high_for(surface))
        if not ok:
            raise invalid(self.name, self.expected(surface), value)
        return value

    def describe(self, surface: str = "api") -> str:
        """The help line with the range and the default, for ``--help`` and tooltips."""
        default = self.default_for(surface)
        parts = [self.help]
        if self.kind in (int, float) and not self.choices:
            parts.append(f"({self.expected(surface, api=False)}")
            parts[-1] += f"; default {_shown(default)})" if default is not None else ")"
        elif self.kind is not bool and default not in (None, False, [], ""):  # a flag says its own default
            parts.append(f"(default {_shown(default)})")
        return " ".join(parts)


def _range_words(option: Option, low: float | None, high: float | None) -> str:
    g = "{:g}".format
    if low is not None and high is not None:
        if option.low_open or option.high_open:
            return f" in {'(' if option.low_open else '['}{g(low)}, {g(high)}{')' if option.high_open else ']'}"
        return f" from {g(low)} to {g(high)}"
    if low is not None:
        return f" {'>' if option.low_open else '>='} {g(low)}"
    if high is not None:
        return f" {'<' if option.high_open else '<='} {g(high)}"
    return ""


def _shown(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return f"{value:.1f}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _is_int(value: Any) -> bool:
    """A Python or numpy integer (not a bool)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (not hasattr(value, "__len__")
                                      and getattr(getattr(value, "dtype", None), "kind", "") in ("i", "u"))


def _as_number(value: Any) -> float | None:
    """``value`` as a finite float, or None (bools, strings, NaN, inf, ints past the largest float)."""
    if isinstance(value, bool) or isinstance(value, str):
        return None
    if not (isinstance(value, (int, float)) or getattr(getattr(value, "dtype", None), "kind", "") in "iuf"):
        return None
    try:
        number = float(value)
    except (OverflowError, TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _conforms(option: Option, value: Any, low: float | None, high: float | None) -> tuple[bool, Any]:
    kind = option.kind
    if kind is bool:
        return isinstance(value, bool), value
    if kind is list:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)) or not all(isinstance(s, str) and s for s in items):
            return False, value
        return True, list(items)
    if kind is str:
        return isinstance(value, str) and (not option.choices or value in option.choices), value
    if kind is int and not _is_int(value):
        return False, value
    number = _as_number(value)
    if number is None:
        return False, value
    if low is not None and (number < low or (option.low_open and number <= low)):
        return False, value
    if high is not None and (number > high or (option.high_open and number >= high)):
        return False, value
    return True, (int(value) if kind is int else float(value))


# === Surfaces built from a table ===


def argparse_spec(option: Option, surface: str) -> tuple[tuple[str, ...], dict[str, Any]]:
    """``(flags, keyword arguments)`` of ``parser.add_argument`` for ``option`` on ``surface``.

    The same for the CLI's argparse and the magics' ``magic_arguments.argument``.
    The default is None (so the caller can tell "not given" and use its own
    setting, such as ``JupyterLLM.max_tokens``); the help names the real default.
    """
    flags = (*option.flags, option.long_flag)
    # argparse formats help with %: a literal one ("5% warm-up") is written %%
    kwargs: dict[str, Any] = {"dest": option.name, "default": None,
                              "help": option.describe(surface).replace("%", "%%")}
    if option.kind is bool:  # a flag that turns the default around: --resume, or --no-copy-index for a True one
        kwargs["action"] = "store_false" if option.default else "store_true"
        kwargs["default"] = bool(option.default)
    elif option.kind is list:
        kwargs.update(action="append", metavar=option.metavar or "TEXT")
    else:
        kwargs.update(type=_ArgType(option, surface), metavar=option.metavar or option.name.upper())
        if option.choices:
            kwargs["choices"] = option.choices
    return flags, kwargs


class _ArgType:
    """argparse's ``type=``: parse the word, then check it against the option (one sentence on error)."""

    def __init__(self, option: Option, surface: str) -> None:
        self.option, self.surface = option, surface
        self.__name__ = option.name  # argparse names the type in its own messages

    def __call__(self, text: str) -> Any:
        o = self.option
        if o.kind is str:
            value: Any = text
        else:
            try:
                value = int(text) if o.kind is int else float(text)
            except ValueError:
                raise argparse.ArgumentTypeError(
                    f"expected {o.expected(self.surface, api=False)}, received {text!r}") from None
        try:
            return o.check(value, self.surface)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {o.expected(self.surface, api=False)}, received {text!r}") from None


def markdown_table(options: Iterable[Option], surfaces: Iterable[str] = SURFACES) -> str:
    """The docs' table of ``options``: flag, allowed values, default, and each surface's own rule."""
    rows = ["| option | flag | allowed | default | meaning |", "| --- | --- | --- | --- | --- |"]
    notes = []
    for o in options:
        default = "None" if o.default is None else _shown(o.default)
        rows.append(f"| `{o.name}` | `{', '.join((*o.flags, o.long_flag))}` | {o.expected()} | {default} | {o.help} |")
        for surface in surfaces:
            rule = o.surfaces.get(surface)
            if rule is not None:
                said = []
                if rule.default is not None:
                    said.append(f"default {_shown(rule.default)}")
                if rule.low is not None:
                    said.append(f"at least {_shown(rule.low)}")
                if rule.high is not None:
                    said.append(f"at most {_shown(rule.high)}")
                notes.append(f"- `{o.name}` on the `{surface}` surface: {', '.join(said)}; {rule.why}.")
    return "\n".join(rows + ([""] + notes if notes else []))
