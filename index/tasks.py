"""Task extraction: appendix table rows and prose ("Tổ chức thực hiện", body task lists) -> Task records.

Facts carry their provenance: the row rendered with its column names or the sentence, and `lead_inferred`
with the sentence that justifies a lead taken from an area assignment.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from .deadlines import parse_deadline, plan_period
from .records import Task
from .structure import Item, Plan, Section
from .tables import parse_task_table
from .textnorm import fold, normalize
from .units import display_name, is_collective, looks_like_unit, split_units, unit_key

# CCHC areas: canonical name and the folded phrases that name it.
AREAS: list[tuple[str, tuple[str, ...]]] = [
    ("Chỉ đạo, điều hành", ("chi dao, dieu hanh", "chi dao dieu hanh", "cong tac chi dao")),
    ("Cải cách thể chế", ("the che",)),
    ("Cải cách thủ tục hành chính", ("thu tuc hanh chinh", "tthc", "mot cua")),
    ("Cải cách tổ chức bộ máy", ("to chuc bo may", "cai cach bo may", "bo may hanh chinh")),
    ("Cải cách chế độ công vụ", ("che do cong vu", "cong chuc cong vu", "cong vu")),
    ("Cải cách tài chính công", ("tai chinh cong",)),
    ("Chính quyền điện tử, chính quyền số", (
        "chinh quyen dien tu", "chinh quyen so", "chinh phu dien tu", "chinh phu so", "chuyen doi so")),
    ("Thông tin, tuyên truyền", ("tuyen truyen",)),
]

_DEADLINE_IN_TEXT = re.compile(
    r"(trước ngày \d{1,2}/\d{1,2}(?:/\d{4})?|trước ngày \d{1,2} tháng \d{1,2}(?: năm \d{4})?"
    r"|(?:hàng|hằng) (?:năm|quý|tháng)|thường xuyên|định kỳ)",
    re.I,
)
_ORG_SECTION = re.compile(r"to chuc thuc hien|trach nhiem|phan cong")
_SKIP_PATH = re.compile(r"muc tieu|chi tieu|muc dich|yeu cau|kinh phi|can cu|noi nhan")
_SENTENCE_LEAD = re.compile(
    r"(?P<unit>(?:Phòng|Văn phòng|Trung tâm|Công an|Ban|Công chức|Đài|Bộ phận)\s[^,;:.()]{2,70}?)\s+"
    r"(?:chủ trì|là cơ quan chủ trì|là đơn vị chủ trì)"
)
_FOCAL = re.compile(r"thuong truc|dau moi|co quan tham muu|bo phan tham muu|don vi tham muu")


def areas_of(text: str) -> list[str]:
    f = fold(text)
    return [name for name, keys in AREAS if any(k in f for k in keys)]


def _task_id(doc_id: str, kind: str, ordinal: int, text: str) -> str:
    return hashlib.sha1(f"{doc_id}|{kind}|{ordinal}|{fold(text)[:80]}".encode()).hexdigest()[:12]


def _plan_task(plan: Plan, kind: str, ordinal: int, id_text: str, **fields) -> Task:
    """A Task carrying its plan's provenance (document, title, locality) and a stable id."""
    return Task(id=_task_id(plan.doc_id, kind, ordinal, id_text), doc_id=plan.doc_id, document=plan.document,
                plan_title=plan.title, locality=plan.locality, **fields)


def _deadline_fields(text: str, plan: Plan) -> dict:
    d = parse_deadline(text, plan_year=plan.plan_year, plan_period=_period_dates(plan))
    info = d.to_dict()
    return {
        "deadline_text": text,
        "deadline_kind": info.get("kind", "unspecified"),
        "due": info.get("due"),
        "deadline": info,
    }


def _period_dates(plan: Plan):
    """The plan's period: from its title when the title says it ("6 tháng cuối năm 2025" -> Jul–Dec),
    else the years found in the document."""
    _, period = plan_period(plan.title)
    if period:
        return period
    if not plan.period:
        return None
    from datetime import date

    return (date(plan.period[0], 1, 1), date(plan.period[1], 12, 31))


@dataclass
class Extraction:
    tasks: list[Task]
    units: dict[str, str]  # unit key -> display name (this plan)
    area_leads: dict[str, tuple[str, str]]  # area -> (unit, justifying sentence)
    focal_unit: str | None
    unspecified_deadlines: list[str]


def _canonical_units(names: list[str], registry: dict[str, str], locality_name: str) -> list[str]:
    out = []
    for n in names:
        n = display_name(n)
        if not n:
            continue
        key = unit_key(n, locality_name)
        registry.setdefault(key, n)
        if registry[key] not in out:
            out.append(registry[key])
    return out


def extract_tasks(plan: Plan) -> Extraction:
    registry: dict[str, str] = {}
    tasks: list[Task] = []
    ordinal = 0
    loc = plan.locality_name

    # 1) Appendix tables.
    for section, table in plan.tables:
        rows = parse_task_table(table)
        if not rows:
            continue
        for row in rows:
            ordinal += 1
            lead = _canonical_units(split_units(row.cells.get("lead", "")), registry, loc)
            coord = _canonical_units(split_units(row.cells.get("coord", "")), registry, loc)
            area = _area_from_group(row.group) or (areas_of(row.cells.get("goal", "")) or [""])[0]
            title = row.title
            tasks.append(
                _plan_task(
                    plan, "row", ordinal, title,
                    area=area,
                    section=" > ".join(x for x in [section.path_label(), row.group] if x),
                    title=title,
                    output=row.cells.get("output", ""),
                    lead=lead,
                    coordinate=coord,
                    source_kind="table_row",
                    quote=row.render(),
                    raw_cells=row.raw,
                    note=row.note,
                    **_deadline_fields(row.cells.get("time", ""), plan),
                )
            )

    # 2) Prose: unit sections under "Tổ chức thực hiện" / "Trách nhiệm".
    area_leads: dict[str, tuple[str, str]] = {}
    area_strength: dict[str, float] = {}
    focal: str | None = None
    for sec in plan.root.walk():
        if sec.rank < 0 or not looks_like_unit(sec.heading):
            continue
        if not any(_ORG_SECTION.search(fold(p.heading)) for p in sec.path()[:-1]):
            continue
        unit_name = _unit_from_heading(sec.heading)
        if not unit_name:
            continue
        collective = is_collective(unit_name)
        [unit] = _canonical_units([unit_name], registry, loc)
        if focal is None and not collective and any(_FOCAL.search(fold(i.text)) for i in sec.items[:3]):
            focal = unit  # "Là cơ quan thường trực / công chức đầu mối về CCHC"
        for item in _section_items(sec):
            ordinal += 1
            f = fold(item.text)
            lead: list[str] = [unit]
            coord: list[str] = []
            note = ""
            if f.startswith(("phoi hop", "de nghi")) or (f.startswith("tham gia") and "chu tri" not in f):
                m = re.match(r"(?i)phối hợp(?: với)?\s+(.+?)(?:\s+(?:tham mưu|trong|để|lập|thực hiện|triển khai)\b|[,;.]|$)", item.text)
                named = split_units(m.group(1)) if m else []
                named = [n for n in named if looks_like_unit(n)]
                lead = _canonical_units(named, registry, loc)
                coord = [unit]
                note = "đơn vị ở đề mục là đơn vị phối hợp"
            m_dl = _DEADLINE_IN_TEXT.search(item.text)
            dl = _deadline_fields(m_dl.group(0) if m_dl else "", plan)
            tasks.append(
                _plan_task(
                    plan, "duty", ordinal, item.text,
                    area=(areas_of(item.text) or [""])[0],
                    section=sec.path_label(),
                    title=item.text,
                    lead=lead,
                    coordinate=coord,
                    source_kind="sentence",
                    quote=item.text,
                    note=note,
                    **dl,
                )
            )
            # Area assignments: "chủ trì ... các nội dung về X; Y" makes this unit the lead of those areas.
            if lead == [unit] and not collective and re.search(r"chu tri|tham muu", f):
                for area in areas_of(item.text):
                    strength = _assignment_strength(f, area)
                    if area not in area_strength or strength < area_strength[area]:
                        area_strength[area] = strength
                        area_leads[area] = (unit, item.text)

    # 3) Prose: body task lists without a unit; the lead comes from the area assignments (inferred).
    for sec in plan.root.walk():
        if sec.rank < 0 or not sec.items:
            continue
        path = sec.path()
        path_f = [fold(p.heading) for p in path]
        if any(_ORG_SECTION.search(p) for p in path_f):
            continue
        if any(_SKIP_PATH.search(p) and "nhiem vu" not in p for p in path_f):
            continue  # targets, purposes, requirements, funding: not tasks
        area = ""
        for p in reversed(path):
            found = areas_of(p.heading)
            if found:
                area = found[0]
                break
        if not area:
            continue
        for item in sec.items:
            text = item.text
            if len(text) < 25:
                continue
            ordinal += 1
            lead: list[str] = []
            inferred = False
            justification = ""
            m = _SENTENCE_LEAD.search(text)
            if m and looks_like_unit(m.group("unit")):
                lead = _canonical_units([m.group("unit")], registry, loc)
            elif area in area_leads:
                lead = [area_leads[area][0]]
                inferred = True
                justification = area_leads[area][1]
            m_dl = _DEADLINE_IN_TEXT.search(text)
            tasks.append(
                _plan_task(
                    plan, "body", ordinal, text,
                    area=area,
                    section=sec.path_label(),
                    title=text,
                    lead=lead,
                    source_kind="sentence",
                    quote=text,
                    lead_inferred=inferred,
                    inferred_from=justification,
                    **_deadline_fields(m_dl.group(0) if m_dl else "", plan),
                )
            )

    # 4) Sentences with a concrete deadline anywhere else ("báo cáo năm gửi trước ngày 10/12 về ...").
    seen = {fold(t.quote) for t in tasks}
    for sec in plan.root.walk():
        for item in sec.items:
            m_dl = re.search(r"trước ngày \d{1,2}(?:/\d{1,2}|\s+tháng\s+\d{1,2})", item.text, re.I)
            if not m_dl or fold(item.text) in seen:
                continue
            ordinal += 1
            subject = re.match(r"^(?:[a-zđ][.)]\s*)?(.{3,80}?)\s+(chỉ đạo|thực hiện|gửi|báo cáo|có trách nhiệm)", item.text)
            lead = []
            if subject and (looks_like_unit(subject.group(1)) or is_collective(subject.group(1))):
                lead = _canonical_units([subject.group(1)], registry, loc)
            tasks.append(
                _plan_task(
                    plan, "sentence", ordinal, item.text,
                    area=(areas_of(item.text) or [""])[0],
                    section=sec.path_label(),
                    title=item.text,
                    lead=lead,
                    source_kind="sentence",
                    quote=item.text,
                    **_deadline_fields(m_dl.group(0), plan),
                )
            )
    if focal is None:
        m = None
        for sec in plan.root.walk():
            for item in sec.items:
                m = re.search(r"về\s+((?:Phòng|Văn phòng|Công chức)\s[^,;.()]{2,40}?)\s+để tổng hợp", item.text)
                if m:
                    focal = _canonical_units([m.group(1)], registry, loc)[0]
                    break
            if focal:
                break
    if focal is None:
        # Last resort: the unit that leads the plan's own steering tasks ("Chỉ đạo, điều hành").
        from collections import Counter

        steering = Counter(u for t in tasks if t.area == "Chỉ đạo, điều hành" for u in t.lead if not is_collective(u))
        if steering:
            focal = steering.most_common(1)[0][0]
    unspecified = sorted({t.deadline_text for t in tasks if t.deadline_text and t.deadline_kind == "unspecified"})
    return Extraction(tasks=tasks, units=registry, area_leads=area_leads, focal_unit=focal,
                      unspecified_deadlines=unspecified)


def _assignment_strength(f: str, area: str) -> float:
    """How directly a duty sentence assigns an area (lower is stronger): 'Chủ trì ... các nội dung về
    cải cách TTHC' beats a sentence that mentions TTHC in passing at its end."""
    keys = dict(AREAS)[area]
    pos = min((f.find(k) for k in keys if k in f), default=len(f))
    anchor = max(f.find("chu tri"), f.find("noi dung ve"), f.find("nhiem vu ve"))
    score = pos / max(len(f), 1)
    if "chu tri" not in f:
        score += 1.0
    if anchor >= 0 and pos > anchor:
        score -= 0.5
    return score


def _section_items(sec: Section) -> list[Item]:
    items = list(sec.items)
    for child in sec.children:  # "a) …" sub-items of a unit section are its duties too
        if not looks_like_unit(child.heading):
            items.append(Item(text=child.heading))
            items.extend(child.items)
    return [i for i in items if len(i.text) >= 15 and not re.fullmatch(r"la .{0,80}co trach nhiem:?", fold(i.text))]


def _unit_from_heading(heading: str) -> str:
    h = normalize(heading).rstrip(".:")
    h = re.sub(r"(?i)^đề nghị\s+", "", h)
    h = re.split(r"(?i)\s+(?:có trách nhiệm|chịu trách nhiệm|thực hiện)\b|:", h)[0]
    return h.strip()


def _area_from_group(group: str) -> str:
    found = areas_of(group)
    return found[0] if found else ""
