"""The console chat on a real terminal (pexpect pty, screen read with the pyte terminal emulator): arrow keys
edit the line, Up recalls the last question (history file in the data dir), and log lines written to stderr
while the prompt is up are printed above it, never inside the prompt or an answer."""
from __future__ import annotations

import sys
import time

import pexpect
import pyte

from conftest_channels import CORPUS, LEAD_UNIT, ROOT, WHO_LEADS, shared_index  # noqa: F401

ROWS, COLS = 60, 200
LEFT, UP = "\x1b[D", "\x1b[A"


class Terminal:
    def __init__(self, child: pexpect.spawn):
        self.child = child
        self.screen = pyte.Screen(COLS, ROWS)
        self.stream = pyte.Stream(self.screen)

    def pump(self, seconds: float = 0.1) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                self.stream.feed(self.child.read_nonblocking(65536, timeout=0.05))
            except pexpect.TIMEOUT:
                pass

    def lines(self) -> list[str]:
        return [line.rstrip() for line in self.screen.display]

    def wait_for(self, predicate, timeout: float = 60.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while not predicate(self.lines()):
            assert time.monotonic() < deadline, "\n".join(self.lines())
            self.pump(0.2)
        return self.lines()


def test_console_line_editing_history_and_logs_above_the_prompt(index_copy):
    data = index_copy
    child = pexpect.spawn(sys.executable, [str(ROOT / "tests" / "console_harness.py"), str(CORPUS), str(data)],
                          dimensions=(ROWS, COLS), encoding="utf-8", cwd=str(ROOT))
    term = Terminal(child)
    try:
        term.wait_for(lambda ls: any(line.startswith("Bạn>") for line in ls))
        term.wait_for(lambda ls: any("LOGMARK 3" in line for line in ls))  # logs flow while the prompt waits
        # type the question without "quy ", go back over "định?" with the Left arrow, insert it
        broken = WHO_LEADS.replace("quy định", "định")
        assert broken != WHO_LEADS
        child.send(broken)
        term.wait_for(lambda ls: f"Bạn> {broken}" in ls, timeout=30)
        term.pump(0.6)  # log lines arrive while the half-typed line is on screen
        child.send(LEFT * len("định?"))
        child.send("quy ")
        lines = term.wait_for(lambda ls: f"Bạn> {WHO_LEADS}" in ls, timeout=30)
        assert not [line for line in lines if line.startswith("Bạn>") and "LOGMARK" in line]
        child.send("\r")
        # the answer came for the edited question (a new prompt follows it), and no log line is inside the
        # prompt or the answer
        def answered(ls: list[str]) -> bool:
            bot = [i for i, line in enumerate(ls) if line.startswith("Bot> ")]
            return bool(bot) and any(line.startswith("Bạn>") for line in ls[bot[-1]:])

        lines = term.wait_for(answered)
        first = next(i for i, line in enumerate(lines) if line.startswith("Bot> "))
        answer = "".join(line for line in lines[first:] if "LOGMARK" not in line and not line.startswith("Bạn>"))
        assert LEAD_UNIT.replace(" ", "") in answer.replace(" ", ""), lines
        for line in lines:
            if "LOGMARK" in line:
                assert " WARNING bot.noise: LOGMARK " in line and "Bạn>" not in line and "Bot>" not in line, line
        # Up recalls the question from the history file
        child.send(UP)
        term.wait_for(lambda ls: [line for line in ls if line.startswith("Bạn>")][-1:] == [f"Bạn> {WHO_LEADS}"],
                      timeout=30)
        child.send("\x15")  # Ctrl-U clears the line
        child.send("/thoat\r")
        child.expect(pexpect.EOF, timeout=20)
    finally:
        if child.isalive():
            child.terminate(force=True)
    assert WHO_LEADS in (data / "console_history").read_text(encoding="utf-8")
