"""The GENERATION options table: each option's range, and the surfaces built from it agree with it.

``SamplingOptions`` (the API), ``%%generate``'s help, the GeneratePanel's
controls and the kernel channel's limits are read back and compared with the
table; the CLI's help is checked in test_cli.py, the protocol's generated files
in test_kernel_protocol.py.
"""

from __future__ import annotations

import pytest
from options_support import assert_help_states, just_outside

from jupyter_llm.errors import InvalidArgumentError
from jupyter_llm.generation.options import GENERATION, SamplingOptions


CASES = [(name, value) for name, option in GENERATION.items() for value in just_outside(option)]


@pytest.mark.parametrize("name, value", CASES, ids=[f"{n}={v!r}" for n, v in CASES])
def test_each_option_refuses_a_value_just_outside_its_range_in_one_sentence(name, value):
    with pytest.raises(InvalidArgumentError) as info:
        SamplingOptions(**{name: value})
    message = str(info.value)
    assert message.startswith(f"Invalid value for argument {name}. Expected {GENERATION[name].expected()}")
    assert "\n" not in message


@pytest.mark.parametrize("name", list(GENERATION))
def test_each_default_and_each_surfaces_limit_is_allowed(name):
    option = GENERATION[name]
    assert SamplingOptions(**{name: option.default}).to_dict()[name] == option.default
    for surface, rule in option.surfaces.items():
        if rule.default is not None:
            assert option.check(rule.default, surface) == rule.default
        if rule.high is not None:
            assert option.check(rule.high, surface) == rule.high
            with pytest.raises(InvalidArgumentError, match=f"Expected .*{rule.high:g}"):
                option.check(rule.high + 1, surface)
            assert rule.why, f"{name}: the {surface} surface's own limit must say why"


def test_from_dict_takes_each_surfaces_defaults_and_limits():
    completion = SamplingOptions.from_dict({}, "completion")
    assert completion.max_tokens == GENERATION["max_tokens"].default_for("completion")
    assert completion.temperature == GENERATION["temperature"].default_for("completion")
    assert SamplingOptions.from_dict({"max_tokens": None, "seed": 3}, "channel").seed == 3
    high = GENERATION["max_tokens"].high_for("channel")
    assert SamplingOptions.from_dict({"max_tokens": high}, "channel").max_tokens == high
    with pytest.raises(InvalidArgumentError, match=f"from 1 to {high}"):
        SamplingOptions.from_dict({"max_tokens": high + 1}, "channel")
    assert SamplingOptions.from_dict({"max_tokens": high + 1}).max_tokens == high + 1  # the API has no limit


@pytest.mark.parametrize("name", list(GENERATION))
def test_generate_magic_help_states_the_table(name):
    from jupyter_llm.magics.generate import GenerateMagics

    assert_help_states(GenerateMagics.generate.__doc__, GENERATION[name], "magic")


# What a control shows for "off", where None is the option's "off".
OFF = {"top_k": 0, "top_p": 1.0}


@pytest.mark.parametrize("name", [n for n, o in GENERATION.items() if o.ui is not None])
def test_generate_panel_controls_reach_and_start_where_the_table_says(name):
    from jupyter_llm.widgets import GeneratePanel

    option = GENERATION[name]
    control = getattr(GeneratePanel(namespace={}), name)
    low, high, step = option.ui
    limit = option.high_for("panel")
    assert control.min == low and control.max == (min(high, limit) if limit is not None else high)
    if option.kind is float:
        assert control.step == step
    default = option.default_for("panel")
    assert control.value == (OFF[name] if default is None else default)


def test_the_docs_options_page_is_generated_from_the_tables():
    """docs/options.md is scripts/gen_options_md.py's output: the docs' tables cannot drift from the code."""
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    spec = importlib.util.spec_from_file_location("gen_options_md", root / "scripts" / "gen_options_md.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    page = (root / "docs" / "options.md").read_text(encoding="utf-8")
    assert page == module.render(), "docs/options.md is stale: run python scripts/gen_options_md.py"
    for option in GENERATION.values():
        assert f"| `{option.name}` |" in page


@pytest.mark.parametrize("surface", ["api", "magic", "cli", "panel", "channel", "completion", "config"])
def test_zero_tokens_is_refused_on_every_surface_with_one_rule(surface):
    """#14: ``%%generate -n 0`` printed nothing while the drafting panel refused 0; one rule for both."""
    option = GENERATION["max_tokens"]
    assert option.low_for(surface) == 1
    expected = r"Expected an integer (>= 1|from 1 to \d+)\. Received: max_tokens=0"
    with pytest.raises(InvalidArgumentError, match=expected):
        option.check(0, surface)
    assert option.check(1, surface) == 1
