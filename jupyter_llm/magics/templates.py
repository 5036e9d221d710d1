"""Prompt templates: ``{name}``, ``{In[3]}`` and ``{Out[3]}`` filled in from the session.

Nothing is evaluated: a field is a variable name or a cell reference, looked
up, never run. ``{{`` and ``}}`` are literal braces.

>>> interpolate("Dear {who}, {{hi}}", {"who": "Ada"})
'Dear Ada, {hi}'
"""

from __future__ import annotations

import re
import string
from typing import Any, Mapping, Sequence

from IPython.core.error import UsageError

_CELL = re.compile(r"^(In|Out)\[\s*(\d+)\s*\]$")
_HINT = "Expected {name}, {In[N]} or {Out[N]}; write {{ and }} for literal braces, or pass --no-interpolate."


def interpolate(template: str, namespace: Mapping[str, Any],
                inputs: Sequence[str] | None = None, outputs: Mapping[int, Any] | None = None) -> str:
    """Fill in the fields of ``template``.

    Args:
        template: the prompt, with ``{name}``, ``{In[N]}``, ``{Out[N]}``, ``{{`` and ``}}``.
        namespace: the user's variables (``{name}`` becomes ``str(namespace[name])``).
        inputs: cell sources by execution count (``inputs[3]`` is ``In[3]``);
            defaults to ``namespace["In"]``.
        outputs: cell results by execution count; defaults to ``namespace["Out"]``.

    Raises:
        UsageError: a field that is not a name or cell reference, an unknown
            name or cell, or unbalanced braces.
    """
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as e:  # "Single '}' encountered", "unmatched '{'"
        raise UsageError(f"The prompt template has unbalanced braces ({e}). {_HINT}") from None
    out = []
    for literal, field, spec, conversion in parts:
        out.append(literal)
        if field is None:
            continue
        shown = "{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
        if conversion or spec:
            raise UsageError(f"The prompt template field {shown} has a conversion or format, and templates "
                             f"evaluate nothing. {_HINT}")
        out.append(_lookup(field.strip(), shown, namespace, inputs, outputs))
    return "".join(out)


def _lookup(field: str, shown: str, namespace: Mapping[str, Any],
            inputs: Sequence[str] | None, outputs: Mapping[int, Any] | None) -> str:
    if field.isidentifier():
        if field not in namespace:
            raise UsageError(f"The prompt template uses {shown}, but no variable '{field}' is defined. "
                             "Expected a variable of this session, {{ and }} for literal braces, or --no-interpolate.")
        return _text(namespace[field])
    cell = _CELL.match(field)
    if cell:
        which, n = cell.group(1), int(cell.group(2))
        if which == "In":
            inputs = namespace.get("In", []) if inputs is None else inputs
            if not 0 < n < len(inputs):
                raise UsageError(f"The prompt template uses {shown}, but there is no input cell {n} "
                                 f"(this session has In[1] to In[{len(inputs) - 1}]). Expected a cell that has run.")
            return inputs[n]
        outputs = namespace.get("Out", {}) if outputs is None else outputs
        if n not in outputs:
            raise UsageError(f"The prompt template uses {shown}, but cell {n} has no output. "
                             f"Expected one of Out{sorted(outputs)[-10:]}.")
        return _text(outputs[n])
    what = "is empty" if not field else "is an expression"
    raise UsageError(f"The prompt template field {shown} {what}, and templates evaluate nothing. {_HINT}")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)
