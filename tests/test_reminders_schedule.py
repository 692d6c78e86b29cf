"""A fake clock drives a year of reminders over a generated plan (real SQLite, real scheduler code)."""
from __future__ import annotations

import asyncio
import collections
from datetime import date, datetime, time, timedelta, timezone

import pytest

from bot.reminders import ReminderConfig, Reminders, SendError, run_scheduler
from bot.staff import StaffRegistry
from reminders_fixture import PLAN_TASKS, TZ, RecordingSender, at8, build_db, local, ticks

CFG = ReminderConfig()  # 7,1,0 days before; 3 daily + 4 weekly overdue; escalation after 7 days; 08:00
LEAD = [7, 1, 0, -1, -2, -3, -10, -17, -24, -31]
ESCALATE = [-7, -10, -17, -24, -31]
UNIT_OF = {1: "vhxh", 2: "kt", 3: "vp", 4: "tt", 5: "kt-ct"}
HAI_HAU = {1, 2, 3, 4}


def _staff_of(units, locality):
    from bot.staff import unit_key

    keys = {unit_key(u) for u in units}
    out = set()
    names = {"vhxh": "Phòng Văn hóa - Xã hội", "kt": "Phòng Kinh tế", "vp": "Văn phòng HĐND và UBND",
             "tt": "Trung tâm Phục vụ hành chính công"}
    for sid, u in UNIT_OF.items():
        in_loc = (sid in HAI_HAU) == ("Hải Hậu" in locality)
        if not in_loc:
            continue
        if any(k.startswith("cac ") for k in keys) or unit_key(names.get(u, "Phòng Kinh tế")) in keys:
            out.add(sid)
    return out


def expected_slots(end: datetime, done_at=None, snooze=None, override=None):
    """Oracle written independently of the scheduler: {key: scheduled instant}."""
    out: dict[str, datetime] = {}
    for tid, (_title, lead, coord, _text, occs, loc) in PLAN_TASKS.items():
        if override and tid == override[0]:
            occs = [override[1]]
        for occ in occs:
            per: dict[tuple[int, int], datetime] = {}
            for sid in _staff_of(lead, loc):
                for off in LEAD:
                    per[(sid, off)] = at8(occ - timedelta(days=off))
            for sid in _staff_of(coord, loc):
                per.setdefault((sid, 0), at8(occ))
            if "Hải Hậu" in loc and 1 not in _staff_of(lead, loc):  # staff 1 = focal unit, unless it leads
                for off in ESCALATE:
                    per.setdefault((1, off), at8(occ - timedelta(days=off)))
            if snooze and tid == snooze[0]:
                s_at, until = snooze[1], snooze[2]
                per = {k: v for k, v in per.items() if not (s_at <= v < until)}
                for sid in _staff_of(lead, loc):
                    off = (occ - until.astimezone(TZ).date()).days
                    per.setdefault((sid, off), until)
            for (sid, off), at in per.items():
                if at > end:
                    continue
                if done_at and tid == done_at[0] and at >= done_at[1]:
                    continue
                out[f"{tid}|{occ.isoformat()}|{sid}|{off}"] = at
    return out


def _run(rem, sender_clock, instants, actions=None):
    now = {"t": instants[0]}
    sender_clock.clock = lambda: now["t"]
    actions = sorted((actions or {}).items())

    async def go():
        for t in instants:
            while actions and actions[0][0] <= t:
                when, fn = actions.pop(0)
                now["t"] = when
                fn(when)
            now["t"] = t
            await rem.tick(sender_clock, t)

    asyncio.run(go())


def test_a_year_of_reminders(tmp_path):
    db_path = tmp_path / "cchc.db"
    build_db(db_path)
    rem = Reminders(db_path, config=CFG)
    sender = RecordingSender(lambda: None)
    start, end = local(2026, 1, 1), local(2027, 2, 10)
    done_at = ("t-done", local(2026, 5, 26, 10, 0))
    snooze_at = local(2026, 7, 24, 9, 0)
    snooze = ("t-snooze", snooze_at, at8(date(2026, 8, 3)))
    override_at = local(2026, 8, 1, 14, 0)
    actions = {
        done_at[1]: lambda t: rem.done("t-done", by="telegram:minh", now=t),
        snooze_at: lambda t: rem.snooze("t-snooze", 10, by="console:hoa", now=t),
        override_at: lambda t: rem.set_due_override("t-override", "2026-09-10", by="admin", now=t),
    }
    # every hour, plus just before/at/after the send hour and at the end of the quiet hours
    instants = ticks(start, end, timedelta(hours=1), extra_local_times=[(7, 59), (8, 0), (8, 1), (9, 15)])
    _run(rem, sender, instants, actions)

    expected = expected_slots(end, done_at=done_at, snooze=snooze, override=("t-override", date(2026, 9, 10)))
    rows = rem.outbox()
    reminders = [r for r in rows if r["kind"] != "digest"]
    sent = {r["key"]: r for r in reminders if r["status"] == "sent"}
    assert collections.Counter(r["status"] for r in reminders) == {"sent": len(expected)}
    assert set(sent) == set(expected)  # every expected reminder, nothing else
    # exactly once on the wire, too
    wire = collections.Counter((chat, text) for _, _, chat, text in sender.sent)
    assert max(wire.values()) == 1
    assert len(sender.sent) == len(rows)
    staff = {s.id: s for s in StaffRegistry(db_path).list()}
    for key, r in sent.items():
        at = expected[key]
        assert r["scheduled_at"] == at.isoformat(timespec="seconds")
        sent_at = datetime.fromisoformat(r["sent_at"])
        assert sent_at >= at, key  # never early
        s = staff[r["staff_id"]]
        if s.quiet_start:  # held until quiet hours end (09:15), then sent at the next tick
            assert sent_at.astimezone(TZ).time() == time(9, 15)
        else:
            assert sent_at - at <= timedelta(minutes=1)
    # nothing for the done occurrence after it was done; recorded who/when
    assert not [k for k in sent if k.startswith("t-done|") and sent[k]["scheduled_at"] >= done_at[1].isoformat()]
    assert [k for k in sent if k.startswith("t-done|")]  # the ones before were sent
    done_rows = list(rem.db.query("select task_id, occurrence, done_by, done_at from reminder_done"))
    assert done_rows == [{"task_id": "t-done", "occurrence": "2026-05-31", "done_by": "telegram:minh",
                          "done_at": done_at[1].isoformat(timespec="seconds")}]
    # snooze honoured: nothing between the snooze and its end, one reminder when it ends
    snoozed = sorted(r["scheduled_at"] for k, r in sent.items() if k.startswith("t-snooze|"))
    assert not [s for s in snoozed if snooze_at.isoformat() <= s < snooze[2].isoformat()]
    assert snooze[2].isoformat(timespec="seconds") in snoozed
    # override honoured: reminders for 10/09/2026 only
    assert {k.split("|")[1] for k in sent if k.startswith("t-override|")} == {"2026-09-10"}
    # ongoing / conditional / periodic: never a dated reminder
    assert not [k for k in sent if k.split("|")[0] in ("t-ongoing", "t-cond", "t-periodic")]
    # escalation reached the focal unit (staff 1) and says so
    esc = [r for r in reminders if r["role"] == "escalate"]
    assert esc and all(r["staff_id"] == 1 and "cơ quan thường trực" in r["text"] for r in esc)
    # coordinators got the on-day reminder only
    coord = [r for r in reminders if r["role"] == "coordinate"]
    assert coord and all(r["offset_days"] == 0 for r in coord)
    # texts: task, plan, deadline text and date, days left/overdue, how to reply with the code
    r = sent["t-date|2026-03-15|1|7"]
    for part in ("Xây dựng Kế hoạch kiểm tra công tác CCHC", "KẾ HOẠCH Cải cách hành chính năm 2026",
                 "Trước ngày 15/3/2026", "15/03/2026", "Còn 7 ngày", f"/xong {r['code']}", f"/hoanlai {r['code']}"):
        assert part in r["text"]
    assert "Đã quá hạn 3 ngày" in sent["t-date|2026-03-15|1|-3"]["text"]
    assert rem.resolve_code(r["code"]) == ("t-date", "2026-03-15")
    # digests: at most one per person per day, never before 08:00, listing what is due
    digests = [r for r in rows if r["kind"] == "digest"]
    per_day = collections.Counter((r["staff_id"], r["occurrence"]) for r in digests)
    assert max(per_day.values()) == 1
    assert all(datetime.fromisoformat(r["sent_at"]).astimezone(TZ).time() >= time(8) for r in digests)
    d = next(r for r in digests if r["staff_id"] == 1 and r["occurrence"] == "2026-03-10")
    assert "Xây dựng Kế hoạch kiểm tra công tác CCHC" in d["text"] and "còn 5 ngày" in d["text"]
    assert not [r for r in digests if r["staff_id"] == 5 and r["occurrence"] < "2026-09-16"]  # Chơn Thành: Q3 only
    print(f"\nyear run: {len(instants)} ticks, {len(sent)} reminders, {len(digests)} digests, "
          f"{len(esc)} escalations, {len(coord)} coordinator notes")


def test_downtime_catch_up_sends_the_missed_reminder_once(tmp_path):
    db_path = tmp_path / "cchc.db"
    build_db(db_path)
    rem = Reminders(db_path, config=CFG)
    sender = RecordingSender(lambda: None)
    before = ticks(local(2026, 3, 1), local(2026, 3, 6, 12), timedelta(hours=1))
    after = ticks(local(2026, 3, 16, 12, 30), local(2026, 3, 18, 12), timedelta(hours=1), [(8, 0)])
    _run(rem, sender, before + after)
    rows = {r["key"]: r for r in rem.outbox()}
    # t-date for staff 1: 7 and 1 days before and the due day were missed; only the latest due one (-1, 16/3)
    # is sent, once, at start-up; the missed ones are recorded as superseded; the next one follows normally.
    assert rows["t-date|2026-03-15|1|-1"]["status"] == "sent"
    assert rows["t-date|2026-03-15|1|-1"]["sent_at"] == local(2026, 3, 16, 12, 30).isoformat(timespec="seconds")
    for off in (7, 1, 0):
        assert rows[f"t-date|2026-03-15|1|{off}"]["status"] == "superseded"
    assert rows["t-date|2026-03-15|1|-2"]["status"] == "sent"
    assert rows["t-date|2026-03-15|1|-3"]["status"] == "sent"
    msgs = [m for m in sender.sent if m[2] == "lan" and "Xây dựng Kế hoạch kiểm tra" in m[3] and "Kính gửi" in m[3]]
    assert [m[0] for m in msgs] == [local(2026, 3, 16, 12, 30), at8(date(2026, 3, 17)), at8(date(2026, 3, 18))]
    # one digest on the day of the restart, none for the missed days
    digests = sorted(r["occurrence"] for r in rows.values() if r["kind"] == "digest" and r["staff_id"] == 1)
    assert "2026-03-10" not in digests and "2026-03-16" in digests
    # restarting again at the same instant changes nothing
    n = len(sender.sent)
    _run(rem, sender, [local(2026, 3, 18, 12)])
    assert len(sender.sent) == n


def test_a_long_outage_loses_nothing_still_due(tmp_path):
    db_path = tmp_path / "cchc.db"
    build_db(db_path)
    rem = Reminders(db_path, config=CFG)
    sender = RecordingSender(lambda: None)
    # down from 20/02 to 10/05: t-month (28/02) had its last overdue reminder on 31/03 — long before the
    # restart, but the look-back starts at the last tick, so it is still sent once.
    _run(rem, sender, [local(2026, 2, 20, 9), local(2026, 5, 10, 9)])
    rows = {r["key"]: r for r in rem.outbox()}
    assert rows["t-month|2026-02-28|4|-31"]["status"] == "sent"
    assert sum(1 for k, r in rows.items() if k.startswith("t-month|") and r["status"] == "sent") == 2  # 7 days + last


def test_late_registration_gets_the_current_reminder_not_the_backlog(tmp_path):
    db_path = tmp_path / "cchc.db"
    build_db(db_path)
    rem = Reminders(db_path, config=CFG)
    sender = RecordingSender(lambda: None)
    _run(rem, sender, ticks(local(2026, 3, 1), local(2026, 3, 14, 12), timedelta(hours=1)))
    new = StaffRegistry(db_path).add_approved("Chị Thu", "Phòng Văn hóa - Xã hội", "Hải Hậu", "console", "thu")
    _run(rem, sender, [local(2026, 3, 14, 12, 1), local(2026, 3, 14, 13)])
    mine = [r for r in rem.outbox("sent") if r["staff_id"] == new.id and r["kind"] != "digest"]
    # only the reminder that is current for each open occurrence: t-date's "1 day before" (her unit leads it)
    # and t-month's escalation (overdue 14 days, her unit is the focal unit); not the 7-day one, not t-hq15's
    # on-day coordinator note (tomorrow), and each once
    assert sorted((r["task_id"], r["offset_days"], r["role"]) for r in mine) == [
        ("t-date", 1, "lead"), ("t-month", -10, "escalate")]
    superseded = {(r["task_id"], r["offset_days"]) for r in rem.outbox("superseded") if r["staff_id"] == new.id}
    assert ("t-date", 7) in superseded and ("t-month", -7) in superseded


def test_retries_backoff_and_blocked_recipient(tmp_path):
    db_path = tmp_path / "cchc.db"
    build_db(db_path)
    rem = Reminders(db_path, config=CFG)
    calls: list[tuple[str, str, datetime]] = []
    now = {"t": local(2026, 3, 8, 8)}

    class Flaky:
        channels = ("telegram", "zalo", "console")

        async def send(self, channel, chat_id, text):
            calls.append((chat_id, text, now["t"]))
            tries = sum(1 for c, t, _ in calls if (c, t) == (chat_id, text))
            if chat_id == "lan" and tries <= 2:
                raise SendError(retryable=True, retry_after=90)  # 429 with retry_after
            if chat_id == "tuan":
                raise SendError(blocked=True, message="Forbidden: bot was blocked by the user")
            if chat_id == "hoa" and tries == 1:
                raise TimeoutError("read timeout")

    async def go():
        for i in range(0, 40):
            now["t"] = local(2026, 3, 8, 8) + timedelta(minutes=i)
            await rem.tick(Flaky(), now["t"])

    asyncio.run(go())
    rows = rem.outbox()
    lan_row = next(r for r in rows if r["key"] == "t-date|2026-03-15|1|7")
    assert lan_row["status"] == "sent" and lan_row["attempts"] == 3
    tries = [t for c, text, t in calls if c == "lan" and text == lan_row["text"]]
    assert len(tries) == 3
    assert tries[1] - tries[0] >= timedelta(seconds=90)  # the platform's retry_after is honoured
    assert tries[2] - tries[1] >= timedelta(seconds=90)
    hoa = [r for r in rows if r["chat_id"] == "hoa"]  # her digest
    assert hoa and all(r["status"] == "sent" and r["attempts"] == 2 for r in hoa)  # timeout: retried after 30 s
    assert StaffRegistry(db_path).get(4).status == "blocked"
    tuan = [r for r in rows if r["staff_id"] == 4]
    assert {r["status"] for r in tuan} == {"failed_blocked", "superseded"}  # (first tick: catch-up)
    assert sum(1 for c, _, _ in calls if c == "tuan") == 1  # not retried
    # blocked staff are no longer recipients
    later = asyncio.run(rem.tick(Flaky(), local(2026, 3, 14, 8)))
    assert sum(1 for c, _, _ in calls if c == "tuan") == 1 and later["queued"] >= 1


def test_done_and_snooze_by_code_and_upcoming(tmp_path):
    db_path = tmp_path / "cchc.db"
    build_db(db_path)
    rem = Reminders(db_path, config=CFG)
    sender = RecordingSender(lambda: local(2026, 3, 8, 8))
    asyncio.run(rem.tick(sender, local(2026, 3, 8, 8)))
    lan = StaffRegistry(db_path).get(1)
    items = {i["task_id"]: i for i in rem.upcoming(lan, now=local(2026, 3, 8, 9))}
    assert set(items) == {"t-date", "t-hq15"}  # within 14 days; t-hq (31/03) is not yet
    assert items["t-date"]["days_left"] == 7 and items["t-hq15"]["role"] == "coordinate"
    code = items["t-date"]["code"]
    assert rem.resolve_code(code) == ("t-date", "2026-03-15")
    rec = rem.done(code.upper(), by="telegram:lan", now=local(2026, 3, 9, 10))
    assert rec["task_id"] == "t-date" and rec["occurrence"] == "2026-03-15" and rec["done_by"] == "telegram:lan"
    assert [i["task_id"] for i in rem.upcoming(lan, now=local(2026, 3, 9, 10))] == ["t-hq15"]
    assert [i["task_id"] for i in rem.upcoming(lan, now=local(2026, 3, 20, 10))] == ["t-hq15", "t-hq"]
    asyncio.run(rem.tick(sender, local(2026, 3, 14, 8)))
    assert not [m for m in sender.sent if "Xây dựng Kế hoạch kiểm tra" in m[3] and m[0] > local(2026, 3, 9)
                and "Kính gửi" in m[3]]
    hq = rem.upcoming(lan, now=local(2026, 3, 24, 9))[-1]
    s = rem.snooze(hq["code"], 3, by="telegram:lan", now=local(2026, 3, 24, 9))
    assert s["occurrence"] == "2026-03-31" and s["until"] == at8(date(2026, 3, 27)).isoformat(timespec="seconds")
    assert s["until_date"] == "2026-03-27"
    assert rem.done("no-such-task") is None
    with pytest.raises(ValueError):
        rem.snooze("t-hq", 0)


def test_scheduler_loop_ticks_and_stops(tmp_path):
    db_path = tmp_path / "cchc.db"
    build_db(db_path)
    sender = RecordingSender(lambda: local(2026, 3, 8, 8, 30))

    class S:  # the settings the loop reads
        db_path = tmp_path / "cchc.db"
        reminder_offsets = "7,1,0"
        reminder_overdue_daily = 3
        reminder_overdue_weekly = 4
        reminder_escalate_after_days = 7
        reminder_notify_coordinators = True
        reminder_send_hour = 8
        timezone = "Asia/Ho_Chi_Minh"

    async def go():
        stop = asyncio.Event()
        task = asyncio.create_task(run_scheduler(S, sender, stop, clock=lambda: local(2026, 3, 8, 8, 30),
                                                 interval=0.05))
        await asyncio.sleep(0.3)
        stop.set()
        await asyncio.wait_for(task, 2)

    asyncio.run(go())
    texts = [m[3] for m in sender.sent]
    assert any("Còn 7 ngày" in t for t in texts)
    assert len(texts) == len(set(texts))  # several ticks, each reminder once


def test_two_deliverers_never_send_the_same_row(tmp_path):
    """serve's scheduler and a CLI `remind` on the same database: the delivery lock keeps them apart."""
    db_path = tmp_path / "cchc.db"
    build_db(db_path)
    a, b = Reminders(db_path, config=CFG), Reminders(db_path, config=CFG)
    t = local(2026, 3, 8, 8)
    a.enqueue(t)
    sent = []

    class Slow:
        channels = ("telegram", "zalo", "console")

        async def send(self, channel, chat_id, text):
            sent.append((chat_id, text))
            await asyncio.sleep(0.01)

    async def go():
        return await asyncio.gather(a.deliver(Slow(), t), b.deliver(Slow(), t, lock_wait=0.0))

    first, second = asyncio.run(go())
    assert first["sent"] == len(sent) > 0 and second == {"sent": 0, "busy": 1}
    assert len(set(sent)) == len(sent)
    assert asyncio.run(b.deliver(Slow(), t))["sent"] == 0  # nothing left, nothing twice
