"""The index command: corpus files -> structure -> tasks, procedures and chunks -> SQLite, BM25, FAISS.

Incremental: embeddings are cached by (model, passage hash), so an unchanged file is never re-embedded;
the small BM25 and FAISS files are rebuilt from the cache in seconds.
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from . import store
from .chunking import chunk_plan, lexical_text, passage_text, task_chunk_links, task_lexical_text
from .lexical import LexicalIndex
from .loaders import SUPPORTED, LoadError, file_sha, load
from .restore import DiacriticRestorer
from .structure import parse_plan
from .tasks import extract_tasks
from .textnorm import fold
from .vectors import VectorIndex

log = logging.getLogger(__name__)


@dataclass
class IndexSummary:
    files: int = 0
    plans: int = 0
    catalogues: int = 0
    chunks: int = 0
    tasks: int = 0
    procedures: int = 0
    unchanged: int = 0  # plans whose file and parser were unchanged: their records were kept, not re-parsed
    embedded: int = 0  # passages embedded in this run
    reused: int = 0  # passages whose embedding came from the cache
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    seconds: float = 0.0
    per_plan: list[dict] = field(default_factory=list)


def _passage_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def parser_version() -> str:
    """Hash of the code that turns a file into records: a change to any of it re-parses every file."""
    h = hashlib.sha1()
    for p in sorted(Path(__file__).parent.glob("*.py")):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _known_plans(db, version: str) -> dict[str, dict]:
    """doc_id -> stored document row, for plans indexed by this parser version (empty after a code change)."""
    if not db["documents"].exists() or not db["index_meta"].exists():
        return {}
    row = db.execute("select value from index_meta where key = 'parser_version'").fetchone()
    if not row or row[0] != version:
        return {}
    return {r["doc_id"]: dict(r) for r in db.query("select * from documents where kind = 'plan'")}


def discover(corpus_dir: Path) -> list[Path]:
    files = []
    for p in sorted(corpus_dir.rglob("*")):
        if p.is_file() and not p.name.startswith((".", "~$")):
            files.append(p)
    return files


def build_index(corpus_dir: Path, data_dir: Path, embedder=None, progress: bool = True,
                exact_max: int = 50_000, extra_files: list[Path] | None = None) -> IndexSummary:
    t0 = time.perf_counter()
    data_dir.mkdir(parents=True, exist_ok=True)
    db = store.open_db(data_dir / "cchc.db")
    summary = IndexSummary()
    files = discover(corpus_dir) + list(extra_files or [])
    seen_docs: set[str] = set()
    try:
        from . import procedures as procmod  # catalogue support (optional until it lands)
    except ImportError:  # pragma: no cover
        procmod = None
    all_procedures = []
    db["skipped"].drop(ignore=True)
    version = parser_version()
    known = _known_plans(db, version)
    for path in files:
        summary.files += 1
        if path.suffix.lower() not in SUPPORTED:
            summary.skipped.append((str(path), f"định dạng {path.suffix or '(không đuôi)'} chưa hỗ trợ"))
            continue
        prev = _unchanged_plan(path, known)
        if prev is not None:  # same bytes, same parser: its chunks, tasks and units are already stored
            seen_docs.add(prev["doc_id"])
            stats = json.loads(prev["stats"])
            summary.plans += 1
            summary.unchanged += 1
            summary.chunks += prev["n_chunks"]
            summary.tasks += prev["n_tasks"]
            summary.per_plan.append(stats)
            continue
        try:
            raw = load(path)
        except LoadError as exc:
            summary.skipped.append((str(path), str(exc)))
            log.warning("skipped %s: %s", path, exc)
            continue
        except Exception as exc:  # any other failure of one file must not lose the others
            summary.skipped.append((str(path), f"lỗi khi đọc: {exc.__class__.__name__}: {exc}"))
            log.exception("skipped %s", path)
            continue
        if procmod is not None and procmod.is_catalogue(raw):
            try:
                cat = procmod.parse_catalogue(raw)
            except Exception as exc:
                summary.skipped.append((str(path), f"không phân tích được danh mục TTHC: {exc}"))
                log.exception("catalogue %s", path)
                continue
            all_procedures.extend(cat.procedures)
            summary.catalogues += 1
            summary.procedures += len(cat.procedures)
            _save_document(db, raw, kind="catalogue", title=getattr(cat, "title", "") or path.stem,
                           locality=getattr(cat, "locality", ""), n_chunks=0, n_tasks=0)
            seen_docs.add(raw.sha)
            store.save_chunks(db, raw.sha, [])
            continue
        plan = parse_plan(raw)
        if raw.kind in ("csv", "xlsx") and not plan.tables:
            summary.skipped.append((str(path), "bảng tính không phải kế hoạch hay danh mục TTHC"))
            continue
        extraction = extract_tasks(plan)
        chunks = chunk_plan(plan)
        store.save_chunks(db, raw.sha, chunks)
        store.save_tasks(db, raw.sha, extraction.tasks)
        _save_units(db, plan, extraction)
        stats = {
            "document": plan.document, "locality": plan.locality, "tasks": len(extraction.tasks),
            "units": len(extraction.units),
            "dated": sum(1 for t in extraction.tasks if t.due),
            "normalized": sum(1 for t in extraction.tasks if t.deadline_kind != "unspecified"),
            "unspecified": extraction.unspecified_deadlines,
        }
        _save_document(db, raw, kind="plan", title=plan.title, locality=plan.locality,
                       n_chunks=len(chunks), n_tasks=len(extraction.tasks), plan=plan, stats=stats)
        seen_docs.add(raw.sha)
        summary.plans += 1
        summary.chunks += len(chunks)
        summary.tasks += len(extraction.tasks)
        summary.per_plan.append(stats)
    # Forget documents that left the corpus.
    keep = sorted(seen_docs)
    marks = ",".join("?" * len(keep))
    for t in ("documents", "chunks", "tasks", "units"):
        if db[t].exists():
            db.execute(f"delete from [{t}] where doc_id not in ({marks})", keep) if keep else db[t].delete_where()
    db.conn.commit()
    if procmod is not None:
        procmod.save_procedures(data_dir / "cchc.db", all_procedures)
    if summary.skipped:
        db["skipped"].insert_all([{"path": p, "reason": r} for p, r in summary.skipped])

    db["index_meta"].insert({"key": "parser_version", "value": version}, pk="key", replace=True)
    chunks = store.load_chunks(db)
    _build_search_indexes(db, data_dir, chunks, embedder, summary, progress, exact_max)
    summary.seconds = time.perf_counter() - t0
    db["index_meta"].insert({"key": "summary", "value": _json(asdict(summary))}, pk="key", replace=True)
    return summary


def _json(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str)


def _unchanged_plan(path: Path, known: dict[str, dict]) -> dict | None:
    """The stored row of this file when neither its bytes nor the parser changed since it was indexed."""
    if not known:
        return None
    try:
        sha = file_sha(path)
    except OSError:
        return None
    prev = known.get(sha)
    if prev is None or prev["document"] != path.name or not prev.get("stats"):
        return None
    return prev


def _save_document(db, raw, kind: str, title: str, locality: str, n_chunks: int, n_tasks: int, plan=None,
                   stats: dict | None = None) -> None:
    row = {
        "doc_id": raw.sha, "document": raw.path.name, "path": str(raw.path), "kind": kind, "title": title,
        "locality": locality, "locality_name": plan.locality_name if plan else "",
        "period_start": plan.period[0] if plan and plan.period else None,
        "period_end": plan.period[1] if plan and plan.period else None,
        "issue_date": plan.issue_date if plan else None,
        "n_chunks": n_chunks, "n_tasks": n_tasks, "stats": _json(stats) if stats is not None else None,
        "indexed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    if db["documents"].exists():
        db["documents"].delete_where("document = ? and doc_id != ?", [raw.path.name, raw.sha])
    db["documents"].insert(row, pk="doc_id", replace=True, alter=True)


def _save_units(db, plan, extraction) -> None:
    if db["units"].exists():
        db["units"].delete_where("doc_id = ?", [plan.doc_id])
    rows = [{"doc_id": plan.doc_id, "locality": plan.locality, "key": k, "name": v}
            for k, v in extraction.units.items()]
    if rows:
        db["units"].insert_all(rows, alter=True)
    if db["focal_units"].exists():
        db["focal_units"].delete_where("locality = ?", [plan.locality])
    if extraction.focal_unit:
        db["focal_units"].insert({"locality": plan.locality, "unit": extraction.focal_unit}, alter=True)


def _build_search_indexes(db, data_dir: Path, chunks, embedder, summary: IndexSummary, progress: bool,
                          exact_max: int) -> None:
    # Lexical
    lex = LexicalIndex.build([lexical_text(c) for c in chunks] or [""])
    lex.save(data_dir / "bm25")
    (data_dir / "chunk_ids.txt").write_text("\n".join(c.id for c in chunks))
    _build_task_side(db, data_dir, chunks)
    # Diacritic restorer from the corpus vocabulary (task texts + chunks)
    texts = [c.text for c in chunks] + [c.heading for c in chunks]
    DiacriticRestorer.train(texts).save(data_dir / "restore.json")
    # Dense
    if embedder is None:
        return
    passages = [passage_text(c) for c in chunks]
    hashes = [_passage_hash(p) for p in passages]
    cached = store.get_embeddings(db, embedder.model_id, list(set(hashes)))
    todo = [(h, p) for h, p in dict(zip(hashes, passages)).items() if h not in cached]
    summary.reused = len(hashes) - sum(1 for h in hashes if h not in cached)
    new: dict[str, np.ndarray] = {}
    if todo:
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(todo), desc="Nhúng đoạn văn (embedding)", unit="đoạn")
        batch = 32
        for i in range(0, len(todo), batch):
            part = todo[i : i + batch]
            vecs = embedder.embed_passages([p for _, p in part])
            for (h, _), v in zip(part, vecs):
                new[h] = v
            store.put_embeddings(db, embedder.model_id, dict(zip([h for h, _ in part], vecs)))
            if bar:
                bar.update(len(part))
        if bar:
            bar.close()
    summary.embedded = len(new)
    cached.update(new)
    dim = embedder.dim
    matrix = np.stack([cached[h] for h in hashes]) if hashes else np.zeros((0, dim), dtype=np.float32)
    VectorIndex.build(matrix, embedder.model_id, exact_max=exact_max).save(data_dir)


def _build_task_side(db, data_dir: Path, chunks) -> None:
    """Task BM25 and task -> chunk links, so a serving process loads them instead of recomputing
    (at 1,000 plans that recomputation was most of a two-minute cold start)."""
    tasks = store.load_tasks(db)
    LexicalIndex.build([task_lexical_text(t) for t in tasks] or [""]).save(data_dir / "bm25_tasks")
    (data_dir / "task_ids.txt").write_text("\n".join(t.id for t in tasks))
    links = [-1 if i is None else i for i in task_chunk_links(tasks, chunks)]
    np.save(data_dir / "task_chunks.npy", np.array(links, dtype=np.int32))


def plan_localities(db) -> list[dict]:
    if not db["documents"].exists():
        return []
    return [dict(r) for r in db.query("select doc_id, document, kind, title, locality, locality_name from documents")]


def locality_key(name: str) -> str:
    return fold(name)
