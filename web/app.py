"""The officer's review page (Starlette + Jinja2, server-rendered, no JavaScript): what the bot extracted from each
plan, corrections of tasks, reminders, and the questions the documents do not answer.

A thin layer over the stores the chat uses (index.store, index.corrections, bot.reminders, bot.staff, the usage
log and the feedback table); every request opens its own SQLite connection.
"""
from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlencode
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from bot.settings import Settings
from bot.staff import StaffRegistry
from handlers.render import display_quote
from index.corrections import (CorrectionError, clean_units, correction_log, load_corrections, parse_due,
                               save_correction, undo_correction)
from index.records import Task
from index.store import row_to_task
from index.textnorm import fold, normalize

from . import data, schedule
from .export import tasks_xlsx
from .security import COOKIE, Session, Sessions, Throttle, bearer, check_token, csrf_ok, token_matches

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
PAGE_SIZE = 50
NAV = [("/", "Tổng quan"), ("/nhiem-vu", "Nhiệm vụ"), ("/nhac-han", "Nhắc hạn"), ("/cau-hoi", "Câu hỏi")]


@dataclass
class Hooks:
    """What the page tells the rest of the bot when it runs inside `serve` (both called from a worker thread).
    tasks_changed(): a correction changed the tasks table (the chat reloads its answerer).
    notify(channel, chat_id, text): send a message to a staff member (approval of a registration)."""

    tasks_changed: Callable[[], None] | None = None
    notify: Callable[[str, str, str], None] | None = None


@dataclass
class Ctx:
    request: Request
    session: Session
    who: str = ""
    via: str = ""  # "session" | "bearer" | ""
    form: FormData | None = None
    new_cookie: bool = False


class ReviewApp:
    def __init__(self, settings: Settings, token: str | None = None, hooks: Hooks | None = None):
        self.settings = settings
        self.token = check_token(token if token is not None else settings.web_token)
        self.sessions = Sessions(self.token)
        self.throttle = Throttle()
        self.hooks = hooks or Hooks()
        self.tz = ZoneInfo(settings.timezone)
        self._taskset: tuple[tuple, data.TaskSet] | None = None
        self._schedule: tuple[tuple, list] | None = None
        self._cache_lock = threading.Lock()
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        env = self.templates.env
        env.filters["d"] = data.fmt_date
        env.filters["t"] = lambda v: data.fmt_time(v, self.tz)
        env.globals["nav"] = NAV
        env.filters["quote"] = display_quote  # the row as the chat quotes it (a long row without its group's goal)

    # ------------------------------------------------------------------ plumbing
    def db(self):
        return data.connect(self.settings.db_path)

    def _version(self) -> tuple:
        """Changes with any write to the database (a re-index, a correction, a /dathan date, a reminder sent): the
        file's and its WAL's modification time and size."""
        paths = [self.settings.db_path, Path(f"{self.settings.db_path}-wal")]
        return tuple((st.st_mtime_ns, st.st_size) for p in paths if (st := _stat(p)) is not None)

    def taskset(self, db) -> data.TaskSet:
        """The parsed tasks, rebuilt when the database changed."""
        key = self._version()
        with self._cache_lock:
            if self._taskset is None or self._taskset[0] != key:
                self._taskset = (key, data.TaskSet(db))
            return self._taskset[1]

    def planned(self, db, today: date) -> list[schedule.ScheduleItem]:
        """The 30-day schedule, planned again when the database changed or the day did."""
        key = (self._version(), today)
        with self._cache_lock:
            if self._schedule is None or self._schedule[0] != key:
                self._schedule = (key, schedule.schedule(db, self.settings, today, days=30))
            return self._schedule[1]

    def today(self, request: Request | None = None) -> date:
        raw = (request.query_params.get("ngay") or "").strip() if request is not None else ""
        return data.parse_day(raw) or datetime.now(self.tz).date()

    def _client(self, request: Request) -> str:
        return request.client.host if request.client else "?"

    def context(self, request: Request) -> Ctx | Response:
        given = bearer(request.headers.get("authorization"))
        if given is not None:
            client = self._client(request)
            if self.throttle.blocked(client):
                return self.error(request, 429, "Đăng nhập sai quá nhiều lần; anh/chị thử lại sau ít phút.")
            if not token_matches(given, self.token):
                self.throttle.fail(client)
                return self.error(request, 401, "Mã truy cập (Bearer) không đúng.")
            # X-Officer: who is correcting, percent-encoded UTF-8 (HTTP headers are ASCII)
            who = normalize(unquote(request.headers.get("x-officer") or "")).strip()[:120] or "api"
            return Ctx(request=request, session=Session(), who=who, via="bearer")
        session = self.sessions.load(request.cookies.get(COOKIE))
        if session is None:
            return Ctx(request=request, session=Session(), new_cookie=True)
        return Ctx(request=request, session=session, who=session.who, via="session" if session.who else "",
                   new_cookie=False)

    def finish(self, ctx: Ctx, response: Response) -> Response:
        if ctx.via != "bearer":
            secure = ctx.request.url.scheme == "https"
            response.set_cookie(value=self.sessions.dump(ctx.session), **self.sessions.cookie_args(secure))
        return response

    def render(self, ctx: Ctx, template: str, /, status: int = 200, **values) -> HTMLResponse:
        flash, ctx.session.flash = ctx.session.flash, ""
        values.setdefault("title", "")
        return self.templates.TemplateResponse(ctx.request, template, {
            "csrf": ctx.session.csrf, "who": ctx.who, "flash": flash, "path": ctx.request.url.path, **values,
        }, status_code=status)

    def error(self, request: Request, status: int, message: str) -> HTMLResponse:
        return self.templates.TemplateResponse(request, "error.html", {
            "csrf": "", "who": "", "flash": "", "path": request.url.path, "title": "Không thực hiện được",
            "message": message, "status": status}, status_code=status)

    def page(self, fn, *, public: bool = False):
        """Wrap a synchronous handler: session, sign-in, CSRF on POST, run in a worker thread, cookie."""

        async def endpoint(request: Request) -> Response:
            ctx = self.context(request)
            if isinstance(ctx, Response):
                return ctx
            if not ctx.who and not public:
                if request.method == "GET":
                    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                    return self.finish(ctx, RedirectResponse("/dang-nhap?" + urlencode({"tiep": target}), 303))
                return self.finish(ctx, self.error(request, 401, "Anh/chị cần đăng nhập trước."))
            if request.method == "POST":
                ctx.form = await request.form()
                if ctx.via != "bearer" and not csrf_ok(None if ctx.new_cookie else ctx.session, ctx.form.get("csrf")):
                    return self.finish(ctx, self.error(
                        request, 403, "Biểu mẫu đã hết hạn hoặc không hợp lệ (thiếu mã chống giả mạo). Anh/chị tải "
                        "lại trang rồi thử lại; nếu vẫn lỗi, hãy kiểm tra trình duyệt có cho phép cookie không."))
            response = await run_in_threadpool(fn, ctx)
            return self.finish(ctx, response)

        return endpoint

    def redirect(self, ctx: Ctx, url: str, flash: str = "") -> RedirectResponse:
        if flash:
            ctx.session.flash = flash
        return RedirectResponse(url, status_code=303)

    @staticmethod
    def safe_next(value: str | None, default: str = "/") -> str:
        v = (value or "").strip()
        return v if v.startswith("/") and not v.startswith("//") and "\\" not in v else default

    # ------------------------------------------------------------------ sign-in
    def login_form(self, ctx: Ctx) -> Response:
        if ctx.who:
            return self.redirect(ctx, self.safe_next(ctx.request.query_params.get("tiep")))
        return self.render(ctx, "login.html", title="Đăng nhập", next=self.safe_next(ctx.request.query_params.get("tiep")),
                           name="", error="")

    def login(self, ctx: Ctx) -> Response:
        form = ctx.form
        name = " ".join(normalize(str(form.get("ten") or "")).split())[:120]
        nxt = self.safe_next(form.get("tiep"))
        client = self._client(ctx.request)
        if self.throttle.blocked(client):
            return self.render(ctx, "login.html", status=429, title="Đăng nhập", next=nxt, name=name,
                               error="Đăng nhập sai quá nhiều lần; anh/chị thử lại sau ít phút.")
        if not token_matches(str(form.get("ma") or ""), self.token):
            self.throttle.fail(client)
            return self.render(ctx, "login.html", status=401, title="Đăng nhập", next=nxt, name=name,
                               error="Mã truy cập không đúng.")
        if not name:
            return self.render(ctx, "login.html", status=400, title="Đăng nhập", next=nxt, name=name,
                               error="Anh/chị nhập họ tên: mỗi hiệu chỉnh được ghi tên người sửa.")
        self.throttle.clear(client)
        # A new session id and CSRF token on sign-in: a cookie planted before sign-in is worth nothing after.
        ctx.session = Session(who=name)
        ctx.who = name
        return self.redirect(ctx, nxt, f"Xin chào {name}.")

    def logout(self, ctx: Ctx) -> Response:
        ctx.session = Session()
        ctx.who = ""
        return self.redirect(ctx, "/dang-nhap", "Anh/chị đã đăng xuất.")

    # ------------------------------------------------------------------ overview
    def overview(self, ctx: Ctx) -> Response:
        db = self.db()
        today = self.today(ctx.request)
        docs = data.documents(db)
        ts = self.taskset(db)
        due = data.due_by_unit(db, ts, today)
        month_start, month_end = data.month_bounds(today)
        corrections = load_corrections(db)
        national = [d for d in docs if d.kind == "national"]  # one procedure each: listed apart, folded
        docs = [d for d in docs if d.kind != "national"]
        return self.render(ctx, "overview.html", title="Tổng quan", docs=docs, national=national, due=due, today=today,
                           month_start=month_start, month_end=month_end,
                           overdue_from=today - timedelta(days=data.OVERDUE_DAYS),
                           yesterday=today - timedelta(days=1), n_tasks=len(ts.tasks),
                           n_corrections=len(corrections), no_index=not docs and not national)

    # ------------------------------------------------------------------ tasks
    def _filtered(self, ctx: Ctx):
        db = self.db()
        f, errors = data.TaskFilter.from_query(ctx.request.query_params)
        ts = self.taskset(db)
        return db, f, errors, ts, data.filter_tasks(ts, f)  # positions in ts.tasks

    def tasks(self, ctx: Ctx) -> Response:
        db, f, errors, ts, rows = self._filtered(ctx)
        try:
            page = max(1, int(ctx.request.query_params.get("trang") or 1))
        except ValueError:
            page = 1
        pages = max(1, (len(rows) + PAGE_SIZE - 1) // PAGE_SIZE)
        page = min(page, pages)
        shown = data.task_rows(ts, rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE], f)
        query = f.query()
        here = "/nhiem-vu" + (f"?{urlencode({**query, 'trang': page} if page > 1 else query)}" if query or page > 1 else "")
        return self.render(
            ctx, "tasks.html", title="Nhiệm vụ", f=f, errors=errors, rows=shown, total=len(rows), all=len(ts.tasks),
            page=page, pages=pages, query=query, here=here,
            page_link=lambda p: "/nhiem-vu?" + urlencode({**query, "trang": p}),
            export="/nhiem-vu.xlsx" + (f"?{urlencode(query)}" if query else ""),
            localities=data.localities(db, ts), areas=ts.areas(), units=ts.unit_names(),
            has_status=ts.records_changes,
            orphans=data.orphan_corrections(db, ts.tasks) if not f.active else [],
        )

    def export(self, ctx: Ctx) -> Response:
        _, f, _, ts, rows = self._filtered(ctx)
        parts = [f"{k}={v}" for k, v in f.query().items()]
        body = tasks_xlsx(data.task_rows(ts, rows, f), "; ".join(parts) or "tất cả nhiệm vụ", self.tz)
        name = f"nhiem-vu-{self.today():%Y%m%d}.xlsx"
        return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    def _task_or_snapshot(self, db, task_id: str) -> tuple[Task | None, object]:
        rows = list(db.query("select * from tasks where id = ?", [task_id])) if db["tasks"].exists() else []
        correction = load_corrections(db).get(task_id)
        if rows:
            return row_to_task(dict(rows[0])), correction
        if correction and correction.original:
            try:
                return Task(**{k: v for k, v in correction.original.items() if k in Task.__dataclass_fields__}), correction
            except TypeError:
                return None, correction
        return None, correction

    def task(self, ctx: Ctx, error: str = "", values: dict | None = None, status: int = 200) -> Response:
        task_id = ctx.request.path_params["task_id"]
        db = self.db()
        task, correction = self._task_or_snapshot(db, task_id)
        if task is None:
            return self.error(ctx.request, 404, "Không tìm thấy nhiệm vụ này (có thể kế hoạch đã được lập chỉ mục "
                                                "lại hoặc văn bản đã bị gỡ).")
        nxt = self.safe_next((ctx.form.get("tiep") if ctx.form else None) or ctx.request.query_params.get("tiep"),
                             "/nhiem-vu")
        live = not (correction and correction.not_a_task)
        values = values or {
            "lead": "\n".join(task.lead), "coordinate": "\n".join(task.coordinate),
            "deadline_text": task.deadline_text, "due": data.fmt_date(correction.due if correction else ""),
            "not_a_task": not live,
        }
        return self.render(ctx, "task.html", status=status, title="Hiệu chỉnh nhiệm vụ", t=task,
                           correction=correction, live=live, values=values, error=error, next=nxt,
                           history=correction_log(db, task_id, limit=20), original=(correction.original or {})
                           if correction else {})

    def save_task(self, ctx: Ctx) -> Response:
        task_id = ctx.request.path_params["task_id"]
        form = ctx.form
        db = self.db()
        task, correction = self._task_or_snapshot(db, task_id)
        if task is None:
            return self.error(ctx.request, 404, "Không tìm thấy nhiệm vụ này.")
        values = {"lead": str(form.get("chu_tri") or ""), "coordinate": str(form.get("phoi_hop") or ""),
                  "deadline_text": str(form.get("thoi_han") or ""), "due": str(form.get("ngay_han") or ""),
                  "not_a_task": form.get("khong_phai_nhiem_vu") in ("1", "on")}
        nxt = self.safe_next(form.get("tiep"), "/nhiem-vu")
        try:
            changes = self._changes(task, correction, values)
        except CorrectionError as exc:
            return self.task(ctx, error=str(exc), values=values, status=400)
        if not changes:
            return self.redirect(ctx, nxt, "Không có thay đổi nào để lưu.")
        try:
            save_correction(db, task_id, by=ctx.who, tz=self.settings.timezone, **changes)
        except CorrectionError as exc:
            return self.task(ctx, error=str(exc), values=values, status=400)
        log.info("correction of task %s by %s: %s", task_id, ctx.who, sorted(changes))
        self._tasks_changed()
        short = task.title if len(task.title) <= 80 else task.title[:79] + "…"
        msg = (f"Đã đánh dấu “{short}” không phải nhiệm vụ." if changes.get("not_a_task")
               else f"Đã lưu hiệu chỉnh cho nhiệm vụ “{short}”.")
        return self.redirect(ctx, nxt + ("" if changes.get("not_a_task") else f"#t-{task_id}"), msg)

    @staticmethod
    def _changes(task: Task, correction, values: dict) -> dict:
        """Only what the officer changed: the other fields keep following the extraction."""
        changes: dict = {}
        lead = clean_units(values["lead"])
        if lead != task.lead:
            changes["lead"] = lead
        coord = clean_units(values["coordinate"])
        if coord != task.coordinate:
            changes["coordinate"] = coord
        text = " ".join(normalize(values["deadline_text"]).split())
        if text != " ".join(normalize(task.deadline_text or "").split()):
            changes["deadline_text"] = text
        due = parse_due(values["due"])
        if due != ((correction.due or "") if correction else ""):
            changes["due"] = due
        was_not = bool(correction and correction.not_a_task)
        if values["not_a_task"] != was_not:
            changes["not_a_task"] = values["not_a_task"]
        return changes

    def undo_task(self, ctx: Ctx) -> Response:
        task_id = ctx.request.path_params["task_id"]
        nxt = self.safe_next(ctx.form.get("tiep"), "/nhiem-vu")
        if not undo_correction(self.db(), task_id, by=ctx.who, tz=self.settings.timezone):
            return self.redirect(ctx, nxt, "Nhiệm vụ này không có hiệu chỉnh nào.")
        self._tasks_changed()
        return self.redirect(ctx, f"/nhiem-vu/{task_id}?" + urlencode({"tiep": nxt}),
                             "Đã bỏ hiệu chỉnh: nhiệm vụ trở lại như trích xuất từ văn bản.")

    def _tasks_changed(self) -> None:
        if self.hooks.tasks_changed is not None:
            try:
                self.hooks.tasks_changed()
            except Exception:  # the correction is saved; a failed reload only delays it
                log.exception("tasks_changed hook failed")

    # ------------------------------------------------------------------ reminders
    def reminders(self, ctx: Ctx) -> Response:
        db = self.db()
        today = self.today(ctx.request)
        items = self.planned(db, today)
        localities = sorted({i.locality for i in items}, key=fold)
        locality = ctx.request.query_params.get("dia_ban") or ""
        if locality:
            items = [i for i in items if i.locality == locality]
        days: dict[date, list] = {}
        for i in items:
            days.setdefault(i.day, []).append(i)
        staff = StaffRegistry(db)
        return self.render(
            ctx, "reminders.html", title="Nhắc hạn", today=today, days=days, n_items=len(items),
            localities=localities, locality=locality,
            nobody=sum(1 for i in items if not i.recipients),
            counts=schedule.outbox_counts(db), status_labels=schedule.STATUS_LABELS,
            pending=schedule.outbox_rows(db, "pending"), failed=schedule.outbox_rows(db, "failed"),
            sent=schedule.outbox_rows(db, "sent"), requests=staff.list("pending"), approved=staff.list("approved"),
            can_notify=self.hooks.notify is not None,
        )

    def decide(self, ctx: Ctx) -> Response:
        from handlers import texts as T

        staff_id = int(ctx.request.path_params["staff_id"])
        approve = ctx.request.path_params["action"] == "duyet"
        registry = StaffRegistry(self.db())
        current = registry.get(staff_id)
        if current is None or current.status != "pending":
            return self.redirect(ctx, "/nhac-han#dang-ky", f"Không có yêu cầu #{staff_id} đang chờ duyệt.")
        by = f"web:{ctx.who}"
        record = registry.approve(staff_id, by=by) if approve else registry.reject(staff_id, by=by)
        fields = {"id": record.id, "unit": record.unit, "locality": record.locality, "name": record.name or "?"}
        text = (T.APPROVED_USER.format(**fields) if approve
                else T.REJECTED_USER.format(id=record.id, reason=""))
        told = ""
        if self.hooks.notify is not None:
            try:
                self.hooks.notify(record.channel, str(record.chat_id or record.user_id), text)
                told = " Người đăng ký đã được báo qua kênh chat."
            except Exception:
                log.exception("could not notify staff %s", staff_id)
                told = " (Chưa báo được cho người đăng ký qua kênh chat.)"
        verb = "Đã duyệt" if approve else "Đã từ chối"
        return self.redirect(ctx, "/nhac-han#dang-ky", f"{verb} yêu cầu #{staff_id} ({record.name}, {record.unit})."
                             + told)

    # ------------------------------------------------------------------ questions
    def questions(self, ctx: Ctx) -> Response:
        try:
            days = min(365, max(1, int(ctx.request.query_params.get("ngay_qua") or 30)))
        except ValueError:
            days = 30
        db = self.db()
        return self.render(ctx, "questions.html", title="Câu hỏi", days=days,
                           unanswered=data.unanswered_questions(db, days),
                           disliked=data.disliked_answers(db, days),
                           has_feedback=db["feedback"].exists())

    # ------------------------------------------------------------------ app
    def build(self) -> Starlette:
        routes = [
            Route("/dang-nhap", self.page(self.login_form, public=True), methods=["GET"]),
            Route("/dang-nhap", self.page(self.login, public=True), methods=["POST"]),
            Route("/dang-xuat", self.page(self.logout), methods=["POST"]),
            Route("/", self.page(self.overview), methods=["GET"]),
            Route("/nhiem-vu", self.page(self.tasks), methods=["GET"]),
            Route("/nhiem-vu.xlsx", self.page(self.export), methods=["GET"]),
            Route("/nhiem-vu/{task_id:str}", self.page(self.task), methods=["GET"]),
            Route("/nhiem-vu/{task_id:str}", self.page(self.save_task), methods=["POST"]),
            Route("/nhiem-vu/{task_id:str}/bo-hieu-chinh", self.page(self.undo_task), methods=["POST"]),
            Route("/nhac-han", self.page(self.reminders), methods=["GET"]),
            Route("/nhac-han/dang-ky/{staff_id:int}/{action:str}", self.page(self.decide), methods=["POST"]),
            Route("/cau-hoi", self.page(self.questions), methods=["GET"]),
            Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
        ]
        app = Starlette(routes=routes)
        app.add_middleware(_Headers)
        app.state.review = self
        return app


def _stat(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


class _Headers:
    """Security headers on every response: no scripts at all, no framing, no sniffing, no caching of data."""

    CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
           "frame-ancestors 'none'; base-uri 'none'")

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(b"content-security-policy", self.CSP.encode()), (b"x-content-type-options", b"nosniff"),
                            (b"referrer-policy", b"same-origin"), (b"x-frame-options", b"DENY")]
                if not scope["path"].startswith("/static/"):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(settings: Settings, token: str | None = None, hooks: Hooks | None = None) -> Starlette:
    """The ASGI app; raises security.TokenError (with the reason, in Vietnamese) when no usable token is set."""
    return ReviewApp(settings, token=token, hooks=hooks).build()
