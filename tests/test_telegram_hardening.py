"""The Telegram channel under abuse and faults (issue 15, items 5, 6, 8, 9 and 10): the real python-telegram-bot
Application against the `telegram-test-api` emulator, and a small fake Bot API (tests/fake_telegram_api.py) for
what the emulator cannot do (answer late, flood control)."""
from __future__ import annotations

import asyncio
import json
import secrets
import sqlite3
import threading
import time
from contextlib import closing

import httpx
import pytest
from telegram import Bot
from telegram.error import RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from bot.reminders import SendError
from bot.send_policy import CHAT_REPLY
from bot.senders import TelegramSender
from bot.telegram_app import MAX_WEBHOOK_BODY, build_application, send_outgoing
from conftest_channels import LEAD_UNIT, WHO_LEADS, make_settings
from conftest_channels import shared_index  # noqa: F401 - autouse fixture
from fake_telegram_api import FakeTelegramApi
from handlers.conversation import Outgoing
from test_telegram_e2e import emulator_port, free_port, start_bot, text_of  # noqa: F401 - fixtures

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


async def start_webhook_bot(start_bot):
    port = free_port()
    secret = "webhook-secret-" + secrets.token_urlsafe(8)
    url = f"http://127.0.0.1:{port}/tg-hook"
    bot = await start_bot(BOT_WEBHOOK_URL=url, BOT_WEBHOOK_LISTEN="127.0.0.1", BOT_WEBHOOK_PORT=port,
                          BOT_WEBHOOK_SECRET=secret)
    return bot, url, secret


def update_json(update_id: int, user, text: str) -> str:
    return json.dumps({"update_id": update_id, "message": {
        "message_id": update_id, "date": int(time.time()), "chat": user.chat, "from": user.user, "text": text}})


async def post(url, body: str | bytes, secret: str):
    async with httpx.AsyncClient(timeout=20) as http:
        return await http.post(url, content=body, headers={"Content-Type": "application/json", SECRET_HEADER: secret})


# ------------------------------------------------------------------------------------------------ item 6

async def test_webhook_refuses_a_body_over_1_mib_before_reading_it(start_bot):
    bot, url, secret = await start_webhook_bot(start_bot)
    user = bot.user(801)
    huge = update_json(70_001, user, "x" * (2 * MAX_WEBHOOK_BODY))  # valid update, right secret, 2 MiB of text
    try:
        status = (await post(url, huge, secret)).status_code
    except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError):
        status = None  # the server may close the connection before taking the body
    assert status in (None, 400, 413)
    await asyncio.sleep(0.5)
    got = (await bot.http.post("/getUpdates", json={"token": bot.token, "chatId": user.id})).json()["result"]
    assert got == []  # nothing processed
    r = await post(url, update_json(70_002, user, "/help"), secret)  # a normal update still works
    assert r.status_code == 200
    [reply] = await user.replies()
    assert "Các lệnh" in text_of(reply)


# ------------------------------------------------------------------------------------------------ item 9

async def test_a_repeated_update_id_is_processed_once(start_bot):
    bot, url, secret = await start_webhook_bot(start_bot)
    user = bot.user(802)
    body = update_json(70_010, user, "/help")
    for _ in range(3):  # Telegram re-delivers when it did not get our answer in time
        assert (await post(url, body, secret)).status_code == 200
    [reply] = await user.replies(1, settle=1.0)
    assert "Các lệnh" in text_of(reply)


# ------------------------------------------------------------------------------------------------ item 8

async def test_a_lone_surrogate_is_answered_normally_and_logged(start_bot, tmp_path):
    bot, url, secret = await start_webhook_bot(start_bot)
    user = bot.user(803)
    body = update_json(70_020, user, WHO_LEADS.replace("?", "\ud800?"))  # json.dumps escapes it as \ud800
    assert "\\ud800" in body
    assert (await post(url, body, secret)).status_code == 200
    [reply] = await user.replies()
    assert LEAD_UNIT in text_of(reply) and "sự cố" not in text_of(reply)
    with closing(sqlite3.connect(tmp_path / "bot.db")) as db:
        [(logged,)] = db.execute("select question from usage_log where intent != 'error'").fetchall()
    assert logged.replace("\ufffd", "") == WHO_LEADS


# ------------------------------------------------------------------------------------------------ item 5

class Held:
    """The real answerer, holding questions that contain `marker` until `release` is set."""

    def __init__(self, inner, marker: str):
        self.inner, self.marker, self.release = inner, marker, threading.Event()

    def ask(self, question, **kw):
        if self.marker in question:
            assert self.release.wait(30)
        return self.inner.ask(question, **kw)

    def __getattr__(self, name):
        return getattr(self.inner, name)


async def test_one_users_slow_question_does_not_hold_other_users_updates(start_bot):
    bot = await start_bot()
    held = bot.conversation.answerer = Held(bot.conversation.answerer, "(chậm)")
    slow, other = bot.user(804), bot.user(805)
    try:
        await slow.send(WHO_LEADS + " (chậm)")
        await asyncio.sleep(0.5)
        [reply] = await other.ask("/help")  # answered while the first question is still in flight
        assert "Các lệnh" in text_of(reply)
        [reply] = await other.ask("/start")
        assert "Xin chào" in text_of(reply)
    finally:
        held.release.set()
    [answer] = await slow.replies()
    assert LEAD_UNIT in text_of(answer)


# ------------------------------------------------------------------------------------------------ item 10

@pytest.fixture
async def api():
    server = await FakeTelegramApi(delay=1.5).start()
    yield server
    await server.stop()


def fake_bot(api, read_timeout=0.4) -> Bot:
    return Bot(f"1:{secrets.token_urlsafe(16)}", base_url=api.base_url,
               request=HTTPXRequest(read_timeout=read_timeout, connect_timeout=2))


async def test_a_timed_out_reply_is_not_sent_again(api):
    api.mode = "slow"  # Telegram delivers it, but answers after our read timeout
    bot = fake_bot(api)
    async with bot:
        with pytest.raises(TimedOut):
            await send_outgoing(bot, Outgoing("42", "Trả lời một câu hỏi"))
    await asyncio.sleep(api.delay + 0.5)
    assert api.sends() == 1 and len(api.delivered) == 1  # the user got it once


async def test_flood_control_is_retried_by_one_layer_only(api, tmp_path):
    api.mode = "429"
    settings = make_settings(tmp_path, TELEGRAM_BOT_TOKEN=f"1:{secrets.token_urlsafe(16)}",
                             TELEGRAM_API_BASE_URL=api.base_url)
    app = build_application(settings, conversation=None)  # with its AIORateLimiter, as in production
    await app.initialize()
    try:
        with pytest.raises(RetryAfter):
            await send_outgoing(app.bot, Outgoing("42", "Trả lời"))
    finally:
        await app.shutdown()
    assert api.sends() == CHAT_REPLY.attempts  # not attempts x the rate limiter's own retries


async def test_a_timed_out_reminder_is_one_attempt_with_an_unknown_outcome(api):
    api.mode = "slow"
    bot = fake_bot(api)
    async with bot:
        with pytest.raises(SendError) as err:
            await TelegramSender(bot).send("telegram", "42", "Nhắc việc: hạn hôm nay")
    assert err.value.retryable and err.value.unknown  # the outbox decides; it knows the attempt may have arrived
    await asyncio.sleep(api.delay + 0.5)
    assert api.sends() == 1
