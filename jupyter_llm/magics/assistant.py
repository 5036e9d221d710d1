"""``%assistant`` and ``%%assistant``: talk to the assistant from a notebook.

::

    %assistant remind me to call Bob tomorrow at 3pm
    %assistant 提醒我明天下午3点给妈妈打电话
    %assistant --yes cancel the dentist appointment
    %assistant undo
    %assistant --teach add_todo "put [oat milk](task) on the shopping list"
    %assistant --explain what's on my calendar today

    %%assistant how does this sound?
    Thanks so much for your help last week, it made a real difference.

The magic only parses and displays: the shell's
:class:`~jupyter_llm.assistant.Assistant` (``ShellState.assistant``, shared with
the AssistantPanel) does the work. Its settings are the ``JupyterLLMAssistant``
configurable (``%config JupyterLLMAssistant.threshold = 0.6``).
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

from IPython.core import magic_arguments
from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument

from ..errors import JupyterLLMError

if TYPE_CHECKING:  # pragma: no cover
    from ..assistant.core import Assistant
    from ..shell import ShellState

__all__ = ["AssistantMagics", "split_options"]

# Options that take a value (the message starts at the first word that is not an option).
_VALUED = {"--teach", "--intent", "-m", "--model", "--threshold", "--seed"}


def split_options(line: str) -> tuple[list[str], str]:
    """The leading ``--options`` of a line and the message after them, left as typed.

    >>> split_options("--yes cancel the dentist's appointment")
    (['--yes'], "cancel the dentist's appointment")
    """
    tokens: list[str] = []
    rest = line.strip()
    expect_value = False
    while rest and (expect_value or (rest.startswith("-") and not rest[1:2].isdigit())):
        if rest[0] in "\"'":
            end = rest.find(rest[0], 1)
            if end < 0:
                raise UsageError(f"Unbalanced quotes in {rest!r}. Expected a closing {rest[0]}.")
            token, rest = rest[1:end], rest[end + 1:].lstrip()
        else:
            token, _, rest = rest.partition(" ")
            rest = rest.lstrip()
        if expect_value:
            tokens.append(token)
            expect_value = False
            continue
        if token == "--":  # the message starts here even if it begins with "-"
            break
        name = token.split("=", 1)[0]
        tokens.append(token)
        expect_value = name in _VALUED and "=" not in token
    return tokens, _unquote(rest)


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'" and text[0] not in text[1:-1]:
        return text[1:-1]
    return text


@magics_class
class AssistantMagics(Magics):
    """``%assistant`` / ``%%assistant``."""

    def __init__(self, shell: Any, state: "ShellState") -> None:
        super().__init__(shell=shell)
        self.state = state
        self.settings = state.assistant_config
        self.last_message: str | None = None

    def get_assistant(self) -> "Assistant":
        """The assistant of this shell (made on first use; it reads the shell's namespace)."""
        return self.state.assistant

    def set_assistant(self, value: "Assistant") -> None:
        """Use another Assistant (for example one with models of your own)."""
        self.state.assistant = value

    @no_var_expand
    @magic_arguments.magic_arguments()
    @argument("-y", "--yes", action="store_true", help="confirm a destructive action (cancel, delete, replace a file)")
    @argument("-e", "--explain", action="store_true",
              help="show what was understood and why (attention over the words, slot tags) without acting; "
                   "alone, explains the previous message")
    @argument("--teach", metavar="INTENT", help="teach: the message is an example of INTENT, slots marked "
                                                "[value](slot); retrains in seconds")
    @argument("--intent", metavar="INTENT", help="act on INTENT whatever the model thinks")
    @argument("-m", "--model", metavar="NAME", help="the generation model for drafts (store name, folder or variable)")
    @argument("--threshold", type=float, metavar="F", help="confidence needed to act, 0 to 1 (this message only)")
    @argument("--seed", type=int, metavar="N", help="seed of the draft's generation")
    @argument("-o", "--output", action="store_true", help="also return the Reply object")
    @argument("message", nargs="*", help="what you want, in English or Chinese; `undo` reverts the last change, "
                                          "`help` lists what is understood")
    @line_cell_magic
    def assistant(self, line: str, cell: str | None = None):
        """Talk to the personal assistant (English or Chinese); docs/assistant.md has the details.

        Examples::

          %assistant remind me to call Bob tomorrow at 3pm
          %assistant 明天有什么安排
          %assistant --yes cancel the dentist appointment
          %assistant undo
          %assistant --teach add_todo "stick [oat milk](task) on the shopping pile"
          %assistant --explain what's on my calendar today

          %%assistant how does this sound?
          Thanks so much for your help last week.
        """
        options, message = split_options(line)
        args = magic_arguments.parse_argstring(self.assistant, " ".join(shlex.quote(t) for t in options))
        attached = None
        if cell is not None:
            if message:
                attached = cell
            else:
                first, _, body = cell.strip().partition("\n")
                message, attached = first.strip(), body.strip() or None
                if args.teach:
                    message, attached = cell.strip(), None
        try:
            reply = self._run(args, message, attached)
        except JupyterLLMError as e:
            raise UsageError(str(e)) from None
        from IPython.display import display

        display(reply)
        return reply if args.output else None

    def _run(self, args, message: str, attached: str | None):
        a = self.get_assistant()
        if args.teach:
            if not message:
                raise UsageError('--teach needs an example. Expected: %assistant --teach INTENT "an example [value](slot)".')
            return a.teach(args.teach, _unquote(message))
        if args.explain:
            target = message or self.last_message
            if not target:
                raise UsageError("--explain needs a message (or a previous one). Expected: %assistant --explain MESSAGE.")
            return a.explain(target)
        if not message:
            return a.help()
        if args.threshold is not None and not 0 <= args.threshold <= 1:
            raise UsageError(f"Invalid value for argument --threshold. Expected a number in [0, 1]. Received: {args.threshold}")
        self.last_message = message
        old = a.threshold
        if args.threshold is not None:
            a.threshold = args.threshold
        try:
            return a.ask(message, yes=args.yes, intent=args.intent, attached=attached, model=args.model, seed=args.seed,
                         explain=self.settings.explain)
        finally:
            a.threshold = old
