"""Task extraction: every way a plan assigns work -> `Task` records with lead, coordinators, deadline and the line
they come from.

Sources, each read from the element/section model (never from a file format):
1. table rows of any task table (`index.tables`: header roles in any wording, group rows, merged cells);
2. labelled lines after a task ("Cơ quan chủ trì: …", "Thời gian thực hiện: …"), as list items or as a) b)
   sub-headings;
3. duties per unit under "Tổ chức thực hiện" / "Phân công nhiệm vụ" / "Trách nhiệm …" (a unit heading, then its
   items), including "<Unit>: duty" paragraphs and cross-references to other sections ("các nhiệm vụ tại mục
   (IV) (2)") that give those sections' tasks the unit as lead;
4. body tasks (items of the plan's task sections), whose lead is an inline assignment ("(Giao X chủ trì …)") or a
   subject ("X chủ trì, phối hợp …"), else the unit the plan assigns the task's whole area to — only when the
   assignment sentence names that area (flagged `lead_inferred`, with the sentence) — else not stated;
5. other sentences with a concrete deadline (report deadlines).

Task ids are stable across edits: plan identity (issuer + number, else issuer + title, else file name) +
normalized task text + occurrence index among identical texts — never the file's bytes.
"""
from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from .assignments import (cross_references, inline_assignment, labelled_field, main_clause, parse_assignment,
                          subject_assignment, units_after_with)
from .deadlines import parse_deadline, plan_period
from .records import Task
from .structure import Item, Plan, Section
from .tables import parse_task_table
from .textnorm import fold, normalize
from .units import display_name, is_collective, looks_like_unit, split_units, unit_at_start, unit_key

# Areas of administrative reform (the six of the national programme plus steering and communication): synonyms
# that let an assignment sentence name a body section's area. The section headings themselves are areas too.
AREAS: list[tuple[str, tuple[str, ...]]] = [
    ("Chỉ đạo, điều hành", ("chi dao, dieu hanh", "chi dao dieu hanh", "cong tac chi dao")),
    ("Cải cách thể chế", ("cai cach the che", "the che")),
    ("Cải cách thủ tục hành chính", ("thu tuc hanh chinh", "tthc", "mot cua")),
    ("Cải cách tổ chức bộ máy", ("to chuc bo may", "cai cach bo may", "bo may hanh chinh")),
    ("Cải cách chế độ công vụ", ("che do cong vu", "cong chuc cong vu", "cong vu")),
    ("Cải cách tài chính công", ("tai chinh cong",)),
    ("Chính quyền điện tử, chính quyền số", (
        "chinh quyen dien tu", "chinh quyen so", "chinh phu dien tu", "chinh phu so", "chuyen doi so")),
    ("Thông tin, tuyên truyền", ("tuyen truyen",)),
]
_ORG_SECTION = re.compile(r"to chuc thuc hien|trach nhiem|phan cong|giao nhiem vu|nhiem vu cua cac|de nghi cac")
_SKIP_PATH = re.compile(
    r"muc tieu|chi tieu|muc dich|yeu cau|quan diem|kinh phi|can cu|noi nhan|pham vi|doi tuong|tinh hinh|"
    r"ket qua dat duoc|danh gia|che do bao cao|thong tin bao cao|bao cao ket qua")
_FOCAL = re.compile(r"thuong truc|dau moi|co quan tham muu|bo phan tham muu|don vi tham muu")
_DEADLINE_PHRASES = [  # most specific first
    r"trước ngày \d{1,2}\s*/\s*\d{1,2}(?:\s*/\s*\d{4})?(?:\s+(?:hằng|hàng) năm)?",
    r"trước ngày \d{1,2} tháng \d{1,2}(?: năm \d{4})?(?:\s+(?:hằng|hàng) năm)?",
    r"(?:trong |trước |hoàn thành trong |hoàn thành trước )?quý\s+(?:[IVX]{1,3}|[1-4])(?:\s*[/-]\s*|\s+năm\s+)\d{4}",
    r"(?:định kỳ\s+)?(?:hằng|hàng)\s+(?:năm|quý|tháng|tuần)(?:,?\s+trước ngày \d{1,2}(?:\s*/\s*\d{1,2})?)?",
    r"định kỳ\s+(?:6|sáu|03|3)\s+tháng",
    r"trong thời hạn \d{1,3} ngày(?: làm việc)?",
    r"(?<!chi )(?<!kinh phí )thường xuyên",
    r"(?:trong|hoàn thành trong|hoàn thành trước)\s+(?:năm|tháng \d{1,2}(?:/| năm )?)\s*\d{4}",
]
_DEADLINE_RX = [re.compile(p, re.I) for p in _DEADLINE_PHRASES]


_RECUR = re.compile(r"(?i)\b(?:định kỳ\s+)?(?:hằng|hàng)\s+(?:năm|quý|tháng|tuần)\b")


def deadline_phrase(text: str) -> str:
    """The deadline a prose sentence states ("trước ngày 15/11 hằng năm", "Quý IV/2026"), or "". A date written
    with a recurrence elsewhere in the sentence stays recurring ("Hằng năm, trước ngày 15/12 báo cáo …")."""
    for rx in _DEADLINE_RX:
        m = rx.search(text)
        if m:
            phrase = m.group(0).strip()
            rec = _RECUR.search(text)
            if rec and not _RECUR.search(phrase):
                phrase = f"{rec.group(0)}, {phrase}"
            return phrase
    return ""


def areas_of(text: str) -> list[str]:
    f = fold(text)
    return [name for name, keys in AREAS if any(k in f for k in keys)]


def plan_identity(plan: Plan) -> str:
    """What makes two copies of a plan the same plan, whatever their bytes or file names."""
    m = plan.meta
    if m.issuer and m.number:
        return f"{fold(m.issuer)}|{fold(m.number)}"
    if m.issuer and m.title and fold(m.title) not in ("ke hoach", "quyet dinh"):
        return f"{fold(m.issuer)}|{fold(m.title)}"
    return re.sub(r"[^a-z0-9]+", "-", fold(plan.document.rsplit(".", 1)[0]))


class _Ids:
    """Stable ids: identity + origin + normalized text + occurrence index among identical texts."""

    def __init__(self, identity: str):
        self.identity = identity
        self.seen: Counter = Counter()

    def __call__(self, origin: str, text: str) -> str:
        key = re.sub(r"\s+", " ", fold(text))[:400]
        self.seen[(origin, key)] += 1
        raw = f"{self.identity}|{origin}|{key}|{self.seen[(origin, key)]}"
        return hashlib.sha1(raw.encode()).hexdigest()[:12]


@dataclass
class Extraction:
    tasks: list[Task]
    units: dict[str, str]  # unit key -> display name (this plan)
    area_leads: dict[str, tuple[str, str]]  # kept for callers; inferred leads carry their sentence
    focal_unit: str | None
    unspecified_deadlines: list[str]
    report: dict = field(default_factory=dict)


class _Builder:
    def __init__(self, plan: Plan):
        self.plan = plan
        self.ids = _Ids(plan_identity(plan))
        self.registry: dict[str, str] = {}
        self.tasks: list[Task] = []
        self.quoted: set[str] = set()
        self.period = _period_dates(plan)
        self.cite = plan.meta.citation()

    def units(self, names: list[str]) -> list[str]:
        out = []
        for n in names:
            n = display_name(n)
            if not n:
                continue
            key = unit_key(n, self.plan.locality_name)
            self.registry.setdefault(key, n)
            if self.registry[key] not in out:
                out.append(self.registry[key])
        return out

    def add(self, origin: str, title: str, section: str, *, lead=(), coord=(), deadline="", quote="",
            output="", area="", owner="", source_kind="sentence", inferred=False, inferred_from="", note="",
            raw_cells=None) -> Task:
        quote = quote or title
        d = parse_deadline(deadline, plan_year=self.plan.plan_year, plan_period=self.period).to_dict()
        t = Task(
            id=self.ids(origin, quote), doc_id=self.plan.doc_id, document=self.plan.document,
            plan_title=self.plan.title, locality=self.plan.locality, area=area, section=section,
            title=normalize(title), output=output, lead=self.units(list(lead)), coordinate=self.units(list(coord)),
            deadline_text=deadline, deadline_kind=d.get("kind", "unspecified"), due=d.get("due"), deadline=d,
            source_kind=source_kind, quote=quote, lead_inferred=inferred, inferred_from=inferred_from,
            raw_cells=raw_cells or {}, note=note, origin=origin, owner=owner, cite=self.cite,
            issuer=self.plan.meta.issuer,
        )
        t.coordinate = [u for u in t.coordinate if u not in t.lead]
        self.tasks.append(t)
        self.quoted.add(fold(quote))
        return t


def _period_dates(plan: Plan):
    """The plan's period: from its title when the title says it ("6 tháng cuối năm 2025" -> Jul–Dec), else the
    years found for the document."""
    _, period = plan_period(plan.title)
    if period:
        return period
    if not plan.period:
        return None
    return (date(plan.period[0], 1, 1), date(plan.period[1], 12, 31))


def _cell_units(cell: str) -> tuple[list[str], list[str]]:
    """A lead cell may hold a sentence ("Sở KH&CN chủ trì hướng dẫn; các sở … thực hiện"): its leads (and the
    coordinators it names); a plain list of units is all leads."""
    if not cell:
        return [], []
    a = parse_assignment(cell)
    if a.lead:
        return a.lead, a.coord + a.executing
    units = [u for u in split_units(cell) if looks_like_unit(u) or is_collective(u)]
    return (units or a.leads() or split_units(cell)), a.coord


# -------------------------------------------------------------------------------------------- 1. tables

def _table_tasks(b: _Builder) -> None:
    for section, table in b.plan.tables:
        rows = parse_task_table(table)
        if not rows:
            continue
        for row in rows:
            lead, extra_coord = _cell_units(row.cells.get("lead", ""))
            coord = split_units(row.cells.get("coord", "")) + extra_coord
            area = _area_from_group(row.group) or (areas_of(row.cells.get("goal", "")) or [""])[0]
            b.add("row", row.title, " > ".join(x for x in [section.path_label(), row.group] if x), lead=lead,
                  coord=coord, deadline=row.cells.get("time", ""), quote=row.render(),
                  output=row.cells.get("output", ""), area=area, source_kind="table_row", raw_cells=row.raw,
                  note=row.note)


def _area_from_group(group: str) -> str:
    found = areas_of(group)
    return found[0] if found else ""


# -------------------------------------------------------------------------------------------- 2. labelled lines

@dataclass
class _Fields:
    anchor: str  # the task text the fields belong to
    values: dict[str, str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)


def _entries(sec: Section) -> list[tuple[str, Section | None]]:
    """A section's items, then its children's headings (a) b) sub-headings may be labelled fields)."""
    return [(i.text, None) for i in sec.items] + [(c.heading, c) for c in sec.children]


def _labelled_groups(sec: Section) -> list[_Fields]:
    groups: list[_Fields] = []
    anchor = sec.heading
    current: _Fields | None = None
    for text, child in _entries(sec):
        lf = labelled_field(text)
        if lf and lf[0] != "funding":
            role, value = lf
            if current is None:
                current = _Fields(anchor=anchor)
                groups.append(current)
            if role in current.values:
                current.values[role] = current.values[role] + "; " + value
            else:
                current.values[role] = value
            current.lines.append(text)
        elif child is None:
            # An unlabelled item is the task the next fields belong to — unless it only introduces a list
            # ("Các nội dung … bao gồm:") or is one of that list's "+" items: then the heading stays the task.
            if not text.rstrip().endswith(":") and not _is_sub_item(sec, text):
                anchor = text
            current = None
        else:
            current = None
    return [g for g in groups if set(g.values) & {"lead", "coord", "time"}]


def _is_sub_item(sec: Section, text: str) -> bool:
    return any(i.text == text and i.depth >= 2 for i in sec.items)


def _labelled_tasks(b: _Builder, claimed: set[int]) -> None:
    for sec in b.plan.root.walk():
        if sec.rank < 0:
            continue
        for g in _labelled_groups(sec):
            title = g.values.get("task") or g.anchor
            a = parse_assignment(g.values.get("lead", ""))
            lead = a.lead or a.executing or _cell_units(g.values.get("lead", ""))[0]
            coord = split_units(g.values.get("coord", "")) + a.coord
            if a.lead and a.executing:
                coord = coord + a.executing  # "X chủ trì …; các sở … thực hiện": the others take part
            if not lead and "lead" not in g.values:
                # no "Chủ trì:" line: the task's own sentence may name who does it ("Trên cơ sở …, Sở Xây dựng
                # chủ trì, phối hợp với … lập Đề án"; "Sở Tài chính thẩm định …")
                lead, more = _subject_roles(g.anchor)
                coord = coord + [c for c in more if c not in coord]
            quote = " ".join([g.anchor] + g.lines) if g.anchor != title else " ".join([title] + g.lines)
            b.add("labelled", title, sec.path_label(), lead=lead, coord=coord,
                  deadline=_first_sentence(g.values.get("time", "")), quote=normalize(quote),
                  output=g.values.get("output", ""), area=(areas_of(sec.path_label()) or [""])[0])
            b.quoted.update(fold(line) for line in g.lines)  # its lines are this task, not tasks of their own
            claimed.add(id(sec))


def _subject_roles(text: str) -> tuple[list[str], list[str]]:
    """(lead, coordinators) of a sentence whose subject, after any introductory clause, is a unit."""
    subj = subject_assignment(text)
    if subj is not None:
        return subj.leads(), list(subj.coord)
    head = unit_at_start(main_clause(text))
    if head is None or not head[1] or len(head[0]) > 90:
        return [], []
    return _duty_roles(head[0], head[1])


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=[.;])\s+", text.strip())[0].strip(" .;") if text else ""


# -------------------------------------------------------------------------------------------- 3. unit duties

def _org_heading(sec: Section) -> bool:
    """A section that assigns work to units: by its title ("Tổ chức thực hiện", "Trách nhiệm …"), or, whatever
    it is called ("Nội dung thực hiện", "Nhiệm vụ"), because its sub-headings are mostly units' names."""
    return bool(_ORG_SECTION.search(fold(sec.heading))) or _lists_units(sec)


def _lists_units(sec: Section) -> bool:
    kids = [c for c in sec.children if c.rank >= 0]
    named = sum(1 for c in kids if _names_a_unit(c.heading))
    return named >= 2 and named >= 0.6 * len(kids)


@lru_cache(maxsize=8192)  # a plan's headings are asked again for every section below them (_in_org_section)
def _names_a_unit(heading: str) -> bool:
    """'1. Sở Y tế', 'Ủy ban nhân dân xã, phường': a unit's name and no duty after it."""
    head = unit_at_start(heading)
    return head is not None and len(head[1]) < 15


def _in_org_section(sec: Section) -> bool:
    return any(_org_heading(p) for p in sec.path()[:-1])


def _duty_items(sec: Section) -> list[str]:
    items = [i.text for i in sec.items]
    for child in sec.children:  # "a) …" sub-items of a unit section are its duties too
        if unit_at_start(child.heading) is None:
            items.append(child.heading)
            items.extend(i.text for i in child.items if i.text != child.heading)
    # A line that only introduces a list ("… chỉ đạo thực hiện:") is not a duty; its items are.
    return [t for t in items if len(t) >= 15 and not t.rstrip().endswith(":")]


def _duty_roles(unit: str, text: str) -> tuple[list[str], list[str]]:
    """Lead and coordinators of one duty of `unit`: 'Chủ trì, phối hợp với Y …' -> ([unit], [Y]);
    'Phối hợp với Y …' -> ([Y], [unit]); otherwise the unit does it itself."""
    f = fold(text)
    named = units_after_with(text)
    if f.startswith(("phoi hop", "tham gia", "de nghi phoi hop")) and "chu tri" not in f[:40]:
        return named[:1] if named else [], [unit]
    return [unit], named


def _section_by_path(root: Section, path: list[str]) -> Section | None:
    """The section a cross-reference names: ['IV', '2'] = heading 'IV.' then its sub-heading '2.';
    ['IV', '4.1'] = 'IV.' > '4.1.' (or 'IV.' > '4.' > '1.')."""

    def child(node: Section, marker: str) -> Section | None:
        for c in node.walk():
            if c is not node and c.marker.rstrip(".)") == marker:
                return c
        if "." in marker:
            head, _, tail = marker.partition(".")
            mid = child(node, head)
            return child(mid, tail) if mid is not None else None
        return None

    node: Section | None = root
    for marker in path:
        node = child(node, marker) if node is not None else None
    return node if node is not root else None


def _duty_tasks(b: _Builder, xref: dict[int, tuple[str, str]], assigners: list[tuple[str, str, str]]) -> str | None:
    focal = None
    root = b.plan.root
    for sec in root.walk():
        if sec.rank < 0 or not _in_org_section(sec):
            continue
        head = unit_at_start(sec.heading)
        if head is None:
            continue
        unit_name, first_duty = head
        if len(unit_name) > 100:
            continue
        [unit] = b.units([unit_name])
        collective = is_collective(unit)
        own = fold(sec.heading)[:80]
        duties = ([first_duty] if len(first_duty) >= 15 else []) + [
            d for d in _duty_items(sec) if not fold(d).startswith(own)]  # the heading's own text is first_duty
        if focal is None and not collective and any(_FOCAL.search(fold(d)) for d in duties[:3]):
            focal = unit  # "Là cơ quan thường trực / công chức đầu mối về …"
        for duty in duties:
            lead, coord = _duty_roles(unit, duty)
            note = "đơn vị ở đề mục là đơn vị phối hợp" if lead != [unit] else ""
            b.add("duty", duty, sec.path_label(), lead=lead, coord=coord, deadline=deadline_phrase(duty),
                  owner=unit, area=(areas_of(duty) or [""])[0], note=note)
            f = fold(duty)
            if lead == [unit] and "chu tri" in f:  # "chủ trì … các nhiệm vụ tại mục …", not "trọng tâm …"
                for path in cross_references(duty):
                    target = _section_by_path(root, path)
                    if target is not None:
                        for node in target.walk():
                            # a named unit's assignment wins over a collective's ("các sở, ngành … mục III")
                            if id(node) not in xref or is_collective(xref[id(node)][0]) and not collective:
                                xref[id(node)] = (unit, duty)
                if not collective and re.search(r"chu tri|tham muu|phu trach|dau moi", f):
                    assigners.append((unit, duty, f))
    # "<Unit>: duty" paragraphs directly under an org section (no unit heading).
    for sec in root.walk():
        if sec.rank < 0 or not (_org_heading(sec) or _in_org_section(sec)):
            continue
        if unit_at_start(sec.heading):
            continue
        for item in sec.items:
            m = re.match(r"^(?P<u>[^:]{4,100}):\s+(?P<d>.{15,})$", item.text)
            if not m or not looks_like_unit(m.group("u")):
                continue
            [unit] = b.units([m.group("u")])
            lead, coord = _duty_roles(unit, m.group("d"))
            b.add("duty", m.group("d"), sec.path_label(), lead=lead, coord=coord,
                  deadline=deadline_phrase(m.group("d")), owner=unit, quote=item.text)
    return focal


_AREA_END = re.compile(r"^\s*(?:$|[,;.:)]|va\b|cua\b|tren\b|theo\b|tai\b|o\b|trong\b|thuoc\b|cap\b|nam\b|giai doan\b)")
_GENERIC_HEAD = re.compile(r"^(?:cong tac|nhiem vu|giai phap|ve|day manh|tang cuong|nang cao|phat trien|thuc hien|"
                           r"trien khai|xay dung|doi moi|hoan thien|cai cach)\s+")


_GENERIC_WORDS = set("nhiem vu noi dung muc tieu giai phap cong tac hoat dong ket qua chi yeu cau to chuc thuc hien "
                     "trien khai trong tam chu yeu cac nhung va ve cu the khac chung".split())
# What may stand right before an area phrase in an assignment: "chủ trì … (các nội dung / công tác / lĩnh vực) về X",
# a list separator, the start of a clause — not a noun that the phrase completes ("Bộ chỉ số chỉ đạo, điều hành").
_AREA_BEFORE = re.compile(r"(?:^|[,;:(]|\b(?:ve|tac|vuc|dung|va|cac|vu|tri|muu|trach|moi|khai|hien|mang|cach|che|soat|hoa))\s*$")


def _area_phrases(path: list[Section]) -> list[str]:
    """Phrases that name a body task's area, nearest heading first: the headings' own cores ("hạ tầng số") and
    the reform areas they belong to ("thu tuc hanh chinh", "tthc")."""
    out: list[str] = []
    for sec in reversed(path):
        core = re.sub(r"[^a-z0-9 ,]", " ", fold(sec.heading)).strip(" ,")
        while _GENERIC_HEAD.match(core):
            core = _GENERIC_HEAD.sub("", core, count=1)
        core = re.sub(r"\s+", " ", core).strip(" ,")
        words = re.findall(r"[a-z0-9]+", core)
        if 2 <= len(words) <= 7 and core not in out and not all(w in _GENERIC_WORDS for w in words):
            out.append(core)
        for _, keys in AREAS:
            if any(k in fold(sec.heading) for k in keys):
                out.extend(k for k in keys if k not in out)
    return out


def _infer_lead(path: list[Section], assigners: list[tuple[str, str, str]]) -> tuple[str, str] | None:
    """The unit the plan assigns a task's whole area to, with the sentence — only when that sentence names the
    area as a whole phrase inside a clause with 'chủ trì'/'tham mưu'/'phụ trách'/'đầu mối' (not as part of a
    longer noun: 'chỉ đạo, điều hành ngân sách' does not assign 'chỉ đạo, điều hành')."""
    for phrase in _area_phrases(path):
        best: tuple[float, str, str] | None = None
        for unit, duty, f in assigners:
            for clause in f.split(";"):
                anchor = max(clause.find("chu tri"), clause.find("tham muu"), clause.find("phu trach"),
                             clause.find("dau moi"))
                if anchor < 0:
                    continue
                for m in re.finditer(r"\b" + re.escape(phrase) + r"\b", clause):
                    if not _AREA_END.match(clause[m.end():]) or not _AREA_BEFORE.search(clause[: m.start()]):
                        continue
                    score = m.start() / max(len(clause), 1) - (0.5 if m.start() > anchor else 0)
                    if best is None or score < best[0]:
                        best = (score, unit, duty)
        if best is not None:
            return best[1], best[2]
    return None


# -------------------------------------------------------------------------------------------- 4. body tasks

def _body_tasks(b: _Builder, claimed: set[int], xref: dict[int, tuple[str, str]],
                assigners: list[tuple[str, str, str]]) -> None:
    for sec in b.plan.root.walk():
        if sec.rank < 0:
            continue
        path = sec.path()
        path_f = [fold(p.heading) for p in path]
        if any(_org_heading(p) for p in path) or (path_f and path_f[0].startswith("phu luc")):
            continue
        if any(_SKIP_PATH.search(p) and "nhiem vu" not in p for p in path_f):
            # targets, purposes, requirements, funding are not tasks — but a sentence whose subject is a unit
            # ("Sở Tài chính … chủ trì tổng hợp, bố trí kinh phí") is that unit's duty wherever it stands
            for item in sec.items:
                _unit_sentence(b, sec, item.text)
            continue
        area = ""
        for p in reversed(path):
            found = areas_of(p.heading)
            if found:
                area = found[0]
                break
        items = [i for i in sec.items if len(i.text) >= 25 and fold(i.text) not in b.quoted
                 and not i.text.rstrip().endswith(":")  # a list's introduction, not a task
                 and not re.match(r"(?i)^\(?\s*(kèm theo|chi tiết (tại|theo)|có phụ lục)", i.text)]
        for item in items:
            if labelled_field(item.text):
                continue
            text = item.text
            lead: list[str] = []
            coord: list[str] = []
            inferred, justification, note = False, "", ""
            inline = inline_assignment(text)
            subj = subject_assignment(text) if inline is None else None
            if inline is not None:
                a, _ = inline
                lead, coord = a.leads(), a.coord + (a.executing if a.lead else [])
            elif subj is not None:
                lead, coord = subj.leads(), subj.coord
            elif id(sec) in xref:
                unit, duty = xref[id(sec)]
                lead, note = [unit], f"giao theo phần tổ chức thực hiện: “{duty[:160]}”"
                justification = duty
            elif (found := _infer_lead(path, assigners)) is not None:
                lead = [found[0]]
                inferred, justification = True, found[1]
            elif id(sec) in claimed:
                continue  # a labelled task's own description
            elif _unit_sentence(b, sec, text):
                continue
            b.add("body", text, sec.path_label(), lead=lead, coord=coord, deadline=deadline_phrase(text),
                  area=area, inferred=inferred, inferred_from=justification, note=note)


def _unit_sentence(b: _Builder, sec: Section, text: str) -> bool:
    """'<Unit>, <circumstance>, <verb> …' or '<Unit> <verb> …': the unit's own duty (it leads it)."""
    if len(text) < 25 or fold(text) in b.quoted:
        return False
    head = unit_at_start(text) or unit_at_start(main_clause(text))
    if head is None:
        return False
    unit, rest = head
    if not rest or len(unit) > 90 or is_collective(unit) and not rest:
        return False
    lead, coord = _duty_roles(unit, rest)
    b.add("sentence", text, sec.path_label(), lead=lead, coord=coord, deadline=deadline_phrase(text),
          owner=b.units([unit])[0], area=(areas_of(text) or [""])[0])
    return True


# -------------------------------------------------------------------------------------------- 5. sentences

def _deadline_sentences(b: _Builder) -> None:
    for sec in b.plan.root.walk():
        for item in sec.items:
            if fold(item.text) in b.quoted:
                continue
            m = re.search(r"trước ngày \d{1,2}(?:\s*/\s*\d{1,2}|\s+tháng\s+\d{1,2})", item.text, re.I)
            if not m:
                continue
            phrase = deadline_phrase(item.text) or m.group(0)
            a = parse_assignment(item.text)
            lead = a.leads()
            if not lead:
                subject = re.match(r"^(?:[a-zđ\d][.)]\s*)?(.{3,100}?)\s+(chỉ đạo|thực hiện|gửi|báo cáo|có trách nhiệm)",
                                   item.text)
                if subject and (looks_like_unit(subject.group(1)) or is_collective(subject.group(1))):
                    lead = [subject.group(1)]
            b.add("sentence", item.text, sec.path_label(), lead=lead, coord=a.coord, deadline=phrase,
                  area=(areas_of(item.text) or [""])[0])


# -------------------------------------------------------------------------------------------- entry point

def extract_tasks(plan: Plan) -> Extraction:
    b = _Builder(plan)
    _table_tasks(b)
    claimed: set[int] = set()
    _labelled_tasks(b, claimed)
    xref: dict[int, tuple[str, str]] = {}
    assigners: list[tuple[str, str, str]] = []
    focal = _duty_tasks(b, xref, assigners)
    _body_tasks(b, claimed, xref, assigners)
    _deadline_sentences(b)
    if focal is None:
        for sec in plan.root.walk():
            for item in sec.items:
                m = re.search(r"(?:về|qua)\s+((?:Phòng|Văn phòng|Công chức|Sở|Ban)\s[^,;.()]{2,40}?)\s+(?:để|tổng hợp)",
                              item.text)
                if m:
                    focal = b.units([m.group(1)])[0]
                    break
            if focal:
                break
    tasks = b.tasks
    unspecified = sorted({t.deadline_text for t in tasks if t.deadline_text and t.deadline_kind == "unspecified"})
    return Extraction(tasks=tasks, units=b.registry, area_leads={}, focal_unit=focal,
                      unspecified_deadlines=unspecified, report=extraction_report(plan, tasks))


def extraction_report(plan: Plan, tasks: list[Task]) -> dict:
    """What an officer needs to see at once: was the plan understood?"""
    n = len(tasks)
    explicit = sum(1 for t in tasks if t.lead and not t.lead_inferred)
    inferred = sum(1 for t in tasks if t.lead and t.lead_inferred)
    dated = sum(1 for t in tasks if t.deadline_kind != "unspecified")
    tables = sum(1 for _, tb in plan.tables if parse_task_table(tb))
    warnings = []
    m = plan.meta
    if not m.issuer:
        warnings.append("không xác định được cơ quan ban hành")
    if not m.number:
        warnings.append("văn bản không có số (bản dự thảo hoặc thiếu dòng “Số: …”)")
    if not m.date:
        warnings.append("không đọc được ngày ban hành")
    if n < 5:
        warnings.append(f"chỉ trích được {n} nhiệm vụ — kiểm tra lại bố cục văn bản")
    elif explicit / n < 0.2:
        warnings.append(f"ít nhiệm vụ có đơn vị chủ trì ({explicit}/{n})")
    return {
        "issuer": m.issuer, "level": m.level, "number": m.number, "date": m.date, "signer": m.signer,
        "tasks": n, "explicit_leads": explicit, "inferred_leads": inferred, "deadlines": dated,
        "tables": tables, "warnings": warnings,
    }
