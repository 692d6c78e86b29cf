"""Deadline reminders pushed to the staff who own each task — none lost, across restarts.

Model
-----
- Tasks: table ``tasks`` (rows of ``index.records.Task``; ``deadline`` = ``Deadline.to_dict()`` as JSON).
  When a row has no ``deadline`` dict, ``deadline_text`` is re-parsed with the plan year/period read from the
  plan title (``index.deadlines.plan_period``). An admin override in ``due_overrides`` (/dathan) wins: the task
  then has exactly one occurrence, the override date.
- Schedule, per task occurrence (``index.deadlines.occurrences``), all at ``REMINDER_SEND_HOUR`` local time:
  lead units' approved staff get ``REMINDER_OFFSETS`` days before (7, 1, 0), then overdue reminders daily for
  ``REMINDER_OVERDUE_DAILY`` days, then weekly for ``REMINDER_OVERDUE_WEEKLY`` weeks, until done. Coordinating
  units get the on-day reminder (``REMINDER_NOTIFY_COORDINATORS``). From ``REMINDER_ESCALATE_AFTER_DAYS`` days
  overdue on, each overdue reminder also goes to the CCHC focal unit of the locality (table
  ``focal_units(locality, unit)``; no table or no row: no escalation). Ongoing / conditional / periodic tasks
  have no dated reminder, only a line in the digest.
- Daily digest at the send hour: each staff member's tasks overdue (last 60 days) and due within 14 days.
  Sent when there is at least one dated item; on Mondays also when only ongoing/conditional tasks exist.

Delivery
--------
- Table ``outbox``; idempotency key ``task_id|occurrence|staff_id|offset_days`` (digests:
  ``digest|date|staff_id``), UNIQUE. A tick at instant T (1) *enqueues*, in one transaction, every slot whose
  time is <= T and whose key is not in the outbox — never earlier than its time; (2) *delivers* pending rows:
  row committed as 'pending' BEFORE the platform call, marked 'sent' after the platform accepted it. A crash
  anywhere leaves 'pending' rows that the next tick resends; the only possible duplicate is a crash between the
  platform's acceptance and the commit of 'sent'.
- Catch-up after downtime: per (task, occurrence, recipient) only the latest slot that is due is sent, once
  ("sends at start-up what it missed, once"); older missed slots of the same group are recorded as
  'superseded' (so nothing is silently dropped, and never sent later). The look-back covers the time since the
  last tick (table ``reminder_state``), so a long outage loses nothing.
- Quiet hours: a pending row for a recipient in quiet hours is held (``not_before`` = end of quiet hours).
- ``SendError(retryable=True)`` (429/5xx/timeouts): exponential backoff (30 s doubling, capped at 1 h, or the
  platform's retry_after), up to ``MAX_ATTEMPTS``; ``blocked=True``: staff marked blocked, row
  'failed_blocked', their other pending rows too, no retries.
- Staff actions: ``done`` (/xong <mã>), ``snooze`` (/hoanlai <mã> <số ngày>: nothing for that occurrence until
  then, and one reminder when the snooze ends), ``upcoming`` (/viectoi), ``set_due_override`` (/dathan).
  The short code (mã) names one task occurrence (table ``reminder_codes``).
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import sys
import time as _time
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Callable, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

import sqlite_utils

from bot.dbschema import add_missing_columns, ensure_schema
from bot.staff import Staff, StaffRegistry, connect, is_collective_unit, locality_key, unit_key
from index.deadlines import Deadline, occurrences, parse_deadline, plan_period
from index.textnorm import fold, normalize

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
IN_FLIGHT = "in flight"  # outbox.last_error while a send is under way (committed before the platform call)
BACKOFF_BASE = 30.0  # seconds
BACKOFF_CAP = 3600.0
DIGEST_DAYS_AHEAD = 14
DIGEST_OVERDUE_DAYS = 60
MAX_TEXT = 1900  # under Zalo's 2000 and Telegram's 4096
_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


# ------------------------------------------------------------------------------------------------ sending

class SendError(Exception):
    """A platform refused a message. ``retryable``: 429 / 5xx / timeout (try again later, after
    ``retry_after`` seconds when the platform said so). ``blocked``: the recipient blocked the bot.
    ``unknown``: the message may have been delivered (a timeout after sending): a retry may duplicate it."""

    def __init__(self, retryable: bool | str = False, blocked: bool = False, retry_after: float | None = None,
                 message: str = "", unknown: bool = False):
        if isinstance(retryable, str):  # SendError("text", retryable=...) also accepted
            message, retryable = retryable, False
        self.retryable = bool(retryable)
        self.blocked = bool(blocked)
        self.retry_after = retry_after
        self.message = message
        self.unknown = bool(unknown)
        super().__init__(message or f"send failed (retryable={self.retryable}, blocked={self.blocked})")


@runtime_checkable
class Sender(Protocol):
    async def send(self, channel: str, chat_id: str, text: str) -> None:
        """Deliver ``text``; return only once the platform accepted it; raise ``SendError`` otherwise."""


class ConsoleSender:
    """Prints messages (the 'console' channel, and development without tokens)."""

    channels = ("console",)

    def __init__(self, stream=None):
        self.stream = stream

    async def send(self, channel: str, chat_id: str, text: str) -> None:
        out = self.stream or sys.stdout
        print(f"--- [{channel}:{chat_id}]\n{text}\n", file=out, flush=True)


class HttpBotSender:
    """Telegram-compatible ``sendMessage`` (Telegram Bot API; the Zalo Bot API has the same shape).
    The channels module may register a richer sender instead (``register_sender``)."""

    def __init__(self, channel: str, base_url: str, token: str, timeout: float = 15.0):
        self.channels = (channel,)
        self.url = f"{base_url.rstrip('/')}{token}/sendMessage" if base_url.endswith("bot") \
            else f"{base_url.rstrip('/')}/bot{token}/sendMessage"
        self.timeout = timeout
        self._client = None

    async def send(self, channel: str, chat_id: str, text: str) -> None:
        import httpx

        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout)
        try:
            r = await self._client.post(self.url, json={"chat_id": chat_id, "text": text})
        except (httpx.TimeoutException, httpx.TransportError) as e:
            raise SendError(retryable=True, message=f"{type(e).__name__}: {e}") from e
        try:
            body = r.json()
        except ValueError:
            body = {}
        if r.status_code == 200 and body.get("ok", True):
            return
        code = int(body.get("error_code") or r.status_code)
        desc = str(body.get("description") or r.text[:200])
        params = body.get("parameters") or {}
        if code == 429:
            raise SendError(retryable=True, retry_after=float(params.get("retry_after") or 1), message=desc)
        if code >= 500:
            raise SendError(retryable=True, message=desc)
        low = desc.lower()
        if code == 403 or "blocked" in low or "deactivated" in low or "kicked" in low:
            raise SendError(blocked=True, message=desc)
        raise SendError(message=f"{code} {desc}")


class MultiSender:
    """Routes by channel. Channels without a sender are not attempted (their rows stay pending)."""

    def __init__(self, senders: dict[str, Any]):
        self.senders = dict(senders)
        self.channels = tuple(self.senders)

    async def send(self, channel: str, chat_id: str, text: str) -> None:
        s = self.senders.get(channel)
        if s is None:
            raise SendError(retryable=True, message=f"no sender for channel {channel}")
        await s.send(channel, chat_id, text)


_SENDER_FACTORIES: dict[str, Callable[[Any], Any]] = {}


def register_sender(channel: str, factory: Callable[[Any], Any]) -> None:
    """The channels module registers ``factory(settings) -> Sender | None`` for "telegram"/"zalo"."""
    _SENDER_FACTORIES[channel] = factory


def build_sender(settings, console_stream=None) -> MultiSender:
    """Senders for every configured channel: registered factories first, else the built-in HTTP sender when a
    token is set; the console channel always prints."""
    senders: dict[str, Any] = {"console": ConsoleSender(console_stream)}
    for channel, token, base in (
        ("telegram", getattr(settings, "telegram_bot_token", ""), getattr(settings, "telegram_api_base_url", "")),
        ("zalo", getattr(settings, "zalo_bot_token", ""), getattr(settings, "zalo_api_base_url", "")),
    ):
        factory = _SENDER_FACTORIES.get(channel)
        s = factory(settings) if factory else None
        if s is None and token:
            s = HttpBotSender(channel, base, token)
        if s is not None:
            senders[channel] = s
    return MultiSender(senders)


def _channel_filter(sender) -> Callable[[str], bool]:
    """Which channels ``sender`` can reach: its ``channels`` attribute, else ``channel in sender`` when it
    supports that (bot.senders.ChannelSenders), else every channel."""
    channels = getattr(sender, "channels", None)
    if channels is not None:
        return lambda c: c in channels
    if hasattr(type(sender), "__contains__"):
        return lambda c: c in sender
    return lambda c: True


# ------------------------------------------------------------------------------------------------ config

@dataclass(frozen=True)
class ReminderConfig:
    offsets: tuple[int, ...] = (7, 1, 0)  # days before the due date
    overdue_daily: int = 3
    overdue_weekly: int = 4
    escalate_after: int = 7
    notify_coordinators: bool = True
    send_hour: int = 8
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Ho_Chi_Minh"))

    @classmethod
    def from_settings(cls, s) -> "ReminderConfig":
        raw = str(getattr(s, "reminder_offsets", "7,1,0"))
        offs = tuple(sorted({int(x) for x in raw.replace(";", ",").split(",") if x.strip()}, reverse=True))
        return cls(
            offsets=tuple(o for o in offs if o >= 0) or (0,),
            overdue_daily=max(0, int(getattr(s, "reminder_overdue_daily", 3))),
            overdue_weekly=max(0, int(getattr(s, "reminder_overdue_weekly", 4))),
            escalate_after=max(0, int(getattr(s, "reminder_escalate_after_days", 7))),
            notify_coordinators=bool(getattr(s, "reminder_notify_coordinators", True)),
            send_hour=min(23, max(0, int(getattr(s, "reminder_send_hour", 8)))),
            tz=ZoneInfo(getattr(s, "timezone", "Asia/Ho_Chi_Minh")),
        )

    def lead_offsets(self) -> list[int]:
        """offset_days of the lead unit's reminders: positive before the due date, 0 on it, negative after."""
        over = [-d for d in range(1, self.overdue_daily + 1)]
        over += [-(self.overdue_daily + 7 * k) for k in range(1, self.overdue_weekly + 1)]
        return sorted(set(self.offsets) | set(over), reverse=True)

    def escalation_offsets(self) -> list[int]:
        if self.escalate_after <= 0:
            return []
        later = [o for o in self.lead_offsets() if -o > self.escalate_after]
        return sorted({-self.escalate_after, *later}, reverse=True)

    @property
    def span_before(self) -> int:
        return max(self.offsets)

    @property
    def span_after(self) -> int:
        return max([0, *(-o for o in self.lead_offsets()), *(-o for o in self.escalation_offsets())])

    def at(self, day: date) -> datetime:
        """The UTC instant of the send hour on local ``day``."""
        return _send_instant(day, self.send_hour, self.tz)

    def local_date(self, instant: datetime) -> date:
        return _aware(instant).astimezone(self.tz).date()


@lru_cache(maxsize=4096)  # asked once per reminder slot (half a million in a catch-up), for a few dozen days
def _send_instant(day: date, hour: int, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=tz).astimezone(timezone.utc)


@lru_cache(maxsize=64)  # the config is frozen: its offsets once, not once per task occurrence
def _lead_offsets(cfg: ReminderConfig) -> tuple[int, ...]:
    return tuple(cfg.lead_offsets())


@lru_cache(maxsize=64)
def _escalation_offsets(cfg: ReminderConfig) -> tuple[int, ...]:
    return tuple(cfg.escalation_offsets())


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _iso(dt: datetime) -> str:
    return _aware(dt).astimezone(timezone.utc).isoformat(timespec="seconds")


_iso_cached = lru_cache(maxsize=1024)(_iso)  # slot instants and ``now``: a few values shared by many rows


def _parse_iso(s: str) -> datetime:
    return _aware(datetime.fromisoformat(s))


def _fmt(d: date) -> str:
    return d.strftime("%d/%m/%Y")


@lru_cache(maxsize=16384)  # the same titles recur in many texts of one tick (recipients, digests)
def _short(s: str, n: int) -> str:
    s = normalize(s or "")
    return s if len(s) <= n else s[: n - 1].rstrip() + "…"


def _as_list(v) -> list[str]:
    if v is None or v == "":
        return []
    if isinstance(v, list):
        return [str(x) for x in v if str(x).strip()]
    if isinstance(v, str):
        try:
            j = json.loads(v)
            if isinstance(j, list):
                return [str(x) for x in j if str(x).strip()]
        except ValueError:
            pass
        return [v]
    return [str(v)]


def _as_dict(v) -> dict:
    if isinstance(v, dict):
        return v
    if isinstance(v, str) and v.strip():
        try:
            j = json.loads(v)
            return j if isinstance(j, dict) else {}
        except ValueError:
            return {}
    return {}


def _row_identity(r: dict) -> str:
    """task_identity of a ``tasks`` row."""
    return task_identity(r.get("locality") or "", r.get("title") or "", _as_list(r.get("lead")),
                         _as_list(r.get("coordinate")), r.get("deadline_text") or "")


def _is_done(row: dict, done: set[tuple[str, str]]) -> bool:
    """Whether an outbox row's task occurrence was marked done (through any copy of the task)."""
    occ = row["occurrence"]
    return (row["task_id"], occ) in done or (bool(row.get("ident")) and (row["ident"], occ) in done)


def occurrence_code(task_id: str, occurrence: str, length: int = 6) -> str:
    h = int(hashlib.sha1(f"{task_id}|{occurrence}".encode()).hexdigest(), 16)
    out = []
    for _ in range(length):
        h, r = divmod(h, len(_CODE_ALPHABET))
        out.append(_CODE_ALPHABET[r])
    return "".join(out)


class _Memo(dict):
    """``fn(value)`` computed once per distinct value, for the length of one pass."""

    def __init__(self, fn: Callable[[Any], Any]):
        super().__init__()
        self.fn = fn

    def __missing__(self, value):
        out = self[value] = self.fn(value)
        return out

    __call__ = dict.__getitem__


class _NoLock:
    def release(self) -> None:
        pass


class _FdLock:
    def __init__(self, fd: int):
        self.fd = fd

    def release(self) -> None:
        os.close(self.fd)  # closing the descriptor drops the flock


# ------------------------------------------------------------------------------------------------ records

def task_identity(locality: str, title: str, lead=(), coordinate=(), deadline_text: str = "") -> str:
    """What makes two task rows the same task for reminders, whatever file they came from (two copies of a plan,
    another encoding, a copy under another name): the same locality, text, lead and coordinating units and deadline
    (folded: spelling, case and tone marks aside). Reminders are unique per (identity, occurrence, recipient,
    offset), so copies never multiply them; a row that differs in any of these is another task."""
    units = "|".join(sorted({unit_key(u) for u in lead})) + "/" + "|".join(sorted({unit_key(u) for u in coordinate}))
    return _identity(locality_key(locality), _folded(title), units, _folded(deadline_text))


@lru_cache(maxsize=65536)
def _folded(text: str) -> str:
    return " ".join(fold(normalize(text or "")).split())


@lru_cache(maxsize=65536)
def _identity(locality: str, title: str, units: str, deadline: str) -> str:
    return hashlib.sha1(f"{locality}|{title}|{units}|{deadline}".encode()).hexdigest()[:16]


@dataclass
class TaskInfo:
    id: str
    title: str
    plan_title: str
    locality: str
    lead: list[str]
    coordinate: list[str]
    deadline_text: str
    deadline: Deadline
    override: date | None = None
    ident: str = ""  # task_identity(...): the same for every copy of this task

    def occurrences(self, lo: date, hi: date) -> list[date]:
        if self.override:
            return [self.override] if lo <= self.override <= hi else []
        return occurrences(self.deadline, lo, hi)

    @property
    def dated(self) -> bool:
        if self.override:
            return True
        d = self.deadline
        return d.kind in ("date", "period_end") or (d.kind == "recurring" and d.recurrence != "periodic")


@dataclass
class Slot:
    task: TaskInfo
    occurrence: date
    staff: Staff
    offset_days: int
    role: str  # lead | coordinate | escalate
    unit: str
    at: datetime  # UTC

    @cached_property  # read several times per slot while planning; a slot is never changed
    def key(self) -> str:
        return f"{self.task.id}|{self.occurrence.isoformat()}|{self.staff.id}|{self.offset_days}"

    @property
    def ident_key(self) -> str:
        """The key under the task's identity: the same for every copy of the task (``_existing_keys``)."""
        return f"{self.task.ident}{self.key[len(self.task.id):]}"


_ROLE_RANK = {"lead": 0, "escalate": 1, "coordinate": 2}
# Every column a planned row sets (reminders and digests alike; "id" is the table's).
_OUTBOX_COLUMNS = ("key", "ident", "kind", "task_id", "occurrence", "staff_id", "offset_days", "role", "unit",
                   "locality",
                   "channel", "chat_id", "text", "code", "scheduled_at", "not_before", "status", "attempts",
                   "last_error", "created_at", "sent_at")
_OUTBOX_INSERT = (f"insert or ignore into outbox ({', '.join(f'[{c}]' for c in _OUTBOX_COLUMNS)}) "
                  f"values ({', '.join(f':{c}' for c in _OUTBOX_COLUMNS)})")


class _OccurrenceMemo:
    """Task occurrences in one window, expanded once per distinct deadline: the rows of one template share
    their Deadline object (``load_tasks``), so 100,000 generated tasks have a handful of expansions."""

    def __init__(self, lo: date, hi: date):
        self.lo, self.hi = lo, hi
        self._memo: dict[int, tuple[Deadline, list[date]]] = {}  # keeps the Deadline alive, so its id stays its own

    def __call__(self, task: TaskInfo) -> list[date]:
        if task.override:
            return task.occurrences(self.lo, self.hi)
        hit = self._memo.get(id(task.deadline))
        if hit is None:
            hit = self._memo[id(task.deadline)] = (task.deadline, task.occurrences(self.lo, self.hi))
        return hit[1]


class _UnitTasks:
    """One tick's tasks by (folded locality, unit key) of every unit leading or coordinating them; tasks of a
    collective unit ("Các cơ quan, đơn vị") by locality. A staff member's roles are only in their own locality
    and unit or a collective one (``_roles_of``), so a digest reads those tasks instead of all of them."""

    def __init__(self, tasks: list[TaskInfo]):
        self.tasks = tasks
        self.by_unit: dict[tuple[str, str], list[int]] = {}
        self.collective: dict[str, list[int]] = {}
        for i, t in enumerate(tasks):
            loc = locality_key(t.locality)
            for u in (*t.lead, *t.coordinate):
                bucket = (self.collective.setdefault(loc, []) if is_collective_unit(u)
                          else self.by_unit.setdefault((loc, unit_key(u)), []))
                if not bucket or bucket[-1] != i:  # a unit named twice in one task
                    bucket.append(i)

    def of(self, loc: str, unit: str) -> list[TaskInfo]:
        """Candidate tasks of unit key ``unit`` in locality key ``loc``, in table order (a superset of the
        tasks where ``_roles_of`` finds a role: same digests, same order)."""
        own, shared = self.by_unit.get((loc, unit), []), self.collective.get(loc, [])
        idx = sorted(set(own).union(shared)) if own and shared else own or shared
        return [self.tasks[i] for i in idx]


# ------------------------------------------------------------------------------------------------ schema

_REMINDER_DDL = """
CREATE TABLE IF NOT EXISTS [outbox] (
   [id] INTEGER PRIMARY KEY, [key] TEXT NOT NULL, [kind] TEXT, [task_id] TEXT, [occurrence] TEXT,
   [staff_id] INTEGER, [offset_days] INTEGER, [role] TEXT, [unit] TEXT, [locality] TEXT, [channel] TEXT,
   [chat_id] TEXT, [text] TEXT, [code] TEXT, [scheduled_at] TEXT, [not_before] TEXT, [status] TEXT NOT NULL,
   [attempts] INTEGER, [last_error] TEXT, [created_at] TEXT, [sent_at] TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS [idx_outbox_key] ON [outbox] ([key]);
CREATE INDEX IF NOT EXISTS [idx_outbox_status_not_before] ON [outbox] ([status], [not_before]);
CREATE INDEX IF NOT EXISTS [idx_outbox_task_id_occurrence] ON [outbox] ([task_id], [occurrence]);
CREATE TABLE IF NOT EXISTS [reminder_done] (
   [task_id] TEXT, [occurrence] TEXT, [done_by] TEXT, [done_at] TEXT, PRIMARY KEY ([task_id], [occurrence])
);
CREATE TABLE IF NOT EXISTS [reminder_snooze] (
   [id] INTEGER PRIMARY KEY, [task_id] TEXT, [occurrence] TEXT, [days] INTEGER, [snoozed_at] TEXT, [until] TEXT,
   [by] TEXT
);
CREATE TABLE IF NOT EXISTS [reminder_codes] ([code] TEXT PRIMARY KEY, [task_id] TEXT, [occurrence] TEXT);
CREATE TABLE IF NOT EXISTS [due_overrides] ([task_id] TEXT PRIMARY KEY, [due] TEXT, [set_by] TEXT, [set_at] TEXT);
CREATE TABLE IF NOT EXISTS [reminder_state] ([key] TEXT PRIMARY KEY, [value] TEXT);
"""
# Columns added after the first release (ALTER TABLE on older databases).
_OUTBOX_ADDED = {"ident": "TEXT", "last_attempt_at": "TEXT"}
_DONE_ADDED = {"ident": "TEXT"}  # reminder_done and reminder_snooze


def _create_reminder_tables(conn) -> None:
    for statement in _REMINDER_DDL.split(";"):
        if statement.strip():
            conn.execute(statement)
    add_missing_columns(conn, "outbox", _OUTBOX_ADDED)
    add_missing_columns(conn, "reminder_done", _DONE_ADDED)
    add_missing_columns(conn, "reminder_snooze", _DONE_ADDED)


# ------------------------------------------------------------------------------------------------ the service

class Reminders:
    """Schedule, outbox and staff actions over the bot's SQLite database."""

    def __init__(self, db: str | Path | sqlite_utils.Database, settings=None, config: ReminderConfig | None = None):
        self.db = db if isinstance(db, sqlite_utils.Database) else connect(db)
        self.cfg = config or (ReminderConfig.from_settings(settings) if settings is not None else ReminderConfig())
        self.staff = StaffRegistry(self.db)
        self._task_cache: dict[tuple, TaskInfo] = {}
        self._no_digest: set[tuple[str, int]] = set()  # (date, staff id): nothing to digest that day
        self._idle_memo: tuple | None = None  # (db version, since, until): plans in between find nothing
        self._pending_codes: dict[str, tuple[str, str]] = {}  # codes named in rows not yet committed
        self._pending_by_occ: dict[tuple[str, str], str] = {}  # the same, by occurrence
        self._known_codes: dict[tuple[str, str], str] = {}  # committed codes seen by this instance
        self._ensure()

    # ---------------------------------------------------------------- schema
    def _ensure(self) -> None:
        ensure_schema(self.db.conn, _create_reminder_tables, what="reminder tables")

    # ---------------------------------------------------------------- reads
    def _q(self, sql: str, params=()) -> list[dict]:
        """Rows as dicts, straight from the connection (the scheduler reads a lot, every minute)."""
        cur = self.db.conn.execute(sql, params)
        keys = [d[0] for d in cur.description]
        return [dict(zip(keys, row)) for row in cur.fetchall()]

    def _tables(self) -> set[str]:
        return {r[0] for r in self.db.conn.execute("select name from sqlite_master where type = 'table'")}

    def _state(self, key: str) -> str | None:
        rows = self._q("select value from reminder_state where key = ?", [key])
        return rows[0]["value"] if rows else None

    def _overrides(self) -> dict[str, date]:
        out: dict[str, date] = {}
        for r in self._q("select task_id, due, set_at from due_overrides order by set_at"):
            try:
                out[str(r["task_id"])] = date.fromisoformat(str(r["due"])[:10])
            except (TypeError, ValueError):
                continue
        return out

    def load_tasks(self) -> list[TaskInfo]:
        if "tasks" not in self._tables():
            return []
        overrides = self._overrides()
        out = []
        cache: dict[tuple, TaskInfo] = {}
        # Plans repeat their title, deadline texts and units over many rows: parse each distinct value once.
        norm = _Memo(lambda v: normalize(v or ""))
        units = _Memo(lambda v: tuple(_as_list(v)))
        deadlines: dict[str, Deadline] = {}
        cur = self.db.conn.execute("select * from tasks")
        keys = [d[0] for d in cur.description]
        for row in cur.fetchall():
            info = self._task_cache.get(row)
            if info is None:
                r = dict(zip(keys, row))
                info = TaskInfo(
                    id=str(r["id"]), title=normalize(r.get("title") or ""),
                    plan_title=norm(r.get("plan_title")), locality=r.get("locality") or "",
                    lead=list(units(r.get("lead"))), coordinate=list(units(r.get("coordinate"))),
                    deadline_text=norm(r.get("deadline_text")), deadline=self._deadline_memo(r, deadlines),
                    ident=task_identity(r.get("locality") or "", r.get("title") or "", units(r.get("lead")),
                                        units(r.get("coordinate")), r.get("deadline_text") or ""),
                )
            cache[row] = info
            ov = overrides.get(info.id)
            out.append(info if ov == info.override else TaskInfo(**{**info.__dict__, "override": ov}))
        self._task_cache = cache
        return out

    @classmethod
    def _deadline_memo(cls, r: dict, memo: dict[str, Deadline]) -> Deadline:
        """``_deadline_of``, one Deadline (frozen) per distinct stored JSON: rows of one template share it, and
        so do their occurrences (``_OccurrenceMemo``)."""
        raw = r.get("deadline")
        if not isinstance(raw, str) or not raw.strip():
            return cls._deadline_of(r)
        hit = memo.get(raw)
        if hit is None:
            hit = cls._deadline_of(r)
            if not _as_dict(raw).get("kind"):  # re-parsed from the row's own text and plan: not shareable
                return hit
            memo[raw] = hit
        return hit

    @staticmethod
    def _deadline_of(r: dict) -> Deadline:
        d = _as_dict(r.get("deadline"))
        if d.get("kind"):
            return Deadline.from_dict(d)
        year, period = plan_period(r.get("plan_title") or r.get("document") or "")
        dl = parse_deadline(r.get("deadline_text") or "", plan_year=year, plan_period=period)
        if dl.due is None and r.get("due") and dl.kind in ("unspecified", "date", "period_end"):
            try:
                due = date.fromisoformat(str(r["due"])[:10])
                dl = Deadline(text=dl.text, kind="date", due=due, dues=[due])
            except ValueError:
                pass
        return dl

    def _done(self, tasks: list[TaskInfo] | None = None) -> set[tuple[str, str]]:
        """(task identity, occurrence) of every occurrence marked done, and (task id, occurrence) too: one copy
        of a task marked done is every copy done. Rows written before identities existed get theirs from
        ``tasks`` (or the tasks table)."""
        by_id = {t.id: t.ident for t in tasks} if tasks is not None else None
        out: set[tuple[str, str]] = set()
        legacy: list[dict] = []
        for r in self._q("select task_id, occurrence, ident from reminder_done"):
            out.add((r["task_id"], r["occurrence"]))
            if r["ident"]:
                out.add((r["ident"], r["occurrence"]))
            elif by_id is not None:
                if r["task_id"] in by_id:
                    out.add((by_id[r["task_id"]], r["occurrence"]))
            else:
                legacy.append(r)
        if legacy and "tasks" in self._tables():
            ids = sorted({r["task_id"] for r in legacy})
            found = {}
            for i in range(0, len(ids), 500):
                chunk = ids[i:i + 500]
                marks = ",".join("?" * len(chunk))
                for t in self._q(f"select * from tasks where id in ({marks})", chunk):
                    found[str(t["id"])] = _row_identity(t)
            out |= {(found[r["task_id"]], r["occurrence"]) for r in legacy if r["task_id"] in found}
        return out

    def _snoozes(self, tasks: list[TaskInfo]) -> dict[tuple[str, str], list[tuple[datetime, datetime]]]:
        """Snoozes by (task identity, occurrence): snoozing one copy snoozes every copy."""
        by_id = {t.id: t.ident for t in tasks}
        out: dict[tuple[str, str], list[tuple[datetime, datetime]]] = {}
        for r in self._q("select * from reminder_snooze order by id"):
            ident = r["ident"] or by_id.get(r["task_id"])
            if ident is None:  # the task is gone from the plans
                continue
            out.setdefault((ident, r["occurrence"]), []).append((_parse_iso(r["snoozed_at"]), _parse_iso(r["until"])))
        return out

    @staticmethod
    def _distinct(tasks: list[TaskInfo]) -> list[TaskInfo]:
        """One task per identity (the smallest id; table order otherwise kept): copies of a plan plan once."""
        best: dict[str, TaskInfo] = {}
        for t in tasks:
            cur = best.get(t.ident)
            if cur is None or t.id < cur.id:
                best[t.ident] = t
        if len(best) == len(tasks):
            return tasks
        keep = {id(t) for t in best.values()}
        return [t for t in tasks if id(t) in keep]

    def _focal(self) -> dict[str, list[str]]:
        if "focal_units" not in self._tables():
            return {}
        out: dict[str, list[str]] = {}
        for r in self._q("select * from focal_units"):
            if r.get("unit"):
                out.setdefault(locality_key(r.get("locality") or ""), []).append(r["unit"])
        return out

    # ---------------------------------------------------------------- recipients
    class _Directory:
        def __init__(self, staff: list[Staff]):
            self.by_loc: dict[str, list[Staff]] = {}
            self.by_unit: dict[tuple[str, str], list[Staff]] = {}  # same people, same order, by unit key too
            for s in staff:
                loc = locality_key(s.locality)
                self.by_loc.setdefault(loc, []).append(s)
                self.by_unit.setdefault((loc, unit_key(s.unit)), []).append(s)

        def of(self, units: list[str], locality: str) -> list[tuple[Staff, str]]:
            loc = locality_key(locality)
            out: dict[int, tuple[Staff, str]] = {}
            for u in units:
                if is_collective_unit(u):
                    for s in self.by_loc.get(loc, []):
                        out.setdefault(s.id, (s, s.unit))
                else:
                    for s in self.by_unit.get((loc, unit_key(u)), []):
                        out.setdefault(s.id, (s, u))
            return list(out.values())

    def _roles_of(self, staff: Staff, task: TaskInfo) -> str | None:
        if locality_key(staff.locality) != locality_key(task.locality):
            return None
        k = unit_key(staff.unit)
        if any(is_collective_unit(u) or unit_key(u) == k for u in task.lead):
            return "lead"
        if any(is_collective_unit(u) or unit_key(u) == k for u in task.coordinate):
            return "coordinate"
        return None

    # ---------------------------------------------------------------- planning
    def _slots(self, task: TaskInfo, occ: date, directory: "_Directory", focal: dict[str, list[str]],
               snoozes: list[tuple[datetime, datetime]]) -> list[Slot]:
        cfg = self.cfg
        slots: dict[str, Slot] = {}
        prefix = f"{task.id}|{occ.isoformat()}|"

        def add(staff: Staff, unit: str, offset: int, role: str):
            key = f"{prefix}{staff.id}|{offset}"  # Slot.key, known before a slot is built for it
            cur = slots.get(key)
            if cur is None or _ROLE_RANK[role] < _ROLE_RANK[cur.role]:
                s = Slot(task, occ, staff, offset, role, unit, cfg.at(occ - timedelta(days=offset)))
                s.key = key  # fills the cached property
                slots[key] = s

        leads = directory.of(task.lead, task.locality)
        lead_offsets = _lead_offsets(cfg)
        for staff, unit in leads:
            for off in lead_offsets:
                add(staff, unit, off, "lead")
        if cfg.notify_coordinators:
            for staff, unit in directory.of(task.coordinate, task.locality):
                add(staff, unit, 0, "coordinate")
        focal_units = focal.get(locality_key(task.locality), [])
        if focal_units:
            lead_ids = {staff.id for staff, _ in leads}
            for staff, unit in directory.of(focal_units, task.locality):
                if staff.id in lead_ids:  # the focal unit leads this task itself: no escalation to itself
                    continue
                for off in _escalation_offsets(cfg):
                    add(staff, unit, off, "escalate")
        out = list(slots.values())
        for snoozed_at, until in snoozes:
            out = [s for s in out if not (snoozed_at <= s.at < until)]
            end_day = cfg.local_date(until)
            for staff, unit in leads:
                off = (occ - end_day).days
                if f"{prefix}{staff.id}|{off}" not in {s.key for s in out}:
                    out.append(Slot(task, occ, staff, off, "lead", unit, until))
        return out

    def plan(self, now: datetime) -> tuple[list[dict], list[dict]]:
        """Rows a tick at ``now`` would add to the outbox: (to send, superseded). Writes nothing."""
        now = _aware(now)
        cfg = self.cfg
        today = cfg.local_date(now)
        # Idle ticks are free: nothing in the database changed (this connection or another) since a plan that
        # found nothing, and no slot time has been reached since.
        version = (self.db.conn.execute("pragma data_version").fetchone()[0], self.db.conn.total_changes)
        memo = self._idle_memo
        if memo and memo[0] == version and memo[1] <= now < memo[2]:
            return [], []
        last = self._state("last_tick")
        since = min(cfg.local_date(_parse_iso(last)), today) if last else today
        lo = since - timedelta(days=cfg.span_after + 1)
        hi = today + timedelta(days=cfg.span_before + 1)
        all_tasks = self.load_tasks()
        tasks = self._distinct(all_tasks)
        done = self._done(all_tasks)
        snoozes = self._snoozes(all_tasks)
        focal = self._focal()
        approved = self.staff.list("approved")
        directory = self._Directory(approved)
        # Snoozed occurrences older than the window still matter while their snooze is recent.
        extra = {k for k, v in snoozes.items() if k[1] and max(u for _, u in v) >= cfg.at(lo)}
        key_lo = min([lo, *(date.fromisoformat(o) for _, o in extra)])
        extra_by_task: dict[str, set[date]] = {}
        for ident, o in extra:
            extra_by_task.setdefault(ident, set()).add(date.fromisoformat(o))
        existing = self._existing_keys(key_lo, today, all_tasks)
        send, superseded = [], []
        midnight = datetime.combine(today + timedelta(days=1), time(0), tzinfo=cfg.tz).astimezone(timezone.utc)
        next_due = min(midnight, cfg.at(today) if now < cfg.at(today) else cfg.at(today + timedelta(days=1)))
        occurrences_in = _OccurrenceMemo(lo, hi)
        texts: dict[tuple, str] = {}
        for task in tasks:
            occs = set(occurrences_in(task))
            occs |= extra_by_task.get(task.ident, set())
            for occ in sorted(occs):
                if (task.ident, occ.isoformat()) in done:
                    continue
                snz = snoozes.get((task.ident, occ.isoformat()), [])
                floor = max((a for a, _ in snz), default=None)
                groups: dict[int, list[Slot]] = {}
                for s in self._slots(task, occ, directory, focal, snz):
                    if floor is not None and s.at < floor:
                        continue
                    if s.at <= now:
                        groups.setdefault(s.staff.id, []).append(s)
                    elif s.at < next_due:
                        next_due = s.at
                for group in groups.values():
                    group.sort(key=lambda s: (s.at, _ROLE_RANK[s.role]))
                    live = group[-1]  # the latest slot that is due: the only one a catch-up sends
                    if live.ident_key in existing:
                        continue
                    send.append(self._row(live, now, "pending", texts))
                    superseded += [self._row(s, now, "superseded", texts) for s in group[:-1]
                                   if s.ident_key not in existing]
        send += self._plan_digests(now, tasks, approved, done, existing)
        self._idle_memo = None if (send or superseded) else (version, now, next_due)
        return send, superseded

    def _existing_keys(self, key_lo: date, today: date, tasks: list[TaskInfo]) -> set[str]:
        """What the outbox already holds for the planning window: digest keys, and every reminder row under its
        task's identity (``Slot.ident_key``), so a slot of any copy of a task that was already queued, for any
        copy, is not queued again. Rows from before identities were stored get theirs from ``tasks``."""
        by_id = {t.id: t.ident for t in tasks}
        out = set()
        for r in self._q(
                "select key, ident, task_id, occurrence, staff_id, offset_days, kind from outbox "
                "where (kind != 'digest' and occurrence >= ?) or (kind = 'digest' and occurrence = ?)",
                [key_lo.isoformat(), today.isoformat()]):
            if r["kind"] == "digest":
                out.add(r["key"])
                continue
            ident = r["ident"] or by_id.get(r["task_id"])
            if ident:
                out.add(f"{ident}|{r['occurrence']}|{r['staff_id']}|{r['offset_days']}")
        return out

    def _row(self, s: Slot, now: datetime, status: str, texts: dict[tuple, str] | None = None) -> dict:
        """The outbox row of a slot. ``texts``: one plan's texts so far; a catch-up writes the same text for
        every recipient of one unit and role, whatever the offset (the text reads today, not the slot's day)."""
        occ = s.occurrence.isoformat()
        code = self.code_for(s.task.id, occ)
        texts = {} if texts is None else texts
        text_key = (id(s.task), occ, s.role, s.unit, code)  # the plan holds its tasks: no id is reused meanwhile
        text = texts.get(text_key)
        if text is None:
            text = texts[text_key] = reminder_text(s.task, s.occurrence, self.cfg.local_date(now), s.role, s.unit,
                                                   code)
        at = _iso_cached(s.at)
        return {
            "key": s.key, "ident": s.task.ident, "kind": "reminder" if s.role == "lead" else s.role,
            "task_id": s.task.id,
            "occurrence": occ, "staff_id": s.staff.id, "offset_days": s.offset_days,
            "role": s.role, "unit": s.unit, "locality": s.task.locality, "channel": s.staff.channel,
            "chat_id": s.staff.chat_id, "text": text, "code": code, "scheduled_at": at,
            "not_before": at, "status": status, "attempts": 0, "last_error": None,
            "created_at": _iso_cached(now), "sent_at": None, "_title": s.task.title,
        }

    def _plan_digests(self, now, tasks, approved, done, existing) -> list[dict]:
        cfg = self.cfg
        today = cfg.local_date(now)
        at = cfg.at(today)
        if now < at:
            return []
        rows = []
        unit_tasks = _UnitTasks(tasks)  # grouped once per tick, not scanned per person
        occurrences_in = _OccurrenceMemo(today - timedelta(days=DIGEST_OVERDUE_DAYS),
                                         today + timedelta(days=DIGEST_DAYS_AHEAD))
        # Items and undated tasks depend on the person only through (locality key, unit key) (_roles_of), the
        # text also through the unit and locality as they wrote them: each is built once per distinct value.
        found: dict[tuple[str, str], tuple[list[dict], list[TaskInfo]]] = {}
        texts: dict[tuple, str] = {}
        for staff in approved:
            key = f"digest|{today.isoformat()}|{staff.id}"
            if key in existing or (today.isoformat(), staff.id) in self._no_digest:
                continue
            group = (locality_key(staff.locality), unit_key(staff.unit))
            if group not in found:
                local = unit_tasks.of(*group)
                items = self._items_for(staff, local, done, today, DIGEST_DAYS_AHEAD, occurrences_in)
                ongoing = [t for t in local if not t.dated and self._roles_of(staff, t) and (t.ident, "") not in done]
                found[group] = (items, ongoing)
            items, ongoing = found[group]
            if not items and not (ongoing and today.weekday() == 0):
                self._no_digest.add((today.isoformat(), staff.id))
                continue
            text_key = (group, staff.unit, staff.locality)
            if text_key not in texts:
                texts[text_key] = digest_text(staff, today, items, ongoing)
            rows.append({
                "key": key, "ident": None, "kind": "digest", "task_id": "", "occurrence": today.isoformat(), "staff_id": staff.id,
                "offset_days": 0, "role": "digest", "unit": staff.unit, "locality": staff.locality,
                "channel": staff.channel, "chat_id": staff.chat_id,
                "text": texts[text_key], "code": "", "scheduled_at": _iso(at),
                "not_before": _iso(at), "status": "pending", "attempts": 0, "last_error": None,
                "created_at": _iso(now), "sent_at": None,
            })
        return rows

    def _items_for(self, staff: Staff, tasks: list[TaskInfo], done, today: date, days: int,
                   occurrences_in: _OccurrenceMemo | None = None) -> list[dict]:
        lo, hi = today - timedelta(days=DIGEST_OVERDUE_DAYS), today + timedelta(days=days)
        if occurrences_in is None or (occurrences_in.lo, occurrences_in.hi) != (lo, hi):
            occurrences_in = _OccurrenceMemo(lo, hi)
        items = []
        for t in tasks:
            role = self._roles_of(staff, t)
            if not role or not t.dated:
                continue
            for occ in occurrences_in(t):
                if (t.ident, occ.isoformat()) in done:
                    continue
                items.append({
                    "task_id": t.id, "code": self.code_for(t.id, occ.isoformat()), "title": t.title,
                    "plan": t.plan_title, "locality": t.locality, "due": occ.isoformat(),
                    "days_left": (occ - today).days, "deadline_text": t.deadline_text, "role": role,
                })
        items.sort(key=lambda i: (i["due"], i["title"]))
        return items

    # ---------------------------------------------------------------- codes
    def code_for(self, task_id: str, occurrence: str, store: bool = True) -> str:
        """The short code (mã) of one task occurrence, stable: a hash, lengthened on a collision."""
        # A plan names one occurrence in many rows: once it holds a code (committed or about to be), reuse it.
        known = self._known_codes.get((task_id, occurrence)) or self._pending_by_occ.get((task_id, occurrence))
        if known:
            return known
        for length in (6, 8, 10, 12):
            code = occurrence_code(task_id, occurrence, length)
            rows = self._q("select task_id, occurrence from reminder_codes where code = ?", [code])
            owner = (rows[0]["task_id"], rows[0]["occurrence"]) if rows else self._pending_codes.get(code)
            if owner and owner != (task_id, occurrence):
                continue  # collision: a longer code
            if rows:
                self._known_codes[(task_id, occurrence)] = code
            elif store:
                self._pending_codes[code] = (task_id, occurrence)
                self._pending_by_occ[(task_id, occurrence)] = code
            return code
        raise RuntimeError("code space exhausted")  # pragma: no cover

    def _forget_pending_codes(self) -> None:
        self._pending_codes.clear()
        self._pending_by_occ.clear()

    def _flush_codes(self) -> dict[tuple[str, str], str]:
        """Write the pending codes (in the caller's transaction); returns them by occurrence."""
        flushed = dict(self._pending_by_occ)
        if self._pending_codes:
            self.db.conn.executemany(
                "insert or ignore into reminder_codes (code, task_id, occurrence) values (?, ?, ?)",
                [(c, t, o) for c, (t, o) in self._pending_codes.items()])
            self._forget_pending_codes()
        return flushed

    def resolve_code(self, code: str) -> tuple[str, str] | None:
        rows = list(self.db.query("select task_id, occurrence from reminder_codes where code = ?",
                                  [str(code).strip().lower()]))
        return (rows[0]["task_id"], rows[0]["occurrence"]) if rows else None

    # ---------------------------------------------------------------- enqueue / deliver
    def enqueue(self, now: datetime) -> int:
        """Write every due, not-yet-queued slot as 'pending' (and missed older ones as 'superseded')."""
        now = _aware(now)
        send, superseded = self.plan(now)
        with self.db.conn:
            self._insert_outbox(send + superseded)
            flushed = self._flush_codes()
            # The look-back of the next tick starts at the local date of the last tick: written once a day.
            last = self._state("last_tick")
            if not last or self.cfg.local_date(_parse_iso(last)) < self.cfg.local_date(now):
                self.db["reminder_state"].upsert({"key": "last_tick", "value": _iso(now)}, pk="key")
        # Committed: the next plans need not read these codes back one query at a time.
        self._known_codes.update(flushed)
        return len(send)

    def _insert_outbox(self, rows: list[dict]) -> None:
        """INSERT OR IGNORE the planned rows in order, inside the caller's transaction. Straight executemany:
        every value is already a str, int or None, so sqlite-utils' per-value conversion only cost time (a
        catch-up writes 100,000s of rows). Named parameters: a row's other keys ("_title") are not read."""
        if rows:
            self.db.conn.executemany(_OUTBOX_INSERT, rows)

    def _quiet_until(self, staff: Staff, now: datetime) -> datetime | None:
        """End of the staff member's quiet hours when ``now`` falls inside them, else None."""
        if not staff.quiet_start or not staff.quiet_end or staff.quiet_start == staff.quiet_end:
            return None
        local = _aware(now).astimezone(self.cfg.tz)
        qs = time.fromisoformat(staff.quiet_start.zfill(5))
        qe = time.fromisoformat(staff.quiet_end.zfill(5))
        t = local.time().replace(tzinfo=None)
        inside = (qs <= t < qe) if qs < qe else (t >= qs or t < qe)
        if not inside:
            return None
        end_day = local.date() if t < qe else local.date() + timedelta(days=1)
        return datetime.combine(end_day, qe, tzinfo=self.cfg.tz).astimezone(timezone.utc)

    def _mark(self, row_id: int, **values) -> None:
        cols = ", ".join(f"{k} = ?" for k in values)
        with self.db.conn:
            self.db.conn.execute(f"update outbox set {cols} where id = ?", [*values.values(), row_id])

    def due_rows(self, now: datetime) -> list[dict]:
        return self._q("select * from outbox where status = 'pending' and not_before <= ? order by not_before, id",
                       [_iso(now)])

    def _lock_path(self) -> Path | None:
        for row in self.db.conn.execute("pragma database_list"):
            if row[1] == "main" and row[2]:
                return Path(row[2] + ".deliver.lock")
        return None

    async def _acquire(self, wait: float) -> Any:
        """An exclusive flock next to the database, so that two processes (serve and a CLI `remind`) never
        deliver the same pending row at once. The kernel drops it when its process dies (even SIGKILL)."""
        path = self._lock_path()
        if path is None:
            return _NoLock()
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            return _NoLock()
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = _time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return _FdLock(fd)
            except BlockingIOError:
                if _time.monotonic() >= deadline:
                    os.close(fd)
                    return None
                await asyncio.sleep(0.05)

    async def deliver(self, sender, now: datetime | None = None, clock: Callable[[], datetime] | None = None,
                      lock_wait: float = 30.0) -> dict:
        """Send pending rows whose time has come. ``now`` decides what is due; ``clock`` (default: ``now``)
        stamps attempts. Returns counts by outcome. When another process is delivering for longer than
        ``lock_wait`` seconds, returns at once (``busy``): that process sends the rows."""
        lock = await self._acquire(lock_wait)
        if lock is None:
            return {"sent": 0, "busy": 1}
        try:
            return await self._deliver(sender, now, clock)
        finally:
            lock.release()

    async def _deliver(self, sender, now, clock) -> dict:
        now = _aware(now or datetime.now(timezone.utc))
        stamp = (lambda: _aware(clock())) if clock else (lambda: now)
        stats = {"sent": 0, "retry": 0, "failed": 0, "blocked": 0, "held": 0, "cancelled": 0, "skipped": 0,
                 "resent_unknown": 0}
        can_send = _channel_filter(sender)
        rows = self.due_rows(now)
        done = self._done() if any(r["kind"] != "digest" for r in rows) else set()
        for row in rows:
            staff = self.staff.get(row["staff_id"]) if row["staff_id"] is not None else None
            if staff is None or staff.status in ("removed", "pending"):
                self._mark(row["id"], status="cancelled", last_error="recipient no longer registered")
                stats["cancelled"] += 1
                continue
            if staff.status == "blocked":
                self._mark(row["id"], status="failed_blocked", last_error="recipient blocked the bot")
                stats["blocked"] += 1
                continue
            if row["kind"] != "digest" and _is_done(row, done):
                self._mark(row["id"], status="cancelled", last_error="done")
                stats["cancelled"] += 1
                continue
            quiet = self._quiet_until(staff, now)
            if quiet is not None:
                self._mark(row["id"], not_before=_iso(quiet))
                stats["held"] += 1
                continue
            if not can_send(staff.channel):  # that channel is not running here: the row waits for it
                stats["skipped"] += 1
                continue
            attempts = int(row["attempts"] or 0) + 1
            if row["last_error"] == IN_FLIGHT:  # a process died during this row's send: it may have arrived
                stats["resent_unknown"] += 1
                log.warning("reminder %s: the previous attempt's outcome is unknown (process stopped); resending",
                            row["id"])
            # The attempt is committed before the platform call: a crash during the send leaves the row pending
            # and marked in flight, so it is resent once (at most one duplicate per crash) and counts against
            # MAX_ATTEMPTS (a message that kills the process cannot loop forever).
            self._mark(row["id"], attempts=attempts, last_attempt_at=_iso(stamp()), last_error=IN_FLIGHT)
            try:
                await sender.send(staff.channel, str(staff.chat_id), row["text"])
            except SendError as e:
                if e.blocked:
                    self.staff.mark_blocked(staff.id)
                    with self.db.conn:
                        self.db.execute(
                            "update outbox set status = 'failed_blocked', last_error = ? "
                            "where staff_id = ? and status = 'pending'", [str(e)[:300], staff.id])
                    stats["blocked"] += 1
                elif e.retryable and attempts < MAX_ATTEMPTS:
                    delay = max(float(e.retry_after or 0), min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempts - 1)))
                    error = ("outcome unknown: " if getattr(e, "unknown", False) else "") + str(e)
                    self._mark(row["id"], attempts=attempts, last_error=error[:300],
                               not_before=_iso(stamp() + timedelta(seconds=delay)))
                    stats["retry"] += 1
                else:
                    self._mark(row["id"], status="failed", attempts=attempts, last_error=str(e)[:300])
                    stats["failed"] += 1
                continue
            except (asyncio.TimeoutError, TimeoutError, OSError) as e:
                delay = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempts - 1))
                status = "pending" if attempts < MAX_ATTEMPTS else "failed"
                self._mark(row["id"], status=status, attempts=attempts, last_error=f"{type(e).__name__}: {e}"[:300],
                           not_before=_iso(stamp() + timedelta(seconds=delay)))
                stats["retry" if status == "pending" else "failed"] += 1
                continue
            # The platform accepted the message: record it. (A crash before this commit resends it.)
            self._mark(row["id"], status="sent", attempts=attempts, sent_at=_iso(stamp()), chat_id=str(staff.chat_id),
                       last_error=None)
            stats["sent"] += 1
        return stats

    async def tick(self, sender, now: datetime) -> dict:
        queued = self.enqueue(now)
        stats = await self.deliver(sender, now)
        stats["queued"] = queued
        return stats

    # ---------------------------------------------------------------- preview (remind --dry-run)
    def preview(self, now: datetime, include_digests: bool = False, channels: tuple[str, ...] | None = None) -> list[dict]:
        """What a tick at ``now`` would send, one entry per (task, due, offset, unit, text) with the
        recipients' chat ids. Quiet hours and unsendable channels are left out; digests only on request."""
        now = _aware(now)
        send, _ = self.plan(now)
        titles = {r["task_id"]: r["_title"] for r in send if "_title" in r}
        queued = [dict(r) for r in self.due_rows(now)]
        done = self._done()
        rows = []
        for r in send + queued:
            if r["kind"] == "digest" and not include_digests:
                continue
            if r["kind"] != "digest" and _is_done(r, done):
                continue
            staff = self.staff.get(r["staff_id"])
            if staff is None or staff.status != "approved" or self._quiet_until(staff, now) is not None:
                continue
            if channels is not None and staff.channel not in channels:
                continue
            rows.append((r, staff))
        if any(r["task_id"] not in titles for r, _ in rows):
            titles.update({t.id: t.title for t in self.load_tasks()})
        out: dict[tuple, dict] = {}
        for r, staff in rows:
            k = (r["task_id"], r["occurrence"], r["offset_days"], r["unit"], r["text"])
            e = out.get(k)
            if e is None:
                e = out[k] = {
                    "task_id": r["task_id"], "task": titles.get(r["task_id"], "") if r["task_id"] else "",
                    "locality": r["locality"] or "", "unit": r["unit"] or "", "due": r["occurrence"],
                    "offset_days": int(r["offset_days"]), "recipients": [], "text": r["text"],
                }
            if str(staff.chat_id) not in e["recipients"]:
                e["recipients"].append(str(staff.chat_id))
        self._forget_pending_codes()
        return sorted(out.values(), key=lambda e: (e["due"], e["task_id"], -e["offset_days"], e["unit"]))

    # ---------------------------------------------------------------- staff actions
    def find_task(self, task_or_code: str) -> TaskInfo | None:
        """The task a reminder code (mã) or a raw task id names, or None."""
        ref = str(task_or_code).strip()
        hit = self.resolve_code(ref)
        task_id = hit[0] if hit else ref
        return next((t for t in self.load_tasks() if t.id == task_id), None)

    def may_act(self, staff: Staff | None, task: TaskInfo) -> bool:
        """Whether ``staff`` may close or postpone ``task``: staff of one of its lead units (a collective lead,
        "Các cơ quan, đơn vị", counts every unit) in the task's own locality. Coordinators may not: the lead unit
        answers for the task. Admins are checked by the caller."""
        return staff is not None and staff.status == "approved" and self._roles_of(staff, task) == "lead"

    def _resolve(self, task_or_code: str, occurrence: str | date | None, now: datetime) -> tuple[str, str] | None:
        ref = str(task_or_code).strip()
        hit = self.resolve_code(ref)
        if hit and occurrence is None:
            return hit
        task_id = hit[0] if hit else ref
        tasks = {t.id: t for t in self.load_tasks()}
        task = tasks.get(task_id)
        if task is None and not hit:
            return None
        if occurrence is not None:
            occ = occurrence if isinstance(occurrence, date) else date.fromisoformat(str(occurrence)[:10])
            return task_id, occ.isoformat()
        # Default occurrence: the oldest open one whose reminders are still running (overdue first), else the
        # next one, else the latest past one still open; "" (the task itself) when it has no dates at all.
        today = self.cfg.local_date(now)
        done = self._done(list(tasks.values()))
        open_ = [o for o in task.occurrences(today - timedelta(days=3660), today + timedelta(days=400))
                 if (task.ident, o.isoformat()) not in done]
        active = [o for o in open_ if o >= today - timedelta(days=self.cfg.span_after)]
        past = [o for o in open_ if o < today - timedelta(days=self.cfg.span_after)]
        pick = active[0] if active else (past[-1] if past else None)
        return task_id, (pick.isoformat() if pick else "")

    def done(self, task_id: str, occurrence: str | date | None = None, by: str = "", now: datetime | None = None) -> dict | None:
        """/xong: the occurrence (default: the oldest open one, overdue first) is done; its pending reminders
        are cancelled. ``task_id`` may be a reminder code. None when the task is unknown."""
        now = _aware(now or datetime.now(timezone.utc))
        hit = self._resolve(task_id, occurrence, now)
        if hit is None:
            return None
        tid, occ = hit
        ident = self._ident_of(tid)
        rec = {"task_id": tid, "occurrence": occ, "done_by": str(by), "done_at": _iso(now), "ident": ident}
        with self.db.conn:
            self.db["reminder_done"].upsert(rec, pk=("task_id", "occurrence"))
            cur = self.db.execute(  # every copy's pending reminders of this occurrence
                "update outbox set status = 'cancelled', last_error = 'done' "
                "where (task_id = ? or ident = ?) and occurrence = ? and status = 'pending'", [tid, ident, occ])
        rec["cancelled"] = cur.rowcount
        return rec

    def _ident_of(self, task_id: str) -> str | None:
        if "tasks" not in self._tables():
            return None
        rows = self._q("select * from tasks where id = ?", [task_id])
        return _row_identity(rows[0]) if rows else None

    def undo_done(self, task_id: str, occurrence: str) -> bool:
        with self.db.conn:
            cur = self.db.execute("delete from reminder_done where task_id = ? and occurrence = ?",
                                  [task_id, occurrence])
        return cur.rowcount > 0

    def snooze(self, task_id: str, days: int, by: str = "", occurrence: str | date | None = None,
               now: datetime | None = None) -> dict | None:
        """/hoanlai: no reminder for that occurrence for ``days`` days, then one reminder (at the send hour)."""
        now = _aware(now or datetime.now(timezone.utc))
        days = int(days)
        if days < 1:
            raise ValueError("số ngày hoãn phải từ 1 trở lên")
        hit = self._resolve(task_id, occurrence, now)
        if hit is None or not hit[1]:
            return None
        tid, occ = hit
        until = self.cfg.at(self.cfg.local_date(now) + timedelta(days=days))
        ident = self._ident_of(tid)
        rec = {"task_id": tid, "occurrence": occ, "days": days, "snoozed_at": _iso(now), "until": _iso(until),
               "by": str(by), "ident": ident}
        with self.db.conn:
            self.db["reminder_snooze"].insert(rec, pk="id")
            cur = self.db.execute(
                "update outbox set status = 'cancelled', last_error = 'snoozed' "
                "where (task_id = ? or ident = ?) and occurrence = ? and status = 'pending' and kind != 'digest'",
                [tid, ident, occ])
        rec["cancelled"] = cur.rowcount
        rec["until_date"] = self.cfg.local_date(until).isoformat()  # local date of the next reminder
        return rec

    def set_due_override(self, task_id: str, due: date | str, by: str = "", now: datetime | None = None) -> dict:
        """/dathan: the task's due date is ``due`` from now on (replaces the plan's dates)."""
        now = _aware(now or datetime.now(timezone.utc))
        d = due if isinstance(due, date) else date.fromisoformat(str(due)[:10])
        rec = {"task_id": str(task_id), "due": d.isoformat(), "set_by": str(by), "set_at": _iso(now)}
        with self.db.conn:
            self.db["due_overrides"].upsert(rec, pk="task_id")
        return rec

    def clear_due_override(self, task_id: str) -> None:
        with self.db.conn:
            self.db.execute("delete from due_overrides where task_id = ?", [str(task_id)])

    def upcoming(self, staff: Staff, now: datetime | None = None, days: int = DIGEST_DAYS_AHEAD) -> list[dict]:
        """/viectoi: the staff member's open dated tasks, overdue (last 60 days) and due within ``days``."""
        now = _aware(now or datetime.now(timezone.utc))
        tasks = self.load_tasks()
        items = self._items_for(staff, self._distinct(tasks), self._done(tasks), self.cfg.local_date(now), days)
        with self.db.conn:
            for i in items:
                self.code_for(i["task_id"], i["due"])
            self._flush_codes()
        return items

    def ongoing(self, staff: Staff) -> list[TaskInfo]:
        """The staff member's undated tasks (ongoing / conditional / periodic / unspecified)."""
        tasks = self.load_tasks()
        done = self._done(tasks)
        return [t for t in self._distinct(tasks) if not t.dated and self._roles_of(staff, t) and (t.ident, "") not in done]

    def outbox(self, status: str | None = None) -> list[dict]:
        if status:
            return list(self.db.query("select * from outbox where status = ? order by id", [status]))
        return list(self.db.query("select * from outbox order by id"))


# ------------------------------------------------------------------------------------------------ texts

def reminder_text(task: TaskInfo, occ: date, today: date, role: str, unit: str, code: str) -> str:
    days = (occ - today).days
    if days > 0:
        when = f"Còn {days} ngày đến hạn."
    elif days == 0:
        when = "Hôm nay là hạn hoàn thành."
    else:
        when = f"Đã quá hạn {-days} ngày."
    leads = ", ".join(task.lead) or "đơn vị chủ trì"
    if role == "coordinate":
        head = (f"Kính gửi {unit} (đơn vị phối hợp): hôm nay là hạn của nhiệm vụ do {leads} chủ trì." if days == 0
                else f"Kính gửi {unit} (đơn vị phối hợp): nhắc việc phối hợp thực hiện nhiệm vụ do {leads} chủ trì.")
    elif role == "escalate":
        head = (f"Kính gửi {unit} (cơ quan thường trực cải cách hành chính): nhiệm vụ do {leads} chủ trì "
                f"đã quá hạn {max(-days, 0)} ngày, đề nghị theo dõi, đôn đốc.")
    else:
        head = f"Kính gửi {unit}: nhắc việc cải cách hành chính."
    if task.override:
        deadline = f"ngày {_fmt(occ)} (thời hạn do quản trị viên đặt)"
    elif task.deadline_text:
        deadline = f"{_short(task.deadline_text, 120)} (ngày {_fmt(occ)})"
    else:
        deadline = f"ngày {_fmt(occ)}"
    lines = [
        head,
        f"Nhiệm vụ: {_short(task.title, 600)}",
        f"Kế hoạch: {_short(task.plan_title, 200)}" if task.plan_title else "",
        f"Thời hạn: {deadline}",
        when,
        f"Mã nhiệm vụ: {code}",
        f"Trả lời /xong {code} khi hoàn thành, /hoanlai {code} <số ngày> để hoãn.",
    ]
    return "\n".join(x for x in lines if x)[:MAX_TEXT]


def digest_text(staff: Staff, today: date, items: list[dict], ongoing: list[TaskInfo]) -> str:
    lines = [f"Tổng hợp nhiệm vụ cải cách hành chính ngày {_fmt(today)} - {staff.unit}, {staff.locality}"]
    overdue = [i for i in items if i["days_left"] < 0]
    soon = [i for i in items if i["days_left"] >= 0]

    def item(i):
        d = date.fromisoformat(i["due"])
        tail = (f"quá hạn {-i['days_left']} ngày" if i["days_left"] < 0
                else "hạn hôm nay" if i["days_left"] == 0 else f"còn {i['days_left']} ngày")
        return f"- [{i['code']}] {_short(i['title'], 140)} - hạn {_fmt(d)} ({tail})"

    for label, group in (("Quá hạn:", overdue), (f"Đến hạn trong {DIGEST_DAYS_AHEAD} ngày tới:", soon)):
        if group:
            lines.append(label)
            lines += [item(i) for i in group[:12]]
            if len(group) > 12:
                lines.append(f"- … và {len(group) - 12} nhiệm vụ khác")
    if ongoing:
        names = "; ".join(_short(t.title, 60) for t in ongoing[:3])
        more = f" và {len(ongoing) - 3} nhiệm vụ khác" if len(ongoing) > 3 else ""
        lines.append(f"Nhiệm vụ thường xuyên/khi có yêu cầu: {len(ongoing)} ({names}{more}).")
    lines.append("Gõ /viectoi để xem chi tiết; /xong <mã> khi hoàn thành.")
    text = "\n".join(lines)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def format_upcoming(items: list[dict]) -> str:
    """Text for /viectoi."""
    if not items:
        return "Không có nhiệm vụ nào quá hạn hoặc đến hạn trong 14 ngày tới."
    out = ["Nhiệm vụ của đơn vị (quá hạn và sắp đến hạn):"]
    for i in items:
        d = date.fromisoformat(i["due"])
        tail = (f"quá hạn {-i['days_left']} ngày" if i["days_left"] < 0
                else "hạn hôm nay" if i["days_left"] == 0 else f"còn {i['days_left']} ngày")
        out.append(f"- [{i['code']}] {_short(i['title'], 160)} - hạn {_fmt(d)} ({tail})")
    out.append("Trả lời /xong <mã> khi hoàn thành, /hoanlai <mã> <số ngày> để hoãn.")
    return "\n".join(out)


# ------------------------------------------------------------------------------------------------ scheduler

async def run_scheduler(settings, sender, stop_event: asyncio.Event, clock: Callable[[], datetime] | None = None,
                        interval: float = 60.0, db=None, health=None) -> None:
    """Tick every ``interval`` seconds (aligned to the minute by default) until ``stop_event`` is set.
    Run it next to the channels in ``serve``: ``asyncio.create_task(run_scheduler(settings, sender, stop))``.

    It never stops on an error: opening the database (creating the tables) is retried with backoff, a failed tick
    is retried at the next one (the outbox catches up), each failure is logged, and ``health`` (handlers.health,
    shown in /thongke) says that reminders are stopped while the database cannot be opened or ticks keep failing."""
    from handlers.health import REMINDERS

    clock = clock or (lambda: datetime.now(timezone.utc))
    rem: Reminders | None = None
    failures = 0
    while not stop_event.is_set():
        wait = None
        try:
            if rem is None:
                if db is None:
                    Path(settings.db_path).parent.mkdir(parents=True, exist_ok=True)
                rem = Reminders(db if db is not None else settings.db_path, settings)
                if failures:
                    log.info("reminders: database open again after %d failed attempt(s)", failures)
            stats = await rem.tick(sender, clock())
            failures = 0
            if health is not None:
                health.ok(REMINDERS)
            if stats.get("sent") or stats.get("failed") or stats.get("blocked"):
                log.info("reminders tick: %s", stats)
        except Exception as exc:  # keep the scheduler alive; the outbox makes the next tick catch up
            failures += 1
            opening = rem is None
            log.exception("reminders: %s failed (%d in a row); retrying", "opening the database" if opening
                          else "a tick", failures)
            if health is not None and (opening or failures >= 3):
                health.fail(REMINDERS, f"{type(exc).__name__}: {exc}")
            if opening:  # back off quickly at first, then up to 5 minutes
                wait = min(300.0, 0.5 * 2 ** min(failures, 10))
        if wait is None:
            wait = interval - (_time.time() % interval) if interval >= 1 else interval
        try:
            await asyncio.wait_for(stop_event.wait(), timeout=max(wait, 0.01))
        except asyncio.TimeoutError:
            pass
