"""Domain records shared by extraction, storage, answers and reminders."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Chunk:
    id: str  # stable: document hash + position
    document: str  # file name
    doc_id: str  # content hash of the file
    locality: str
    title: str  # plan title ("KẾ HOẠCH Cải cách hành chính năm 2026")
    section: str  # section path, " > " separated
    heading: str  # innermost heading text
    kind: str  # "paragraph" | "table_row" | "procedure"
    text: str  # the chunk's own text (normalized)
    position: int = 0
    lines: list[str] = field(default_factory=list)  # quotable units (sentences/list items or one row)


@dataclass
class Task:
    """One task of a plan, from an appendix table row or a prose sentence.

    Table `tasks` in SQLite holds these; list fields are stored as JSON.
    """

    id: str  # stable across re-index of an unchanged file
    doc_id: str
    document: str
    plan_title: str
    locality: str
    area: str  # CCHC area ("Cải cách thủ tục hành chính", ...) or ""
    section: str
    title: str  # task text (nhiệm vụ / hoạt động)
    output: str = ""  # kết quả / sản phẩm
    lead: list[str] = field(default_factory=list)  # canonical unit names
    coordinate: list[str] = field(default_factory=list)
    deadline_text: str = ""
    deadline_kind: str = "unspecified"  # date|period_end|recurring|ongoing|conditional|unspecified
    due: str | None = None  # ISO date of the (first) due date, when there is one
    deadline: dict = field(default_factory=dict)  # full normalized form (index.deadlines.Deadline.to_dict())
    source_kind: str = "table_row"  # "table_row" | "sentence"
    quote: str = ""  # the row (rendered with column names) or the sentence
    lead_inferred: bool = False
    inferred_from: str = ""  # the sentence that justifies an inferred lead
    raw_cells: dict = field(default_factory=dict)  # the row's cells as read, for ambiguous rows
    note: str = ""  # e.g. "ambiguous row: lead cell empty in group"
    origin: str = ""  # row | labelled | duty | inline | xref | body | sentence: how the task was found
    owner: str = ""  # the unit whose duty section lists it ("Tổ chức thực hiện > 3. Sở Nội vụ"), lead or not
    cite: str = ""  # "Kế hoạch số 141/KH-UBND ngày 20/11/2025 của UBND tỉnh Bắc Ninh"
    issuer: str = ""  # "UBND tỉnh Bắc Ninh"
    status: str = ""  # new | changed | unchanged — against the previous index of the same plan
    corrected_by: str = ""  # an officer's correction (index.corrections), who
    corrected_at: str = ""  # and when (ISO)
