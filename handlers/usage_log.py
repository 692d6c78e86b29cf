"""Usage log in SQLite: every question and answer (and every command), never the raw user id.

Table `usage_log`: ts (UTC ISO), channel, user_hash (salted SHA-256 of "channel:user_id"), kind
("question" | "choice" | "command" | "refused"), question (the text with e-mail addresses, phone numbers and ID
numbers replaced by placeholders: handlers/privacy.py), intent, found (1/0, NULL for commands), latency_ms,
locality, answer_chars. Rows older than the retention (BOT_LOG_RETENTION_DAYS, 90 by default) are deleted at start
and then once a day. The salt is random per installation (`installation_salt`), unless BOT_USER_HASH_SALT sets one.
"""
from __future__ import annotations

import hashlib
import logging
import os
import secrets
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from handlers.privacy import redact
from index.textnorm import fold

log = logging.getLogger(__name__)

SALT_FILE = "user_hash_salt"
PUBLIC_SALTS = {"", "cchc-bot", "change-me"}  # defaults that shipped in the code or .env.example: not secret
PURGE_EVERY_S = 24 * 3600

_SCHEMA = """
CREATE TABLE IF NOT EXISTS usage_log (
    id INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    channel TEXT NOT NULL,
    user_hash TEXT NOT NULL,
    kind TEXT NOT NULL,
    question TEXT NOT NULL,
    intent TEXT NOT NULL DEFAULT '',
    found INTEGER,
    latency_ms REAL NOT NULL DEFAULT 0,
    locality TEXT NOT NULL DEFAULT '',
    answer_chars INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS usage_log_ts ON usage_log(ts);
"""


def installation_salt(data_dir: str | Path, configured: str = "") -> str:
    """The salt of user hashes: `configured` (BOT_USER_HASH_SALT) when it is a real secret, else a random one made
    at first start and kept in `<data_dir>/user_hash_salt` (readable by the owner only)."""
    if configured.strip() not in PUBLIC_SALTS:
        return configured.strip()
    path = Path(data_dir) / SALT_FILE
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    salt = secrets.token_hex(32)
    try:  # O_EXCL: two processes starting at once agree on the first one's salt
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(salt)
    log.info("generated the user-hash salt in %s", path)
    return salt


def user_hash(channel: str, user_id: str, salt: str) -> str:
    """Salted SHA-256 of "channel:user_id" (hex): stable per user, not reversible without the salt."""
    return hashlib.sha256(f"{salt}\x00{channel}:{user_id}".encode()).hexdigest()


@dataclass
class Stats:
    days: int
    messages: int = 0
    users: int = 0
    questions: int = 0
    answered: int = 0
    unanswered: int = 0
    commands: int = 0
    refused: int = 0
    avg_latency_ms: float = 0.0
    by_channel: dict[str, int] = field(default_factory=dict)
    by_intent: dict[str, int] = field(default_factory=dict)
    top_unanswered: list[tuple[str, int]] = field(default_factory=list)  # (question, times asked)


class UsageLog:
    def __init__(self, db_path: str | Path, salt: str, retention_days: int = 90, clock=time.time):
        self.db_path = Path(db_path)
        self.salt = salt
        self.retention_days = max(1, int(retention_days))
        self.clock = clock
        self._purged_at = 0.0
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.executescript(_SCHEMA)
        self.purge()

    def purge(self) -> int:
        """Delete rows older than the retention; returns how many."""
        cutoff = datetime.fromtimestamp(self.clock(), timezone.utc) - timedelta(days=self.retention_days)
        with closing(self._connect()) as db, db:
            n = db.execute("DELETE FROM usage_log WHERE ts < ?", (cutoff.isoformat(timespec="seconds"),)).rowcount
        self._purged_at = self.clock()
        if n:
            log.info("usage log: %d rows older than %d days deleted", n, self.retention_days)
        return n

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.db_path, timeout=30)

    def hash(self, channel: str, user_id: str) -> str:
        return user_hash(channel, user_id, self.salt)

    def record(
        self,
        *,
        channel: str,
        user_id: str,
        kind: str,
        question: str,
        intent: str = "",
        found: bool | None = None,
        latency_ms: float = 0.0,
        locality: str | None = None,
        answer_chars: int = 0,
    ) -> None:
        if self.clock() - self._purged_at >= PURGE_EVERY_S:
            self.purge()
        row = (
            datetime.fromtimestamp(self.clock(), timezone.utc).isoformat(timespec="seconds"),
            channel,
            self.hash(channel, user_id),
            kind,
            redact(question),
            intent or "",
            None if found is None else int(bool(found)),
            round(float(latency_ms), 1),
            locality or "",
            int(answer_chars),
        )
        with closing(self._connect()) as db, db:
            db.execute(
                "INSERT INTO usage_log (ts, channel, user_hash, kind, question, intent, found, latency_ms,"
                " locality, answer_chars) VALUES (?,?,?,?,?,?,?,?,?,?)",
                row,
            )

    def stats(self, days: int = 30, top: int = 10) -> Stats:
        since = (datetime.now(timezone.utc) - timedelta(days=days)).isoformat(timespec="seconds")
        s = Stats(days=days)
        with closing(self._connect()) as db:
            q = "SELECT {} FROM usage_log WHERE ts >= ?"
            s.messages, s.users = db.execute(q.format("COUNT(*), COUNT(DISTINCT user_hash)"), (since,)).fetchone()
            for kind, n in db.execute(q.format("kind, COUNT(*)") + " GROUP BY kind", (since,)):
                if kind in ("question", "choice"):
                    s.questions += n
                elif kind == "command":
                    s.commands += n
                elif kind == "refused":
                    s.refused += n
            qa = " AND kind IN ('question', 'choice')"
            s.answered = db.execute(q.format("COUNT(*)") + qa + " AND found = 1", (since,)).fetchone()[0]
            s.unanswered = db.execute(q.format("COUNT(*)") + qa + " AND found = 0", (since,)).fetchone()[0]
            avg = db.execute(q.format("AVG(latency_ms)") + qa, (since,)).fetchone()[0]
            s.avg_latency_ms = round(avg or 0.0, 1)
            s.by_channel = dict(db.execute(q.format("channel, COUNT(*)") + " GROUP BY channel ORDER BY 2 DESC", (since,)))
            s.by_intent = dict(
                db.execute(q.format("intent, COUNT(*)") + qa + " GROUP BY intent ORDER BY 2 DESC", (since,))
            )
            rows = db.execute(q.format("question, ts") + qa + " AND found = 0 ORDER BY ts DESC", (since,)).fetchall()
        # Group unanswered questions by their folded form, so "Hạn nộp?" and "han nop?" count together.
        groups: dict[str, list] = {}
        for question, _ts in rows:
            key = " ".join(fold(question).split()).rstrip("?. ")
            if key in groups:
                groups[key][1] += 1
            else:
                groups[key] = [question, 1]  # most recent wording first
        s.top_unanswered = [(qn, n) for qn, n in sorted(groups.values(), key=lambda g: -g[1])[:top]]
        return s
