"""What is currently broken in the running bot (the reminder scheduler stopped, the Zalo quota used up), for the
admins' /thongke. Components report `fail(...)` / `ok(...)`; nothing here sends anything."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

REMINDERS = "reminders"
ZALO_QUOTA = "zalo_quota"


@dataclass(frozen=True)
class Problem:
    since: datetime  # UTC, when the component first failed in this stretch
    detail: str  # short, for admins (an error message, a date)


class Health:
    def __init__(self) -> None:
        self._problems: dict[str, Problem] = {}

    def fail(self, component: str, detail: str, now: datetime | None = None) -> None:
        """`component` is not working; the first failure of a stretch keeps its time, the detail is the latest."""
        current = self._problems.get(component)
        since = current.since if current else (now or datetime.now(timezone.utc))
        self._problems[component] = Problem(since, detail)

    def ok(self, component: str) -> None:
        self._problems.pop(component, None)

    def problems(self) -> dict[str, Problem]:
        return dict(self._problems)
