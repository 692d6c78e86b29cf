"""The index command: corpus files -> elements -> structure -> tasks, procedures and chunks -> SQLite, BM25, FAISS.

Two stages, so a new plan answers within seconds: `build_index` reads every document, stores the structured
records and builds the lexical indexes (fast); `build_dense` embeds passages into FAISS (slow, cached per
passage, can run in the background while the bot already answers from the lexical side).

Each document is recognised by its content — a plan, a procedure catalogue/decision, or records of the national
procedure database — and reported: issuer, level, number/date, tasks, share with an explicit lead, share with a
deadline, tables, procedures, and warnings when a document that looks like a plan yields few tasks or no leads.
Copies of one plan (same issuer and number, or near-identical text) are indexed once; the others are reported.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from . import store
from .chunking import chunk_plan, lexical_text, task_chunk_links, task_lexical_text
from .lexical import LexicalIndex
from .loaders import SUPPORTED, Limits, LoadError, file_sha, load
from .restore import DiacriticRestorer
from .structure import Plan, parse_plan
from .tasks import extract_tasks, plan_identity
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
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (file, the file it duplicates)
    seconds: float = 0.0
    per_plan: list[dict] = field(default_factory=list)
    per_doc: list[dict] = field(default_factory=list)  # the extraction report of every document
    changes: dict = field(default_factory=dict)  # document -> {"new": n, "removed": n}
    dense_pending: bool = False  # the dense index is to be (re)built by build_dense


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


def discover(corpus_dir: Path) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files of the corpus, and the ones refused (a symlink leading out of the corpus is never followed)."""
    files, refused = [], []
    root = corpus_dir.resolve()
    for p in sorted(corpus_dir.rglob("*")):
        if p.name.startswith((".", "~$")):
            continue
        if p.is_symlink():
            target = p.resolve()
            if root not in target.parents and target != root:
                refused.append((str(p), "liên kết (symlink) trỏ ra ngoài thư mục văn bản: không đọc"))
                continue
        if p.is_file():
            files.append(p)
    return files, refused


def _shingles(blocks) -> set[int]:
    """Hashed 5-word shingles of a document's text (near-duplicate detection)."""
    words: list[str] = []
    for b in blocks:
        texts = [c for r in b.rows for c in r] if hasattr(b, "rows") else [b.text]
        for t in texts:
            words.extend(re.findall(r"[a-z0-9]+", fold(t)))
    return {hash(" ".join(words[i : i + 5])) for i in range(max(len(words) - 4, 1))}


def _containment(a: set[int], b: set[int]) -> float:
    small, big = (a, b) if len(a) <= len(b) else (b, a)
    return len(small & big) / max(len(small), 1)


def build_index(corpus_dir: Path, data_dir: Path, embedder=None, progress: bool = True,
                exact_max: int = 50_000, extra_files: list[Path] | None = None,
                limits: Limits | None = None) -> IndexSummary:
    """Read the corpus and store every record and the lexical side; then the dense side when an embedder is
    given (pass None and call `build_dense` later to answer sooner)."""
    t0 = time.perf_counter()
    data_dir.mkdir(parents=True, exist_ok=True)
    db = store.open_db(data_dir / "cchc.db")
    summary = IndexSummary()
    files, refused = discover(corpus_dir)
    files += list(extra_files or [])
    summary.skipped.extend(refused)
    from . import procedures as procmod

    all_procedures = []
    seen_docs: set[str] = set()
    db["skipped"].drop(ignore=True)
    version = parser_version()
    known = _known_plans(db, version)
    previous_ids = _previous_task_ids(db)
    identities: dict[str, tuple[str, str, set[int]]] = {}  # plan identity -> (doc_id, file, shingles)
    by_issuer: dict[str, list[tuple[str, str, set[int]]]] = {}
    for path in files:
        summary.files += 1
        if path.suffix.lower() not in SUPPORTED:
            summary.skipped.append((str(path), f"định dạng {path.suffix or '(không đuôi)'} chưa hỗ trợ"))
            continue
        prev = _unchanged_plan(path, known)
        if prev is not None and prev.get("identity") not in identities:
            # same bytes, same parser: its chunks, tasks and units are already stored
            seen_docs.add(prev["doc_id"])
            identities[prev["identity"]] = (prev["doc_id"], path.name, set())
            summary.plans += 1
            summary.unchanged += 1
            summary.chunks += prev["n_chunks"]
            summary.tasks += prev["n_tasks"]
            report = json.loads(prev.get("report") or "{}")
            summary.per_plan.append(json.loads(prev["stats"]))
            summary.per_doc.append(report)
            continue
        try:
            raw = load(path, limits)
        except LoadError as exc:
            summary.skipped.append((str(path), str(exc)))
            log.warning("skipped %s: %s", path, exc)
            continue
        except Exception as exc:  # any other failure of one file must not lose the others
            summary.skipped.append((str(path), f"lỗi khi đọc: {exc.__class__.__name__}: {exc}"))
            log.exception("skipped %s", path)
            continue
        if raw.kind == "json":
            handled = _national(raw, summary, all_procedures, db)
            if handled:
                seen_docs.add(raw.sha)
            continue
        if procmod.is_catalogue(raw):
            try:
                cat = procmod.parse_catalogue(raw)
            except Exception as exc:
                summary.skipped.append((str(path), f"không phân tích được danh mục TTHC: {exc}"))
                log.exception("catalogue %s", path)
                continue
            all_procedures.extend(cat.procedures)
            summary.catalogues += 1
            summary.procedures += len(cat.procedures)
            report = {"document": path.name, "kind": "catalogue", "issuer": getattr(cat, "locality", ""),
                      "title": getattr(cat, "title", ""), "procedures": len(cat.procedures),
                      "fields": getattr(cat, "fields", 0),
                      "warnings": list(getattr(cat, "warnings", []) or [])
                      + ([] if cat.procedures else ["văn bản giống danh mục TTHC nhưng không trích được thủ tục nào"])}
            summary.per_doc.append(report)
            _save_document(db, raw, kind="catalogue", title=getattr(cat, "title", "") or path.stem,
                           locality=getattr(cat, "locality", ""), n_chunks=0, n_tasks=0, report=report)
            seen_docs.add(raw.sha)
            store.save_chunks(db, raw.sha, [])
            continue
        plan = parse_plan(raw)
        if raw.kind in ("csv", "xlsx") and not plan.tables:
            summary.skipped.append((str(path), "bảng tính không phải kế hoạch hay danh mục TTHC"))
            continue
        identity = plan_identity(plan)
        shingles = _shingles(raw.blocks)
        dup = _duplicate_of(plan, identity, shingles, identities, by_issuer)
        if dup is not None:
            kept_sha, kept_name, kept_shingles = dup
            if len(shingles) <= len(kept_shingles) or not kept_shingles:
                _report_duplicate(summary, path, kept_name)
                continue
            # the copy indexed first is the smaller one (a truncated copy): this one replaces it
            _drop_document(db, kept_sha, seen_docs, summary, kept_name)
            _report_duplicate(summary, Path(kept_name), path.name)
            by_issuer[fold(plan.meta.issuer)] = [e for e in by_issuer.get(fold(plan.meta.issuer), []) if e[0] != kept_sha]
            identities = {k: v for k, v in identities.items() if v[0] != kept_sha}
        identities[identity] = (raw.sha, path.name, shingles)
        by_issuer.setdefault(fold(plan.meta.issuer), []).append((raw.sha, path.name, shingles))
        extraction = extract_tasks(plan)
        tasks = _apply_corrections(db, extraction.tasks)
        old = previous_ids.get(identity, set())
        for t in tasks:
            t.status = "unchanged" if t.id in old else ("new" if not old else "changed")
        if old:
            summary.changes[path.name] = {"new": sum(1 for t in tasks if t.status == "changed"),
                                          "removed": len(old - {t.id for t in tasks})}
        chunks = chunk_plan(plan)
        if not extraction.tasks and not chunks:
            summary.skipped.append((str(path), "không đọc được nội dung nào (tệp trống hoặc chỉ có hình ảnh)"))
            continue
        store.save_chunks(db, raw.sha, chunks)
        store.save_tasks(db, raw.sha, tasks)
        _save_units(db, plan, extraction)
        report = {"document": plan.document, "kind": "plan", **extraction.report, "title": plan.title,
                  "citation": plan.meta.citation()}
        stats = {
            "document": plan.document, "locality": plan.locality, "tasks": len(tasks),
            "units": len(extraction.units), "dated": sum(1 for t in tasks if t.due),
            "normalized": sum(1 for t in tasks if t.deadline_kind != "unspecified"),
            "unspecified": extraction.unspecified_deadlines,
        }
        _save_document(db, raw, kind="plan", title=plan.title, locality=plan.locality, n_chunks=len(chunks),
                       n_tasks=len(tasks), plan=plan, stats=stats, report=report, identity=identity)
        seen_docs.add(raw.sha)
        summary.plans += 1
        summary.chunks += len(chunks)
        summary.tasks += len(tasks)
        summary.per_plan.append(stats)
        summary.per_doc.append(report)
    _forget_missing(db, seen_docs)
    procmod.save_procedures(data_dir / "cchc.db", all_procedures)
    if summary.skipped:
        db["skipped"].insert_all([{"path": p, "reason": r} for p, r in summary.skipped])
    db["index_meta"].insert({"key": "parser_version", "value": version}, pk="key", replace=True)
    chunks = store.load_chunks(db)
    _build_lexical(db, data_dir, chunks)
    if embedder is not None:
        build_dense(data_dir, embedder, progress=progress, exact_max=exact_max, summary=summary, db=db, chunks=chunks)
    else:
        summary.dense_pending = True
        _mark_dense_stale(data_dir)
    summary.seconds = time.perf_counter() - t0
    db["index_meta"].insert({"key": "summary", "value": _json(asdict(summary))}, pk="key", replace=True)
    return summary


def _duplicate_of(plan: Plan, identity: str, shingles: set[int], identities: dict, by_issuer: dict):
    """(doc_id, file, shingles) of the plan this one duplicates: same issuer and number (or title), or
    near-identical text from the same issuer (a truncated copy, another encoding). Plans of different issuers
    are never duplicates, however alike (communes adapt one template)."""
    if identity in identities:
        return identities[identity]
    for entry in by_issuer.get(fold(plan.meta.issuer), []):
        if entry[2] and _containment(shingles, entry[2]) >= 0.9:
            return entry
    return None


def _report_duplicate(summary: IndexSummary, path: Path, kept: str) -> None:
    summary.duplicates.append((path.name, kept))
    summary.skipped.append((str(path), f"bản trùng của {kept} (cùng cơ quan ban hành và số/nội dung): "
                                       "không lập chỉ mục lần hai"))


def _drop_document(db, doc_id: str, seen_docs: set[str], summary: IndexSummary, name: str) -> None:
    for t in ("documents", "chunks", "tasks", "units"):
        if db[t].exists():
            db[t].delete_where("doc_id = ?", [doc_id])
    seen_docs.discard(doc_id)
    for r in [r for r in summary.per_doc if r.get("document") == name]:
        summary.per_doc.remove(r)
        summary.plans -= 1
        summary.tasks -= r.get("tasks", 0) or 0


def _previous_task_ids(db) -> dict[str, set[str]]:
    """plan identity -> task ids stored by the previous index run (to tell new and changed tasks)."""
    if not db["tasks"].exists() or not db["documents"].exists():
        return {}
    cols = {c.name for c in db["documents"].columns}
    if "identity" not in cols:
        return {}
    out: dict[str, set[str]] = {}
    for r in db.query("select d.identity as identity, t.id as id from tasks t join documents d on d.doc_id = t.doc_id"):
        if r["identity"]:
            out.setdefault(r["identity"], set()).add(r["id"])
    return out


def _apply_corrections(db, tasks):
    """Officers' corrections (index.corrections, the review page) survive re-indexing: applied before saving."""
    try:
        from .corrections import apply_corrections
    except ImportError:
        return tasks
    return apply_corrections(db, tasks)


def _national(raw, summary: IndexSummary, all_procedures: list, db) -> bool:
    """Records of the national procedure database (JSON)."""
    from . import procedures as procmod

    try:
        from .national import parse_records
    except ImportError:
        summary.skipped.append((str(raw.path), "hồ sơ JSON của CSDL quốc gia về TTHC: chưa hỗ trợ"))
        return False
    try:
        procs = parse_records(raw)
    except Exception as exc:
        summary.skipped.append((str(raw.path), f"JSON không phải hồ sơ thủ tục hành chính: {exc}"))
        return False
    if not procs:
        summary.skipped.append((str(raw.path), "JSON không chứa hồ sơ thủ tục hành chính nào"))
        return False
    all_procedures.extend(procs)
    summary.procedures += len(procs)
    summary.catalogues += 1
    report = {"document": raw.path.name, "kind": "national", "procedures": len(procs),
              "fields": procmod.count_fields(procs),
              "warnings": []}
    summary.per_doc.append(report)
    _save_document(db, raw, kind="national", title=procs[0].name if len(procs) == 1 else raw.path.stem,
                   locality="", n_chunks=0, n_tasks=0, report=report)
    store.save_chunks(db, raw.sha, [])
    return True


def _forget_missing(db, seen_docs: set[str]) -> None:
    """Forget documents that left the corpus."""
    keep = sorted(seen_docs)
    marks = ",".join("?" * len(keep))
    for t in ("documents", "chunks", "tasks", "units"):
        if db[t].exists():
            db.execute(f"delete from [{t}] where doc_id not in ({marks})", keep) if keep else db[t].delete_where()
    db.conn.commit()


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
    if prev is None or prev["document"] != path.name or not prev.get("stats") or not prev.get("identity"):
        return None
    return prev


def _save_document(db, raw, kind: str, title: str, locality: str, n_chunks: int, n_tasks: int, plan=None,
                   stats: dict | None = None, report: dict | None = None, identity: str = "") -> None:
    meta = plan.meta if plan is not None else None
    row = {
        "doc_id": raw.sha, "document": raw.path.name, "path": str(raw.path), "kind": kind, "title": title,
        "locality": locality, "locality_name": plan.locality_name if plan else "",
        "period_start": plan.period[0] if plan and plan.period else None,
        "period_end": plan.period[1] if plan and plan.period else None,
        "issue_date": plan.issue_date if plan else None,
        "issuer": meta.issuer if meta else (report or {}).get("issuer", ""),
        "level": meta.level if meta else "",
        "number": meta.number if meta else "",
        "date": meta.date if meta else None,
        "signer": meta.signer if meta else "",
        "signer_title": meta.signer_title if meta else "",
        "doc_type": meta.doc_type if meta else "",
        "citation": meta.citation() if meta else "",
        "identity": identity,
        "n_chunks": n_chunks, "n_tasks": n_tasks, "stats": _json(stats) if stats is not None else None,
        "report": _json(report or {}),
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


def _build_lexical(db, data_dir: Path, chunks) -> None:
    LexicalIndex.build([lexical_text(c) for c in chunks] or [""]).save(data_dir / "bm25")
    (data_dir / "chunk_ids.txt").write_text("\n".join(c.id for c in chunks))
    _build_task_side(db, data_dir, chunks)
    # Diacritic restorer from the corpus vocabulary (task texts + chunks)
    texts = [c.text for c in chunks] + [c.heading for c in chunks]
    DiacriticRestorer.train(texts).save(data_dir / "restore.json")


def _build_task_side(db, data_dir: Path, chunks) -> None:
    """Task BM25 and task -> chunk links, so a serving process loads them instead of recomputing
    (at 1,000 plans that recomputation was most of a two-minute cold start)."""
    tasks = store.load_tasks(db)
    LexicalIndex.build([task_lexical_text(t) for t in tasks] or [""]).save(data_dir / "bm25_tasks")
    (data_dir / "task_ids.txt").write_text("\n".join(t.id for t in tasks))
    links = [-1 if i is None else i for i in task_chunk_links(tasks, chunks)]
    np.save(data_dir / "task_chunks.npy", np.array(links, dtype=np.int32))


def _mark_dense_stale(data_dir: Path) -> None:
    """The vectors on disk no longer match the chunks: readers ignore them until build_dense rewrites them."""
    meta = data_dir / "vectors.json"
    if meta.exists():
        try:
            info = json.loads(meta.read_text())
        except ValueError:
            info = {}
        info["stale"] = True
        meta.write_text(json.dumps(info))


def _passage_hash(text: str) -> str:
    from .embeddings.cache import passage_hash

    return passage_hash(text)


def build_dense(data_dir: Path, embedder, progress: bool = False, exact_max: int = 50_000,
                summary: IndexSummary | None = None, db=None, chunks=None, batch: int = 128,
                stop=None) -> int:
    """Embed the passages not yet in the cache (each distinct text once, the commune's name masked:
    index/embeddings/cache.py) and write the FAISS index. Returns the number of passages embedded in this call.
    With `stop` (a callable) the embedding may end early; the FAISS index is then not written."""
    from .embeddings.cache import dense_texts, embed_into_cache, missing

    db = db or store.open_db(data_dir / "cchc.db")
    chunks = chunks if chunks is not None else store.load_chunks(db)
    order = (data_dir / "chunk_ids.txt").read_text().split("\n") if (data_dir / "chunk_ids.txt").exists() else []
    by_id = {c.id: c for c in chunks}
    if order and all(i in by_id for i in order if i):
        chunks = [by_id[i] for i in order if i]
    hashes, cached, todo = missing(db, embedder.model_id, dense_texts(chunks))
    new = embed_into_cache(db, embedder, todo, batch=batch, progress=progress, stop=stop)
    if summary is not None:
        summary.embedded = len(new)
        summary.reused = sum(1 for h in hashes if h in cached)
    if len(new) < len(todo):  # stopped early: what was embedded is cached, the index stays as it was
        return len(new)
    cached.update(new)
    matrix = np.stack([cached[h] for h in hashes]) if hashes else np.zeros((0, embedder.dim), dtype=np.float32)
    VectorIndex.build(matrix, embedder.model_id, exact_max=exact_max).save(data_dir)
    return len(new)


def plan_localities(db) -> list[dict]:
    if not db["documents"].exists():
        return []
    return [dict(r) for r in db.query("select doc_id, document, kind, title, locality, locality_name from documents")]


def locality_key(name: str) -> str:
    return fold(name)
