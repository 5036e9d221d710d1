"""Smoke tests of what the docs tell a user or a maintainer to run, at small sizes: the `jupyter-llm demo`
command, the benchmarks' quick modes and the maintenance scripts. Each runs as a user would (a fresh
process, from the command line) and writes only into temporary folders."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "jupyter_llm.cli"]


def _run(args: list[str], tmp_path: Path, timeout: float = 900, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore",
                   "JUPYTER_LLM_HOME": str(tmp_path / "home"), "IPYTHONDIR": str(tmp_path / "ipython"), **env}
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=environment, cwd=tmp_path)
    assert result.returncode == 0, f"{args} exited {result.returncode}:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def _nothing_written_to_the_store(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert not home.exists() or not any(home.rglob("*.weights.h5")), sorted(home.rglob("*"))


@pytest.fixture(scope="module")
def corpora(tmp_path_factory) -> Path:
    """A corpora folder as ../shared/corpora lays it out, made of the excerpts the package ships."""
    from jupyter_llm import datasets

    folder = tmp_path_factory.mktemp("corpora")
    (folder / "tinyshakespeare.txt").write_text(datasets.load("shakespeare"), encoding="utf-8")
    (folder / "tang_poetry.txt").write_text(datasets.load("tang-poetry"), encoding="utf-8")
    return folder


# === jupyter-llm demo ===

def test_demo_streams_english_and_chinese_from_the_bundled_models(tmp_path):
    out = _run([*CLI, "demo", "-n", "120"], tmp_path).stdout
    assert out.startswith("# LanguageModel('shakespeare'") and "validation loss" in out
    assert "--- ROMEO: ---" in out and "--- First Citizen: ---" in out
    sample = out.split("--- ROMEO: ---", 1)[1]
    words = [w.strip(".,;:!?'-").lower() for w in sample.split()]
    assert sum(w in {"the", "and", "to", "of", "i", "you", "my", "a", "that", "in", "not", "me"} for w in words) >= 3, out
    zh = _run([*CLI, "demo", "--model", "tang-poetry", "--prompt", "明月", "-n", "40"], tmp_path).stdout
    poem = zh.split("--- 明月 ---", 1)[1]
    assert sum("\u4e00" <= c <= "\u9fff" for c in poem) >= 25, zh
    # the same seed gives the same text
    assert _run([*CLI, "demo", "--model", "tang-poetry", "--prompt", "明月", "-n", "40"], tmp_path).stdout == zh
    _nothing_written_to_the_store(tmp_path)


def test_demo_of_an_unknown_model_is_one_line(tmp_path):
    result = subprocess.run([*CLI, "demo", "--model", "no-such-model"], capture_output=True, text=True, timeout=300,
                            cwd=tmp_path, env={**os.environ, "JUPYTER_LLM_HOME": str(tmp_path / "home")})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no-such-model" in lines[0] and "Traceback" not in result.stderr, result.stderr


# === bench/ ===

def test_bench_quick_runs_both_keras_engines_and_prints_ratios(tmp_path, corpora):
    out_json = tmp_path / "bench.json"
    result = _run([sys.executable, str(ROOT / "bench" / "bench.py"), "--quick", "--engines", "jupyter_llm,naive",
                   "--size", "tiny", "--train-seconds", "3", "--corpus", str(corpora / "tinyshakespeare.txt"),
                   "--json", str(out_json)], tmp_path, timeout=1200)
    assert "failed" not in result.stdout, result.stdout[-3000:]
    data = json.loads(out_json.read_text())
    for engine in ("jupyter_llm", "naive"):
        assert "error" not in data["engines"][engine], data["engines"][engine]
        assert data["engines"][engine]["train"]["steps"] >= 1
        assert data["engines"][engine]["generate"]["batch_1"]["tokens_per_s"] > 0
    ratios = data["ratios"]["generation tokens/s, batch 1"]  # side by side, in the same run
    assert ratios["jupyter_llm / naive Keras"] > 0, data["ratios"]
    assert "jl / naive Keras" in result.stdout, result.stdout[-3000:]


def test_micro_bench_quick(tmp_path):
    out_json = tmp_path / "micro.json"
    result = _run([sys.executable, str(ROOT / "bench" / "micro.py"), "--quick", "--json", str(out_json)], tmp_path)
    data = json.loads(out_json.read_text())
    assert data["load_ext"]["load_ext_s"] > 0 and data["load_ext"]["shell_start_s"] > 0
    assert data["tokenizer"]["chars"] == 100_000 and data["tokenizer"]["ratio"] > 0
    assert "%load_ext jupyter_llm" in result.stdout and "load average" in result.stdout


# === scripts/ ===

def test_eval_default_models_prints_a_finite_loss_per_model(tmp_path, corpora):
    result = _run([sys.executable, str(ROOT / "scripts" / "eval_default_models.py"), "--corpora", str(corpora)],
                  tmp_path)
    rows = {row["name"]: row for row in _json_lines(result.stdout)}
    assert set(rows) == {"shakespeare", "tang-poetry"}
    # The excerpts' last 10% is text the models trained on (the real split is the corpus's last 10%):
    # the loss is low but not the published figure, which tests/test_bundled_figures.py checks.
    assert 0.5 < rows["shakespeare"]["val_loss"] < 2.0, rows
    assert 1.0 < rows["tang-poetry"]["val_loss"] < 6.0, rows
    assert all(math.isfinite(r["recorded_at_training"]) for r in rows.values())
    _nothing_written_to_the_store(tmp_path)


def test_train_default_models_quick_writes_only_under_out(tmp_path, corpora):
    out = tmp_path / "out"
    shipped = {p: p.stat().st_mtime_ns for p in (ROOT / "jupyter_llm").rglob("*.weights.h5")}
    result = _run([sys.executable, str(ROOT / "scripts" / "train_default_models.py"), "--quick",
                   "--corpora", str(corpora), "--out", str(out), "tang-poetry", "mood"], tmp_path)
    logged = [json.loads(line) for line in (out / "default_models.jsonl").read_text().splitlines()]
    assert [r["name"] for r in logged] == ["tang-poetry", "mood"] and all(r["quick"] for r in logged)
    assert math.isfinite(logged[0]["val_loss"]) and logged[0]["sample"].startswith("春眠不觉晓，")
    assert 0 <= logged[1]["held_out"]["intent_accuracy"] <= 1
    import jupyter_llm as jl
    from jupyter_llm.nlu import IntentSlotModel

    lm = jl.load(out / "tang-poetry")
    assert lm.metadata["metrics"]["epochs_completed"] == 1
    assert IntentSlotModel.load(out / "mood").metadata["fingerprint"] == logged[1]["fingerprint"]
    # the package's shipped models are untouched
    assert {p: p.stat().st_mtime_ns for p in (ROOT / "jupyter_llm").rglob("*.weights.h5")} == shipped
    assert '"name": "tang-poetry"' in result.stdout  # each result is printed too


def test_train_default_models_quick_needs_out(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "train_default_models.py"), "--quick"],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 2 and "--quick needs --out" in result.stderr


def test_make_nlu_benchmark_writes_a_folder_the_loader_reads(tmp_path):
    from jupyter_llm.nlu import load_bio_dataset

    out = tmp_path / "snips_like"
    _run([sys.executable, str(ROOT / "scripts" / "make_nlu_benchmark.py"), str(out), "--train", "60",
          "--valid", "20", "--test", "20", "--seed", "1"], tmp_path, timeout=300)
    for split, n in (("train", 60), ("valid", 20), ("test", 20)):
        for part in ("seq.in", "seq.out", "label"):
            assert len((out / split / part).read_text(encoding="utf-8").splitlines()) == n, (split, part)
    test = load_bio_dataset(out)["test"]
    assert len(test) == 20 and len({e.intent for e in test}) >= 3
    assert any(tag != "O" for e in test for tag in e.tags)  # slots, as BIO tags
    again = tmp_path / "again"
    _run([sys.executable, str(ROOT / "scripts" / "make_nlu_benchmark.py"), str(again), "--train", "60",
          "--valid", "20", "--test", "20", "--seed", "1"], tmp_path, timeout=300)
    assert (again / "train" / "seq.in").read_text() == (out / "train" / "seq.in").read_text()  # seeded


def test_bench_rounds_report_each_figures_median_and_each_ratios_range():
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import bench
    finally:
        sys.path.remove(str(ROOT / "bench"))

    def result(tokens_per_s, ttft_s):
        return {"generate": {"batch_1": {"tokens_per_s": tokens_per_s, "ttft_s": ttft_s}}}

    rounds = [{"jupyter_llm": result(1000, 0.010), "torch": result(500, 0.020)},
              {"jupyter_llm": result(900, 0.012), "torch": result(600, 0.020)},
              {"jupyter_llm": result(3000, 0.011), "torch": result(1000, 0.010)}]
    ours = bench.median_result([r["jupyter_llm"] for r in rounds])
    assert ours["generate"]["batch_1"] == {"tokens_per_s": 1000, "ttft_s": 0.011} and ours["rounds"] == 3
    text = bench.round_ratios_table(rounds, ["jupyter_llm", "torch"])
    # per round 2.00, 1.50, 3.00: the median 2.00 and the range 1.50-3.00
    assert "generation tokens/s, batch 1 (jupyter_llm / PyTorch): median 2.00x, range 1.50-3.00x" in text, text
    assert "time to first token, batch 1, ms (jupyter_llm / PyTorch): median 0.60x, range 0.50-1.10x" in text, text
