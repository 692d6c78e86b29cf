"""Senders for proactive messages (reminders, notifications): the reminders module's `Sender` protocol,
`async send(channel, chat_id, text) -> None`, raising `SendError(retryable, blocked, retry_after)` on failure.
The console sender and the per-channel router (MultiSender) are the reminders module's own.

Each sender formats for its platform (Telegram: HTML-escaped, split under 4096; Zalo: plain, split under 2000)
and makes ONE attempt (bot/send_policy.py): the reminders' outbox is the only retry layer, and it records each
attempt before the send. A failure whose outcome is unknown (a timeout after sending) is a retryable SendError
with `unknown=True`.
"""
from __future__ import annotations

from typing import Any

from handlers.conversation import Outgoing

from bot.reminders import ConsoleSender, MultiSender, SendError  # noqa: F401 - re-exported for serve


def _send_error(message: str, *, retryable: bool, blocked: bool = False, retry_after: float | None = None,
                unknown: bool = False):
    return SendError(retryable=retryable, blocked=blocked, retry_after=retry_after, message=message, unknown=unknown)


class TelegramSender:
    """Sends through a python-telegram-bot `Bot` (the running Application's, so its rate limiter applies)."""

    channel = "telegram"

    def __init__(self, bot: Any):
        self.bot = bot

    async def send(self, channel: str, chat_id: str, text: str) -> None:
        from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, NetworkError, RetryAfter

        from bot.send_policy import ONE_ATTEMPT, UNKNOWN
        from bot.telegram_app import retry_after_seconds, send_outcome, send_outgoing

        try:
            await send_outgoing(self.bot, Outgoing(str(chat_id), text), policy=ONE_ATTEMPT)
        except RetryAfter as exc:
            raise _send_error(str(exc), retryable=True, retry_after=retry_after_seconds(exc)) from exc
        except Forbidden as exc:  # blocked by the user, or kicked from the group
            raise _send_error(str(exc), retryable=False, blocked=True) from exc
        except (BadRequest, ChatMigrated, InvalidToken) as exc:  # chat not found, bad text, revoked token
            raise _send_error(str(exc), retryable=False) from exc
        except NetworkError as exc:  # timeouts, 5xx, connection errors
            raise _send_error(str(exc), retryable=True, unknown=send_outcome(exc) == UNKNOWN) from exc


class ZaloSender:
    """Sends through a `bot.zalo.ZaloClient`, one attempt (the outbox retries); the quota pause is respected."""

    channel = "zalo"

    def __init__(self, client: Any):
        self.client = client

    async def send(self, channel: str, chat_id: str, text: str) -> None:
        import time

        import httpx

        from bot.send_policy import UNKNOWN, transport_outcome
        from bot.zalo import ZaloError, ZaloQuotaExceeded
        from handlers.formatting import ZALO, render

        try:
            for piece in render(text, ZALO):
                await self.client.send_message(str(chat_id), piece, retries=0)
        except ZaloQuotaExceeded as exc:  # the monthly quota: wait for the next probe, do not hammer
            now = getattr(self.client, "clock", time.time)()
            raise _send_error(str(exc), retryable=True, retry_after=max(60.0, exc.until - now)) from exc
        except ZaloError as exc:
            if exc.blocked:
                raise _send_error(str(exc), retryable=False, blocked=True) from exc
            # 5xx, and 403 without a word of blocking (Zalo lists 403 as a server error): try again later
            raise _send_error(str(exc), retryable=exc.retryable or exc.error_code == 403) from exc
        except httpx.TransportError as exc:
            raise _send_error(str(exc), retryable=True, unknown=transport_outcome(exc) == UNKNOWN) from exc
