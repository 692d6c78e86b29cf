"""The scheduler plans from tasks and staff grouped once per tick (by locality and unit): every reminder and
digest must equal what a scan of every task and every staff member gives."""
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from bench.worker import make_reminders_db
from bot.reminders import DIGEST_DAYS_AHEAD, Reminders, digest_text, reminder_text
from bot.staff import connect, is_collective_unit, locality_key, unit_key
from index.textnorm import normalize


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


# ------------------------------------------------------------------------------------------------ references
# The scheduler groups tasks and staff once per tick (by locality and unit key), shares texts between rows and
# remembers codes. Each test below recomputes what a tick must produce by scanning every task and every staff
# member, written from the rules in bot/reminders.py's docstring, not from its code.

LOCALITY_SPELLINGS = {  # one commune, several spellings of it
    "an binh": ["xã An Bình", "UBND xã An Bình", "An Binh"],
    "hoa lac": ["xã Hòa Lạc", "Xã Hoà Lạc"],
    "tan dinh": ["phường Tân Định"],
    "vang": ["xã Vắng"],  # staff, no tasks
}
UNITS = ["Phòng Văn hóa - Xã hội", "Phòng Kinh tế", "Văn phòng HĐND và UBND", "Công an xã",
         "Các cơ quan, đơn vị", "Các phòng, ban chuyên môn", "Phòng Văn hoá – Xã hội và các cơ quan có liên quan",
         "phòng kinh tế", "Đơn vị không ai đăng ký"]
DEADLINES = ["Trước ngày 15/3/2026", "Trước ngày 20/3/2026", "Tháng 3/2026", "Quý I/2026", "Tháng 02/2026",
             "Hàng tháng", "Hàng quý", "Thường xuyên", "Khi có văn bản chỉ đạo", "Định kỳ trong năm",
             "trước ngày 25/3/2026", "Tháng 4/2026"]
STAFF_UNITS = ["Phòng Văn hóa - Xã hội", "phòng văn hóa - xã hội", "Phòng Kinh tế", "Văn phòng HĐND - UBND",
               "Công an xã", "Trung tâm không có việc"]


def _scale_db(path):
    """~150 tasks over 3 communes (spelled several ways), collective and mixed units, staff of every kind of
    match (two spellings of one unit in one commune: same tasks, different greeting), focal units."""
    import random

    from reminders_fixture import build_db

    rng = random.Random(5)
    places = [p for key in ("an binh", "hoa lac", "tan dinh") for p in LOCALITY_SPELLINGS[key]]
    tasks = {}
    for i in range(150):
        lead = rng.sample(UNITS, rng.choice([1, 1, 1, 2]))
        coord = rng.sample(UNITS, rng.choice([0, 0, 1, 2]))
        title = f"Nhiệm vụ {i % 60}: rà soát thủ tục" + (" hành chính" if i % 4 else "")  # repeated titles
        tasks[f"s{i:03d}"] = (title, lead, coord, rng.choice(DEADLINES), [], rng.choice(places))
    staff = []
    for j, (key, spellings) in enumerate(LOCALITY_SPELLINGS.items()):
        for k, unit in enumerate(STAFF_UNITS):
            staff.append((f"Cán bộ {j}-{k}", unit, spellings[k % len(spellings)], "telegram", f"c{j}{k}", None))
    build_db(path, tasks=tasks, staff=staff, focal=False)
    db = connect(path)
    db["focal_units"].insert_all([{"locality": "UBND xã An Bình", "unit": "Văn phòng HĐND và UBND"},
                                  {"locality": "Hòa Lạc", "unit": "Công an xã"}])
    db.conn.close()


def _local(y, m, d, hh, mm):
    return datetime(y, m, d, hh, mm, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")).astimezone(timezone.utc)


def _task_rows(rem):
    """Every task as stored, with its occurrences function: the plan's dates, or the admin's override."""
    import json

    from index.deadlines import Deadline, occurrences

    overrides = {r["task_id"]: date.fromisoformat(r["due"]) for r in rem.db.query("select * from due_overrides")}
    out = []
    for r in rem.db.query("select * from tasks"):
        dl = Deadline.from_dict(json.loads(r["deadline"]))
        ov = overrides.get(r["id"])
        dated = ov is not None or dl.kind in ("date", "period_end") or (
            dl.kind == "recurring" and dl.recurrence != "periodic")
        occ = (lambda lo, hi, ov=ov: [ov] if lo <= ov <= hi else []) if ov else (
            lambda lo, hi, dl=dl: occurrences(dl, lo, hi))
        out.append({"id": r["id"], "title": normalize(r["title"]), "locality": r["locality"],
                    "lead": json.loads(r["lead"]), "coordinate": json.loads(r["coordinate"]), "dated": dated,
                    "occ": occ})
    return out


def _serves(staff, units, locality) -> bool:
    """The staff member is one of ``units`` of ``locality`` (folded names; a collective unit is everyone)."""
    return locality_key(staff.locality) == locality_key(locality) and any(
        is_collective_unit(u) or unit_key(u) == unit_key(staff.unit) for u in units)


def _reference_digest(rem, staff, tasks, done, today):
    code = {(r["task_id"], r["occurrence"]): r["code"] for r in rem.db.query("select * from reminder_codes")}
    items, ongoing = [], []
    for t in tasks:
        if not (_serves(staff, t["lead"], t["locality"]) or _serves(staff, t["coordinate"], t["locality"])):
            continue
        if not t["dated"]:
            if (t["id"], "") not in done:
                ongoing.append(SimpleNamespace(title=t["title"]))
            continue
        for occ in t["occ"](today - timedelta(days=60), today + timedelta(days=DIGEST_DAYS_AHEAD)):
            if (t["id"], occ.isoformat()) not in done:
                items.append({"code": code[(t["id"], occ.isoformat())], "title": t["title"],
                              "due": occ.isoformat(), "days_left": (occ - today).days})
    items.sort(key=lambda i: (i["due"], i["title"]))
    if not items and not (ongoing and today.weekday() == 0):
        return None
    return digest_text(staff, today, items, ongoing)


def test_digests_of_every_staff_member_equal_a_scan_of_every_task(tmp_path):
    _scale_db(tmp_path / "s.db")
    rem = Reminders(connect(tmp_path / "s.db"))
    rem.enqueue(_local(2026, 3, 16, 7, 1))  # catch-up first: the digests then reuse committed codes
    rem.done("s003", by="t", now=_local(2026, 3, 16, 7, 30))
    undated = [t for t in _task_rows(rem) if not t["dated"] and is_collective_unit(t["lead"][0])]
    assert rem.done(undated[0]["id"], by="t", now=_local(2026, 3, 16, 7, 30))["occurrence"] == ""
    rem.set_due_override("s020", "2026-03-19", by="t", now=_local(2026, 3, 16, 7, 30))
    approved = rem.staff.list("approved")
    for now in (_local(2026, 3, 16, 8, 1), _local(2026, 3, 17, 8, 1)):  # a Monday, then a Tuesday
        rem.enqueue(now)
        today = rem.cfg.local_date(now)
        digests = {r["staff_id"]: r["text"] for r in rem.outbox() if r["kind"] == "digest"
                   and r["occurrence"] == today.isoformat()}
        tasks, done = _task_rows(rem), rem._done()
        expected = {s.id: _reference_digest(rem, s, tasks, done, today) for s in approved}
        assert digests == {k: v for k, v in expected.items() if v is not None}
        # the data covers what grouping could get wrong: spellings, shared units, empty digests
        greetings = {t.split("\n")[0] for t in digests.values()}
        assert any("phòng văn hóa - xã hội, " in g for g in greetings)
        assert any("Phòng Văn hóa - Xã hội, " in g for g in greetings)
        assert len({locality_key(s.locality) for s in approved if s.id in digests}) == 3
        assert len(digests) < len(approved)


def test_catch_up_rows_go_to_every_matching_person_with_their_own_text(tmp_path):
    _scale_db(tmp_path / "s.db")
    rem = Reminders(connect(tmp_path / "s.db"))
    now = _local(2026, 3, 16, 7, 1)  # before the send hour: today's slots are not due yet
    rem.enqueue(now)
    today = rem.cfg.local_date(now)
    rows = [r for r in rem.outbox() if r["kind"] != "digest"]
    infos = {t.id: t for t in rem.load_tasks()}
    # every row's text, written afresh for that row alone (the planner shares texts between rows)
    for r in rows:
        task = infos[r["task_id"]]
        assert r["text"] == reminder_text(task, date.fromisoformat(r["occurrence"]), today, r["role"], r["unit"],
                                          r["code"])
        assert rem.resolve_code(r["code"]) == (r["task_id"], r["occurrence"])
    got: dict[tuple, set[int]] = {}
    for r in rows:
        got.setdefault((r["task_id"], r["occurrence"], r["role"]), set()).add(r["staff_id"])
    # recipients of every occurrence with a due slot, from a scan of every approved staff member
    approved = rem.staff.list("approved")
    focal = [(r["locality"], r["unit"]) for r in rem.db.query("select * from focal_units")]
    expected: dict[tuple, set[int]] = {}
    for t in _task_rows(rem):
        for occ in t["occ"](today - timedelta(days=32), today + timedelta(days=6)):
            leads = {s.id for s in approved if _serves(s, t["lead"], t["locality"])}
            coords = {s.id for s in approved if _serves(s, t["coordinate"], t["locality"])} - leads
            focals = {s.id for s in approved for loc, unit in focal
                      if locality_key(loc) == locality_key(t["locality"]) and _serves(s, [unit], t["locality"])}
            for role, ids, due in (("lead", leads, True), ("coordinate", coords, occ < today),
                                   ("escalate", focals - leads, occ < today - timedelta(days=7))):
                if ids and due:
                    expected[(t["id"], occ.isoformat(), role)] = ids
    assert got == expected
    assert {role for _, _, role in got} == {"lead", "coordinate", "escalate"}
    # one row per slot; of each person's slots of one occurrence only the latest is sent, once
    assert len({r["key"] for r in rows}) == len(rows)
    live = [(r["task_id"], r["occurrence"], r["staff_id"]) for r in rows if r["status"] == "pending"]
    assert sorted(live) == sorted({(r["task_id"], r["occurrence"], r["staff_id"]) for r in rows})


def test_a_fresh_instance_plans_the_same_rows_as_one_that_remembers_codes(tmp_path):
    import shutil

    _scale_db(tmp_path / "a.db")
    rem = Reminders(connect(tmp_path / "a.db"))
    rem.enqueue(_local(2026, 3, 16, 7, 1))
    rem.db.conn.execute("pragma wal_checkpoint(TRUNCATE)")
    shutil.copy(tmp_path / "a.db", tmp_path / "b.db")
    fresh = Reminders(connect(tmp_path / "b.db"))
    for now in (_local(2026, 3, 16, 8, 1), _local(2026, 3, 20, 8, 1)):
        assert rem.enqueue(now) == fresh.enqueue(now)
    assert [(r["key"], r["text"], r["status"]) for r in rem.outbox()] == \
        [(r["key"], r["text"], r["status"]) for r in fresh.outbox()]


def test_only_complete_stored_deadlines_are_shared_between_tasks(tmp_path):
    import json

    db = connect(tmp_path / "t.db")
    kind = json.dumps({"text": "Quý I/2026", "kind": "period_end", "due": "2026-03-31", "start": "2026-01-01",
                       "dues": ["2026-03-31"]})
    half = json.dumps({"text": ""})  # no kind: re-parsed from each row's own text
    db["tasks"].insert_all([
        {"id": "a", "title": "A", "plan_title": "Kế hoạch năm 2026", "locality": "x", "lead": "[]",
         "coordinate": "[]", "deadline_text": "Trước ngày 15/3/2026", "deadline": half},
        {"id": "b", "title": "B", "plan_title": "Kế hoạch năm 2026", "locality": "x", "lead": "[]",
         "coordinate": "[]", "deadline_text": "Quý II/2026", "deadline": half},
        {"id": "c", "title": "C", "plan_title": "Kế hoạch năm 2026", "locality": "x", "lead": "[]",
         "coordinate": "[]", "deadline_text": "khác", "deadline": kind},
        {"id": "d", "title": "D", "plan_title": "Kế hoạch năm 2026", "locality": "x", "lead": "[]",
         "coordinate": "[]", "deadline_text": "khác nữa", "deadline": kind},
    ])
    tasks = {t.id: t for t in Reminders(db).load_tasks()}
    window = (date(2026, 1, 1), date(2026, 12, 31))
    assert tasks["a"].occurrences(*window) == [date(2026, 3, 15)]
    assert tasks["b"].occurrences(*window) == [date(2026, 6, 30)]
    assert tasks["c"].occurrences(*window) == tasks["d"].occurrences(*window) == [date(2026, 3, 31)]
