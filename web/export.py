"""The filtered task list as an XLSX workbook (openpyxl): what the officer sees, for a meeting or a report."""
from __future__ import annotations

from datetime import date
from io import BytesIO
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .data import TaskRow, fmt_time

COLUMNS = [  # (header, width)
    ("Địa bàn", 18), ("Lĩnh vực", 24), ("Nhiệm vụ", 60), ("Chủ trì", 30), ("Chủ trì suy ra", 10),
    ("Phối hợp", 30), ("Thời hạn (theo văn bản)", 26), ("Hạn (ngày)", 12), ("Hiệu chỉnh bởi", 18),
    ("Hiệu chỉnh lúc", 18), ("Văn bản", 30), ("Mục", 30), ("Dòng trích dẫn", 80), ("Mã nhiệm vụ", 14),
]


def tasks_xlsx(rows: list[TaskRow], title: str, tz: ZoneInfo) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Nhiệm vụ"
    ws.append([h for h, _ in COLUMNS])
    for i, (_, width) in enumerate(COLUMNS, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDE7F0")
    for cell in ws[1]:
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for r in rows:
        t = r.task
        due = r.occurrences[0] if r.occurrences else _date(t.due)
        ws.append([
            t.locality, t.area, t.title, "; ".join(t.lead), "có" if t.lead_inferred else "",
            "; ".join(t.coordinate), t.deadline_text, due, t.corrected_by, fmt_time(t.corrected_at, tz),
            t.document, t.section, t.quote, t.id,
        ])
        ws.cell(ws.max_row, 8).number_format = "DD/MM/YYYY"
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(ws.max_row, 1)}"
    info = wb.create_sheet("Bộ lọc")
    info.append(["Danh sách nhiệm vụ", title])
    info.append(["Số nhiệm vụ", len(rows)])
    info.column_dimensions["A"].width, info.column_dimensions["B"].width = 22, 80
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _date(value) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
