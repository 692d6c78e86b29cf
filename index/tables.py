"""Task tables (Phụ lục): header detection whatever its wording, repeated page headers, group rows,
continuation rows split across pages, vertically merged cells.

Produces `TableRow`s: one per activity, with the cells of the columns it spans (goal, task, activity, output,
lead, coordinate, time) and notes about what was inherited from the row above.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .elements import Table
from .textnorm import fold, normalize
from .units import is_collective, looks_like_unit

ROLES = ("stt", "goal", "task", "activity", "output", "lead", "coord", "time", "funding", "note")
ROLE_LABELS = {
    "goal": "Mục tiêu",
    "task": "Nhiệm vụ",
    "activity": "Hoạt động",
    "output": "Kết quả/sản phẩm",
    "lead": "Chủ trì",
    "coord": "Phối hợp",
    "time": "Thời gian",
    "funding": "Kinh phí",
    "note": "Ghi chú",
}

# Ordered: first match wins, so the specific phrases come before the generic ones.
_HEADER_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("stt", re.compile(r"^(stt|tt|so tt|so thu tu)\.?$")),
    ("coord", re.compile(r"phoi hop")),
    # time before lead: "Thời gian thực hiện" ends like a lead header ("… thực hiện") but is the time column
    ("time", re.compile(r"thoi gian|thoi han|tien do|han hoan thanh|moc thoi gian|nam thuc hien|lo trinh thuc hien")),
    ("lead", re.compile(r"chu tri|don vi thuc hien|co quan thuc hien|don vi phu trach|co quan phu trach|thuc hien$"
                        r"|co quan tham muu|don vi tham muu|co quan, don vi thuc hien")),
    ("funding", re.compile(r"kinh phi|nguon von|du toan")),
    ("output", re.compile(r"ket qua|san pham|hinh thuc")),
    ("activity", re.compile(r"hoat dong|giai phap|cong viec cu the")),
    ("goal", re.compile(r"muc tieu|chi tieu")),
    ("task", re.compile(r"nhiem vu|noi dung|ten (nhiem vu|cong viec|de an|du an)|cong viec|de an|du an")),
    ("note", re.compile(r"ghi chu")),
]
_ROMAN = re.compile(r"^(I|II|III|IV|V|VI|VII|VIII|IX|X|XI|XII)\.?$")
_COLNUM = re.compile(r"^\(?\d{1,2}\)?$")


def header_roles(row: list[str]) -> list[str | None] | None:
    """Roles of a header row's columns, or None when the row is not a header."""
    roles: list[str | None] = []
    found = 0
    for cell in row:
        f = fold(cell)
        role = None
        if f and len(f) <= 60:
            for name, rx in _HEADER_PATTERNS:
                if rx.search(f):
                    role = name
                    break
        if role:
            found += 1
        roles.append(role)
    if found < 2:
        return None
    if not ({"task", "activity", "goal"} & set(roles)) or not ({"lead", "time", "coord"} & set(roles)):
        return None
    return roles


@dataclass
class TableRow:
    cells: dict[str, str]  # role -> text (after inheritance)
    raw: dict[str, str]  # role -> text as read
    group: str  # "I. CẢI CÁCH THỂ CHẾ"
    stt: str
    inherited: list[str] = field(default_factory=list)  # roles filled from the row above (merged cells)
    note: str = ""

    @property
    def title(self) -> str:
        return self.cells.get("activity") or self.cells.get("task") or self.cells.get("goal") or ""

    def render(self) -> str:
        """The row with its column names: 'Nhiệm vụ: … | Chủ trì: … | Phối hợp: … | Thời gian: …'."""
        parts = []
        for role in ("goal", "task", "activity", "output", "lead", "coord", "time", "note"):
            v = self.cells.get(role)
            if v:
                parts.append(f"{ROLE_LABELS[role]}: {v}")
        return " | ".join(parts)


def _starts_lower(text: str) -> bool:
    t = text.lstrip("(\"'“ ")
    return bool(t) and (t[0].islower() or t[0] in ",;")


def _realign(row: list[str], roles: list[str | None]) -> tuple[list[str], bool]:
    """A row shifted left by k cells (k empty cells at its end, an empty last column) is shifted back
    when that puts a unit name in the lead column. Anything else is left as read."""
    if "lead" not in roles or not row or row[-1].strip():
        return row, False
    k = 0
    while k < len(row) and not row[-1 - k].strip():
        k += 1
    if k == 0 or k >= len(row) - 1:
        return row, False
    lead_col = roles.index("lead")
    if lead_col - k < 0 or row[lead_col].strip() and looks_like_unit(row[lead_col]):
        return row, False
    candidate = row[lead_col - k]
    if not (looks_like_unit(candidate) or is_collective(candidate)):
        return row, False
    first = next((i for i, c in enumerate(row) if c.strip()), 0)
    keep = row[:first]  # STT (possibly empty) stays where it is
    body = row[first:len(row) - k]
    shifted = keep + [""] * k + body
    return shifted[: len(row)], True


def _looks_like_time(cell: str) -> bool:
    f = fold(cell)
    return bool(re.search(r"\b(20\d\d|19\d\d|quy [ivx1-4]|thuong xuyen|hang (nam|quy|thang)|hang nam|dinh ky|"
                          r"hang quy|truoc ngay|thang \d|khi co|sau khi|theo (quy dinh|tien do|ke hoach|lo trinh))",
                          f)) and len(cell) <= 160


def _fit(cell: str, role: str | None) -> float:
    """How well a cell's content fits a column role (ragged rows are aligned by this)."""
    unit = looks_like_unit(cell) or is_collective(cell)
    if role == "stt":
        return 3.0 if re.fullmatch(r"\(?([0-9]{1,3}|[IVXL]{1,5}|[a-zđ])[.)]?", cell.strip()) else -5.0
    if role in ("lead", "coord"):
        return 2.0 if unit and len(cell) < 300 else -2.0
    if role == "time":
        return 2.0 if _looks_like_time(cell) else -2.0
    if role in ("task", "activity", "goal"):
        return -1.0 if unit and len(cell) < 120 else 1.0
    return -1.0 if unit else 0.0


def _align(cells: list[str], roles: list[str | None]) -> list[str]:
    """Place the cells of a row drawn without its merged cells under the columns they fit best, in order
    (dynamic programming over monotone assignments); missing columns stay empty and are inherited later."""
    k, n = len(cells), len(roles)
    if k >= n:
        return cells[:n]
    NEG = float("-inf")
    # best[i][j]: best score placing cells[:i] in columns[:j]
    best = [[NEG] * (n + 1) for _ in range(k + 1)]
    take = [[False] * (n + 1) for _ in range(k + 1)]
    for j in range(n + 1):
        best[0][j] = 0.0
    for i in range(1, k + 1):
        for j in range(i, n + 1):
            skip = best[i][j - 1]
            use = best[i - 1][j - 1] + _fit(cells[i - 1], roles[j - 1]) - 0.01 * (j - 1)
            if use >= skip:
                best[i][j], take[i][j] = use, True
            else:
                best[i][j] = skip
    out = [""] * n
    i, j = k, n
    while i > 0 and j > 0:
        if take[i][j]:
            out[j - 1] = cells[i - 1]
            i, j = i - 1, j - 1
        else:
            j -= 1
    return out


def parse_task_table(table: Table) -> list[TableRow] | None:
    """Rows of a task table, or None when the table has no recognisable header."""
    rows = table.rows
    header_idx = None
    roles: list[str | None] | None = None
    for i, row in enumerate(rows[:6]):
        roles = header_roles(row)
        if roles:
            header_idx = i
            # Two-line header: "Đơn vị thực hiện" over "Chủ trì | Phối hợp".
            if i + 1 < len(rows):
                sub = rows[i + 1]
                sub_roles = [None] * len(sub)
                for j, cell in enumerate(sub):
                    f = fold(cell)
                    for name, rx in _HEADER_PATTERNS:
                        if f and len(f) <= 40 and rx.search(f):
                            sub_roles[j] = name
                            break
                if sum(1 for r in sub_roles if r) >= 2:
                    roles = [s or r for r, s in zip(roles, sub_roles)]
                    header_idx = i + 1
            break
    if header_idx is None or roles is None:
        return None
    header_keys = [fold(c) for c in rows[header_idx]]
    top_header_keys = [fold(c) for c in rows[header_idx - 1]] if header_idx > 0 else None

    def cells_of(row: list[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for role, cell in zip(roles, row):
            if role and cell and role not in out:
                out[role] = normalize(cell.replace("\n", " "))
            elif role and cell and out.get(role) != cell:
                out[role] = normalize(out[role] + " " + cell)
        return out

    result: list[TableRow] = []
    group = ""
    current: dict[str, str] = {}  # values that merged cells carry down
    after_break = False
    for i, row in enumerate(rows[header_idx + 1 :], start=header_idx + 1):
        keys = [fold(c) for c in row]
        if keys == header_keys or keys == top_header_keys or header_roles(row) == roles:
            after_break = True  # a page's repeated header: the next row may continue the previous one
            continue
        nonempty = [c for c in row if c.strip()]
        if not nonempty or all(_COLNUM.match(c.strip()) for c in nonempty):
            continue
        ragged_row = table.ragged and len(nonempty) < len(roles)
        if ragged_row:
            row, shifted = _align(nonempty, roles), False
        else:
            row, shifted = _realign(row, roles)
        cells = cells_of(row)
        stt = cells.pop("stt", "").strip()
        if len(cells) > 1 and len(set(cells.values())) == 1:
            # A horizontally merged cell (DOCX gridSpan) repeats one text across columns: one value.
            first_role = next(r for r in roles if r in cells)
            cells = {first_role: next(iter(cells.values()))}
        content_roles = [r for r in ("task", "activity", "output", "lead", "coord", "time") if cells.get(r)]
        bold_row = bool(table.bold) and i < len(table.bold) and any(table.bold[i])
        # Group row: Roman numeral, or a single bold/upper-case cell.
        single = next(iter(cells.values())) if len(cells) == 1 else ""
        if (_ROMAN.match(stt) and not content_roles) or (
            single and (_ROMAN.match(stt) or not stt)
            and (_ROMAN.match(stt) or bold_row or single.isupper())
            and not single.endswith(("%", ".")) and len(single) < 200
        ):
            text = " ".join(cells.values()).strip()
            group = f"{stt}. {text}" if stt else text
            current = {}
            after_break = False
            continue
        # Continuation of the row cut by a page break: lower-case cells append to the row above.
        if after_break and result:
            prev = result[-1]
            cont_roles = [r for r, v in cells.items() if _starts_lower(v)]
            for r in cont_roles:
                if r in ("goal", "task"):
                    current[r] = normalize(current.get(r, "") + " " + cells[r])
                    for earlier in reversed(result):
                        if earlier.raw.get(r) or r in earlier.inherited:
                            earlier.cells[r] = current[r]
                        if earlier.raw.get(r):
                            break
                else:
                    prev.cells[r] = normalize(prev.cells.get(r, "") + " " + cells[r])
                    prev.raw[r] = prev.cells[r]
                cells.pop(r)
            after_break = False
            if not [r for r in ("activity", "output", "lead", "coord", "time") if cells.get(r)] and not (
                cells.get("task") and not stt
            ):
                if cells.get("goal") or cells.get("task"):
                    current.update({k: v for k, v in cells.items() if k in ("goal", "task")})
                continue
        after_break = False
        # A goal-only row ("3 | Thực hiện cơ chế một cửa") opens a sub-group.
        if stt and cells.get("goal") and not [r for r in ("task", "activity", "output", "lead", "time") if cells.get(r)]:
            current = {"goal": cells["goal"]}
            continue
        if cells.get("goal"):
            current = {"goal": cells["goal"]}
        if cells.get("task"):
            current["task"] = cells["task"]
            for r in ("lead", "coord", "time"):
                current.pop(r, None) if cells.get(r) else None
        raw = dict(cells)
        inherited: list[str] = []
        for r in ("goal", "task"):
            if not cells.get(r) and current.get(r):
                cells[r] = current[r]
                inherited.append(r)
        # Lead and coordinators sit in merged cells: an empty lead takes the block above (lead and coord
        # together); an explicit lead with an empty coord means no coordinator.
        if not cells.get("lead") and current.get("lead"):
            cells["lead"] = current["lead"]
            inherited.append("lead")
            if not cells.get("coord") and current.get("coord"):
                cells["coord"] = current["coord"]
                inherited.append("coord")
        if ragged_row and not cells.get("coord") and current.get("coord"):
            # A row drawn without some of its cells: every missing cell is one merged with the row above.
            cells["coord"] = current["coord"]
            inherited.append("coord")
        if not cells.get("time") and current.get("time"):
            cells["time"] = current["time"]
            inherited.append("time")
        for r in ("lead", "coord", "time"):
            if raw.get(r):
                current[r] = raw[r]
        if raw.get("lead") and not raw.get("coord") and not ragged_row:
            current.pop("coord", None)
        note = "dòng bị lệch cột trong bản gốc, đã căn lại theo cột Chủ trì" if shifted else ""
        if not cells.get("lead"):
            note = "dòng không ghi đơn vị chủ trì"
        elif "lead" in inherited:
            note = (note + "; " if note else "") + "đơn vị chủ trì lấy từ ô gộp của dòng trên"
        result.append(TableRow(cells=cells, raw=raw, group=group, stt=stt, inherited=inherited, note=note))
    return result
