"""Fit the router's scorer (handlers/router_weights.json) on the dev sets.

For every dev question, every source's candidates are generated and rendered, and each rendered answer is
judged against the gold with the same judge `python -m bot eval` uses: that is the label. A logistic model over
the candidates' features is fitted (L2, gradient descent; numpy only), then the answer bar is chosen to maximise
question-level accuracy (an out-of-scope question is right only when no candidate clears the bar). The script
also prints leave-one-set-out accuracy, so the fit is never reported on the questions it was fitted on.

    python scripts/fit_router.py [--shared ../shared] [--out handlers/router_weights.json]
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.evaluate import judge, load_gold  # noqa: E402
from handlers.router import FEATURES, Scorer  # noqa: E402

TODAY = date(2026, 11, 30)  # fixed, so due lists in the gold do not drift


def sets(shared: Path) -> list[tuple[str, Path, list[Path]]]:
    """(name, gold file, corpus files) of every dev set."""
    real = [p for sub in ("plans", "tthc", "national") for p in sorted((shared / "real" / sub).glob("*"))]
    sample = sorted(p for p in (ROOT / "corpus").rglob("*") if p.is_file())
    an_phu = [shared / "eval" / "tthc" / "tthc-phuong-an-phu.docx"]
    train = ROOT / "tests" / "eval" / "train_router.jsonl"
    out = [
        ("dev", shared / "eval" / "dev.jsonl", sample),
        ("dev_tthc", shared / "eval" / "dev_tthc.jsonl", sample + an_phu),
        ("dev_real", shared / "eval" / "dev_real.jsonl", real),
    ]
    if train.exists():  # the training set written for the router: each line says which corpus answers it
        out += [("train_samples", (train, "samples"), sample + an_phu), ("train_real", (train, "real"), real)]
    return out


def build(files: list[Path], work: Path):
    from handlers.procedures import ProcedureAnswerer
    from handlers.qa import Answerer
    from index.pipeline import build_index
    from index.procedures import load_procedures
    from index.search import SearchIndex

    corpus = work / "corpus"
    corpus.mkdir(parents=True)
    for f in files:
        shutil.copy(f, corpus / f.name)
    data = work / "data"
    build_index(corpus, data, embedder=None, progress=False)
    procs = load_procedures(data / "cchc.db")
    return Answerer(SearchIndex(data), procedures=ProcedureAnswerer(procs) if procs else None)


def collect(shared: Path) -> list[dict]:
    """One row per question: its set, whether it is out of scope, and (features, label) per candidate."""
    rows = []
    for name, gold, files in sets(shared):
        with tempfile.TemporaryDirectory() as tmp:
            ans = build(files, Path(tmp))
            items = load_gold(gold[0]) if isinstance(gold, tuple) else load_gold(gold)
            if isinstance(gold, tuple):
                items = [i for i in items if i.get("corpus") == gold[1]]
            for item in items:
                q = ans.analyze(item["q"], today=TODAY)
                if q.smalltalk:
                    continue
                if q.parts:  # several questions: each part is judged against the whole gold (lenient), skip
                    continue
                cands = ans.candidates(q, TODAY)
                feats, labels = [], []
                for c in cands:
                    try:
                        a = c.render()
                    except Exception:  # a candidate that cannot render is a wrong one
                        labels.append(0)
                        feats.append([c.feats.get(k, 0.0) for k in FEATURES])
                        continue
                    ok = a.found and judge(item, a) and item.get("found", True) is not False
                    labels.append(int(ok))
                    feats.append([c.feats.get(k, 0.0) for k in FEATURES])
                rows.append({"set": name, "id": item.get("id"), "oos": item.get("found") is False,
                             "X": feats, "y": labels})
    return rows


def fit(rows: list[dict], l2: float = 0.01, steps: int = 3000, lr: float = 0.05) -> np.ndarray:
    """Conditional logit over each question's candidates plus a 'refuse' option scored 0: the probability of
    the right outcome (a correct candidate, or refusing when the question is out of scope or no candidate is
    right) is maximised. At run time a candidate is answered when its score is above the refusal's, i.e. when
    sigmoid(w·x) > 0.5. Adam steps, L2 on all weights but the bias."""
    data = []
    for r in rows:
        X = np.array(r["X"], dtype=float).reshape(-1, len(FEATURES))
        y = np.array(r["y"], dtype=float)
        if not r["oos"] and not y.any():
            continue  # no candidate can answer it (a gap in extraction, not in ranking): it teaches nothing here
        target = np.r_[1.0, np.zeros(len(y))] if r["oos"] else np.r_[0.0, y]
        data.append((X, target))
    d = len(FEATURES)
    w = np.zeros(d)
    m = np.zeros(d)
    v = np.zeros(d)
    reg = np.r_[0.0, np.ones(d - 1)]
    for step in range(1, steps + 1):
        grad = l2 * reg * w
        for X, target in data:
            z = np.r_[0.0, X @ w] if len(X) else np.zeros(1)
            z = z - z.max()
            p = np.exp(z)
            p /= p.sum()
            q = p * target
            q /= q.sum()
            if len(X):
                grad += X.T @ (p[1:] - q[1:]) / len(data)
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad ** 2
        w -= lr * (m / (1 - 0.9 ** step)) / (np.sqrt(v / (1 - 0.999 ** step)) + 1e-8)
    return w


def decide(rows: list[dict], w: np.ndarray, tau: float) -> list[bool]:
    out = []
    for r in rows:
        if not r["X"]:
            out.append(r["oos"])
            continue
        s = 1 / (1 + np.exp(-np.clip(np.array(r["X"]) @ w, -30, 30)))
        i = int(np.argmax(s))
        if s[i] < tau:
            out.append(r["oos"])
        else:
            out.append(bool(r["y"][i]) and not r["oos"])
    return out


def best_tau(rows: list[dict], w: np.ndarray) -> tuple[float, float]:
    """The model's own bar is 0.5 (score above the refusal's); report the accuracy there."""
    return 0.5, float(np.mean(decide(rows, w, 0.5)))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--out", type=Path, default=ROOT / "handlers" / "router_weights.json")
    ap.add_argument("--cache", type=Path, help="reuse collected candidates (JSON) instead of rebuilding")
    args = ap.parse_args()
    t0 = time.time()
    if args.cache and args.cache.exists():
        rows = json.loads(args.cache.read_text())
    else:
        rows = collect(args.shared)
        if args.cache:
            args.cache.write_text(json.dumps(rows))
    print(f"{len(rows)} questions, {sum(len(r['y']) for r in rows)} candidates "
          f"({sum(sum(r['y']) for r in rows)} correct) in {time.time() - t0:.0f} s")
    # Leave one set out: fitted on the others, measured on it.
    for held in sorted({r["set"] for r in rows}):
        train = [r for r in rows if r["set"] != held]
        test = [r for r in rows if r["set"] == held]
        w = fit(train)
        tau, _ = best_tau(train, w)
        print(f"  held out {held:<9} accuracy {np.mean(decide(test, w, tau)):.3f} (bar {tau:.2f}, fitted on the others)")
    w = fit(rows)
    tau, acc = best_tau(rows, w)
    print(f"fitted on all: accuracy {acc:.3f} at bar {tau:.2f}")
    weights = {k: round(float(v), 4) for k, v in zip(FEATURES, w)}
    old = Scorer.load(args.out) if args.out.exists() else Scorer()
    args.out.write_text(json.dumps({
        "weights": weights, "threshold": round(tau, 3), "margin": old.margin, "gate": old.gate,
        "meta": {"fitted_on": [n for n, _, _ in sets(args.shared)], "questions": len(rows),
                 "train_accuracy": round(acc, 3), "script": "scripts/fit_router.py"},
    }, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    for k, v in sorted(weights.items(), key=lambda kv: -abs(kv[1])):
        print(f"  {k:<20} {v:+.3f}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
