"""Officers' corrections (index/corrections.py): saved with who and when, applied to the live tasks row at once,
re-applied by the index pipeline (so they survive re-indexing), read by the reminders and by chat answers.

Real data: a copy of the session's index of the sample corpus (tests/conftest.py), real re-index, real answerer.
"""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from correction_case import lead_line, pick_case
from index import store
from index.corrections import (CorrectionError, apply_corrections, load_corrections, parse_due, save_correction,
                               undo_correction)

# A table row of the Chơn Thành plan (the store-level tests; the chat-level one picks its task: correction_case.py)
OLD_LEAD = "Trung tâm Phục vụ hành chính công"
NEW_LEAD = "Văn phòng HĐND và UBND"


@pytest.fixture()
def data(index_copy, settings_factory):
    """Settings over a private copy of the session's index (corrections and re-indexing change it)."""
    return settings_factory(index_copy)


def _db(settings):
    return store.open_db(settings.db_path)


def _task_id(db, title_part: str) -> str:
    rows = list(db.query("select id from tasks where title like ?", [f"%{title_part}%"]))
    assert len(rows) == 1, rows
    return rows[0]["id"]


def _row(db, task_id: str) -> dict | None:
    rows = list(db.query("select * from tasks where id = ?", [task_id]))
    return dict(rows[0]) if rows else None


def test_a_saved_correction_changes_the_live_row_and_records_who_and_when(data):
    db = _db(data)
    tid = _task_id(db, "ban hành chưa đúng quy định")
    before = _row(db, tid)
    assert json.loads(before["lead"]) == [OLD_LEAD]

    c = save_correction(db, tid, by="Nguyễn Thị Lan", lead=f"{NEW_LEAD}\n", now="2026-11-30T03:00:00+00:00")

    row = _row(db, tid)
    assert json.loads(row["lead"]) == [NEW_LEAD]
    assert row["corrected_by"] == "Nguyễn Thị Lan" and row["corrected_at"] == "2026-11-30T03:00:00+00:00"
    # only what the officer changed is stored: the other fields keep following the extraction
    assert c.coordinate is None and c.deadline_text is None and c.due is None
    assert json.loads(row["coordinate"]) == json.loads(before["coordinate"])
    assert row["deadline_text"] == before["deadline_text"] and row["title"] == before["title"]
    stored = load_corrections(db)[tid]
    assert stored.lead == [NEW_LEAD] and stored.by == "Nguyễn Thị Lan"
    assert stored.original["lead"] == [OLD_LEAD]  # the extracted task, for undo
    log = list(db.query("select * from task_correction_log where task_id = ?", [tid]))
    assert [r["action"] for r in log] == ["edit"] and log[0]["by"] == "Nguyễn Thị Lan"


def test_apply_corrections_is_pure_replaces_fields_and_drops_not_a_task(data):
    db = _db(data)
    fresh = store.load_tasks(db)  # what a re-extraction of the unchanged plans gives back
    lead_id = _task_id(db, "ban hành chưa đúng quy định")
    drop_id = fresh[0].id if fresh[0].id != lead_id else fresh[1].id
    save_correction(db, lead_id, by="A", lead=[NEW_LEAD], coordinate=[], deadline_text="Quý I/2027")
    save_correction(db, drop_id, by="B", not_a_task=True)
    assert _row(db, drop_id) is None  # gone from the live table at once

    snapshot = [replace(t) for t in fresh]
    out = apply_corrections(db, fresh)

    assert [t.id for t in fresh] == [t.id for t in snapshot] and fresh == snapshot  # input untouched
    assert drop_id not in {t.id for t in out} and len(out) == len(fresh) - 1
    t = next(t for t in out if t.id == lead_id)
    assert t.lead == [NEW_LEAD] and t.coordinate == [] and not t.lead_inferred
    assert t.deadline_text == "Quý I/2027" and t.deadline_kind == "period_end" and t.due == "2027-03-31"
    assert t.deadline["due"] == "2027-03-31"  # the form the reminders read
    assert t.corrected_by == "A" and t.corrected_at
    untouched = [t for t in out if t.id != lead_id]
    assert all(not t.corrected_at for t in untouched)


def test_a_field_never_corrected_keeps_the_latest_extraction(data):
    db = _db(data)
    tid = _task_id(db, "ban hành chưa đúng quy định")
    save_correction(db, tid, by="A", lead=[NEW_LEAD])
    task = next(t for t in store.load_tasks(db) if t.id == tid)
    improved = replace(task, lead=[OLD_LEAD], deadline_text="Trước ngày 20/12/2026", due="2026-12-20",
                       deadline_kind="date", deadline={"kind": "date", "due": "2026-12-20"}, corrected_at="")
    [out] = apply_corrections(db, [improved])
    assert out.lead == [NEW_LEAD] and out.due == "2026-12-20"

    # a second edit of another field keeps the first one, and does not put back stale extracted values
    db["tasks"].update(tid, {"deadline_text": "Trước ngày 20/12/2026", "due": "2026-12-20"})
    save_correction(db, tid, by="B", coordinate=["Phòng Văn hóa - Xã hội"])
    row = _row(db, tid)
    assert json.loads(row["lead"]) == [NEW_LEAD] and json.loads(row["coordinate"]) == ["Phòng Văn hóa - Xã hội"]
    assert row["due"] == "2026-12-20" and row["corrected_by"] == "B"


def test_undo_restores_the_extracted_values_and_a_row_marked_not_a_task(data):
    db = _db(data)
    tid = _task_id(db, "ban hành chưa đúng quy định")
    before = _row(db, tid)
    save_correction(db, tid, by="A", lead=[NEW_LEAD], due="15/12/2026")
    save_correction(db, tid, by="A", not_a_task=True)
    assert _row(db, tid) is None

    save_correction(db, tid, by="A", not_a_task=False)  # back, still corrected
    row = _row(db, tid)
    assert json.loads(row["lead"]) == [NEW_LEAD] and row["due"] == "2026-12-15"

    assert undo_correction(db, tid, by="A") is True
    row = _row(db, tid)
    for k in ("lead", "coordinate", "deadline_text", "deadline_kind", "due", "deadline", "title", "quote"):
        assert row[k] == before[k], k
    assert row["corrected_by"] == "" and tid not in load_corrections(db)
    assert undo_correction(db, tid, by="A") is False
    actions = [r["action"] for r in db.query("select action from task_correction_log where task_id = ? order by id",
                                              [tid])]
    assert actions == ["edit", "not_a_task", "edit", "undo"]


def test_bad_input_gets_a_vietnamese_message_and_changes_nothing(data):
    db = _db(data)
    tid = _task_id(db, "ban hành chưa đúng quy định")
    before = _row(db, tid)
    with pytest.raises(CorrectionError, match="không hợp lệ"):
        save_correction(db, tid, by="A", lead=[NEW_LEAD], due="31/02/2026")
    with pytest.raises(CorrectionError, match="Không tìm thấy nhiệm vụ"):
        save_correction(db, "no-such-task", by="A", lead=[NEW_LEAD])
    with pytest.raises(CorrectionError, match="tên người"):
        save_correction(db, tid, by="  ", lead=[NEW_LEAD])
    assert _row(db, tid) == before and load_corrections(db) == {}
    assert parse_due("2026-06-30") == parse_due("30/6/2026") == "2026-06-30" and parse_due("") == ""


def test_corrected_lead_and_deadline_drive_the_reminders(data):
    from bot.reminders import Reminders
    from bot.staff import StaffRegistry
    from web.schedule import schedule

    db = _db(data)
    tid = _task_id(db, "ban hành chưa đúng quy định")
    staff = StaffRegistry(data.db_path)
    new = staff.add_approved("Trần Văn Bình", NEW_LEAD, "phường Chơn Thành", "telegram", "1001")
    old = staff.add_approved("Lê Thị Cúc", OLD_LEAD, "phường Chơn Thành", "telegram", "1002")
    rem = Reminders(data.db_path, data)
    # "Thường xuyên": no dated reminder before the correction
    week_before = datetime(2026, 12, 8, 1, 0, tzinfo=timezone.utc)  # 08:00 in Hà Nội
    assert not [p for p in rem.preview(week_before) if p["task_id"] == tid]

    save_correction(db, tid, by="A", lead=[NEW_LEAD], deadline_text="Trước ngày 15/12/2026")

    sent = [p for p in Reminders(data.db_path, data).preview(week_before) if p["task_id"] == tid]
    assert [(p["unit"], p["due"], p["offset_days"], p["recipients"]) for p in sent] == [
        (NEW_LEAD, "2026-12-15", 7, [new.chat_id])]
    assert old.chat_id not in {r for p in sent for r in p["recipients"]}
    # the page's 30-day schedule, from the reminder service's own planning
    today, due = date(2026, 12, 1), date(2026, 12, 15)
    plan = [i for i in schedule(db, data, today) if i.task_id == tid]
    lead_days = {due - timedelta(days=off) for off in rem.cfg.lead_offsets()}
    assert {(i.day, i.unit, tuple(i.recipients)) for i in plan if i.role == "lead"} == {
        (d, NEW_LEAD, ("Trần Văn Bình (telegram)",)) for d in lead_days if today <= d <= today + timedelta(days=30)}
    assert all(i.occurrence == due for i in plan)


def edit_plan(corpus: Path, document: str) -> None:
    """The plan file is edited (a line added): it is re-extracted, and its unchanged tasks keep their ids."""
    path = next(corpus.rglob(document))
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n\nGhi chú: bản cập nhật của kế hoạch.\n",
                    encoding="utf-8")


def test_correction_survives_reindex_of_an_edited_plan_and_reaches_the_chat_answer(data, corpus_copy,
                                                                                    settings_factory, answerer):
    from bot.app import build_answerer, run_index

    settings = settings_factory(data.data_dir, corpus_copy)
    db = _db(settings)
    case = pick_case(answerer, db)
    save_correction(db, case.task_id, by="Nguyễn Thị Lan", lead=[case.new_lead], now="2026-12-01T01:30:00+07:00")
    edit_plan(corpus_copy, case.document)

    summary = run_index(settings, progress=False)

    assert case.document in summary.changes  # the plan was re-extracted, not kept as it was
    row = _row(_db(settings), case.task_id)
    assert json.loads(row["lead"]) == [case.new_lead] and row["corrected_by"] == "Nguyễn Thị Lan"
    fresh = build_answerer(settings)
    answer = fresh.ask(case.question)
    assert answer.tasks and answer.tasks[0].id == case.task_id
    assert case.new_lead in lead_line(answer.text) and case.old_lead not in lead_line(answer.text)
    # the chat marks the answer with the local date of the correction
    assert "đã được cán bộ hiệu chỉnh ngày 01/12/2026" in answer.text
