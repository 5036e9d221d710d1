"""The :class:`Assistant`: understand a message, act through a skill, answer with a :class:`Reply`.

>>> from jupyter_llm.assistant import Assistant               # doctest: +SKIP
>>> a = Assistant()                                            # doctest: +SKIP
>>> a.ask("remind me to call Bob tomorrow at 3pm")             # doctest: +SKIP
Understood: add_reminder (97%) task='call Bob' time='tomorrow at 3pm'
Added reminder 'call Bob': Tue 11 Mar 2025 15:00.

Every surface (the ``%assistant`` magic, the :class:`AssistantPanel` widget,
the kernel channel's ``assistant`` request) calls :meth:`Assistant.ask`.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import JupyterLLMError, invalid
from ..nlu.prediction import Prediction
from ..resolver import Resolver
from ..store import MANIFEST, bundled_dir
from .reply import Reply
from .skills import SKILLS
from .skills.base import Context, Skill
from .skills.common import lang_of, say
from .state import AssistantStore

if TYPE_CHECKING:  # pragma: no cover
    from ..nlu.model import IntentSlotModel

__all__ = ["Assistant", "DEFAULT_THRESHOLD", "GENERAL_INTENTS"]

#: Below this confidence the assistant offers its best guesses instead of acting.
DEFAULT_THRESHOLD = 0.5
#: Intents the assistant answers itself.
GENERAL_INTENTS = {
    "greet": ("say hello", "打招呼"),
    "help": ("what it understands, with examples", "能做什么，附例子"),
}
#: Bundled models a draft falls back on, by the message's language, in order (those jupyter_llm ships).
BUNDLED_DRAFT_MODELS = {"en": ("shakespeare", "tang-poetry"), "zh": ("tang-poetry", "shakespeare")}
_UNDO_WORDS = {"undo", "undo that", "undo last", "撤销", "撤销上一步", "撤回"}



def _encodable(text: str) -> bool:
    """Whether ``text`` is valid Unicode (UTF-8 can encode it: no lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True

class Assistant:
    """A personal assistant whose understanding is a teachable intent and slot model.

    Args:
        db: the SQLite file of its state (None: ``$JUPYTER_LLM_ASSISTANT_DB`` or
            ``home()/assistant.db``), or an :class:`AssistantStore`.
        namespace: the variables the data skill may read (a mapping, or a
            function returning one), e.g. the notebook's ``user_ns``.
        nlu: an :class:`~jupyter_llm.nlu.IntentSlotModel` to understand with;
            None: the default one, trained on the shipped and taught examples
            on first use (seconds) and cached.
        mood: the sentiment model; None: the default one.
        draft_model: a LanguageModel, a model name, key or path, a function
            returning one of those, or None (``$JUPYTER_LLM_DEFAULT_MODEL``, else
            the shell's chosen model, else a bundled model for the message's language).
        resolver: what a model name means (:class:`~jupyter_llm.resolver.Resolver`):
            in a notebook the shell's, so a draft uses the model ``%%generate`` would.
        threshold: the confidence below which it asks instead of acting.
        now: a function returning the current naive local time (for tests).
        training: options of the default models' training (``epochs``,
            ``config``), e.g. fewer epochs in tests.
    """

    def __init__(self, db: str | os.PathLike | AssistantStore | None = None,
                 namespace: Mapping[str, Any] | Callable[[], Mapping[str, Any]] | None = None,
                 nlu: "IntentSlotModel | None" = None, mood: "IntentSlotModel | None" = None,
                 draft_model: Any = None, threshold: float = DEFAULT_THRESHOLD,
                 now: Callable[[], dt.datetime] | None = None, training: dict[str, Any] | None = None,
                 resolver: Resolver | None = None) -> None:
        if not isinstance(threshold, (int, float)) or isinstance(threshold, bool) or not 0 <= threshold <= 1:
            raise invalid("threshold", "a number in [0, 1]", threshold)
        self.threshold = float(threshold)
        self._now = now or dt.datetime.now
        self._store = db if isinstance(db, AssistantStore) else None
        self._db = None if isinstance(db, AssistantStore) else db
        self._namespace = namespace
        self._nlu = nlu
        self._nlu_fixed = nlu is not None
        self._mood = mood
        self.draft_model_spec = draft_model
        self.resolver = resolver or Resolver(namespace=lambda: self.namespace)
        self.training = dict(training or {})
        self.skills: dict[str, Skill] = {}
        for skill_class in SKILLS:
            skill = skill_class()
            for intent in skill.intents:
                self.skills[intent] = skill

    def __repr__(self) -> str:
        return f"Assistant(db='{self.store.path}', {len(self.intents)} intents, threshold={self.threshold})"

    # === State and models ===

    @property
    def store(self) -> AssistantStore:
        if self._store is None:
            self._store = AssistantStore(self._db, now=self.now)
        return self._store

    def now(self) -> dt.datetime:
        return self._now().replace(microsecond=0)

    @property
    def namespace(self) -> Mapping[str, Any]:
        ns = self._namespace() if callable(self._namespace) else self._namespace
        if ns is None:
            try:
                from IPython import get_ipython

                shell = get_ipython()
                ns = shell.user_ns if shell is not None else {}
            except ImportError:  # pragma: no cover - IPython is there in a notebook
                ns = {}
        return ns

    @property
    def intents(self) -> dict[str, tuple[str, str]]:
        """Every intent it acts on, with what it does (English, Chinese)."""
        out = dict(GENERAL_INTENTS)
        for skill in dict.fromkeys(self.skills.values()):
            out.update(skill.intents)
        return out

    @property
    def nlu(self) -> "IntentSlotModel":
        """The intent and slot model (trained on first use when none was given)."""
        if self._nlu is None:
            from .understanding import ready_model

            self._nlu = ready_model(self.taught(), **self.training)
        return self._nlu

    @property
    def mood_model(self) -> "IntentSlotModel":
        if self._mood is None:
            from .understanding import ready_mood_model

            self._mood = ready_mood_model(**{k: v for k, v in self.training.items() if k in ("config", "cache", "shipped")})
        return self._mood

    def taught(self) -> list[tuple[str, str]]:
        """The taught examples as ``(intent, Markdown text)``."""
        return [(intent, text) for _, intent, text in self.store.examples()]

    def draft_model(self, spec: Any = None, lang: str = "en") -> tuple[Any, str | None, str | None]:
        """``(model, label, problem)``: the generation model to draft with, or None and why.

        A name means what it means to ``%%generate`` (the resolver's rule); with
        none given or configured, the shell's chosen model, else a bundled model
        for the message's language.
        """
        spec = spec if spec is not None else self.draft_model_spec
        if callable(spec) and not hasattr(spec, "generate"):  # a lookup of the configured default
            spec = spec()
        if spec is not None and not isinstance(spec, (str, os.PathLike)):
            return spec, getattr(spec, "name", None) or "model", None
        spec = spec if spec is not None else (os.environ.get("JUPYTER_LLM_DEFAULT_MODEL") or None)
        try:
            if spec is not None:
                resolved = self.resolver.resolve(str(spec))
            elif self.resolver.has_choice():
                resolved = self.resolver.default()
            else:
                found = [c for c in BUNDLED_DRAFT_MODELS.get(lang, BUNDLED_DRAFT_MODELS["en"])
                         if (bundled_dir() / c / MANIFEST).is_file()]
                if not found:
                    return None, None, None
                resolved = self.resolver.resolve(f"bundled:{found[0]}")
        except JupyterLLMError as e:
            return None, None, str(e)
        return resolved.model, resolved.name, None

    # === Understanding ===

    def understand(self, message: str) -> Prediction:
        """What the intent and slot model makes of ``message``."""
        return self.nlu.predict(message)

    # === Acting ===

    def ask(self, message: str, *, yes: bool = False, explain: bool = False, intent: str | None = None,
            attached: str | None = None, **options: Any) -> Reply:
        """Understand ``message`` and act on it.

        Args:
            message: what the user said.
            yes: confirm a destructive action (cancel, delete, replace a file).
            explain: show the attention over the words and the slot tags.
            intent: act on this intent whatever the model thinks (its slots are still read).
            attached: longer text that goes with the request (the body of ``%%assistant``).
            **options: passed to the skill (``model=`` for drafts, ``seed=``, ``max_tokens=``).
        """
        if not isinstance(message, str) or not message.strip():
            raise invalid("message", "a non-empty request such as 'what's on my calendar today'", message)
        for name, text in (("message", message), ("attached", attached)):
            if isinstance(text, str) and not _encodable(text):  # a lone surrogate can't be stored or shown
                raise invalid(name, "text whose characters are all valid Unicode (no lone surrogate such as "
                                    "'\\ud800')", text)
        if intent is not None and intent not in self.intents:
            raise invalid("intent", f"one of the intents ({', '.join(sorted(self.intents))})", intent)
        message = message.strip()
        lang = lang_of(message)
        reminders = self._due(lang)  # shown with this reply, whatever it is
        if message.lower().rstrip(".!。！") in _UNDO_WORDS:
            reply = self.undo(lang)
            reply.reminders = reminders + reply.reminders
            return reply
        prediction = self.understand(message)
        chosen = intent or prediction.intent
        confidence = 1.0 if intent else prediction.confidence
        if intent is None and prediction.confidence < self.threshold:
            reply = Reply(say(lang, "I'm not sure what you mean ({c:.0%} sure of '{i}'). My best guesses are below: "
                                    "run again with --intent NAME to choose one, or teach me with --teach NAME \"example\".",
                              "我不太确定你的意思（“{i}”只有 {c:.0%} 的把握）。可能是下面几种：用 --intent 名称 选择一个，"
                              "或用 --teach 名称 \"例句\" 教我。", c=prediction.confidence, i=prediction.intent),
                          status="unsure", candidates=prediction.candidates, lang=lang)
        else:
            ctx = Context(message, prediction, chosen, dict(prediction.slots), lang, self.now(), yes, self,
                          attached=attached, options=options)
            reply = self._act(ctx)
        reply.intent, reply.confidence, reply.slots = chosen, confidence, dict(prediction.slots)
        reply.prediction, reply.explain, reply.lang = prediction, explain or reply.explain, lang
        reply.reminders = reminders + reply.reminders
        return reply

    def _act(self, ctx: Context) -> Reply:
        if ctx.intent == "greet":
            return ctx.reply(ctx.say("Hello! Ask me to schedule, remind, take notes, read a mood, draft or look at data. "
                                     "`%assistant help` lists what I understand.",
                                     "你好！我可以安排日程、提醒、记笔记、分析心情、起草文字、分析数据。`%assistant 帮助` 查看全部。"))
        if ctx.intent == "help":
            return self.help(ctx.lang)
        skill = self.skills[ctx.intent]
        try:
            return skill.handle(ctx)
        except JupyterLLMError as e:
            return ctx.reply(str(e), status="error")

    def _due(self, lang: str) -> list[str]:
        from .timeparse import describe

        skipped: list = []  # reminders whose repeat rule cannot be read: reported, never raised
        due = [say(lang, "Reminder: {t} ({w})", "提醒：{t}（{w}）", t=ev.title, w=describe(when, None, lang))
               for when, ev in self.store.due_reminders(skipped)]
        return due + [say(lang, "Skipped reminder '{t}': {e} `%assistant cancel {t}` removes it.",
                          "已跳过提醒“{t}”：{e} 用 `%assistant 取消{t}` 删除它。", t=ev.title, e=problem)
                      for ev, problem in skipped]

    # === Teaching, undo, help ===

    def teach(self, intent: str, example: str, retrain: bool = True) -> Reply:
        """Add a training example (Markdown-annotated: ``call [Bob](person)``) and retrain.

        ``intent`` must be one the assistant acts on. Retraining takes seconds;
        the example is kept in the database, so every kernel learns it.
        """
        from ..nlu.data import Example

        if intent not in self.intents:
            raise invalid("intent", f"one of the intents ({', '.join(sorted(self.intents))})", intent)
        if not isinstance(example, str) or not example.strip():
            raise invalid("example", "a non-empty example sentence", example)
        example = example.strip()
        taught = Example.from_markdown(example, intent)  # a malformed annotation fails here, before anything is saved
        lang = lang_of(example)
        self.store.add_example(intent, example)
        if not retrain:
            return Reply(say(lang, "Learned one example of {i}.", "学会了 {i} 的一个例句。", i=intent), lang=lang)
        started = time.perf_counter()
        model = self.retrain()
        seconds = time.perf_counter() - started
        from .teaching import outcome

        result = outcome(model, taught)
        p = self.understand(taught.utterance)
        data = {"intent": intent, "example": example, "seconds": round(seconds, 1), "understood_as": p.intent,
                "learned": result["learned"], "extra_rounds": model.metadata.get("teach_rounds", 0)}
        common = dict(intent=p.intent, confidence=p.confidence, slots=dict(p.slots), prediction=p, lang=lang, data=data)
        if result["learned"]:
            return Reply(say(lang, "Learned. Retrained in {s:.1f} s; '{e}' is now understood as {p} ({c:.0%}).",
                             "学会了。重新训练用时 {s:.1f} 秒；“{e}”现在被理解为 {p}（{c:.0%}）。",
                             s=seconds, e=taught.utterance, p=p.intent, c=p.confidence), **common)
        if self._nlu_fixed:
            why = say(lang, "this assistant was given a fixed model (nlu=...), which teaching does not retrain",
                      "这个助手用的是指定的模型（nlu=...），教学不会重新训练它")
        else:
            why = say(lang, "even after {r} extra rounds of training it still reads it as {got}, probably because "
                            "similar examples say otherwise",
                      "再训练了 {r} 轮之后仍然理解为 {got}，可能是相似的例句给出了不同的答案",
                      r=data["extra_rounds"], got=result["understood_as"])
        return Reply(say(lang, "I kept the example but did not learn it: I expected '{e}' to be {want}, but {why}; "
                               "`%assistant undo` removes it.",
                         "例句已保存，但我没有学会：“{e}”应当是 {want}，但{why}；`%assistant undo` 可以删除它。",
                         e=taught.utterance, want=result["expected"], why=why),
                     status="error", **common)

    def retrain(self) -> "IntentSlotModel":
        """Train the default model again on the shipped and taught examples (unless a model was given)."""
        if self._nlu_fixed:
            return self._nlu
        from .understanding import ready_model

        self._nlu = ready_model(self.taught(), **self.training)
        return self._nlu

    def undo(self, lang: str = "en") -> Reply:
        """Revert the last change (of any kernel sharing the database)."""
        description = self.store.undo()
        if description is None:
            return Reply(say(lang, "Nothing to undo.", "没有可以撤销的操作。"), status="info", lang=lang)
        if description.startswith("teach "):
            self.retrain()
        return Reply(say(lang, "Undone: {d}.", "已撤销：{d}。", d=description), lang=lang, data={"undone": description})

    def help(self, lang: str = "en") -> Reply:
        from .skills.common import table_html

        rows = [(name, zh if lang == "zh" else en) for name, (en, zh) in self.intents.items()]
        text = say(lang, "I understand {n} intents. Options: --yes confirms a cancel or delete, --explain shows why I "
                         "understood what I did, --teach INTENT \"example\" teaches me, and `%assistant undo` reverts the last change.",
                   "我能理解 {n} 种意图。选项：--yes 确认取消或删除，--explain 显示理解的依据，--teach 意图 \"例句\" 教我新说法，"
                   "`%assistant undo` 撤销上一步。", n=len(rows))
        return Reply(text, status="info", body_html=table_html([say(lang, "intent", "意图"), say(lang, "what it does", "作用")], rows),
                     extra=[f"  {n}: {d}" for n, d in rows], lang=lang)

    def explain(self, message: str) -> Reply:
        """What the model understood and why (attention, tags, candidates), without acting."""
        p = self.understand(message)
        lang = lang_of(message)
        return Reply(say(lang, "This is what I understand (nothing was done).", "这是我的理解（没有执行任何操作）。"),
                     intent=p.intent, confidence=p.confidence, slots=dict(p.slots), prediction=p, explain=True,
                     status="info", lang=lang, candidates=p.candidates)

