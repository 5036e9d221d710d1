"""``%%generate`` and ``%generate``: continue a prompt with a language model.

The magic parses its options, fills in the prompt template, asks
:meth:`LanguageModel.stream` for text and shows it as it arrives. All the
decoding is the model's; this module only reads the cell and displays.
"""

from __future__ import annotations

import hashlib
import sys
import warnings
from typing import Any, Iterator

from IPython.core import magic_arguments
from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand

from .models import ModelSession, Resolved
from .output import (
    METADATA_KEY,
    LiveOutput,
    provenance,
    show,
    text_bundle,
    updates_in_place,
    warnings_as_notes,
)
from .parsing import (
    identifier,
    non_negative_int,
    parse,
    positive_float,
    positive_int,
    probability,
    split_line,
    unescape,
    unquote_text,
    user_errors,
)
from .templates import interpolate

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

The prompt is the cell body (or, on one line, the text after the options).
{name} is replaced by the variable `name`, {In[3]} and {Out[3]} by that
cell's input and output; {{ and }} are literal braces; nothing is evaluated.
Each output's metadata records the model, its fingerprint and the options.
Ctrl-C (interrupt the kernel) stops generating and keeps the text so far.
"""


@magics_class
class GenerateMagics(Magics):
    """``%%generate`` / ``%generate``."""

    def __init__(self, shell, session: ModelSession) -> None:
        super().__init__(shell=shell)
        self.session = session

    @magic_arguments.magic_arguments()
    @magic_arguments.kwds(epilog=EXAMPLES)
    @magic_arguments.argument("-m", "--model", metavar="NAME",
                              help="the model: a LanguageModel variable, a name in the model store or a model "
                                   "folder (default: the current model, see %%llm use)")
    @magic_arguments.argument("-n", "--max-tokens", type=non_negative_int, metavar="N",
                              help="tokens to generate (default: JupyterLLM.max_tokens, 200)")
    @magic_arguments.argument("-t", "--temperature", type=positive_float, metavar="T",
                              help="> 0; lower is more predictable, higher more surprising "
                                   "(default: JupyterLLM.temperature, 1.0)")
    @magic_arguments.argument("--top-k", type=positive_int, metavar="K",
                              help="sample only among the K most likely tokens")
    @magic_arguments.argument("--top-p", type=probability, metavar="P",
                              help="sample only among the most likely tokens whose probabilities add up to P")
    @magic_arguments.argument("--repetition-penalty", type=positive_float, metavar="R",
                              help="> 1 discourages tokens already in the prompt or the output")
    @magic_arguments.argument("--stop", action="append", metavar="TEXT",
                              help=r"stop before this text (repeatable; \n and \t are a newline and a tab)")
    @magic_arguments.argument("--seed", type=non_negative_int, metavar="S",
                              help="the same seed gives the same text")
    @magic_arguments.argument("--greedy", action="store_true",
                              help="always take the most likely token (ignores -t, --top-k, --top-p)")
    @magic_arguments.argument("--beam", type=positive_int, metavar="N", help="beam search with N beams")
    @magic_arguments.argument("--samples", type=positive_int, default=1, metavar="N",
                              help="generate N alternatives, shown side by side")
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
        prompt = self._prompt(args, rest, cell)
        options = self._options(args)
        resolved = self.session.resolve(args.model)
        with user_errors(), warnings_as_notes():  # e.g. symbols of the prompt the model never saw
            pieces = resolved.model.stream(prompt, **options)
        stream = self.session.config.stream and not args.no_stream
        record = {
            "options": {**options, "format": args.format, "stream": stream, "echo": args.echo},
            "prompt_tokens": len(resolved.model.tokenizer.encode(prompt)),
            "prompt_sha256": hashlib.sha256(prompt.encode()).hexdigest()[:16],
        }
        metadata = provenance(resolved, "generation", **record)
        texts, interrupted = self._show_stream(pieces, prompt, args, stream, metadata)

        result = [prompt + t for t in texts] if args.echo else texts
        if args.out:
            self.shell.user_ns[args.out] = result[0] if args.samples == 1 else result
        if interrupted:
            kept = f"; it is in {args.out}" if args.out else ""
            print(f"Generation interrupted: kept the {sum(map(len, texts))} characters generated so far{kept}.")
        if args.insert or args.format == "code":
            self.shell.set_next_input(result[0], replace=False)
        if args.attention:
            self._show_attention(resolved, prompt, texts[0], record)

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
        n = args.samples
        if n > 1 and (args.insert or args.format == "code"):
            raise UsageError(f"--insert and -f code put one text into a new cell. Expected --samples 1 with them. "
                             f"Received: --samples {n}")
        if args.beam is not None and n > args.beam:
            raise UsageError(f"Beam search returns at most one text per beam. Expected --samples <= --beam. "
                             f"Received: --samples {n} --beam {args.beam}")
        settings = self.session.config
        return {
            "max_tokens": settings.max_tokens if args.max_tokens is None else args.max_tokens,
            "temperature": settings.temperature if args.temperature is None else args.temperature,
            "top_k": args.top_k,
            "top_p": args.top_p,
            "repetition_penalty": 1.0 if args.repetition_penalty is None else args.repetition_penalty,
            "stop": [unescape(s) for s in args.stop or []],
            "seed": args.seed,
            "n": n,
            "greedy": args.greedy,
            "beam": args.beam,
        }

    def _show_stream(self, pieces: Iterator[Any], prompt: str, args, stream: bool,
                     metadata: dict[str, Any]) -> tuple[list[str], bool]:
        """Consume the model's stream, showing the text; returns the texts and whether it was interrupted.

        In a notebook the output is updated in place; in a terminal the text
        is printed as it comes; without streaming it is shown once at the end.
        An interrupt (Ctrl-C, kernel interrupt) ends the stream and keeps the text so far.
        """
        n = args.samples
        texts = [""] * n
        interrupted = False

        def render() -> tuple[dict, dict]:
            shown = [prompt + t for t in texts] if args.echo else texts
            meta = {**metadata[METADATA_KEY], "interrupted": interrupted, "generated_chars": [len(t) for t in texts]}
            return text_bundle(shown, args.format, n), {METADATA_KEY: meta}

        in_place = stream and updates_in_place(self.shell)
        typed = stream and not in_place and n == 1
        live = LiveOutput(render, self.session.config.stream_interval)
        try:
            if in_place:
                live.show()
            elif typed and args.echo:
                _write(prompt)
            for piece in pieces:
                texts = [t + p for t, p in zip(texts, piece if n > 1 else [piece])]
                if in_place:
                    live.update()
                elif typed:
                    _write(piece)
        except KeyboardInterrupt:
            interrupted = True
        if in_place:
            live.update(force=True)
        elif typed:
            _write("\n")
        else:
            show(*render())
        return texts, interrupted

    def _show_attention(self, resolved: Resolved, prompt: str, continuation: str, record: dict[str, Any]) -> None:
        lm = resolved.model
        with user_errors(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unknown symbols were reported when generating
            amap = lm.attention(prompt + continuation, prompt_length=record["prompt_tokens"])
        amap.prompt_length = min(record["prompt_tokens"], len(amap))
        metadata = provenance(resolved, "attention", **record)
        amap.meta.update(metadata[METADATA_KEY])
        show(amap._repr_mimebundle_(), metadata)

    def _inputs(self) -> list[str]:
        history = getattr(self.shell, "history_manager", None)
        raw = getattr(history, "input_hist_raw", None)
        return list(raw) if raw else list(self.shell.user_ns.get("In", []))


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


