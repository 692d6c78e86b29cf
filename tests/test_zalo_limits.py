"""Zalo's platform limits and failure meanings (issue 15, item 11; item 8 at the Zalo adapter), against the local fake
Zalo Bot API (tests/fake_zalo_server.py) and the real conversation core.

- 429 is the monthly quota: no retry, sending pauses, admins are alerted on another channel, /thongke says so, and
  sending resumes after the quota resets (a probe goes through).
- 403 marks a staff member as blocked only when the error says so.
- Polling never deletes a webhook: it refuses to start and explains.
- `message.unsupported.received` gets an explanation, not "I only read text".
- setWebhook's answer is checked.
- A lone surrogate in a webhook body is answered normally and logged (sanitized at the adapter).
"""
from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing

import httpx
import pytest

from bot.reminders import Reminders
from bot.senders import SendError, ZaloSender
from bot.staff import StaffRegistry
from bot.zalo import SECRET_HEADER, ZaloChannel, ZaloClient
from conftest_channels import WHO_LEADS, LEAD_UNIT, make_settings, new_conversation, shared_index  # noqa: F401
from fake_zalo_server import FakeZaloServer, text_update, unsupported_update
from handlers.conversation import Incoming

ADMIN_TG = "900"
WEBHOOK_URL = "https://bot.example.test/zalo/hook"


class OtherChannel:
    """The admins' other channel as the conversation reaches it (serve registers the Telegram sender here): every
    message it was asked to deliver."""

    def __init__(self):
        self.sent: list[tuple[str, str, str]] = []

    async def send(self, channel, chat_id, text):
        self.sent.append((channel, chat_id, text))


@pytest.fixture
async def fake():
    server = await FakeZaloServer(time_scale=0.02).start()
    yield server
    await server.stop()


@pytest.fixture
async def zalo(fake, tmp_path):
    """Factory: a started ZaloChannel on a fresh token, its conversation, and the admins' other channel."""
    started = []

    async def start(**overrides):
        token = fake.add_bot()
        settings = make_settings(tmp_path, ZALO_BOT_TOKEN=token, ZALO_API_BASE_URL=fake.base_url,
                                 ZALO_WEBHOOK_LISTEN="127.0.0.1", ZALO_WEBHOOK_PORT=0,
                                 BOT_ADMIN_IDS=f"telegram:{ADMIN_TG}", **overrides)
        conversation = new_conversation(settings, tmp_path)
        other = OtherChannel()
        conversation.senders["telegram"] = other
        client = ZaloClient(token, fake.base_url, backoff=0.01)
        channel = ZaloChannel(settings, conversation, client, poll_timeout=30, poll_backoff=0.05)
        started.append((channel, conversation))
        await channel.start()
        return channel, token, conversation, other

    yield start
    for channel, conversation in started:
        await channel.stop()
        conversation.close()


def sends(fake, token):
    return [m for m, t in fake.requests if t == token].count("sendMessage")


async def test_quota_429_pauses_sending_alerts_admins_elsewhere_and_resumes_after_the_reset(fake, zalo):
    channel, token, conversation, other = await zalo()
    clock = {"now": 1_790_000_000.0}  # 2026-09-21
    channel.client.clock = lambda: clock["now"]
    fake.fail_next("sendMessage", "429")
    await fake.inject(token, text_update("/help", "q1"))
    for _ in range(200):
        if other.sent:
            break
        await asyncio.sleep(0.02)
    assert sends(fake, token) == 1  # not retried: "over quota" does not pass with a retry
    assert fake.sent_to("q1") == []
    [(ch, chat, alert)] = other.sent
    assert (ch, chat) == ("telegram", ADMIN_TG) and "hết hạn mức" in alert and "429" in alert
    until = channel.client.quota_until
    assert until is not None and until <= clock["now"] + 24 * 3600

    # while paused: nothing reaches Zalo, replies and reminders alike; /thongke shows it
    await fake.inject(token, text_update("/start", "q1"))
    await asyncio.sleep(0.5)
    assert sends(fake, token) == 1
    with pytest.raises(SendError) as err:
        await ZaloSender(channel.client).send("zalo", "q1", "Nhắc việc")
    assert err.value.retryable and err.value.retry_after >= until - clock["now"] - 1
    assert sends(fake, token) == 1
    [stats] = await conversation.handle(Incoming("telegram", ADMIN_TG, ADMIN_TG, "Admin", "/thongke"))
    assert "Zalo hết hạn mức tin nhắn" in stats.text
    assert len(other.sent) == 1  # alerted once, not at every refused send

    # after the reset (the next probe time): a send goes through, admins hear so, /thongke is clear again
    clock["now"] = until + 1
    await fake.inject(token, text_update("/help", "q2"))
    [reply] = await fake.wait_sent("q2")
    assert "Các lệnh" in reply["text"]
    for _ in range(200):  # the fake records the message before our client has read its answer
        if len(other.sent) == 2:
            break
        await asyncio.sleep(0.02)
    assert channel.client.quota_until is None and "gửi tin được trở lại" in other.sent[-1][2]
    [stats] = await conversation.handle(Incoming("telegram", ADMIN_TG, ADMIN_TG, "Admin", "/thongke"))
    assert "Zalo hết hạn mức" not in stats.text


@pytest.mark.parametrize("fault, blocked", [("403", False), ("403_blocked", True)])
async def test_403_blocks_a_staff_member_only_when_the_error_says_so(fake, tmp_path, fault, blocked):
    token = fake.add_bot()
    client = ZaloClient(token, fake.base_url, backoff=0.01)
    db = tmp_path / "rem.db"
    reg = StaffRegistry(db)
    member = reg.add_approved("Minh", "Phòng Kinh tế", "xã Hải Hậu", "zalo", "z-minh")
    try:
        fake.fail_next("sendMessage", fault)
        with pytest.raises(SendError) as err:
            await ZaloSender(client).send("zalo", "z-minh", "Nhắc việc")
        assert err.value.blocked is blocked
        # through the outbox: the person is marked blocked only for the explicit error
        rem = Reminders(db)
        with rem.db.conn:
            rem.db.conn.execute(
                "insert into outbox (key, kind, task_id, occurrence, staff_id, offset_days, role, channel, chat_id,"
                " text, scheduled_at, not_before, status, attempts) values ('k1', 'reminder', 't', '2026-03-15', ?,"
                " 0, 'lead', 'zalo', 'z-minh', 'Nhắc việc', '2026-01-01', '2026-01-01', 'pending', 0)", [member.id])
        fake.fail_next("sendMessage", fault)
        stats = await rem.deliver(ZaloSender(client))
        assert reg.get(member.id).status == ("blocked" if blocked else "approved")
        assert stats["blocked" if blocked else "retry"] == 1
    finally:
        await client.aclose()


async def test_polling_refuses_to_delete_a_production_webhook(fake, tmp_path):
    token = fake.add_bot()
    production = ZaloClient(token, fake.base_url)
    await production.set_webhook("https://prod.example.test/zalo", "production-secret")
    await production.aclose()
    settings = make_settings(tmp_path, ZALO_BOT_TOKEN=token, ZALO_API_BASE_URL=fake.base_url)
    conversation = new_conversation(settings, tmp_path)
    channel = ZaloChannel(settings, conversation, ZaloClient(token, fake.base_url), poll_timeout=30)
    try:
        with pytest.raises(RuntimeError, match="has a webhook.*will not delete it"):
            await channel.start()
    finally:
        await channel.stop()
        conversation.close()
    assert fake.bots[token].webhook_url == "https://prod.example.test/zalo"  # untouched
    assert "deleteWebhook" not in [m for m, t in fake.requests if t == token]


async def test_unreadable_message_gets_an_explanation_not_nonsense(fake, zalo):
    channel, token, conversation, _ = await zalo()
    await fake.inject(token, unsupported_update("u9"))
    [reply] = await fake.wait_sent("u9")
    assert "không xem được nội dung" in reply["text"]
    assert "chỉ đọc được tin nhắn chữ" not in reply["text"]


async def test_set_webhook_answer_is_checked(fake, tmp_path):
    token = fake.add_bot()
    settings = make_settings(tmp_path, ZALO_BOT_TOKEN=token, ZALO_API_BASE_URL=fake.base_url,
                             ZALO_WEBHOOK_URL=WEBHOOK_URL, ZALO_WEBHOOK_SECRET="s3cret-token-123",
                             ZALO_WEBHOOK_LISTEN="127.0.0.1", ZALO_WEBHOOK_PORT=0)
    conversation = new_conversation(settings, tmp_path)
    channel = ZaloChannel(settings, conversation, ZaloClient(token, fake.base_url))
    fake.fail_next("setWebhook", "empty_result")  # ok:true, but no webhook registered
    try:
        with pytest.raises(RuntimeError, match="did not register"):
            await channel.start()
    finally:
        await channel.stop()
        conversation.close()


async def test_lone_surrogate_in_a_webhook_body_is_answered_and_logged(fake, zalo, tmp_path):
    channel, token, conversation, _ = await zalo(ZALO_WEBHOOK_URL=WEBHOOK_URL, ZALO_WEBHOOK_SECRET="s3cret-token-123")
    url = f"http://127.0.0.1:{channel.webhook_port}/zalo/hook"
    question = WHO_LEADS.replace("?", "\\ud800?")  # JSON escape of a lone surrogate
    body = ('{"event_name": "message.text.received", "message": {"message_id": "m-sur", "text": "%s", '
            '"chat": {"id": "s1", "chat_type": "PRIVATE"}, "from": {"id": "s1", "display_name": "A\\udfff", '
            '"is_bot": false}, "date": 1750316131602}}' % question).encode()
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.post(url, content=body, headers={SECRET_HEADER: "s3cret-token-123",
                                                         "Content-Type": "application/json"})
    assert r.status_code == 200
    [reply] = await fake.wait_sent("s1")
    assert LEAD_UNIT in reply["text"] and "sự cố" not in reply["text"]
    with closing(sqlite3.connect(tmp_path / "bot.db")) as db:
        [(logged,)] = db.execute("select question from usage_log where channel = 'zalo'").fetchall()
    assert "\ufffd" in logged and logged.replace("\ufffd", "") == WHO_LEADS
