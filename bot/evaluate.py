"""Gold-file evaluation in the format of shared/eval/dev.jsonl (fold case, diacritics, dash spacing)."""
from __future__ import annotations

import json
import re
from pathlib import Path

from index.textnorm import fold


def fold_for_match(text: str) -> str:
    f = fold(text)
    return re.sub(r"\s*-\s*", " - ", f)


def judge(item: dict, answer) -> bool:
    if item.get("found") is False:
        return not answer.found
    if not answer.found:
        return False
    text = fold_for_match(answer.text)
    if "all_of" in item and not all(fold_for_match(w) in text for w in item["all_of"]):
        return False
    if "any_of" in item and not any(fold_for_match(w) in text for w in item["any_of"]):
        return False
    if "none_of" in item and any(fold_for_match(w) in text for w in item["none_of"]):
        return False
    if "min_of" in item:
        n, words = item["min_of"]
        if sum(1 for w in words if fold_for_match(w) in text) < n:
            return False
    return True


def load_gold(path: Path) -> list[dict]:
    return [json.loads(l) for l in Path(path).read_text(encoding="utf-8").splitlines() if l.strip()]


def run_eval(answerer, path: Path, verbose: bool = False) -> dict:
    items = load_gold(path)
    per_kind: dict[str, list[int]] = {}
    failures = []
    latencies = []
    for it in items:
        ans = answerer.ask(it["q"])
        latencies.append(ans.latency_ms)
        ok = judge(it, ans)
        per_kind.setdefault(it.get("kind", "?"), [0, 0])
        per_kind[it.get("kind", "?")][0] += int(ok)
        per_kind[it.get("kind", "?")][1] += 1
        if not ok:
            failures.append({"id": it.get("id"), "q": it["q"], "expected": it.get("answer"), "got": ans.text[:400],
                             "found": ans.found, "intent": ans.intent})
    total_ok = sum(v[0] for v in per_kind.values())
    return {"total": len(items), "correct": total_ok, "accuracy": total_ok / max(len(items), 1),
            "per_kind": per_kind, "failures": failures, "latencies": latencies}
