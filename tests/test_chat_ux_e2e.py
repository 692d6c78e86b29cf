"""End-to-end tests of the chat experience against the Telegram emulator (scripts/telegram-emulator.mjs, which
adds files, edited messages and a record of setMyCommands / sendChatAction / edit calls to telegram-test-api):
an admin uploading a DOCX plan and asking about it, a citizen's upload refused, feedback stored and shown in
/thongke, paging by button editing the message, the /start deep link, role-scoped command menus, edited
messages, group chats, HTML answers."""
from __future__ import annotations

import asyncio
import base64
import re
import secrets
import sqlite3
import time
from contextlib import closing
from pathlib import Path

from conftest_channels import (
    AMBIGUOUS_UNIT_QUESTION,
    LEAD_UNIT,
    WHO_LEADS,
    shared_index,  # noqa: F401 - autouse fixture
)
from docgen import make_docx_plan, make_numbered_docx_plan
from test_telegram_e2e import ADMIN_ID, Bot, User, emulator_port, start_bot, text_of  # noqa: F401 - fixtures

TAN_LAP_QUESTION = "Tân Lập: ai chủ trì rà soát quy trình nội bộ giải quyết thủ tục cấp phép xây dựng?"


class ChatUser(User):
    """A user who can also send files, edit messages, and talk in a group."""

    def __init__(self, *args, chat: dict | None = None, **kw):
        super().__init__(*args, **kw)
        if chat is not None:
            self.chat = chat
        self.sent_ids: list[int] = []

    async def send_document(self, name: str, data: bytes, mime: str = "application/octet-stream") -> None:
        file_id = secrets.token_hex(8)
        r = await self.http.post("/putFile", json={"botToken": self.token, "file_id": file_id,
                                                   "base64": base64.b64encode(data).decode()})
        r.raise_for_status()
        document = {"file_id": file_id, "file_unique_id": "u" + file_id, "file_name": name, "mime_type": mime,
                    "file_size": len(data)}
        await self.send_raw(document=document)

    async def edit(self, message_id: int, text: str) -> None:
        r = await self.http.post("/sendEditedMessage", json={
            "botToken": self.token, "message_id": message_id, "chat": self.chat, "from": self.user,
            "date": int(time.time()), "text": text})
        r.raise_for_status()

    async def history(self) -> list[dict]:
        """Every bot message to this chat as it is now (edits included)."""
        r = await self.http.post("/getUpdatesHistory", json={"token": self.token})
        return [u for u in r.json()["result"]
                if "chat_id" in u.get("message", {}) and str(u["message"]["chat_id"]) == str(self.chat["id"])]


async def recorded(bot: Bot, method: str) -> list[dict]:
    r = await bot.http.post("/recordedCalls", json={"token": bot.token})
    return [c["body"] for c in r.json()["result"] if c["method"] == method]


def user(bot: Bot, user_id: int, name: str = "Lan", chat: dict | None = None) -> ChatUser:
    return ChatUser(bot.http, bot.token, user_id, name, chat=chat)


async def test_admin_uploads_a_docx_plan_then_asks_about_it(start_bot, tmp_path):
    bot = await start_bot(private_corpus=True)  # uploads change the corpus
    admin = user(bot, ADMIN_ID, "Admin")
    [before] = await admin.ask(TAN_LAP_QUESTION)
    assert "Phòng Kinh tế" not in text_of(before)  # not in the corpus yet
    plan = make_docx_plan(tmp_path / "plan.docx")
    await admin.send_document("../../Kế hoạch CCHC 2027 xã Tân Lập.docx", plan.read_bytes(),
                              "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    [report] = await admin.replies(timeout=120)
    text = text_of(report)
    assert "Đã thêm Kế hoạch CCHC 2027 xã Tân Lập.docx vào kho tài liệu" in text, text
    assert "Địa bàn: xã Tân Lập" in text and "Nhiệm vụ: " in text
    stored = Path(bot.settings.corpus_dir) / "Kế hoạch CCHC 2027 xã Tân Lập.docx"
    assert stored.read_bytes() == plan.read_bytes()  # the path in the name was dropped: inside the corpus
    assert any(c["action"] == "typing" for c in await recorded(bot, "sendChatAction"))
    [answer] = await admin.ask(TAN_LAP_QUESTION)
    assert "Phòng Kinh tế" in text_of(answer) and "xã Tân Lập" in text_of(answer)
    # the same name again replaces it; the old copy is kept aside
    await admin.send_document("Kế hoạch CCHC 2027 xã Tân Lập.docx", plan.read_bytes())
    [again] = await admin.replies(timeout=120)
    assert "Tệp cũ cùng tên đã được thay" in text_of(again)
    assert list((Path(bot.settings.data_dir) / "superseded").glob("*Tân Lập.docx"))
    # /xoa removes it and the answer goes away
    [removed] = await admin.ask("/xoa Tân Lập")
    assert "Đã gỡ Kế hoạch CCHC 2027 xã Tân Lập.docx" in text_of(removed)
    assert not stored.exists() and list((Path(bot.settings.data_dir) / "removed").glob("*Tân Lập.docx"))
    [after] = await admin.ask(TAN_LAP_QUESTION)
    assert "Phòng Kinh tế" not in text_of(after)


async def test_a_new_version_with_the_same_issuer_and_number_supersedes_the_old(start_bot, tmp_path):
    bot = await start_bot(private_corpus=True)  # uploads change the corpus
    admin = user(bot, ADMIN_ID, "Admin")
    corpus, data = Path(bot.settings.corpus_dir), Path(bot.settings.data_dir)
    v1 = make_numbered_docx_plan(tmp_path / "v1.docx", lead="Phòng Kinh tế")
    await admin.send_document("kh-15-tan-lap.docx", v1.read_bytes())
    [first] = await admin.replies(timeout=120)
    assert "Cơ quan ban hành: UBND xã Tân Lập; số: 15/KH-UBND; ngày: 05/01/2027" in text_of(first), text_of(first)
    v2 = make_numbered_docx_plan(tmp_path / "v2.docx", lead="Phòng Văn hóa - Xã hội")
    await admin.send_document("kh-15-tan-lap-sua-doi.docx", v2.read_bytes())
    [second] = await admin.replies(timeout=120)
    assert "thay thế kh-15-tan-lap.docx" in text_of(second), text_of(second)
    assert not (corpus / "kh-15-tan-lap.docx").exists() and (corpus / "kh-15-tan-lap-sua-doi.docx").exists()
    assert list((data / "superseded").glob("*kh-15-tan-lap.docx"))
    [answer] = await admin.ask(TAN_LAP_QUESTION)
    assert "Phòng Văn hóa - Xã hội" in text_of(answer) and "Phòng Kinh tế" not in text_of(answer)


async def test_citizen_upload_refused_and_bad_files_refused(start_bot, tmp_path):
    bot = await start_bot(private_corpus=True)  # uploads change the corpus
    citizen, admin = user(bot, 611), user(bot, ADMIN_ID, "Admin")
    files_before = sorted(p.name for p in Path(bot.settings.corpus_dir).rglob("*"))
    plan = make_docx_plan(tmp_path / "plan.docx")
    await citizen.send_document("ke-hoach.docx", plan.read_bytes())
    [r] = await citizen.replies()
    assert "Chỉ quản trị viên mới gửi được tài liệu" in text_of(r)
    assert await recorded(bot, "getFile") == []  # not even downloaded
    await admin.send_document("virus.exe", b"MZ\x90\x00")
    [r] = await admin.replies()
    assert "Không nhận tệp virus.exe" in text_of(r) and "DOCX" in text_of(r)
    await admin.send_document("gia-mao.docx", b"just text, not a Word file")
    [r] = await admin.replies()
    assert "Không nhận tệp gia-mao.docx" in text_of(r) and "không phải DOCX" in text_of(r)
    assert sorted(p.name for p in Path(bot.settings.corpus_dir).rglob("*")) == files_before


async def test_feedback_stored_and_shown_in_thongke(start_bot):
    bot = await start_bot()
    citizen, admin = user(bot, 612), user(bot, ADMIN_ID, "Admin")
    question = WHO_LEADS.replace("?", ", tôi số 0912345678?")
    [answer] = await citizen.ask(question)
    assert LEAD_UNIT in text_of(answer)
    labels = [b["text"] for row in answer["message"]["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["👍 Đúng", "👎 Chưa đúng"]
    await citizen.press(answer, "Chưa đúng")
    [thanks] = await citizen.replies()
    assert "Câu hỏi đã được ghi lại" in text_of(thanks)
    edited = next(m for m in await citizen.history() if m["messageId"] == answer["messageId"])
    assert [b["text"] for row in edited["message"]["reply_markup"]["inline_keyboard"] for b in row] == [
        "✓ 👎 Chưa đúng"]
    [unanswered] = await citizen.ask("Giá vé máy bay đi Đà Nẵng là bao nhiêu?")
    await citizen.press(unanswered, "Đúng")
    await citizen.replies()
    with closing(sqlite3.connect(bot.conversation.db_path)) as db:
        rows = db.execute("SELECT channel, question, vote, intent, found, user_hash FROM feedback ORDER BY id").fetchall()
    assert [(r[0], r[2]) for r in rows] == [("telegram", -1), ("telegram", 1)]
    assert "0912345678" not in rows[0][1] and "[số điện thoại]" in rows[0][1] and rows[0][3] == "lead" and rows[0][4] == 1
    assert "612" not in rows[0][5]
    [stats] = await admin.ask("/thongke")
    text = text_of(stats)
    assert "👍 1, 👎 1 (tỷ lệ hài lòng 50%)" in text
    assert "Câu trả lời bị đánh giá 👎 gần đây:" in text and "[số điện thoại]" in text
    assert "Câu hỏi chưa trả lời được gần đây:" in text and "Giá vé máy bay" in text


async def test_paging_by_button_edits_the_message(start_bot):
    bot = await start_bot()
    u = user(bot, 613)
    await u.ask("/diaban Bình Giang")
    [page1] = await u.ask("/nhiemvu Phòng Văn hóa - Xã hội")
    keyboard = page1["message"]["reply_markup"]["inline_keyboard"]
    assert [b["text"] for b in keyboard[0]] == ["Trang 2 ▶"]
    first = text_of(page1)
    await u.press(page1, "Trang 2")
    await u.replies(0, timeout=1, settle=0.5)  # no new message: the list itself changes
    deadline = time.monotonic() + 15
    while True:
        now = next(m for m in await u.history() if m["messageId"] == page1["messageId"])
        if now["message"]["text"] != first or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    second = now["message"]["text"]
    pages = int(re.search(r"\(Trang 1/(\d+)\.", first).group(1))
    assert pages >= 2 and f"(Trang 2/{pages}." in second
    items = lambda text: {line for line in text.split("\n") if line.startswith("• ")}  # noqa: E731
    assert items(second) and not items(first) & items(second)  # the next tasks, none of the first page's
    assert [b["text"] for b in now["message"]["reply_markup"]["inline_keyboard"][0]] == (
        ["◀ Trang 1"] + (["Trang 3 ▶"] if pages > 2 else []))
    assert any(str(c["message_id"]) == str(page1["messageId"]) for c in await recorded(bot, "editMessageText"))


async def test_pressed_choice_is_marked(start_bot):
    bot = await start_bot()
    u = user(bot, 614)
    [choices] = await u.ask(AMBIGUOUS_UNIT_QUESTION)
    await u.press(choices, "Bình Giang")
    [answer] = await u.replies()
    assert "Phòng Văn hóa - Xã hội (xã Bình Giang) " in text_of(answer)
    marked = next(m for m in await u.history() if m["messageId"] == choices["messageId"])
    [[only]] = marked["message"]["reply_markup"]["inline_keyboard"]
    assert only["text"].startswith("✓") and "Bình Giang" in only["text"]


async def test_deep_link_selects_the_commune_and_huy_cancels(start_bot):
    bot = await start_bot()
    u = user(bot, 615, "Hoa")
    [start] = await u.ask("/start chon-thanh")  # t.me/<bot>?start=chon-thanh (a QR code at the one-stop shop)
    assert "Địa bàn đang chọn: phường Chơn Thành" in text_of(start) and "Xin chào Hoa" in text_of(start)
    assert text_of(start).count("Chơn Thành.") == 1  # said once
    [answer] = await u.ask("Đặt mục tiêu tỷ lệ hồ sơ trực tuyến là bao nhiêu?")
    assert "phường Chơn Thành" in text_of(answer) and "80%" in text_of(answer)
    [unknown] = await u.ask("/start ha-noi")
    assert "Không tìm thấy địa bàn “ha noi”" in text_of(unknown)
    await u.ask("/diaban tất cả")
    await u.ask(AMBIGUOUS_UNIT_QUESTION)
    [cancelled] = await u.ask("/huy")
    assert "Đã hủy" in text_of(cancelled)
    [two] = await u.ask("2")  # no pending choice any more: "2" is not a choice
    assert "Phòng Văn hóa - Xã hội (xã Bình Giang) " not in text_of(two)


async def test_role_scoped_command_menus(start_bot):
    bot = await start_bot()
    calls = await recorded(bot, "setMyCommands")
    by_scope = {(c.get("scope") or {}).get("type", "default") + str((c.get("scope") or {}).get("chat_id", "")):
                [x["command"] for x in c["commands"]] for c in calls}
    citizen = by_scope["default"]
    assert {"start", "help", "diaban", "nhiemvu", "hanchot", "huy", "dangky"} <= set(citizen)
    assert not {"viectoi", "xong", "duyet", "thongke", "xoa", "reindex"} & set(citizen)
    admin = by_scope[f"chat{ADMIN_ID}"]
    assert {"duyet", "thongke", "xoa", "tailen", "reindex", "viectoi"} <= set(admin)
    assert "dangky" not in admin  # registering is for people who are not staff yet
    # a staff member approved: their chat gets the staff menu
    staff, admin_user = user(bot, 616, "Mai"), user(bot, ADMIN_ID, "Admin")
    await staff.ask("/diaban Chơn Thành")
    await staff.ask("/dangky Phòng Văn hóa - Xã hội")
    [note] = await admin_user.replies()
    await admin_user.press(note, "Duyệt")
    await admin_user.replies()
    await staff.replies()
    calls = await recorded(bot, "setMyCommands")
    staff_menu = [[x["command"] for x in c["commands"]] for c in calls
                  if (c.get("scope") or {}).get("chat_id") == 616]
    assert staff_menu and "viectoi" in staff_menu[-1] and "xong" in staff_menu[-1]
    assert "duyet" not in staff_menu[-1] and "dangky" not in staff_menu[-1]


async def test_approval_button_leaves_a_mark(start_bot):
    bot = await start_bot()
    staff, admin = user(bot, 618, "Mai"), user(bot, ADMIN_ID, "Admin")
    await staff.ask("/diaban Chơn Thành")
    await staff.ask("/dangky Phòng Văn hóa - Xã hội")
    [note] = await admin.replies()
    rid = re.search(r"#(\d+)", text_of(note)).group(1)
    await admin.press(note, "Duyệt")
    [done] = await admin.replies()
    assert f"Đã duyệt yêu cầu #{rid}" in text_of(done)
    await staff.replies()

    async def keyboard_of_note() -> list[list[str]]:
        now = next(m for m in await admin.history() if m["messageId"] == note["messageId"])
        return [[b["text"] for b in row] for row in (now["message"].get("reply_markup") or {}).get("inline_keyboard", [])]

    assert await keyboard_of_note() == [[f"✓ Đã duyệt #{rid}"]]  # the buttons leave a visible ✓, not nothing
    assert text_of(next(m for m in await admin.history() if m["messageId"] == note["messageId"])) == text_of(note)
    await admin.press(note, "Từ chối")  # the old keyboard pressed again: nothing changes, it says so
    [again] = await admin.replies()
    assert f"Không có yêu cầu #{rid} đang chờ duyệt" in text_of(again)
    assert await keyboard_of_note() == [[f"✓ Đã duyệt #{rid}"]]
    assert bot.conversation.staff.get(int(rid)).status == "approved"


async def test_edited_message_is_answered_again(start_bot):
    bot = await start_bot()
    u = user(bot, 617)
    await u.send("Chơn Thành: ai chủ trì rà soát thủ tục?")
    await u.replies()
    history = (await bot.http.post("/getUpdatesHistory", json={"token": bot.token})).json()["result"]
    sent = [m for m in history if m.get("message", {}).get("from", {}).get("id") == 617]
    await u.edit(sent[-1]["messageId"], WHO_LEADS)
    [again] = await u.replies()
    assert text_of(again).startswith("✏️ Trả lời theo câu hỏi đã sửa:") and LEAD_UNIT in text_of(again)
    await u.edit(sent[-1]["messageId"], "/xong abc")
    [ack] = await u.replies()
    assert "đã sửa một lệnh" in text_of(ack)


async def test_group_answers_when_mentioned_and_keeps_choices_per_member(start_bot):
    bot = await start_bot()
    group = {"id": -100777, "type": "supergroup", "title": "UBND xã"}
    a, b = user(bot, 618, "An", chat=group), user(bot, 619, "Bình", chat=group)
    a.id = b.id = group["id"]  # replies go to the group chat
    await a.send("Phòng Văn hóa - Xã hội phụ trách những việc gì?")
    await a.replies(0, timeout=1, settle=1.0)  # people talking to each other: silence
    mention = "@TestNameBot " + AMBIGUOUS_UNIT_QUESTION
    await a.send_raw(text=mention, entities=[{"offset": 0, "length": 12, "type": "mention"}])
    [choices] = await a.replies()
    assert "Trả lời bằng số" in text_of(choices)
    n = next(i for i, row in enumerate(choices["message"]["reply_markup"]["inline_keyboard"], 1)
             if "Bình Giang" in row[0]["text"])
    # B's "n" (addressed to the bot) is not a choice of B's; A's is
    await b.send_raw(text=f"@TestNameBot {n}", entities=[{"offset": 0, "length": 12, "type": "mention"}])
    [b_reply] = await b.replies()
    assert "Phòng Văn hóa - Xã hội (xã Bình Giang) " not in text_of(b_reply)
    await a.send_raw(text=f"@TestNameBot {n}", entities=[{"offset": 0, "length": 12, "type": "mention"}])
    [a_reply] = await a.replies()
    assert "Phòng Văn hóa - Xã hội (xã Bình Giang) " in text_of(a_reply)
    # a reply to the bot's message needs no mention
    reply_to = {"message_id": a_reply["messageId"], "date": int(time.time()), "chat": group,
                "from": {"id": 666, "is_bot": True, "first_name": "CCHC Test Bot", "username": "TestNameBot"},
                "text": text_of(a_reply)}
    await a.send_raw(text="còn ai phối hợp?", reply_to_message=reply_to)
    [follow] = await a.replies()
    assert "Phối hợp" in text_of(follow) or "phối hợp" in text_of(follow)


async def test_answers_are_html_with_bold_blockquote_and_document_link(start_bot):
    """Whatever wording the answerer chooses, the line answering "ai chủ trì" is bold, quoted source text is a
    blockquote, and the cited plan is linked to its public copy."""
    import html as htmllib

    bot = await start_bot(BOT_DOCUMENT_BASE_URL="https://ubnd.example.gov.vn/cchc/")
    u = user(bot, 620)
    bold = quoted = 0
    for question in (WHO_LEADS, "Hải Hậu: ai chủ trì cải cách thủ tục hành chính?",
                     "Chơn Thành đặt mục tiêu tỷ lệ hồ sơ trực tuyến là bao nhiêu?"):
        [answer] = await u.ask(question)
        html = text_of(answer)
        assert answer["message"]["parse_mode"] == "HTML"
        for line in html.split("\n"):
            plain = htmllib.unescape(re.sub(r"<[^>]+>", "", line))
            if plain.startswith("Chủ trì:"):
                assert line.startswith("<b>") and line.endswith("</b>"), line
                bold += 1
            assert not re.match(r"^(Trích: )?“.+”$", plain), line  # a quoted line became a blockquote
            if re.match(r"^(Trích:)?<blockquote>[^<]+</blockquote>$", line):
                quoted += 1
        assert re.search(r'<a href="https://ubnd\.example\.gov\.vn/cchc/[^"]+\.(txt|docx)">', html), html
        assert "<b>" not in htmllib.unescape(re.sub(r"<[^>]+>", "", html))  # user/document text stays escaped
    assert bold >= 1 and quoted >= 1
