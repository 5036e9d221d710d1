"""The options of generation, declared once (see :mod:`jupyter_llm.options`), and ``SamplingOptions``.

``SamplingOptions`` validates with this table; ``%%generate``, ``jupyter-llm
generate``, the GeneratePanel's controls, the kernel channel's limits and
``docs/options.md`` are built from it. No numpy here: loading the magics stays light.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ..errors import invalid
from ..options import Option, SurfaceRule

#: The range of ``repetition_penalty``: a logit divided or multiplied by more than this much
#: leaves a distribution where every seen (or every unseen) token is all but impossible.
MIN_PENALTY, MAX_PENALTY = 0.01, 100.0

_INTERACTIVE = ("a request from JupyterLab runs in the kernel while the writer waits, and each token is sent "
                "over the channel: 4000 tokens is several pages")
_DEMO_WHY = ("jupyter-llm demo shows what a bundled model writes with no options at all: a passage long enough "
             "to judge, a little below temperature 1 so a first look is not its strangest, the same text each time")
_COMPLETION_WHY = ("an inline completion is a suggestion shown while typing: it must come back in a moment, "
                   "so it is short, and a lower temperature keeps it close to what most likely comes next")

GENERATION: dict[str, Option] = {o.name: o for o in [
    Option("max_tokens", int, 200, "tokens to generate", low=1, flags=("-n",), metavar="N",
           ui=(1, 4000, 1),
           surfaces={"demo": SurfaceRule(default=300, why=_DEMO_WHY),
                     "channel": SurfaceRule(high=4000, why=_INTERACTIVE),
                     "panel": SurfaceRule(high=4000, why=_INTERACTIVE),
                     "completion": SurfaceRule(default=24, high=200, why=_COMPLETION_WHY)}),
    Option("temperature", float, 1.0, "lower is more predictable, higher more surprising", low=0, low_open=True,
           flags=("-t",), metavar="T", ui=(0.05, 2.0, 0.05),
           note="for greedy decoding, the most likely token each step, pass greedy=True",
           surfaces={"demo": SurfaceRule(default=0.8, why=_DEMO_WHY),
                     "completion": SurfaceRule(default=0.5, why=_COMPLETION_WHY)}),
    Option("top_k", int, None, "sample only among the K most likely tokens", low=1, none="no limit",
           metavar="K", ui=(0, 200, 1)),
    Option("top_p", float, None, "sample only among the most likely tokens whose probabilities add up to P",
           low=0, high=1, low_open=True, none="no limit", metavar="P", ui=(0.05, 1.0, 0.01)),
    Option("repetition_penalty", float, 1.0, "above 1 discourages tokens already in the prompt or the output, 1.0 is none", low=MIN_PENALTY, high=MAX_PENALTY, metavar="R", ui=(1.0, 2.0, 0.05)),
    Option("stop", list, [], r"stop before this text (repeatable; \n and \t are a newline and a tab)",
           metavar="TEXT"),
    Option("seed", int, None, "the same seed gives the same text", low=0, none="a new draw each time",
           metavar="S", surfaces={"demo": SurfaceRule(default=0, why=_DEMO_WHY)}),
    Option("n", int, 1, "generate N alternatives", low=1, flag="--samples", metavar="N", ui=(1, 8, 1)),
    Option("greedy", bool, False, "always take the most likely token (ignores temperature, top-k and top-p)"),
    Option("beam", int, None, "beam search with N beams", low=1, none="sampling", metavar="N"),
]}


#: What a surface shows of a generation besides its text (#15). Not sampling options (``SamplingOptions``
#: and ``stream`` never see them): ``generate(explain=True)``, ``%%generate --explain --check-copies`` and
#: the GeneratePanel's Explain view validate with these.
VIEWS: dict[str, Option] = {o.name: o for o in [
    Option("explain", bool, False, "also explain each token of the continuation: its probability, surprisal, "
           "alternatives, and how much of its logit came from attention"),
    Option("check_copies", bool, False, "mark the spans of the continuation found verbatim in the model's "
           "training text (a model trained with an index of it)"),
]}


@dataclass
class SamplingOptions:
    """Decoding options shared by ``generate``, ``stream`` and every surface.

    Each field is an option of :data:`~jupyter_llm.generation.options.GENERATION`,
    which states its range, default and help once; this checks every field
    against it, so a bad value gets the same sentence on every surface.
    """

    max_tokens: int = GENERATION["max_tokens"].default
    temperature: float = GENERATION["temperature"].default
    top_k: int | None = None
    top_p: float | None = None
    repetition_penalty: float = GENERATION["repetition_penalty"].default
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    n: int = GENERATION["n"].default
    greedy: bool = False
    beam: int | None = None

    def __post_init__(self) -> None:
        if self.stop is None:
            self.stop = []
        for name, option in GENERATION.items():
            setattr(self, name, option.check(getattr(self, name)))
        if self.beam is not None and self.n > self.beam:
            raise invalid("n", f"at most beam={self.beam} with beam search", self.n)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], surface: str = "api") -> "SamplingOptions":
        """Options from a mapping (a request's payload, a panel's controls), with ``surface``'s defaults and limits.

        Keys that are not options are ignored; a missing or None value takes
        the surface's default.
        """
        kwargs = {}
        for name, option in GENERATION.items():
            value = values.get(name)
            kwargs[name] = option.default_for(surface) if value is None else option.check(value, surface)
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        """The options as keyword arguments of ``LanguageModel.generate``/``stream``."""
        return {name: getattr(self, name) for name in GENERATION}
