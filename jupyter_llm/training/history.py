"""The record of one training run for the run history (:mod:`jupyter_llm.run_history`).

:class:`RunLog` is made when ``jl.train`` starts, collects the loss curve from
the progress events and writes the record when the run ends, however it ends.
A record that cannot be written costs a warning, never the trained model.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import time
import warnings
from typing import Any

from .. import run_history as runs
from .._version import __version__
from .options import TrainOptions
from .prepare import Corpus, Setup


class RunLog:
    """One run's record in the making (``id``, its :class:`~jupyter_llm.runs.Curve`, when it started)."""

    def __init__(self, name: str | None, base: str | None = None) -> None:
        self.started = _dt.datetime.now(_dt.timezone.utc)
        self.id = runs.new_id(self.started)
        self.name, self.base = name, base
        self.curve = runs.Curve()
        self._t0 = time.monotonic()
        self.saved: dict[str, Any] | None = None

    def record(self, opts: TrainOptions, setup: Setup | None, corpus: Corpus | None, metrics: dict[str, Any] | None,
               status: str) -> dict[str, Any]:
        """The run record (see :mod:`jupyter_llm.runs` for its fields)."""
        lm = setup.lm if setup is not None else None
        settings = {k: v for k, v in dataclasses.asdict(opts).items() if _plain(v)}
        if setup is not None:
            settings["config"] = setup.cfg.to_dict()
            settings["tokenizer"] = setup.tok.kind
            settings["size"] = size_of(setup.cfg)  # the model's (a model trained further keeps its own)
        data: dict[str, Any] = {}
        if corpus is not None:
            meta = (lm.metadata.get("corpus") if lm is not None else None) or {}
            fingerprint = meta.get("fingerprint")
            if fingerprint is None and setup is not None and not setup.stream:  # a run that ended early
                fingerprint = corpus.src.fingerprint()
            data = {"description": corpus.src.description, "fingerprint": fingerprint,
                    "bytes": corpus.src.nbytes, "train_tokens": setup.n_train_tokens if setup else None,
                    "validation": meta.get("validation")}
        return {
            "id": self.id,
            "started": self.started.isoformat(timespec="seconds"),
            "ended": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "seconds": round(time.monotonic() - self._t0, 2),
            "status": status,
            "model": lm.name if lm is not None and lm.name == self.name else None,
            "base": self.base,
            "settings": settings,
            "data": data,
            "curve": self.curve.to_dict(),
            "result": dict(metrics or {}),
            "versions": {"jupyter_llm": __version__},
        }

    def save(self, opts: TrainOptions, setup: Setup | None, corpus: Corpus | None,
             metrics: dict[str, Any] | None, status: str) -> None:
        """Write the record; a failure to write it is a warning (the run's model is what matters)."""
        record = self.record(opts, setup, corpus, metrics, status)
        try:
            runs.save_run(record)
        except OSError as e:
            warnings.warn(f"The run's record could not be written to {runs.runs_dir()}: {e}", RuntimeWarning,
                          stacklevel=3)
            return
        self.saved = record


def size_of(config: Any) -> str:
    """The name of the size whose shape ``config`` has, or ``"custom"``."""
    from ..config import SIZES

    shape = {k: getattr(config, k) for k in ("embedding_dim", "rnn_units", "num_layers", "attention_dim")}
    return next((name for name, fields in SIZES.items() if all(fields.get(k) == v for k, v in shape.items())),
                "custom")


def _plain(value: Any) -> bool:
    """A value JSON writes as itself (a fitted Tokenizer object is left out of the settings)."""
    return value is None or isinstance(value, (str, int, float, bool, list, dict, tuple))
