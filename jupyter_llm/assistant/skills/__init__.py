"""The assistant's skills: each groups some intents and what is done for them.

========  =====================================================================
schedule  events and reminders with natural-language times; .ics export/import
notes     notes and to-dos: add, list, complete, search, delete
mood      the sentiment of a text or message; a mood journal with a chart
draft     emails, messages, summaries and ad copy from a template and a model
data      summary, comparison of groups, weighted decision matrix of a DataFrame
========  =====================================================================
"""

from __future__ import annotations

from .base import Context, Skill
from .data import DataSkill
from .draft import DraftSkill
from .mood import MoodSkill
from .notes import NotesSkill
from .schedule import ScheduleSkill

#: Every skill, in the order ``help`` lists them.
SKILLS: list[type[Skill]] = [ScheduleSkill, NotesSkill, MoodSkill, DraftSkill, DataSkill]

__all__ = ["SKILLS", "Skill", "Context", "ScheduleSkill", "NotesSkill", "MoodSkill", "DraftSkill", "DataSkill"]
