"""Staff reminder actions in chat (/xong, /hoanlai, /viectoi, admin /dathan) over the reminders module.

The module (default `bot.reminders`) provides the logic: either one `handle_command(name, args, **context)`
hook, or the `Reminders` class (done / snooze / upcoming / set_due_override) and `format_upcoming`, which this
file turns into short Vietnamese replies. Without either, the feature is "not enabled".
"""
from __future__ import annotations

import importlib
import inspect
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

from handlers import commands as cmds
from handlers import texts as T

DEFAULT_SNOOZE_DAYS = 3
MAX_SNOOZE_DAYS = 365


def _fmt(iso: str) -> str:
    try:
        return datetime.fromisoformat(str(iso)).strftime("%d/%m/%Y")
    except ValueError:
        return str(iso)


def parse_date(text: str) -> date | None:
    """'30/6/2026', '30-06-2026', '2026-06-30' -> date."""
    text = text.strip()
    m = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text, re.ASCII)
    try:
        if m:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        return date.fromisoformat(text) if text.isascii() else None
    except (ValueError, OverflowError):
        return None


class ReminderCommands:
    def __init__(self, db_path: str | Path, settings: Any, module: Any = None):
        self.db_path = db_path
        self.settings = settings
        self._module = module
        self._loaded = module is not None
        self._reminders = None

    @property
    def module(self) -> Any:
        if not self._loaded:
            try:
                self._module = importlib.import_module("bot.reminders")
            except ImportError:
                self._module = None
            self._loaded = True
        return self._module

    def available(self) -> bool:
        m = self.module
        return m is not None and (hasattr(m, "handle_command") or hasattr(m, "Reminders"))

    def _engine(self) -> Any:
        if self._reminders is None:
            self._reminders = self.module.Reminders(self.db_path, self.settings)
        return self._reminders

    async def run(self, name: str, args: str, *, channel: str, user_id: str, chat_id: str, staff: Any,
                  admin: bool = False) -> str:
        m = self.module
        if m is None or not self.available():
            return T.NOT_ENABLED
        by = f"{channel}:{user_id}"
        if hasattr(m, "handle_command"):
            result = m.handle_command(name, args, channel=channel, user_id=user_id, chat_id=chat_id, staff=staff,
                                      settings=self.settings, admin=admin)
            return str(await result if inspect.isawaitable(result) else result)
        rem = self._engine()
        words = args.split()
        if name == "viectoi":
            if staff is None:
                return T.REMINDER_NOT_STAFF
            return m.format_upcoming(rem.upcoming(staff))
        if not words:
            return T.USAGE.format(usage=T.REMINDER_USAGE[name])
        code = words[0].lstrip("#[").rstrip("]")
        if name in ("xong", "hoanlai"):
            refusal = self._refusal(rem, code, staff, admin)
            if refusal:
                return refusal
        if name == "xong":
            rec = rem.done(code, by=by)
            if rec is None:
                return T.REMINDER_UNKNOWN.format(code=code)
            return T.REMINDER_DONE.format(code=code, due=_fmt(rec["occurrence"]) if rec["occurrence"] else "—",
                                          cancelled=rec.get("cancelled", 0))
        if name == "hoanlai":
            days = DEFAULT_SNOOZE_DAYS
            if len(words) > 1:
                days = cmds.parse_count(words[1], 1, MAX_SNOOZE_DAYS)
                if days is None:
                    return T.SNOOZE_DAYS_INVALID.format(value=words[1][:20], max=MAX_SNOOZE_DAYS, code=code)
            rec = rem.snooze(code, days, by=by)
            if rec is None:
                return T.REMINDER_UNKNOWN.format(code=code)
            return T.REMINDER_SNOOZED.format(code=code, days=days, until=_fmt(rec["until"][:10]))
        if name == "dathan":
            due = parse_date(words[1]) if len(words) > 1 else None
            if due is None:
                return T.USAGE.format(usage=T.REMINDER_USAGE[name])
            resolved = rem.resolve_code(code)
            task_id = resolved[0] if resolved else code
            if task_id not in {t.id for t in rem.load_tasks()}:
                return T.REMINDER_UNKNOWN.format(code=code)
            rem.set_due_override(task_id, due, by=by)
            return T.REMINDER_OVERRIDE.format(code=code, due=due.strftime("%d/%m/%Y"))
        return T.NOT_ENABLED

    @staticmethod
    def _refusal(rem: Any, code: str, staff: Any, admin: bool) -> str | None:
        """Why this person may not close or postpone the task, or None. Admins may act on any task; staff only
        on tasks their unit leads in their own locality (the engine's ``may_act``)."""
        if admin or not hasattr(rem, "may_act"):
            return None
        task = rem.find_task(code)
        if task is None:
            return T.REMINDER_UNKNOWN.format(code=code)
        if rem.may_act(staff, task):
            return None
        return T.REMINDER_NOT_OWNER.format(code=code, leads=", ".join(task.lead) or "đơn vị chủ trì",
                                           locality=task.locality or "?")
