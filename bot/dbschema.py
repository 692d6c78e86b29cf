"""Creating and migrating tables while other connections write to the same SQLite file.

A deferred transaction that reads the schema and then writes (what sqlite-utils' ``create`` does) is refused at once
with "database is locked" when another connection holds the write lock: SQLite does not wait, because the reader's
snapshot would be stale by the time it could write. ``ensure_schema`` takes the write lock first (BEGIN IMMEDIATE,
which does wait for the busy timeout), runs idempotent DDL (CREATE ... IF NOT EXISTS, ALTER TABLE ADD COLUMN for
missing columns) and commits; it retries a few times when the lock is still held after the busy timeout.
"""
from __future__ import annotations

import logging
import sqlite3
import time
from typing import Callable

log = logging.getLogger(__name__)


def columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info([{table}])")}


def add_missing_columns(conn: sqlite3.Connection, table: str, wanted: dict[str, str]) -> None:
    """ALTER TABLE ADD COLUMN for each of ``wanted`` (name -> SQL type) the table lacks."""
    have = columns(conn, table)
    for name, sql_type in wanted.items():
        if name not in have:
            conn.execute(f"ALTER TABLE [{table}] ADD COLUMN [{name}] {sql_type}")


def is_busy(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def ensure_schema(conn: sqlite3.Connection, build: Callable[[sqlite3.Connection], None], *, attempts: int = 5,
                  first_wait: float = 0.5, what: str = "schema") -> None:
    """Run ``build(conn)`` (idempotent DDL) in one write transaction taken up front; retried when the database
    stays locked. Raises the last error after ``attempts`` tries."""
    for attempt in range(attempts):
        try:
            if conn.in_transaction:  # never fold the DDL into a caller's open transaction
                conn.commit()
            conn.execute("BEGIN IMMEDIATE")
            try:
                build(conn)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or attempt == attempts - 1:
                raise
            wait = first_wait * 2 ** attempt
            log.warning("creating the %s: database busy (%s); retry %d in %.1fs", what, exc, attempt + 1, wait)
            time.sleep(wait)
