"""Per-user token bucket: `rate` messages per second on average, bursts of up to `burst`."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable


@dataclass
class _Bucket:
    tokens: float
    stamp: float
    warned: bool = False  # the user was told once in this limited stretch


class RateLimiter:
    """`check(key)` says whether a message may be handled now.

    The verdict is "ok", "limited" (first refusal: tell the user once) or "drop" (further refusals while still
    limited: stay silent, so a flood does not turn into a flood of replies that hits the platform's own limits).
    """

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic, max_keys: int = 10_000):
        self.rate = max(rate, 0.0)
        self.burst = max(int(burst), 1)
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}

    def check(self, key: str) -> str:
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._evict(now)
            bucket = self._buckets[key] = _Bucket(tokens=float(self.burst), stamp=now)
        else:
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.stamp) * self.rate)
            bucket.stamp = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            bucket.warned = False
            return "ok"
        if bucket.warned:
            return "drop"
        bucket.warned = True
        return "limited"

    def retry_after(self, key: str) -> float:
        """Seconds until the next message of `key` would be accepted."""
        bucket = self._buckets.get(key)
        if bucket is None or bucket.tokens >= 1.0:
            return 0.0
        if self.rate <= 0:
            return float("inf")
        return (1.0 - bucket.tokens) / self.rate

    def _evict(self, now: float) -> None:
        """Forget buckets that are full again (they behave exactly like new ones)."""
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.stamp) * self.rate >= self.burst]
        for k in full:
            del self._buckets[k]
        if len(self._buckets) >= self.max_keys:  # still full: drop the oldest half
            for k, _ in sorted(self._buckets.items(), key=lambda kv: kv[1].stamp)[: self.max_keys // 2]:
                del self._buckets[k]
