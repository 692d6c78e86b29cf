"""Staff registry: who receives reminders for which unit, in which locality, on which channel.

SQLite table ``staff`` (in the bot's database, ``settings.db_path``), through sqlite-utils. Registration
through the bot (/dangky -> ``request``, pending) needs an admin's /duyet (``approve``); operators add staff
from the CLI (``add_approved``). Unit and locality names are compared in folded form (``unit_key`` /
``locality_key``), so "Phòng Văn hoá – Xã hội" and "Phòng Văn hóa - Xã hội" are the same unit.
"""
from __future__ import annotations

import re
import sqlite3
from functools import lru_cache
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

from bot.dbschema import ensure_schema
from index.textnorm import fold, normalize

CHANNELS = ("telegram", "zalo", "console")
STATUSES = ("pending", "approved", "removed", "blocked")

_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_COLLECTIVE = re.compile(
    r"^(cac|toan the|tat ca)\b.*\b(co quan|don vi|phong|ban|nganh|bo phan)\b|^thu truong cac\b"
)
_WITH_OTHERS = re.compile(r"\s+cac\s+(?:co quan|don vi|bo phan|phong|ban|nganh)\b.*$")
_LOCALITY_PREFIX = re.compile(r"^(?:(?:ubnd|uy ban nhan dan|dang uy|hdnd)\s+)?(?:xa|phuong|thi tran|tt)\s+")


def now_utc() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@lru_cache(maxsize=65536)  # called per (staff member, task) when reminders are planned
def unit_key(name: str) -> str:
    """Folded comparison key of a unit name: case, diacritics, tone placement, dashes and 'và' ignored."""
    f = fold(normalize(name or ""))
    f = f.replace("&", " va ")
    words = [w for w in re.findall(r"[a-z0-9]+", f) if w != "va"]
    key = " ".join(words)
    # "Phòng Văn hóa - Xã hội và các cơ quan có liên quan" is led by Phòng Văn hóa - Xã hội
    return _WITH_OTHERS.sub("", key).strip() or key


@lru_cache(maxsize=65536)
def locality_key(name: str) -> str:
    """'xã Hải Hậu', 'UBND xã Hải Hậu', 'Hai Hau' -> 'hai hau'."""
    f = " ".join(re.findall(r"[a-z0-9]+", fold(normalize(name or ""))))
    return _LOCALITY_PREFIX.sub("", f).strip()


@lru_cache(maxsize=4096)
def is_collective_unit(name: str) -> bool:
    """'Các cơ quan, đơn vị', 'Các phòng, ban chuyên môn': every unit of the locality."""
    return bool(_COLLECTIVE.search(fold(normalize(name or ""))))


def valid_hhmm(value: str | None) -> bool:
    return value is None or bool(_HHMM.match(value))


@dataclass
class Staff:
    id: int
    name: str
    unit: str
    locality: str
    channel: str
    chat_id: str
    user_id: str = ""
    status: str = "pending"
    quiet_start: str | None = None  # "HH:MM" local time, or None
    quiet_end: str | None = None
    created_at: str = ""
    decided_by: str | None = None
    decided_at: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_row(cls, row: dict) -> "Staff":
        return cls(**{k: row.get(k) for k in cls.__dataclass_fields__})


_STAFF_DDL = """
CREATE TABLE IF NOT EXISTS [staff] (
   [id] INTEGER PRIMARY KEY, [name] TEXT NOT NULL, [unit] TEXT, [locality] TEXT, [channel] TEXT NOT NULL,
   [chat_id] TEXT NOT NULL, [user_id] TEXT, [status] TEXT NOT NULL, [quiet_start] TEXT, [quiet_end] TEXT,
   [created_at] TEXT, [decided_by] TEXT, [decided_at] TEXT
);
CREATE INDEX IF NOT EXISTS [idx_staff_channel_user_id] ON [staff] ([channel], [user_id]);
CREATE INDEX IF NOT EXISTS [idx_staff_status] ON [staff] ([status]);
"""


def _create_staff(conn: sqlite3.Connection) -> None:
    for statement in _STAFF_DDL.split(";"):
        if statement.strip():
            conn.execute(statement)


def connect(db_path: str | Path) -> sqlite_utils.Database:
    """A sqlite-utils Database over one connection with WAL and a generous busy timeout, so the
    `serve` process and CLI commands can use the same file at once."""
    if str(db_path) != ":memory:":
        Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(db_path), timeout=30)
    db = sqlite_utils.Database(conn)
    if str(db_path) != ":memory:":
        try:
            db.execute("PRAGMA journal_mode=WAL").fetchall()
        except sqlite3.OperationalError:  # another connection holds a lock; the file stays in its current mode
            pass
    db.execute("PRAGMA busy_timeout=30000")
    # WAL + NORMAL: a commit survives a killed process (only an OS crash may lose the last commits, which
    # for the outbox can only turn into a resend, never a loss: rows are written before sending).
    db.execute("PRAGMA synchronous=NORMAL")
    return db


class StaffRegistry:
    def __init__(self, db_path: str | Path | sqlite_utils.Database):
        self.db = db_path if isinstance(db_path, sqlite_utils.Database) else connect(db_path)
        self._ensure()

    def _ensure(self) -> None:
        ensure_schema(self.db.conn, _create_staff, what="staff table")

    # ------------------------------------------------------------------ reads
    def _q(self, sql: str, params=()) -> list[dict]:
        cur = self.db.conn.execute(sql, params)
        keys = [d[0] for d in cur.description]
        return [dict(zip(keys, row)) for row in cur.fetchall()]

    def get(self, staff_id: int) -> Staff | None:
        rows = self._q("select * from staff where id = ?", [int(staff_id)])
        return Staff.from_row(rows[0]) if rows else None

    def list(self, status: str | None = None) -> list[Staff]:
        if status:
            rows = self._q("select * from staff where status = ? order by id", [status])
        else:
            rows = self._q("select * from staff order by id")
        return [Staff.from_row(r) for r in rows]

    def find_by_user(self, channel: str, user_id: str) -> Staff | None:
        """The person's current record: approved first, then pending, then the latest other one."""
        rows = list(self.db.query(
            "select * from staff where channel = ? and (user_id = ? or (coalesce(user_id, '') = '' and chat_id = ?)) "
            "order by case status when 'approved' then 0 when 'pending' then 1 when 'blocked' then 2 else 3 end, "
            "id desc limit 1",
            [channel, str(user_id), str(user_id)],
        ))
        return Staff.from_row(rows[0]) if rows else None

    def approved_for(self, unit: str, locality: str | None = None) -> list[Staff]:
        """Approved staff of ``unit`` in ``locality`` (folded comparison). A collective unit ("Các cơ quan,
        đơn vị") means every approved staff member of the locality. ``locality=None``: any locality."""
        loc = locality_key(locality) if locality else None
        collective = is_collective_unit(unit)
        key = unit_key(unit)
        out = []
        for s in self.list("approved"):
            if loc is not None and locality_key(s.locality) != loc:
                continue
            if collective or unit_key(s.unit) == key:
                out.append(s)
        return out

    # ------------------------------------------------------------------ writes
    def _insert(self, **values) -> Staff:
        values.setdefault("created_at", now_utc())
        with self.db.conn:
            staff_id = self.db["staff"].insert(values).last_pk
        return self.get(staff_id)  # type: ignore[return-value]

    def _update(self, staff_id: int, **values) -> Staff | None:
        if self.get(staff_id) is None:
            return None
        with self.db.conn:
            self.db["staff"].update(int(staff_id), values)
        return self.get(staff_id)

    @staticmethod
    def _check(channel: str, quiet_start: str | None = None, quiet_end: str | None = None) -> None:
        if channel not in CHANNELS:
            raise ValueError(f"channel must be one of {CHANNELS}, not {channel!r}")
        if not (valid_hhmm(quiet_start) and valid_hhmm(quiet_end)) or (quiet_start is None) != (quiet_end is None):
            raise ValueError("quiet hours are two 'HH:MM' values (or none)")

    def request(self, channel: str, user_id: str, chat_id: str, name: str, unit: str, locality: str) -> Staff:
        """/dangky: a pending registration (updated in place if the person already has one pending).
        An approved person asking again for the same unit and locality gets their approved record back."""
        self._check(channel)
        values = dict(name=normalize(name), unit=normalize(unit), locality=normalize(locality), channel=channel,
                      chat_id=str(chat_id), user_id=str(user_id))
        current = self.find_by_user(channel, str(user_id))
        if current and current.status == "approved" and unit_key(current.unit) == unit_key(unit) \
                and locality_key(current.locality) == locality_key(locality):
            if current.chat_id != str(chat_id) or current.name != values["name"]:
                return self._update(current.id, chat_id=str(chat_id), name=values["name"])  # type: ignore
            return current
        if current and current.status == "pending":
            return self._update(current.id, **values)  # type: ignore[return-value]
        return self._insert(**values, status="pending")

    def add_approved(self, name: str, unit: str, locality: str, channel: str, chat_id: str, user_id: str = "",
                     by: str = "cli", quiet_start: str | None = None, quiet_end: str | None = None) -> Staff:
        """Operator registration (CLI): approved at once."""
        self._check(channel, quiet_start, quiet_end)
        return self._insert(name=normalize(name), unit=normalize(unit), locality=normalize(locality),
                            channel=channel, chat_id=str(chat_id), user_id=str(user_id or ""), status="approved",
                            quiet_start=quiet_start, quiet_end=quiet_end, decided_by=by, decided_at=now_utc())

    def approve(self, staff_id: int, by: str) -> Staff | None:
        """/duyet: approve a request; the person's older approved record (other unit) is retired."""
        s = self.get(staff_id)
        if s is None:
            return None
        if s.user_id:
            with self.db.conn:
                self.db.execute(
                    "update staff set status = 'removed', decided_by = ?, decided_at = ? "
                    "where channel = ? and user_id = ? and status = 'approved' and id != ?",
                    [str(by), now_utc(), s.channel, s.user_id, s.id],
                )
        return self._update(staff_id, status="approved", decided_by=str(by), decided_at=now_utc())

    def reject(self, staff_id: int, by: str) -> Staff | None:
        return self._update(staff_id, status="removed", decided_by=str(by), decided_at=now_utc())

    def remove(self, staff_id: int, by: str = "cli") -> Staff | None:
        return self._update(staff_id, status="removed", decided_by=str(by), decided_at=now_utc())

    def mark_blocked(self, staff_id: int) -> Staff | None:
        """The platform says this person blocked the bot: no more sends until they come back."""
        return self._update(staff_id, status="blocked", decided_by="platform", decided_at=now_utc())

    def unblock(self, staff_id: int) -> Staff | None:
        """The person wrote to the bot again (so they unblocked it): approved again."""
        s = self.get(staff_id)
        if s is None or s.status != "blocked":
            return s
        return self._update(staff_id, status="approved", decided_by="platform", decided_at=now_utc())

    def set_quiet_hours(self, staff_id: int, start: str | None, end: str | None) -> Staff | None:
        s = self.get(staff_id)
        if s is None:
            return None
        self._check(s.channel, start, end)
        return self._update(staff_id, quiet_start=start, quiet_end=end)
