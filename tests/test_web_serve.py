"""`serve` with BOT_WEB_PORT: the review page runs beside the Telegram channel (real python-telegram-bot against
the telegram-test-api emulator). A correction saved on the page reaches the chat's next answer without a restart,
and approving a registration on the page tells the person on Telegram.
"""
from __future__ import annotations

import asyncio
import socket
import time
from urllib.parse import quote

import httpx
import pytest

from bench import emulator
from bot.serve import serve
from bot.staff import StaffRegistry
from conftest_channels import make_settings, shared_answerer, shared_index  # noqa: F401
from correction_case import lead_line, pick_case
from handlers.conversation import Conversation
from index import store
from test_telegram_e2e import User, text_of

TOKEN = "serve-web-token-0123456789"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def emulator_port():
    reason = emulator.missing()
    assert reason is None, f"this test needs the Telegram emulator: {reason}"
    with emulator.running_emulator() as port:
        yield port


async def test_serve_runs_the_review_page_and_corrections_reach_the_chat(emulator_port, index_copy, tmp_path,
                                                                       caplog):
    data = index_copy
    bot_token = f"{int(time.time())}:serve-web-{tmp_path.name}"
    port = _free_port()
    settings = make_settings(tmp_path, TELEGRAM_BOT_TOKEN=bot_token, BOT_DATA_DIR=str(data),
                             TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{emulator_port}/bot",
                             BOT_WEB_PORT=port, BOT_WEB_TOKEN=TOKEN)
    conversation = Conversation(shared_answerer(), settings, StaffRegistry(settings.db_path), settings.db_path)
    stop = asyncio.Event()
    caplog.set_level("INFO")
    task = asyncio.create_task(serve(settings, conversation=conversation, stop_event=stop))
    web = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {TOKEN}",
                                                                          "X-Officer": quote("Nguyễn Thị Lan")})
    tg = httpx.AsyncClient(base_url=f"http://127.0.0.1:{emulator_port}", timeout=10)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if (await web.get("/nhiem-vu")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and not task.done(), "the review page did not start"
            await asyncio.sleep(0.2)
        case = pick_case(shared_answerer(), store.open_db(settings.db_path))
        extracted = shared_answerer().task(case.task_id)
        user = User(tg, bot_token, 601, "Mai")
        [before] = await user.ask(case.question)
        assert case.old_lead in lead_line(text_of(before))

        # a correction on the page (a script's POST: Bearer token, no CSRF token needed)
        old_answerer = conversation.answerer
        r = await web.post(f"/nhiem-vu/{case.task_id}", data={
            "chu_tri": case.new_lead, "phoi_hop": "\n".join(extracted.coordinate),
            "thoi_han": extracted.deadline_text, "ngay_han": ""})
        assert r.status_code == 303
        deadline = time.monotonic() + 30
        while conversation.answerer is old_answerer:  # reloaded once, shortly after the last correction
            assert time.monotonic() < deadline, "the chat's answerer was not reloaded"
            await asyncio.sleep(0.2)
        [after] = await user.ask(case.question)
        assert case.new_lead in lead_line(text_of(after)) and case.old_lead not in lead_line(text_of(after))
        assert "đã được cán bộ hiệu chỉnh ngày" in text_of(after)

        # a registration approved on the page is told to the person on Telegram
        await user.ask(f"/diaban {case.locality}")
        [sent] = await user.ask(f"/dangky {case.new_lead}")
        assert "Đã gửi yêu cầu" in text_of(sent)
        [pending] = StaffRegistry(settings.db_path).list("pending")
        r = await web.post(f"/nhac-han/dang-ky/{pending.id}/duyet")
        assert r.status_code == 303
        [told] = await user.replies()
        assert "đã được duyệt" in text_of(told)
        assert StaffRegistry(settings.db_path).get(pending.id).decided_by == "web:Nguyễn Thị Lan"
        assert f"review page: http://127.0.0.1:{port}/" in caplog.text
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await web.aclose()
        await tg.aclose()
        conversation.close()
    with pytest.raises(httpx.TransportError):  # stopped with serve
        httpx.get(f"http://127.0.0.1:{port}/dang-nhap", timeout=2)


async def test_serve_without_a_web_token_runs_the_chat_and_says_why_the_page_is_off(emulator_port, built_index,
                                                                                   tmp_path, caplog):
    port = _free_port()
    bot_token = f"{int(time.time()) + 1}:serve-noweb-{tmp_path.name}"
    settings = make_settings(tmp_path, TELEGRAM_BOT_TOKEN=bot_token, BOT_DATA_DIR=str(tmp_path / "data"),
                             TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{emulator_port}/bot",
                             BOT_WEB_PORT=port, BOT_WEB_TOKEN="")
    conversation = Conversation(shared_answerer(), settings, StaffRegistry(settings.db_path), settings.db_path)
    stop = asyncio.Event()
    caplog.set_level("INFO")
    task = asyncio.create_task(serve(settings, conversation=conversation, stop_event=stop))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{emulator_port}", timeout=10) as tg:
            [reply] = await User(tg, bot_token, 602).ask("/start")
            assert "Xin chào" in text_of(reply)
        assert "review page not started: Chưa đặt BOT_WEB_TOKEN" in caplog.text
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{port}/dang-nhap", timeout=2)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        conversation.close()
