"""Telegram channel: a python-telegram-bot Application wired to the conversation core, in one place.

- `base_url` from TELEGRAM_API_BASE_URL (official API, a self-hosted Bot API server, or the test emulator).
- Long polling by default; webhook mode when BOT_WEBHOOK_URL is set: our own small receiver (`_WebhookHandler`)
  listens on BOT_WEBHOOK_LISTEN:BOT_WEBHOOK_PORT at the URL's path, refuses bodies over 1 MiB before reading them
  (PTB's own server buffers up to 100 MB first), answers 403 to requests without the right
  `X-Telegram-Bot-Api-Secret-Token` header, and queues the update for the Application.
- Updates are handled concurrently (the conversation serializes each user's own messages), a repeated
  `update_id` is dropped, and incoming text is sanitized (lone surrogates) before the conversation sees it.
- Outgoing sends go through PTB's AIORateLimiter (pacing under Telegram's flood limits, no retries of its own) and
  `call_with_policy` (bot/send_policy.py: retry only what surely was not sent). Replies are HTML-escaped and split
  at line boundaries under 4096 characters; choices become an inline keyboard on the last piece.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import secrets
import warnings
from collections import OrderedDict
from dataclasses import replace
from datetime import timedelta
from typing import Any, Awaitable, Callable, TypeVar
from urllib.parse import urlsplit

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Update
from telegram.error import NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import telegram_ux as ux
from handlers.conversation import Conversation, Incoming, Outgoing
from handlers.formatting import TELEGRAM, TELEGRAM_LIMIT, Platform, render
from handlers.sanitize import clean_text

from .send_policy import CHAT_REPLY, NOT_SENT, RetryPolicy, transport_outcome
from .webhook import SecretWebhookHandler

log = logging.getLogger(__name__)

T = TypeVar("T")
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what Telegram accepts as a webhook secret_token
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_WEBHOOK_BODY = 1 << 20  # an update is a few KB; refuse anything over 1 MiB before reading it
SEEN_UPDATES = 10_000  # update_ids remembered for de-duplication
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns about int vs timedelta here
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def send_outcome(exc: NetworkError) -> str:
    """NOT_SENT or UNKNOWN for a failed Bot API call (bot/send_policy.py). PTB raises NetworkError without an
    HTTP-layer cause when Telegram answered with a server error: nothing was sent."""
    return NOT_SENT if exc.__cause__ is None else transport_outcome(exc.__cause__)


async def call_with_policy(fn: Callable[[], Awaitable[T]], policy: RetryPolicy = CHAT_REPLY) -> T:
    """Run a Bot API call under the one retry policy: flood control is retried after the delay Telegram asks for
    (when it is not longer than the policy's max_wait), calls that surely did not reach Telegram with backoff; a
    call whose outcome is unknown (a timeout after sending) is never repeated, nor are refusals."""
    for attempt in range(policy.attempts):
        try:
            return await fn()
        except RetryAfter as exc:
            delay = retry_after_seconds(exc) + 0.1
            if attempt == policy.attempts - 1 or delay > policy.max_wait:
                raise
        except NetworkError as exc:  # includes TimedOut and HTTP 5xx
            if send_outcome(exc) != NOT_SENT:
                log.warning("telegram call failed with an unknown outcome (%s); not repeated", exc)
                raise
            if attempt == policy.attempts - 1:
                raise
            delay = policy.backoff(attempt)
            log.warning("telegram call failed (%s); retry %d in %.1fs", exc, attempt + 1, delay)
        await asyncio.sleep(delay)
    raise AssertionError("unreachable")


def keyboard(out: Outgoing) -> InlineKeyboardMarkup | None:
    if not out.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in out.buttons]
    )


async def send_outgoing(bot: Any, out: Outgoing, platform: Platform = TELEGRAM,
                        policy: RetryPolicy = CHAT_REPLY) -> None:
    """Escape, split and send one reply; the keyboard goes with the last piece."""
    if out.rich is not None or out.edit_message_id:  # HTML answers and edits (bot/telegram_ux.py)
        await ux.send(bot, out, platform, lambda fn: call_with_policy(fn, policy))
        return
    pieces = render(out.text, platform)
    markup = keyboard(out)
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1
        await call_with_policy(lambda piece=piece, last=last: bot.send_message(
            chat_id=int(out.chat_id) if out.chat_id.lstrip("-").isdigit() else out.chat_id,
            text=piece, parse_mode=platform.parse_mode, reply_markup=markup if last else None,
            link_preview_options=NO_PREVIEW,
        ), policy)


# ---------------------------------------------------------------- handlers (one small function each)

def _incoming(update: Update, kind: str, text: str = "", data: str | None = None, **extra) -> Incoming:
    user, chat = update.effective_user, update.effective_chat
    message = update.effective_message
    return Incoming(
        channel="telegram",
        user_id=str(user.id if user else chat.id),
        chat_id=str(chat.id if chat else user.id),
        display_name=clean_text((user.full_name if user else "") or "", "telegram name"),
        text=clean_text(text, "telegram"),
        callback_data=clean_text(data, "telegram callback") if data is not None else None,
        kind=kind,
        message_id=str(message.message_id) if message is not None else None,
        is_group=ux.is_group(update),
        **extra,
    )


def _for_bot(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """The text to answer; in a group only what mentions or replies to the bot (None: not for us)."""
    message = update.effective_message
    if not ux.is_group(update):
        return message.text or ""
    return ux.addressed_text(message, context.bot.username or "", context.bot.id)


async def _reply(context: ContextTypes.DEFAULT_TYPE, incoming: Incoming) -> None:
    conversation: Conversation = context.application.bot_data["conversation"]
    async with ux.typing(context.bot, incoming.chat_id):  # while answering or re-indexing
        replies = await conversation.handle(incoming)
    for out in replies:
        try:  # one failed send (a blocked admin, say) must not drop the other replies
            await send_outgoing(context.bot, out, context.application.bot_data["platform"])
        except TelegramError:
            log.exception("telegram: a reply to chat %s was not delivered", out.chat_id)


async def on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    text = _for_bot(update, context)
    if text is not None:
        await _reply(context, _incoming(update, "command", text))


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    text = _for_bot(update, context)
    if text is not None:
        await _reply(context, _incoming(update, "text", text))


async def on_edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An edited message is answered again (a command is acknowledged, not re-run)."""
    text = _for_bot(update, context)
    if text is not None:
        kind = "command" if text.startswith("/") else "text"
        await _reply(context, _incoming(update, kind, text, edited=True))


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if ux.is_group(update) and ux.addressed_text(update.effective_message, context.bot.username or "",
                                                 context.bot.id) is None:
        return  # a file shared in a group is not for the bot unless it is addressed
    attachment = ux.document_attachment(context.bot, update.effective_message)
    await _reply(context, _incoming(update, "document", attachment=attachment))


async def on_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    try:
        await query.answer()  # stop the button's spinner
    except NetworkError as exc:
        log.debug("answerCallbackQuery failed: %s", exc)
    await _reply(context, _incoming(update, "callback", data=query.data or ""))


async def on_unsupported(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if ux.is_group(update):
        return  # stickers and photos in a group are people talking to each other
    await _reply(context, _incoming(update, "unsupported"))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("telegram handler failed", exc_info=context.error)


class SeenUpdates:
    """The last `size` update_ids: Telegram re-delivers an update whose webhook answer it did not get in time."""

    def __init__(self, size: int = SEEN_UPDATES):
        self.size = size
        self._ids: OrderedDict[int, None] = OrderedDict()

    def repeated(self, update_id: int) -> bool:
        if update_id in self._ids:
            return True
        self._ids[update_id] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return False


async def drop_repeated(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs before every other handler (group -1): a repeated update_id goes no further."""
    if context.application.bot_data["seen_updates"].repeated(update.update_id):
        log.info("telegram: update %s received again; ignored", update.update_id)
        raise ApplicationHandlerStop


def build_application(settings: Any, conversation: Conversation, *, token: str | None = None,
                      message_limit: int = TELEGRAM_LIMIT) -> Application:
    """The PTB Application for `settings` (token and base URL), answering through `conversation`.
    `message_limit` (UTF-16 units per message) is Telegram's 4096 unless a test lowers it."""
    app = (
        ApplicationBuilder()
        .token(token or settings.telegram_bot_token)
        .base_url(settings.telegram_api_base_url)
        .base_file_url(file_base_url(settings.telegram_api_base_url))
        .rate_limiter(AIORateLimiter(max_retries=0))  # paces only: retries are call_with_policy's
        .concurrent_updates(True)  # one user's slow question must not hold the others' updates
        .connect_timeout(10)
        .read_timeout(20)
        .write_timeout(20)
        .get_updates_read_timeout(40)
        .build()
    )
    app.bot_data["conversation"] = conversation
    app.bot_data["platform"] = replace(TELEGRAM, limit=message_limit)
    app.bot_data["seen_updates"] = SeenUpdates()
    app.add_handler(TypeHandler(Update, drop_repeated), group=-1)
    only_new = filters.UpdateType.MESSAGE  # not edited messages or channel posts
    app.add_handler(MessageHandler(only_new & filters.COMMAND, on_command))
    app.add_handler(MessageHandler(only_new & filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE & filters.TEXT, on_edited))
    app.add_handler(MessageHandler(only_new & filters.Document.ALL, on_document))
    app.add_handler(CallbackQueryHandler(on_callback))
    app.add_handler(MessageHandler(only_new & ~filters.TEXT & ~filters.StatusUpdate.ALL, on_unsupported))
    app.add_error_handler(on_error)
    return app


class TelegramChannel:
    """Start/stop the Application inside a running event loop (serve() runs several channels in one loop)."""

    def __init__(self, settings: Any, conversation: Conversation, application: Application | None = None, *,
                 message_limit: int = TELEGRAM_LIMIT):
        self.settings = settings
        self.webhook_secret = settings.webhook_secret or secrets.token_urlsafe(32)
        if self.mode == "webhook" and not SECRET_RE.match(self.webhook_secret):
            raise ValueError("BOT_WEBHOOK_SECRET: 1-256 characters among A-Z, a-z, 0-9, _ and -")
        self.app = application or build_application(settings, conversation, message_limit=message_limit)
        self.webhook_port: int | None = None  # bound port, when the webhook receiver runs
        self._server = None

    @property
    def mode(self) -> str:
        return "webhook" if self.settings.webhook_url else "polling"

    @property
    def bot(self) -> Any:
        return self.app.bot

    async def start(self) -> None:
        s = self.settings
        await self.app.initialize()
        conversation = self.app.bot_data["conversation"]
        if conversation is not None:
            try:  # command menus per role: citizens by default, staff and admins in their own chats
                await ux.publish_menus(self.app.bot, conversation)
            except TelegramError as exc:
                log.warning("telegram setMyCommands failed: %s", exc)
            conversation.role_listeners.append(ux.role_listener(self.app.bot))
        if self.mode == "webhook":
            self._start_webhook_server()
            registered = await call_with_policy(lambda: self.app.bot.set_webhook(
                url=s.webhook_url, secret_token=self.webhook_secret, allowed_updates=ALLOWED_UPDATES))
            if not registered:
                raise RuntimeError(f"telegram setWebhook did not accept {s.webhook_url}")
            log.info("telegram: webhook %s, listening on %s:%s", s.webhook_url, s.webhook_listen, self.webhook_port)
        else:
            await self.app.updater.start_polling(
                poll_interval=s.poll_interval, allowed_updates=ALLOWED_UPDATES,
                error_callback=lambda exc: log.warning("telegram polling: %s", exc),
            )
            log.info("telegram: long polling (%s)", _redacted_base(s.telegram_api_base_url))
        await self.app.start()

    def _start_webhook_server(self) -> None:
        from tornado.httpserver import HTTPServer
        from tornado.netutil import bind_sockets
        from tornado.web import Application as TornadoApplication

        path = urlsplit(self.settings.webhook_url).path or "/"
        app = TornadoApplication([(path, _WebhookHandler, {"channel": self})])
        # The body cap is checked against Content-Length before the body is read; slow senders are cut off.
        self._server = HTTPServer(app, max_body_size=MAX_WEBHOOK_BODY, body_timeout=30, idle_connection_timeout=120)
        sockets = bind_sockets(self.settings.webhook_port, self.settings.webhook_listen)
        self._server.add_sockets(sockets)
        self.webhook_port = sockets[0].getsockname()[1]

    def check_secret(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.webhook_secret.encode())

    async def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()
            self._server = None
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()

    async def send(self, out: Outgoing) -> None:
        await send_outgoing(self.app.bot, out, self.app.bot_data["platform"])


def file_base_url(base_url: str) -> str:
    """Where files are downloaded: https://api.telegram.org/bot -> https://api.telegram.org/file/bot (the same
    shape for a self-hosted Bot API server or the emulator)."""
    head, sep, _ = base_url.rstrip("/").rpartition("/bot")
    return f"{head}/file/bot" if sep else base_url.rstrip("/") + "/file/bot"


class _WebhookHandler(SecretWebhookHandler):
    """POST only: a wrong or missing secret gets 403 and nothing is processed; a valid update is queued for the
    Application and answered 200 at once."""

    secret_header = SECRET_HEADER

    async def post(self) -> None:
        if self.refused():
            return
        try:
            update = Update.de_json(json.loads(self.request.body or b"null"), self.channel.bot)
        except Exception as exc:  # not JSON, or not an Update
            log.warning("telegram webhook: unreadable update (%s)", type(exc).__name__)
            update = None
        if update is None:
            self.set_status(400)
            self.finish()
            return
        await self.channel.app.update_queue.put(update)
        self.finish()


def _redacted_base(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
