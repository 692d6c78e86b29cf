"""A generated plan, staff and a recording sender for the reminder tests (also used by tests/fault_sender.py)."""
from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlite_utils

from index.deadlines import parse_deadline, plan_period
from index.records import Task

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PLAN = "KẾ HOẠCH Cải cách hành chính năm 2026 của xã Hải Hậu"
VHXH = "Phòng Văn hóa - Xã hội"
KT = "Phòng Kinh tế"
VP = "Văn phòng HĐND và UBND"
TT = "Trung tâm Phục vụ hành chính công"

D = date
# id: (title, lead, coordinate, deadline text, occurrences in 2026 written by hand, locality)
PLAN_TASKS = {
    "t-date": ("Xây dựng Kế hoạch kiểm tra công tác CCHC", [VHXH], [VP], "Trước ngày 15/3/2026",
               [D(2026, 3, 15)], "xã Hải Hậu"),
    "t-quarter": ("Rà soát, đánh giá thủ tục hành chính", [KT], [], "Quý II/2026", [D(2026, 6, 30)], "xã Hải Hậu"),
    "t-month": ("Công khai kết quả Bộ chỉ số phục vụ", [TT], [], "Tháng 02/2026", [D(2026, 2, 28)], "xã Hải Hậu"),
    "t-half": ("Sơ kết 6 tháng công tác CCHC", [VP], [VHXH], "6 tháng đầu năm 2026", [D(2026, 6, 30)], "xã Hải Hậu"),
    "t-hq": ("Báo cáo kết quả CCHC quý", [VHXH], [], "Hàng quý",
             [D(2026, 3, 31), D(2026, 6, 30), D(2026, 9, 30), D(2026, 12, 31)], "xã Hải Hậu"),
    "t-hq15": ("Tự đánh giá, chấm điểm chỉ số CCHC", [KT], [VHXH], "Hàng quý (trước ngày 15 của tháng cuối quý)",
               [D(2026, 3, 15), D(2026, 6, 15), D(2026, 9, 15), D(2026, 12, 15)], "xã Hải Hậu"),
    "t-hn": ("Kiểm tra công tác CCHC tại các bộ phận", [VP], [], "Hằng năm", [D(2026, 12, 31)], "xã Hải Hậu"),
    "t-hn1012": ("Báo cáo CCHC năm", ["Phòng Văn hoá – Xã hội"], [], "trước ngày 10/12 hằng năm",
                 [D(2026, 12, 10)], "Hải Hậu"),
    "t-done": ("Cập nhật cơ sở dữ liệu cán bộ, công chức", [KT], [], "Tháng 5/2026", [D(2026, 5, 31)], "xã Hải Hậu"),
    "t-snooze": ("Số hóa hồ sơ thủ tục hành chính", [VP], [], "Tháng 7/2026", [D(2026, 7, 31)], "xã Hải Hậu"),
    "t-override": ("Triển khai văn bản mới về TTHC", [TT], [], "Theo quy định", [D(2026, 9, 10)], "xã Hải Hậu"),
    "t-ongoing": ("Tuyên truyền về cải cách hành chính", ["Các cơ quan, đơn vị"], [], "Thường xuyên", [],
                  "xã Hải Hậu"),
    "t-cond": ("Triển khai hướng dẫn của tỉnh", [VHXH], [], "Khi có văn bản chỉ đạo", [], "xã Hải Hậu"),
    "t-periodic": ("Kiểm tra đột xuất", [VHXH], [], "Định kỳ trong năm", [], "xã Hải Hậu"),
    "t-other": ("Cải cách tài chính công", [KT], [], "Quý III/2026", [D(2026, 9, 30)], "phường Chơn Thành"),
}

# name, unit, locality, channel, chat id, quiet hours
STAFF = [
    ("Chị Lan", "Phòng Văn hoá – Xã hội", "Hải Hậu", "telegram", "lan", None),  # focal unit
    ("Anh Minh", "phong kinh te", "Xã Hải Hậu", "zalo", "minh", ("07:30", "09:15")),
    ("Chị Hoa", "Văn phòng HĐND - UBND", "Hải Hậu", "console", "hoa", None),
    ("Anh Tuấn", "Trung tâm phục vụ Hành chính công", "Hải Hậu", "telegram", "tuan", None),
    ("Chị Mai", "Phòng Kinh tế", "Chơn Thành", "telegram", "mai", None),
]


def build_db(path, tasks=PLAN_TASKS, staff=STAFF, focal=True) -> None:
    """Tasks (as the indexer stores them), focal unit and approved staff; every connection closed after, so the
    file (WAL checkpointed) can be copied."""
    from bot.staff import StaffRegistry

    db = sqlite_utils.Database(path)
    year, period = plan_period(PLAN)
    rows = []
    for tid, (title, lead, coord, text, _occ, loc) in tasks.items():
        dl = parse_deadline(text, plan_year=year, plan_period=period)
        rows.append(asdict(Task(
            id=tid, doc_id="doc1", document="kh-cchc-2026-generated.txt", plan_title=PLAN, locality=loc, area="",
            section="Phụ lục", title=title, lead=lead, coordinate=coord, deadline_text=text, deadline_kind=dl.kind,
            due=dl.due.isoformat() if dl.due else None, deadline=dl.to_dict(),
        )))
    db["tasks"].insert_all(rows, pk="id", replace=True)
    if focal:
        db["focal_units"].insert_all([{"locality": "xã Hải Hậu", "unit": "Phòng Văn hóa - Xã hội"}])
    reg = StaffRegistry(path)
    for name, unit, loc, channel, chat, quiet in staff:
        reg.add_approved(name, unit, loc, channel, chat, quiet_start=quiet[0] if quiet else None,
                         quiet_end=quiet[1] if quiet else None)
    reg.db.conn.close()
    db.conn.close()


def local(y, m, d, hh=0, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ).astimezone(timezone.utc)


def at8(d: date) -> datetime:
    return datetime.combine(d, time(8), tzinfo=TZ).astimezone(timezone.utc)


class RecordingSender:
    """The fake platform: remembers every accepted message with the (fake) time it was sent."""

    channels = ("telegram", "zalo", "console")

    def __init__(self, clock):
        self.clock = clock
        self.sent: list[tuple[datetime, str, str, str]] = []

    async def send(self, channel, chat_id, text):
        self.sent.append((self.clock(), channel, chat_id, text))


class FileLogSender:
    """Fake platform for the kill test: appends one line per accepted message (fsync'd) — before the
    bot commits 'sent' — so the log is the ground truth of what reached people."""

    channels = ("telegram", "zalo", "console")

    def __init__(self, path, latency: float = 0.0):
        import os

        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.latency = latency

    async def send(self, channel, chat_id, text):
        import os
        import time as t

        if self.latency:
            t.sleep(self.latency)  # request on the wire
        os.write(self.fd, (json.dumps({"chat_id": chat_id, "text": text}, ensure_ascii=False) + "\n").encode())
        os.fsync(self.fd)
        if self.latency:
            t.sleep(self.latency)  # the platform's answer on the wire: a kill here makes a duplicate


def ticks(start: datetime, end: datetime, step: timedelta, extra_local_times=()):
    """Tick instants from start to end, plus the given local times of every day."""
    out = set()
    t = start
    while t <= end:
        out.add(t)
        t += step
    d = start.astimezone(TZ).date()
    while d <= end.astimezone(TZ).date():
        for hh, mm in extra_local_times:
            x = datetime.combine(d, time(hh, mm), tzinfo=TZ).astimezone(timezone.utc)
            if start <= x <= end:
                out.add(x)
        d += timedelta(days=1)
    return sorted(out)
