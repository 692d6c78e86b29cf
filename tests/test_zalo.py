"""Zalo adapter against the local fake Zalo Bot API server (tests/fake_zalo_server.py): client, polling,
webhook (flat and wrapped bodies, the secret check), numbered choices, the 2000-character limit, retries."""
from __future__ import annotations

import asyncio
import json
import re

import httpx
import pytest

from bot.senders import SendError, ZaloSender
from bot.zalo import SECRET_HEADER, ZaloChannel, ZaloClient, ZaloError, parse_update
from conftest_channels import (
    AMBIGUOUS_UNIT_QUESTION,
    LEAD_UNIT,
    WHO_LEADS,
    WHO_LEADS_ASCII,
    make_settings,
    new_conversation,
    shared_index,  # noqa: F401 - autouse fixture
)
from fake_zalo_server import (
    FakeZaloServer,
    bot_update,
    image_update,
    sticker_update,
    text_update,
    unknown_event_update,
    unsupported_update,
    voice_update,
)
from handlers.conversation import Outgoing
from handlers.formatting import utf16_len

WEBHOOK_URL = "https://bot.example.test/zalo/hook"


@pytest.fixture
async def fake():
    server = await FakeZaloServer(time_scale=0.02).start()
    yield server
    await server.stop()


def client_for(fake: FakeZaloServer, token: str, **kw) -> ZaloClient:
    return ZaloClient(token, fake.base_url, backoff=0.01, **kw)


@pytest.fixture
async def start_channel(fake, tmp_path):
    """Factory: a ZaloChannel (polling, or webhook with ZALO_WEBHOOK_URL) on a fresh token of the fake."""
    started = []

    async def start(**overrides) -> tuple[ZaloChannel, str]:
        token = fake.add_bot()
        settings = make_settings(tmp_path, ZALO_BOT_TOKEN=token, ZALO_API_BASE_URL=fake.base_url,
                                 ZALO_WEBHOOK_LISTEN="127.0.0.1", ZALO_WEBHOOK_PORT=0, **overrides)
        conversation = new_conversation(settings, tmp_path)
        channel = ZaloChannel(settings, conversation, client_for(fake, token), poll_timeout=30, poll_backoff=0.05)
        await channel.start()
        started.append((channel, conversation))
        return channel, token

    yield start
    for channel, conversation in started:
        await channel.stop()
        conversation.close()


# ------------------------------------------------------------------ client

async def test_client_methods_and_envelopes(fake):
    token = fake.add_bot()
    client = client_for(fake, token)
    try:
        me = await client.get_me()
        assert me["account_type"] == "BASIC" and isinstance(me["id"], str)
        assert await client.get_updates(timeout=5) is None  # 408 after timeout × time_scale: empty
        await fake.inject(token, text_update("xin chào", "c1"))
        update = await client.get_updates(timeout=5)
        assert update["message"]["text"] == "xin chào"
        sent = await client.send_message("c1", "chào bạn")
        assert isinstance(sent["message_id"], str) and sent["date"] > 10**12  # epoch ms
        assert await client.send_chat_action("c1") is None
        with pytest.raises(ZaloError) as err:
            await client.send_message("c1", "x" * 2001)
        assert err.value.error_code == 400 and not err.value.retryable
        with pytest.raises(ZaloError) as err:
            await client.set_webhook("http://insecure.example/hook", "secret-123")
        assert err.value.error_code == 400
        info = await client.set_webhook(WEBHOOK_URL, "secret-123")
        assert info["url"] == WEBHOOK_URL and info["updated_at"] > 10**12
        with pytest.raises(ZaloError):  # getUpdates refused while a webhook is set
            await client.get_updates(timeout=1)
        assert (await client.delete_webhook())["url"] == ""
    finally:
        await client.aclose()


async def test_client_unknown_token_and_http_401(fake):
    client = client_for(fake, "123:not-a-token")
    try:
        with pytest.raises(ZaloError) as err:  # ok:false with HTTP 200
            await client.get_me()
        assert err.value.error_code == 401
        fake.unauthorized_http_status = 401
        with pytest.raises(ZaloError) as err:
            await client.get_me()
        assert err.value.error_code == 401
    finally:
        await client.aclose()


@pytest.mark.parametrize("fault", ["502", "504", "html", "ok_false_200"])  # not 429: the quota (test_zalo_limits)
async def test_client_retries_transient_failures(fake, fault):
    token = fake.add_bot()
    client = client_for(fake, token)
    try:
        fake.fail_next("sendMessage", fault, times=2)
        await client.send_message("c1", "sau hai lần lỗi")
        assert [m["text"] for m in fake.sent_to("c1")] == ["sau hai lần lỗi"]
        assert [m for m, t in fake.requests if t == token].count("sendMessage") == 3
        fake.fail_next("sendMessage", fault, times=5)
        with pytest.raises(ZaloError) as err:
            await client.send_message("c1", "bỏ cuộc")
        assert err.value.retryable
    finally:
        await client.aclose()


async def test_client_retries_read_timeouts_but_never_repeats_a_send_that_may_have_arrived(fake):
    token = fake.add_bot()
    client = ZaloClient(token, fake.base_url, backoff=0.01, timeout=0.5)
    try:
        fake.fail_next("getMe", "slow")  # 2 s > 0.5 s read timeout: a read is simply asked again
        assert (await client.get_me())["account_name"]
        fake.fail_next("sendMessage", "slow")  # Zalo got it (and delivers it), but answers too late
        with pytest.raises(httpx.ReadTimeout):
            await client.send_message("c1", "chậm")
        await asyncio.sleep(2.5)  # the slow calls finish on the fake's side
        assert [m for m, t in fake.requests if t == token].count("getMe") == 2
        assert [m["text"] for m in fake.sent_to("c1")] == ["chậm"]  # once: not sent again blindly
    finally:
        await client.aclose()


def test_parse_update_shapes():
    incoming, ref = parse_update(text_update("/help", "chat1", "user1", name="Trần B"))
    assert (incoming.channel, incoming.chat_id, incoming.user_id, incoming.display_name, incoming.kind) == (
        "zalo", "chat1", "user1", "Trần B", "command")
    assert ref
    group, _ = parse_update(text_update("hỏi", "grp", "user2", group=True))
    assert group.chat_id == "grp" and group.user_id == "user2" and group.kind == "text"
    for update in (image_update("c"), sticker_update("c"), voice_update("c")):
        assert parse_update(update)[0].kind == "unsupported"
    assert parse_update(unsupported_update("c"))[0].kind == "unreadable"  # no content: a protected sender...
    assert parse_update(unknown_event_update("c"))[0] is None
    assert parse_update(bot_update("c"))[0] is None
    assert parse_update({"event_name": "user.follow"})[0] is None
    assert parse_update("garbage")[0] is None
    # no event_name (the docs' own sample): a text message is still a text message
    assert parse_update({"message": {"text": "hi", "chat": {"id": "c"}, "from": {"id": "c"}}})[0].kind == "text"


# ------------------------------------------------------------------ polling

async def test_polling_answers_questions(fake, start_channel):
    channel, token = await start_channel()
    assert channel.mode == "polling"
    await fake.inject(token, text_update(WHO_LEADS, "u1"))
    [reply] = await fake.wait_sent("u1", 1)
    assert LEAD_UNIT in reply["text"] and reply["parse_mode"] is None
    await fake.inject(token, text_update(WHO_LEADS_ASCII, "u1"))
    await fake.inject(token, text_update("còn ai phối hợp?", "u1"))
    replies = await fake.wait_sent("u1", 3)
    assert LEAD_UNIT in replies[1]["text"]
    assert "Phối hợp: Các cơ quan, đơn vị" in replies[2]["text"]


async def test_polling_numbered_choice_and_one_message_per_page(fake, start_channel):
    channel, token = await start_channel()
    await fake.inject(token, text_update(AMBIGUOUS_UNIT_QUESTION, "u2"))
    [choices] = await fake.wait_sent("u2", 1)
    assert "Trả lời bằng số" in choices["text"]
    number = re.search(r"(\d+)\. xã Bình Giang", choices["text"]).group(1)  # numbered: Zalo has no buttons
    await fake.inject(token, text_update(number, "u2"))
    # a long list: each page goes out as ONE message (each message counts against the monthly quota)
    [page1] = (await fake.wait_sent("u2", 2))[1:]
    await asyncio.sleep(0.3)
    assert len(fake.sent_to("u2")) == 2
    assert page1["text"].split("\n")[-1].startswith("Câu trả lời có đúng không?")  # the typed feedback hint
    pages = int(re.search(r"\(Trang 1/(\d+)\.", page1["text"]).group(1))
    assert pages >= 2
    texts = [page1["text"]]
    for n in range(2, pages + 1):  # the rest, page by page, as the text says to type
        typed = re.search(r"Gõ “([^”]+)” để xem tiếp", texts[-1]).group(1)
        assert typed.endswith(f" trang {n}")
        await fake.inject(token, text_update(typed, "u2"))
        sent = await fake.wait_sent("u2", n + 1)
        texts.append(sent[-1]["text"])
        assert f"(Trang {n}/{pages}." in texts[-1]
    await asyncio.sleep(0.3)
    assert len(fake.sent_to("u2")) == pages + 1  # one message per page, no more
    assert all(utf16_len(t) <= 2000 for t in texts)
    items = [line for t in texts for line in t.split("\n") if line.startswith("• ")]
    head = re.search(r"chủ trì (\d+) nhiệm vụ(?: và được giao thêm (\d+))?", page1["text"])
    assert len(items) == len(set(items)) == int(head.group(1)) + int(head.group(2) or 0)  # no task lost


async def test_an_answer_over_2000_characters_is_split_at_line_boundaries(fake, start_channel):
    channel, token = await start_channel()
    answerer = channel.conversation.answerer
    text = "\n".join(answerer.unit_tasks("Phòng Văn hóa - Xã hội", "xã Bình Giang", n).text for n in (1, 2))
    assert utf16_len(text) > 2000
    await channel.send(Outgoing("u5", text))
    pieces = [m["text"] for m in fake.sent_to("u5")]
    assert len(pieces) >= 2 and all(utf16_len(p) <= 2000 for p in pieces)
    assert [line for p in pieces for line in p.split("\n") if line] == [line for line in text.split("\n") if line]


async def test_polling_unsupported_duplicates_bots_and_unknown_events(fake, start_channel):
    channel, token = await start_channel()
    await fake.inject(token, sticker_update("u3"))
    [r] = await fake.wait_sent("u3", 1)
    assert "chỉ đọc được tin nhắn chữ" in r["text"]
    await fake.inject(token, bot_update("u3"))
    await fake.inject(token, unknown_event_update("u3"))
    dup = text_update("/help", "u3")
    await fake.inject(token, dup)
    await fake.inject(token, json.loads(json.dumps(dup)))  # the same message_id again
    await fake.inject(token, text_update("/start", "u3"))
    sent = await fake.wait_sent("u3", 3)
    await asyncio.sleep(0.3)
    texts = [m["text"] for m in fake.sent_to("u3")]
    assert len(texts) == 3, texts
    assert "Các lệnh" in texts[1] and "Xin chào Nguyen Van A" in texts[2]


async def test_polling_survives_api_failures(fake, start_channel):
    channel, token = await start_channel()
    fake.fail_next("getUpdates", "502", times=2)
    fake.fail_next("getUpdates", "html")
    fake.fail_next("sendMessage", "502")
    await fake.inject(token, text_update("/help", "u4"))
    [r] = await fake.wait_sent("u4", 1, timeout=20)
    assert "Các lệnh" in r["text"]


async def test_sender_maps_errors(fake):
    token = fake.add_bot()
    client = client_for(fake, token, max_retries=1)
    sender = ZaloSender(client)
    try:
        await sender.send("zalo", "c9", "Nhắc việc: hạn nộp báo cáo quý")
        assert fake.sent_to("c9")[0]["text"] == "Nhắc việc: hạn nộp báo cáo quý"
        with pytest.raises(SendError) as err:
            await sender.send("zalo", "", "x")  # 400: not retryable
        assert not err.value.retryable and not err.value.blocked
        fake.fail_next("sendMessage", "502")
        with pytest.raises(SendError) as err:  # one attempt: the outbox retries, not the client
            await sender.send("zalo", "c9", "x")
        assert err.value.retryable and not err.value.blocked
        assert [m for m, t in fake.requests if t == token].count("sendMessage") == 3
        fake.fail_next("sendMessage", "429")
        with pytest.raises(SendError) as err:  # the monthly quota: retried only when it may have been reset
            await sender.send("zalo", "c9", "x")
        assert err.value.retryable and err.value.retry_after >= 60
    finally:
        await client.aclose()


# ------------------------------------------------------------------ webhook

@pytest.mark.parametrize("wrapped", [False, True], ids=["flat", "wrapped"])
async def test_webhook_delivery_and_secret_check(fake, start_channel, wrapped):
    channel, token = await start_channel(ZALO_WEBHOOK_URL=WEBHOOK_URL, ZALO_WEBHOOK_SECRET="s3cret-token-123")
    assert channel.mode == "webhook" and channel.webhook_port
    bot = fake.bots[token]
    assert bot.webhook_url == WEBHOOK_URL and bot.webhook_secret == "s3cret-token-123"
    fake.deliver_to = f"http://127.0.0.1:{channel.webhook_port}"  # the TLS proxy in front of the bot
    fake.wrapped = wrapped
    assert await fake.inject(token, text_update(WHO_LEADS, "w1")) == 200
    [reply] = await fake.wait_sent("w1", 1)
    assert LEAD_UNIT in reply["text"]
    # wrong and missing secrets: 403, never processed
    fake.secret_override = "wrong-secret-xyz"
    assert await fake.inject(token, text_update("/help", "w2")) == 403
    fake.secret_override = ""
    assert await fake.inject(token, text_update("/help", "w2")) == 403
    await asyncio.sleep(0.3)
    assert fake.sent_to("w2") == []
    fake.secret_override = None
    assert await fake.inject(token, text_update("/help", "w2")) == 200
    [help_] = await fake.wait_sent("w2", 1)
    assert "Các lệnh" in help_["text"]


async def test_webhook_http_details(fake, start_channel):
    channel, token = await start_channel(ZALO_WEBHOOK_URL=WEBHOOK_URL, ZALO_WEBHOOK_SECRET="another-secret-1")
    url = f"http://127.0.0.1:{channel.webhook_port}/zalo/hook"
    async with httpx.AsyncClient(timeout=5) as http:
        ok = {SECRET_HEADER: "another-secret-1", "Content-Type": "application/json"}
        assert (await http.post(url, content=b"", headers=ok)).status_code == 200  # empty probe
        assert (await http.post(url, content=b"{not json", headers=ok)).status_code == 400
        assert (await http.get(url, headers=ok)).status_code == 405
        assert (await http.post(url, content=b"{}", headers={SECRET_HEADER: "another-secret-2"})).status_code == 403
        big = json.dumps({"message": {"text": "x" * (2 << 20)}}).encode()  # over the 1 MiB cap
        try:
            refused = (await http.post(url, content=big, headers=ok)).status_code in (400, 413)
        except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError):
            refused = True  # tornado may close the connection before reading the body
        assert refused
        r = await http.post(url, content=json.dumps(text_update("/start", "w3")).encode(), headers=ok)
        assert r.status_code == 200 and r.json() == {"message": "Success"}
    [reply] = await fake.wait_sent("w3", 1)
    assert "Xin chào" in reply["text"]


def test_webhook_secret_must_fit_zalo_rules(tmp_path):
    for secret in ("short", "x" * 257):
        settings = make_settings(tmp_path, ZALO_BOT_TOKEN="1:x", ZALO_WEBHOOK_URL=WEBHOOK_URL,
                                 ZALO_WEBHOOK_SECRET=secret)
        with pytest.raises(ValueError, match="8-256"):
            ZaloChannel(settings, conversation=None)
