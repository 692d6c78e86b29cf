"""Running the review page: alone (`python -m bot web`) or inside `serve` next to the chat channels."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import uvicorn

from bot.settings import Settings

from .app import Hooks, create_app
from .security import TokenError, check_token

log = logging.getLogger(__name__)

RELOAD_DELAY = 2.0  # seconds: several corrections in a row reload the chat's answerer once


def _config(app, host: str, port: int) -> uvicorn.Config:
    # proxy_headers (from 127.0.0.1 only, uvicorn's default): behind a local https reverse proxy the request scheme
    # is https, so the session cookie gets its Secure flag.
    return uvicorn.Config(app, host=host, port=port, log_level="warning", proxy_headers=True, access_log=False,
                          server_header=False)


def warn_if_exposed(host: str) -> None:
    if host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("review page listening on %s: reachable from other machines; put it behind HTTPS "
                    "(a reverse proxy) so the access token and session cookie are not sent in clear", host)


def run(settings: Settings, host: str, port: int) -> int:
    """`python -m bot web`: serve until Ctrl-C. 2 (with the reason) when no usable token is configured."""
    import sys

    try:
        check_token(settings.web_token)
    except TokenError as exc:
        print(f"Không khởi động trang rà soát: {exc}", file=sys.stderr)
        return 2
    warn_if_exposed(host)
    app = create_app(settings)
    print(f"Trang rà soát: http://{host}:{port}/ (Ctrl-C để dừng)", file=sys.stderr, flush=True)
    uvicorn.Server(_config(app, host, port)).run()
    return 0


class LiveHooks:
    """Hooks for the page running inside `serve`: a correction reloads the chat's answerer (debounced, on the
    answerer's own thread); an approval is told to the person on their channel."""

    def __init__(self, settings: Settings, conversation: Any, senders: dict[str, Any],
                 loop: asyncio.AbstractEventLoop):
        self.settings, self.conversation, self.senders, self.loop = settings, conversation, senders, loop
        self._pending: asyncio.TimerHandle | None = None

    def hooks(self) -> Hooks:
        return Hooks(tasks_changed=lambda: self.loop.call_soon_threadsafe(self._schedule),
                     notify=self._notify)

    def _schedule(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
        self._pending = self.loop.call_later(RELOAD_DELAY, lambda: asyncio.ensure_future(self.reload()))

    async def reload(self) -> None:
        from bot.app import build_answerer

        self._pending = None
        old = self.conversation.answerer
        embedder = getattr(getattr(old, "index", None), "embedder", None)
        try:
            self.conversation.answerer = await self.conversation.run_sync(build_answerer, self.settings, embedder)
            log.info("answerer reloaded after a correction on the review page")
        except Exception:
            log.exception("could not reload the answerer after a correction; the chat keeps the previous one")

    def _notify(self, channel: str, chat_id: str, text: str) -> None:
        sender = self.senders.get(channel)
        if sender is None:
            raise RuntimeError(f"no running {channel} channel")
        fut = asyncio.run_coroutine_threadsafe(sender.send(channel, chat_id, text), self.loop)
        fut.result(timeout=30)


async def start_in_serve(settings: Settings, conversation: Any, senders: dict[str, Any]) -> Any | None:
    """Start the page as a task of `serve` when BOT_WEB_PORT is set; returns a handle with `stop()`, or None.
    Without a usable token it logs why and does not start (the chat channels run regardless)."""
    if not settings.web_port:
        return None
    try:
        check_token(settings.web_token)
    except TokenError as exc:
        log.error("review page not started: %s", exc)
        return None
    warn_if_exposed(settings.web_host)
    live = LiveHooks(settings, conversation, senders, asyncio.get_running_loop())
    server = _EmbeddedServer(_config(create_app(settings, hooks=live.hooks()), settings.web_host, settings.web_port))
    task = asyncio.ensure_future(server.serve())
    log.info("review page: http://%s:%s/", settings.web_host, settings.web_port)
    return _Running(server, task)


class _EmbeddedServer(uvicorn.Server):
    """uvicorn inside `serve`: `serve` owns SIGTERM/SIGINT (uvicorn would replace its handlers)."""

    @contextlib.contextmanager
    def capture_signals(self):
        yield


class _Running:
    def __init__(self, server: uvicorn.Server, task: asyncio.Task):
        self.server, self.task = server, task

    async def stop(self) -> None:
        self.server.should_exit = True
        try:
            await asyncio.wait_for(self.task, 10)
        except (asyncio.TimeoutError, Exception):
            self.task.cancel()
