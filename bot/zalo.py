"""Zalo Bot adapter: a thin async httpx client for the Zalo Bot HTTP API, long polling, and a webhook receiver.

Facts it relies on (see ../shared/docs/zalo-bot-api.md): methods are `POST {base}{token}/{method}` with a JSON
body; replies are `{"ok": true, "result": ...}` or `{"ok": false, "error_code", "description"}`, often with HTTP
200; getUpdates returns ONE update (no offset), and `ok:false, error_code 408` when the wait expired with nothing;
polling and a webhook are mutually exclusive; webhook POSTs carry `X-Bot-Api-Secret-Token` (exact string given to
setWebhook) and the body may be flat or wrapped in `{ok, result}`; text is 1–2000 characters; there are no buttons,
so choices are numbered in the text.

What this adapter decides (issue 15):
- Error 429 is the plan's monthly QUOTA, not a rate limit: sending stops at once (no retry), admins are told on
  another channel, and sending resumes at the next probe: the first day of the next month (local time) or 24 hours
  later, whichever comes first (a probe that gets 429 again pauses again, without a second alert).
- Retries follow bot/send_policy.py: reads (getUpdates, getMe, getWebhookInfo) retry transient failures;
  sendMessage is retried only when it surely did not reach Zalo (never after a timeout: it may have arrived).
- 403 marks a staff member as blocked only when the error says so (Zalo lists 403 as a server error).
- Polling mode never calls deleteWebhook: when the token has a webhook (a production bot), it refuses to start and
  says why. setWebhook's answer is checked.
- `message.unsupported.received` (a protected sender, a link card: no content) gets its own short explanation.
"""
from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import random
import secrets
import time
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx

from handlers.conversation import Conversation, Incoming, Outgoing
from handlers.formatting import ZALO, render
from handlers.sanitize import clean_text

from .send_policy import NOT_SENT, transport_outcome
from .webhook import SecretWebhookHandler

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Bot-Api-Secret-Token"
TEXT_EVENT = "message.text.received"
UNREADABLE_EVENT = "message.unsupported.received"  # no content: a protected sender, a link card...
MEDIA_EVENTS = {
    "message.image.received",
    "message.sticker.received",
    "message.voice.received",
    "message.link.received",
}
RETRY_STATUS = {500, 502, 503, 504}  # not 429: that is the monthly quota
QUOTA_PROBE_SECONDS = 24 * 3600
MAX_BODY = 1 << 20
BLOCK_WORDS = ("block", "chặn", "unfollow")


class ZaloError(Exception):
    """An API failure: `error_code` from the body (or the HTTP status), `description` as sent."""

    def __init__(self, error_code: int, description: str, method: str = ""):
        super().__init__(f"{method}: {error_code} {description}".strip(": "))
        self.error_code = error_code
        self.description = description
        self.method = method

    @property
    def retryable(self) -> bool:
        return self.error_code in RETRY_STATUS

    @property
    def blocked(self) -> bool:
        """The recipient blocked the bot: only when the error says so (403 alone is a server-side error)."""
        text = self.description.lower()
        return self.error_code == 403 and any(w in text for w in BLOCK_WORDS)


class ZaloQuotaExceeded(ZaloError):
    """The plan's monthly message quota is used up (error 429): nothing is sent until `until` (epoch seconds)."""

    def __init__(self, until: float, description: str = "over quota", method: str = "sendMessage"):
        super().__init__(429, description, method)
        self.until = until


def next_quota_probe(now: float, tz: str = "Asia/Ho_Chi_Minh") -> float:
    """When to try sending again after a 429: the start of next month (local time) or 24 hours from now, whichever
    is sooner (the reset rule is not documented; probing daily costs one refused call a day)."""
    local = datetime.fromtimestamp(now, ZoneInfo(tz))
    month_start = (local.replace(day=1, hour=0, minute=0, second=0, microsecond=0) + timedelta(days=32)).replace(day=1)
    return min(month_start.timestamp(), now + QUOTA_PROBE_SECONDS)


def _redact(text: str, token: str) -> str:
    return text.replace(token, "<token>") if token else text


class ZaloClient:
    """POST JSON, check `ok`, treat 408 from getUpdates as "no update", retry 429/5xx/timeouts with backoff."""

    def __init__(
        self,
        token: str,
        base_url: str = "https://bot-api.zaloplatforms.com/bot",
        *,
        timeout: float = 15.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        tz: str = "Asia/Ho_Chi_Minh",
    ):
        self.token = token
        self.base_url = base_url
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.clock = clock
        self.tz = tz
        self.quota_until: float | None = None  # sending paused until then (epoch seconds) after a 429
        # Called (until) when the quota runs out and again (None) when sending works again.
        self.on_quota: Callable[[float | None], Awaitable[None]] | None = None
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport)

    async def aclose(self) -> None:
        await self._http.aclose()

    def _url(self, method: str) -> str:
        return f"{self.base_url}{self.token}/{method}"

    async def call(self, method: str, payload: dict | None = None, *, read_timeout: float | None = None,
                   retries: int | None = None, idempotent: bool = True) -> Any:
        """The `result` of a method (None when the API sends none); raises ZaloError or httpx.TransportError.
        Server errors and transport failures are retried; for a call that is not `idempotent` (a send) a
        transport failure whose outcome is unknown (a timeout after sending) is not."""
        retries = self.max_retries if retries is None else retries
        timeout = httpx.Timeout(self._http.timeout.connect, read=read_timeout) if read_timeout else None
        attempt = 0
        while True:
            try:
                return await self._call_once(method, payload or {}, timeout)
            except (ZaloError, httpx.TransportError) as exc:
                if isinstance(exc, ZaloError):
                    retryable = exc.retryable
                else:
                    retryable = idempotent or transport_outcome(exc) == NOT_SENT
                if not retryable or attempt >= retries:
                    raise
                delay = min(self.max_backoff, self.backoff * 2**attempt) * (0.5 + random.random() / 2)
                log.warning("zalo %s failed (%s); retry %d in %.1fs", method,
                            _redact(str(exc), self.token), attempt + 1, delay)
                attempt += 1
                await asyncio.sleep(delay)

    async def _call_once(self, method: str, payload: dict, timeout: httpx.Timeout | None) -> Any:
        kwargs = {"json": payload}
        if timeout is not None:
            kwargs["timeout"] = timeout
        response = await self._http.post(self._url(method), **kwargs)
        try:
            body = response.json()
        except ValueError:
            raise ZaloError(response.status_code if response.status_code >= 400 else 502,
                            f"non-JSON reply (HTTP {response.status_code})", method) from None
        if not isinstance(body, dict):
            raise ZaloError(502, "unexpected reply shape", method)
        if body.get("ok") is True:
            return body.get("result")
        code = body.get("error_code") or (response.status_code if response.status_code >= 400 else 500)
        raise ZaloError(int(code), str(body.get("description") or body.get("message") or ""), method)

    async def get_me(self) -> dict:
        return await self.call("getMe")

    async def get_updates(self, timeout: float = 30) -> dict | None:
        """One update, or None when the wait expired (error 408). No retry here: the poll loop owns backoff."""
        try:
            return await self.call("getUpdates", {"timeout": str(int(timeout))}, read_timeout=timeout + 15, retries=0)
        except ZaloError as exc:
            if exc.error_code == 408:
                return None
            raise

    async def send_message(self, chat_id: str, text: str, *, retries: int | None = None) -> dict:
        """Send one message; raises ZaloQuotaExceeded at once (no API call) while the quota is used up.
        `retries=0` for reminders: their outbox is the retry layer."""
        now = self.clock()
        if self.quota_until is not None and now < self.quota_until:
            raise ZaloQuotaExceeded(self.quota_until, "quota used up; sending paused")
        try:
            result = await self.call("sendMessage", {"chat_id": str(chat_id), "text": text}, retries=retries,
                                     idempotent=False)
        except ZaloError as exc:
            if exc.error_code != 429:
                raise
            first = self.quota_until is None
            self.quota_until = next_quota_probe(self.clock(), self.tz)
            log.error("zalo: message quota used up (429 %s); sending paused until %s", exc.description,
                      datetime.fromtimestamp(self.quota_until, ZoneInfo(self.tz)).isoformat(timespec="minutes"))
            if first and self.on_quota is not None:
                await self._notify_quota(self.quota_until)
            raise ZaloQuotaExceeded(self.quota_until, exc.description) from exc
        if self.quota_until is not None:  # a probe went through: the quota was reset
            self.quota_until = None
            log.info("zalo: sending works again (quota reset)")
            if self.on_quota is not None:
                await self._notify_quota(None)
        return result

    async def _notify_quota(self, until: float | None) -> None:
        try:
            await self.on_quota(until)  # type: ignore[misc]
        except Exception:  # telling admins must never break a send path
            log.exception("zalo: quota notification failed")

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> None:
        await self.call("sendChatAction", {"chat_id": str(chat_id), "action": action}, retries=0, idempotent=False)

    async def set_webhook(self, url: str, secret_token: str) -> dict:
        return await self.call("setWebhook", {"url": url, "secret_token": secret_token})

    async def delete_webhook(self) -> dict:
        return await self.call("deleteWebhook")

    async def get_webhook_info(self) -> dict:
        return await self.call("getWebhookInfo")


def parse_update(update: dict) -> tuple[Incoming | None, str]:
    """(Incoming, message_id) for an update; (None, reason) for what the bot ignores (bots, unknown events)."""
    if not isinstance(update, dict):
        return None, "not an object"
    event = str(update.get("event_name") or "")
    message = update.get("message")
    if not isinstance(message, dict):
        return None, f"no message ({event or 'no event'})"
    sender = message.get("from") if isinstance(message.get("from"), dict) else {}
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    if sender.get("is_bot"):
        return None, "from a bot"
    chat_id = clean_text(str(chat.get("id") or sender.get("id") or ""), "zalo chat id")
    user_id = clean_text(str(sender.get("id") or chat_id), "zalo user id")
    if not chat_id:
        return None, "no chat id"
    name = clean_text(str(sender.get("display_name") or sender.get("first_name") or ""), "zalo name")
    text = message.get("text")
    if event == TEXT_EVENT or (not event and isinstance(text, str)):
        text = clean_text(text if isinstance(text, str) else "", "zalo")
        kind = "command" if text.lstrip().startswith("/") else "text"
        incoming = Incoming("zalo", user_id, chat_id, name, text, None, kind)
    elif event == UNREADABLE_EVENT:
        incoming = Incoming("zalo", user_id, chat_id, name, "", None, "unreadable")
    elif event in MEDIA_EVENTS:
        incoming = Incoming("zalo", user_id, chat_id, name, "", None, "unsupported")
    else:
        return None, f"event {event or '?'} ignored"
    incoming.is_group = str(chat.get("chat_type") or "").upper() == "GROUP"  # choices kept per member
    ref = clean_text(str(message.get("message_id") or ""), "zalo message id")
    incoming.message_id = ref or None
    return incoming, ref


class ZaloChannel:
    """Runs the Zalo bot: polling by default, a webhook receiver when ZALO_WEBHOOK_URL is set."""

    def __init__(self, settings: Any, conversation: Conversation, client: ZaloClient | None = None, *,
                 poll_timeout: float = 30, poll_backoff: float = 0.5, dedupe_seconds: float = 300):
        self.settings = settings
        self.webhook_secret = settings.zalo_webhook_secret or secrets.token_urlsafe(32)
        if self.mode == "webhook" and not 8 <= len(self.webhook_secret) <= 256:
            raise ValueError("ZALO_WEBHOOK_SECRET must be 8-256 characters (Zalo's setWebhook rule)")
        self.conversation = conversation
        self.client = client or ZaloClient(settings.zalo_bot_token, settings.zalo_api_base_url)
        self.poll_timeout = poll_timeout
        self.poll_backoff = poll_backoff  # first delay after a failed poll; doubles up to 60 s
        self.dedupe_seconds = dedupe_seconds
        self.webhook_port: int | None = None  # bound port, when the webhook server runs
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._chat_locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task] = set()
        self._poller: asyncio.Task | None = None
        self._server = None
        self._stopping = asyncio.Event()

    @property
    def mode(self) -> str:
        return "webhook" if self.settings.zalo_webhook_url else "polling"

    async def start(self) -> None:
        self.client.on_quota = self._on_quota
        if self.mode == "webhook":
            await self._start_webhook_server()
            url = self.settings.zalo_webhook_url
            result = await self.client.set_webhook(url, self.webhook_secret)
            if not isinstance(result, dict) or result.get("url") != url:
                raise RuntimeError(f"Zalo setWebhook did not register {url} (answer: {result!r}); nothing would "
                                   "arrive. Check that the URL is public HTTPS and the secret is 8-256 characters.")
            log.info("zalo: webhook %s, listening on %s:%s (setWebhook: %s)", url,
                     self.settings.zalo_webhook_listen, self.webhook_port, result)
        else:
            await self._refuse_polling_over_a_webhook()
            self._poller = asyncio.create_task(self._poll_loop(), name="zalo-poll")
            log.info("zalo: long polling")

    async def _refuse_polling_over_a_webhook(self) -> None:
        """getUpdates does not work while the token has a webhook, and deleting it would silently break the bot
        that set it (a production server using the same token): refuse and say what to do instead."""
        try:
            info = await self.client.get_webhook_info()
        except (ZaloError, httpx.TransportError) as exc:
            log.warning("zalo getWebhookInfo failed (%s); starting to poll anyway",
                        _redact(str(exc), self.client.token))
            return
        url = info.get("url") if isinstance(info, dict) else None
        if url:
            raise RuntimeError(
                f"Zalo: this bot token has a webhook ({url}), so polling cannot start. The bot will not delete it: "
                "that would silently stop the server that set it (running locally with the production token). Use "
                "a separate bot token for local runs, or set ZALO_WEBHOOK_URL to run in webhook mode; to switch "
                "this token to polling on purpose, call the API's deleteWebhook yourself first.")

    async def _on_quota(self, until: float | None) -> None:
        """The Zalo quota ran out (or came back): tell the admins on another channel, show it in /thongke."""
        when = datetime.fromtimestamp(until, ZoneInfo(self.client.tz)) if until else None
        alert = getattr(self.conversation, "zalo_quota_changed", None)
        if alert is not None:
            await alert(when)

    async def stop(self) -> None:
        self._stopping.set()
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()
            self._server = None
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=10)
        await self.client.aclose()

    # ------------------------------------------------------------ receiving

    async def _poll_loop(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                update = await self.client.get_updates(self.poll_timeout)
                failures = 0
            except asyncio.CancelledError:
                raise
            except ZaloError as exc:
                if exc.error_code == 401:
                    log.error("zalo: the bot token was refused (401); polling stopped")
                    return
                failures += 1
                await self._sleep_backoff(failures, exc)
                continue
            except (httpx.TransportError, ValueError) as exc:
                failures += 1
                await self._sleep_backoff(failures, exc)
                continue
            if update is not None:
                self.dispatch(update)

    async def _sleep_backoff(self, failures: int, exc: Exception) -> None:
        delay = min(60.0, self.poll_backoff * 2 ** min(failures - 1, 7)) * (0.5 + random.random() / 2)
        log.warning("zalo getUpdates failed (%s); retrying in %.1fs", _redact(str(exc), self.client.token), delay)
        try:
            await asyncio.wait_for(self._stopping.wait(), delay)
        except asyncio.TimeoutError:
            pass

    def dispatch(self, update: dict) -> bool:
        """Accept an update for processing in the background; False when it is ignored or a duplicate."""
        incoming, ref = parse_update(update)
        if incoming is None:
            log.debug("zalo update ignored: %s", ref)
            return False
        if ref and self._is_duplicate(ref):
            log.debug("zalo duplicate message %s ignored", ref)
            return False
        task = asyncio.create_task(self._process(incoming))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    def _is_duplicate(self, ref: str) -> bool:
        now = time.monotonic()
        while self._seen and next(iter(self._seen.values())) < now - self.dedupe_seconds:
            self._seen.popitem(last=False)
        if ref in self._seen:
            return True
        self._seen[ref] = now
        return False

    async def _process(self, incoming: Incoming) -> None:
        # The conversation answers one user's messages in order and bounds how many may wait; the chat lock only
        # keeps the replies of one chat in that order on the way out.
        try:
            async with self._typing(incoming.chat_id):  # while answering or re-indexing
                replies = await self.conversation.handle(incoming)
        except Exception:
            log.exception("zalo: failed to answer a message")
            return
        lock = self._chat_locks.setdefault(incoming.chat_id, asyncio.Lock())
        async with lock:
            try:
                for out in replies:
                    await self.send(out)
            except ZaloQuotaExceeded:
                log.warning("zalo: a reply was not sent (message quota used up)")
            except Exception:
                log.exception("zalo: failed to send a reply")

    @contextlib.asynccontextmanager
    async def _typing(self, chat_id: str, every: float = 4.0):
        """sendChatAction "typing" until the block ends (Zalo shows it a few seconds, so it is renewed)."""
        async def loop() -> None:
            while True:
                paused = self.client.quota_until is not None and self.client.clock() < self.client.quota_until
                try:
                    if not paused:  # no calls at all while the quota is used up
                        await self.client.send_chat_action(chat_id)
                except (ZaloError, httpx.TransportError) as exc:
                    log.debug("zalo sendChatAction: %s", exc)
                await asyncio.sleep(every)

        task = asyncio.create_task(loop())
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def send(self, out: Outgoing) -> None:
        """Send one reply: plain text, split under 2000 UTF-16 units; buttons are not available on Zalo (the
        conversation core puts numbered choices in the text)."""
        if out.edit_message_id and out.markup_only:  # no buttons to change on Zalo
            return
        for piece in render(out.text, ZALO):
            await self.client.send_message(out.chat_id, piece)

    # ------------------------------------------------------------ webhook

    async def _start_webhook_server(self) -> None:
        from tornado.httpserver import HTTPServer
        from tornado.netutil import bind_sockets
        from tornado.web import Application

        path = urlsplit(self.settings.zalo_webhook_url).path or "/"
        app = Application([(path, _WebhookHandler, {"channel": self})])
        self._server = HTTPServer(app, max_body_size=MAX_BODY)
        sockets = bind_sockets(self.settings.zalo_webhook_port, self.settings.zalo_webhook_listen)
        self._server.add_sockets(sockets)
        self.webhook_port = sockets[0].getsockname()[1]

    def check_secret(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.webhook_secret.encode())


def _unwrap(body: Any) -> Any:
    """Webhook bodies come flat (the update itself) or wrapped as {ok, result: update}; accept both."""
    if isinstance(body, dict) and "message" not in body and isinstance(body.get("result"), dict):
        return body["result"]
    return body


class _WebhookHandler(SecretWebhookHandler):
    """POST only; wrong or missing secret -> 403 and nothing processed; answers 200 at once, works after."""

    secret_header = SECRET_HEADER
    forbidden_body = {"ok": False, "description": "forbidden"}

    async def post(self) -> None:
        if self.refused():
            return
        raw = self.request.body or b""
        if raw.strip():
            try:
                update = _unwrap(json.loads(raw))
            except ValueError:
                self.set_status(400)
                self.finish({"ok": False, "description": "invalid JSON"})
                return
            self.channel.dispatch(update)
        self.finish({"message": "Success"})
