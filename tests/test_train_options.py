"""The TRAINING options table: each option's range, and the surfaces built from it agree with it.

No training here: the table, TrainOptions, ``%llm train --help`` and the
TrainingPanel's controls are checked against each other.
"""

from __future__ import annotations

import math
import re

import pytest
from options_support import just_outside

from jupyter_llm.errors import InvalidArgumentError
from jupyter_llm.options import argparse_spec
from jupyter_llm.training.options import CONFIG_OPTIONS, TRAINING, TrainOptions


CASES = [(name, value) for name, option in TRAINING.items() for value in just_outside(option)]


@pytest.mark.parametrize("name, value", CASES, ids=[f"{n}={v!r}" for n, v in CASES])
def test_each_option_refuses_a_value_just_outside_its_range_in_one_sentence(name, value):
    with pytest.raises(InvalidArgumentError) as info:
        TrainOptions.from_call({name: value}) if name in CONFIG_OPTIONS else TrainOptions(**{name: value})
    message = str(info.value)
    assert message.startswith(f"Invalid value for argument {name}. Expected ")
    assert f"Received: {name}=" in message
    assert "\n" not in message and message.count(". ") <= 3


@pytest.mark.parametrize("name", list(TRAINING))
def test_each_default_is_allowed(name):
    option = TRAINING[name]
    for surface in ("api", "magic", "cli", "panel"):
        default = option.default_for(surface)
        assert option.check(default) == default


def test_every_help_text_is_safe_for_argparse():
    import argparse

    parser = argparse.ArgumentParser()
    for option in TRAINING.values():
        flags, kwargs = argparse_spec(option, "cli")
        parser.add_argument(*flags, **kwargs)
    assert "--lr-schedule" in parser.format_help()  # a bare % in a help text would raise here


def test_a_non_finite_clipnorm_or_learning_rate_is_refused():
    for name in ("clipnorm", "learning_rate"):
        with pytest.raises(InvalidArgumentError, match=f"Received: {name}=inf"):
            TrainOptions.from_call({name: math.inf})


def test_config_options_are_passed_on_only_when_given():
    assert TrainOptions().config_overrides() == {}
    opts = TrainOptions.from_call({"seed": None, "learning_rate": 1, "rnn_units": 8})
    assert opts.config_overrides() == {"learning_rate": 1.0, "seed": None}


def test_train_refuses_before_reading_any_data():
    import jupyter_llm as jl

    # The source does not exist: the option is refused first, in the table's words.
    with pytest.raises(jl.InvalidArgumentError, match=r"clipnorm\. Expected a number > 0"):
        jl.train("/no/such/file.txt", clipnorm=math.inf)
    with pytest.raises(jl.InvalidArgumentError, match=r"early_stopping\. Expected an integer >= 1"):
        jl.train("/no/such/file.txt", early_stopping=0)


# === %llm train --help ===


def _help_of_magic() -> str:
    from jupyter_llm.magics.llm import LLMMagics

    return LLMMagics._train.parser.format_help()


def _flag_help(text: str, flag: str) -> str:
    """The help of one flag in argparse's output (its lines joined)."""
    match = re.search(rf"^\s+{re.escape(flag)}\b.*?(?=^\s+-|\Z|^\S)", text, re.M | re.S)
    assert match, f"{flag} is not in the help"
    return " ".join(match.group(0).split())


def test_llm_train_help_states_each_options_range_and_default_from_the_table():
    from jupyter_llm.magics.llm import _TRAIN_OPTIONS

    text = _help_of_magic()
    for name in _TRAIN_OPTIONS:
        option = TRAINING[name]
        shown = _flag_help(text, option.long_flag)
        assert " ".join(option.describe("magic").split()) in shown, name


def test_llm_train_arguments_parse_as_the_table_says():
    from jupyter_llm.magics.llm import _TRAIN_OPTIONS

    parser = __import__("argparse").ArgumentParser()
    for name in _TRAIN_OPTIONS:
        flags, kwargs = argparse_spec(TRAINING[name], "magic")
        parser.add_argument(*flags, **kwargs)
    magic = {a.dest: a for a in _magic_actions()}
    for action in parser._actions[1:]:
        ours = magic[action.dest]
        assert ours.option_strings == action.option_strings
        assert ours.help == action.help and ours.default == action.default


def _magic_actions():
    from jupyter_llm.magics.llm import LLMMagics

    return LLMMagics._train.parser._actions


def test_llm_train_sample_tokens_default_is_the_magics_own():
    rule = TRAINING["sample_tokens"].surfaces["magic"]
    assert rule.default == 0 and rule.why
    assert f"default {rule.default})" in _flag_help(_help_of_magic(), "--sample-tokens")


# === The TrainingPanel's controls ===


def test_panel_controls_reach_and_default_come_from_the_table():
    pytest.importorskip("ipywidgets")
    from jupyter_llm.widgets import TrainingPanel

    panel = TrainingPanel(namespace={}, measure_speed=False)
    for name in ("epochs", "seq_len", "batch_size", "steps_per_epoch", "validation_split"):
        low, high, step = TRAINING[name].ui
        control = getattr(panel, name)
        assert (control.min, control.max) == (low, high), name
        assert control.step == pytest.approx(step), name
    low, high, step = TRAINING["learning_rate"].ui
    assert (10 ** panel.learning_rate.min, 10 ** panel.learning_rate.max) == pytest.approx((low, high))
    assert panel.learning_rate.step == step
    for name in ("epochs", "seq_len", "batch_size", "learning_rate", "validation_split"):
        assert getattr(panel, name).value == pytest.approx(TRAINING[name].default_for("panel")), name
    assert panel.steps_per_epoch.value == 0  # the control's 0 is the option's None: one pass
    assert panel.sample_tokens == TRAINING["sample_tokens"].default_for("panel")
    assert panel.tokenizer.value == TRAINING["tokenizer"].default_for("panel")
    assert [v for _, v in panel.tokenizer.options] == list(TRAINING["tokenizer"].choices)
    assert panel.size.value == TRAINING["size"].default_for("panel")


@pytest.mark.parametrize("field, value", [("clipnorm", math.inf), ("clipnorm", math.nan), ("dropout", "x"),
                                          ("learning_rate", True)])
def test_a_model_config_given_directly_is_checked_too(field, value):
    """``jl.train(..., config=ModelConfig(...))`` does not go past the table's checks with a bad value."""
    import jupyter_llm as jl

    with pytest.raises(jl.InvalidArgumentError, match=rf"argument {field}\. Expected "):
        jl.ModelConfig(**{field: value})
