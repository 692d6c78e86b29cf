"""One retry policy for every message the bot sends, on every channel.

A failed send is one of:
- NOT_SENT: the platform surely did not deliver it (no connection could be made, no free connection, the platform
  answered with flood control or a server error). Safe to try again.
- UNKNOWN: the request may have reached the platform (a read/write timeout, a connection broken mid-request).
  Trying again may deliver the message twice.
- refused: the platform said no (bad request, blocked, forbidden): never retried.

Chat replies are retried in-process, only when NOT_SENT, at most `CHAT_REPLY.attempts` times in all, waiting at
most `max_wait` for one retry: an UNKNOWN outcome is logged and not repeated. Reminders make ONE attempt per
delivery pass (`ONE_ATTEMPT`): the outbox is their only retry layer (it records each attempt before the send).
Nothing else retries: python-telegram-bot's rate limiter only paces (max_retries=0) and the Zalo client only
retries what this module allows.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

NOT_SENT = "not_sent"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3  # tries in all, the first included
    base: float = 0.5  # first backoff, seconds; doubles
    max_wait: float = 30.0  # longest wait before one retry; asked to wait longer (flood control): give up

    def backoff(self, attempt: int) -> float:
        """Jittered exponential delay before retry number `attempt + 1`."""
        return min(self.max_wait, self.base * 2 ** attempt) * (0.5 + random.random() / 2)


CHAT_REPLY = RetryPolicy()
ONE_ATTEMPT = RetryPolicy(attempts=1)


def transport_outcome(exc: BaseException | None) -> str:
    """NOT_SENT or UNKNOWN for an exception of the HTTP layer (httpx), looked up along the exception's causes:
    a connection that was never made (connect error/timeout, pool timeout) sent nothing; anything else that broke
    a request in flight (read/write timeout, reset, protocol error) leaves the outcome unknown."""
    import httpx

    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
            return NOT_SENT
        if isinstance(exc, httpx.HTTPError):
            return UNKNOWN
        exc, seen = exc.__cause__, seen + 1
    return UNKNOWN
