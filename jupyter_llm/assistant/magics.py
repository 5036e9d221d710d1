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

The magic only parses and displays: :class:`~jupyter_llm.assistant.Assistant`
does the work. Its settings are the ``JupyterLLMAssistant`` configurable
(``%config JupyterLLMAssistant.threshold = 0.6``).
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

from IPython.core import magic_arguments
from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument
from traitlets import Bool, Float, TraitError, Unicode, observe, validate
from traitlets.config import Configurable

from ..errors import JupyterLLMError

if TYPE_CHECKING:  # pragma: no cover
    from .core import Assistant

__all__ = ["AssistantMagics", "JupyterLLMAssistant", "register_magics"]

#: The confidence needed to act (the same as ``core.DEFAULT_THRESHOLD``; not imported, to keep registering cheap).
DEFAULT_THRESHOLD = 0.5
# Options that take a value (the message starts at the first word that is not an option).
_VALUED = {"--teach", "--intent", "-m", "--model", "--threshold", "--seed"}


class JupyterLLMAssistant(Configurable):
    """Settings of ``%assistant`` (``%config JupyterLLMAssistant.threshold = 0.6``)."""

    threshold = Float(DEFAULT_THRESHOLD, help="Below this confidence the assistant offers its best guesses "
                                              "instead of acting (0 to 1).").tag(config=True)
    db = Unicode(None, allow_none=True, help="The SQLite file of the assistant's state. None: "
                                             "$JUPYTER_LLM_ASSISTANT_DB or JUPYTER_LLM_HOME/assistant.db.").tag(config=True)
    draft_model = Unicode(None, allow_none=True, help="The generation model drafts are continued with "
                                                      "(a store name, a folder, or a variable).").tag(config=True)
    explain = Bool(False, help="Always show the attention and slot tags under a reply.").tag(config=True)

    @validate("threshold")
    def _check_threshold(self, proposal):
        if not 0.0 <= proposal.value <= 1.0:
            raise TraitError(f"Invalid value for JupyterLLMAssistant.threshold. Expected a number in [0, 1]. "
                             f"Received: {proposal.value!r}")
        return proposal.value


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

    def __init__(self, shell: Any, settings: JupyterLLMAssistant | None = None) -> None:
        super().__init__(shell=shell)
        self.settings = settings or JupyterLLMAssistant(parent=shell)
        self._assistant: "Assistant | None" = None
        self.last_message: str | None = None
        self.settings.observe(self._settings_changed, names=["db", "threshold"])

    def get_assistant(self) -> "Assistant":
        """The assistant of this shell (made on first use; it reads the shell's namespace)."""
        if self._assistant is None:
            from .core import Assistant

            self._assistant = Assistant(db=self.settings.db, namespace=lambda: self.shell.user_ns,
                                        draft_model=self._draft_model, threshold=self.settings.threshold)
        return self._assistant

    def _draft_model(self) -> str | None:
        """``JupyterLLMAssistant.draft_model``, else the magics' ``JupyterLLM.default_model`` (``%llm use``)."""
        if self.settings.draft_model:
            return self.settings.draft_model
        for configurable in getattr(self.shell, "configurables", []):
            if type(configurable).__name__ == "JupyterLLM" and getattr(configurable, "default_model", None):
                return configurable.default_model
        return None

    def set_assistant(self, value: "Assistant") -> None:
        """Use another Assistant (for example one with models of your own)."""
        self._assistant = value

    def _settings_changed(self, change) -> None:
        if self._assistant is None:
            return
        if change.name == "threshold":
            self._assistant.threshold = change.new
        else:
            self._assistant = None  # another database: open it on next use

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


#: The magics registered per shell (id of the shell -> its AssistantMagics).
REGISTERED: dict[int, AssistantMagics] = {}


def register_magics(ipython: Any) -> AssistantMagics:
    """Register ``%assistant`` / ``%%assistant`` and the ``JupyterLLMAssistant`` settings with a shell.

    Imports no TensorFlow: the models load on the first message.
    """
    magics = REGISTERED.get(id(ipython))
    if magics is not None and magics.shell is ipython:
        return magics
    settings = JupyterLLMAssistant(parent=ipython)
    magics = AssistantMagics(ipython, settings)
    ipython.register_magics(magics)
    if settings not in ipython.configurables:
        ipython.configurables.append(settings)
    REGISTERED[id(ipython)] = magics
    return magics


def unregister_magics(ipython: Any) -> None:
    """Remove what :func:`register_magics` added."""
    magics = REGISTERED.pop(id(ipython), None)
    if magics is None:
        return
    manager = ipython.magics_manager
    for kind, table in magics.magics.items():
        for name, func in table.items():
            if manager.magics[kind].get(name) == func:
                del manager.magics[kind][name]
    manager.registry.pop(type(magics).__name__, None)
    if magics.settings in ipython.configurables:
        ipython.configurables.remove(magics.settings)
