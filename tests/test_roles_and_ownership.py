"""Who may do what (issue 15, items 1, 8, 9 and 13), over the real answerer, the sample corpus' tasks and the real
reminders module.

- Item 1: only staff of a task's lead unit, in the task's locality, and admins may close (/xong) or postpone
  (/hoanlai) it; coordinators, other units and other communes get a clear refusal; each done/snooze records who.
- Item 8: bad numbers in commands get a usage reply, never "system error" nor a silent default.
- Item 9: a bare id in BOT_ADMIN_IDS is refused at start, with the fix in the message.
- Item 13: the plans are public: a unit's tasks and due lists are open to citizens (commands and plain questions
  agree); reminders and task actions stay staff, admin tools stay admin.
"""
from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.reminders import Reminders
from bot.settings import ConfigError
from conftest_channels import (
    ROOT,
    make_settings,
    new_conversation,
    shared_data_dir,
    shared_index,  # noqa: F401 - autouse fixture
)
from handlers.conversation import Incoming

ADMIN = "900"
VHXH, KT = "Phòng Văn hóa - Xã hội", "Phòng Kinh tế"
CHON_THANH, HAI_HAU = "phường Chơn Thành", "xã Hải Hậu"


def msg(text, user="501", channel="telegram"):
    return Incoming(channel, user, user, "Nguyễn Văn A", text, None, "text")


async def say(conv, text, **kw):
    replies = await conv.handle(msg(text, **kw))
    assert replies, f"no reply to {text!r}"
    return replies


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path, BOT_ADMIN_IDS=f"telegram:{ADMIN}")


@pytest.fixture
def conv(settings, tmp_path):
    # the bot's database holds the index's tasks (copied with the backup API: the index may have a WAL)
    with closing(sqlite3.connect(shared_data_dir() / "cchc.db")) as src, \
            closing(sqlite3.connect(tmp_path / "bot.db")) as dst:
        src.backup(dst)
    c = new_conversation(settings, tmp_path)
    yield c
    c.close()


def _rows(tmp_path, sql):
    with closing(sqlite3.connect(tmp_path / "bot.db")) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute(sql)]


# ------------------------------------------------------------------------------------------------ item 1

async def test_only_the_lead_unit_of_the_tasks_locality_or_an_admin_closes_or_postpones_it(conv, settings, tmp_path):
    rem = Reminders(tmp_path / "bot.db", settings)
    owner = conv.staff.add_approved("Mai", VHXH, CHON_THANH, "telegram", "700", user_id="700")
    other_unit = conv.staff.add_approved("Lan", KT, CHON_THANH, "telegram", "701", user_id="701")
    other_commune = conv.staff.add_approved("Hoa", VHXH, HAI_HAU, "telegram", "702", user_id="702")
    # a task Phòng Văn hóa - Xã hội leads in Chơn Thành, that every unit there coordinates ("Các cơ quan, đơn vị")
    task = next(t for t in rem.load_tasks() if t.locality == CHON_THANH and t.lead == [VHXH]
                and rem._roles_of(other_unit, t) == "coordinate")
    assert rem._roles_of(owner, task) == "lead" and rem._roles_of(other_commune, task) is None
    due = datetime.now(ZoneInfo(settings.timezone)).date() + timedelta(days=3)
    [r] = await say(conv, f"/dathan {task.id} {due:%d/%m/%Y}", user=ADMIN)
    assert "Đã đặt thời hạn mới" in r.text
    [r] = await say(conv, "/viectoi", user="700")
    code = re.search(r"\[(\w+)\] " + re.escape(task.title[:30]), r.text).group(1)

    # a coordinating unit of the same commune, by code: refused, and told who leads the task
    for command in (f"/xong {code}", f"/hoanlai {code} 30"):
        [r] = await say(conv, command, user="701")
        assert f"do {VHXH} ({CHON_THANH}) chủ trì" in r.text and "Chỉ cán bộ của đơn vị chủ trì" in r.text
    # the same unit in another commune, by raw task id: refused
    for command in (f"/xong {task.id}", f"/hoanlai {task.id} 5"):
        [r] = await say(conv, command, user="702")
        assert "Chỉ cán bộ của đơn vị chủ trì" in r.text
    assert _rows(tmp_path, "select * from reminder_done") == []
    assert _rows(tmp_path, "select * from reminder_snooze") == []

    # the lead unit's own staff may, and each action records who did it
    [r] = await say(conv, f"/hoanlai {code} 2", user="700")
    assert f"Đã hoãn nhắc việc mã {code} 2 ngày" in r.text
    [r] = await say(conv, f"/xong {code}", user="700")
    assert f"Đã ghi nhận hoàn thành nhiệm vụ mã {code}" in r.text
    assert [(s["task_id"], s["by"]) for s in _rows(tmp_path, "select * from reminder_snooze")] == [
        (task.id, "telegram:700")]
    assert [(d["task_id"], d["occurrence"], d["done_by"]) for d in _rows(tmp_path, "select * from reminder_done")] \
        == [(task.id, due.isoformat(), "telegram:700")]

    # an admin may act on any task, of any commune
    other = next(t for t in rem.load_tasks() if t.locality == HAI_HAU and t.lead)
    [r] = await say(conv, f"/xong {other.id}", user=ADMIN)
    assert "Đã ghi nhận hoàn thành nhiệm vụ" in r.text
    assert ("telegram:" + ADMIN) in {d["done_by"] for d in _rows(tmp_path, "select * from reminder_done")}


# ------------------------------------------------------------------------------------------------ item 8

@pytest.mark.parametrize("days", ["²", "99999999999999999999", "-5", "0", "3.5", "١٢", "366"])
async def test_bad_snooze_days_get_a_usage_reply_not_an_error_or_a_default(conv, tmp_path, days):
    conv.staff.add_approved("Mai", VHXH, CHON_THANH, "telegram", "700", user_id="700")
    rem = Reminders(tmp_path / "bot.db", conv.settings)
    task = next(t for t in rem.load_tasks() if t.locality == CHON_THANH and t.lead == [VHXH])
    due = datetime.now(ZoneInfo(conv.settings.timezone)).date() + timedelta(days=3)
    await say(conv, f"/dathan {task.id} {due:%d/%m/%Y}", user=ADMIN)
    [r] = await say(conv, f"/hoanlai {task.id} {days}", user="700")
    assert "không hợp lệ" in r.text and "từ 1 đến 365" in r.text and "sự cố" not in r.text
    assert _rows(tmp_path, "select * from reminder_snooze") == []


@pytest.mark.parametrize("bad", ["²", "99999999999999999999", "-5", "١٢"])
async def test_bad_numbers_in_admin_commands_get_a_usage_reply(conv, bad):
    [r] = await say(conv, f"/thongke {bad}", user=ADMIN)
    assert "không phải số hợp lệ" in r.text and "/thongke" in r.text
    [r] = await say(conv, f"/duyet {bad}", user=ADMIN)
    assert "Không có yêu cầu" in r.text
    [r] = await say(conv, f"/dathan abc 3{bad}/12/2026", user=ADMIN)
    assert "Cách dùng: /dathan" in r.text
    for text in (r.text,):
        assert "sự cố" not in text


# ------------------------------------------------------------------------------------------------ item 9

def test_a_bare_admin_id_is_refused_at_start_with_the_fix(tmp_path):
    settings = make_settings(tmp_path, BOT_ADMIN_IDS="telegram:900, 12345")
    with pytest.raises(ConfigError, match=r"'12345'.*telegram:123456789"):
        new_conversation(settings, tmp_path)
    ok = new_conversation(make_settings(tmp_path, BOT_ADMIN_IDS="telegram:900,zalo:12345"), tmp_path)
    try:
        assert ok.is_admin("zalo", "12345") and not ok.is_admin("telegram", "12345")
        assert ok.is_admin("telegram", "900") and not ok.is_admin("zalo", "900")
    finally:
        ok.close()


def test_serve_does_not_start_with_a_bare_admin_id(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "BOT_ADMIN_IDS": "12345", "BOT_DATA_DIR": str(tmp_path / "data"),
           "BOT_CORPUS_DIR": str(tmp_path / "empty"), "TELEGRAM_BOT_TOKEN": "", "ZALO_BOT_TOKEN": ""}
    out = subprocess.run([sys.executable, "-m", "bot", "serve"], cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)},
                         input="", capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr[-2000:]
    assert "BOT_ADMIN_IDS" in out.stderr and "telegram:123456789" in out.stderr
    assert not (tmp_path / "data" / "cchc.db").exists()  # refused before anything was built or served


# ------------------------------------------------------------------------------------------------ item 13

async def test_unit_tasks_and_due_lists_are_public_like_the_questions_are(conv):
    await say(conv, "/diaban Bình Giang")
    [command] = await say(conv, f"/nhiemvu {VHXH}")
    [question] = await say(conv, f"{VHXH} xã Bình Giang phụ trách những việc gì?")
    assert f"{VHXH} (xã Bình Giang)" in command.text and "nhiệm vụ" in command.text
    assert command.text == question.text
    [due] = await say(conv, "/hanchot năm 2026")
    assert "chỉ dành cho" not in due.text and ("đến hạn" in due.text or "Không có nhiệm vụ" in due.text)
    # reminders and actions on tasks stay staff; admin tools stay admin
    for staff_only in ("/viectoi", "/xong abc123", "/hoanlai abc123 3"):
        [r] = await say(conv, staff_only)
        assert "chỉ dành cho cán bộ" in r.text
    for admin_only in ("/dathan abc 1/1/2027", "/duyet", "/reindex", "/thongke"):
        [r] = await say(conv, admin_only)
        assert "chỉ dành cho quản trị" in r.text
    [help_] = await say(conv, "/help")
    assert "/nhiemvu" in help_.text and "/hanchot" in help_.text and "/xong" not in help_.text
