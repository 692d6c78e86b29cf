"""The task the correction tests correct: one the chat answers today.

The chat's routing is improved all the time, so the tests do not hard-code a question: they take the first task of
the sample corpus (table rows first) whose "<locality>: ai chủ trì <task>?" the answerer answers with that very task
and its lead, and a unit of the same locality that the answer does not mention as the corrected lead.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from index.textnorm import fold
from index.units import is_collective, unit_key


@dataclass
class Case:
    task_id: str
    locality: str
    title: str
    question: str
    old_lead: str
    new_lead: str
    document: str


def lead_line(text: str) -> str:
    """The answer's line naming the lead unit."""
    return next((line for line in text.splitlines() if "Chủ trì" in line or "chủ trì" in line), "")


def question_for(task) -> str:
    name = re.sub(r"^(xã|phường|thị trấn)\s+", "", task.locality)
    title = task.title.strip().rstrip(".;: ")
    return f"{name}: ai chủ trì {title[:1].lower()}{title[1:]}?"


def pick_case(answerer, db) -> Case:
    units: dict[str, list[str]] = {}
    for r in db.query("select locality, name from units"):
        units.setdefault(r["locality"], []).append(r["name"])
    tasks = sorted(answerer.index.tasks, key=lambda t: t.source_kind != "table_row")
    titles: dict[tuple[str, str], int] = {}
    for t in answerer.index.tasks:
        titles[(t.locality, fold(t.title))] = titles.get((t.locality, fold(t.title)), 0) + 1
    for t in tasks:
        if (not t.lead or t.lead_inferred or any(is_collective(u) for u in t.lead) or not 20 <= len(t.title) <= 150
                or titles[(t.locality, fold(t.title))] > 1):
            continue
        answer = answerer.ask(question_for(t))
        if not (answer.tasks and answer.tasks[0].id == t.id and t.lead[0] in lead_line(answer.text)):
            continue
        keys = {unit_key(u) for u in t.lead + t.coordinate}
        others = [u for u in units.get(t.locality, []) if not is_collective(u) and unit_key(u) not in keys
                  and fold(u) not in fold(answer.text)]
        if others:
            return Case(task_id=t.id, locality=t.locality, title=t.title, question=question_for(t),
                        old_lead=t.lead[0], new_lead=others[0], document=t.document)
    pytest.fail("the chat answers no “<địa bàn>: ai chủ trì <nhiệm vụ>?” question of the sample corpus with its task "
                "(handlers/qa routing): no task to test a correction with")
