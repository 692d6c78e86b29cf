"""A local fake of the Zalo Bot HTTP API, following the documented request and response shapes
(../shared/docs/zalo-bot-api.md §2–§4 and §8). Runs on tornado in the test's event loop.

- `POST /bot{token}/{method}` with JSON or form-urlencoded bodies (GET + query also accepted).
- Unknown token: `ok:false, error_code:401` (HTTP 200 by default, `unauthorized_http_status` to change).
  Unknown method: HTTP 404, `ok:false, error_code:404`.
- getMe, getUpdates, setWebhook, deleteWebhook, getWebhookInfo, sendMessage, sendPhoto, sendSticker, sendChatAction
  with string ids and epoch-ms dates; inputs validated (`ok:false, error_code:400`).
- getUpdates: per-token FIFO, one update per call, no offset; when empty, waits `timeout × time_scale` seconds
  and answers HTTP 200 `{"ok":false,"error_code":408,"description":"Request timeout"}`; refused while a webhook
  is set.
- Webhook: `inject(token, update)` POSTs the update to the registered URL (or `deliver_to`, standing in for the
  TLS-terminating proxy in front of the bot) with `X-Bot-Api-Secret-Token`; `wrapped` switches the body to
  `{ok, result}`, `secret_override` sends a wrong (or, with "", no) secret; statuses are recorded in `deliveries`.
- `outbox`: every send. `fail_next(method, kind, times)`: 429, 502, 504, html, slow, ok_false_200, 403,
  403_blocked, empty_result.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from tornado.web import Application, RequestHandler

from local_bot_api import LocalBotApi

METHODS = {
    "getMe", "getUpdates", "setWebhook", "deleteWebhook", "getWebhookInfo",
    "sendMessage", "sendPhoto", "sendSticker", "sendChatAction",
}


def now_ms() -> int:
    return int(time.time() * 1000)


def new_token() -> str:
    return f"{secrets.randbelow(10**9)}:{secrets.token_urlsafe(24)}"


def hex_id(n: int = 20) -> str:
    return secrets.token_hex(n // 2)


# ------------------------------------------------------------------ update fixtures (shapes from live captures)

def _message(chat_id: str, user_id: str | None, name: str, group: bool, **extra) -> dict:
    user_id = user_id or chat_id
    return {
        "message_id": hex_id(),
        "chat": {"id": chat_id, "chat_type": "GROUP" if group else "PRIVATE"},
        "from": {"id": user_id, "display_name": name, "is_bot": False},
        "date": now_ms(),
        **extra,
    }


def text_update(text: str, chat_id: str, user_id: str | None = None, name: str = "Nguyen Van A",
                group: bool = False) -> dict:
    return {"event_name": "message.text.received", "message": _message(chat_id, user_id, name, group, text=text)}


def image_update(chat_id: str, caption: str = "ảnh hồ sơ") -> dict:
    return {"event_name": "message.image.received", "message": _message(
        chat_id, None, "Nguyen Van A", False, photo_url="https://example.com/p.jpg", caption=caption,
        message_type="CHAT_PHOTO")}


def sticker_update(chat_id: str) -> dict:
    return {"event_name": "message.sticker.received", "message": _message(
        chat_id, None, "Nguyen Van A", False, sticker="bfe458bf64fa8da4d4eb", url="https://example.com/s.png")}


def voice_update(chat_id: str) -> dict:
    return {"event_name": "message.voice.received", "message": _message(
        chat_id, None, "Nguyen Van A", False, voice_url="https://example.com/v.aac", message_type="CHAT_VOICE")}


def unsupported_update(chat_id: str) -> dict:
    return {"event_name": "message.unsupported.received", "message": _message(chat_id, None, "Nguyen Van A", False)}


def unknown_event_update(chat_id: str) -> dict:
    return {"event_name": "message.reaction.received", "message": _message(chat_id, None, "Nguyen Van A", False)}


def bot_update(chat_id: str, text: str = "hello from a bot") -> dict:
    upd = text_update(text, chat_id)
    upd["message"]["from"]["is_bot"] = True
    return upd


# ------------------------------------------------------------------ server

class ApiError(Exception):
    def __init__(self, code: int, description: str, http_status: int = 200):
        super().__init__(description)
        self.code, self.description, self.http_status = code, description, http_status


@dataclass
class BotState:
    token: str
    bot_id: str = field(default_factory=lambda: str(secrets.randbelow(10**18)))
    queue: deque = field(default_factory=deque)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_updated_at: int = 0


class FakeZaloServer(LocalBotApi):
    def __init__(self, *, time_scale: float = 0.02, unauthorized_http_status: int = 200):
        self.time_scale = time_scale  # getUpdates waits timeout × time_scale seconds
        self.unauthorized_http_status = unauthorized_http_status
        self.bots: dict[str, BotState] = {}
        self.outbox: list[dict] = []
        self.requests: list[tuple[str, str]] = []  # (method, token) of every call
        self.deliveries: list[dict] = []  # webhook POSTs: {status, body, headers}
        self.faults: dict[str, deque] = defaultdict(deque)
        self.deliver_to: str | None = None  # override of the webhook URL's scheme/host/port (the "proxy")
        self.wrapped = False
        self.secret_override: str | None = None
        self._ids = itertools.count(1)
        self._sent = asyncio.Event()

    # ---- lifecycle

    def _app(self) -> Application:
        return Application([(r"/bot([^/]+)/([A-Za-z]+)", _Handler, {"fake": self})])

    def add_bot(self, token: str | None = None) -> str:
        token = token or new_token()
        self.bots[token] = BotState(token)
        return token

    # ---- test controls

    def fail_next(self, method: str, kind: str, times: int = 1) -> None:
        """kind: "429", "502", "504", "html", "slow", "ok_false_200", "403" (a server-side error, as Zalo lists
        it), "403_blocked" (a 403 that says the user blocked the bot), "empty_result" (ok:true, nothing set)."""
        self.faults[method].extend([kind] * times)

    async def inject(self, token: str, update: dict) -> int | None:
        """A user's update: queued for getUpdates, or POSTed to the webhook (returns the receiver's status)."""
        bot = self.bots[token]
        if not bot.webhook_url:
            bot.queue.append(update)
            bot.arrived.set()
            return None
        url = bot.webhook_url
        if self.deliver_to:
            parts = urlsplit(url)
            url = self.deliver_to.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")
        body = {"ok": True, "result": update} if self.wrapped else update
        headers = {"Content-Type": "application/json"}
        secret = bot.webhook_secret if self.secret_override is None else self.secret_override
        if secret:
            headers["X-Bot-Api-Secret-Token"] = secret
        async with httpx.AsyncClient(timeout=10) as client:
            resp = await client.post(url, content=json.dumps(body, ensure_ascii=False).encode(), headers=headers)
        self.deliveries.append({"status": resp.status_code, "body": body, "headers": headers, "reply": resp.text})
        return resp.status_code

    def sent_to(self, chat_id: str) -> list[dict]:
        return [m for m in self.outbox if m.get("chat_id") == chat_id and m["method"] == "sendMessage"]

    async def wait_sent(self, chat_id: str, count: int = 1, timeout: float = 10.0) -> list[dict]:
        """Wait until at least `count` messages were sent to `chat_id`; returns them all."""
        deadline = time.monotonic() + timeout
        while len(self.sent_to(chat_id)) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"expected {count} messages to {chat_id}, got {self.sent_to(chat_id)}")
            self._sent.clear()
            try:
                await asyncio.wait_for(self._sent.wait(), left)
            except asyncio.TimeoutError:
                pass
        return self.sent_to(chat_id)

    # ---- the API

    async def call(self, token: str, method: str, params: dict) -> Any:
        self.requests.append((method, token))
        bot = self.bots.get(token)
        if bot is None:
            raise ApiError(401, "Unauthorized", self.unauthorized_http_status)
        if method not in METHODS:
            raise ApiError(404, f"Method {method} not found", 404)
        return await getattr(self, f"_m_{method}")(bot, params)

    async def _m_getMe(self, bot: BotState, p: dict) -> dict:
        return {"id": bot.bot_id, "account_name": "bot.TestCchc", "account_type": "BASIC", "can_join_groups": False}

    async def _m_getUpdates(self, bot: BotState, p: dict) -> dict:
        if bot.webhook_url:
            raise ApiError(400, "Webhook is active, call deleteWebhook before using getUpdates")
        try:
            timeout = float(p.get("timeout", 30))
        except (TypeError, ValueError):
            raise ApiError(400, "timeout must be a number") from None
        deadline = time.monotonic() + timeout * self.time_scale
        while not bot.queue:
            bot.arrived.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise ApiError(408, "Request timeout")
            try:
                await asyncio.wait_for(bot.arrived.wait(), left)
            except asyncio.TimeoutError:
                pass
        return bot.queue.popleft()

    async def _m_setWebhook(self, bot: BotState, p: dict) -> dict:
        url, secret = str(p.get("url") or ""), str(p.get("secret_token") or "")
        if not url.startswith("https://"):
            raise ApiError(400, "url must be an HTTPS URL")
        if not 8 <= len(secret) <= 256:
            raise ApiError(400, "secret_token must be 8-256 characters")
        bot.webhook_url, bot.webhook_secret, bot.webhook_updated_at = url, secret, now_ms()
        return {"url": url, "updated_at": bot.webhook_updated_at}

    async def _m_deleteWebhook(self, bot: BotState, p: dict) -> dict:
        if not bot.webhook_url:
            raise ApiError(400, "Webhook is not set")
        bot.webhook_url, bot.webhook_secret, bot.webhook_updated_at = "", "", now_ms()
        return {"url": "", "updated_at": bot.webhook_updated_at}

    async def _m_getWebhookInfo(self, bot: BotState, p: dict) -> dict:
        return {"url": bot.webhook_url, "updated_at": bot.webhook_updated_at}

    def _send(self, bot: BotState, method: str, p: dict, **fields) -> dict:
        if not str(p.get("chat_id") or ""):
            raise ApiError(400, "chat_id is required")
        self.outbox.append({"method": method, "token": bot.token, "chat_id": str(p["chat_id"]),
                            "parse_mode": p.get("parse_mode"), **fields})
        self._sent.set()
        return {"message_id": hex_id(), "date": now_ms()}

    @staticmethod
    def _check_text(value: Any, name: str, required: bool = True) -> str:
        text = "" if value is None else str(value)
        if (required and not text) or len(text) > 2000:
            raise ApiError(400, f"{name} must be 1-2000 characters")
        return text

    async def _m_sendMessage(self, bot: BotState, p: dict) -> dict:
        text = self._check_text(p.get("text"), "text")
        return self._send(bot, "sendMessage", p, text=text)

    async def _m_sendPhoto(self, bot: BotState, p: dict) -> dict:
        photo = str(p.get("photo") or "")
        if not photo.startswith(("http://", "https://")):
            raise ApiError(400, "The photo URL must start with http:// or https://")
        caption = self._check_text(p.get("caption"), "caption", required=False)
        return self._send(bot, "sendPhoto", p, photo=photo, caption=caption)

    async def _m_sendSticker(self, bot: BotState, p: dict) -> dict:
        if not p.get("sticker"):
            raise ApiError(400, "sticker is required")
        return self._send(bot, "sendSticker", p, sticker=str(p["sticker"]))

    async def _m_sendChatAction(self, bot: BotState, p: dict) -> None:
        if p.get("action") not in ("typing", "upload_photo"):
            raise ApiError(400, "action must be typing or upload_photo")
        if not p.get("chat_id"):
            raise ApiError(400, "chat_id is required")
        self.outbox.append({"method": "sendChatAction", "token": bot.token, "chat_id": str(p["chat_id"]),
                            "action": p["action"]})
        return None  # sendChatAction answers {"ok": true} without a result


class _Handler(RequestHandler):
    def initialize(self, fake: FakeZaloServer) -> None:
        self.fake = fake

    def check_xsrf_cookie(self) -> None:
        return None

    def _params(self) -> dict:
        if self.request.method == "GET":
            return {k: v for k, v in parse_qsl(self.request.query)}
        ctype = self.request.headers.get("Content-Type", "")
        body = self.request.body or b""
        if "application/json" in ctype:
            data = json.loads(body or b"{}")
            if not isinstance(data, dict):
                raise ApiError(400, "body must be a JSON object")
            return data
        if "application/x-www-form-urlencoded" in ctype or not body:
            return {k: v for k, v in parse_qsl(body.decode())}
        raise ApiError(400, f"unsupported content type {ctype!r}")

    async def get(self, token: str, method: str) -> None:
        await self._serve(token, method)

    async def post(self, token: str, method: str) -> None:
        await self._serve(token, method)

    async def _serve(self, token: str, method: str) -> None:
        faults = self.fake.faults.get(method)
        fault = faults.popleft() if faults else None
        if fault in ("429", "502", "504"):
            code = int(fault)
            self.fake.requests.append((method, token))
            self.set_status(code)
            self.finish({"ok": False, "error_code": code,
                         "description": "Over quota" if code == 429 else "Bad Gateway"})
            return
        if fault == "html":
            self.fake.requests.append((method, token))
            self.set_status(502)
            self.set_header("Content-Type", "text/html")
            self.finish("<html><body><h1>502 Bad Gateway</h1></body></html>")
            return
        if fault in ("403", "403_blocked"):
            self.fake.requests.append((method, token))
            self.finish({"ok": False, "error_code": 403,
                         "description": "User has blocked the bot" if fault == "403_blocked" else "Forbidden"})
            return
        if fault == "empty_result":
            self.fake.requests.append((method, token))
            self.finish({"ok": True, "result": {"url": "", "updated_at": now_ms()}})
            return
        if fault == "ok_false_200":
            self.fake.requests.append((method, token))
            self.finish({"ok": False, "error_code": 500, "description": "Internal error"})
            return
        if fault == "slow":
            await asyncio.sleep(2.0)
        try:
            result = await self.fake.call(token, method, self._params())
        except ApiError as exc:
            self.set_status(exc.http_status)
            self.finish({"ok": False, "error_code": exc.code, "description": exc.description})
            return
        except ValueError:
            self.set_status(200)
            self.finish({"ok": False, "error_code": 400, "description": "invalid body"})
            return
        self.finish({"ok": True} if result is None else {"ok": True, "result": result})
