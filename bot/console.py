"""Console chat on the same conversation core (`python -m bot chat`, and `serve` when no channel has a token).

The console user is the local operator and has the admin role (so /thongke, /duyet, /reindex work). Choices are
numbered: answer "1", "2"... Type /thoat (or /quit, Ctrl-D) to leave.
"""
from __future__ import annotations

import asyncio
import sys
import threading
from typing import TextIO

from handlers.conversation import Conversation, Incoming
from handlers.formatting import CONSOLE, render

QUIT = {"/thoat", "/quit", "/exit", "thoat", "exit", "quit"}
WELCOME = "Trò chuyện với trợ lý CCHC trên console. Gõ câu hỏi, /help để xem lệnh, /thoat để thoát."


def _start_reader(stdin: TextIO, loop: asyncio.AbstractEventLoop) -> asyncio.Queue:
    """Lines from `stdin` on a daemon thread (a blocked readline must never keep the process alive); "" = EOF."""
    queue: asyncio.Queue = asyncio.Queue()

    def pump() -> None:
        while True:
            try:
                line = stdin.readline()
            except (OSError, ValueError):
                line = ""
            loop.call_soon_threadsafe(queue.put_nowait, line)
            if not line:
                return

    threading.Thread(target=pump, name="console-stdin", daemon=True).start()
    return queue


async def chat(conversation: Conversation, stdin: TextIO | None = None, stdout: TextIO | None = None, *,
               user_id: str = "operator", display_name: str = "Quản trị viên", stop: asyncio.Event | None = None) -> None:
    """Read lines, answer each, until EOF, a quit word, or `stop` is set."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    interactive = hasattr(stdin, "isatty") and stdin.isatty()
    lines = _start_reader(stdin, asyncio.get_running_loop())
    stop = stop or asyncio.Event()

    def write(text: str) -> None:
        stdout.write(text)
        stdout.flush()

    write(WELCOME + "\n")
    while not stop.is_set():
        if interactive:
            write("\nBạn> ")
        read = asyncio.ensure_future(lines.get())
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait({read, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if not read.done():
            read.cancel()
            break
        line = read.result()
        if not line:  # EOF
            break
        text = line.rstrip("\r\n")
        if text.strip().lower() in QUIT:
            break
        if not text.strip():
            continue
        for out in await conversation.handle(Incoming("console", user_id, user_id, display_name, text)):
            for piece in render(out.text, CONSOLE):
                write(f"\nBot> {piece}\n")


async def run_console_async(settings, conversation: Conversation | None = None, stdin: TextIO | None = None,
                            stdout: TextIO | None = None) -> None:
    from bot.serve import build_conversation

    own = conversation is None
    conversation = conversation or await build_conversation(settings)
    try:
        await chat(conversation, stdin, stdout)
    finally:
        if own:
            conversation.close()


def run_console(settings) -> int:
    """`python -m bot chat`."""
    try:
        asyncio.run(run_console_async(settings))
    except KeyboardInterrupt:
        pass
    return 0
