"""Hybrid search over chunks and tasks, loaded once per process.

Lexical (BM25 on folded syllables + bigrams) and dense (FAISS) are fused by weighted reciprocal rank;
a locality named in the question filters both. The dense query is built from the diacritic-restored
question, so "ai chu tri ..." and "ai chủ trì ..." reach the same passages.
"""
from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import store
from .chunking import task_chunk_links, task_lexical_text
from .lexical import LexicalIndex, query_tokens
from .records import Chunk, Task
from .restore import DiacriticRestorer
from .textnorm import fold
from .units import unit_key
from .vectors import VectorIndex

log = logging.getLogger(__name__)


@dataclass
class Hit:
    index: int
    score: float
    coverage: float
    rare: float | None = None  # share of the query's rarest words it has (rare_coverages), when computed


_NONE = np.zeros(0, dtype=np.int64)


def _strip_locality_type(name: str) -> str:
    """'xã Hải Hậu' -> 'Hải Hậu'; 'tỉnh Bắc Ninh' -> 'Bắc Ninh'; 'thành phố Hồ Chí Minh' -> 'Hồ Chí Minh'."""
    return re.sub(r"^(xã|phường|thị trấn|đặc khu|tỉnh|thành phố|huyện|quận|thị xã)\s+", "", name, flags=re.I)


def _folded(values) -> np.ndarray:
    """Folded form of each value, folding each distinct value once (localities repeat on every row)."""
    cache: dict[str, str] = {}
    out = []
    for v in values:
        f = cache.get(v)
        if f is None:
            f = cache[v] = fold(v)
        out.append(f)
    return np.array(out, dtype=str)


def _by_first_word(units: list[tuple[str, str]]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, (_name, key) in enumerate(units):
        out.setdefault(key.split()[0] if key.split() else "", []).append(i)
    return out


def _rare_share(has: np.ndarray | None, uni: list[str], unknown: list[str], n_ids: int) -> np.ndarray:
    """Share of the rare words each candidate has (`has`: their rows of the membership matrix); a word the
    corpus has never seen is missing from every candidate."""
    found = has.sum(axis=0) if has is not None else np.zeros(n_ids)
    return found / (len(uni) + min(len(unknown), 2))


def _top(scores: np.ndarray, k: int, rows: np.ndarray | None = None) -> list[int]:
    """Indices of the k best positive scores, best first; among `rows` only when given (filter first)."""
    if rows is not None:
        sub = scores[rows]
        best = np.argsort(-sub, kind="stable")[:k]
        return rows[best[sub[best] > 0]].tolist()
    if len(scores) > 4 * k:
        part = np.argpartition(-scores, k)[:k]
        best = part[np.argsort(-scores[part], kind="stable")]
    else:
        best = np.argsort(-scores, kind="stable")[:k]
    return best[scores[best] > 0].tolist()


class SearchIndex:
    def __init__(self, data_dir: Path, embedder=None) -> None:
        self.data_dir = Path(data_dir)
        self.db = store.open_db(self.data_dir / "cchc.db")
        self.chunks: list[Chunk] = store.load_chunks(self.db)
        ids_file = self.data_dir / "chunk_ids.txt"
        order = ids_file.read_text().split("\n") if ids_file.exists() else []
        by_id = {c.id: c for c in self.chunks}
        if order and all(i in by_id for i in order if i):
            self.chunks = [by_id[i] for i in order if i]
        self.lexical = LexicalIndex.load(self.data_dir / "bm25") if (self.data_dir / "bm25").exists() else None
        self.restorer = (DiacriticRestorer.load(self.data_dir / "restore.json")
                         if (self.data_dir / "restore.json").exists() else None)
        self.embedder = embedder
        self._qcache: dict[str, np.ndarray] = {}
        self.vectors = VectorIndex.load(self.data_dir) if embedder is not None else None
        if self.vectors is not None and not self.vectors.matches(embedder.model_id, embedder.dim):
            log.warning("vector index was built with %s; dense search off until re-index", self.vectors.meta)
            self.vectors = None
        self.chunk_locality = _folded(c.locality for c in self.chunks)
        self._locality_rows: dict[str, np.ndarray] = {}
        for loc in set(self.chunk_locality.tolist()):
            self._locality_rows[loc] = np.flatnonzero(self.chunk_locality == loc)
        # The index's own vector storage, viewed without a copy: lets a commune's passages be scored exactly.
        self._matrix = self.vectors.matrix() if self.vectors is not None else None
        if self._matrix is not None and len(self._matrix) != len(self.chunks):
            self._matrix = None
        self.tasks: list[Task] = store.load_tasks(self.db)
        self.documents = [dict(r) for r in self.db.query("select * from documents")] if self.db["documents"].exists() else []
        self.units = [dict(r) for r in self.db.query("select * from units")] if self.db["units"].exists() else []
        self.task_locality = _folded(t.locality for t in self.tasks)
        self._task_rows = {loc: np.flatnonzero(self.task_locality == loc) for loc in set(self.task_locality.tolist())}
        # lookups a question needs, folded once here rather than per question (1,000 communes x 7 units)
        self._leads_by_key: dict[str, dict[str, list[int]]] = {}  # unit key -> folded locality -> task indices
        for i, t in enumerate(self.tasks):
            name = _strip_locality_type(t.locality)
            for u in t.lead + ([t.owner] if t.owner else []):  # a unit's tasks: those it leads, and its duties
                for key in {unit_key(u, ""), unit_key(u, name)}:
                    self._leads_by_key.setdefault(key, {}).setdefault(self.task_locality[i], []).append(i)
        self._localities = sorted({d["locality"] for d in self.documents if d.get("locality")})
        self.doc_by_id = {d["doc_id"]: d for d in self.documents}
        self.chunk_doc = np.array([c.doc_id for c in self.chunks], dtype=object)
        self.task_doc = np.array([t.doc_id for t in self.tasks], dtype=object)
        self._locality_names = [(loc, fold(_strip_locality_type(loc))) for loc in self._localities]
        self._all_units: list[tuple[str, str]] = []  # (name, key) in table order; keys under 6 letters are too vague
        self._units_by_locality: dict[str, list[tuple[str, str]]] = {}
        for u in self.units:
            if len(u["key"]) >= 6:
                self._all_units.append((u["name"], u["key"]))
                self._units_by_locality.setdefault(fold(u["locality"]), []).append((u["name"], u["key"]))
        # every way find_unit matches a unit needs the unit's first word in the question: index the lists by it
        # (key: the folded locality, None for all units)
        self._unit_heads = {loc: _by_first_word(lst) for loc, lst in
                            [(None, self._all_units), *self._units_by_locality.items()]}
        self.task_lexical, self.task_chunk = self._load_task_side()
        # chunk -> tasks quoting it, for carrying a passage's dense rank over to its tasks
        self.chunk_tasks: dict[int, list[int]] = {}
        for i, ci in enumerate(self.task_chunk):
            if ci is not None:
                self.chunk_tasks.setdefault(ci, []).append(i)

    def _load_task_side(self) -> tuple[LexicalIndex, list[int | None]]:
        """Task BM25 and task -> chunk links as the index command saved them; rebuilt here only when the
        files are missing or stale (an index from an older version)."""
        ids_file, bm25_dir, links_file = (self.data_dir / "task_ids.txt", self.data_dir / "bm25_tasks",
                                          self.data_dir / "task_chunks.npy")
        if ids_file.exists() and bm25_dir.exists() and links_file.exists():
            saved = ids_file.read_text().split("\n") if self.tasks else []
            if saved == [t.id for t in self.tasks]:
                links = np.load(links_file)
                return (LexicalIndex.load(bm25_dir),
                        [int(x) if x >= 0 else None for x in links.tolist()] if self.tasks else [])
        log.warning("task search files missing or stale in %s: rebuilding them in memory (re-index to save this)",
                    self.data_dir)
        lexical = LexicalIndex.build([task_lexical_text(t) for t in self.tasks] or [""])
        return lexical, task_chunk_links(self.tasks, self.chunks)

    # ---- localities and units -------------------------------------------------------------------
    def localities(self) -> list[str]:
        return list(self._localities)

    def detect_locality(self, question: str) -> str | None:
        """The locality named in the question (with or without 'xã'/'phường', with or without diacritics)."""
        f = " " + re.sub(r"[^a-z0-9 ]", " ", fold(question)) + " "
        best = None
        for loc, name in self._locality_names:
            if name and f" {name} " in f:
                if best is None or len(name) > len(best[1]):
                    best = (loc, name)
        return best[0] if best else None

    def idf(self, token: str) -> float:
        cache = self.__dict__.setdefault("_idf_cache", {})
        v = cache.get(token)
        if v is None:
            n = max(len(self.chunks), 1)
            df = self.lexical.df(token) if self.lexical is not None else 0
            v = cache[token] = math.log(1 + (n - df + 0.5) / (df + 0.5))
        return v

    def coverages(self, q_tokens: list[str], ids: list[int], tasks: bool = False) -> np.ndarray:
        """IDF-weighted share of the query's tokens found in each chunk (or task): calibrates 'found' vs
        'not found'. Membership is read from the BM25 postings, so no per-document token sets are kept."""
        side = self.task_lexical if tasks else self.lexical
        if not q_tokens or not ids or side is None:
            return np.zeros(len(ids))
        return self._coverage_of(q_tokens, side.contains(q_tokens, np.asarray(ids)), len(ids))

    def _coverage_of(self, q_tokens: list[str], has: np.ndarray, n_ids: int) -> np.ndarray:
        weights = np.array([self.idf(t) for t in q_tokens])
        total = weights.sum()
        if not total:
            return np.zeros(n_ids)
        return (weights @ has) / total

    def _rare_words(self, q_tokens: list[str], n: int) -> tuple[list[str], list[str]]:
        """(the query's n rarest known syllables, its syllables the corpus has never seen). The task and passage
        searches of one question ask for the same words: the last answer is kept (one entry, replaced whole)."""
        key = (tuple(q_tokens), n)
        last = self.__dict__.get("_last_rare")
        if last is not None and last[0] == key:
            return last[1]
        out = self._rare_words_of(q_tokens, n)
        self.__dict__["_last_rare"] = (key, out)
        return out

    def _rare_words_of(self, q_tokens: list[str], n: int) -> tuple[list[str], list[str]]:
        uni = sorted({t for t in q_tokens if "_" not in t and self.lexical is not None and self.lexical.df(t) > 0},
                     key=lambda t: -self.idf(t))[:n]
        unknown = [t for t in q_tokens if "_" not in t and self.lexical is not None and self.lexical.df(t) == 0
                   and len(t) > 2]
        return uni, unknown

    def rare_coverages(self, q_tokens: list[str], ids: list[int], tasks: bool = False, n: int = 3) -> np.ndarray:
        """Share of the question's n rarest words (highest IDF, syllables only) found in each candidate: a
        candidate that matches the common words but misses what is specific ("tỷ đồng", "mức phạt") is not
        about the question."""
        side = self.task_lexical if tasks else self.lexical
        uni, unknown = self._rare_words(q_tokens, n)
        if not ids or side is None or not (uni or unknown):
            return np.zeros(len(ids))
        return _rare_share(side.contains(uni, np.asarray(ids)) if uni else None, uni, unknown, len(ids))

    def _result(self, query, ids: list[int], scores: dict[int, float], tasks: bool,
                match_query: str | None = None) -> list[Hit]:
        """The hits kept, with their coverage (and rare-word share when the query came as tokens)."""
        if isinstance(query, list):
            return self._hits(query, ids, scores, tasks)
        qt = query_tokens(match_query or query)
        return [Hit(i, scores[i], float(c)) for i, c in zip(ids, self.coverages(qt, ids, tasks=tasks))]

    def _hits(self, q_tokens: list[str], ids: list[int], scores: dict[int, float], tasks: bool) -> list[Hit]:
        """Hits with their coverage and rare-word share, both read from one membership matrix (the rare words are
        rows of the query's own)."""
        side = self.task_lexical if tasks else self.lexical
        if not q_tokens or not ids or side is None:
            return [Hit(i, scores[i], 0.0, 0.0 if ids else None) for i in ids]
        has = side.contains(q_tokens, np.asarray(ids))
        cov = self._coverage_of(q_tokens, has, len(ids))
        uni, unknown = self._rare_words(q_tokens, 3)
        rows = has[[q_tokens.index(t) for t in uni]] if uni else None  # the rare words are rows of the query's own
        rare = _rare_share(rows, uni, unknown, len(ids)) if uni or unknown else np.zeros(len(ids))
        return [Hit(i, scores[i], float(c), float(r)) for i, c, r in zip(ids, cov, rare)]

    def section_chunks(self, chunk: Chunk) -> list[Chunk]:
        """The passages of the same section of the same plan, in document order."""
        if not hasattr(self, "_by_section"):
            self._by_section: dict[tuple[str, str], list[Chunk]] = {}
            for c in self.chunks:
                self._by_section.setdefault((c.doc_id, c.section), []).append(c)
        return self._by_section.get((chunk.doc_id, chunk.section), [chunk])

    # ---- search ---------------------------------------------------------------------------------
    def dense_query(self, question: str) -> str:
        return self.restorer.restore(question) if self.restorer else question

    @property
    def dense_ready(self) -> bool:
        return self.vectors is not None and self.embedder is not None

    def _dense_scores(self, question: str, k: int, locality: str | None = None) -> dict[int, float]:
        if self.vectors is None or self.embedder is None:
            return {}
        rows = self._locality_rows.get(fold(locality)) if locality else None
        text = question  # the caller passes the question as typed, or restored when typed without diacritics
        qv = self._qcache.get(text)
        if qv is None:
            qv = self.embedder.embed_query(text)
            if len(self._qcache) > 512:  # a small LRU-ish cache: repeated and fallback searches embed once
                self._qcache.pop(next(iter(self._qcache)))
            self._qcache[text] = qv
        if rows is not None and self._matrix is not None:
            # Filter first, rank second: the commune's own passages, scored exactly.
            sims = self._matrix[rows] @ qv
            top = np.argsort(-sims)[:k]
            return {int(rows[i]): float(sims[i]) for i in top}
        scores, ids = self.vectors.search(qv, k)
        return {int(i): float(s) for s, i in zip(scores, ids)}

    def search_chunks(self, query: str, locality: str | None = None, k: int = 8,
                      match_query: str | None = None, w_lex: float = 1.0, w_dense: float = 0.7,
                      dense_text: str | None = None, docs: list[str] | None = None) -> list[Hit]:
        """Passages for a query: BM25 (and dense when `dense_text` is given), fused by weighted reciprocal
        rank, within a place (and plans) when given."""
        if not self.chunks or self.lexical is None:
            return []
        rows = self._locality_rows.get(fold(locality), _NONE) if locality else None
        if docs:
            mask = np.isin(self.chunk_doc, docs)
            rows = np.flatnonzero(mask) if rows is None else rows[mask[rows]]
        top_lex = _top(self.lexical.scores(query), 50, rows)
        dense = self._dense_scores(dense_text, 100, locality) if dense_text else {}
        if rows is not None:  # a global fallback search may return other communes' passages
            loc_f = fold(locality)
            dense = {i: s for i, s in dense.items() if self.chunk_locality[i] == loc_f}
        if not dense:  # lexical alone: the fused order is BM25's (1/(20 + rank) falls with the rank)
            ids = top_lex[:k]
            return self._result(query, ids, {i: w_lex / (20 + rank) for rank, i in enumerate(ids)}, False, match_query)
        top_dense = [i for i, _ in sorted(dense.items(), key=lambda kv: -kv[1])][:50]
        fused: dict[int, float] = {}
        for rank, i in enumerate(top_lex):
            fused[i] = fused.get(i, 0.0) + w_lex / (20 + rank)
        for rank, i in enumerate(top_dense):
            fused[i] = fused.get(i, 0.0) + w_dense / (20 + rank)
        # coverage does not change the order: read it for the k kept only (stable sort: ties keep fused order)
        return self._result(query, sorted(fused, key=lambda i: -fused[i])[:k], fused, False, match_query)

    def search_tasks(self, query: str, locality: str | None = None, k: int = 10,
                     dense: dict[int, float] | None = None, dense_text: str | None = None,
                     docs: list[str] | None = None) -> list[Hit]:
        if not self.tasks:
            return []
        loc_f = fold(locality) if locality else None
        rows = self._task_rows.get(loc_f, _NONE) if loc_f else None
        if docs:
            mask = np.isin(self.task_doc, docs)
            rows = np.flatnonzero(mask) if rows is None else rows[mask[rows]]
        order = _top(self.task_lexical.scores(query), 80, rows)  # filter first, rank second
        if dense is None:
            dense = self._dense_scores(dense_text, 100, locality) if dense_text else {}
        if not dense:  # lexical alone: the fused order is BM25's
            ids = order[:k]
            return self._result(query, ids, {i: 1.0 / (20 + rank) for rank, i in enumerate(ids)}, True)
        fused: dict[int, float] = {}
        for rank, i in enumerate(order):
            fused[i] = fused.get(i, 0.0) + 1.0 / (20 + rank)
        for rank, (ci, _) in enumerate(sorted(dense.items(), key=lambda kv: -kv[1])):
            for i in self.chunk_tasks.get(ci, ()):
                if (not loc_f or self.task_locality[i] == loc_f) and (not docs or self.task_doc[i] in docs):
                    fused[i] = fused.get(i, 0.0) + 0.7 / (20 + rank)
        return self._result(query, sorted(fused, key=lambda i: -fused[i])[:k], fused, True)

    # ---- units ----------------------------------------------------------------------------------
    def find_unit(self, question: str, locality: str | None = None) -> tuple[str, str] | None:
        """(unit name, key) named in the question, longest match first."""
        qf = " " + re.sub(r"[^a-z0-9 ]", " ", unit_key(question)) + " "
        qf = re.sub(r"\s+", " ", qf)
        best = None
        loc = fold(locality) if locality else None
        candidates = self._units_by_locality.get(loc, []) if locality else self._all_units
        heads = self._unit_heads.get(loc)
        if heads is not None:  # only the units whose first word the question has, in their table order
            candidates = [candidates[i] for i in sorted({i for w in set(qf.split()) for i in heads.get(w, ())})]
        for name, key in candidates:
            if f" {key} " in qf and (best is None or len(key) > len(best[1])):
                best = (name, key)
        if best is not None:
            return best
        # A shortened name ("Trung tâm Phục vụ HCC", "Phòng VHXH", "Sở NN và MT"): the unit's head noun and most
        # of its other words present in the question, in order.
        qtoks = qf.split()
        scored = []
        for name, key in candidates:
            ktoks = key.split()
            if len(ktoks) < 3 or ktoks[0] not in qtoks:
                continue
            pos, hit = qtoks.index(ktoks[0]), 1
            for t in ktoks[1:]:
                if t in qtoks[pos + 1 : pos + 1 + 2 * len(ktoks)]:
                    hit += 1
            share = hit / len(ktoks)
            if share >= 0.7 and hit >= 3:
                scored.append((share, len(ktoks), name, key))
        if scored:
            scored.sort(reverse=True)
            if len(scored) == 1 or scored[0][:2] != scored[1][:2]:
                return scored[0][2], scored[0][3]
        return None

    def tasks_led_by(self, key: str, locality: str | None = None) -> list[int]:
        """Indices of the tasks a unit (by key) leads, in one locality or in all, in task order."""
        by_loc = self._leads_by_key.get(key, {})
        if locality:
            return sorted(set(by_loc.get(fold(locality), [])))
        return sorted({i for ids in by_loc.values() for i in ids})
