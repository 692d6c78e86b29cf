"""Start and stop the Telegram Bot API emulator (scripts/telegram-emulator.mjs, telegram-test-api from
node_modules): used by the end-to-end tests and the chat-throughput benchmark alike."""
from __future__ import annotations

import shutil
import subprocess
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "telegram-emulator.mjs"


def missing() -> str | None:
    """Why the emulator cannot run here, or None."""
    if not shutil.which("node"):
        return "Node.js is not installed"
    if not SCRIPT.exists() or not (ROOT / "node_modules" / "telegram-test-api").is_dir():
        return "the emulator launcher or node_modules/telegram-test-api is missing (run `npm ci`; make test does)"
    return None


@contextmanager
def running_emulator(start_timeout: float = 30.0) -> Iterator[int]:
    """The emulator on a free port, for the length of the block: yields the port. RuntimeError when it cannot
    start."""
    reason = missing()
    if reason:
        raise RuntimeError(reason)
    proc = subprocess.Popen([shutil.which("node"), str(SCRIPT), "--port", "0"], cwd=ROOT, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    line: list[str] = []
    # The launcher prints "PORT <n>" once it listens; read it on a thread so a hung start cannot block us.
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(start_timeout)
    if not line or not line[0].startswith("PORT "):
        proc.kill()
        raise RuntimeError(f"the emulator did not start: {line!r}")
    try:
        yield int(line[0].split()[1])
    finally:
        proc.stdin.close()  # the launcher exits when stdin closes
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
