"""Who leads and who coordinates, read from a sentence, a labelled line or a table cell.

One grammar for every place a plan assigns work:
- a unit list followed by its role verb: "Sở KH&CN chủ trì hướng dẫn; các sở, ngành thực hiện",
  "Sở Nội vụ chủ trì tham mưu …; Sở Tư pháp và các sở … chủ động tổ chức triển khai";
- "phối hợp (với) <units>" anywhere in the sentence;
- the inline form "(Giao Công an tỉnh chủ trì, phối hợp với Văn phòng UBND tỉnh; Sở Tư pháp … tham mưu)";
- labelled lines "Cơ quan chủ trì: …", "Cơ quan phối hợp: …", "Thời gian thực hiện: …", "Sản phẩm: …";
- cross-references "chủ trì triển khai các nhiệm vụ tại mục (IV) (2)".
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .textnorm import fold, normalize
from .units import display_name, is_collective, looks_like_unit, split_units, unit_at_start


@dataclass
class Assignment:
    lead: list[str] = field(default_factory=list)
    coord: list[str] = field(default_factory=list)
    executing: list[str] = field(default_factory=list)  # named as doing the work, without "chủ trì"

    def leads(self) -> list[str]:
        """Explicit leads, else the executing units (a unit that 'thực hiện' a task is its lead)."""
        return self.lead or self.executing

    def empty(self) -> bool:
        return not (self.lead or self.coord or self.executing)


_LEAD_VERB = re.compile(r"^(?:là\s+(?:cơ quan|đơn vị)\s+)?(?:chủ trì|chịu trách nhiệm chính|đầu mối|thường trực)", re.I)
_COORD_VERB = re.compile(r"^(?:phối hợp|tham gia|cùng)\b", re.I)
_EXEC_VERB = re.compile(
    r"^(?:thực hiện|tham mưu|triển khai|tổ chức|chủ động|có trách nhiệm|hướng dẫn|xây dựng|rà soát|tiến hành|"
    r"theo dõi|kiểm tra|đôn đốc|bố trí|cung cấp|cập nhật|nghiên cứu|giúp|phụ trách|đảm nhiệm|quản lý|vận hành|"
    r"tuyên truyền|căn cứ|trên cơ sở|báo cáo|tổng hợp|ban hành)\b", re.I)
_WITH = re.compile(r"(?i)phối hợp(?:\s+chặt chẽ)?(?:\s+với)?\s+")
_UNTIL_VERB = re.compile(
    r"(?i)\s+(?:để|nhằm|trong việc|tham mưu|thực hiện|triển khai|tổ chức|xây dựng|hướng dẫn|kiểm tra|rà soát|"
    r"giúp|tiến hành|theo dõi|lập|trình|đề xuất|báo cáo|cung cấp|bảo đảm|đảm bảo|tuyên truyền|ban hành|"
    r"hoàn thiện|nghiên cứu|cập nhật|thu thập|chủ trì|thẩm định|thông báo|khẩn trương|kịp thời|chặt chẽ|"
    r"thường xuyên|giải quyết|xử lý|đánh giá|vận động|chỉ đạo|quản lý)\b|[;.:()]")


def _units_in(phrase: str) -> list[str]:
    """Unit names in a phrase, each cut at its first verb ("các đơn vị liên quan tăng cường …" -> "các đơn vị
    liên quan")."""
    out = []
    for u in split_units(phrase):
        if not (looks_like_unit(u) or is_collective(u)):
            continue
        head = unit_at_start(u)
        out.append(display_name(head[0] if head else u))
    return out


def units_after_with(text: str) -> list[str]:
    """Units named after 'phối hợp (với)' in a sentence."""
    return _coords_after_with(text)


def _coords_after_with(text: str) -> list[str]:
    out: list[str] = []
    for m in _WITH.finditer(text):
        tail = text[m.end():]
        stop = _UNTIL_VERB.search(tail)
        phrase = tail[: stop.start()] if stop else tail
        out.extend(_units_in(phrase))
    return out


def parse_assignment(text: str) -> Assignment:
    """Leads, coordinators and executing units named in one sentence or cell."""
    a = Assignment()
    t = normalize(text.replace("\n", "; "))
    t = re.sub(r"(?i)^\(?\s*giao\s+", "", t).strip(" ()")
    for clause in re.split(r"\s*;\s*|\.\s+(?=[A-ZĐÀ-Ỹ])", t):
        clause = clause.strip(" ,.()")
        if not clause:
            continue
        head = unit_at_start(clause)
        if head is None:
            continue
        name_part, rest = head
        # The unit part may list several units: "Sở Tư pháp và các sở, ban, ngành Thành phố, Đài …"
        cut = len(clause) - len(rest) if rest and clause.endswith(rest) else len(clause)
        units = _units_in(clause[:cut]) or [name_part]
        rest_s = rest.lstrip(" ,")
        if _LEAD_VERB.match(rest_s):
            a.lead.extend(units)
        elif _COORD_VERB.match(rest_s):
            a.coord.extend(units)
        else:
            a.executing.extend(units)
        a.coord.extend(_coords_after_with(rest))
    # Dedupe, and a unit is never both lead and coordinator.
    a.lead = list(dict.fromkeys(a.lead))
    a.executing = [u for u in dict.fromkeys(a.executing) if u not in a.lead]
    a.coord = [u for u in dict.fromkeys(a.coord) if u not in a.lead and u not in a.executing]
    return a


# "(Giao Công an tỉnh chủ trì, phối hợp với …)", "(giao Sở Nội vụ thực hiện)"
_INLINE = re.compile(r"\(\s*(?i:giao)\s+(?P<body>[^()]{5,400})\)")
# "Giao Công an tỉnh chủ trì phối hợp với …" at the start of an item.
_GIAO_START = re.compile(r"^(?i:giao)\s+(?P<body>.{5,400})$")


def inline_assignment(text: str) -> tuple[Assignment, str] | None:
    """An assignment written inside a task sentence: the assignment and the sentence it sits in."""
    t = normalize(text)
    m = _INLINE.search(t) or _GIAO_START.match(t)
    if m:
        a = parse_assignment(m.group("body"))
        if not a.empty():
            return a, m.group(0)
    return None


# An introductory clause before the subject ("Trên cơ sở đề nghị của UBND quận, huyện, Sở Xây dựng chủ trì …",
# "Sau khi UBND Thành phố phê duyệt Đề án, Sở Xây dựng …"): the main clause starts after one of its commas.
_INTRO = re.compile(r"^(?:tren co so|can cu|sau khi|truoc khi|theo|de|khi|trong qua trinh|tu ket qua|thuc hien)\b")


def main_clause(text: str) -> str:
    """The sentence from its subject on: after an introductory clause, the first comma followed by a unit's
    name and a verb; the sentence itself when it has no such clause."""
    if not _INTRO.match(fold(text.lstrip(" -+•*"))):
        return text
    for m in re.finditer(r",\s*", text):
        head = unit_at_start(text[m.end():])
        if head is not None and head[1]:
            return text[m.end():]
    return text


def subject_assignment(text: str) -> Assignment | None:
    """'Sở Khoa học và Công nghệ chủ trì, phối hợp với … tổ chức …': a sentence whose subject is a unit and
    whose verb is 'chủ trì' (or 'phối hợp'), after an introductory clause if it has one."""
    head = unit_at_start(text)
    if head is None:
        text = main_clause(text)
        head = unit_at_start(text)
    if head is None:
        return None
    _, rest = head
    r = rest.lstrip(" ,")
    if _LEAD_VERB.match(r) or _COORD_VERB.match(r) or re.match(r"(?i)(?:có|chịu) trách nhiệm\b", r):
        a = parse_assignment(text.split(";")[0])
        return a if not a.empty() else None
    return None


# ----------------------------------------------------------------------------------------- labelled lines

_LABELS: list[tuple[str, re.Pattern]] = [
    ("coord", re.compile(r"^(?:co quan|don vi|cac co quan|cac don vi)?\s*phoi hop")),
    ("lead", re.compile(r"^(?:co quan|don vi|cac co quan|cac don vi|bo phan)?\s*(?:chu tri|tham muu|thuc hien|phu trach|"
                        r"dau moi|giao)(?:\s*\((?:tham muu|chu tri)\))?(?:\s+(?:thuc hien|tham muu))?$"
                        r"|^(?:co quan|don vi)\s+(?:chu tri|thuc hien|tham muu|phu trach)")),
    ("time", re.compile(r"^(?:thoi gian|thoi han|tien do|moc thoi gian)(?:\s+\w+){0,3}$")),
    ("output", re.compile(r"^(?:san pham|ket qua)(?:\s+\w+){0,3}$")),
    ("task", re.compile(r"^noi dung(?:\s+\w+){0,3}$")),
    ("funding", re.compile(r"^(?:kinh phi|nguon kinh phi|nguon von)(?:\s+\w+){0,3}$")),
]
_LABEL_LINE = re.compile(r"^[-+•*]?\s*(?:[a-zđ][).]\s*)?(?P<label>[^:]{3,60}?)\s*:\s*(?P<value>.+)$", re.S)


def labelled_field(text: str) -> tuple[str, str] | None:
    """'- Cơ quan chủ trì (tham mưu) thực hiện: Sở Tư pháp' -> ('lead', 'Sở Tư pháp'); None for other lines."""
    m = _LABEL_LINE.match(normalize(text))
    if not m:
        return None
    label = fold(m.group("label")).strip(" -*")
    value = m.group("value").strip()
    if not value:
        return None
    for role, rx in _LABELS:
        if rx.search(label):
            return role, value
    return None


# ----------------------------------------------------------------------------------------- cross-references

_XREF = re.compile(
    r"(?i)(?:nhiệm vụ|nội dung|giải pháp)[^.;]{0,40}?\s(?:tại|ở|theo|thuộc)\s+(?P<ref>(?:(?:mục|điểm|khoản|phần|"
    r"tiểu mục)\s*[(\dIVXLivx.,)\s]+(?:và\s+)?)+)")
_REF_TOKEN = re.compile(r"\(?\b([IVXL]{1,5}|\d{1,2}(?:\.\d{1,2})*)\b\)?")


def cross_references(text: str) -> list[list[str]]:
    """Section paths a duty refers to: 'các nhiệm vụ tại mục (IV) (2)' -> [['IV', '2']];
    'tại mục IV.1, IV.2' -> [['IV', '1'], ['IV', '2']]; 'khoản 2 mục III' -> [['III', '2']]."""
    out: list[list[str]] = []
    for m in _XREF.finditer(normalize(text)):
        ref = m.group("ref")
        k = re.search(r"(?i)khoản\s+(\d{1,2})\s+(?:mục|phần)\s+([IVXL]{1,5})", ref)
        if k:
            out.append([k.group(2), k.group(1)])
            continue
        tokens = [t for t in _REF_TOKEN.findall(ref)]
        path: list[str] = []
        for tok in tokens:
            parts = tok.split(".")
            if re.fullmatch(r"[IVXL]{1,5}", parts[0]):
                if path and re.fullmatch(r"[IVXL]{1,5}", path[0]) and len(path) > 1:
                    out.append(path)
                path = parts if len(parts) > 1 else [parts[0]]
                if len(parts) > 1:
                    out.append(path)
                    path = [parts[0]]
            elif path:
                out.append([path[0], tok])
        if path and len(path) == 1 and not any(p[0] == path[0] for p in out):
            out.append(path)
    uniq: list[list[str]] = []
    for p in out:
        if p not in uniq:
            uniq.append(p)
    return uniq
