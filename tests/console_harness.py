"""Runs the real console chat (bot.console.chat over a real Conversation and index) on a terminal, with a
background task logging a line every 0.2 s through the standard stderr handler, as the reminder scheduler or a
re-index would: tests/test_console_tty.py drives it with pexpect and reads the screen with pyte.

    python tests/console_harness.py CORPUS_DIR DATA_DIR
"""
from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.console import chat  # noqa: E402
from bot.serve import build_conversation  # noqa: E402
from bot.settings import Settings  # noqa: E402


async def main(corpus: str, data: str) -> None:
    settings = Settings(_env_file=None, BOT_CORPUS_DIR=corpus, BOT_DATA_DIR=data, TELEGRAM_BOT_TOKEN="",
                        ZALO_BOT_TOKEN="")
    conversation = await build_conversation(settings)

    async def noise() -> None:
        n = 0
        while True:
            await asyncio.sleep(0.2)
            n += 1
            logging.getLogger("bot.noise").warning("LOGMARK %d", n)

    task = asyncio.create_task(noise())
    try:
        await chat(conversation)
    finally:
        task.cancel()
        conversation.close()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    asyncio.run(main(sys.argv[1], sys.argv[2]))
