"""The 08:00 digests are planned from tasks grouped by locality: they must equal a scan of every task."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from bench.worker import make_reminders_db
from bot.reminders import DIGEST_DAYS_AHEAD, Reminders, digest_text
from bot.staff import connect


def test_digests_from_grouped_tasks_equal_a_full_scan(tmp_path):
    info = make_reminders_db(tmp_path / "rem.db", 600, 60)
    assert info["localities"] >= 5
    rem = Reminders(connect(tmp_path / "rem.db"))
    now = datetime(2026, 3, 16, 8, 1, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")).astimezone(timezone.utc)  # a Monday
    today = rem.cfg.local_date(now)
    tasks, done, approved = rem.load_tasks(), rem._done(), rem.staff.list("approved")
    planned = {r["staff_id"]: r["text"] for r in rem._plan_digests(now, tasks, approved, done, set())}
    assert len(planned) >= 30 and len({s.locality for s in approved if s.id in planned}) >= 5
    for staff in approved:  # the reference: every task of the database, whatever its locality
        items = rem._items_for(staff, tasks, done, today, DIGEST_DAYS_AHEAD)
        ongoing = [t for t in tasks if not t.dated and rem._roles_of(staff, t) and (t.id, "") not in done]
        if items or ongoing:
            assert planned[staff.id] == digest_text(staff, today, items, ongoing)
        else:
            assert staff.id not in planned
