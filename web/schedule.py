"""The reminders page: the schedule of the coming days, the outbox and the staff registrations.

The schedule is computed by the reminder service's own planning code (``bot.reminders``: task occurrences with
/dathan overrides, offsets, recipients of each slot, snoozes, escalation to the focal unit), read-only: nothing is
written to the outbox. It also lists the reminders that will reach nobody because no staff member of the lead
unit is registered — the officer's cue to get someone to /dangky.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from bot.reminders import Reminders
from bot.staff import Staff

ROLE_LABELS = {"lead": "chủ trì", "coordinate": "phối hợp", "escalate": "thường trực CCHC (quá hạn)"}
STATUS_LABELS = {"pending": "chờ gửi", "sent": "đã gửi", "failed": "lỗi", "failed_blocked": "lỗi (người nhận chặn bot)",
                 "superseded": "bỏ qua (đã có nhắc mới hơn)", "cancelled": "đã hủy"}


def offset_label(offset: int) -> str:
    if offset > 0:
        return f"trước hạn {offset} ngày"
    if offset == 0:
        return "đúng ngày hạn"
    return f"quá hạn {-offset} ngày"


@dataclass
class ScheduleItem:
    day: date
    task_id: str
    title: str
    locality: str
    occurrence: date
    offset: int
    role: str
    unit: str
    recipients: list[str] = field(default_factory=list)  # "name (channel)", ": status" once in the outbox

    @property
    def when(self) -> str:
        return offset_label(self.offset)

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


def schedule(db, settings, today: date, days: int = 30) -> list[ScheduleItem]:
    """Reminders that fall on ``today`` .. ``today + days`` (local dates), by day, task and unit."""
    rem = Reminders(db, settings)
    cfg = rem.cfg
    end = today + timedelta(days=days)
    lo, hi = today - timedelta(days=cfg.span_after + 1), end + timedelta(days=cfg.span_before + 1)
    # as the planner sees them: copies of a task (one identity) planned once, done/snoozed under the identity
    all_tasks = rem.load_tasks()
    done = rem._done(all_tasks)
    snoozes = rem._snoozes(all_tasks)
    focal = rem._focal()
    directory = Reminders._Directory(rem.staff.list("approved"))
    outbox = _outbox_status(db, lo)
    items: list[ScheduleItem] = []
    for task in rem._distinct(all_tasks):
        if not task.lead and not task.coordinate:
            continue
        for occ in task.occurrences(lo, hi):
            if (task.ident, occ.isoformat()) in done or (task.id, occ.isoformat()) in done:
                continue
            slots = rem._slots(task, occ, directory, focal, snoozes.get((task.ident, occ.isoformat()), []))
            grouped: dict[tuple, ScheduleItem] = {}
            for s in slots:
                day = cfg.local_date(s.at)
                if not today <= day <= end:
                    continue
                k = (day, s.offset_days, s.role, s.unit)
                item = grouped.get(k)
                if item is None:
                    item = grouped[k] = ScheduleItem(day=day, task_id=task.id, title=task.title,
                                                     locality=task.locality, occurrence=occ, offset=s.offset_days,
                                                     role=s.role, unit=s.unit)
                status = outbox.get(s.key) or outbox.get(s.ident_key)
                item.recipients.append(_who(s.staff) + (f": {STATUS_LABELS.get(status, status)}" if status else ""))
            # Lead units nobody is registered for: their reminders have no recipient.
            for unit in task.lead:
                if directory.of([unit], task.locality):
                    continue
                for off in cfg.lead_offsets():
                    day = occ - timedelta(days=off)
                    if today <= day <= end:
                        grouped.setdefault((day, off, "lead", unit), ScheduleItem(
                            day=day, task_id=task.id, title=task.title, locality=task.locality, occurrence=occ,
                            offset=off, role="lead", unit=unit))
            items.extend(grouped.values())
    items.sort(key=lambda i: (i.day, i.locality, i.occurrence, i.title, -i.offset, i.role, i.unit))
    return items


def _who(s: Staff) -> str:
    return f"{s.name} ({s.channel})"


def _outbox_status(db, since: date) -> dict[str, str]:
    if not db["outbox"].exists():
        return {}
    out: dict[str, str] = {}
    for r in db.query("select key, ident, task_id, status from outbox where kind != 'digest' and occurrence >= ?",
                      [since.isoformat()]):
        out[r["key"]] = r["status"]
        if r["ident"] and r["key"].startswith(r["task_id"]):  # a row queued for another copy of the task
            out.setdefault(r["ident"] + r["key"][len(r["task_id"]):], r["status"])
    return out


def outbox_counts(db) -> Counter:
    if not db["outbox"].exists():
        return Counter()
    return Counter({r["status"]: r["n"] for r in db.query("select status, count(*) as n from outbox group by status")})


def outbox_rows(db, which: str, limit: int = 50) -> list[dict]:
    """'pending' (next first), 'failed' (latest first, both failure kinds), 'sent' (latest first), with the
    recipient's name."""
    if not db["outbox"].exists():
        return []
    where, order = {
        "pending": ("o.status = 'pending'", "o.not_before, o.id"),
        "failed": ("o.status like 'failed%'", "o.id desc"),
        "sent": ("o.status = 'sent'", "o.sent_at desc, o.id desc"),
    }[which]
    join = "left join staff s on s.id = o.staff_id" if db["staff"].exists() else ""
    name = "s.name as staff_name" if join else "'' as staff_name"
    return [dict(r) for r in db.query(
        f"select o.*, {name} from outbox o {join} where {where} order by {order} limit ?", [limit])]


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
