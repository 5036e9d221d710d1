"""The bundled models' headline figures, computed again: validation loss on the held-out text.

The held-out text is the last 10% of each corpus, cut as ``jl.train(...,
validation_split=0.1)`` and ``scripts/eval_default_models.py`` cut it; it is
shipped in ``tests/data`` so that a clone without ``../shared/corpora`` checks
the same figures. The loss is computed here, never read from the models' metadata.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

import jupyter_llm as jl

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"

#: bundled model -> (corpus in ../shared/corpora, its held-out text in tests/data, sha256 of that file)
HELD_OUT = {
    "shakespeare": ("tinyshakespeare.txt", "shakespeare_heldout.txt",
                    "c54f3753a4e6e3c3d1759212815a7caf826e68a33021b25312984400bed40a1f"),
    "tang-poetry": ("tang_poetry.txt", "tang_poetry_heldout.txt",
                    "8af133d092548e57ef04475bf3ccc2b39be1bfde7bd365d072e68103f7f198bf"),
}
#: the validation loss published for each model, nats per character (README.md, docs/benchmarks.md)
PUBLISHED = {"shakespeare": 1.497, "tang-poetry": 4.549}
DOCS = ("README.md", "docs/benchmarks.md")


def published_in(doc: str, name: str) -> str:
    """The nats/char figure, as written, in the row of the table of ``doc`` for the model ``name``."""
    for line in (ROOT / doc).read_text("utf-8").splitlines():
        match = re.match(rf"\| `{re.escape(name)}` \|.*?\**(\d+\.\d+)\** nats/char", line)
        if match:
            return match.group(1)
    raise AssertionError(f"{doc} has no table row with a nats/char figure for `{name}`")


@pytest.mark.parametrize("name", PUBLISHED)
def test_readme_and_benchmarks_state_the_figure(name):
    for doc in DOCS:
        shown = published_in(doc, name)
        decimals = len(shown.split(".")[1])
        assert round(PUBLISHED[name], decimals) == float(shown), f"{doc} says {shown} for {name}"


@pytest.mark.parametrize("name", HELD_OUT)
def test_the_shipped_held_out_text_is_the_last_tenth_of_the_corpus(name, corpora):
    corpus, held_out, sha256 = HELD_OUT[name]
    data = (DATA / held_out).read_bytes()
    assert hashlib.sha256(data).hexdigest() == sha256
    if (corpora / corpus).is_file():  # where the corpus is at hand, the split itself too
        from jupyter_llm.text.sources import TextSource

        _, validation = TextSource.from_any(corpora / corpus).split(0.1)
        assert "".join(validation.iter_chunks()) == data.decode("utf-8")


@pytest.mark.parametrize("name", PUBLISHED)
def test_the_bundled_model_reaches_its_published_figure(name):
    lm = jl.load(name)
    assert lm.name == name and lm.tokenizer.kind == "char"  # nats per token are nats per character
    result = lm.evaluate(DATA / HELD_OUT[name][1], batch_size=64)
    assert result["loss"] == pytest.approx(PUBLISHED[name], abs=0.01)
