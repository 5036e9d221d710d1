"""What the magics show: mime bundles with provenance, live outputs, a training bar.

Model and user text is never injected as HTML: it goes out as ``text/plain``
or ``text/markdown`` (which front ends sanitise), and the one HTML rendering
here (samples side by side) escapes every character of it.
"""

from __future__ import annotations

import html
import logging
import re
import sys
import time
import warnings
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from IPython.core.displaypub import DisplayPublisher
from IPython.display import display

from .._version import __version__

#: The metadata key under which every output records how it was made.
METADATA_KEY = "jupyter_llm"

Bundle = dict[str, Any]


def provenance(resolved, kind: str, **fields: Any) -> dict[str, Any]:
    """Output metadata: which model (name and weights fingerprint) made it, and how."""
    lm = resolved.model
    return {METADATA_KEY: {
        "kind": kind,
        "model": lm.name or resolved.name,
        "origin": resolved.origin,
        "fingerprint": lm.fingerprint,
        "version": __version__,
        **fields,
    }}


# === Generated text ===

def text_bundle(texts: list[str], fmt: str, samples: int) -> Bundle:
    """The mime bundle of one text (``samples == 1``) or of several side by side.

    ``fmt`` is ``"text"`` (plain), ``"markdown"`` (rendered) or ``"code"`` (a
    fenced block of Python).
    """
    if samples == 1:
        text = texts[0]
        bundle: Bundle = {"text/plain": text}
        if fmt == "markdown":
            bundle["text/markdown"] = text
        elif fmt == "code":
            bundle["text/markdown"] = fenced(text)
        return bundle
    plain = "\n\n".join(f"[{i}] {t}" for i, t in enumerate(texts, 1))
    if fmt == "markdown":
        return {"text/plain": plain, "text/markdown": "\n\n".join(
            f"**Sample {i}**\n\n{t}\n\n---" for i, t in enumerate(texts, 1))}
    if fmt == "code":
        return {"text/plain": plain, "text/markdown": "\n\n".join(
            f"Sample {i}:\n\n{fenced(t)}" for i, t in enumerate(texts, 1))}
    return {"text/plain": plain, "text/html": side_by_side(texts)}


def fenced(code: str, language: str = "python") -> str:
    """A Markdown code block that no backticks inside ``code`` can close early."""
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{code}\n{fence}"


def side_by_side(texts: list[str]) -> str:
    """Samples in columns of one height (the tallest's); every character of the text is escaped."""
    columns = "".join(
        '<div style="min-width:0;display:flex;flex-direction:column">'
        f'<div style="font-size:11px;opacity:.6;margin-bottom:2px">sample {i}</div>'
        '<pre style="flex:1;white-space:pre-wrap;word-break:break-word;margin:0;padding:6px;'
        f'border:1px solid rgba(128,128,128,.35);border-radius:3px">{html.escape(t)}</pre></div>'
        for i, t in enumerate(texts, 1)
    )
    return (f'<div class="jupyter-llm-samples" style="display:grid;gap:8px;'
            f'grid-template-columns:repeat({len(texts)},minmax(0,1fr))">{columns}</div>')


def updates_in_place(shell: Any) -> bool:
    """Whether the front end can update an output in place (``display_id``).

    Kernels (JupyterLab, Notebook, VS Code) can; a terminal IPython, whose
    display publisher prints every display, cannot: there the magics print
    text as it comes instead.
    """
    return type(getattr(shell, "display_pub", None)) is not DisplayPublisher


class LiveOutput:
    """An output updated in place (``display_id``), at most once per ``interval`` seconds.

    ``handle``: an output already shown (a :class:`WaitingNote`'s) that the first update replaces.
    """

    def __init__(self, render: Callable[[], tuple[Bundle, dict]], interval: float = 0.05, handle: Any = None) -> None:
        self.render = render
        self.interval = interval
        self.handle = handle
        self._last = 0.0

    def show(self) -> None:
        bundle, metadata = self.render()
        if self.handle is None:
            self.handle = display(bundle, raw=True, metadata=metadata, display_id=True)
        else:
            self.handle.update(bundle, raw=True, metadata=metadata)
        self._last = time.monotonic()

    def update(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.handle is None:
            self.show()
        elif force or now - self._last >= self.interval:
            bundle, metadata = self.render()
            self.handle.update(bundle, raw=True, metadata=metadata)
            self._last = now


class WaitingNote:
    """One line saying what a cell waits for (``loading TensorFlow…``), updated in place.

    Call it with each message. The cell's result then takes its place
    (``LiveOutput(..., handle=note.handle)``), or :meth:`clear` empties it; leaving
    the ``with`` block by an error clears it too. Where outputs cannot be
    updated in place (a terminal) it shows nothing. ``messages`` keeps what it was told.
    """

    def __init__(self, shell: Any) -> None:
        self.enabled = updates_in_place(shell)
        self.handle: Any = None
        self.messages: list[str] = []

    def __call__(self, message: str) -> None:
        self.messages.append(message)
        if not self.enabled:
            return
        bundle = {"text/plain": message,
                  "text/html": f'<span class="jupyter-llm-waiting" style="opacity:.6">{html.escape(message)}</span>'}
        metadata = {METADATA_KEY: {"kind": "waiting", "message": message}}
        if self.handle is None:
            self.handle = display(bundle, raw=True, metadata=metadata, display_id=True)
        else:
            self.handle.update(bundle, raw=True, metadata=metadata)

    def clear(self) -> None:
        """Empty the line, if one was shown."""
        if self.handle is not None:
            self.handle.update({"text/plain": ""}, raw=True, metadata={METADATA_KEY: {"kind": "waiting", "message": None}})

    def __enter__(self) -> "WaitingNote":
        return self

    def __exit__(self, kind, value, tb) -> None:
        if kind is not None:
            self.clear()


# === Training ===

class TrainingProgress:
    """Training progress over the whole run (all epochs): steps, loss, validation loss and ETA.

    A :class:`jupyter_llm.ProgressEvent` subscriber. In a kernel it is an output
    updated in place, so the notebook keeps the final state (no widget needed);
    in a terminal it is a tqdm bar. Samples and the closing message are printed.
    """

    def __init__(self, live: bool, interval: float = 0.25) -> None:
        self.live = LiveOutput(self.render, interval) if live else None
        self.bar = None
        self.state: dict[str, Any] = {"epoch": 0, "epochs": 0, "step": 0, "steps": None, "loss": None,
                                      "val_loss": None, "eta": None, "done": False}

    def __call__(self, event) -> None:
        st = self.state
        if event.kind == "train_begin":
            st.update(epoch=event.epoch, epochs=event.epochs, steps=event.steps)
        elif event.kind == "step":
            st.update(epoch=event.epoch, epochs=event.epochs, step=event.step, steps=event.steps,
                      loss=event.loss, eta=event.eta)
            self._update()
        elif event.kind == "epoch_end":
            st.update(val_loss=event.val_loss, loss=event.loss)
            self._update(force=True)
        elif event.kind == "sample" and event.sample:
            self._write(f"epoch {event.epoch} sample: {event.sample!r}")
        elif event.kind in ("warning", "train_end"):
            if event.kind == "train_end":
                st.update(done=True, eta=0.0)
                self._update(force=True)
                if self.bar is not None:
                    self.bar.close()
                    self.bar = None
            if event.message:
                self._write(event.message)

    # --- Rendering ---

    def done_steps(self) -> tuple[int, int | None]:
        st = self.state
        steps = st["steps"] or 0
        total = steps * st["epochs"] if steps else None
        return (st["epoch"] - 1) * steps + st["step"], total

    def describe(self) -> str:
        st = self.state
        parts = [f"epoch {st['epoch']}/{st['epochs']}"]
        if st["loss"] is not None:
            parts.append(f"loss {st['loss']:.3f}")
        if st["val_loss"] is not None:
            parts.append(f"val_loss {st['val_loss']:.3f}")
        if st["eta"] is not None and not st["done"]:
            parts.append(f"ETA {_duration(st['eta'])}")
        return "  ".join(parts)

    def render(self) -> tuple[Bundle, dict]:
        done, total = self.done_steps()
        width = 30
        filled = int(width * done / total) if total else 0
        bar = "\u2588" * filled + "\u2591" * (width - filled)
        count = f"{done}/{total} steps" if total else f"{done} steps"
        plain = f"training {bar} {count}  {self.describe()}"
        progress = f'<progress value="{done}" max="{total}"></progress>' if total else "<progress></progress>"
        markup = (f'<div class="jupyter-llm-progress" style="font-family:monospace">{progress} '
                  f"{html.escape(count)} &middot; {html.escape(self.describe())}</div>")
        return {"text/plain": plain, "text/html": markup}, {METADATA_KEY: {"kind": "training", **self.state}}

    def _update(self, force: bool = False) -> None:
        if self.live is not None:
            self.live.update(force=force)
            return
        done, total = self.done_steps()
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="step", desc="training", dynamic_ncols=True, leave=True)
        self.bar.n = done
        self.bar.set_postfix_str(self.describe(), refresh=False)
        self.bar.update(0)

    def _write(self, message: str) -> None:
        if self.bar is not None:
            self.bar.write(message)
        else:
            print(message)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    minutes, s = divmod(seconds, 60)
    hours, m = divmod(minutes, 60)
    return f"{hours}:{m:02d}:{s:02d}" if hours else f"{m}:{s:02d}"


# === Tables ===

def table_bundle(headers: list[str], rows: list[list[Any]], title: str | None = None) -> Bundle:
    """A table as aligned text and as escaped HTML."""
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    lines = ([title] if title else []) + [
        "  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip(),
        "  ".join("-" * w for w in widths),
        *("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in cells),
    ]
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in r) + "</tr>" for r in cells)
    caption = f"<caption>{html.escape(title)}</caption>" if title else ""
    return {"text/plain": "\n".join(lines),
            "text/html": f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"}


def show(bundle: Bundle, metadata: dict | None = None) -> None:
    display(bundle, raw=True, metadata=metadata or {})


def show_attention(amap: Any, metadata: dict[str, Any]) -> None:
    """Show an attention map, its provenance recorded in the map's ``meta`` and in the output's metadata."""
    amap.meta.update(metadata[METADATA_KEY])
    show(amap._repr_mimebundle_(), metadata)


def show_explanation(explanation: Any, metadata: dict[str, Any]) -> None:
    """Show an :class:`~jupyter_llm.Explanation` (its mime bundle), its provenance in its ``meta`` and the output's."""
    explanation.meta.update(metadata[METADATA_KEY])
    show(explanation._repr_mimebundle_(), metadata)


def show_copies(text: str, spans: Any, metadata: dict[str, Any]) -> None:
    """Show ``text`` with the spans ``lm.copied`` found in it marked (text and escaped HTML)."""
    from ..display.explain import copies_bundle

    show(copies_bundle(text, spans), metadata)


@contextmanager
def warnings_as_notes() -> Iterator[None]:
    """Show the user warnings of a block (unknown symbols, ...) as one line each, without a source location."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        yield
    for w in caught:
        if issubclass(w.category, UserWarning):
            print(f"{w.category.__name__}: {w.message}", file=sys.stderr)
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)


class _DropRetracingNotices(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


@contextmanager
def quiet_retracing() -> Iterator[None]:
    """Hide TensorFlow's retracing notices, which ``LanguageModel.evaluate`` causes on every call
    (it defines its ``tf.function`` inside the method) and a user cannot act on."""
    logger = logging.getLogger("tensorflow")
    notices = _DropRetracingNotices()
    logger.addFilter(notices)
    try:
        yield
    finally:
        logger.removeFilter(notices)
