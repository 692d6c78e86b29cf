"""`python -m bot serve`: every channel that has a token, plus the reminder scheduler when bot.reminders has one.

- Telegram when TELEGRAM_BOT_TOKEN is set (polling, or webhook when BOT_WEBHOOK_URL is set).
- Zalo when ZALO_BOT_TOKEN is set (polling, or webhook when ZALO_WEBHOOK_URL is set).
- No token at all: the console chat (same conversation core).
- `bot.reminders.run_scheduler`, when it exists, runs beside them with a sender for every running channel.
SIGTERM/SIGINT stop everything gracefully: channels stop taking updates, in-flight replies finish, the scheduler
is told to stop.
"""
from __future__ import annotations

import asyncio
import importlib
import logging
import signal
from typing import Any

from handlers.conversation import Conversation

from .senders import ConsoleSender, MultiSender, TelegramSender, ZaloSender
from .settings import Settings

log = logging.getLogger(__name__)

SCHEDULER_STOP_TIMEOUT = 10.0


async def build_conversation(settings: Settings, answerer: Any = None) -> Conversation:
    """Conversation with the staff registry and the answerer (loaded on the conversation's answerer thread, the
    thread every later question runs on)."""
    from .staff import StaffRegistry

    settings.admin_id_set()  # a bad BOT_ADMIN_IDS stops the start before anything is created (ConfigError)
    conversation = Conversation(answerer, settings, StaffRegistry(settings.db_path), settings.db_path)
    if answerer is None:
        from .app import build_answerer

        try:
            conversation.answerer = await conversation.run_sync(build_answerer, settings)
        except Exception:
            log.exception("could not load the index from %s; answering is off until /reindex", settings.data_dir)
    return conversation


def _scheduler() -> Any:
    """bot.reminders.run_scheduler(settings, sender, stop_event), when the reminders module provides it."""
    try:
        module = importlib.import_module("bot.reminders")
    except ImportError:
        return None
    return getattr(module, "run_scheduler", None)


async def serve(settings: Settings, *, conversation: Conversation | None = None,
                stop_event: asyncio.Event | None = None) -> None:
    """Run until SIGTERM/SIGINT (or `stop_event`)."""
    stop = stop_event or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
        except (NotImplementedError, RuntimeError):  # not the main thread, or no signals on this platform
            pass

    own = conversation is None
    conversation = conversation or await build_conversation(settings)
    senders: dict[str, Any] = {}  # channel -> Sender, for the scheduler and cross-channel notifications
    conversation.senders = senders
    channels: list[Any] = []
    scheduler: asyncio.Task | None = None
    web = None
    try:
        if settings.telegram_bot_token:
            from .telegram_app import TelegramChannel

            telegram = TelegramChannel(settings, conversation)
            await _start(telegram, "telegram", channels)
            if telegram in channels:
                senders["telegram"] = TelegramSender(telegram.bot)
        if settings.zalo_bot_token:
            from .zalo import ZaloChannel

            zalo = ZaloChannel(settings, conversation)
            await _start(zalo, "zalo", channels)
            if zalo in channels:
                senders["zalo"] = ZaloSender(zalo.client)
        tokens = bool(settings.telegram_bot_token or settings.zalo_bot_token)
        if tokens and not channels:
            raise RuntimeError("no channel could start; see the errors above")
        if not tokens:
            senders["console"] = ConsoleSender()

        if settings.web_port:  # the officer's review page
            from web.server import start_in_serve

            web = await start_in_serve(settings, conversation, senders)

        run_scheduler = _scheduler()
        if run_scheduler is not None:
            scheduler = asyncio.ensure_future(
                _keep_running(run_scheduler, settings, MultiSender(senders), stop, conversation.health))
            log.info("reminder scheduler started")
        else:
            log.info("reminder scheduler not available (bot.reminders.run_scheduler missing)")

        if tokens:
            log.info("serving: %s; stop with Ctrl-C or SIGTERM",
                     ", ".join(f"{type(c).__name__.removesuffix('Channel').lower()} ({c.mode})" for c in channels))
            await _wait(stop, scheduler)
        else:
            log.info("no TELEGRAM_BOT_TOKEN or ZALO_BOT_TOKEN: console chat")
            from .console import chat

            await chat(conversation, stop=stop)
    finally:
        stop.set()
        if scheduler is not None:
            await _stop_scheduler(scheduler)
        if web is not None:
            await web.stop()
        for channel in reversed(channels):
            try:
                await channel.stop()
            except Exception:
                log.exception("stopping %s failed", type(channel).__name__)
        for sig in installed:
            loop.remove_signal_handler(sig)
        if own:
            conversation.close()
        log.info("stopped")


async def _keep_running(run_scheduler: Any, settings: Settings, sender: Any, stop: asyncio.Event, health: Any,
                        first_delay: float = 1.0) -> None:
    """The reminder scheduler, restarted (with backoff, up to 5 minutes) should it ever end before `stop`: it
    retries its own errors, so this is the last guard, and /thongke shows the stop meanwhile."""
    from handlers.health import REMINDERS

    delay = first_delay
    while not stop.is_set():
        try:
            await run_scheduler(settings, sender, stop, health=health)
            if stop.is_set():
                return
            log.error("reminder scheduler ended without being stopped; restarting in %.0fs", delay)
            health.fail(REMINDERS, "the scheduler ended")
        except Exception as exc:
            log.exception("reminder scheduler stopped; restarting in %.0fs", delay)
            health.fail(REMINDERS, f"{type(exc).__name__}: {exc}")
        try:
            await asyncio.wait_for(stop.wait(), delay)
        except asyncio.TimeoutError:
            pass
        delay = min(300.0, delay * 2)


async def _start(channel: Any, name: str, started: list[Any]) -> None:
    try:
        await channel.start()
    except Exception:
        log.exception("%s could not start", name)
        try:
            await channel.stop()
        except Exception:
            pass
        return
    started.append(channel)


async def _wait(stop: asyncio.Event, scheduler: asyncio.Task | None) -> None:
    """Until stop; a scheduler that dies is logged, the channels keep running."""
    waiter = asyncio.ensure_future(stop.wait())
    pending = {waiter} | ({scheduler} if scheduler is not None else set())
    while not stop.is_set():
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        if scheduler is not None and scheduler in done:
            if not scheduler.cancelled() and scheduler.exception() is not None:
                log.error("reminder scheduler stopped", exc_info=scheduler.exception())
            else:
                log.info("reminder scheduler finished")
    waiter.cancel()


async def _stop_scheduler(task: asyncio.Task) -> None:
    """The scheduler saw `stop`; give it a moment to finish its current send, then cancel it."""
    if task.done():
        return
    try:
        await asyncio.wait_for(asyncio.shield(task), SCHEDULER_STOP_TIMEOUT)
    except asyncio.TimeoutError:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    except Exception:
        log.exception("reminder scheduler failed while stopping")
