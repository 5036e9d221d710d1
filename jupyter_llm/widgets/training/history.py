"""The TrainingPanel's view of the run history: earlier runs on the same text, to draw behind the current one (#16.3)."""

from __future__ import annotations

from typing import Any

from ..loss_chart import Earlier

#: The most earlier runs drawn in the chart (the latest ones).
MAX_EARLIER = 5


def text_fingerprint(source: Any, column: str | None) -> str | None:
    """The fingerprint training records for ``source`` (None for a text large enough to be streamed)."""
    from ...text.sources import TextSource

    src = TextSource.from_any(source, column=column)
    return None if src.is_large() else src.fingerprint()


def earlier_runs(fingerprint: str | None, exclude: set[str] = frozenset(), limit: int = MAX_EARLIER) -> list[Earlier]:
    """The curves of the latest ``limit`` runs on the text of ``fingerprint`` (none without one), oldest first."""
    if fingerprint is None:
        return []
    from ...run_history import load_runs, select

    records = [r for r in select(load_runs(), data=fingerprint) if r["id"] not in exclude][-limit:]
    return [(label_of(r), list(zip(r["curve"]["step"], r["curve"]["loss"])),
             [(e["step"], e["val_loss"]) for e in r["curve"].get("epochs", []) if e.get("val_loss") is not None])
            for r in records if isinstance(r.get("curve"), dict)]


def label_of(record: dict[str, Any]) -> str:
    """How an earlier run is named on hover: when, its size and result."""
    settings = record.get("settings") or {}
    config = settings.get("config") or {}
    result = record.get("result") or {}
    rate = config.get("learning_rate")
    parts = [(record.get("started") or "")[:16].replace("T", " "), settings.get("size"),
             f"lr {rate:g}" if isinstance(rate, (int, float)) else None,
             f"val_loss {result['val_loss']:.3f}" if isinstance(result.get("val_loss"), (int, float)) else None,
             record.get("model") and f"saved as {record['model']}", record.get("status")]
    return "earlier run: " + ", ".join(str(p) for p in parts if p)
