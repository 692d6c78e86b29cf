"""Per-chat memory in SQLite: chosen locality, last task (for follow-ups), pending numbered choices, and the
short keys behind Telegram callback buttons (callback_data is limited to 64 bytes, so buttons carry a key)."""
from __future__ import annotations

import json
import secrets
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS chat_state (
    channel TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    locality TEXT,
    last_task_id TEXT,
    pending TEXT,            -- JSON list of actions offered as numbered choices
    pending_at REAL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (channel, chat_id)
);
CREATE TABLE IF NOT EXISTS chat_callbacks (
    key TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    payload TEXT NOT NULL,   -- JSON action
    created_at REAL NOT NULL
);
"""

PENDING_TTL_S = 30 * 60  # numbered choices are honoured for half an hour
CALLBACK_TTL_S = 14 * 24 * 3600


@dataclass
class ChatState:
    locality: str | None = None
    last_task_id: str | None = None
    pending: list[dict] = field(default_factory=list)


class ChatStore:
    def __init__(self, db_path: str | Path, clock=time.time):
        self.db_path = Path(db_path)
        self.clock = clock
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.executescript(_SCHEMA)
            db.execute("DELETE FROM chat_callbacks WHERE created_at < ?", (self.clock() - CALLBACK_TTL_S,))

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.db_path, timeout=30)

    def get(self, channel: str, chat_id: str) -> ChatState:
        with closing(self._connect()) as db:
            row = db.execute(
                "SELECT locality, last_task_id, pending, pending_at FROM chat_state WHERE channel=? AND chat_id=?",
                (channel, chat_id),
            ).fetchone()
        if row is None:
            return ChatState()
        locality, last_task_id, pending, pending_at = row
        fresh = pending and pending_at and self.clock() - pending_at <= PENDING_TTL_S
        return ChatState(locality, last_task_id, json.loads(pending) if fresh else [])

    def update(self, channel: str, chat_id: str, **fields) -> None:
        """Set some of: locality, last_task_id, pending (list; [] clears)."""
        allowed = {"locality", "last_task_id", "pending"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"unknown chat state fields: {sorted(unknown)}")
        now = self.clock()
        values = dict(fields)
        if "pending" in values:
            values["pending"] = json.dumps(values["pending"], ensure_ascii=False) if values["pending"] else None
            values["pending_at"] = now if values["pending"] else None
        cols = list(values)
        with closing(self._connect()) as db, db:
            db.execute(
                "INSERT OR IGNORE INTO chat_state (channel, chat_id, updated_at) VALUES (?,?,?)",
                (channel, chat_id, now),
            )
            db.execute(
                f"UPDATE chat_state SET {', '.join(f'{c}=?' for c in cols)}, updated_at=? WHERE channel=? AND chat_id=?",
                [values[c] for c in cols] + [now, channel, chat_id],
            )

    def put_callback(self, channel: str, chat_id: str, payload: dict) -> str:
        """Store an action behind a button; returns the short key to put in callback_data."""
        key = secrets.token_urlsafe(8)  # 11 characters
        with closing(self._connect()) as db, db:
            db.execute(
                "INSERT INTO chat_callbacks (key, channel, chat_id, payload, created_at) VALUES (?,?,?,?,?)",
                (key, channel, chat_id, json.dumps(payload, ensure_ascii=False), self.clock()),
            )
        return key

    def get_callback(self, channel: str, chat_id: str, key: str) -> dict | None:
        """The action behind a key, only for the chat it was made for."""
        with closing(self._connect()) as db:
            row = db.execute(
                "SELECT payload, created_at FROM chat_callbacks WHERE key=? AND channel=? AND chat_id=?",
                (key, channel, chat_id),
            ).fetchone()
        if row is None or self.clock() - row[1] > CALLBACK_TTL_S:
            return None
        return json.loads(row[0])
