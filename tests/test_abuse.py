"""One user must not stall everyone (issue 15, item 5), over the real answerer of the sample corpus.

- The text that is embedded is capped (embedding cost grows with length; the lexical search still reads it all).
- One user's messages are answered one at a time with a bounded number waiting: a flood is refused politely and
  does not queue ahead of other people's questions.
The answerer is wrapped only to watch the order of its calls and to hold one user's question in flight.
"""
from __future__ import annotations

import asyncio
import threading

from bot.app import BoundedEmbedder
from conftest_channels import WHO_LEADS, LEAD_UNIT, make_settings, new_conversation, shared_answerer
from conftest_channels import shared_index  # noqa: F401 - autouse fixture
from handlers.conversation import Incoming

SLOW = "(chậm)"


def msg(text, user):
    return Incoming("telegram", user, user, "Người dùng", text, None, "text")


class Watched:
    """The real answerer; `ask` records each question and holds the ones marked SLOW until `release` is set."""

    def __init__(self, inner):
        self.inner = inner
        self.calls: list[str] = []
        self.release = threading.Event()

    def ask(self, question, **kw):
        self.calls.append(question)
        if SLOW in question:
            assert self.release.wait(30), "never released"
        return self.inner.ask(question, **kw)

    def __getattr__(self, name):
        return getattr(self.inner, name)


class Recorder:
    def __init__(self, inner):
        self.inner, self.seen = inner, []

    def embed_query(self, text):
        self.seen.append(text)
        return self.inner.embed_query(text)

    def __getattr__(self, name):
        return getattr(self.inner, name)


async def test_the_embedded_question_is_capped(tmp_path):
    # the shipped gate is 0 (no question embedded); an installation that opens it gets a capped embedder
    from bot.app import build_answerer

    settings = make_settings(tmp_path, BOT_DENSE_GATE=1.0)
    answerer = build_answerer(settings, dense="wait")
    embedder = answerer.index.embedder
    assert isinstance(embedder, BoundedEmbedder) and embedder.max_chars == 200
    recorder = Recorder(embedder.inner)
    embedder.inner = recorder
    conv = new_conversation(make_settings(tmp_path, BOT_MAX_MESSAGE_CHARS=1000), tmp_path)
    conv.answerer = answerer
    try:
        long_question = WHO_LEADS + " " + " ".join("a b c d e g h i k l m n o p q r s t u v x y".split() * 40)
        long_question = long_question[:990]
        [reply] = await conv.handle(msg(long_question, "601"))
        assert reply.text and "sự cố" not in reply.text
        assert recorder.seen and max(len(t) for t in recorder.seen) <= 200
        [reply] = await conv.handle(msg(WHO_LEADS, "601"))
        assert LEAD_UNIT in reply.text
    finally:
        embedder.inner = recorder.inner
        conv.close()


async def test_a_flood_from_one_user_is_bounded_and_does_not_queue_ahead_of_others(tmp_path):
    conv = new_conversation(make_settings(tmp_path, BOT_USER_QUEUE_MAX=3), tmp_path)
    watched = conv.answerer = Watched(conv.answerer)
    try:
        flood = [asyncio.create_task(conv.handle(msg(f"{WHO_LEADS} {SLOW} {i}", "666"))) for i in range(1, 8)]
        for _ in range(100):  # the first question is in the answerer; the others wait or were refused
            if watched.calls:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)
        other = asyncio.create_task(conv.handle(msg(WHO_LEADS, "777")))
        await asyncio.sleep(0.2)
        watched.release.set()
        [answer] = await asyncio.wait_for(other, 30)
        results = await asyncio.wait_for(asyncio.gather(*flood), 60)
    finally:
        watched.release.set()
        conv.close()
    assert LEAD_UNIT in answer.text
    # the other user's question ran right after the one in flight, before the flood's next one
    assert watched.calls[0].endswith(f"{SLOW} 1") and watched.calls[1] == WHO_LEADS
    # one being answered + 3 waiting were answered, in order; of the rest, one polite notice, then silence
    answered = [r for r in results if r and LEAD_UNIT in r[0].text]
    assert len(answered) == 4 and [c for c in watched.calls if SLOW in c] == [
        f"{WHO_LEADS} {SLOW} {i}" for i in range(1, 5)]
    notices = [r for r in results if r and "đang trả lời các tin nhắn trước" in r[0].text]
    assert len(notices) == 1 and sum(1 for r in results if r == []) == 2
