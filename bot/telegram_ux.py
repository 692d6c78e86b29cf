"""Telegram-only parts of the chat experience, kept out of the adapter's core (bot/telegram_app.py):

- HTML answers (handlers/rich.py) with a plain-text fallback when Telegram refuses the markup;
- edits: ◀ ▶ paging rewrites the list message, a pressed choice keeps one ✓ line;
- a typing indicator while the bot answers or re-indexes (Telegram shows it ~5 s, so it is renewed);
- documents sent by admins (getFile + download) as `Incoming(kind="document")`;
- edited messages answered again;
- group chats: answer only when the bot is mentioned, replied to, or sent a command;
- command menus per role (`setMyCommands` with BotCommandScopeDefault for citizens and BotCommandScopeChat for
  each admin's and approved staff member's private chat).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatAction, ChatType, MessageEntityType
from telegram.error import BadRequest, TelegramError

from handlers import commands as cmds
from handlers.chat_ux import Attachment
from handlers.conversation import Outgoing
from handlers.formatting import Platform, split_text
from handlers.rich import to_html

log = logging.getLogger(__name__)

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
TYPING_EVERY_S = 4.0
GROUPS = {ChatType.GROUP, ChatType.SUPERGROUP}


def _chat(chat_id: str) -> int | str:
    return int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id


def _markup(out: Outgoing) -> InlineKeyboardMarkup | None:
    if not out.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in out.buttons if row])


def _is_parse_error(exc: BadRequest) -> bool:
    text = str(exc).lower()
    return "parse" in text or "entit" in text or "tag" in text


async def send(bot: Any, out: Outgoing, platform: Platform, retry) -> None:
    """Send (or edit) one reply. Rich answers go as HTML pieces split at line boundaries; when Telegram refuses
    the HTML, the same pieces go again as plain text. `retry(fn)` is the adapter's retrying call."""
    markup = _markup(out)
    chat_id = _chat(out.chat_id)
    if out.edit_message_id and out.markup_only:
        with contextlib.suppress(BadRequest):  # "message is not modified" and a message too old to edit
            await retry(lambda: bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=int(out.edit_message_id), reply_markup=markup))
        return
    hints = out.rich
    if hints is not None:
        render = lambda piece: to_html(piece, hints)  # noqa: E731 - measured per piece by split_text
        pieces = split_text(out.text, platform.limit, render)
        html = [to_html(p, hints, first_piece=i == 0) for i, p in enumerate(pieces)]
        mode = "HTML"
    else:
        pieces = split_text(out.text, platform.limit, platform.escape)
        html = [platform.escape(p) for p in pieces]
        mode = platform.parse_mode
    try:
        await _send_pieces(bot, out, chat_id, html, mode, markup, retry)
    except BadRequest as exc:
        if hints is None or not _is_parse_error(exc):
            raise
        log.warning("telegram refused the HTML of a reply (%s); sending plain text", exc)
        await _send_pieces(bot, out, chat_id, pieces, None, markup, retry)


async def _send_pieces(bot, out: Outgoing, chat_id, texts: list[str], mode, markup, retry) -> None:
    for i, text in enumerate(texts):
        last = i == len(texts) - 1
        if i == 0 and out.edit_message_id:  # paging: the list message itself changes
            try:
                await retry(lambda text=text, last=last: bot.edit_message_text(
                    chat_id=chat_id, message_id=int(out.edit_message_id), text=text, parse_mode=mode,
                    reply_markup=markup if last else None, link_preview_options=NO_PREVIEW))
                continue
            except BadRequest as exc:
                if "not modified" in str(exc).lower():
                    continue
                if _is_parse_error(exc):
                    raise
                log.info("edit failed (%s); sending a new message", exc)
        await retry(lambda text=text, last=last: bot.send_message(
            chat_id=chat_id, text=text, parse_mode=mode, reply_markup=markup if last else None,
            link_preview_options=NO_PREVIEW))


@contextlib.asynccontextmanager
async def typing(bot: Any, chat_id: str):
    """'typing…' in the chat for as long as the block runs (renewed every 4 s); failures are ignored."""
    async def loop() -> None:
        while True:
            try:
                await bot.send_chat_action(chat_id=_chat(chat_id), action=ChatAction.TYPING)
            except TelegramError as exc:
                log.debug("sendChatAction failed: %s", exc)
            await asyncio.sleep(TYPING_EVERY_S)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


# ---------------------------------------------------------------- incoming

def is_group(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type in GROUPS


def addressed_text(message: Message, bot_username: str, bot_id: int) -> str | None:
    """In a group: the text meant for the bot (its @mention removed), or None when the message is not for it.
    A message is for the bot when it mentions it, replies to it, or is a command (not one for another bot)."""
    text = message.text or message.caption or ""
    reply = message.reply_to_message
    if reply is not None and reply.from_user is not None and reply.from_user.id == bot_id:
        return text
    mention = f"@{bot_username}".lower() if bot_username else ""
    for entity in message.entities or ():
        part = text[entity.offset: entity.offset + entity.length] if entity.offset is not None else ""
        if entity.type == MessageEntityType.BOT_COMMAND and entity.offset == 0:
            target = part.partition("@")[2]
            return text if not target or target.lower() == bot_username.lower() else None
        if entity.type == MessageEntityType.MENTION and part.lower() == mention:
            return (text[: entity.offset] + text[entity.offset + entity.length:]).strip(" ,:")
        if entity.type == MessageEntityType.TEXT_MENTION and entity.user and entity.user.id == bot_id:
            return (text[: entity.offset] + text[entity.offset + entity.length:]).strip(" ,:")
    if mention and mention in text.lower():  # a client that sent no entities
        i = text.lower().index(mention)
        return (text[:i] + text[i + len(mention):]).strip(" ,:")
    return None


def document_attachment(bot: Any, message: Message) -> Attachment:
    doc = message.document

    async def fetch() -> bytes:
        file = await bot.get_file(doc.file_id)
        return bytes(await file.download_as_bytearray())

    return Attachment(name=doc.file_name or "", size=doc.file_size, mime=doc.mime_type or "", fetch=fetch)


# ---------------------------------------------------------------- command menus per role

def bot_commands(role: str) -> list[BotCommand]:
    return [BotCommand(c.name, c.help[:256]) for c in cmds.visible(role)]


async def set_chat_menu(bot: Any, chat_id: str, role: str) -> None:
    await bot.set_my_commands(bot_commands(role), scope=BotCommandScopeChat(chat_id=_chat(chat_id)))


async def publish_menus(bot: Any, conversation: Any) -> None:
    """Citizens' commands for everyone; staff's and admins' in their own private chats."""
    await bot.set_my_commands(bot_commands(cmds.CITIZEN), scope=BotCommandScopeDefault())
    chats: dict[str, str] = {}
    staff = getattr(conversation, "staff", None)
    if staff is not None:
        for r in staff.list(status="approved"):
            get = r.get if isinstance(r, dict) else (lambda k, r=r: getattr(r, k, None))
            if get("channel") == "telegram":
                chats[str(get("chat_id") or get("user_id"))] = cmds.STAFF
    for entry in sorted(conversation.admins):
        channel, sep, uid = entry.partition(":")
        uid = uid if sep else channel
        if (channel == "telegram" or not sep) and uid.lstrip("-").isdigit():
            chats[uid] = cmds.ADMIN
    for chat_id, role in chats.items():
        try:
            await set_chat_menu(bot, chat_id, role)
        except TelegramError as exc:  # a chat the bot never talked to
            log.info("telegram: menu for chat %s not set (%s)", chat_id, exc)


def role_listener(bot: Any):
    async def changed(channel: str, chat_id: str, role: str) -> None:
        if channel == "telegram":
            await set_chat_menu(bot, chat_id, role)
    return changed
