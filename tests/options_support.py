"""Reading ``--help`` back: the surfaces built from an options table must state what the table says."""

from __future__ import annotations

import math
import re


def help_entries(text: str) -> dict[tuple[str, ...], str]:
    """``--help``'s options as {flags: help text on one line} (``("-n", "--max-tokens"): "tokens to ..."``)."""
    entries: dict[tuple[str, ...], list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        if re.match(r"^  -", line):
            invocation, _, rest = line.strip().partition("  ")
            flags = tuple(word.rstrip(",") for word in invocation.split() if word.startswith("-"))
            current = entries.setdefault(flags, [])
            current.append(rest)
        elif re.match(r"^ {4,}\S", line) and current is not None:
            current.append(line)
        else:
            current = None
    return {flags: " ".join(" ".join(parts).split()) for flags, parts in entries.items()}


def parse_range(words: str) -> tuple:
    """``' >= 0'``, ``' > 0'``, ``' from 1 to 4000'``, ``' in (0, 1]'``, ``''`` as (low, high, low_open, high_open)."""
    number = r"(-?[\d.e+-]+)"
    patterns = [
        (rf"^ (>=|>) {number}$", lambda m: (float(m[2]), None, m[1] == ">", False)),
        (rf"^ (<=|<) {number}$", lambda m: (None, float(m[2]), False, m[1] == "<")),
        (rf"^ from {number} to {number}$", lambda m: (float(m[1]), float(m[2]), False, False)),
        (rf"^ in ([\[(]){number}, {number}([])])$", lambda m: (float(m[2]), float(m[3]), m[1] == "(", m[4] == ")")),
        (r"^$", lambda m: (None, None, False, False)),
    ]
    for pattern, parse in patterns:
        match = re.match(pattern, words)
        if match:
            return parse(match)
    raise AssertionError(f"no range in {words!r}")


def assert_help_states(help_text: str, option, surface: str) -> None:
    """``option``'s entry in ``help_text`` has the table's flags, help, range and ``surface``'s default."""
    entries = help_entries(help_text)
    flags = (*option.flags, option.long_flag)
    assert flags in entries, f"{flags} not in --help:\n{help_text}"
    text = entries[flags]
    assert text.startswith(" ".join(option.help.split())), text
    rest = text.removeprefix(" ".join(option.help.split()))
    if option.kind in (bool, list) or (option.kind is str and not option.default_for(surface)):
        assert "default" not in rest, text  # off, no stop text, an empty prompt
        return
    if option.kind is str:
        assert rest == f" (default {option.default_for(surface)})", text
        return
    said = re.search(r"\((an integer|a number)(.*?)(?:; default ([^;)]+))?\)$", rest)
    assert said, text
    noun, words, default = said.groups()
    assert noun == ("an integer" if option.kind is int else "a number"), text
    low, high, low_open, high_open = parse_range(words)
    assert (low, high) == (option.low, option.high_for(surface)), text
    assert (low_open, high_open) == (option.low_open, option.high_open), text
    assert (None if default is None else option.kind(default)) == option.default_for(surface), text


def just_outside(option) -> list:
    """Values ``option`` must refuse: just past each end of its range, and values of the wrong kind."""
    if option.kind is bool:
        return [1, "yes"]
    if option.kind is list:
        return ["", [""], 3, ["ok", 3]]
    if option.choices:
        return ["nope", 3]
    if option.kind is str:
        return [3]
    values: list = ["1", True, math.inf, math.nan]
    step = 1 if option.kind is int else 1e-9
    if option.low is not None:
        values.append(option.low if option.low_open else option.low - step)
    if option.high is not None:
        values.append(option.high if option.high_open else option.high + step)
    if option.kind is int:
        values += [1.5, 2 ** 70 * 1.0]
    if not option.none:
        values.append(None)
    return values
