"""A minimal local Telegram Bot API for what the emulator cannot do: answer slowly (a timeout after Telegram got
the message) or with flood control. It serves `getMe` and `sendMessage` at `/bot<token>/<method>` and records every
call, so a test can count how many times the bot really sent a message.

    api = await FakeTelegramApi().start()
    api.mode = "slow"    # "ok" | "slow" (answers after `delay` seconds; the message counts as delivered) | "429"
    Bot(token, base_url=api.base_url)
"""
from __future__ import annotations

import asyncio
import json
import time

from tornado.web import Application, RequestHandler

from local_bot_api import LocalBotApi


class FakeTelegramApi(LocalBotApi):
    def __init__(self, delay: float = 1.5):
        self.mode = "ok"
        self.delay = delay
        self.calls: list[tuple[str, dict]] = []  # (method, parameters) of every request
        self.delivered: list[dict] = []  # sendMessage calls the "platform" accepted (also the slow ones)

    def _app(self) -> Application:
        return Application([(r"/bot([^/]+)/(\w+)", _Handler, {"api": self})])

    def sends(self) -> int:
        return sum(1 for m, _ in self.calls if m == "sendMessage")


class _Handler(RequestHandler):
    def initialize(self, api: FakeTelegramApi) -> None:
        self.api = api

    def check_xsrf_cookie(self) -> None:
        return None

    async def post(self, token: str, method: str) -> None:
        ctype = self.request.headers.get("Content-Type", "")
        params = json.loads(self.request.body or b"{}") if "json" in ctype else {
            k: v[0].decode() for k, v in self.request.body_arguments.items()}
        self.api.calls.append((method, params))
        if method == "getMe":
            self.finish({"ok": True, "result": {"id": 1, "is_bot": True, "first_name": "Fake", "username": "fake_bot"}})
            return
        if method != "sendMessage":
            self.finish({"ok": True, "result": True})
            return
        if self.api.mode == "429":
            self.set_status(429)
            self.finish({"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
                         "parameters": {"retry_after": 1}})
            return
        self.api.delivered.append(params)  # Telegram has it: the user will see it, whatever happens to our answer
        if self.api.mode == "slow":
            await asyncio.sleep(self.api.delay)
        self.finish({"ok": True, "result": {
            "message_id": len(self.api.delivered), "date": int(time.time()),
            "chat": {"id": int(params.get("chat_id", 0)), "type": "private"},
            "from": {"id": 1, "is_bot": True, "first_name": "Fake"}, "text": params.get("text", "")}})
