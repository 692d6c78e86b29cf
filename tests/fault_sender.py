"""Child process of the kill test (tests/test_reminders_faults.py).

Runs the real scheduler (``Reminders.tick``) with a fake clock over a stretch of schedule, sending through
``FileLogSender``: the fake platform, an append-only log written (and fsync'd) when a message is accepted —
before the bot commits 'sent'. The last completed tick is kept in a progress file, so a process started after
a SIGKILL resumes at the tick that was interrupted.

    python tests/fault_sender.py DB LOG PROGRESS START_ISO END_ISO STEP_MINUTES LATENCY_SECONDS
"""
from __future__ import annotations

import asyncio
import collections
import json
import os
import sys
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from bot.reminders import ReminderConfig, Reminders  # noqa: E402
from reminders_fixture import FileLogSender, RecordingSender, ticks  # noqa: E402


def schedule(start: str, end: str, step_minutes: float) -> list[datetime]:
    return ticks(datetime.fromisoformat(start), datetime.fromisoformat(end), timedelta(minutes=float(step_minutes)),
                 extra_local_times=[(8, 0), (8, 1)])


def reference_sends(db_path: Path, start: str, end: str, step_minutes: float) -> collections.Counter:
    """(chat, text) of every message the schedule sends in one run without faults: the ground truth."""
    rem = Reminders(db_path, config=ReminderConfig())
    sender = RecordingSender(lambda: None)

    async def go():
        for t in schedule(start, end, step_minutes):
            await rem.tick(sender, t)

    asyncio.run(go())
    return collections.Counter((chat, text) for _, _, chat, text in sender.sent)


def platform_log(path: Path) -> collections.Counter:
    """(chat, text) of every message the fake platform accepted, counted (repeats are duplicates)."""
    c = collections.Counter()
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                j = json.loads(line)
                c[(j["chat_id"], j["text"])] += 1
    return c


def main(argv: list[str]) -> int:
    db, log, progress, start, end, step, latency = argv
    done_until = Path(progress).read_text().strip() if Path(progress).exists() else ""
    rem = Reminders(db, config=ReminderConfig())
    sender = FileLogSender(log, latency=float(latency))

    async def go():
        for t in schedule(start, end, float(step)):
            if done_until and t.isoformat() <= done_until:
                continue
            await rem.tick(sender, t)
            tmp = f"{progress}.tmp"
            with open(tmp, "w") as f:
                f.write(t.isoformat())
            os.replace(tmp, progress)

    print("ready", flush=True)  # imports done: the parent's kill timer starts now
    asyncio.run(go())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
