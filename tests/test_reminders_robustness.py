"""Reminders that survive what happens to a running bot (issue 15, items 2, 3, 4 and 10):

- item 4: the reminder tables are created while another connection writes; the scheduler never dies: it logs,
  retries, and /thongke says reminders are stopped meanwhile;
- item 3: two copies of a plan (the real indexer over a corpus holding both) do not multiply reminders;
- item 2: an edit of a plan (one line added) neither re-sends the morning's reminders nor reopens a task marked
  done; a task whose text changed is a new task;
- item 10: the outbox commits each attempt before the platform call, so a crash mid-send is resent once and seen.
"""
from __future__ import annotations

import asyncio
import collections
import shutil
import sqlite3
import threading
import time
from contextlib import closing
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.reminders import IN_FLIGHT, ReminderConfig, Reminders, SendError, run_scheduler
from bot.settings import Settings
from bot.staff import StaffRegistry, connect
from conftest_channels import make_settings, new_conversation, shared_index  # noqa: F401 - autouse fixture
from handlers.conversation import Incoming
from handlers.health import REMINDERS, Health
from reminders_fixture import PLAN_TASKS, RecordingSender, at8, build_db, local

ROOT = Path(__file__).resolve().parent.parent
HAI_HAU_PLAN = ROOT / "corpus" / "kh-cchc-2026-xa-hai-hau.txt"
VHXH, KT = "Phòng Văn hóa - Xã hội", "Phòng Kinh tế"
QUARTERLY = "Theo dõi, đôn đốc các bộ phận chuyên môn thực hiện chỉ tiêu CCHC"  # Hàng quý, Phòng VH-XH leads


# ------------------------------------------------------------------------------------------------ item 4

def _hold_write_lock(path: Path, seconds: float, holding: threading.Event) -> None:
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("BEGIN IMMEDIATE")
        db.execute("insert into usage_log (x) values ('busy')")
        holding.set()
        time.sleep(seconds)
        db.execute("COMMIT")


def test_tables_are_created_while_another_connection_holds_the_write_lock(tmp_path):
    path = tmp_path / "cchc.db"
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("create table usage_log (x text)")
    holding = threading.Event()
    writer = threading.Thread(target=_hold_write_lock, args=(path, 1.5, holding))
    writer.start()
    assert holding.wait(5)
    started = time.monotonic()
    try:
        rem = Reminders(path)  # before: "database is locked" at once (a deferred read-then-write transaction)
    finally:
        writer.join()
    assert time.monotonic() - started >= 1.0  # it waited for the writer instead of failing
    assert {"outbox", "reminder_done", "staff"} <= set(rem.db.table_names())
    assert {"ident", "last_attempt_at"} <= set(rem.db["outbox"].columns_dict)


async def test_the_scheduler_never_dies_and_says_when_reminders_are_stopped(tmp_path):
    data = tmp_path / "data"
    data.write_text("a file where the data directory should be")  # the database cannot be opened
    settings = make_settings(tmp_path, BOT_DATA_DIR=str(data), BOT_ADMIN_IDS="telegram:900")
    health = Health()
    sender = RecordingSender(lambda: None)
    stop = asyncio.Event()
    scheduler = asyncio.create_task(run_scheduler(settings, sender, stop, clock=lambda: local(2026, 3, 15, 8, 1),
                                                  interval=0.05, health=health))
    conv = new_conversation(settings, tmp_path, health=health)
    try:
        for _ in range(100):
            if REMINDERS in health.problems():
                break
            await asyncio.sleep(0.05)
        assert not scheduler.done()  # still alive, retrying
        [stats] = await conv.handle(Incoming("telegram", "900", "900", "Admin", "/thongke"))
        assert "Nhắc việc đang dừng" in stats.text and "FileExistsError" in stats.text
        # the cause goes away: the next retry opens the database and the due reminders go out
        data.unlink()
        data.mkdir()
        build_db(data / "cchc.db")
        for _ in range(300):
            if sender.sent:
                break
            await asyncio.sleep(0.05)
        assert any("Xây dựng Kế hoạch kiểm tra công tác CCHC" in text for _, _, _, text in sender.sent)
        assert REMINDERS not in health.problems()
        [stats] = await conv.handle(Incoming("telegram", "900", "900", "Admin", "/thongke"))
        assert "Nhắc việc đang dừng" not in stats.text
    finally:
        stop.set()
        await asyncio.wait_for(scheduler, 10)
        conv.close()


# ------------------------------------------------------------------------------------------------ item 10

async def test_each_attempt_is_committed_before_the_send_and_a_crash_mid_send_is_resent_once(tmp_path):
    db = tmp_path / "cchc.db"
    build_db(db, tasks={"t-date": PLAN_TASKS["t-date"]}, focal=False)
    seen = []

    class Killed(BaseException):
        """The process dies (not an error the bot could catch)."""

    class DiesMidSend:
        channels = ("telegram", "zalo", "console")

        async def send(self, channel, chat_id, text):
            with closing(sqlite3.connect(db)) as other:  # what survives if the process dies right now
                seen.extend(other.execute("select attempts, last_error from outbox where status = 'pending'"))
            raise Killed  # the process is killed during the platform call

    rem = Reminders(db, config=ReminderConfig())
    with pytest.raises(Killed):
        await rem.tick(DiesMidSend(), at8(date(2026, 3, 15)))
    assert (1, IN_FLIGHT) in seen
    restarted = Reminders(db, config=ReminderConfig())
    sender = RecordingSender(lambda: None)
    stats = await restarted.deliver(sender, at8(date(2026, 3, 15)) + timedelta(minutes=1))
    assert stats["resent_unknown"] == 1 and stats["sent"] == len(sender.sent) >= 1
    [row] = [r for r in restarted.outbox() if r["id"] == 1]
    assert row["status"] == "sent" and row["attempts"] == 2 and row["last_error"] is None

    class TimesOut:
        channels = ("telegram", "zalo", "console")

        async def send(self, channel, chat_id, text):
            raise SendError(retryable=True, unknown=True, message="timed out")

    build_db(tmp_path / "b.db", tasks={"t-date": PLAN_TASKS["t-date"]}, focal=False)
    other = Reminders(tmp_path / "b.db", config=ReminderConfig())
    stats = await other.tick(TimesOut(), at8(date(2026, 3, 15)))
    assert stats["retry"] >= 1
    assert all(r["last_error"].startswith("outcome unknown") for r in other.outbox("pending"))


# ------------------------------------------------------------------------------------------------ item 3

def test_copies_of_a_task_are_reminded_once_and_share_done(tmp_path):
    """Every task of the fixture plan twice (a copy under another file, as the indexer stores it): the same
    reminders as one copy, once each; marking one copy done stops the other's."""
    copies = dict(PLAN_TASKS)
    copies.update({f"{tid}~copy": spec for tid, spec in PLAN_TASKS.items()})
    build_db(tmp_path / "one.db")
    build_db(tmp_path / "two.db", tasks=copies)
    results = []
    for name in ("one.db", "two.db"):
        rem = Reminders(tmp_path / name, config=ReminderConfig())
        sender = RecordingSender(lambda: None)

        async def go():
            day = date(2026, 3, 1)
            while day <= date(2026, 4, 10):
                if day == date(2026, 3, 16):  # done through the copy's own id
                    rem.done("t-hq15~copy" if name == "two.db" else "t-hq15", occurrence="2026-03-15")
                await rem.tick(sender, at8(day) + timedelta(minutes=1))
                day += timedelta(days=1)

        asyncio.run(go())
        results.append(collections.Counter((chat, text) for _, _, chat, text in sender.sent))
    one, two = results
    assert max(two.values()) == 1
    assert two == one  # the copies changed nothing on the wire (texts, codes, recipients, days)


@pytest.fixture(scope="module")
def corpus_index_settings(tmp_path_factory):
    """Settings over a data dir, for a corpus dir the test fills; index built by the real pipeline."""
    from bot.app import run_index

    def build(corpus: Path, data: Path) -> Settings:
        settings = make_settings(data, BOT_CORPUS_DIR=str(corpus), BOT_DATA_DIR=str(data))
        summary = run_index(settings, progress=False)
        assert summary.plans >= 1, summary.skipped
        return settings

    return build


def _register(db_path: Path) -> None:
    reg = StaffRegistry(db_path)
    reg.add_approved("Lan", VHXH, "Hải Hậu", "telegram", "lan")
    reg.add_approved("Minh", KT, "xã Hải Hậu", "zalo", "minh")
    reg.db.conn.close()


def test_two_copies_of_a_plan_in_the_corpus_do_not_multiply_reminders(tmp_path, corpus_index_settings):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(HAI_HAU_PLAN, corpus / HAI_HAU_PLAN.name)
    # the same plan saved again under another name by another editor: a BOM and Windows line ends (other bytes)
    text = HAI_HAU_PLAN.read_text(encoding="utf-8")
    (corpus / "ban-sao-ke-hoach-cchc-hai-hau.txt").write_bytes(text.replace("\n", "\r\n").encode("utf-8-sig"))
    settings = corpus_index_settings(corpus, tmp_path / "data")
    _register(settings.db_path)
    rem = Reminders(settings.db_path, settings)
    sender = RecordingSender(lambda: None)
    asyncio.run(rem.tick(sender, at8(date(2026, 3, 31)) + timedelta(minutes=1)))
    reminders = [r for r in rem.outbox() if r["kind"] != "digest" and r["status"] != "superseded"]
    assert reminders, "the quarterly task is due on 31/03"
    per_slot = collections.Counter((r["staff_id"], r["occurrence"], r["offset_days"], r["text"].split("\n")[1])
                                   for r in reminders)
    assert max(per_slot.values()) == 1, per_slot
    assert max(collections.Counter((chat, text) for _, _, chat, text in sender.sent).values()) == 1
    [digest] = [text for _, _, chat, text in sender.sent if chat == "lan" and text.startswith("Tổng hợp")]
    assert digest.count(QUARTERLY[:40]) == 1


# ------------------------------------------------------------------------------------------------ item 2

def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def _index_after_edit(tmp_path, corpus_index_settings):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    plan = corpus / HAI_HAU_PLAN.name
    shutil.copy(HAI_HAU_PLAN, plan)
    settings = corpus_index_settings(corpus, tmp_path / "data")
    _register(settings.db_path)
    return settings, plan


def test_an_edited_plan_keeps_its_reminders_and_done_state(tmp_path, corpus_index_settings):
    settings, plan = _index_after_edit(tmp_path, corpus_index_settings)
    morning = at8(date(2026, 3, 31)) + timedelta(minutes=1)
    rem = Reminders(settings.db_path, settings)
    sender = RecordingSender(lambda: None)
    asyncio.run(rem.tick(sender, morning))
    first = len(sender.sent)
    assert any(QUARTERLY[:40] in text and chat == "lan" for _, _, chat, text in sender.sent)
    quarterly = next(t for t in rem.load_tasks() if t.title.startswith(QUARTERLY))
    code = rem.code_for(quarterly.id, "2026-03-31")
    assert rem.done(code, by="telegram:lan")["occurrence"] == "2026-03-31"

    # one line added to the plan (a trailing note), re-indexed the way /reindex does
    with plan.open("a", encoding="utf-8") as f:
        f.write("\nGhi chú: bản cập nhật ngày 31/3/2026.\n")
    corpus_index_settings(plan.parent, settings.data_dir)
    rem = Reminders(settings.db_path, settings)
    asyncio.run(rem.tick(sender, morning + timedelta(minutes=5)))
    assert len(sender.sent) == first  # the morning's reminders are not sent again
    asyncio.run(rem.tick(sender, at8(date(2026, 4, 1)) + timedelta(minutes=1)))
    assert not [text for _, _, _, text in sender.sent[first:] if QUARTERLY[:40] in text and "quá hạn" in text]

    # the task's own text changes: a new task, reminded anew
    before = len(sender.sent)
    _edit(plan, "Theo dõi, đôn đốc các bộ phận", "Theo dõi, kiểm tra, đôn đốc các bộ phận")
    corpus_index_settings(plan.parent, settings.data_dir)
    rem = Reminders(settings.db_path, settings)
    changed = next(t for t in rem.load_tasks() if t.title.startswith("Theo dõi, kiểm tra, đôn đốc"))
    assert changed.id != quarterly.id
    asyncio.run(rem.tick(sender, at8(date(2026, 4, 1)) + timedelta(minutes=10)))
    assert any("Theo dõi, kiểm tra, đôn đốc" in text and chat == "lan" for _, _, chat, text in sender.sent[before:])


def test_task_ids_and_codes_survive_an_edit_of_the_plan(tmp_path, corpus_index_settings):
    settings, plan = _index_after_edit(tmp_path, corpus_index_settings)
    rem = Reminders(settings.db_path, settings)
    before = {t.title: t.id for t in rem.load_tasks()}
    quarterly = next(t for t in rem.load_tasks() if t.title.startswith(QUARTERLY))
    code = rem.code_for(quarterly.id, "2026-03-31")
    rem._flush_codes()
    rem.db.conn.commit()
    plan.write_bytes(plan.read_bytes() + b" ")  # one byte
    corpus_index_settings(plan.parent, settings.data_dir)
    rem = Reminders(settings.db_path, settings)
    after = {t.title: t.id for t in rem.load_tasks()}
    assert after == before
    task = rem.find_task(code)
    assert task is not None and task.id == quarterly.id
