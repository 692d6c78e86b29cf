"""The parts of the conversation that make people keep using the bot: feedback under answers, paging by button,
marked choice buttons, /huy, the /start deep link, document uploads and /xoa for admins, satisfaction in
/thongke. A mixin of `handlers.conversation.Conversation` (it uses the conversation's store, answerer thread,
settings and locks), kept apart so the conversation core stays small.

Channels with buttons (Telegram) get 👍/👎 and ◀ ▶ buttons; the others get the same actions typed: "+" / "-"
rate the last answer (never digits, which choose among numbered choices), "/nhiemvu <đơn vị> trang 2" pages.
"""
from __future__ import annotations

import inspect
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Awaitable, Callable

from handlers import commands as cmds
from handlers import texts as T
from handlers import uploads as up
from handlers.feedback import FeedbackStore, latest_unanswered, typed_vote
from handlers.formatting import truncate
from handlers.rich import RichHints
from handlers.types import Answer

log = logging.getLogger(__name__)

BUTTON_CHANNELS = {"telegram"}  # where Outgoing.buttons are shown (elsewhere the text says what to type)
NOOP = "k:-"  # callback data of a button that only shows what was chosen
NO_FEEDBACK_INTENTS = {"empty"}  # "please ask something more specific" is not an answer to rate
_PAGE_RE = re.compile(r"\s*\btrang\s+(\d{1,3})\s*$", re.IGNORECASE)


@dataclass
class Attachment:
    """A file sent to the bot: name and size as announced by the platform, `fetch()` downloads the bytes."""
    name: str
    size: int | None
    mime: str
    fetch: Callable[[], Awaitable[bytes]]


def split_page(args: str) -> tuple[str, int]:
    """'Phòng Văn hóa - Xã hội trang 2' -> ('Phòng Văn hóa - Xã hội', 2)."""
    m = _PAGE_RE.search(args)
    if not m:
        return args, 1
    return args[: m.start()].strip(), max(1, int(m.group(1)))


def deep_link_slug(locality: str) -> str:
    """The /start payload for a locality ('phường Chơn Thành' -> 'chon-thanh'): a QR code at the one-stop shop
    opens the bot with this commune chosen. Telegram allows A-Z a-z 0-9 _ - up to 64 characters."""
    from bot.staff import locality_key

    return re.sub(r"[^a-z0-9]+", "-", locality_key(locality)).strip("-")[:64]


class ChatUxMixin:
    # ------------------------------------------------------------ per-person state in group chats

    @staticmethod
    def _scope(msg) -> str:
        """Whose pending choices and follow-ups: the chat, or in a group each member on their own."""
        return f"{msg.chat_id}/{msg.user_id}" if msg.is_group else msg.chat_id

    def _pending(self, msg) -> list[dict]:
        return self.store.get(msg.channel, self._scope(msg)).pending

    def _set_pending(self, msg, actions: list[dict]) -> None:
        self.store.update(msg.channel, self._scope(msg), pending=actions)

    @property
    def feedback(self) -> FeedbackStore:
        if getattr(self, "_feedback", None) is None:
            self._feedback = FeedbackStore(self.db_path, self.usage.salt)  # the installation salt
        return self._feedback

    def _rich(self, intent: str = "", answer: Answer | None = None) -> RichHints:
        documents = tuple(dict.fromkeys(s.document for s in (answer.sources if answer else []) if s.document))
        return RichHints(intent=intent, doc_base_url=getattr(self.settings, "document_base_url", "") or "",
                         bold_first_line=intent.startswith("procedure"), documents=documents)

    def _button(self, msg, label: str, action: dict):
        from handlers.conversation import CALLBACK_PREFIX, Button

        return Button(truncate(label, 60), CALLBACK_PREFIX + self.store.put_callback(msg.channel, msg.chat_id, action))

    # ------------------------------------------------------------ feedback

    def _with_feedback(self, ctx, out, answer: Answer, question: str):
        """Offer 👍/👎 under an answer (buttons, or the typed hint where there are none)."""
        msg = ctx.msg
        if answer.intent in NO_FEEDBACK_INTENTS:
            return out
        try:
            ref = self.feedback.offer(channel=msg.channel, scope=self._scope(msg), user_id=msg.user_id,
                                      question=question, answer=answer.text or "", intent=answer.intent,
                                      found=answer.found)
        except Exception:  # feedback must never cost an answer
            log.exception("feedback offer failed")
            return out
        if msg.channel in BUTTON_CHANNELS:
            out.buttons = [[self._button(msg, T.FEEDBACK_UP_BUTTON, {"a": "fb", "r": ref, "v": 1}),
                            self._button(msg, T.FEEDBACK_DOWN_BUTTON, {"a": "fb", "r": ref, "v": -1})]]
        else:
            out.text = f"{out.text}\n\n{T.FEEDBACK_HINT}"
        return out

    async def _typed_vote(self, ctx, text: str):
        """'+' / '-' (or 👍 👎, đúng / sai) right after an answer; None when the message is not a vote."""
        value = typed_vote(text)
        if value is None:
            return None
        ref = self.feedback.last_offer(ctx.msg.channel, self._scope(ctx.msg))
        if ref is None:
            return None
        self.feedback.vote(ref, value, ctx.msg.channel)
        self.feedback.withdraw(ctx.msg.channel, self._scope(ctx.msg))
        self._log(ctx.msg, "feedback", text, intent="vote_up" if value > 0 else "vote_down", started=ctx.started)
        return [self._reply(ctx, T.FEEDBACK_THANKS_UP if value > 0 else T.FEEDBACK_THANKS_DOWN)]

    async def _vote_button(self, ctx, action: dict):
        from handlers.conversation import Button

        value = int(action.get("v") or 0)
        if not self.feedback.vote(str(action.get("r")), value, ctx.msg.channel):
            return [self._reply(ctx, T.FEEDBACK_EXPIRED)]
        self._log(ctx.msg, "feedback", "", intent="vote_up" if value > 0 else "vote_down", started=ctx.started)
        label = T.FEEDBACK_UP_BUTTON if value > 0 else T.FEEDBACK_DOWN_BUTTON
        replies = []
        if ctx.msg.message_id:
            replies.append(self._markup_edit(ctx, [[Button(T.CHOSEN_MARK.format(label=label), NOOP)]]))
        replies.append(self._reply(ctx, T.FEEDBACK_THANKS_UP if value > 0 else T.FEEDBACK_THANKS_DOWN))
        return replies

    def _markup_edit(self, ctx, buttons):
        from handlers.conversation import Outgoing

        return Outgoing(ctx.msg.chat_id, "", buttons, edit_message_id=ctx.msg.message_id, markup_only=True)

    def _mark_chosen(self, ctx, action: dict) -> list:
        """A pressed choice button: the keyboard of that message becomes one ✓ line (so it is not pressed twice)."""
        from handlers.conversation import Button

        if ctx.msg.channel not in BUTTON_CHANNELS or not ctx.msg.message_id or action.get("e"):
            return []
        label = action.get("t") or ""
        return [self._markup_edit(ctx, [[Button(T.CHOSEN_MARK.format(label=truncate(label, 56)), NOOP)]] if label else [])]

    # ------------------------------------------------------------ paging

    def _page_fn(self, kind: str):
        """fn(q, locality, page) -> Answer for a pageable list, or None when the answerer cannot page it."""
        if self.answerer is None:
            return None
        if kind == "units":
            return lambda q, loc, page: self.answerer.unit_tasks(q, loc, page)
        if kind == "due" and "page" in inspect.signature(self.answerer.due).parameters:
            return lambda q, loc, page: self.answerer.due(q, loc, self._today(), page=page)
        return None

    async def _paged(self, ctx, answer: Answer, kind: str, q: str, loc: str | None, page: int,
                     feedback_question: str | None = None, edit: bool = False):
        """The list reply with ◀ ▶ buttons (Telegram; pressing one edits the message) or the typed hint. A list
        that fits one page and answered a question gets the feedback buttons instead."""
        out = self._reply(ctx, (answer.text or "").strip())
        out.rich = self._rich(answer.intent, answer)
        fn = self._page_fn(kind)
        has_next = bool(fn is not None and answer.tasks and (await self.run_sync(fn, q, loc, page + 1)).tasks)
        if page == 1 and not has_next:
            return self._with_feedback(ctx, out, answer, feedback_question) if feedback_question else out
        if ctx.msg.channel in BUTTON_CHANNELS:
            row = []
            if page > 1:
                row.append(self._button(ctx.msg, T.PAGE_PREV.format(n=page - 1),
                                        {"a": kind, "q": q, "l": loc, "p": page - 1, "e": 1}))
            if has_next:
                row.append(self._button(ctx.msg, T.PAGE_NEXT.format(n=page + 1),
                                        {"a": kind, "q": q, "l": loc, "p": page + 1, "e": 1}))
            out.buttons = [row]
        elif has_next:  # no buttons: say what to type (the list's own command when it names one)
            command = answer.list_command or ("/nhiemvu " + q if kind == "units" else "/hanchot " + q)
            out.text += "\n" + T.PAGE_TYPED_HINT.format(command=command.strip(), next=page + 1)
        if edit and ctx.msg.message_id:  # a ◀ ▶ press: edit the list in place
            out.edit_message_id = ctx.msg.message_id
        if feedback_question and ctx.msg.channel not in BUTTON_CHANNELS:  # typed votes need no button room
            out = self._with_feedback(ctx, out, answer, feedback_question)
        return out

    # ------------------------------------------------------------ commands

    async def _cmd_huy(self, ctx, args: str, command):
        had = bool(self._pending(ctx.msg)) or self.feedback.last_offer(ctx.msg.channel, self._scope(ctx.msg))
        self._set_pending(ctx.msg, [])
        self.feedback.withdraw(ctx.msg.channel, self._scope(ctx.msg))
        return [self._reply(ctx, T.CANCELLED if had else T.NOTHING_TO_CANCEL)], None

    async def _start_locality(self, ctx, payload: str) -> str:
        """The /start deep-link payload ('chon-thanh') selects the commune; the line to show."""
        from handlers.conversation import match_locality

        name = re.sub(r"[-_]+", " ", payload).strip()
        matches = match_locality(name, await self._localities()) if name else []
        if len(matches) == 1:  # the usual "Địa bàn đang chọn: …" line then names it
            self.store.update(ctx.msg.channel, ctx.msg.chat_id, locality=matches[0])
            return ""
        return T.START_LOCALITY_UNKNOWN.format(name=truncate(name, 40))

    async def _cmd_tailen(self, ctx, args: str, command):
        channel = ctx.msg.channel
        if channel == "telegram":
            kinds = ", ".join(sorted(k.lstrip(".").upper() for k in up.allowed_suffixes()))
            text = T.UPLOAD_HOW_TELEGRAM.format(kinds=kinds, mb=f"{self.settings.upload_max_mb:g}")
        elif channel == "zalo":
            text = T.UPLOAD_HOW_ZALO
        else:
            text = T.UPLOAD_HOW_CONSOLE.format(corpus=self.settings.corpus_dir)
        return [self._reply(ctx, text)], None

    def _stats_extra(self, days: int) -> list[str]:
        """Satisfaction and what to fix: for /thongke."""
        lines = []
        try:
            fb = self.feedback.stats(days=days)
        except Exception:
            log.exception("feedback stats failed")
            return lines
        if fb.votes:
            lines.append(T.STATS_FEEDBACK.format(up=fb.up, down=fb.down, rate=f"{100 * fb.satisfaction:.0f}%"))
        else:
            lines.append(T.STATS_FEEDBACK_NONE)
        latest = latest_unanswered(self.db_path, days=days)
        if latest:
            lines.append(T.STATS_LATEST_UNANSWERED)
            lines += [f"• {truncate(q, 200)}" for q in latest]
        if fb.latest_down:
            lines.append(T.STATS_LATEST_DOWN)
            lines += [f"• {truncate(q, 160)} → {truncate(a, 120)}" for q, a in fb.latest_down]
        return lines

    # ------------------------------------------------------------ uploads and removals (admins)

    async def _index_now(self) -> float:
        """Index the corpus in this process (unchanged plans and cached embeddings are reused, so one new file
        costs seconds) and load the new answerer; on the answerer thread, so no question reads files being
        rewritten. Returns the seconds taken; the summary is kept in `self.last_summary`."""
        from bot.app import build_answerer, run_index

        started = time.perf_counter()

        def work():  # records and the lexical side now; the new answerer fills the dense side in the background
            summary = run_index(self.settings, progress=False, dense=False)
            return summary, build_answerer(self.settings)

        self.last_summary, self.answerer = await self.run_sync(work)
        return round(time.perf_counter() - started, 1)

    async def _on_document(self, ctx):
        msg, att = ctx.msg, ctx.msg.attachment
        shown = truncate(getattr(att, "name", "") or "tệp", 80)
        if ctx.role != cmds.ADMIN:
            self._log(msg, "refused", f"<document {shown}>", intent="upload_denied", started=ctx.started)
            return [self._reply(ctx, T.UPLOAD_DENIED)]
        limit = self.settings.upload_max_bytes
        try:
            safe = up.check_upload(att.name, att.size, limit)
        except up.UploadRefused as exc:
            self._log(msg, "refused", f"<document {shown}>", intent="upload_refused", started=ctx.started)
            return [self._reply(ctx, T.UPLOAD_REFUSED.format(name=shown, reason=exc))]
        if self._reindex_lock.locked():
            return [self._reply(ctx, T.UPLOAD_BUSY)]
        try:
            data = await att.fetch()
        except Exception:
            log.exception("upload download failed")
            return [self._reply(ctx, T.UPLOAD_DOWNLOAD_FAILED.format(name=shown))]
        try:
            up.check_content(safe, data, limit)
        except up.UploadRefused as exc:
            self._log(msg, "refused", f"<document {shown}>", intent="upload_refused", started=ctx.started)
            return [self._reply(ctx, T.UPLOAD_REFUSED.format(name=shown, reason=exc))]
        s = self.settings
        db_path, data_dir, corpus = Path(s.db_path), Path(s.data_dir), Path(s.corpus_dir)
        async with self._reindex_lock:
            stored = up.store(corpus, data_dir, safe, data)
            seconds = await self._index_now()
            # The same plan already in the corpus (same issuer and number, or the same text under another name):
            # the upload is the newer version, the older file leaves the corpus and the index is rebuilt.
            same = up.replaced_copies(self.last_summary, stored.path.name)
            same += [r["document"] for r in up.superseded_by(db_path, stored.path.name) if r["document"] not in same]
            old = []
            for path in up.corpus_files(corpus):
                if path.name in same and path.resolve() != stored.path:
                    up.move_aside(path, data_dir / "superseded")
                    old.append(path.name)
            if old:
                seconds = round(seconds + await self._index_now(), 1)
            report = up.build_report(self.last_summary, db_path, stored.path)
            if not report.indexed:
                up.undo(stored, data_dir)
                await self._index_now()
                self._log(msg, "refused", f"<document {safe}>", intent="upload_unreadable", started=ctx.started)
                return [self._reply(ctx, T.UPLOAD_NOT_READ.format(
                    name=safe, reason=report.reason, restored=T.UPLOAD_RESTORED if stored.replaced else ""))]
        lines = [T.UPLOAD_DONE.format(name=safe, seconds=seconds)]
        lines += report.lines
        if stored.replaced:
            lines.append(T.UPLOAD_REPLACED)
        if old:
            lines.append(T.UPLOAD_SUPERSEDED.format(old=", ".join(old)))
        if report.warnings:
            lines.append(T.UPLOAD_WARNINGS)
            lines += [f"• {w}" for w in report.warnings]
        self._log(msg, "command", f"<document {safe}>", intent="upload", found=True, started=ctx.started)
        return [self._reply(ctx, "\n".join(lines))]

    async def _cmd_xoa(self, ctx, args: str, command):
        s = self.settings
        corpus = Path(s.corpus_dir)
        listing = "\n".join(f"• {p.relative_to(corpus)}" for p in up.corpus_files(corpus)) or "—"
        if not args:
            return [self._reply(ctx, T.REMOVE_USAGE.format(files=listing))], None
        matches = up.find_corpus_file(corpus, args)
        if not matches:
            return [self._reply(ctx, T.REMOVE_NOT_FOUND.format(name=truncate(args, 80), files=listing))], False
        if len(matches) > 1:
            labels = [str(p.relative_to(corpus)) for p in matches]
            actions = [{"a": "xoa", "f": label, "t": label} for label in labels]
            return [self._choices_reply(ctx, T.REMOVE_PICK.format(name=truncate(args, 80)), labels, actions)], None
        return await self._remove_file(ctx, matches[0]), True

    async def _remove_file(self, ctx, path: Path):
        s = self.settings
        corpus = Path(s.corpus_dir).resolve()
        path = path.resolve()
        if corpus not in path.parents or not path.is_file():  # a stale choice, or a name from elsewhere
            return [self._reply(ctx, T.REMOVE_NOT_FOUND.format(name=path.name, files="—"))]
        if self._reindex_lock.locked():
            return [self._reply(ctx, T.UPLOAD_BUSY)]
        async with self._reindex_lock:
            up.move_aside(path, Path(s.data_dir) / "removed")
            seconds = await self._index_now()
        return [self._reply(ctx, T.REMOVE_DONE.format(name=path.name, seconds=seconds))]
