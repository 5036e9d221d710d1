"""The settings of the magics and the assistant, as traitlets configuration.

``JupyterLLM`` (``%%generate``, ``%llm``, the panels and the kernel channel) and
``JupyterLLMAssistant`` (``%assistant``). Both belong to the per-shell state
(:mod:`jupyter_llm.shell`) made by ``%load_ext jupyter_llm``.

Set them in a notebook with ``%config JupyterLLM.default_model = "poems"`` or
once for every session in ``ipython_config.py``::

    c.JupyterLLM.default_model = "poems"
    c.JupyterLLM.max_tokens = 300
"""

from __future__ import annotations

import os

from traitlets import Bool, Float, Int, TraitError, Unicode, default, observe, validate
from traitlets.config import Configurable

from .generation.options import GENERATION
from .warm_up import ENV as WARM_UP_ENV
from .warm_up import enabled_by_environment

#: The environment variable the model store reads (see ``jupyter_llm.store.home``).
HOME_ENV = "JUPYTER_LLM_HOME"


class JupyterLLM(Configurable):
    """Defaults of ``%%generate`` and ``%llm``."""

    default_model = Unicode(
        None,
        allow_none=True,
        help="The model %%generate uses without -m: a name in the model store, a model folder, "
             "or the name of a variable holding a LanguageModel. `%llm use NAME` sets it.",
    ).tag(config=True)

    prefer_user_models = Bool(
        False,
        help="When one of your saved models has the name of a bundled model (such as 'shakespeare'), "
             "use yours. False: the name means the bundled model; yours stays reachable by its folder path.",
    ).tag(config=True)

    max_tokens = Int(GENERATION["max_tokens"].default_for("magic"),
                     help="Tokens to generate when -n/--max-tokens is not given.").tag(config=True)

    temperature = Float(GENERATION["temperature"].default_for("magic"),
                        help="Sampling temperature when -t/--temperature is not given (> 0).").tag(config=True)

    stream = Bool(True, help="Show text as it is generated (False: show it once, at the end).").tag(config=True)

    store_path = Unicode(
        None,
        allow_none=True,
        help="The folder of the model store (sets $JUPYTER_LLM_HOME; models live in its 'models' "
             "subfolder). None: leave $JUPYTER_LLM_HOME or the user data folder.",
    ).tag(config=True)

    stream_interval = Float(
        0.05, help="Seconds between two updates of a streaming output (at most 20 updates a second)."
    ).tag(config=True)

    warm_up = Bool(
        help="When %load_ext jupyter_llm runs, import TensorFlow, load the default model and prepare it on a "
             "background thread, so the first %%generate answers at once. Read when the extension loads "
             f"(set it in ipython_config.py). Default: True, unless ${WARM_UP_ENV} is 0.",
    ).tag(config=True)

    @default("warm_up")
    def _warm_up_default(self) -> bool:
        return enabled_by_environment()

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        if self.store_path:  # a value from ipython_config.py applies from the start
            self._apply_store_path(self.store_path)

    @validate("max_tokens", "temperature")
    def _check_sampling(self, proposal):
        option = GENERATION[proposal.trait.name]
        try:
            return option.check(proposal.value, "config")
        except ValueError:
            raise TraitError(f"Invalid value for JupyterLLM.{option.name}. Expected {option.expected('config')}. "
                             f"Received: {proposal.value!r}") from None

    @validate("stream_interval")
    def _check_interval(self, proposal):
        if proposal.value < 0:
            raise TraitError(f"Invalid value for JupyterLLM.stream_interval. Expected seconds >= 0. "
                             f"Received: {proposal.value!r}")
        return proposal.value

    @observe("store_path")
    def _store_path_changed(self, change) -> None:
        if change.new:
            self._apply_store_path(change.new)

    @staticmethod
    def _apply_store_path(path: str) -> None:
        os.environ[HOME_ENV] = os.path.abspath(os.path.expanduser(path))


#: The confidence needed to act (the same as ``core.DEFAULT_THRESHOLD``; not imported, to keep registering cheap).
DEFAULT_THRESHOLD = 0.5


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
