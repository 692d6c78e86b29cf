"""The channel-agnostic conversation core: one incoming message in, the replies out.

Adapters (Telegram, Zalo, console) turn platform updates into `Incoming`, call `Conversation.handle`, and send the
returned `Outgoing` messages (plain text; each adapter escapes and splits for its platform, and shows `buttons` as
an inline keyboard where the platform has one). Everything the bot remembers lives in SQLite at `db_path`: per-chat
state (locality, last task, pending choices), button keys, and the usage log.
"""
from __future__ import annotations

import asyncio
import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Awaitable, Callable
from zoneinfo import ZoneInfo

from handlers import commands as cmds
from handlers import texts as T
from handlers.chat_state import ChatStore
from handlers.chat_ux import BUTTON_CHANNELS, NOOP, Attachment, ChatUxMixin, split_page
from handlers.formatting import truncate
from handlers.health import REMINDERS, ZALO_QUOTA, Health
from handlers.ratelimit import RateLimiter
from handlers.reminder_commands import ReminderCommands
from handlers.rich import RichHints
from handlers.types import Answer
from handlers.usage_log import UsageLog, installation_salt
from index.textnorm import fold

log = logging.getLogger(__name__)

CALLBACK_PREFIX = "k:"  # callback_data = "k:" + key of the stored action (≤ 64 bytes)
BUTTON_LABEL_CHARS = 60
MAX_CHOICES = 8


@dataclass
class Button:
    label: str
    data: str  # callback data, ≤ 64 bytes


@dataclass
class Incoming:
    channel: str  # "telegram" | "zalo" | "console"
    user_id: str
    chat_id: str
    display_name: str = ""
    text: str = ""
    callback_data: str | None = None
    kind: str = "text"  # "text" | "command" | "callback" | "unsupported" | "document" | "unreadable" (no content)
    message_id: str | None = None  # the message (for a button press: the bot message carrying the button)
    is_group: bool = False  # group chat: choices and follow-ups are kept per member
    edited: bool = False  # the user edited an earlier message
    attachment: Attachment | None = None  # kind "document": the file sent


@dataclass
class Outgoing:
    chat_id: str
    text: str  # plain text; the adapter escapes and splits it
    buttons: list[list[Button]] = field(default_factory=list)
    # Always on the channel the message came from; other channels are reached through `Conversation.senders`.
    edit_message_id: str | None = None  # edit this earlier bot message instead of sending (channels with buttons)
    markup_only: bool = False  # with edit_message_id: replace only the buttons
    rich: RichHints | None = None  # an answer: Telegram renders it as HTML (bold, blockquote, links)


@dataclass
class _Ctx:
    msg: Incoming
    role: str
    started: float


@dataclass
class _UserQueue:
    """One user's messages inside `handle`: answered one at a time, in order."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    count: int = 0  # being answered + waiting
    warned: bool = False  # told once that their messages are coming too fast


class Conversation(ChatUxMixin):
    """`await handle(msg)` -> replies. Construct once per process and share between channels.

    answerer: the question-answering core (handlers.qa.Answerer: ask, localities, unit_tasks, due), or None while
        there is no index yet.
    staff_registry: bot.staff.StaffRegistry (request/approve/reject/find_by_user/list), or None.
    db_path: SQLite file for chat state and the usage log (default settings.db_path).
    reindex: optional async callable returning a fresh answerer after re-indexing; the default runs
        `python -m bot index` and `bot.app.build_answerer(settings)`.
    reminders: module/object providing the reminder actions (default: `bot.reminders` if importable).
    """

    def __init__(
        self,
        answerer: Any,
        settings: Any,
        staff_registry: Any = None,
        db_path: str | Path | None = None,
        *,
        reindex: Callable[[], Awaitable[Any]] | None = None,
        reminders: Any = None,
        clock: Callable[[], float] = time.monotonic,
        today: Callable[[], date] | None = None,
        health: Health | None = None,
    ):
        self.answerer = answerer
        self.settings = settings
        self.staff = staff_registry
        self.db_path = Path(db_path or settings.db_path)
        self.admins = settings.admin_id_set()  # first: a bad BOT_ADMIN_IDS stops the start (ConfigError)
        self.store = ChatStore(self.db_path)
        self.usage = UsageLog(self.db_path, installation_salt(self.db_path.parent, settings.user_hash_salt),
                              retention_days=settings.log_retention_days)
        self.limiter = RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst, clock=clock)
        self.health = health or Health()  # what is broken right now (reminders, Zalo quota), for /thongke
        self._queues: dict[str, _UserQueue] = {}
        self.senders: dict[str, Any] = {}  # channel -> Sender, for messages to other channels (set by serve)
        self._reindex = reindex
        self._reindex_lock = asyncio.Lock()
        self.last_summary: Any = None  # IndexSummary of the last in-process index run (uploads, /xoa)
        # async fn(channel, chat_id, role): a person's role changed (Telegram updates that chat's command menu)
        self.role_listeners: list[Callable[[str, str, str], Awaitable[None]]] = []
        self.reminders = ReminderCommands(self.db_path, settings, reminders)
        self._today = today or (lambda: datetime.now(ZoneInfo(settings.timezone)).date())
        # The answerer is synchronous (index search, maybe an embedding model): run it off the event loop, on one
        # thread, so channels stay responsive and the answerer never runs concurrently with itself (its SQLite
        # connection, query cache and C embedder are not safe to share between threads). Fairness between users
        # comes from `handle`: each user has at most one question on this thread at a time.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="answerer")

    # ---------------------------------------------------------------- entry point

    async def handle(self, msg: Incoming) -> list[Outgoing]:
        started = time.perf_counter()
        key = f"{msg.channel}:{msg.user_id}"
        verdict = self.limiter.check(key)
        if verdict != "ok":
            self._log(msg, "refused", msg.text or msg.callback_data or "", intent="rate_limited", started=started)
            if verdict == "drop":
                return []
            seconds = max(1, round(self.limiter.retry_after(key)))
            return [Outgoing(msg.chat_id, T.RATE_LIMITED.format(seconds=seconds))]
        # One user's messages are answered one at a time, in order, with a bounded number waiting: a flood from
        # one person neither grows without limit nor queues ahead of other people's questions.
        queue = self._queues.setdefault(key, _UserQueue())
        if queue.count > max(0, int(self.settings.user_queue_max)):
            self._log(msg, "refused", msg.text or msg.callback_data or "", intent="queue_full", started=started)
            if queue.warned:
                return []
            queue.warned = True
            return [Outgoing(msg.chat_id, T.QUEUE_FULL)]
        queue.count += 1
        try:
            async with queue.lock:
                return await self._handle(msg, started)
        finally:
            queue.count -= 1
            if queue.count == 0:
                self._queues.pop(key, None)

    async def _handle(self, msg: Incoming, started: float) -> list[Outgoing]:
        ctx = _Ctx(msg, await self._role(msg.channel, msg.user_id), started)
        try:
            return await self._dispatch(ctx)
        except Exception:
            log.exception("conversation failed on a %s message", msg.channel)
            self._log(msg, "question", msg.text or "", intent="error", found=False, started=started)
            return [Outgoing(msg.chat_id, T.ERROR)]

    async def _dispatch(self, ctx: _Ctx) -> list[Outgoing]:
        msg = ctx.msg
        if msg.kind == "document" and msg.attachment is not None:
            return await self._on_document(ctx)
        if msg.kind == "unreadable":  # content withheld by the platform (Zalo: a protected sender, a file, a card)
            self._log(msg, "refused", f"<{msg.kind}>", intent=msg.kind, started=ctx.started)
            admin_on_zalo = msg.channel == "zalo" and ctx.role == cmds.ADMIN  # perhaps a plan they meant to upload
            return [self._reply(ctx, f"{T.UNREADABLE} {T.UPLOAD_HOW_ZALO}" if admin_on_zalo else T.UNREADABLE)]
        if msg.kind in ("unsupported", "document"):
            self._log(msg, "refused", f"<{msg.kind}>", intent="unsupported", started=ctx.started)
            admin_on_zalo = msg.channel == "zalo" and ctx.role == cmds.ADMIN  # Zalo delivers no files to bots
            return [self._reply(ctx, T.UNSUPPORTED_ZALO_ADMIN if admin_on_zalo else T.UNSUPPORTED)]
        if msg.kind == "callback" or msg.callback_data is not None:
            return await self._on_callback(ctx, msg.callback_data or "")
        text = (msg.text or "").strip()
        if not text:
            self._log(msg, "refused", "", intent="empty", started=ctx.started)
            return [self._reply(ctx, T.EMPTY)]
        limit = self.settings.max_message_chars
        if len(text) > limit:
            self._log(msg, "refused", text[:200], intent="too_long", started=ctx.started)
            return [self._reply(ctx, T.TOO_LONG.format(n=len(text), limit=limit))]
        parsed = cmds.parse(text)
        if parsed is not None:
            if msg.edited:  # re-running an edited /xong or /duyet could act twice: ask for a new message
                self._log(msg, "refused", text[:200], intent="edited_command", started=ctx.started)
                return [self._reply(ctx, T.EDITED_COMMAND)]
            return await self._on_command(ctx, text, *parsed)
        if re.fullmatch(r"\d{1,2}", text):
            pending = self._pending(msg)
            n = int(text)
            if pending and 1 <= n <= len(pending):
                return await self._run_action(ctx, pending[n - 1], text)
        voted = await self._typed_vote(ctx, text)
        if voted is not None:
            return voted
        replies = await self._ask(ctx, text)
        if msg.edited and replies:  # an edited question is answered again, and says so
            replies[0].text = f"{T.EDITED_PREFIX}\n{replies[0].text}"
        return replies

    # ---------------------------------------------------------------- questions

    async def _ask(self, ctx: _Ctx, question: str, locality: str | None = None, kind: str = "question") -> list[Outgoing]:
        msg = ctx.msg
        if self.answerer is None:
            self._log(msg, kind, question, intent="no_index", found=False, started=ctx.started)
            return [self._reply(ctx, T.NO_INDEX)]
        state = self.store.get(msg.channel, msg.chat_id)
        mine = self.store.get(msg.channel, self._scope(msg)) if msg.is_group else state
        answer: Answer = await self.run_sync(
            self.answerer.ask, question, locality=locality or state.locality, last_task_id=mine.last_task_id,
            today=self._today(),
        )
        if answer.tasks:
            self.store.update(msg.channel, self._scope(msg), last_task_id=answer.tasks[0].id)
        self._log(
            msg, kind, question, intent=answer.intent, found=answer.found, started=ctx.started,
            locality=locality or state.locality, answer_chars=len(answer.text or ""),
        )
        if answer.intent == "unit_tasks" and answer.found and not answer.choices:  # a list: paged by buttons
            self._set_pending(msg, [])
            return [await self._paged(ctx, answer, "units", question, locality or state.locality, 1,
                                      feedback_question=question)]
        out = self._answer_reply(ctx, answer, "ask")
        if not out.buttons and not answer.choices:
            out = self._with_feedback(ctx, out, answer, question)
        return [out]

    def _answer_reply(self, ctx: _Ctx, answer: Answer, via: str) -> Outgoing:
        """The answer's text; with choices, numbered choices (and buttons) remembered for this chat. `via` is the
        answerer method that produced the answer ("ask", "units", "due"): choosing re-runs it."""
        text = (answer.text or "").strip()
        choices = answer.choices[:MAX_CHOICES]
        actions = [{"a": via, "q": c.query, "l": c.locality} for c in choices]
        labels = [c.label for c in choices]
        if not actions:
            self._set_pending(ctx.msg, [])
            out = self._reply(ctx, text)
            out.rich = self._rich(answer.intent, answer)
            return out
        return self._choices_reply(ctx, text, labels, actions)

    def _choices_reply(self, ctx: _Ctx, text: str, labels: list[str], actions: list[dict]) -> Outgoing:
        """Numbered choices in the text (every channel) plus one button per choice (used where buttons exist)."""
        msg = ctx.msg
        actions = [{**a, "t": a.get("t") or label} for a, label in zip(actions, labels)]  # "t": shown when chosen
        self._set_pending(msg, actions)
        lines = [text] if text else []
        numbered = all(re.search(rf"(^|\s){i}\. ", text) for i in range(1, len(actions) + 1))
        hint = T.CHOICES_HINT.format(n=len(actions))
        if numbered:  # the answerer's text already numbers its choices
            lines.append(hint + ".")
        else:
            lines.append(hint + ":")
            lines += [f"{i}. {label}" for i, label in enumerate(labels, 1)]
        buttons = [
            [Button(truncate(f"{i}. {label}", BUTTON_LABEL_CHARS), CALLBACK_PREFIX + self.store.put_callback(
                msg.channel, msg.chat_id, action))]
            for i, (label, action) in enumerate(zip(labels, actions), 1)
        ]
        return Outgoing(msg.chat_id, "\n".join(lines), buttons)

    async def _on_callback(self, ctx: _Ctx, data: str) -> list[Outgoing]:
        msg = ctx.msg
        if data == NOOP:  # the ✓ line of an answered choice
            return []
        action = None
        if data.startswith(CALLBACK_PREFIX):
            action = self.store.get_callback(msg.channel, msg.chat_id, data[len(CALLBACK_PREFIX):])
        if action is None:
            self._log(msg, "refused", data[:64], intent="expired_choice", started=ctx.started)
            return [self._reply(ctx, T.EXPIRED_CHOICE)]
        if action.get("a") == "fb":
            return await self._vote_button(ctx, action)
        if action.get("a") in ("approve", "reject"):
            return await self._decide_button(ctx, action)
        return self._mark_chosen(ctx, action) + await self._run_action(ctx, action, data)

    async def _run_action(self, ctx: _Ctx, action: dict, raw: str) -> list[Outgoing]:
        """A chosen button or number: re-ask a question, page a list, pick a locality or a file to remove."""
        kind = action.get("a")
        if kind == "ask":
            return await self._ask(ctx, action["q"], locality=action.get("l"), kind="choice")
        if kind in ("units", "due"):
            page = int(action.get("p") or 1)
            pager = self._page_fn(kind)
            if pager is not None:
                answer = await self.run_sync(pager, action["q"], action.get("l"), page)
            else:
                fn = self.answerer.unit_tasks if kind == "units" else self.answerer.due
                args = (action["q"], action.get("l")) + ((self._today(),) if kind == "due" else ())
                answer = await self.run_sync(fn, *args)
            self._log(ctx.msg, "choice", action["q"], intent=answer.intent, found=answer.found, started=ctx.started,
                      locality=action.get("l"), answer_chars=len(answer.text or ""))
            if answer.choices:
                return [self._answer_reply(ctx, answer, kind)]
            self._set_pending(ctx.msg, [])
            return [await self._paged(ctx, answer, kind, action["q"], action.get("l"), page, edit=bool(action.get("e")))]
        if kind == "xoa":
            from pathlib import Path as _P

            return await self._remove_file(ctx, _P(self.settings.corpus_dir) / action["f"])
        if kind == "loc":
            self.store.update(ctx.msg.channel, ctx.msg.chat_id, locality=action["l"])
            self._set_pending(ctx.msg, [])
            self._log(ctx.msg, "command", raw, intent="cmd:diaban", started=ctx.started, locality=action["l"])
            return [self._reply(ctx, T.LOCALITY_SET.format(locality=action["l"]))]
        return [self._reply(ctx, T.EXPIRED_CHOICE)]

    # ---------------------------------------------------------------- commands

    async def _on_command(self, ctx: _Ctx, line: str, name: str, args: str) -> list[Outgoing]:
        msg = ctx.msg
        command = cmds.lookup(name)
        if command is None:
            self._log(msg, "refused", line[:200], intent="unknown_command", started=ctx.started)
            return [self._reply(ctx, T.UNKNOWN_COMMAND.format(name=truncate(name, 32)))]
        if not cmds.allowed(ctx.role, command):
            self._log(msg, "refused", line[:200], intent=f"denied:{command.name}", started=ctx.started)
            template = T.DENIED_ADMIN if command.role == cmds.ADMIN else T.DENIED_STAFF
            return [self._reply(ctx, template.format(name=command.name))]
        handler = getattr(self, f"_cmd_{command.name}")
        replies, found = await handler(ctx, args, command)
        self._log(msg, "command", line[:500], intent=f"cmd:{command.name}", found=found, started=ctx.started)
        return replies

    async def _cmd_start(self, ctx: _Ctx, args: str, command) -> tuple[list[Outgoing], bool | None]:
        chosen = await self._start_locality(ctx, args) if args else ""  # deep link t.me/<bot>?start=<commune>
        state = self.store.get(ctx.msg.channel, ctx.msg.chat_id)
        line = (T.LOCALITY_LINE_SET.format(locality=state.locality) if state.locality else T.LOCALITY_LINE_UNSET)
        line = chosen + line if chosen else line
        name = ctx.msg.display_name or "bạn"
        return [self._reply(ctx, T.START.format(name=name, bot=T.BOT_NAME, locality_line=line))], None

    async def _cmd_help(self, ctx: _Ctx, args: str, command) -> tuple[list[Outgoing], bool | None]:
        lines = [T.HELP_HEADER.format(role=T.ROLE_NAMES[ctx.role])]
        for c in cmds.visible(ctx.role):
            alias = f" (/{c.aliases[0]})" if c.aliases else ""
            lines.append(f"{c.usage}{alias}: {c.help}")
        lines.append(T.HELP_FOOTER)
        return [self._reply(ctx, "\n".join(lines))], None

    async def _cmd_diaban(self, ctx: _Ctx, args: str, command) -> tuple[list[Outgoing], bool | None]:
        msg = ctx.msg
        known = await self._localities()
        if not args:
            state = self.store.get(msg.channel, msg.chat_id)
            head = T.LOCALITY_CURRENT.format(locality=state.locality) if state.locality else T.LOCALITY_NONE
            if not known:
                return [self._reply(ctx, head)], None
            actions = [{"a": "loc", "l": loc} for loc in known]
            return [self._choices_reply(ctx, f"{head}\n{T.LOCALITY_PICK}", known, actions)], None
        if fold(args) in T.LOCALITY_CLEAR_WORDS:
            self.store.update(msg.channel, msg.chat_id, locality=None)
            self._set_pending(msg, [])
            return [self._reply(ctx, T.LOCALITY_CLEARED)], True
        matches = match_locality(args, known)
        if len(matches) == 1:
            self.store.update(msg.channel, msg.chat_id, locality=matches[0])
            self._set_pending(msg, [])
            return [self._reply(ctx, T.LOCALITY_SET.format(locality=matches[0]))], True
        if len(matches) > 1:
            actions = [{"a": "loc", "l": loc} for loc in matches]
            return [self._choices_reply(ctx, T.LOCALITY_PICK, matches, actions)], True
        return [self._reply(ctx, T.LOCALITY_UNKNOWN.format(name=args, known=", ".join(known) or "—"))], False

    async def _cmd_nhiemvu(self, ctx: _Ctx, args: str, command) -> tuple[list[Outgoing], bool | None]:
        staff = self._staff_record(ctx.msg.channel, ctx.msg.user_id)
        args, page = split_page(args)  # "/nhiemvu <đơn vị> trang 2"
        unit = args or (_field(staff, "unit") if staff else "")
        if not unit:
            return [self._reply(ctx, T.USAGE.format(usage=command.usage))], None
        locality = self.store.get(ctx.msg.channel, ctx.msg.chat_id).locality or _field(staff, "locality")
        answer = await self.run_sync(self.answerer.unit_tasks, unit, locality, page)
        if answer.choices:
            return [self._answer_reply(ctx, answer, "units")], answer.found
        self._set_pending(ctx.msg, [])
        return [await self._paged(ctx, answer, "units", unit, locality, page)], answer.found

    async def _cmd_hanchot(self, ctx: _Ctx, args: str, command) -> tuple[list[Outgoing], bool | None]:
        staff = self._staff_record(ctx.msg.channel, ctx.msg.user_id)
        locality = self.store.get(ctx.msg.channel, ctx.msg.chat_id).locality or _field(staff, "locality")
        args, page = split_page(args)  # "/hanchot quý 3 trang 2"
        pager = self._page_fn("due")
        if pager is None:
            answer = await self.run_sync(self.answerer.due, args, locality, self._today())
        else:
            answer = await self.run_sync(pager, args, locality, page)
        if answer.choices:
            return [self._answer_reply(ctx, answer, "due")], answer.found
        self._set_pending(ctx.msg, [])
        return [await self._paged(ctx, answer, "due", args, locality, page)], answer.found

    async def _cmd_dangky(self, ctx: _Ctx, args: str, command) -> tuple[list[Outgoing], bool | None]:
        msg = ctx.msg
        if self.staff is None:
            return [self._reply(ctx, T.REGISTER_UNAVAILABLE)], None
        if not args:
            return [self._reply(ctx, T.USAGE.format(usage=command.usage))], None
        locality = self.store.get(msg.channel, msg.chat_id).locality
        if not locality:
            known = await self._localities()
            if len(known) != 1:
                return [self._reply(ctx, T.REGISTER_NEED_LOCALITY)], None
            locality = known[0]
        request = self.staff.request(
            channel=msg.channel, user_id=msg.user_id, chat_id=msg.chat_id,
            name=msg.display_name or msg.user_id, unit=args, locality=locality,
        )
        rid = _field(request, "id")
        if _field(request, "status") == "approved":  # already staff of this unit and locality
            return [self._reply(ctx, T.REGISTER_ALREADY.format(
                unit=_field(request, "unit"), locality=_field(request, "locality")))], None
        replies = [self._reply(ctx, T.REGISTER_SENT.format(id=rid, unit=args, locality=locality))]
        note = T.ADMIN_NEW_REQUEST.format(
            id=rid, name=msg.display_name or "?", channel=msg.channel, unit=args, locality=locality)
        replies += await self._notify_admins(ctx, note, rid)
        return replies, None

    async def _cmd_duyet(self, ctx: _Ctx, args: str, command) -> tuple[list[Outgoing], bool | None]:
        return await self._decide(ctx, args, approve=True)

    async def _cmd_tuchoi(self, ctx: _Ctx, args: str, command) -> tuple[list[Outgoing], bool | None]:
        return await self._decide(ctx, args, approve=False)

    async def _decide(self, ctx: _Ctx, args: str, approve: bool) -> tuple[list[Outgoing], bool | None]:
        if self.staff is None:
            return [self._reply(ctx, T.REGISTER_UNAVAILABLE)], None
        rid, _, reason = args.lstrip("#").partition(" ")
        if not rid:
            return [self._reply(ctx, self._pending_text())], None
        current = self.staff.get(int(rid)) if cmds.parse_count(rid, 1, 10**12) else None
        if current is None or _field(current, "status") != "pending":
            return [self._reply(ctx, T.REQUEST_NOT_FOUND.format(id=rid))], False
        decider = f"{ctx.msg.channel}:{ctx.msg.user_id}"
        record = self.staff.approve(int(rid), by=decider) if approve else self.staff.reject(int(rid), by=decider)
        if record is None:
            return [self._reply(ctx, T.REQUEST_NOT_FOUND.format(id=rid))], False
        fields = {k: _field(record, k) for k in ("id", "unit", "locality", "name")}
        fields["name"] = fields["name"] or "?"
        if approve:
            admin_text = T.APPROVED_ADMIN.format(**fields)
            user_text = T.APPROVED_USER.format(**fields)
        else:
            admin_text = T.REJECTED_ADMIN.format(**fields)
            user_text = T.REJECTED_USER.format(id=fields["id"], reason=f" Lý do: {reason.strip()}" if reason.strip() else "")
        replies = [self._reply(ctx, admin_text)]
        target = str(_field(record, "chat_id") or _field(record, "user_id"))
        replies += await self._deliver(ctx, _field(record, "channel"), target, user_text)
        if approve:
            for listener in self.role_listeners:
                try:
                    await listener(_field(record, "channel"), target, cmds.STAFF)
                except Exception:
                    log.exception("role listener failed")
        return replies, True

    async def _decide_button(self, ctx: _Ctx, action: dict) -> list[Outgoing]:
        """[Duyệt #N] / [Từ chối #N] pressed: decide as /duyet or /tuchoi would, then the keyboard of the request
        becomes one ✓ line saying what happened to it (as a pressed 👍/👎 does), so it is neither pressed twice nor
        left looking undecided. A request someone else decided first is marked with its current state."""
        rid = str(action.get("id"))
        name = "duyet" if action.get("a") == "approve" else "tuchoi"
        before = self.staff.get(int(rid)) if self.staff is not None and rid.isdigit() else None
        replies = await self._on_command(ctx, f"/{name} {rid}", name, rid)
        after = self.staff.get(int(rid)) if before is not None else None
        status = _field(after, "status")
        if status is None or status == "pending":  # nothing was decided (a denied press): the buttons stay
            return replies
        if status == "approved":
            label = T.APPROVED_MARK.format(id=rid)
        elif name == "tuchoi" and _field(before, "status") == "pending":
            label = T.REJECTED_MARK.format(id=rid)
        else:  # decided earlier (rejected, or approved and since retired)
            label = T.DECIDED_MARK.format(id=rid)
        mark = self._markup_edit(ctx, [[Button(T.CHOSEN_MARK.format(label=label), NOOP)]])
        return ([mark] if ctx.msg.channel in BUTTON_CHANNELS and ctx.msg.message_id else []) + replies

    def _pending_text(self) -> str:
        pending = list(self.staff.list(status="pending"))
        if not pending:
            return T.PENDING_NONE
        lines = [T.PENDING_HEADER]
        for r in pending:
            lines.append(
                f"#{_field(r, 'id')}: {_field(r, 'name') or '?'} ({_field(r, 'channel')}) — "
                f"{_field(r, 'unit')}, {_field(r, 'locality')}"
            )
        return "\n".join(lines)

    async def _cmd_reindex(self, ctx: _Ctx, args: str, command) -> tuple[list[Outgoing], bool | None]:
        if self._reindex_lock.locked():
            return [self._reply(ctx, T.REINDEX_BUSY)], None
        async with self._reindex_lock:
            started = time.perf_counter()
            try:
                self.answerer = await (self._reindex or self._default_reindex)()
            except Exception as exc:  # report, keep the old answerer
                log.exception("reindex failed")
                return [self._reply(ctx, T.REINDEX_FAILED.format(error=truncate(str(exc) or type(exc).__name__, 300)))], False
            return [self._reply(ctx, T.REINDEX_DONE.format(seconds=round(time.perf_counter() - started, 1)))], True

    async def _default_reindex(self) -> Any:
        import sys

        s = self.settings
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--corpus", str(s.corpus_dir), "--data-dir", str(s.data_dir), "index",
            "--no-progress",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await proc.communicate()
        if proc.returncode != 0:
            tail = out.decode(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError(" / ".join(tail) or f"exit {proc.returncode}")
        from bot.app import build_answerer

        return await asyncio.get_running_loop().run_in_executor(self._executor, build_answerer, s)

    async def _cmd_thongke(self, ctx: _Ctx, args: str, command) -> tuple[list[Outgoing], bool | None]:
        days = cmds.parse_count(args, 1, 3660) if args else 30
        if days is None:
            return [self._reply(ctx, T.NUMBER_INVALID.format(value=truncate(args, 20), lo=1, hi=3660,
                                                             usage=command.usage))], False
        s = self.usage.stats(days=days)
        lines = [T.STATS.format(**{k: getattr(s, k) for k in (
            "days", "messages", "users", "questions", "answered", "unanswered", "commands", "refused",
            "avg_latency_ms")})]
        if s.by_channel:
            lines.append(T.STATS_CHANNELS.format(items=", ".join(f"{k} {v}" for k, v in s.by_channel.items())))
        if s.by_intent:
            labels: dict[str, int] = {}
            for k, v in s.by_intent.items():  # several internal names can share one label
                labels[T.intent_label(k or "")] = labels.get(T.intent_label(k or ""), 0) + v
            lines.append(T.STATS_INTENTS.format(items=", ".join(f"{k} {v}" for k, v in labels.items())))
        lines += self._stats_extra(days)
        if s.top_unanswered:
            lines.append(T.STATS_UNANSWERED)
            lines += [f"{i}. ({n}×) {truncate(q, 200)}" for i, (q, n) in enumerate(s.top_unanswered, 1)]
        lines += self._health_lines()
        return [self._reply(ctx, "\n".join(lines))], None

    def _health_lines(self) -> list[str]:
        tz = ZoneInfo(self.settings.timezone)
        out = []
        for component, problem in sorted(self.health.problems().items()):
            since = problem.since.astimezone(tz).strftime("%H:%M %d/%m/%Y")
            if component == REMINDERS:
                out.append(T.HEALTH_REMINDERS_STOPPED.format(since=since, error=truncate(problem.detail, 200)))
            elif component == ZALO_QUOTA:
                out.append(T.HEALTH_ZALO_QUOTA.format(since=since, until=problem.detail))
            else:
                out.append(f"⚠️ {component}: {truncate(problem.detail, 200)}")
        return out

    # Reminder actions: the reminders module's logic (handlers/reminder_commands.py).
    async def _cmd_xong(self, ctx: _Ctx, args: str, command) -> tuple[list[Outgoing], bool | None]:
        if not self.reminders.available():
            return [self._reply(ctx, T.NOT_ENABLED)], None
        text = await self.reminders.run(
            command.name, args, channel=ctx.msg.channel, user_id=ctx.msg.user_id, chat_id=ctx.msg.chat_id,
            staff=self._staff_record(ctx.msg.channel, ctx.msg.user_id), admin=ctx.role == cmds.ADMIN,
        )
        return [self._reply(ctx, text)], True

    _cmd_hoanlai = _cmd_viectoi = _cmd_dathan = _cmd_xong

    # ---------------------------------------------------------------- roles, staff, notifications

    def is_admin(self, channel: str, user_id: str) -> bool:
        return channel == "console" or f"{channel}:{user_id}" in self.admins

    async def _role(self, channel: str, user_id: str) -> str:
        if self.is_admin(channel, user_id):
            return cmds.ADMIN
        return cmds.STAFF if self._staff_record(channel, user_id) is not None else cmds.CITIZEN

    def _staff_record(self, channel: str, user_id: str) -> Any:
        """The user's approved staff record, or None. A person marked blocked (the platform refused a send) who
        writes again has unblocked the bot: approved again."""
        if self.staff is None:
            return None
        record = self.staff.find_by_user(channel, user_id)
        if record is not None and _field(record, "status") == "blocked":
            record = self.staff.unblock(_field(record, "id"))
        return record if record is not None and _field(record, "status") == "approved" else None

    def _admin_targets(self) -> list[tuple[str, str]]:
        """(channel, chat_id) of every admin (BOT_ADMIN_IDS entries are always "channel:id")."""
        return [tuple(entry.split(":", 1)) for entry in sorted(self.admins)]  # type: ignore[misc]

    async def zalo_quota_changed(self, until: datetime | None) -> None:
        """The Zalo quota ran out (`until`: when sending is tried again) or came back (None): shown in /thongke and
        told to the admins on their other channels (Zalo itself cannot carry the alert)."""
        if until is None:
            self.health.ok(ZALO_QUOTA)
            text = T.ZALO_QUOTA_BACK
        else:
            self.health.fail(ZALO_QUOTA, until.strftime("%H:%M %d/%m/%Y"))
            text = T.ZALO_QUOTA_ALERT.format(until=until.strftime("%H:%M %d/%m/%Y"))
        await self.alert_admins(text, avoid="zalo")

    async def alert_admins(self, text: str, *, avoid: str) -> int:
        """Send `text` to every admin reachable on a channel other than `avoid`; returns how many got it."""
        sent = 0
        for channel, chat_id in self._admin_targets():
            sender = self.senders.get(channel)
            if channel == avoid or sender is None:
                continue
            try:
                await sender.send(channel, chat_id, text)
                sent += 1
            except Exception:
                log.exception("alert to an admin on %s failed", channel)
        if not sent:
            log.error("no admin could be alerted on a channel other than %s: %s", avoid, text)
        return sent

    async def _notify_admins(self, ctx: _Ctx, text: str, request_id: Any) -> list[Outgoing]:
        replies: list[Outgoing] = []
        for channel, chat_id in self._admin_targets():
            buttons = []
            if channel == ctx.msg.channel:
                keys = [self.store.put_callback(channel, chat_id, {"a": a, "id": request_id}) for a in ("approve", "reject")]
                buttons = [[Button(T.APPROVE_BUTTON.format(id=request_id), CALLBACK_PREFIX + keys[0]),
                            Button(T.REJECT_BUTTON.format(id=request_id), CALLBACK_PREFIX + keys[1])]]
            replies += await self._deliver(ctx, channel, chat_id, text, buttons)
        return replies

    async def _deliver(self, ctx: _Ctx, channel: str, chat_id: str, text: str, buttons=None) -> list[Outgoing]:
        """A message to another chat: returned for the adapter on the same channel, else sent by that channel's
        sender (when serve() registered one)."""
        if channel == ctx.msg.channel:
            return [Outgoing(chat_id, text, buttons or [])]
        sender = self.senders.get(channel)
        if sender is None:
            log.warning("no sender for channel %s; a notification was not delivered", channel)
            return []
        try:
            await sender.send(channel, chat_id, text)
        except Exception:
            log.exception("notification to %s failed", channel)
        return []

    # ---------------------------------------------------------------- helpers

    def _reply(self, ctx: _Ctx, text: str) -> Outgoing:
        return Outgoing(ctx.msg.chat_id, text)

    async def run_sync(self, fn: Callable, *args, **kwargs) -> Any:
        """Run a synchronous answerer call on the answerer thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(*args, **kwargs))

    async def _localities(self) -> list[str]:
        if self.answerer is None:
            return []
        return list(await self.run_sync(self.answerer.localities))

    def _log(self, msg: Incoming, kind: str, question: str, *, intent: str = "", found: bool | None = None,
             started: float, locality: str | None = None, answer_chars: int = 0) -> None:
        try:
            self.usage.record(
                channel=msg.channel, user_id=msg.user_id, kind=kind, question=question, intent=intent, found=found,
                latency_ms=(time.perf_counter() - started) * 1000, locality=locality, answer_chars=answer_chars,
            )
        except Exception:  # the log must never break a reply
            log.exception("usage log write failed")

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def match_locality(name: str, known: list[str]) -> list[str]:
    """Localities matching a user's spelling: exact (folded, without xã/phường/thị trấn/UBND) first, else
    containment."""
    from bot.staff import locality_key

    want = locality_key(name)
    if not want:
        return []
    exact = [k for k in known if locality_key(k) == want]
    if exact:
        return exact
    return [k for k in known if want in locality_key(k) or locality_key(k) in want]


def _field(record: Any, name: str) -> Any:
    if record is None:
        return None
    if isinstance(record, dict):
        return record.get(name)
    return getattr(record, name, None)
