"""The mark a chat answer carries when an officer corrected the task it rests on (index.corrections)."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo


def correction_note(task, tz: str = "Asia/Ho_Chi_Minh") -> str:
    """'(đã được cán bộ hiệu chỉnh ngày 30/11/2026)' for a corrected task (a Task, or a dict with its fields),
    the local date of the correction; '' when the task was not corrected."""
    at = (task.get("corrected_at") if isinstance(task, dict) else getattr(task, "corrected_at", "")) or ""
    if not at:
        return ""
    try:
        dt = datetime.fromisoformat(str(at))
    except ValueError:
        return "(đã được cán bộ hiệu chỉnh)"
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return f"(đã được cán bộ hiệu chỉnh ngày {dt.astimezone(ZoneInfo(tz)):%d/%m/%Y})"
