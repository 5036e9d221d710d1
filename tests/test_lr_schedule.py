"""The cosine learning-rate schedule of train()."""

import pytest

import jupyter_llm as jl

TEXT = "To be, or not to be, that is the question. " * 120


def test_cosine_schedule_trains_saves_and_resumes(jl_home, tmp_path):
    ck = tmp_path / "ck"
    lm = jl.train(TEXT, size="tiny", epochs=1, seq_len=32, lr_schedule="cosine", progress=False,
                  checkpoint_dir=ck, seed=0)
    assert lm.config.lr_schedule == "cosine"
    lm = jl.train(TEXT, size="tiny", epochs=2, seq_len=32, lr_schedule="cosine", progress=False,
                  checkpoint_dir=ck, resume=True, seed=0)
    assert [h["epoch"] for h in lm.metadata["history"]] == [1, 2]
    opt = lm.model.optimizer
    # the resumed run continued down the schedule: below the starting rate, above the floor
    rate = float(opt.learning_rate)
    assert 0.05 * lm.config.learning_rate <= rate < lm.config.learning_rate
    lm.save(tmp_path / "saved")
    assert jl.load(tmp_path / "saved").config.lr_schedule == "cosine"


def test_unknown_schedule_is_refused():
    with pytest.raises(jl.InvalidArgumentError, match="Expected one of 'constant', 'cosine'"):
        jl.ModelConfig(lr_schedule="linear")


def test_training_further_keeps_the_architecture_and_may_change_optimisation(jl_home):
    lm = jl.train(TEXT, size="tiny", epochs=1, seq_len=32, progress=False, seed=0)
    with pytest.raises(jl.InvalidArgumentError, match=r"argument rnn_units\. Expected 64, the value of the model"):
        jl.train(TEXT, model=lm, rnn_units=128, progress=False)
    # the same value as the model's is not a change
    lm = jl.train(TEXT, model=lm, rnn_units=64, learning_rate=1e-3, lr_schedule="cosine", progress=False)
    assert lm.config.learning_rate == 1e-3 and lm.config.lr_schedule == "cosine"
    assert lm.config.rnn_units == 64
