"""SQLite metadata store (sqlite-utils): documents, chunks, tasks, units, embeddings cache, skipped files."""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import sqlite_utils

from .records import Chunk, Task


def open_db(path: Path) -> sqlite_utils.Database:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite_utils.Database(str(path))
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA busy_timeout=5000")
    return db


def save_chunks(db, doc_id: str, chunks: list[Chunk]) -> None:
    db["chunks"].delete_where("doc_id = ?", [doc_id]) if db["chunks"].exists() else None
    rows = [{k: v for k, v in asdict(c).items() if k != "lines"} for c in chunks]
    if rows:
        db["chunks"].insert_all(rows, pk="id", replace=True)


def load_chunks(db) -> list[Chunk]:
    if not db["chunks"].exists():
        return []
    out = []
    for r in db.query("select * from chunks order by doc_id, position"):
        r = dict(r)
        out.append(Chunk(**r, lines=[r["text"]]))
    return out


def save_tasks(db, doc_id: str, tasks: list[Task]) -> None:
    if db["tasks"].exists():
        db["tasks"].delete_where("doc_id = ?", [doc_id])
    if tasks:
        db["tasks"].insert_all([asdict(t) for t in tasks], pk="id", replace=True, alter=True)


def row_to_task(r: dict) -> Task:
    r = dict(r)
    for k in ("lead", "coordinate"):
        if isinstance(r.get(k), str):
            r[k] = json.loads(r[k] or "[]")
    for k in ("deadline", "raw_cells"):
        if isinstance(r.get(k), str):
            r[k] = json.loads(r[k] or "{}")
    r["lead_inferred"] = bool(r.get("lead_inferred"))
    fields = Task.__dataclass_fields__
    return Task(**{k: v for k, v in r.items() if k in fields})


def load_tasks(db) -> list[Task]:
    if not db["tasks"].exists():
        return []
    return [row_to_task(r) for r in db.query("select * from tasks order by document, rowid")]


def get_embeddings(db, model_id: str, hashes: list[str]) -> dict[str, np.ndarray]:
    if not db["embeddings"].exists() or not hashes:
        return {}
    out: dict[str, np.ndarray] = {}
    for i in range(0, len(hashes), 500):
        part = hashes[i : i + 500]
        q = f"select hash, vector from embeddings where model = ? and hash in ({','.join('?' * len(part))})"
        for r in db.execute(q, [model_id, *part]).fetchall():
            out[r[0]] = np.frombuffer(r[1], dtype=np.float32)
    return out


def put_embeddings(db, model_id: str, items: dict[str, np.ndarray]) -> None:
    if items:
        db["embeddings"].insert_all(
            ({"hash": h, "model": model_id, "vector": v.astype(np.float32).tobytes()} for h, v in items.items()),
            pk=("hash", "model"), replace=True,
        )
