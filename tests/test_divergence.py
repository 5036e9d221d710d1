"""A run that diverges (NaN, or a loss far above the uniform guess) never passes for a success.

It stops; with no weights better than those it started from it raises TrainingDivergedError and
saves nothing; with some it keeps them and says so once (a warning event to a progress display,
else ``warnings.warn``); and it never replaces a saved model with weights worse than it had.
"""

import math
import re
import warnings

import numpy as np
import pytest

import jupyter_llm as jl
from jupyter_llm.config import ModelConfig

TINY = dict(size="tiny", seq_len=16, batch_size=8, progress=False, sample_tokens=0, seed=0)


def weights_of(lm):
    return [w.copy() for w in lm.model.get_weights()]


def assert_same_weights(actual, expected):
    assert len(actual) == len(expected)
    for a, b in zip(actual, expected):
        np.testing.assert_array_equal(a, b)


def poison_at(monkeypatch, epoch, step):
    """Make the weights NaN after the given step, as a too-large update would (no progress subscriber needed)."""
    from jupyter_llm.training import trainer

    original = trainer._TrainingControl.on_train_batch_end

    def on_train_batch_end(self, batch, logs=None):
        if self.epoch == epoch and batch + 1 == step:
            self.lm.model.set_weights([np.full_like(w, np.nan) for w in self.lm.model.get_weights()])
            logs = {**(logs or {}), "loss": float("nan")}
        return original(self, batch, logs)

    monkeypatch.setattr(trainer._TrainingControl, "on_train_batch_end", on_train_batch_end)


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, -1e-3, 0, "fast", True, None])
def test_learning_rate_must_be_a_finite_positive_number(value):
    with pytest.raises(jl.InvalidArgumentError, match=r"learning_rate\. Expected a finite number > 0\. Received: learning_rate="):
        ModelConfig.from_size("tiny", learning_rate=value)


def test_train_refuses_an_infinite_learning_rate_before_training(shakespeare_text, jl_home):
    with pytest.raises(jl.InvalidArgumentError, match="Received: learning_rate=inf"):
        jl.train(shakespeare_text[:3000], name="g", epochs=1, steps_per_epoch=2, learning_rate=math.inf, **TINY)
    assert not jl.store.exists("g")


def test_a_nan_run_over_a_saved_model_raises_and_keeps_it(shakespeare_text, jl_home):
    text = shakespeare_text[:6000]
    jl.train(text, name="g", epochs=2, steps_per_epoch=10, **TINY)
    saved = weights_of(jl.load("g"))
    with pytest.raises(jl.TrainingDivergedError, match=r"NaN.*lower learning_rate") as info:
        jl.train(text, name="g", overwrite=True, epochs=1, steps_per_epoch=5, **{**TINY, "learning_rate": 1e30})
    assert "\n" not in str(info.value)
    assert_same_weights(weights_of(jl.load("g")), saved)

    # Continuing the loaded model: it and the saved model are left as they were.
    lm = jl.load("g")
    with pytest.raises(jl.TrainingDivergedError):
        jl.train(text, model=lm, name="g", overwrite=True, epochs=1, steps_per_epoch=5,
                 **{**TINY, "learning_rate": 1e30})
    assert_same_weights(weights_of(lm), saved)
    assert_same_weights(weights_of(jl.load("g")), saved)


def test_a_loss_that_explodes_without_nan_is_a_divergence(shakespeare_text, jl_home):
    text = shakespeare_text[:6000]
    events = []
    with pytest.raises(jl.TrainingDivergedError, match=r"grew to .* nats/token.*lower learning_rate"):
        jl.train(text, name="x", epochs=2, steps_per_epoch=5, on_progress=events.append,
                 **{**TINY, "learning_rate": 1e6})
    assert not jl.store.exists("x")
    steps = [e for e in events if e.kind == "step"]
    assert len(steps) <= 2  # stopped at the first step past the bound, not at the end of the run


def test_a_partial_success_warns_without_a_progress_display_and_keeps_the_good_weights(
        shakespeare_text, jl_home, monkeypatch):
    text = shakespeare_text[:6000]
    poison_at(monkeypatch, epoch=2, step=3)
    epoch_one = []
    from jupyter_llm.training import trainer

    original = trainer._TrainingControl.on_epoch_end

    def on_epoch_end(self, epoch, logs=None):
        original(self, epoch, logs)
        if epoch == 0:
            epoch_one.append(weights_of(self.lm))

    monkeypatch.setattr(trainer._TrainingControl, "on_epoch_end", on_epoch_end)
    with pytest.warns(RuntimeWarning, match=r"NaN.*epoch 1.*lower learning_rate") as record:
        lm = jl.train(text, name="p", epochs=2, steps_per_epoch=6, **TINY)
    assert len([w for w in record if "NaN" in str(w.message)]) == 1
    assert lm.metadata["metrics"]["stopped"] == "nan"
    assert_same_weights(weights_of(lm), epoch_one[0])
    assert_same_weights(weights_of(jl.load("p")), epoch_one[0])


def test_the_nan_notice_is_given_once(shakespeare_text, monkeypatch):
    text = shakespeare_text[:6000]
    poison_at(monkeypatch, epoch=2, step=3)
    events = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        jl.train(text, epochs=2, steps_per_epoch=6, on_progress=events.append, **TINY)
    said = [e.message for e in events if e.message and "NaN" in e.message]
    said += [str(w.message) for w in caught if "NaN" in str(w.message)]  # a display got it: not warned again
    assert len(said) == 1, said


def test_a_worse_partial_success_does_not_replace_a_better_saved_model(shakespeare_text, jl_home, monkeypatch):
    text = shakespeare_text[:6000]
    jl.train(text, name="g", epochs=3, steps_per_epoch=20, **TINY)
    saved = weights_of(jl.load("g"))
    poison_at(monkeypatch, epoch=2, step=2)
    with pytest.warns(RuntimeWarning, match=r"not saved.*'g'"):
        lm = jl.train(text, name="g", overwrite=True, epochs=2, steps_per_epoch=2, **TINY)
    assert lm.metadata["metrics"]["stopped"] == "nan"
    assert_same_weights(weights_of(jl.load("g")), saved)


def test_the_interrupt_summary_quotes_the_val_loss_in_metrics(shakespeare_text):
    text = shakespeare_text[:8000]
    events = []

    def interrupt(event):
        events.append(event)
        if event.kind == "step" and event.epoch == 2 and event.step == 5:
            raise KeyboardInterrupt

    lm = jl.train(text, epochs=2, steps_per_epoch=8, on_progress=interrupt, **TINY)
    metrics = lm.metadata["metrics"]
    assert metrics["stopped"] == "interrupted"
    message = next(e.message for e in events if e.kind == "train_end")
    quoted = float(re.search(r"validation loss ([0-9.]+)", message).group(1))
    assert quoted == pytest.approx(metrics["val_loss"], abs=5e-4)
    assert lm.evaluate(text[-800:])["loss"] == pytest.approx(metrics["val_loss"], rel=1e-3)
