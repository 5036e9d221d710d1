"""The kernel channel's ``assistant`` request: the JupyterLab assistant tab talks to this.

:func:`handle_request` takes the request's payload and returns the response
payload (a JSON-ready dict). A bad payload raises
:class:`~jupyter_llm.JupyterLLMError`, which the channel sends back as an
``error`` message with its one sentence.

Payload::

    {"action": "ask",                 # or "undo", "teach", "explain", "help", "intents"
     "message": "remind me to ...",   # ask, explain ("text" is accepted too, as protocol.py names it)
     "yes": false,                    # ask: confirm a destructive action
     "intent": null,                  # ask: force an intent; teach: the intent taught
     "example": "...",                # teach: a Markdown-annotated example
     "attached": null,                # ask: longer text going with the request
     "model": null}                   # ask: generation model for drafts

Response: :meth:`Reply.to_dict` (``text``, ``status``, ``intent``, ``confidence``,
``slots``, ``candidates``, ``reminders``, ``needs_confirmation``, ``html``, ...)
plus ``"action"``; for ``"intents"``: ``{"action": "intents", "intents": {name: {"en": ..., "zh": ...}}}``.
"""

from __future__ import annotations

from typing import Any

from ..errors import invalid
from .core import Assistant

__all__ = ["handle_request", "default_assistant", "ACTIONS"]

ACTIONS = ("ask", "undo", "teach", "explain", "help", "intents")
_DEFAULT: Assistant | None = None


def default_assistant() -> Assistant:
    """The assistant of the running shell's ``%assistant`` magic, else one for this process."""
    global _DEFAULT
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # pragma: no cover
        shell = None
    if shell is not None:
        from .magics import REGISTERED

        magics = REGISTERED.get(id(shell))
        if magics is not None:
            return magics.get_assistant()
    if _DEFAULT is None:
        _DEFAULT = Assistant()
    return _DEFAULT


def _text(payload: dict[str, Any], key: str, required: bool = True) -> str | None:
    value = payload.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise invalid(key, "a non-empty string", value)
    return value


def handle_request(payload: dict[str, Any], assistant: Assistant | None = None) -> dict[str, Any]:
    """Serve one ``assistant`` request of the kernel channel (see the module docstring)."""
    if not isinstance(payload, dict):
        raise invalid("payload", "a JSON object", type(payload).__name__)
    action = payload.get("action", "ask")
    if action not in ACTIONS:
        raise invalid("action", f"one of {', '.join(ACTIONS)}", action)
    if "message" not in payload and "text" in payload:  # the channel's protocol calls it "text"
        payload = {**payload, "message": payload["text"]}
    a = assistant or default_assistant()
    if action == "intents":
        return {"action": action, "intents": {k: {"en": en, "zh": zh} for k, (en, zh) in a.intents.items()}}
    if action == "ask":
        yes = payload.get("yes", False)
        if not isinstance(yes, bool):
            raise invalid("yes", "true or false", yes)
        reply = a.ask(_text(payload, "message"), yes=yes, intent=_text(payload, "intent", required=False),
                      attached=_text(payload, "attached", required=False), model=_text(payload, "model", required=False))
    elif action == "undo":
        reply = a.undo()
    elif action == "teach":
        reply = a.teach(_text(payload, "intent"), _text(payload, "example"))
    elif action == "explain":
        reply = a.explain(_text(payload, "message"))
    else:
        reply = a.help()
    return {"action": action, **reply.to_dict()}
