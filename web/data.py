"""What the review page shows, read from the same SQLite file the chat and the reminders use.

Every read tolerates a table or column that is not there yet (an index built by an older version, or a store
another part of the bot has not created): it shows less, it does not fail.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlite_utils

from handlers.privacy import redact
from index import store
from index.corrections import load_corrections
from index.deadlines import Deadline, occurrences
from index.records import Task
from index.textnorm import fold
from index.units import unit_key

KIND_LABELS = {"plan": "Kế hoạch", "catalogue": "Danh mục TTHC", "national": "Hồ sơ TTHC (CSDL quốc gia)",
               "decision": "Quyết định"}
PROCEDURE_KINDS = ("catalogue", "national")  # documents of procedures, not of tasks
NO_LEAD = "(chưa rõ đơn vị chủ trì)"
OVERDUE_DAYS = 60  # as far back as the staff's daily digest looks (bot.reminders.DIGEST_OVERDUE_DAYS)


def connect(db_path: Path) -> sqlite_utils.Database:
    from bot.staff import connect as staff_connect  # WAL + busy timeout, as every other process opens it

    return staff_connect(db_path)


def _tables(db) -> set[str]:
    return set(db.table_names())


def _columns(db, table: str) -> set[str]:
    return set(db[table].columns_dict) if db[table].exists() else set()


def fmt_date(value) -> str:
    """ISO date (or datetime) -> dd/mm/yyyy; anything else as it is."""
    if not value:
        return ""
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    try:
        return date.fromisoformat(str(value)[:10]).strftime("%d/%m/%Y")
    except ValueError:
        return str(value)


def parse_day(value: str) -> date | None:
    """'31/12/2026' (or 31-12-2026, 31.12.2026) or ISO '2026-12-31' -> date; None when it is not a date."""
    v = (value or "").strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
            return date.fromisoformat(v)
        m = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", v)
        return date(int(m.group(3)), int(m.group(2)), int(m.group(1))) if m else None
    except ValueError:
        return None


def fmt_time(value, tz: ZoneInfo) -> str:
    """UTC ISO instant -> local 'dd/mm/yyyy HH:MM'."""
    if not value:
        return ""
    try:
        dt = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(tz).strftime("%d/%m/%Y %H:%M")


def _json(value, default):
    if isinstance(value, (dict, list)):
        return value
    if not value:
        return default
    try:
        out = json.loads(value)
    except (TypeError, ValueError):
        return default
    return out if isinstance(out, type(default)) else default


# ---------------------------------------------------------------------------------------------- documents

@dataclass
class DocumentView:
    doc_id: str
    document: str
    title: str
    kind: str
    kind_label: str
    locality: str
    issuer: str = ""
    level: str = ""
    number: str = ""
    date: str = ""
    signer: str = ""
    tasks: int | None = None
    explicit_leads: int | None = None
    deadlines: int | None = None
    procedures: int | None = None
    tables: int | None = None
    warnings: list[str] = field(default_factory=list)
    indexed_at: str = ""


def documents(db) -> list[DocumentView]:
    """Each indexed document with its extraction report. The report columns (issuer, number, date, report JSON)
    come from the index when it records them; counts missing from the report are computed from the tasks and
    procedures tables, so an index without the report still shows its numbers."""
    tables = _tables(db)
    if "documents" not in tables:
        return []
    per_doc: dict[str, dict] = {}
    if "tasks" in tables:
        cols = _columns(db, "tasks")
        inferred = "coalesce(lead_inferred, 0)" if "lead_inferred" in cols else "0"
        for r in db.query(
            "select doc_id, count(*) as n, "
            f"sum(case when lead not in ('', '[]') and lead is not null and {inferred} = 0 then 1 else 0 end) as leads, "
            "sum(case when deadline_kind not in ('', 'unspecified') then 1 else 0 end) as deadlines "
            "from tasks group by doc_id"
        ):
            per_doc[r["doc_id"]] = dict(r)
    procs: dict[str, int] = {}
    if "procedures" in tables and "doc_id" in _columns(db, "procedures"):
        procs = {r["doc_id"]: r["n"] for r in db.query("select doc_id, count(*) as n from procedures group by doc_id")}
    out = []
    for r in db.query("select * from documents"):
        r = dict(r)
        report = _json(r.get("report"), {})
        counts = per_doc.get(r.get("doc_id"), {})
        kind = r.get("kind") or ""

        def pick(key, fallback):
            v = report.get(key)
            return v if isinstance(v, int) else fallback

        warnings = report.get("warnings") if isinstance(report.get("warnings"), list) else []
        out.append(DocumentView(
            doc_id=r.get("doc_id") or "", document=r.get("document") or "", title=r.get("title") or "",
            kind=kind, kind_label=KIND_LABELS.get(kind, kind or "—"), locality=r.get("locality") or "",
            issuer=r.get("issuer") or "", level=r.get("level") or "", number=r.get("number") or "",
            date=fmt_date(r.get("date") or r.get("issue_date")), signer=r.get("signer") or "",
            tasks=pick("tasks", counts.get("n", r.get("n_tasks"))) if kind not in PROCEDURE_KINDS else None,
            explicit_leads=pick("explicit_leads", counts.get("leads")) if kind not in PROCEDURE_KINDS else None,
            deadlines=pick("deadlines", counts.get("deadlines")) if kind not in PROCEDURE_KINDS else None,
            procedures=pick("procedures", procs.get(r.get("doc_id"))) if kind in PROCEDURE_KINDS else None,
            tables=pick("tables", None),
            warnings=[str(w) for w in warnings],
            indexed_at=r.get("indexed_at") or "",
        ))
    order = {"plan": 0, "decision": 1, "catalogue": 2, "national": 3}
    out.sort(key=lambda d: (order.get(d.kind, 9), fold(d.locality), d.document))
    return out


# ---------------------------------------------------------------------------------------------- tasks

@dataclass
class TaskRow:
    task: Task
    status: str = ""  # "mới" / "thay đổi" on the last re-index, when the index records it
    occurrences: list[date] = field(default_factory=list)  # due dates in the asked range (or the next one)


def load_tasks(db) -> list[Task]:
    return store.load_tasks(db) if "tasks" in _tables(db) else []


def change_status(db) -> dict[str, str]:
    """task id -> "mới" | "thay đổi" for tasks the last re-index added or changed, when the index records it
    (a `changed` or `status` column of `tasks`); empty otherwise."""
    cols = _columns(db, "tasks")
    out: dict[str, str] = {}
    if "status" in cols:
        for r in db.query("select id, status from tasks where coalesce(status, '') != ''"):
            s = fold(str(r["status"]))
            if s in ("new", "added", "moi"):
                out[r["id"]] = "mới"
            elif s in ("changed", "modified", "updated", "thay doi"):
                out[r["id"]] = "thay đổi"
    if "changed" in cols:
        for r in db.query("select id, changed from tasks where coalesce(changed, 0) not in (0, '', '0')"):
            v = fold(str(r["changed"]))
            out.setdefault(r["id"], "mới" if v in ("new", "added", "moi") else "thay đổi")
    return out


def records_changes(db) -> bool:
    """Whether the index marks new/changed tasks on re-index (so the "changed" filter means something)."""
    return bool({"status", "changed"} & _columns(db, "tasks"))


def due_overrides(db) -> dict[str, date]:
    if "due_overrides" not in _tables(db):
        return {}
    out = {}
    for r in db.query("select task_id, due from due_overrides"):
        try:
            out[str(r["task_id"])] = date.fromisoformat(str(r["due"])[:10])
        except (TypeError, ValueError):
            continue
    return out


def task_occurrences(t: Task, lo: date, hi: date, override: date | None = None) -> list[date]:
    """Due dates of a task in [lo, hi], as the reminders see them (an admin's /dathan date wins)."""
    if override:
        return [override] if lo <= override <= hi else []
    if t.deadline and t.deadline.get("kind"):
        return occurrences(Deadline.from_dict(t.deadline), lo, hi)
    if t.due:
        try:
            d = date.fromisoformat(str(t.due)[:10])
        except ValueError:
            return []
        return [d] if lo <= d <= hi else []
    return []


class TaskSet:
    """The tasks table parsed once, for as long as the database file does not change (the page caches it): the
    tasks, each one's Deadline (one object per distinct deadline, as the plans repeat them), the index's
    new/changed marks and the /dathan dates; the due dates of each distinct deadline in a window are expanded once
    per window. Parsing 100,000 task rows takes seconds; a page must not pay that on every request."""

    def __init__(self, db):
        self.tasks: list[Task] = load_tasks(db)
        self.status = change_status(db)
        self.records_changes = records_changes(db)
        self.overrides = due_overrides(db)
        shared: dict[str, Deadline] = {}
        self.deadlines: list[Deadline | None] = []
        for t in self.tasks:
            if t.deadline and t.deadline.get("kind"):
                key = json.dumps(t.deadline, sort_keys=True, default=str)
                self.deadlines.append(shared.get(key) or shared.setdefault(key, Deadline.from_dict(t.deadline)))
            else:
                self.deadlines.append(None)
        folded: dict[str, str] = {}
        self.folded_locality = [folded.get(t.locality) or folded.setdefault(t.locality, fold(t.locality))
                                for t in self.tasks]
        self._windows: dict[tuple[date, date], dict[int, list[date]]] = {}
        self._text: list[str] | None = None
        self._units: list[str] | None = None
        self._areas: list[str] | None = None

    def occurrences(self, i: int, lo: date, hi: date) -> list[date]:
        """Due dates of task i in [lo, hi], as the reminders see them (an admin's /dathan date wins)."""
        t = self.tasks[i]
        override = self.overrides.get(t.id)
        if override:
            return [override] if lo <= override <= hi else []
        dl = self.deadlines[i]
        if dl is None:
            return task_occurrences(t, lo, hi)
        window = self._windows.get((lo, hi))
        if window is None:
            if len(self._windows) > 32:
                self._windows.clear()
            window = self._windows.setdefault((lo, hi), {})
        got = window.get(id(dl))
        if got is None:
            got = window[id(dl)] = occurrences(dl, lo, hi)
        return got

    def text(self, i: int) -> str:
        """Folded task text for the search box, folded once on the first search."""
        if self._text is None:
            self._text = [fold(f"{t.title} {t.output} {t.quote}") for t in self.tasks]
        return self._text[i]

    def areas(self) -> list[str]:
        if self._areas is None:
            self._areas = sorted({t.area for t in self.tasks if t.area}, key=fold)
        return self._areas

    def localities(self) -> set[str]:
        return {t.locality for t in self.tasks if t.locality}

    def unit_names(self) -> list[str]:
        if self._units is None:
            self._units = unit_names(self.tasks)
        return self._units


@dataclass
class TaskFilter:
    locality: str = ""
    unit: str = ""
    area: str = ""
    due_from: date | None = None
    due_to: date | None = None
    inferred: bool = False
    no_lead: bool = False
    changed: bool = False
    corrected: bool = False
    text: str = ""

    @classmethod
    def from_query(cls, q) -> tuple["TaskFilter", list[str]]:
        """From the page's query string (Vietnamese parameter names); errors are Vietnamese messages."""
        errors = []

        def day(name: str, label: str) -> date | None:
            v = (q.get(name) or "").strip()
            if not v:
                return None
            d = parse_day(v)
            if d is None:
                errors.append(f"“{label}” không phải một ngày hợp lệ ({v}); anh/chị nhập theo dạng ngày/tháng/năm, "
                              "ví dụ 31/12/2026. Bộ lọc này được bỏ qua.")
            return d

        on = lambda name: (q.get(name) or "") in ("1", "on", "true")  # noqa: E731
        f = cls(locality=(q.get("dia_ban") or "").strip(), unit=(q.get("don_vi") or "").strip(),
                area=(q.get("linh_vuc") or "").strip(), due_from=day("tu", "Hạn từ ngày"),
                due_to=day("den", "Hạn đến ngày"), inferred=on("suy_ra"), no_lead=on("chua_chu_tri"),
                changed=on("thay_doi"), corrected=on("da_hieu_chinh"), text=(q.get("tim") or "").strip())
        if f.due_from and f.due_to and f.due_from > f.due_to:
            errors.append("“Hạn từ ngày” sau “Hạn đến ngày”: không có nhiệm vụ nào trong khoảng này.")
        return f, errors

    def query(self) -> dict[str, str]:
        """The filter as query parameters (for links and the export)."""
        q = {"dia_ban": self.locality, "don_vi": self.unit, "linh_vuc": self.area,
             "tu": fmt_date(self.due_from), "den": fmt_date(self.due_to), "tim": self.text,
             "suy_ra": "1" if self.inferred else "", "chua_chu_tri": "1" if self.no_lead else "",
             "thay_doi": "1" if self.changed else "", "da_hieu_chinh": "1" if self.corrected else ""}
        return {k: v for k, v in q.items() if v}

    @property
    def active(self) -> bool:
        return bool(self.query())


def filter_tasks(ts: TaskSet, f: TaskFilter) -> list[int]:
    """Positions in ``ts.tasks`` of the tasks the filter keeps, in table order."""
    if not f.active:
        return list(range(len(ts.tasks)))
    loc = fold(f.locality) if f.locality else ""
    key = unit_key(f.unit) if f.unit else ""
    text = fold(f.text) if f.text else ""
    ranged = f.due_from is not None or f.due_to is not None
    lo, hi = f.due_from or date(1900, 1, 1), f.due_to or date(2200, 12, 31)
    out = []
    for i, t in enumerate(ts.tasks):
        if loc and ts.folded_locality[i] != loc:
            continue
        if f.area and t.area != f.area:
            continue
        if key and not any(key in unit_key(u) for u in t.lead + t.coordinate):
            continue
        if f.inferred and not t.lead_inferred:
            continue
        if f.no_lead and t.lead:
            continue
        if f.changed and t.id not in ts.status:
            continue
        if f.corrected and not t.corrected_at:
            continue
        if text and text not in ts.text(i):
            continue
        if ranged and not ts.occurrences(i, lo, hi):
            continue
        out.append(i)
    return out


def task_rows(ts: TaskSet, positions: list[int], f: TaskFilter) -> list[TaskRow]:
    """What a page or an export shows of the kept tasks: the index's mark, and the due dates in the asked range."""
    ranged = f.due_from is not None or f.due_to is not None
    lo, hi = f.due_from or date(1900, 1, 1), f.due_to or date(2200, 12, 31)
    return [TaskRow(task=ts.tasks[i], status=ts.status.get(ts.tasks[i].id, ""),
                    occurrences=ts.occurrences(i, lo, hi) if ranged else []) for i in positions]


def localities(db, ts: TaskSet) -> list[str]:
    names = ts.localities()
    if "documents" in _tables(db):
        names |= {r["locality"] for r in db.query("select distinct locality from documents") if r["locality"]}
    return sorted(names, key=fold)


def unit_names(tasks: list[Task]) -> list[str]:
    """One display name per unit key (the most frequent spelling), for the unit filter's suggestions."""
    counts: dict[str, dict[str, int]] = {}
    for t in tasks:
        for u in t.lead + t.coordinate:
            counts.setdefault(unit_key(u), {}).setdefault(u, 0)
            counts[unit_key(u)][u] += 1
    names = [max(v.items(), key=lambda kv: kv[1])[0] for k, v in counts.items() if k]
    return sorted(names, key=fold)


# ---------------------------------------------------------------------------------------------- due summary

@dataclass
class UnitDue:
    locality: str
    unit: str
    due_month: int = 0
    overdue: int = 0


def month_bounds(day: date) -> tuple[date, date]:
    start = day.replace(day=1)
    return start, (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def due_by_unit(db, ts: TaskSet, today: date) -> list[UnitDue]:
    """Per locality and lead unit: task due dates this month, and those overdue (within the digest's look-back of
    60 days) that no staff member has marked done."""
    month_start, month_end = month_bounds(today)
    overdue_from = today - timedelta(days=OVERDUE_DAYS)
    lo, hi = min(month_start, overdue_from), max(month_end, today)
    done: set[tuple[str, str]] = set()
    if "reminder_done" in _tables(db):
        done = {(r["task_id"], r["occurrence"]) for r in db.query("select task_id, occurrence from reminder_done")}
    out: dict[tuple[str, str], UnitDue] = {}
    for i, t in enumerate(ts.tasks):
        occ = ts.occurrences(i, lo, hi)
        if not occ:
            continue
        if done:
            occ = [o for o in occ if (t.id, o.isoformat()) not in done]
        in_month = sum(1 for o in occ if month_start <= o <= month_end)
        late = sum(1 for o in occ if overdue_from <= o < today)
        if not in_month and not late:
            continue
        for unit in t.lead or [NO_LEAD]:
            k = (t.locality, unit_key(unit) if unit != NO_LEAD else "")
            row = out.setdefault(k, UnitDue(locality=t.locality, unit=unit))
            row.due_month += in_month
            row.overdue += late
    return sorted(out.values(), key=lambda u: (fold(u.locality), -u.overdue, -u.due_month, fold(u.unit)))


# ---------------------------------------------------------------------------------------------- corrections

@dataclass
class OrphanCorrection:
    task_id: str
    title: str
    document: str
    locality: str
    by: str
    at: str
    not_a_task: bool


def orphan_corrections(db, tasks: list[Task]) -> list[OrphanCorrection]:
    """Corrections whose task is not in the index: marked "not a task", or gone after a plan was edited."""
    live = {t.id for t in tasks}
    out = []
    for c in load_corrections(db).values():
        if c.task_id in live:
            continue
        o = c.original or {}
        out.append(OrphanCorrection(task_id=c.task_id, title=str(o.get("title") or ""),
                                    document=str(o.get("document") or ""), locality=str(o.get("locality") or ""),
                                    by=c.by, at=c.at, not_a_task=c.not_a_task))
    out.sort(key=lambda c: c.at, reverse=True)
    return out


# ---------------------------------------------------------------------------------------------- questions

@dataclass
class Unanswered:
    question: str  # the latest wording, as the usage log stored it
    times: int
    last: str
    channels: list[str]
    localities: list[str]


def unanswered_questions(db, days: int, limit: int = 200) -> list[Unanswered]:
    """Questions the bot could not answer (usage log, found = 0), the same question folded together. The usage log
    stores no raw user id (a salted hash, which is never shown); the question is shown redacted (handlers.privacy:
    no phone number, ID number or e-mail), whatever the log kept."""
    if "usage_log" not in _tables(db):
        return []
    cols = _columns(db, "usage_log")
    since = (datetime.now(timezone.utc) - timedelta(days=days)).isoformat(timespec="seconds")
    kind = " and kind in ('question', 'choice')" if "kind" in cols else ""
    loc = "locality" if "locality" in cols else "''"
    rows = db.query(f"select question, ts, channel, {loc} as locality from usage_log "
                    f"where found = 0 and ts >= ?{kind} order by ts desc", [since])
    groups: dict[str, Unanswered] = {}
    for r in rows:
        q = redact(str(r["question"] or "").strip())  # whatever the log kept: no phone, ID or e-mail on the page
        if not q:
            continue
        k = " ".join(fold(q).split()).rstrip("?. ")
        g = groups.get(k)
        if g is None:
            g = groups[k] = Unanswered(question=q, times=0, last=r["ts"], channels=[], localities=[])
        g.times += 1
        if r["channel"] and r["channel"] not in g.channels:
            g.channels.append(r["channel"])
        if r["locality"] and r["locality"] not in g.localities:
            g.localities.append(r["locality"])
    return sorted(groups.values(), key=lambda g: (-g.times, g.last), reverse=False)[:limit]


def disliked_answers(db, days: int, limit: int = 200) -> list[dict]:
    """👎 votes from the feedback table (question redacted by its writer, as the usage log is)."""
    if "feedback" not in _tables(db):
        return []
    cols = _columns(db, "feedback")
    if not {"vote", "question"} <= cols:
        return []
    since = (datetime.now(timezone.utc) - timedelta(days=days)).isoformat(timespec="seconds")
    pick = [c for c in ("ts", "channel", "question", "answer", "intent", "found") if c in cols]
    where = "vote < 0" + (" and ts >= ?" if "ts" in cols else "")
    order = " order by ts desc" if "ts" in cols else ""
    rows = db.query(f"select {', '.join(pick)} from feedback where {where}{order} limit ?",
                    [since, limit] if "ts" in cols else [limit])
    return [{**dict(r), "question": redact(str(r["question"] or ""))} for r in rows]
