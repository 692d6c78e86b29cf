"""Routing by evidence: every source proposes candidates with comparable features, one fitted scorer ranks them,
a calibrated bar decides between answering and an honest refusal.

Sources: task records, plan passages, procedure records, a unit's task list, a plan's metadata, a due list.
Features are the same for all (coverage of the question's content words, lexical rank, dense similarity when the
gate asked for it, agreement of place and plan, whether the source has the field asked, what kind of thing is
asked against what kind of source …). The weights and the bar live in `router_weights.json`, written by
`scripts/fit_router.py` from the dev sets; nothing here names a sample's wording.
"""
from __future__ import annotations

import json
import math
import operator
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .query import LIST_ASK, META_ASKS, PROC_ASKS, Query
from .types import Answer

FEATURES = [
    "bias", "src_task", "src_passage", "src_proc", "src_unit", "src_meta", "src_due",
    "cov", "cov_sq", "cov_rare", "cov_best", "lex_rel", "top1", "dense", "doc_named", "scoped",
    "ask_plan_src_plan", "ask_proc_src_proc", "no_ask",
    "field_ok", "field_missing", "name_score", "inferred", "few_tokens", "figure_number", "unit_unknown",
    "list_ask",
]
PLAN_ASKS = {"lead", "coord", "deadline", "unit_tasks", "due_list", "figure"} | META_ASKS
WEIGHTS_FILE = Path(__file__).with_name("router_weights.json")


@dataclass
class Candidate:
    source: str  # task | passage | proc | unit | meta | due
    place: str
    feats: dict[str, float]
    render: Callable[[], Answer]
    key: str = ""  # identity (task id, chunk id, procedure id …) for logs and fitting
    score: float = 0.0
    payload: object = None


def _query_features(q: Query) -> dict[str, float]:
    """The features that depend on the question only (computed once per question, not per candidate)."""
    cached = q.__dict__.get("_qf")
    if cached is None:
        cached = {
            "ask_plan": float(any(a in PLAN_ASKS for a in q.asks)),
            "ask_proc": float(any(a in PROC_ASKS for a in q.asks)),
            "no_ask": float(not q.asks),
            "few_tokens": float(len(set(q.tokens)) <= 2),
            "unit_unknown": float(q.unit_mentioned and q.unit is None),
            "list_ask": float(bool(LIST_ASK.search(q.folded))),
        }
        q.__dict__["_qf"] = cached
    return cached


def base_features(q: Query, source: str) -> dict[str, float]:
    plan_src = source in ("task", "passage", "unit", "meta", "due")
    qf = _query_features(q)
    ask_plan, ask_proc = qf["ask_plan"], qf["ask_proc"]
    f = dict.fromkeys(FEATURES, 0.0)
    f["bias"] = 1.0
    f[f"src_{source}"] = 1.0
    f["ask_plan_src_plan"] = float(ask_plan and plan_src)
    f["ask_proc_src_proc"] = float(ask_proc and source == "proc")
    f["ask_proc_src_plan"] = float(ask_proc and plan_src)
    f["ask_plan_src_proc"] = float(ask_plan and source == "proc")
    f["no_ask"] = qf["no_ask"]
    f["few_tokens"] = qf["few_tokens"]
    # the question names a unit the documents in its place do not have ("Phòng Tư pháp" where there is none)
    f["unit_unknown"] = qf["unit_unknown"]
    f["list_ask"] = qf["list_ask"]
    return f


class _Weights(dict):
    """The scorer's weights with 0.0 for a feature they do not name."""

    def __init__(self, weights: dict[str, float]) -> None:
        super().__init__(weights)
        self.source = weights

    def __missing__(self, key: str) -> float:
        return 0.0


@dataclass
class Scorer:
    weights: dict[str, float] = field(default_factory=dict)
    threshold: float = 0.5
    margin: float = 0.05  # two candidates closer than this from different places: offer a choice
    gate: float = 0.7  # embed the question when the best lexical coverage is below this
    meta: dict = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = WEIGHTS_FILE) -> "Scorer":
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(weights=data["weights"], threshold=data["threshold"], margin=data.get("margin", 0.05),
                       gate=data.get("gate", 0.7), meta=data.get("meta", {}))
        return cls(weights=dict(DEFAULT_WEIGHTS), threshold=0.5)

    def score(self, feats: dict[str, float]) -> float:
        # the same products summed in the same order as sum(w.get(k, 0) * v for k, v in feats.items()), in C
        w = self.__dict__.get("_w")
        if w is None or w.source is not self.weights:
            w = self.__dict__["_w"] = _Weights(self.weights)
        z = sum(map(operator.mul, map(w.__getitem__, feats), feats.values()))
        return 1.0 / (1.0 + math.exp(-max(min(z, 30), -30)))

    def rank(self, cands: list[Candidate]) -> list[Candidate]:
        for c in cands:
            c.score = self.score(c.feats)
        return sorted(cands, key=lambda c: -c.score)


# Hand-set starting point (used only until scripts/fit_router.py has written router_weights.json).
DEFAULT_WEIGHTS = {
    "bias": -4.0, "cov": 5.0, "cov_sq": 1.0, "lex_rel": 0.5, "top1": 0.5, "doc_named": 0.5, "scoped": 0.5,
    "ask_plan_src_plan": 1.0, "ask_proc_src_proc": 1.5, "ask_proc_src_plan": -1.0, "ask_plan_src_proc": -2.0,
    "field_ok": 1.0, "field_missing": -1.0, "name_score": 2.0, "src_unit": 3.0, "src_meta": 3.5, "src_due": 3.0,
    "few_tokens": -0.5, "figure_number": 0.5, "src_passage": -0.5,
}
