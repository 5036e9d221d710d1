"""``%%generate`` and ``%generate``: continue a prompt with a language model.

The magic parses its options, fills in the prompt template, asks
:meth:`LanguageModel.stream` for text and shows it as it arrives. All the
decoding is the model's; this module only reads the cell and displays.
"""

from __future__ import annotations

import hashlib
import sys
from typing import TYPE_CHECKING, Any, Iterator

from IPython.core import magic_arguments
from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand

from ..generation.options import GENERATION, VIEWS
from .models import ModelSession, Resolved
from .output import (
    METADATA_KEY,
    LiveOutput,
    WaitingNote,
    provenance,
    show,
    show_attention,
    show_copies,
    show_explanation,
    text_bundle,
    updates_in_place,
    warnings_as_notes,
)
from .parsing import (
    identifier,
    parse,
    split_line,
    table_arguments,
    unescape,
    unquote_text,
    user_errors,
)
from .templates import interpolate

if TYPE_CHECKING:  # pragma: no cover
    from ..shell import ShellState

FORMATS = ("text", "markdown", "code")

EXAMPLES = r"""
Examples::

  %%generate -n 120 -t 0.8 --seed 1
  ROMEO:

  %generate -m poems --samples 3 The sea at night

  %%generate --stop '\n\n' -o reply --attention
  Dear {name}, thank you for {In[3]}

  %%generate -f code --echo
  def fibonacci(n):

  %%generate --greedy --explain --check-copies
  ROMEO:

The prompt is the cell body (or, on one line, the text after the options).
{name} is replaced by the variable `name`, {In[3]} and {Out[3]} by that
cell's input and output; {{ and }} are literal braces; nothing is evaluated.
Each output's metadata records the model, its fingerprint and the options.
Ctrl-C (interrupt the kernel) stops generating and keeps the text so far.
"""


@magics_class
class GenerateMagics(Magics):
    """``%%generate`` / ``%generate``."""

    def __init__(self, shell, state: "ShellState") -> None:
        super().__init__(shell=shell)
        self.session = ModelSession(state)

    @magic_arguments.magic_arguments()
    @magic_arguments.kwds(epilog=EXAMPLES)
    @magic_arguments.argument("-m", "--model", metavar="NAME",
                              help="the model: a LanguageModel variable, a name in the model store or a model "
                                   "folder (default: the current model, see %%llm use)")
    @table_arguments(GENERATION, "magic")
    @magic_arguments.argument("-f", "--format", choices=FORMATS, default="text",
                              help="show the text as plain text, rendered Markdown, or code "
                                   "(code also puts it into a new cell below)")
    @magic_arguments.argument("--insert", action="store_true",
                              help="put the generated text into a new cell below")
    @magic_arguments.argument("--echo", action="store_true",
                              help="include the prompt in what is shown, inserted and stored")
    @magic_arguments.argument("-o", "--out", type=identifier, metavar="VAR",
                              help="store the text in variable VAR (a list of texts with --samples)")
    @magic_arguments.argument("--attention", action="store_true",
                              help="also show the attention map of the prompt and the continuation")
    @table_arguments(VIEWS, "magic")
    @magic_arguments.argument("--no-stream", action="store_true",
                              help="show the text once, when it is complete")
    @magic_arguments.argument("--no-interpolate", action="store_true",
                              help="take the prompt literally: no {name}, {In[N]}, {Out[N]}")
    @magic_arguments.argument("prompt", nargs="*", metavar="PROMPT",
                              help="the prompt, on the line form %%generate only")
    @no_var_expand
    @line_cell_magic
    def generate(self, line: str, cell: str | None = None) -> None:
        """Continue a prompt with a language model, showing the text as it is generated."""
        words, rest = split_line(line, self.generate.parser)
        args = parse(self.generate.parser, words, "%generate" if cell is None else "%%generate")
        args.n = GENERATION["n"].default_for("magic") if args.n is None else args.n
        prompt = self._prompt(args, rest, cell)
        options = self._options(args)
        with WaitingNote(self.shell) as note:  # "loading TensorFlow…", until the text takes its place
            resolved = self.session.resolve(args.model, note=note)
            if args.check_copies:
                _check_copy_index(resolved)  # before generating: a model without an index is one sentence
            self.session.prepare(resolved, note)
        self._generate(args, prompt, options, resolved, note)

    def _generate(self, args, prompt: str, options: dict[str, Any], resolved: Resolved, note: WaitingNote) -> None:
        """Stream the text into the cell (in place of ``note``), then store, insert and explain as asked."""
        from ..generation.generator import Trace  # the model is loaded: numpy and TensorFlow are too

        trace = Trace(record_attention=args.attention)  # the ids (and weights) --attention shows
        with note, user_errors(), warnings_as_notes():  # e.g. symbols of the prompt the model never saw
            pieces = resolved.model.stream(prompt, **options, trace=trace)
        stream = self.session.config.stream and not args.no_stream
        record = {
            "options": {**options, "format": args.format, "stream": stream, "echo": args.echo,
                        "explain": args.explain, "check_copies": args.check_copies},
            "prompt_tokens": len(trace.prompt_ids if trace.prompt_ids is not None  # set when the stream starts
                                 else resolved.model.tokenizer.encode(prompt)),  # (a wrapped, lazy stream)
            "prompt_sha256": hashlib.sha256(prompt.encode()).hexdigest()[:16],
        }
        metadata = provenance(resolved, "generation", **record)
        texts, interrupted = self._show_stream(pieces, prompt, args, stream, metadata, note.handle)

        result = [prompt + t for t in texts] if args.echo else texts
        if args.out:
            self.shell.user_ns[args.out] = result[0] if args.n == 1 else result
        if interrupted:
            kept = f"; it is in {args.out}" if args.out else ""
            print(f"Generation interrupted: kept the {sum(map(len, texts))} characters generated so far{kept}.")
        if args.insert or args.format == "code":
            self.shell.set_next_input(result[0], replace=False)
        if args.attention:
            self._show_attention(resolved, trace, record)
        if args.explain or args.check_copies:
            self._show_explanations(resolved, trace, texts, args, record)

    def _prompt(self, args, rest: str, cell: str | None) -> str:
        """The prompt: the cell body (or the rest of the line), its template filled in."""
        if cell is None:
            prompt = unquote_text(rest)
        elif rest:
            raise UsageError(f"%%generate takes only options on its first line; the prompt is the cell body. "
                             f"Received: {rest!r}")
        else:
            prompt = cell[:-1] if cell.endswith("\n") else cell
        if not args.no_interpolate:
            prompt = interpolate(prompt, self.shell.user_ns, inputs=self._inputs())
        if not prompt.strip():
            where = "after the options of %generate" if cell is None else "in the cell below %%generate"
            raise UsageError(f"The prompt is empty. Expected text to continue: {where}.")
        return prompt

    def _options(self, args) -> dict[str, Any]:
        """The keyword arguments of ``LanguageModel.stream``, defaults from ``JupyterLLM``."""
        n = args.n
        if n > 1 and (args.insert or args.format == "code"):
            raise UsageError(f"--insert and -f code put one text into a new cell. Expected --samples 1 with them. "
                             f"Received: --samples {n}")
        if args.beam is not None and n > args.beam:
            raise UsageError(f"Beam search returns at most one text per beam. Expected --samples <= --beam. "
                             f"Received: --samples {n} --beam {args.beam}")
        settings = self.session.config
        chosen = {"max_tokens": settings.max_tokens, "temperature": settings.temperature}  # %config JupyterLLM...
        options = {name: chosen.get(name, option.default_for("magic")) if getattr(args, name) is None
                   else getattr(args, name) for name, option in GENERATION.items()}
        options["stop"] = [unescape(s) for s in args.stop or []]
        return options

    def _show_stream(self, pieces: Iterator[Any], prompt: str, args, stream: bool,
                     metadata: dict[str, Any], waiting: Any = None) -> tuple[list[str], bool]:
        """Consume the model's stream, showing the text; returns the texts and whether it was interrupted.

        In a notebook the output is updated in place; in a terminal the text
        is printed as it comes; without streaming it is shown once at the end.
        ``waiting``: the handle of the line that said what the cell waited for;
        the text takes its place. An interrupt (Ctrl-C, kernel interrupt) ends
        the stream and keeps the text so far.
        """
        n = args.n
        texts = [""] * n
        interrupted = False

        def render() -> tuple[dict, dict]:
            shown = [prompt + t for t in texts] if args.echo else [shown_alone(t) for t in texts]
            meta = {**metadata[METADATA_KEY], "interrupted": interrupted, "generated_chars": [len(t) for t in texts]}
            return text_bundle(shown, args.format, n), {METADATA_KEY: meta}

        in_place = stream and updates_in_place(self.shell)
        typed = stream and not in_place and n == 1
        live = LiveOutput(render, self.session.config.stream_interval, handle=waiting)
        written = 0  # characters of the text printed so far (a terminal)
        try:
            if in_place and waiting is None:  # (a waiting line stays until the first text replaces it)
                live.show()
            elif typed and args.echo:
                _write(prompt)
            for piece in pieces:
                texts = [t + p for t, p in zip(texts, piece if n > 1 else [piece])]
                if in_place:
                    if args.echo or any(shown_alone(t) for t in texts):  # (a waiting note stays until text shows)
                        live.update()
                elif typed:  # what is new of the text as shown (no leading blank line, see shown_alone)
                    visible = texts[0] if args.echo else shown_alone(texts[0])
                    _write(visible[written:])
                    written = len(visible)
        except KeyboardInterrupt:
            interrupted = True
        if in_place:
            live.update(force=True)
        elif typed:
            _write("\n")
        elif waiting is not None:
            live.show()  # the whole text, in place of the waiting line
        else:
            show(*render())
        return texts, interrupted

    def _show_attention(self, resolved: Resolved, trace: Any, record: dict[str, Any]) -> None:
        """The attention map of the prompt and the first text, from the generation's own trace."""
        with user_errors():
            amap = resolved.model.trace_attention(trace)
        show_attention(amap, provenance(resolved, "attention", **record))

    def _show_explanations(self, resolved: Resolved, trace: Any, texts: list[str], args,
                           record: dict[str, Any]) -> None:
        """Per sample: its explanation (``--explain``), with its copied spans marked (``--check-copies``);
        or, with ``--check-copies`` alone, the continuation with its copied spans marked."""
        from ..model.explain import explain_trace

        lm = resolved.model
        for row, text in enumerate(texts):
            sample = {"sample": row} if len(texts) > 1 else {}
            with user_errors():
                if not args.explain:
                    show_copies(text, lm.copied(text), provenance(resolved, "copies", **record, **sample))
                    continue
                explanation = explain_trace(lm, trace, row)
                if args.check_copies:
                    explanation.mark_copies_of(lm)
            show_explanation(explanation, provenance(resolved, "explanation", **record, **sample))

    def _inputs(self) -> list[str]:
        history = getattr(self.shell, "history_manager", None)
        raw = getattr(history, "input_hist_raw", None)
        return list(raw) if raw else list(self.shell.user_ns.get("In", []))


def _check_copy_index(resolved: Resolved) -> None:
    """Raise a UsageError, in the model's one sentence, unless it has an index of its training text."""
    from ..model.copied import require_index

    with user_errors():  # NoCopyIndexError: trained with copy_index=False, or before there was one
        require_index(resolved.model)


def shown_alone(text: str) -> str:
    """``text`` as shown without its prompt: an output does not start with a blank line.

    (A prompt such as ``ROMEO:`` is usually continued with a newline; shown on
    its own, under the cell, that newline is an empty first line. ``--echo``, the
    variable of ``-o`` and the cell of ``--insert`` keep the text exactly.)
    """
    return text.lstrip("\r\n")


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


