"""Senders for proactive messages (reminders, notifications): the reminders module's `Sender` protocol,
`async send(channel, chat_id, text) -> None`, raising `SendError(retryable, blocked, retry_after)` on failure.
The console sender and the per-channel router (MultiSender) are the reminders module's own.

Each sender formats for its platform (Telegram: HTML-escaped, split under 4096; Zalo: plain, split under 2000)
and retries transient failures itself before giving up with a retryable SendError.
"""
from __future__ import annotations

from typing import Any

from handlers.conversation import Outgoing

from bot.reminders import ConsoleSender, MultiSender, SendError  # noqa: F401 - re-exported for serve


def _send_error(message: str, *, retryable: bool, blocked: bool = False, retry_after: float | None = None):
    return SendError(retryable=retryable, blocked=blocked, retry_after=retry_after, message=message)


class TelegramSender:
    """Sends through a python-telegram-bot `Bot` (the running Application's, so its rate limiter applies)."""

    channel = "telegram"

    def __init__(self, bot: Any):
        self.bot = bot

    async def send(self, channel: str, chat_id: str, text: str) -> None:
        from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, NetworkError, RetryAfter

        from bot.telegram_app import retry_after_seconds, send_outgoing

        try:
            await send_outgoing(self.bot, Outgoing(str(chat_id), text))
        except RetryAfter as exc:
            raise _send_error(str(exc), retryable=True, retry_after=retry_after_seconds(exc)) from exc
        except Forbidden as exc:  # blocked by the user, or kicked from the group
            raise _send_error(str(exc), retryable=False, blocked=True) from exc
        except (BadRequest, ChatMigrated, InvalidToken) as exc:  # chat not found, bad text, revoked token
            raise _send_error(str(exc), retryable=False) from exc
        except NetworkError as exc:  # timeouts, 5xx, connection errors (after retries)
            raise _send_error(str(exc), retryable=True) from exc


class ZaloSender:
    """Sends through a `bot.zalo.ZaloClient` (which retries 429/5xx/timeouts with backoff)."""

    channel = "zalo"

    def __init__(self, client: Any):
        self.client = client

    async def send(self, channel: str, chat_id: str, text: str) -> None:
        import httpx

        from bot.zalo import ZaloError
        from handlers.formatting import ZALO, render

        try:
            for piece in render(text, ZALO):
                await self.client.send_message(str(chat_id), piece)
        except ZaloError as exc:
            if exc.error_code == 429:
                raise _send_error(str(exc), retryable=True, retry_after=60.0) from exc
            if exc.retryable:
                raise _send_error(str(exc), retryable=True) from exc
            # Zalo documents no "blocked" error; 403 is the closest (Forbidden)
            raise _send_error(str(exc), retryable=False, blocked=exc.error_code == 403) from exc
        except httpx.TransportError as exc:
            raise _send_error(str(exc), retryable=True) from exc
