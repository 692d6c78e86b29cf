"""The chat experience on Zalo, against the local fake Zalo Bot API (tests/fake_zalo_server.py).

Uploads: the Zalo Bot API delivers no files to bots (../shared/docs/zalo-bot-api.md §2 and §5: no file or document
methods, "files, documents and video: not delivered to the bot"), so an admin who sends one gets a clear
explanation of where to upload instead; citizens get the usual text-only notice. Feedback: typed "+" / "-"."""
from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest

from bot.zalo import ZaloChannel, ZaloClient
from conftest_channels import (
    AMBIGUOUS_UNIT_QUESTION,
    LEAD_UNIT,
    WHO_LEADS,
    make_settings,
    new_conversation,
    shared_index,  # noqa: F401 - autouse fixture
)
from fake_zalo_server import FakeZaloServer, image_update, text_update, unsupported_update

ADMIN = "a0dmin0zalo"


async def wait_for(fake, chat_id: str, text: str) -> list[dict]:
    """Messages to `chat_id` until one contains `text` (a long answer may come in several pieces)."""
    n = len(fake.sent_to(chat_id)) + 1
    while True:
        sent = await fake.wait_sent(chat_id, n)
        if text in sent[-1]["text"]:
            return sent
        n = len(sent) + 1


@pytest.fixture
async def zalo(tmp_path):
    fake = await FakeZaloServer(time_scale=0.02).start()
    token = fake.add_bot()
    settings = make_settings(tmp_path, ZALO_BOT_TOKEN=token, ZALO_API_BASE_URL=fake.base_url,
                             BOT_ADMIN_IDS=f"zalo:{ADMIN}")
    conversation = new_conversation(settings, tmp_path)
    channel = ZaloChannel(settings, conversation, ZaloClient(token, fake.base_url, backoff=0.01), poll_timeout=30,
                          poll_backoff=0.05)
    await channel.start()
    yield fake, token, conversation
    await channel.stop()
    conversation.close()
    await fake.stop()


async def test_zalo_upload_absent_explained_to_admins(zalo):
    fake, token, _ = zalo
    for update in (image_update(ADMIN, caption="ke hoach"), unsupported_update(ADMIN)):
        await fake.inject(token, update)
    replies = await fake.wait_sent(ADMIN, 2)
    for r in replies:
        assert "Zalo chưa cho phép bot nhận tệp" in r["text"] and "Telegram" in r["text"]
    await fake.inject(token, text_update("/tailen", ADMIN))
    replies = await fake.wait_sent(ADMIN, 3)
    assert "Zalo chưa cho phép bot nhận tệp" in replies[2]["text"]
    # a citizen's file: the notice that its content did not reach the bot (a protected sender's message looks the
    # same, issue 15), no upload instructions; /tailen is an admin command
    await fake.inject(token, unsupported_update("citizen1"))
    [r] = await fake.wait_sent("citizen1", 1)
    assert "không xem được nội dung" in r["text"] and "Telegram" not in r["text"]
    await fake.inject(token, text_update("/tailen", "citizen1"))
    r = (await fake.wait_sent("citizen1", 2))[1]
    assert "chỉ dành cho quản trị" in r["text"]


async def test_zalo_feedback_typed_and_never_confused_with_choices(zalo):
    fake, token, conversation = zalo
    await fake.inject(token, text_update(WHO_LEADS, "z1"))
    [answer] = await fake.wait_sent("z1", 1)
    assert LEAD_UNIT in answer["text"] and "Gõ + nếu đúng, - nếu chưa đúng" in answer["text"]
    await fake.inject(token, text_update("-", "z1"))
    thanks = (await fake.wait_sent("z1", 2))[1]
    assert "Câu hỏi đã được ghi lại" in thanks["text"]
    # numbered choices keep digits: "1" picks a locality, not a vote
    await fake.inject(token, text_update(AMBIGUOUS_UNIT_QUESTION, "z1"))
    choices = (await fake.wait_sent("z1", 3))[2]
    assert "Trả lời bằng số" in choices["text"] and "Gõ +" not in choices["text"]
    await fake.inject(token, text_update("1", "z1"))
    sent = await wait_for(fake, "z1", "Gõ + nếu đúng")
    assert "chủ trì" in sent[3]["text"]
    await fake.inject(token, text_update("+", "z1"))
    await wait_for(fake, "z1", "Cảm ơn anh/chị đã đánh giá")
    with closing(sqlite3.connect(conversation.db_path)) as db:
        votes = db.execute("SELECT channel, vote, question FROM feedback ORDER BY id").fetchall()
    assert votes[0] == ("zalo", -1, WHO_LEADS) and [v[1] for v in votes] == [-1, 1]
    # a "+" long after (nothing open) is just a message, not a second vote
    await fake.inject(token, text_update("+", "z1"))
    sent = await wait_for(fake, "z1", "cụ thể hơn")  # answered as a (meaningless) question
    assert "Gõ +" not in sent[-1]["text"]
    with closing(sqlite3.connect(conversation.db_path)) as db:
        assert db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0] == 2
    assert any(m["method"] == "sendChatAction" and m["chat_id"] == "z1" for m in fake.outbox)  # typing shown
