"""Fault injection: the sender process is SIGKILLed at random points, over many runs, and restarted.

Ground truth is the fake platform's append-only log (written when a message is accepted, before the bot
commits). Compared with a reference run without faults: nothing may be lost; duplicates are counted and
reported (the only possible one: a kill between the platform's acceptance and the commit of 'sent').
"""
from __future__ import annotations

import collections
import os
import random
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bot.reminders import ReminderConfig, Reminders
from fault_sender import platform_log, reference_sends
from reminders_fixture import build_db, local

HERE = Path(__file__).resolve().parent
CHILD = HERE / "fault_sender.py"
START, END = local(2026, 2, 20).isoformat(), local(2026, 7, 20).isoformat()
STEP_MINUTES = 360
LATENCY = float(os.environ.get("REMINDER_FAULT_LATENCY", "0.002"))  # seconds on the wire, each way
RUNS = int(os.environ.get("REMINDER_FAULT_RUNS", "30"))



def test_sigkill_at_random_points_loses_nothing(tmp_path):
    seed_db = tmp_path / "seed.db"
    build_db(seed_db)
    ref_db = tmp_path / "ref.db"
    shutil.copy(seed_db, ref_db)
    expected = reference_sends(ref_db, START, END, STEP_MINUTES)
    assert sum(expected.values()) > 200 and max(expected.values()) == 1

    rng = random.Random(int(os.environ.get("REMINDER_FAULT_SEED", "20261123")))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parent), str(HERE)])}
    totals = {"runs": 0, "kills": 0, "kills_mid_delivery": 0, "rounds": 0}
    lost_total = dup_total = delivered_total = 0
    round_no = 0
    while totals["runs"] < RUNS:
        round_no += 1
        work = tmp_path / f"round{round_no}"
        work.mkdir()
        db, log, progress = work / "cchc.db", work / "platform.log", work / "progress"
        shutil.copy(seed_db, db)
        args = [sys.executable, str(CHILD), str(db), str(log), str(progress), START, END, str(STEP_MINUTES),
                str(LATENCY)]
        finished = False
        while totals["runs"] < RUNS:
            before = sum(platform_log(log).values())
            proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            ready, _, _ = select.select([proc.stdout], [], [], 60)
            assert ready and proc.stdout.readline().strip() == b"ready", proc.stderr.read().decode()
            time.sleep(rng.uniform(0.0, 0.3))  # a random point of the run: enqueue, send, commit, progress
            totals["runs"] += 1
            if proc.poll() is None:
                proc.kill()  # SIGKILL
                proc.wait()
                totals["kills"] += 1
                if sum(platform_log(log).values()) > before:
                    totals["kills_mid_delivery"] += 1
            else:
                assert proc.returncode == 0, proc.stderr.read().decode()
                finished = True
                break
        # restart without faults until the schedule is complete
        if not finished:
            out = subprocess.run(args, env=env, capture_output=True, timeout=120)
            assert out.returncode == 0, out.stderr.decode()
        got = platform_log(log)
        lost = sum((expected - got).values())
        extra = sum((got - expected).values())
        dup_total += extra
        lost_total += lost
        delivered_total += sum(expected.values())
        totals["rounds"] += 1
        # the bot's own record agrees: nothing left pending or failed
        statuses = collections.Counter(r["status"] for r in Reminders(db, config=ReminderConfig()).outbox())
        assert set(statuses) <= {"sent"}, statuses
        assert lost == 0, f"round {round_no}: {lost} reminders lost"
        assert set(got) == set(expected)

    print(f"\nfault injection: {totals['runs']} runs, {totals['kills']} SIGKILLs "
          f"({totals['kills_mid_delivery']} during delivery), {totals['rounds']} schedule rounds, "
          f"{delivered_total} reminders expected, lost {lost_total}, duplicated {dup_total}")
    assert lost_total == 0
    assert dup_total <= totals["kills"]  # at most one per kill: the accepted-but-not-committed message
