"""Real transcripts of the chat-experience flows, captured from the running code:

    .venv/bin/python scripts/chat_transcripts.py > docs/chat-transcripts.md

Indexes corpus/ into a temporary data dir (never data/), drives `handlers.conversation.Conversation` with the
`Incoming` messages the Telegram, Zalo (`bot.zalo.parse_update`) and console (`bot.console.chat`) adapters build,
and prints every reply verbatim as Markdown."""
from __future__ import annotations

import asyncio
import io
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from bot.app import build_answerer, run_index  # noqa: E402
from bot.console import chat as console_chat  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.staff import StaffRegistry  # noqa: E402
from bot.telegram_ux import publish_menus, role_listener  # noqa: E402
from bot.zalo import parse_update  # noqa: E402
from docgen import make_docx_plan  # noqa: E402 - tests/docgen.py
from handlers.chat_ux import Attachment  # noqa: E402
from handlers.conversation import Conversation, Incoming  # noqa: E402
from handlers.formatting import ZALO, render  # noqa: E402

ADMIN_TG, ADMIN_ZALO = "1001", "a0dmin0zalo"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# The questions of tests/conftest_channels.py and tests/test_chat_ux_e2e.py
WHO_LEADS = "Chơn Thành: ai chủ trì rà soát, phát hiện các thủ tục hành chính ban hành chưa đúng quy định?"
AMBIGUOUS = "Phòng Văn hóa - Xã hội phụ trách những việc gì?"
TAN_LAP = "Tân Lập: ai chủ trì rà soát quy trình nội bộ giải quyết thủ tục cấp phép xây dựng?"

OUT: list[str] = []
emit = OUT.append


def indented(text: str) -> str:
    return "\n".join("   " + line if line else "" for line in text.split("\n"))


def settings_for(corpus: Path, data: Path) -> Settings:
    """Isolated from the environment's .env; rate limits raised: the script types faster than a person."""
    return Settings(_env_file=None, BOT_CORPUS_DIR=str(corpus), BOT_DATA_DIR=str(data), TELEGRAM_BOT_TOKEN="",
                    ZALO_BOT_TOKEN="", BOT_WEBHOOK_URL="", ZALO_WEBHOOK_URL="", BOT_DOCUMENT_BASE_URL="",
                    BOT_ADMIN_IDS=f"telegram:{ADMIN_TG},zalo:{ADMIN_ZALO}", BOT_USER_HASH_SALT="transcripts",
                    BOT_RATE_LIMIT_PER_SECOND=50.0, BOT_RATE_LIMIT_BURST=100)


class Chat:
    """Plays one channel's adapter: sends `Incoming` messages, writes the exchange into one fenced block. Bot
    messages are numbered (#101 …) so that an edit can say which message it changes."""

    def __init__(self, title: str, note: str, settings: Settings, answerer, db: Path, channel: str = "telegram"):
        self.conv = Conversation(answerer, settings, StaffRegistry(db), db)
        self.channel, self.names, self.shown, self.next_id = channel, {}, {}, 100
        emit(f"\n## {title}\n\n{note}\n\n```text")

    def user(self, uid: str, name: str, label: str) -> tuple[str, str, str]:
        self.names[uid] = label
        return uid, name, label

    async def say(self, who, text: str) -> str | None:
        uid, name, label = who
        emit(f"{label}: {text}")
        if self.channel == "zalo":  # the update the Zalo Bot API delivers
            return await self.zalo(who, "message.text.received", text=text)
        kind = "command" if text.startswith("/") else "text"
        return await self._send(Incoming(self.channel, uid, uid, name, text, kind=kind))

    async def zalo(self, who, event: str, **fields) -> str | None:
        """A Zalo Bot API update (as tests/fake_zalo_server.py makes them), parsed by the Zalo adapter."""
        uid, name, _ = who
        message = {"message_id": f"m{self.next_id}", "chat": {"id": uid, "chat_type": "PRIVATE"},
                   "from": {"id": uid, "display_name": name, "is_bot": False}, **fields}
        incoming, _ = parse_update({"event_name": event, "message": message})
        return await self._send(incoming)

    async def press(self, who, message_id: str, label_part: str) -> str | None:
        uid, name, label = who
        button = next(b for row in self.shown[message_id].buttons for b in row if label_part in b.label)
        emit(f"{label}: (bấm [{button.label}] dưới tin #{message_id})")
        return await self._send(Incoming(self.channel, uid, uid, name, kind="callback", callback_data=button.data,
                                         message_id=message_id))

    async def upload(self, who, path: Path, name: str) -> str | None:
        uid, display, label = who
        data = path.read_bytes()
        emit(f"{label}: (gửi tệp “{name}”, {len(data):,} byte)")
        fetch = lambda: asyncio.sleep(0, data)  # noqa: E731 - stands for Telegram's getFile download
        return await self._send(Incoming(self.channel, uid, uid, display, kind="document",
                                         attachment=Attachment(name, len(data), DOCX, fetch)))

    async def _send(self, msg: Incoming) -> str | None:
        """Hand the message to the core; print the replies. Returns the id of the last new bot message."""
        last = None
        for out in await self.conv.handle(msg):
            to = "" if out.chat_id == msg.chat_id else f" → {self.names.get(out.chat_id, out.chat_id)}"
            if out.edit_message_id:
                if self.channel != "telegram":  # nothing to edit on Zalo / the console (bot/zalo.py send)
                    continue
                shown = self.shown[out.edit_message_id]
                if out.markup_only:
                    shown.buttons = out.buttons
                    what = "chỉ đổi nút" if out.buttons else "bỏ nút"
                    emit(f"Bot{to} (sửa tin nhắn #{out.edit_message_id}: {what})")
                else:
                    self.shown[out.edit_message_id] = out
                    emit(f"Bot{to} (sửa tin nhắn #{out.edit_message_id}):\n{indented(out.text)}")
            else:
                pieces = render(out.text, ZALO) if self.channel == "zalo" else [out.text]
                for piece in pieces:  # Zalo: one message per piece of at most 2,000 UTF-16 units
                    self.next_id += 1
                    last = str(self.next_id)
                    self.shown[last] = out
                    emit(f"Bot{to} #{last}:\n{indented(piece)}")
            if self.channel == "telegram":
                for row in out.buttons:
                    emit("   " + " ".join(f"[{b.label}]" for b in row))
        return last

    def end(self) -> None:
        emit("```")
        self.conv.close()


async def flows(base: Settings, answerer, upload: Settings, tmp: Path) -> None:
    plan = make_docx_plan(tmp / "plan.docx")

    c = Chat("1. An admin uploads a DOCX plan, then asks about it (Telegram)",
             "The plan is generated by `tests/docgen.py` (`make_docx_plan`: xã Tân Lập, a Word table with merged "
             "cells); the bot saves it in a copy of the corpus, indexes it and reports what it extracted.",
             upload, build_answerer(upload), tmp / "flow1.db")
    admin = c.user(ADMIN_TG, "Admin", "Admin")
    await c.say(admin, TAN_LAP)
    await c.upload(admin, plan, "Kế hoạch CCHC 2027 xã Tân Lập.docx")
    await c.say(admin, TAN_LAP)
    c.end()

    c = Chat("2. A citizen's upload is refused (Telegram)",
             "A citizen sends the same DOCX: refused before it is downloaded.", base, answerer, tmp / "flow2.db")
    await c.upload(c.user("611", "Lan", "Lan (công dân)"), plan, "ke-hoach.docx")
    c.end()

    c = Chat("3. Feedback 👍/👎, then the admin's /thongke (Telegram)",
             "A citizen votes 👎 on an answer (the phone number in the question is redacted in storage), asks "
             "something the documents do not cover, then the admin's `/thongke`.", base, answerer, tmp / "flow3.db")
    lan, admin = c.user("612", "Lan", "Lan (công dân)"), c.user(ADMIN_TG, "Admin", "Admin")
    answer = await c.say(lan, WHO_LEADS.replace("?", ", tôi số 0912345678?"))
    await c.press(lan, answer, "Chưa đúng")
    await c.say(lan, "Giá vé máy bay đi Đà Nẵng là bao nhiêu?")
    await c.say(admin, "/thongke")
    c.end()

    c = Chat("4. Paging with ◀ ▶ buttons (Telegram)",
             "A unit's tasks, at most 12 a page and no more than fits one Zalo message; pressing ▶ edits the same "
             "message to page 2.", base, answerer, tmp / "flow4.db")
    mai = c.user("613", "Mai", "Mai (công dân)")
    await c.say(mai, "/diaban Bình Giang")
    page = await c.say(mai, "/nhiemvu Phòng Văn hóa - Xã hội")
    await c.press(mai, page, "Trang 2")
    c.end()

    c = Chat("5. Deep link `/start <commune>`, then /huy (Telegram)",
             "`t.me/<bot>?start=chon-thanh` (a QR code at the one-stop shop) arrives as `/start chon-thanh`; later "
             "a pending choice is cancelled with `/huy`, so a following “2” is not taken as a choice.",
             base, answerer, tmp / "flow5.db")
    hoa = c.user("615", "Hoa", "Hoa (công dân)")
    await c.say(hoa, "/start chon-thanh")
    await c.say(hoa, "Đặt mục tiêu tỷ lệ hồ sơ trực tuyến là bao nhiêu?")
    await c.say(hoa, "/diaban tất cả")
    await c.say(hoa, AMBIGUOUS)
    await c.say(hoa, "/huy")
    await c.say(hoa, "2")
    c.end()

    # 6: the Telegram adapter's own menu code (bot/telegram_ux.py) against a recorder of setMyCommands
    class MenuRecorder:
        def __init__(self):
            self.calls = []

        async def set_my_commands(self, commands, scope=None, **_):
            self.calls.append((scope, commands))

    recorder = MenuRecorder()
    c = Chat("6. Role-scoped command menus (Telegram)",
             "`publish_menus` at start (citizens' menu for everyone, the admin's in the admin's chat), then a staff "
             "registration approved by button: `role_listener` gives that chat the staff menu. The table after the "
             "exchange shows each recorded `setMyCommands` call (scope, commands).", base, answerer, tmp / "flow6.db")
    c.conv.role_listeners.append(role_listener(recorder))
    await publish_menus(recorder, c.conv)
    staff, admin = c.user("616", "Mai", "Mai"), c.user(ADMIN_TG, "Admin", "Admin")
    await c.say(staff, "/diaban Chơn Thành")
    note = await c.say(staff, "/dangky Phòng Văn hóa - Xã hội")
    await c.press(admin, note, "Duyệt")
    c.end()
    # one column per recorded setMyCommands call: its scope, and the commands it set
    heads = [f"chat {s.chat_id} ({c.names[str(s.chat_id)]})" if getattr(s, "chat_id", None) else "default (everyone)"
             for s, _ in recorder.calls]
    emit("\n| command | " + " | ".join(heads) + " |\n|---|" + "---|" * len(heads))
    for name, about in {x.command: x.description for _, menu in recorder.calls for x in menu}.items():
        ticks = ["✓" if any(x.command == name for x in menu) else "" for _, menu in recorder.calls]
        emit(f"| `/{name}` — {about} | " + " | ".join(ticks) + " |")

    c = Chat("7. Zalo: typed feedback, and a file sent by an admin",
             "Zalo has no buttons: choices are numbered (“1” chooses), votes are typed (“+” / “-”). The Zalo Bot "
             "API delivers no files to bots, so an admin who sends one (here a photo) is told where to upload. "
             "Updates go through `bot.zalo.parse_update`; replies are split as `bot/zalo.py` sends them.",
             base, answerer, tmp / "flow7.db", channel="zalo")
    z, zadmin = c.user("z1", "Nguyen Van A", "Người dân (Zalo)"), c.user(ADMIN_ZALO, "Admin", "Admin (Zalo)")
    await c.say(z, WHO_LEADS)
    await c.say(z, "-")
    await c.say(z, AMBIGUOUS)
    await c.say(z, "1")
    await c.say(z, "+")
    emit("Admin (Zalo): (gửi một ảnh: “ke hoach”)")
    await c.zalo(zadmin, "message.image.received", photo_url="https://example.com/p.jpg", caption="ke hoach",
                 message_type="CHAT_PHOTO")
    await c.say(zadmin, "/tailen")
    c.end()

    # 8: the console chat itself (bot.console.chat), fed the lines `python -m bot chat` would read from a pipe
    lines = ["chon thanh: ai chu tri ra soat, phat hien cac thu tuc hanh chinh ban hanh chua dung quy dinh?", "+"]
    conv = Conversation(answerer, base, StaffRegistry(tmp / "flow8.db"), tmp / "flow8.db")
    screen = io.StringIO()
    await console_chat(conv, stdin=io.StringIO("".join(f"{line}\n" for line in lines)), stdout=screen)
    conv.close()
    emit("\n## 8. Console\n\n`printf '%s\\n' " + " ".join(f"'{line}'" for line in lines)
         + " | python -m bot chat` — the input lines, then the console's output as printed:\n\n```text")
    emit("\n".join(f"(gõ) {line}" for line in lines) + "\n" + screen.getvalue().rstrip() + "\n```")


async def main() -> None:
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "?"
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    commit = f"`{commit}`" + (" (with uncommitted changes)" if dirty else "")
    with tempfile.TemporaryDirectory(prefix="cchc-transcripts-") as name:
        tmp = Path(name)
        base = settings_for(ROOT / "corpus", tmp / "index")
        run_index(base, progress=False)  # records, lexical and dense side, like the tests' session index
        # Flow 1 adds a file: it gets its own copy of the corpus and of the index
        shutil.copytree(ROOT / "corpus", tmp / "corpus")
        shutil.copytree(tmp / "index", tmp / "index-upload")
        upload = settings_for(tmp / "corpus", tmp / "index-upload")
        await flows(base, build_answerer(base), upload, tmp)
    print("# Chat transcripts\n")
    when = datetime.now(timezone.utc).strftime("%d/%m/%Y %H:%M UTC")
    print(f"Produced by `scripts/chat_transcripts.py` at commit {commit} on {when}: the bundled corpus is indexed "
          "into a temporary data dir and the channel-agnostic core (`handlers.conversation.Conversation`) is driven with the `Incoming` "
          "messages the Telegram, Zalo and console adapters build (button presses and documents included). Every "
          "bot reply is copied verbatim from the running code; Telegram replies are shown as the plain text the "
          "core returns (the adapter then renders it as HTML: bold answer line, blockquoted source), buttons as "
          "[label], and an edit of an earlier message as “(sửa tin nhắn #N)”. Re-run with "
          "`.venv/bin/python scripts/chat_transcripts.py > docs/chat-transcripts.md`.")
    print("\n".join(OUT))


if __name__ == "__main__":
    asyncio.run(main())
