"""Console chat on the same conversation core (`python -m bot chat`, and `serve` when no channel has a token).

The console user is the local operator and has the admin role (so /thongke, /duyet, /reindex work). Choices are
numbered: answer "1", "2"... Type /thoat (or /quit, Ctrl-D) to leave.

On a terminal the prompt is prompt_toolkit's: arrow keys, Home/End and Ctrl-A/E edit the line, Up/Down recall
earlier questions (kept in `<data_dir>/console_history`), and log lines (stderr handlers, the reminder scheduler's
console messages) are printed above the prompt instead of through it (`patch_stdout`). Piped input (tests,
`echo … | python -m bot chat`) is read line by line as before.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
from pathlib import Path
from typing import TextIO

from handlers.conversation import Conversation, Incoming
from handlers.formatting import CONSOLE, render
from handlers.sanitize import clean_text

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
    if stdin is None and stdout is None and _terminal():
        await chat_prompt(conversation, user_id=user_id, display_name=display_name, stop=stop)
        return
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
        text = clean_text(text, "console")  # stdin may decode bytes to lone surrogates (surrogateescape)
        for out in await conversation.handle(Incoming("console", user_id, user_id, display_name, text)):
            for piece in render(out.text, CONSOLE):
                write(f"\nBot> {piece}\n")


def _terminal() -> bool:
    try:
        import prompt_toolkit  # noqa: F401
    except ImportError:  # pragma: no cover - a dependency; plain lines still work
        return False
    return sys.stdin.isatty() and sys.stdout.isatty()


@contextlib.contextmanager
def _logs_above_prompt():
    """Point the stream handlers that write to the terminal at the patched stderr, so a log line is printed
    above the prompt (patch_stdout replaced sys.stdout/sys.stderr, but handlers kept the originals)."""
    moved = []
    terminal = {id(sys.__stderr__), id(sys.__stdout__)}
    for handler in logging.getLogger().handlers:
        if type(handler) is logging.StreamHandler and id(handler.stream) in terminal:
            moved.append((handler, handler.setStream(sys.stderr)))
    try:
        yield
    finally:
        for handler, old in moved:
            handler.setStream(old)


def history_path(conversation: Conversation) -> Path | None:
    settings = getattr(conversation, "settings", None)
    data_dir = getattr(settings, "data_dir", None)
    if data_dir is None:
        return None
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    return Path(data_dir) / "console_history"


async def chat_prompt(conversation: Conversation, *, user_id: str = "operator", display_name: str = "Quản trị viên",
                      stop: asyncio.Event | None = None) -> None:
    """The terminal chat: prompt_toolkit line editing and history, logs above the prompt."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory, InMemoryHistory
    from prompt_toolkit.patch_stdout import patch_stdout

    path = history_path(conversation)
    session = PromptSession(history=FileHistory(str(path)) if path else InMemoryHistory())
    stop = stop or asyncio.Event()
    with patch_stdout(raw=True), _logs_above_prompt():
        print(WELCOME, flush=True)
        while not stop.is_set():
            read = asyncio.ensure_future(session.prompt_async("Bạn> "))
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait({read, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if not read.done():
                read.cancel()
                with contextlib.suppress(asyncio.CancelledError, EOFError, KeyboardInterrupt):
                    await read
                break
            try:
                text = read.result()
            except EOFError:  # Ctrl-D
                break
            except KeyboardInterrupt:  # Ctrl-C clears the line, as in a shell
                continue
            if text.strip().lower() in QUIT:
                break
            if not text.strip():
                continue
            for out in await conversation.handle(Incoming("console", user_id, user_id, display_name, text)):
                for piece in render(out.text, CONSOLE):
                    print(f"Bot> {piece}\n", flush=True)


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
