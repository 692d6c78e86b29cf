"""Feedback on answers (👍 / 👎): table `feedback` (contract 3, read by the web review page) and the answers still
waiting for a vote.

- `offer(...)` remembers an answer that may be rated and returns its reference (`ref`, put behind the buttons on
  Telegram; on Zalo and the console the last offered answer of a person is rated by typing "+" or "-").
- `vote(ref, +1 | -1)` writes (or, for a changed mind, updates) one `feedback` row per answer.
- `stats(days)` gives the satisfaction rate and the latest 👎 questions for /thongke.

The question is stored through `handlers.privacy.redact`, like the usage log; users appear only as the salted hash.
"""
from __future__ import annotations

import json
import secrets
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from handlers.privacy import redact
from handlers.usage_log import user_hash
from index.textnorm import fold

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,            -- UTC ISO, time of the (last) vote
    channel TEXT NOT NULL,
    user_hash TEXT NOT NULL,
    question TEXT NOT NULL,      -- redacted like the usage log
    answer TEXT NOT NULL,
    intent TEXT NOT NULL DEFAULT '',
    found INTEGER,
    vote INTEGER NOT NULL,       -- +1 / -1
    ref TEXT UNIQUE              -- the rated answer (one row per answer; a second vote updates it)
);
CREATE INDEX IF NOT EXISTS feedback_ts ON feedback(ts);
CREATE TABLE IF NOT EXISTS feedback_offers (
    ref TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    scope TEXT NOT NULL,         -- chat (private) or chat/user (group): whose typed "+"/"-" rates it
    payload TEXT NOT NULL,       -- JSON: user_hash, question, answer, intent, found
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_offers_scope ON feedback_offers(channel, scope, created_at);
"""

OFFER_TTL_S = 7 * 24 * 3600  # a button under an old answer still works for a week
TYPED_TTL_S = 30 * 60  # a typed "+"/"-" rates the last answer of the last half hour
ANSWER_CHARS = 4000

# What a typed vote looks like. Digits are numbered choices, so votes are signs, emoji and words only.
UP_WORDS = {"+", "+1", "👍", "dung", "dung roi", "chinh xac", "tot", "hay"}
DOWN_WORDS = {"-", "-1", "👎", "sai", "chua dung", "khong dung", "sai roi"}


def typed_vote(text: str) -> int | None:
    """+1 / -1 for a message that is only a vote ("+", "👎", "đúng", "sai rồi"), else None."""
    key = " ".join(fold(text).strip(" .!").split())
    if key in UP_WORDS or text.strip() in UP_WORDS:
        return 1
    if key in DOWN_WORDS or text.strip() in DOWN_WORDS:
        return -1
    return None


@dataclass
class FeedbackStats:
    days: int
    up: int = 0
    down: int = 0
    latest_down: list[tuple[str, str]] = field(default_factory=list)  # (question, answer excerpt), newest first

    @property
    def votes(self) -> int:
        return self.up + self.down

    @property
    def satisfaction(self) -> float | None:
        return self.up / self.votes if self.votes else None


class FeedbackStore:
    def __init__(self, db_path: str | Path, salt: str, clock=time.time):
        self.db_path = Path(db_path)
        self.salt = salt
        self.clock = clock
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.executescript(_SCHEMA)
            db.execute("DELETE FROM feedback_offers WHERE created_at < ?", (self.clock() - OFFER_TTL_S,))

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.db_path, timeout=30)

    def offer(self, *, channel: str, scope: str, user_id: str, question: str, answer: str, intent: str,
              found: bool | None) -> str:
        """Remember an answer that may be rated; returns its reference."""
        ref = secrets.token_urlsafe(8)
        payload = {
            "user_hash": user_hash(channel, user_id, self.salt), "question": redact(question),
            "answer": answer[:ANSWER_CHARS], "intent": intent or "", "found": None if found is None else int(bool(found)),
        }
        with closing(self._connect()) as db, db:
            db.execute("INSERT INTO feedback_offers (ref, channel, scope, payload, created_at) VALUES (?,?,?,?,?)",
                       (ref, channel, scope, json.dumps(payload, ensure_ascii=False), self.clock()))
        return ref

    def last_offer(self, channel: str, scope: str) -> str | None:
        """The newest answer of this person still open to a typed vote (half an hour), or None."""
        with closing(self._connect()) as db:
            row = db.execute(
                "SELECT ref FROM feedback_offers WHERE channel=? AND scope=? AND created_at >= ? "
                "ORDER BY created_at DESC, rowid DESC LIMIT 1",
                (channel, scope, self.clock() - TYPED_TTL_S)).fetchone()
        return row[0] if row else None

    def withdraw(self, channel: str, scope: str) -> None:
        """Forget the open offers of this person (/huy, or once rated by typing)."""
        with closing(self._connect()) as db, db:
            db.execute("UPDATE feedback_offers SET created_at = created_at - ? WHERE channel=? AND scope=?",
                       (TYPED_TTL_S + 1, channel, scope))

    def vote(self, ref: str, value: int, channel: str | None = None) -> bool:
        """Record +1 / -1 for the answer `ref`; False when the answer is unknown (expired, or another channel)."""
        value = 1 if value > 0 else -1
        with closing(self._connect()) as db, db:
            row = db.execute("SELECT channel, payload FROM feedback_offers WHERE ref=?", (ref,)).fetchone()
            if row is None or (channel is not None and row[0] != channel):
                return False
            p = json.loads(row[1])
            now = datetime.now(timezone.utc).isoformat(timespec="seconds")
            db.execute(
                "INSERT INTO feedback (ts, channel, user_hash, question, answer, intent, found, vote, ref)"
                " VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(ref) DO UPDATE SET vote=excluded.vote, ts=excluded.ts",
                (now, row[0], p["user_hash"], p["question"], p["answer"], p["intent"], p["found"], value, ref))
        return True

    def stats(self, days: int = 30, latest: int = 5) -> FeedbackStats:
        since = (datetime.now(timezone.utc) - timedelta(days=days)).isoformat(timespec="seconds")
        s = FeedbackStats(days=days)
        with closing(self._connect()) as db:
            for vote, n in db.execute("SELECT vote, COUNT(*) FROM feedback WHERE ts >= ? GROUP BY vote", (since,)):
                if vote > 0:
                    s.up = n
                else:
                    s.down = n
            s.latest_down = [
                (q, a) for q, a in db.execute(
                    "SELECT question, answer FROM feedback WHERE ts >= ? AND vote < 0 ORDER BY ts DESC, id DESC LIMIT ?",
                    (since, latest))
            ]
        return s


def latest_unanswered(db_path: str | Path, days: int = 30, limit: int = 5) -> list[str]:
    """The newest distinct questions of the usage log the bot could not answer (redacted for display, whatever
    the log kept)."""
    since = (datetime.now(timezone.utc) - timedelta(days=days)).isoformat(timespec="seconds")
    out: list[str] = []
    seen: set[str] = set()
    with closing(sqlite3.connect(Path(db_path), timeout=30)) as db:
        try:
            rows = db.execute("SELECT question FROM usage_log WHERE ts >= ? AND kind IN ('question', 'choice') "
                              "AND found = 0 ORDER BY ts DESC, id DESC LIMIT 200", (since,)).fetchall()
        except sqlite3.OperationalError:  # no usage log yet
            return []
    for (question,) in rows:
        key = " ".join(fold(question).split()).rstrip("?. ")
        if key and key not in seen:
            seen.add(key)
            out.append(redact(question))
        if len(out) >= limit:
            break
    return out
