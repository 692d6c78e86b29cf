"""SIGKILL fault benchmark of the reminder sender (not run in CI; tests/test_reminders_faults.py is the short version).

The real scheduler (``Reminders.tick``) runs over five months of a plan's schedule in a child process
(tests/fault_sender.py) and sends through a fake platform that appends each accepted message to a log (fsync'd)
before the bot commits 'sent'. The child is SIGKILLed at random points and restarted, until at least ``--kills``
kills happened; each schedule round is then compared with a run without faults:

- lost: expected messages missing from the platform's log (must be 0);
- duplicates: messages the platform got more than expected, as a share of all messages sent (at most one per
  kill: a kill between the platform's acceptance and the commit of 'sent').

    python -m bench.fault_kill [--kills 220] [--seed 20261123] [--latency 0.002] [--json out.json]
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import random
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
CHILD = TESTS / "fault_sender.py"
sys.path[:0] = [str(ROOT), str(TESTS)]

from bot.reminders import ReminderConfig, Reminders  # noqa: E402
from fault_sender import platform_log, reference_sends  # noqa: E402
from reminders_fixture import build_db, local  # noqa: E402

START, END = local(2026, 2, 20).isoformat(), local(2026, 7, 20).isoformat()
STEP_MINUTES = 360



def run(kills_wanted: int, seed: int, latency: float, work: Path) -> dict:
    seed_db = work / "seed.db"
    build_db(seed_db)
    ref_db = work / "ref.db"
    shutil.copy(seed_db, ref_db)
    expected = reference_sends(ref_db, START, END, STEP_MINUTES)
    rng = random.Random(seed)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(TESTS)])}
    t = {"runs": 0, "kills": 0, "kills_mid_delivery": 0, "rounds": 0, "expected": 0, "delivered": 0, "lost": 0,
         "duplicates": 0, "rows_resent_after_kill": 0}
    started = time.monotonic()
    while t["kills"] < kills_wanted:
        t["rounds"] += 1
        round_dir = work / f"round{t['rounds']}"
        round_dir.mkdir()
        db, log, progress = round_dir / "cchc.db", round_dir / "platform.log", round_dir / "progress"
        shutil.copy(seed_db, db)
        args = [sys.executable, str(CHILD), str(db), str(log), str(progress), START, END, str(STEP_MINUTES),
                str(latency)]
        while True:  # kill at random points until one run completes the schedule
            before = sum(platform_log(log).values())
            proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            ready, _, _ = select.select([proc.stdout], [], [], 120)
            if not ready or proc.stdout.readline().strip() != b"ready":
                raise RuntimeError(proc.stderr.read().decode())
            time.sleep(rng.uniform(0.0, 0.3))
            t["runs"] += 1
            if proc.poll() is None and t["kills"] < kills_wanted:
                proc.kill()  # SIGKILL
                proc.wait()
                t["kills"] += 1
                if sum(platform_log(log).values()) > before:
                    t["kills_mid_delivery"] += 1
                continue
            out, err = proc.communicate(timeout=300)
            if proc.returncode != 0:
                raise RuntimeError(err.decode())
            break
        got = platform_log(log)
        t["lost"] += sum((expected - got).values())
        t["duplicates"] += sum((got - expected).values())
        t["expected"] += sum(expected.values())
        t["delivered"] += sum(got.values())
        rem = Reminders(db, config=ReminderConfig())
        rows = rem.outbox()
        statuses = collections.Counter(r["status"] for r in rows)
        if set(statuses) - {"sent"}:
            raise AssertionError(f"round {t['rounds']}: rows left {statuses}")
        t["rows_resent_after_kill"] += sum(1 for r in rows if (r["attempts"] or 0) > 1)
        rem.db.conn.close()
        print(f"round {t['rounds']}: {t['kills']} kills so far, lost {t['lost']}, duplicates {t['duplicates']}",
              file=sys.stderr, flush=True)
    t["seconds"] = round(time.monotonic() - started, 1)
    t["duplicate_share_of_sends"] = round(t["duplicates"] / t["delivered"], 5) if t["delivered"] else None
    t["duplicates_per_kill"] = round(t["duplicates"] / t["kills"], 4) if t["kills"] else None
    t["latency_s"] = latency
    return t


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.fault_kill")
    p.add_argument("--kills", type=int, default=220)
    p.add_argument("--seed", type=int, default=20261123)
    p.add_argument("--latency", type=float, default=0.002, help="seconds on the wire, each way")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="fault-kill-") as tmp:
        result = run(args.kills, args.seed, args.latency, Path(tmp))
    print(f"\n{result['kills']} SIGKILLs ({result['kills_mid_delivery']} during delivery) over {result['rounds']} "
          f"schedule rounds, {result['runs']} runs, {result['seconds']} s")
    print(f"expected {result['expected']} messages, the platform got {result['delivered']}: lost {result['lost']}, "
          f"duplicates {result['duplicates']} ({100 * (result['duplicate_share_of_sends'] or 0):.2f}% of sends, "
          f"{result['duplicates_per_kill']} per kill); rows resent after a kill: {result['rows_resent_after_kill']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0 if result["lost"] == 0 and result["duplicates"] <= result["kills"] else 1


if __name__ == "__main__":
    sys.exit(main())
