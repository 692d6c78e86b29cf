"""The channel-agnostic conversation core over the real answerer and the sample corpus."""
from __future__ import annotations

import io
import re
import sqlite3
import types
from contextlib import closing
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from conftest_channels import (
    AMBIGUOUS_UNIT_QUESTION,
    LEAD_UNIT,
    WHO_LEADS,
    WHO_LEADS_ASCII,
    make_settings,
    new_conversation,
    shared_index,  # noqa: F401 - autouse fixture
    shared_data_dir,
)
from handlers import commands
from handlers.conversation import CALLBACK_PREFIX, Incoming, match_locality
from handlers.ratelimit import RateLimiter
from handlers.usage_log import user_hash
from index.textnorm import fold

ADMIN = "900"


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path, BOT_ADMIN_IDS=f"telegram:{ADMIN}")


@pytest.fixture
def conv(settings, tmp_path):
    c = new_conversation(settings, tmp_path)
    yield c
    c.close()


def msg(text="", user="501", chat=None, channel="telegram", kind="text", data=None, name="Nguyễn Văn A"):
    return Incoming(channel, user, chat or user, name, text, data, kind)


async def say(conv, text, **kw):
    replies = await conv.handle(msg(text, **kw))
    assert replies, f"no reply to {text!r}"
    return replies


async def test_who_leads_with_and_without_diacritics(conv):
    for question in (WHO_LEADS, WHO_LEADS_ASCII):
        [reply] = await say(conv, question)
        assert LEAD_UNIT in reply.text
        # the only buttons under an answer are the feedback ones
        assert [b.label for b in reply.buttons[0]] == ["👍 Đúng", "👎 Chưa đúng"] and len(reply.buttons) == 1


async def test_follow_up_uses_the_last_task_of_this_chat(conv):
    await say(conv, WHO_LEADS)
    [coord] = await say(conv, "còn ai phối hợp?")
    assert "Phối hợp: Các cơ quan, đơn vị" in coord.text
    [when] = await say(conv, "hạn khi nào?")
    assert "Thời gian: Thường xuyên" in when.text
    # another chat has no last task: the same follow-up is not answered about this task
    [other] = await say(conv, "còn ai phối hợp?", user="777")
    assert "Rà soát, phát hiện các thủ tục" not in other.text


async def test_choices_numbered_reply_and_button(conv):
    [reply] = await say(conv, AMBIGUOUS_UNIT_QUESTION)
    assert len(reply.buttons) >= 2
    assert "Trả lời bằng số" in reply.text
    labels = [row[0].label for row in reply.buttons]
    assert any("Bình Giang" in label for label in labels)
    assert all(len(row[0].data.encode()) <= 64 for row in reply.buttons)
    # numbered reply (Zalo/console style)
    n = next(i for i, label in enumerate(labels, 1) if "Bình Giang" in label)
    [chosen] = await say(conv, str(n))
    assert "Phòng Văn hóa - Xã hội (xã Bình Giang)" in chosen.text
    # button (Telegram style): the callback key is bound to its chat
    [reply] = await say(conv, AMBIGUOUS_UNIT_QUESTION)
    data = next(row[0].data for row in reply.buttons if "Hải Hậu" in row[0].label)
    [stolen] = await conv.handle(msg(kind="callback", data=data, user="999"))
    assert "hết hạn" in stolen.text
    [chosen] = await conv.handle(msg(kind="callback", data=data))
    assert "(xã Hải Hậu)" in chosen.text
    [bogus] = await conv.handle(msg(kind="callback", data=CALLBACK_PREFIX + "nope"))
    assert "hết hạn" in bogus.text


async def test_locality_is_remembered_per_chat_in_sqlite(settings, tmp_path, conv):
    [r] = await say(conv, "/diaban hai hau")
    assert "xã Hải Hậu" in r.text
    [r] = await say(conv, "/locality")
    assert "Địa bàn đang chọn: xã Hải Hậu" in r.text and len(r.buttons) == 5
    again = new_conversation(settings, tmp_path)  # a restart: same SQLite file
    try:
        [r] = await again.handle(msg("/start"))
        assert "Địa bàn đang chọn: xã Hải Hậu" in r.text
        [r] = await again.handle(msg("/start", user="502"))
        assert "Địa bàn đang chọn" not in r.text
        [r] = await again.handle(msg("/diaban Hà Nội"))
        assert "Không tìm thấy" in r.text and "phường Chơn Thành" in r.text
        [r] = await again.handle(msg("/diaban tất cả"))
        assert "bỏ chọn" in r.text
    finally:
        again.close()


async def test_start_and_help_depend_on_role(conv):
    [start] = await say(conv, "/start")
    assert "Xin chào Nguyễn Văn A" in start.text and "ví dụ" in start.text
    [citizen] = await say(conv, "/help")
    assert "/dangky" in citizen.text and "/viectoi" not in citizen.text and "/duyet" not in citizen.text
    assert "/nhiemvu" in citizen.text and "/hanchot" in citizen.text  # plans are public (contract 5)
    [admin] = await say(conv, "/trogiup", user=ADMIN)
    assert "/nhiemvu" in admin.text and "/duyet" in admin.text and "/thongke" in admin.text
    assert "/dangky" not in admin.text  # an admin has nothing to register for


@pytest.mark.parametrize("channel", ["telegram", "zalo", "console"])
async def test_help_lists_dangky_only_to_people_who_can_still_register(conv, channel):
    """/dangky is listed to citizens (and to someone whose request is pending), not to approved staff or admins,
    on every channel (the console user is an admin)."""
    def listed(reply) -> set[str]:
        return set(re.findall(r"^/(\w+)", reply.text, re.M))

    if channel != "console":
        [citizen] = await say(conv, "/help", user="701", channel=channel)
        assert "dangky" in listed(citizen) and "nhiemvu" in listed(citizen)
        await say(conv, "/diaban Chơn Thành", user="701", channel=channel)
        await say(conv, "/dangky Phòng Văn hóa - Xã hội", user="701", channel=channel)
        [pending] = await say(conv, "/help", user="701", channel=channel)
        assert "dangky" in listed(pending)  # not staff yet: may still correct the request
        rid = conv.staff.find_by_user(channel, "701").id
        conv.staff.approve(rid, by="test")
        [staff] = await say(conv, "/help", user="701", channel=channel)
        assert {"viectoi", "xong", "hoanlai", "nhiemvu"} <= listed(staff) and "dangky" not in listed(staff)
        assert "cán bộ" in staff.text  # the role shown in the header
    admin = ADMIN if channel == "telegram" else "c1"
    if channel == "zalo":
        conv.admins = conv.admins | {"zalo:c1"}
    [help_] = await say(conv, "/help", user=admin, channel=channel)
    assert {"duyet", "thongke", "viectoi"} <= listed(help_) and "dangky" not in listed(help_)
    assert commands.lookup("dangky") not in commands.visible(commands.ADMIN)


async def test_citizen_denied_staff_and_admin_commands(conv):
    [r] = await say(conv, "/viectoi")
    assert "chỉ dành cho cán bộ" in r.text
    [r] = await say(conv, "/done T1")
    assert "chỉ dành cho cán bộ" in r.text
    [r] = await say(conv, "/thongke")
    assert "chỉ dành cho quản trị" in r.text
    [r] = await say(conv, "/duyet 1")
    assert "chỉ dành cho quản trị" in r.text


async def test_registration_approval_then_staff_commands(conv):
    [r] = await say(conv, "/dangky Phòng Văn hóa - Xã hội")
    assert "chọn địa bàn" in r.text  # five localities: which one?
    await say(conv, "/diaban Chơn Thành")
    replies = await say(conv, "/dangky Phòng Văn hóa - Xã hội")
    to_user = [r for r in replies if r.chat_id == "501"]
    to_admin = [r for r in replies if r.chat_id == ADMIN]
    assert "Đã gửi yêu cầu" in to_user[0].text
    assert "/duyet" in to_admin[0].text and len(to_admin[0].buttons[0]) == 2
    request_id = conv.staff.list("pending")[0].id
    [pending] = await say(conv, "/duyet", user=ADMIN)
    assert f"#{request_id}" in pending.text and "Nguyễn Văn A" in pending.text
    # the admin presses "Duyệt" (a button in the admin's own chat)
    approve = to_admin[0].buttons[0][0].data
    decided = await conv.handle(msg(kind="callback", data=approve, user=ADMIN))
    assert any(r.chat_id == ADMIN and "Đã duyệt" in r.text for r in decided)
    assert any(r.chat_id == "501" and "đã được duyệt" in r.text for r in decided)
    [r] = await say(conv, "/nhiemvu")  # own unit from the registration
    assert "Phòng Văn hóa - Xã hội (phường Chơn Thành) " in r.text
    [r] = await say(conv, "/hanchot năm 2026")
    assert "đến hạn" in r.text or "Không có nhiệm vụ" in r.text
    [r] = await say(conv, "/dangky Phòng Văn hóa - Xã hội")
    assert "đã là cán bộ" in r.text
    [r] = await say(conv, f"/duyet {request_id}", user=ADMIN)  # decided already
    assert "Không có yêu cầu" in r.text


async def test_reject(conv):
    await say(conv, "/diaban Hải Hậu", user="600")
    await say(conv, "/register Phòng Kinh tế", user="600")
    rid = conv.staff.list("pending")[0].id
    replies = await say(conv, f"/tuchoi {rid} không thuộc đơn vị", user=ADMIN)
    assert any(r.chat_id == "600" and "chưa được duyệt" in r.text and "không thuộc đơn vị" in r.text for r in replies)
    [r] = await say(conv, "/viectoi", user="600")
    assert "chỉ dành cho cán bộ" in r.text


async def test_decision_buttons_leave_a_mark_saying_what_was_decided(conv):
    """A pressed [Duyệt #N] / [Từ chối #N] keyboard becomes one ✓ line (as a pressed 👍/👎 does) that says what
    happened to the request; a stale keyboard pressed later shows the request's real state; a press that decides
    nothing leaves the buttons."""
    def press(data, user=ADMIN, chat=ADMIN, message_id="77"):
        incoming = msg(kind="callback", data=data, user=user, chat=chat)
        incoming.message_id = message_id
        return conv.handle(incoming)

    def marks(replies):
        return [[b.label for row in r.buttons for b in row] for r in replies
                if r.markup_only and r.edit_message_id == "77" and r.chat_id == ADMIN]

    await say(conv, "/diaban Chơn Thành", user="801")
    notes = [r for r in await say(conv, "/dangky Phòng Văn hóa - Xã hội", user="801") if r.chat_id == ADMIN]
    [approve, reject] = notes[0].buttons[0]
    rid = conv.staff.find_by_user("telegram", "801").id
    denied = await press(approve.data, user="555")  # someone else in the admin's chat: not an admin
    assert "chỉ dành cho quản trị" in denied[0].text and marks(denied) == []
    assert conv.staff.get(rid).status == "pending"  # nothing decided: the buttons stay
    decided = await press(approve.data)
    assert marks(decided) == [[f"✓ Đã duyệt #{rid}"]] and decided[0].buttons[0][0].data == "k:-"
    assert any(r.chat_id == ADMIN and "Đã duyệt yêu cầu" in r.text for r in decided)
    assert conv.staff.get(rid).status == "approved"
    again = await press(reject.data)  # the same keyboard pressed again before the edit arrived
    assert marks(again) == [[f"✓ Đã duyệt #{rid}"]] and "Không có yêu cầu" in again[-1].text
    assert conv.staff.get(rid).status == "approved"

    await say(conv, "/diaban Hải Hậu", user="802")
    notes = [r for r in await say(conv, "/dangky Phòng Kinh tế", user="802") if r.chat_id == ADMIN]
    [approve2, reject2] = notes[0].buttons[0]
    rid2 = conv.staff.find_by_user("telegram", "802").id
    rejected = await press(reject2.data)
    assert marks(rejected) == [[f"✓ Đã từ chối #{rid2}"]]
    assert any(r.chat_id == "802" and "chưa được duyệt" in r.text for r in rejected)
    stale = await press(approve2.data)  # rejected already: not approved by a stale button
    assert marks(stale) == [[f"✓ Đã xử lý #{rid2}"]] and conv.staff.get(rid2).status == "removed"


@pytest.mark.parametrize("channel", ["telegram", "zalo", "console"])
async def test_list_pages_say_what_to_type_only_where_there_are_no_buttons(conv, channel):
    """Telegram pages a long list with ◀ ▶ buttons and shows no typed hint; Zalo and the console say once what to
    type for the next page, and typing it shows that page, up to the last one, which says nothing more."""
    user = "c0" if channel == "console" else "701"
    await say(conv, "/diaban Bình Giang", user=user, channel=channel)
    [page] = await say(conv, "/nhiemvu Phòng Văn hóa - Xã hội", user=user, channel=channel)
    pages = int(re.search(r"\(Trang 1/(\d+)\.\)", page.text).group(1))
    assert pages >= 2
    if channel == "telegram":
        assert "Gõ" not in page.text and [b.label for b in page.buttons[0]] == ["Trang 2 ▶"]
        return
    seen = set()
    for n in range(2, pages + 1):
        assert not page.buttons and page.text.count("Gõ “") == 1
        typed = re.search(r"\(Gõ “([^”]+)” để xem tiếp\.\)$", page.text).group(1)
        assert typed == f"/nhiemvu Phòng Văn hóa - Xã hội, xã Bình Giang trang {n}"
        seen |= {line for line in page.text.split("\n") if line.startswith("• ")}
        await say(conv, "/diaban Hải Hậu", user=user, channel=channel)  # the typed command names its commune
        [page] = await say(conv, typed, user=user, channel=channel)
        assert f"(Trang {n}/{pages}.)" in page.text and "(xã Bình Giang)" in page.text
        assert not seen & {line for line in page.text.split("\n") if line.startswith("• ")}
    assert "Gõ" not in page.text  # the last page


async def test_admin_stats_count_usage_and_unanswered(conv):
    await say(conv, WHO_LEADS)
    await say(conv, "Giá vé máy bay đi Đà Nẵng tháng này là bao nhiêu?")
    await say(conv, "gia ve may bay di da nang thang nay la bao nhieu")
    await say(conv, "/viectoi")
    [r] = await say(conv, "/stats", user=ADMIN)
    assert "Câu hỏi: 3 (trả lời được 1, chưa trả lời được 2)" in r.text
    assert "(2×) gia ve may bay" in fold(r.text)
    assert "bị từ chối/giới hạn: 1" in r.text


async def test_usage_log_has_hashes_not_raw_ids(conv, tmp_path):
    secret_id = "8642097531"
    await say(conv, WHO_LEADS, user=secret_id)
    with sqlite3.connect(tmp_path / "bot.db") as db:
        rows = db.execute("SELECT user_hash, kind, question, intent, found, latency_ms FROM usage_log").fetchall()
    assert rows == [(user_hash("telegram", secret_id, "test-salt"), "question", WHO_LEADS, rows[0][3], 1, rows[0][5])]
    assert rows[0][3] and rows[0][5] >= 0
    with sqlite3.connect(tmp_path / "bot.db") as db:
        everything = db.execute("SELECT * FROM usage_log").fetchall()
    assert secret_id not in repr(everything)


async def test_rate_limit_friendly_reply_once_then_silence(tmp_path):
    clock = [0.0]
    settings = make_settings(tmp_path, BOT_RATE_LIMIT_PER_SECOND=1.0, BOT_RATE_LIMIT_BURST=2)
    conv = new_conversation(settings, tmp_path, clock=lambda: clock[0])
    try:
        assert "Các lệnh" in (await conv.handle(msg("/help")))[0].text
        assert "Các lệnh" in (await conv.handle(msg("/help")))[0].text
        [limited] = await conv.handle(msg("/help"))
        assert "nhanh quá" in limited.text
        assert await conv.handle(msg("/help")) == []
        assert "Các lệnh" in (await conv.handle(msg("/help", user="other")))[0].text  # per user
        clock[0] += 1.0
        assert "Các lệnh" in (await conv.handle(msg("/help")))[0].text
    finally:
        conv.close()


async def test_polite_replies_for_odd_input(conv, settings):
    [r] = await say(conv, "/khongco")
    assert "Không có lệnh /khongco" in r.text
    [r] = await say(conv, "   ")
    assert "chưa nhập" in r.text
    [r] = await say(conv, "a" * (settings.max_message_chars + 1))
    assert "dài quá" in r.text
    [r] = await conv.handle(msg(kind="unsupported"))
    assert "chỉ đọc được tin nhắn chữ" in r.text
    [r] = await say(conv, "/ViệcTới@CchcBot")  # folded command name, bot suffix
    assert "chỉ dành cho cán bộ" in r.text


async def test_reminder_commands_not_enabled_or_delegated(settings, tmp_path):
    off = new_conversation(settings, tmp_path, reminders=types.SimpleNamespace())
    calls = []

    async def handle_command(name, args, **ctx):
        calls.append((name, args, ctx["channel"], ctx["user_id"]))
        return f"ok {name}"

    hook = new_conversation(settings, tmp_path, reminders=types.SimpleNamespace(handle_command=handle_command))
    try:
        [r] = await off.handle(msg("/xong T1", user=ADMIN))
        assert "chưa được bật" in r.text
        [r] = await hook.handle(msg("/done T1", user=ADMIN))
        assert r.text == "ok xong" and calls == [("xong", "T1", "telegram", ADMIN)]
        [r] = await hook.handle(msg("/viectoi"))
        assert "chỉ dành cho cán bộ" in r.text  # staff only, even when enabled
    finally:
        off.close()
        hook.close()


async def test_reminder_commands_with_the_reminders_module(settings, tmp_path):
    # the bot's database holds the tasks: copy the index's (with the backup API: it may have a WAL)
    with closing(sqlite3.connect(shared_data_dir() / "cchc.db")) as src, \
            closing(sqlite3.connect(tmp_path / "bot.db")) as dst:
        src.backup(dst)
    conv = new_conversation(settings, tmp_path)
    try:
        conv.staff.add_approved("Mai", "Phòng Văn hóa - Xã hội", "phường Chơn Thành", "telegram", "700", user_id="700")
        task = next(t for t in conv.answerer.index.tasks
                    if t.locality == "phường Chơn Thành" and "Phòng Văn hóa - Xã hội" in t.lead)
        [r] = await say(conv, "/xong", user="700")
        assert "Cách dùng: /xong" in r.text
        [r] = await say(conv, "/xong zzzzzz", user="700")
        assert "Không tìm thấy nhiệm vụ có mã zzzzzz" in r.text
        [r] = await say(conv, f"/dathan {task.id} 30/6/2027", user="700")
        assert "chỉ dành cho quản trị" in r.text
        due = datetime.now(ZoneInfo(settings.timezone)).date() + timedelta(days=3)
        [r] = await say(conv, f"/dathan {task.id} {due:%d/%m/%Y}", user=ADMIN)
        assert "Đã đặt thời hạn mới" in r.text
        [r] = await say(conv, "/viectoi", user="700")
        code = re.search(r"\[(\w+)\] " + re.escape(task.title[:30]), r.text).group(1)
        [r] = await say(conv, f"/hoanlai {code} 2", user="700")
        assert f"Đã hoãn nhắc việc mã {code} 2 ngày" in r.text
        [r] = await say(conv, f"/xong {code}", user="700")
        assert f"Đã ghi nhận hoàn thành nhiệm vụ mã {code} (hạn {due:%d/%m/%Y})" in r.text
        [r] = await say(conv, "/viectoi", user=ADMIN)  # an admin with no unit
        assert "chưa đăng ký đơn vị" in r.text
    finally:
        conv.close()


async def test_console_user_is_admin(conv):
    [r] = await conv.handle(msg("/thongke", channel="console", user="operator"))
    assert "Thống kê" in r.text


def test_command_parsing():
    assert commands.parse("/nhiemvu Phòng Văn hóa ") == ("nhiemvu", "Phòng Văn hóa")
    assert commands.parse("/HanChot@bot tháng 6") == ("hanchot", "tháng 6")
    assert commands.parse("/đăngký\nPhòng Kinh tế") == ("dangky", "Phòng Kinh tế")
    assert commands.parse("hỏi /nhiemvu") is None
    assert commands.lookup("tasks").name == "nhiemvu" and commands.lookup("approve").name == "duyet"
    assert commands.lookup("nope") is None


def test_match_locality():
    known = ["phường Chơn Thành", "xã Bình Giang", "xã Hải Hậu"]
    assert match_locality("Chon Thanh", known) == ["phường Chơn Thành"]
    assert match_locality("phường chơn thành", known) == ["phường Chơn Thành"]
    assert match_locality("xã", known) == []
    assert match_locality("UBND xã Hải Hậu", known) == ["xã Hải Hậu"]
    assert match_locality("giang", known) == ["xã Bình Giang"]


def test_rate_limiter_refills():
    t = [0.0]
    rl = RateLimiter(rate=2.0, burst=3, clock=lambda: t[0])
    assert [rl.check("u") for _ in range(5)] == ["ok", "ok", "ok", "limited", "drop"]
    assert rl.retry_after("u") == pytest.approx(0.5)
    t[0] = 0.5
    assert rl.check("u") == "ok"
    assert rl.check("u") == "limited"


async def test_console_chat_numbered_choices(settings, tmp_path):
    from bot.console import chat

    conv = new_conversation(settings, tmp_path)
    out = io.StringIO()
    try:
        await chat(conv, io.StringIO(f"{AMBIGUOUS_UNIT_QUESTION}\n2\n\n/thoat\n/help\n"), out)
    finally:
        conv.close()
    text = out.getvalue()
    assert "Trả lời bằng số" in text
    assert "Phòng Văn hóa - Xã hội (xã Bình Giang) " in text  # "2" chose the second locality
    assert "Các lệnh" not in text  # nothing after /thoat


async def test_reindex_swaps_the_answerer_or_reports_failure(settings, tmp_path):
    fresh = object()

    async def ok():
        return fresh

    async def broken():
        raise RuntimeError("corpus/ is empty")

    good = new_conversation(settings, tmp_path, reindex=ok)
    bad = new_conversation(settings, tmp_path, reindex=broken)
    try:
        [r] = await good.handle(msg("/reindex"))
        assert "chỉ dành cho quản trị" in r.text and good.answerer is not fresh
        [r] = await good.handle(msg("/reindex", user=ADMIN))
        assert "Đã lập lại chỉ mục" in r.text and good.answerer is fresh
        before = bad.answerer
        [r] = await bad.handle(msg("/reindex", user=ADMIN))
        assert "thất bại: corpus/ is empty" in r.text and bad.answerer is before
    finally:
        good.close()
        bad.close()
