"""Officers' corrections of extracted tasks: who leads, who coordinates, the deadline, or "not a task".

Table ``task_corrections``, one row per task id (the correction as it stands now):
  task_id TEXT PK; lead TEXT (JSON list; NULL = not corrected); coordinate TEXT (JSON list; NULL = not corrected);
  deadline_text TEXT (NULL = not corrected); due TEXT (ISO date the officer set; NULL = read from the text);
  not_a_task INTEGER; by TEXT; at TEXT (ISO, local time with its offset); original TEXT (JSON: the task as extracted before its first
  correction, so an undo can put it back and a correction whose task left the index can still be shown).
Table ``task_correction_log``: every save and undo, append-only (who, when, before and after).

Corrections are keyed by the task id, which survives re-indexing (index.tasks): the index pipeline calls
``apply_corrections`` right before it saves a plan's tasks, and ``save_correction`` also updates the live ``tasks``
row at once, so answers and reminders (both read the ``tasks`` table) use the corrected lead, coordinators and
deadline. Only the fields an officer changed are stored: a better extraction of the others still comes through.
"""
from __future__ import annotations

import json
import re
from dataclasses import MISSING, asdict, dataclass, field, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo
from pathlib import Path

import sqlite_utils

from .deadlines import Deadline, parse_deadline, plan_period
from .records import Task
from .textnorm import normalize

TABLE = "task_corrections"
LOG_TABLE = "task_correction_log"

_COLUMNS = {"task_id": str, "lead": str, "coordinate": str, "deadline_text": str, "due": str, "not_a_task": int,
            "by": str, "at": str, "original": str}
# Task fields a correction can change (the rest of a task row is never touched).
CORRECTED_FIELDS = ("lead", "coordinate", "deadline_text", "deadline_kind", "due", "deadline", "lead_inferred",
                    "inferred_from", "corrected_by", "corrected_at")


class CorrectionError(ValueError):
    """A correction that cannot be saved; the message is Vietnamese, for the officer."""


@dataclass
class Correction:
    task_id: str
    lead: list[str] | None = None
    coordinate: list[str] | None = None
    deadline_text: str | None = None
    due: str | None = None
    not_a_task: bool = False
    by: str = ""
    at: str = ""
    original: dict = field(default_factory=dict)

    def to_row(self) -> dict:
        js = lambda v: None if v is None else json.dumps(v, ensure_ascii=False)  # noqa: E731
        return {"task_id": self.task_id, "lead": js(self.lead), "coordinate": js(self.coordinate),
                "deadline_text": self.deadline_text, "due": self.due, "not_a_task": int(self.not_a_task),
                "by": self.by, "at": self.at, "original": js(self.original or {})}

    @classmethod
    def from_row(cls, r: dict) -> "Correction":
        def lst(v):
            if v is None:
                return None
            try:
                j = json.loads(v) if isinstance(v, str) else v
            except ValueError:
                return None
            return [str(x) for x in j] if isinstance(j, list) else None

        try:
            original = json.loads(r.get("original") or "{}")
        except ValueError:
            original = {}
        return cls(task_id=str(r["task_id"]), lead=lst(r.get("lead")), coordinate=lst(r.get("coordinate")),
                   deadline_text=r.get("deadline_text"), due=r.get("due") or None,
                   not_a_task=bool(r.get("not_a_task")), by=r.get("by") or "", at=r.get("at") or "",
                   original=original if isinstance(original, dict) else {})


def _db(db) -> sqlite_utils.Database:
    if isinstance(db, sqlite_utils.Database):
        return db
    return sqlite_utils.Database(str(Path(db)))


def ensure_tables(db) -> None:
    db = _db(db)
    if not db[TABLE].exists():
        db[TABLE].create(_COLUMNS, pk="task_id")
    if not db[LOG_TABLE].exists():
        db[LOG_TABLE].create({"id": int, "task_id": str, "action": str, "by": str, "at": str, "before": str,
                              "after": str}, pk="id")
        db[LOG_TABLE].create_index(["task_id"], if_not_exists=True)


def load_corrections(db) -> dict[str, Correction]:
    db = _db(db)
    if not db[TABLE].exists():
        return {}
    return {str(r["task_id"]): Correction.from_row(dict(r)) for r in db.query(f"select * from [{TABLE}]")}


def apply_corrections(db, tasks: list[Task]) -> list[Task]:
    """The tasks with the officers' corrections applied: "not a task" rows dropped, corrected fields replaced and
    ``corrected_by``/``corrected_at`` set. Reads ``db``, writes nothing; the given tasks are not modified."""
    corrections = load_corrections(db)
    if not corrections:
        return list(tasks)
    out = []
    for t in tasks:
        c = corrections.get(t.id)
        if c is None:
            out.append(t)
        elif not c.not_a_task:
            out.append(apply_one(t, c))
    return out


def apply_one(task: Task, c: Correction) -> Task:
    """One task with one correction applied (``not_a_task`` is the caller's business)."""
    changes: dict = {"corrected_by": c.by, "corrected_at": c.at}
    if c.lead is not None:
        # The officer named the lead: it is no longer inferred from the area's assignment sentence.
        changes.update(lead=list(c.lead), lead_inferred=False, inferred_from="")
    if c.coordinate is not None:
        changes["coordinate"] = list(c.coordinate)
    dl = corrected_deadline(task, c)
    if dl is not None:
        info = dl.to_dict()
        changes.update(deadline_text=dl.text, deadline_kind=info["kind"], due=info["due"], deadline=info)
    return replace(task, **changes)


def corrected_deadline(task: Task, c: Correction) -> Deadline | None:
    """The task's deadline after the correction; None when the correction leaves the deadline alone."""
    if c.deadline_text is None and not c.due:
        return None
    text = c.deadline_text if c.deadline_text is not None else task.deadline_text
    if c.due:
        d = date.fromisoformat(c.due)
        return Deadline(text=text, kind="date", due=d, dues=[d])
    year, period = plan_period(task.plan_title)
    if year is None and period is None and task.due:  # the plan's year, as the extraction had it
        year = int(str(task.due)[:4])
    return parse_deadline(text, plan_year=year, plan_period=period)


def clean_units(value) -> list[str]:
    """Unit names from a list or from text (one per line, or separated by ';'), tidied, duplicates dropped."""
    items = value if isinstance(value, (list, tuple)) else str(value or "").replace(";", "\n").split("\n")
    out: list[str] = []
    for item in items:
        name = " ".join(normalize(str(item)).split()).strip(" .,;:")
        if name and name not in out:
            out.append(name)
    return out


def parse_due(value: str) -> str:
    """'2026-06-30' or '30/6/2026' -> '2026-06-30'; '' -> ''. CorrectionError (Vietnamese) otherwise."""
    v = (value or "").strip()
    if not v:
        return ""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
            return date.fromisoformat(v).isoformat()
        m = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", v)
        if m:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1))).isoformat()
    except ValueError:
        pass
    raise CorrectionError(f"Ngày hạn “{v}” không hợp lệ; anh/chị nhập theo dạng ngày/tháng/năm, ví dụ 30/06/2026.")


def _now(tz: str) -> str:
    """Local time with its offset ("2026-11-30T09:15:00+07:00"): its first ten characters are the local date the
    chat shows in "đã được cán bộ hiệu chỉnh ngày …"."""
    return datetime.now(ZoneInfo(tz)).isoformat(timespec="seconds")


def _task_row(db, task_id: str) -> dict | None:
    if not db["tasks"].exists():
        return None
    rows = list(db.query("select * from tasks where id = ?", [task_id]))
    return dict(rows[0]) if rows else None


def _snapshot(task: Task) -> dict:
    return asdict(task)


def _write_task(db, task: Task, existed: bool) -> None:
    values = asdict(task)
    if existed:
        db["tasks"].update(task.id, {k: values[k] for k in CORRECTED_FIELDS}, alter=True)
    else:  # back from "not a task"
        db["tasks"].insert(values, pk="id", replace=True, alter=True)


def _log(db, task_id: str, action: str, by: str, at: str, before, after) -> None:
    js = lambda v: json.dumps(v, ensure_ascii=False, default=str)  # noqa: E731
    db[LOG_TABLE].insert({"task_id": task_id, "action": action, "by": by, "at": at, "before": js(before),
                          "after": js(after)})


def save_correction(db, task_id: str, *, by: str, lead=None, coordinate=None, deadline_text: str | None = None,
                    due: str | None = None, not_a_task: bool | None = None, now: str | None = None,
                    tz: str = "Asia/Ho_Chi_Minh") -> Correction:
    """Record an officer's correction of one task and update the live ``tasks`` row at once.

    Each field: None leaves it as it is (corrected or not); ``lead``/``coordinate`` a list (or text, one unit per
    line) — an empty list means "no unit"; ``due`` an ISO or dd/mm/yyyy date, "" to drop a date set earlier;
    ``not_a_task`` True removes the task from the live table (False brings it back). Returns the correction."""
    from .store import row_to_task

    db = _db(db)
    ensure_tables(db)
    by = " ".join(str(by or "").split())[:120]
    if not by:
        raise CorrectionError("Thiếu tên người hiệu chỉnh.")
    row = _task_row(db, task_id)
    prev = load_corrections(db).get(task_id)
    if row is None and prev is None:
        raise CorrectionError("Không tìm thấy nhiệm vụ này trong chỉ mục (có thể kế hoạch đã được lập chỉ mục lại).")
    c = replace(prev) if prev else Correction(task_id=task_id)
    before = prev.to_row() if prev else None
    live = row_to_task(row) if row is not None else None
    if not c.original:
        c.original = _snapshot(live) if live is not None else {}
    if lead is not None:
        c.lead = clean_units(lead)
    if coordinate is not None:
        c.coordinate = clean_units(coordinate)
    if deadline_text is not None:
        c.deadline_text = " ".join(normalize(deadline_text).split())
    if due is not None:
        c.due = parse_due(due) or None
    if not_a_task is not None:
        c.not_a_task = bool(not_a_task)
    c.by, c.at = by, now or _now(tz)
    base = _base_task(prev, live, c.original)
    with db.conn:
        db[TABLE].upsert(c.to_row(), pk="task_id")
        _log(db, task_id, "not_a_task" if c.not_a_task else "edit", c.by, c.at, before, c.to_row())
        if c.not_a_task:
            if row is not None:
                db["tasks"].delete(task_id)
        elif base is not None:
            _write_task(db, apply_one(base, c), existed=row is not None)
    return c


_DEADLINE_FIELDS = ("deadline_text", "deadline_kind", "due", "deadline")


def _base_task(prev: Correction | None, live: Task | None, original: dict) -> Task | None:
    """The task a correction applies to: the live row with the fields the earlier correction changed put back to
    their extracted values (so a field the officer reverts really reverts, and a field never corrected keeps the
    latest extraction), or the snapshot when the row is gone ("not a task")."""
    fields = Task.__dataclass_fields__
    orig = {k: v for k, v in (original or {}).items() if k in fields}
    if live is None:
        required = {k for k, f in fields.items() if f.default is f.default_factory is MISSING}
        return Task(**orig) if required <= set(orig) else None
    if prev is None:
        return live
    touched: list[str] = []
    if prev.lead is not None:
        touched += ["lead", "lead_inferred", "inferred_from"]
    if prev.coordinate is not None:
        touched.append("coordinate")
    if prev.deadline_text is not None or prev.due:
        touched += list(_DEADLINE_FIELDS)
    return replace(live, **{k: orig[k] for k in touched if k in orig})


def undo_correction(db, task_id: str, *, by: str, now: str | None = None, tz: str = "Asia/Ho_Chi_Minh") -> bool:
    """Drop the correction of one task and put its extracted values back in the live row (the task comes back if
    it was marked "not a task"). False when there was no correction."""
    from .store import row_to_task

    db = _db(db)
    ensure_tables(db)
    prev = load_corrections(db).get(task_id)
    if prev is None:
        return False
    row = _task_row(db, task_id)
    live = row_to_task(row) if row is not None else None
    base = _base_task(prev, live, prev.original)
    at = now or _now(tz)
    with db.conn:
        db[TABLE].delete(task_id)
        _log(db, task_id, "undo", " ".join(str(by or "").split())[:120], at, prev.to_row(), None)
        if base is not None:
            _write_task(db, replace(base, corrected_by="", corrected_at=""), existed=row is not None)
    return True


def correction_log(db, task_id: str | None = None, limit: int = 200) -> list[dict]:
    db = _db(db)
    if not db[LOG_TABLE].exists():
        return []
    if task_id:
        return [dict(r) for r in db.query(f"select * from [{LOG_TABLE}] where task_id = ? order by id desc limit ?",
                                          [task_id, limit])]
    return [dict(r) for r in db.query(f"select * from [{LOG_TABLE}] order by id desc limit ?", [limit])]
