"""``JupyterLLM``: the settings of the magics, as traitlets configuration.

Set them in a notebook with ``%config JupyterLLM.default_model = "poems"`` or
once for every session in ``ipython_config.py``::

    c.JupyterLLM.default_model = "poems"
    c.JupyterLLM.max_tokens = 300
"""

from __future__ import annotations

import math

import os

from traitlets import Bool, Float, Int, TraitError, Unicode, observe, validate
from traitlets.config import Configurable

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

    max_tokens = Int(200, help="Tokens to generate when -n/--max-tokens is not given.").tag(config=True)

    temperature = Float(1.0, help="Sampling temperature when -t/--temperature is not given (> 0).").tag(config=True)

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

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        if self.store_path:  # a value from ipython_config.py applies from the start
            self._apply_store_path(self.store_path)

    @validate("max_tokens")
    def _check_max_tokens(self, proposal):
        if proposal.value < 1:
            raise TraitError(f"Invalid value for JupyterLLM.max_tokens. Expected an integer >= 1. "
                             f"Received: {proposal.value!r}")
        return proposal.value

    @validate("temperature")
    def _check_temperature(self, proposal):
        if not (proposal.value > 0 and math.isfinite(proposal.value)):
            raise TraitError(f"Invalid value for JupyterLLM.temperature. Expected a finite number > 0. "
                             f"Received: {proposal.value!r}")
        return proposal.value

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
