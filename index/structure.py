"""Document structure: blocks -> a plan with metadata, a tree of numbered sections and tables.

Recognises the genre, not a sample: Roman (I.), Arabic (1.), decimal (1.1.), letter (a) / a.) headings,
"-" and "+" list items; PDF line wrapping and page numbers; a "PHỤ LỤC" appendix.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .docmeta import DocMeta, read_meta
from .elements import Paragraph, RawDocument, Table
from .textnorm import fold, normalize

_ROMAN = r"(?:I|II|III|IV|V|VI|VII|VIII|IX|X|XI|XII)"
# (rank, regex) — lower rank = higher in the tree.
_MARKERS: list[tuple[int, re.Pattern]] = [
    (1, re.compile(rf"^(?P<m>{_ROMAN})[.)]\s*(?P<t>\S.*)$")),
    (3, re.compile(r"^(?P<m>\d{1,2}\.\d{1,2}\.\d{1,2})\.?\s+(?P<t>\S.*)$")),
    (2, re.compile(r"^(?P<m>\d{1,2}\.\d{1,2})\.?\s+(?P<t>\S.*)$")),
    (1.5, re.compile(r"^(?P<m>\d{1,2})[.)]\s+(?P<t>\S.*)$")),
    (4, re.compile(r"^(?P<m>[a-zđ])[).]\s+(?P<t>\S.*)$")),
]
_RANK_DECIMAL3 = 3
_BULLET = re.compile(r"^(?P<m>[-+•*–])\s*(?P<t>\S.*)$")
_PAGE_NO = re.compile(r"^(?:trang\s*)?\d{1,3}(?:\s*/\s*\d{1,3})?$", re.I)
_TERMINAL = re.compile(r"[.:;!?…)\]»”\"]$")


@dataclass
class Item:
    """A paragraph-level unit: a list item, a sentence group or a heading's own text."""

    text: str
    marker: str = ""  # "-", "+", "a)", "" ...
    depth: int = 0  # 0 paragraph, 1 "-", 2 "+"


@dataclass
class Section:
    marker: str
    heading: str
    rank: float
    items: list[Item] = field(default_factory=list)
    children: list["Section"] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    parent: "Section | None" = field(default=None, repr=False)

    @property
    def label(self) -> str:
        head = self.heading if len(self.heading) <= 90 else self.heading[:87].rstrip() + "…"
        return f"{self.marker}. {head}".replace("..", ".") if self.marker else head

    def path(self) -> list["Section"]:
        out = []
        node: Section | None = self
        while node is not None and node.rank >= 0:
            out.append(node)
            node = node.parent
        return list(reversed(out))

    def path_label(self) -> str:
        return " > ".join(s.label for s in self.path())

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()


@dataclass
class Plan:
    document: str
    doc_id: str
    title: str
    locality: str  # "phường Chơn Thành", "xã Lê Hồng"
    locality_name: str  # "Chơn Thành"
    period: tuple[int, int] | None
    issue_date: str | None
    root: Section
    tables: list[tuple[Section, Table]]
    meta: DocMeta = field(default_factory=DocMeta)

    @property
    def plan_year(self) -> int | None:
        if self.period and self.period[0] == self.period[1]:
            return self.period[0]
        return None


def unwrap(blocks: list) -> list:
    """Join lines that PDF extraction wrapped (a blank line often sits inside a paragraph) and drop
    page numbers. A line continues the previous one when the previous does not end a sentence and the
    next starts in lower case (or with a digit after a word that is clearly cut)."""
    out: list = []
    pending_blank = False
    for b in blocks:
        if isinstance(b, Table):
            prev_t = out[-1] if out and isinstance(out[-1], Table) else None
            if (prev_t is not None and prev_t.rows and b.rows and len(prev_t.rows[0]) == len(b.rows[0])
                    and not prev_t.furniture and not b.furniture):
                # The same table continued on the next page (PDF): one table, with the page break marked
                # by the header row so a row cut by the break is joined to its first part.
                marker = [] if b.rows[0] == prev_t.rows[0] else [list(prev_t.rows[0])]
                width = len(prev_t.rows[0])
                prev_t.rows.extend(marker + b.rows)
                for attr in ("merged", "bold"):
                    cur, add = getattr(prev_t, attr), getattr(b, attr)
                    if cur or add:
                        cur = cur or [[False] * width for _ in range(len(prev_t.rows) - len(b.rows) - len(marker))]
                        add = add or [[False] * width for _ in b.rows]
                        setattr(prev_t, attr, cur + [[False] * width for _ in marker] + add)
                continue
            out.append(b)
            pending_blank = False
            continue
        text = b.text.strip()
        if not text:
            pending_blank = True
            continue
        if _PAGE_NO.match(text) or b.furniture == "page":
            continue
        prev = out[-1] if out and isinstance(out[-1], Paragraph) else None
        starts_lower = text[0].islower() or text[0] in "(,;"
        if (
            prev is not None
            and not _TERMINAL.search(prev.text)
            and starts_lower
            and not _is_marker_line(text)
            and not prev.style.startswith("h")
            and not prev.furniture and not b.furniture
        ):
            prev.text = normalize(prev.text + " " + text)
            continue
        out.append(Paragraph(text=text, bold=b.bold, style=b.style, italic=b.italic, furniture=b.furniture))
        pending_blank = False
    del pending_blank
    return out


def _is_marker_line(text: str) -> bool:
    return any(rx.match(text) for _, rx in _MARKERS) or bool(_BULLET.match(text))


def _heading_match(p: Paragraph) -> tuple[float, str, str] | None:
    text = p.text
    for rank, rx in _MARKERS:
        m = rx.match(text)
        if m:
            marker = m.group("m")
            body = m.group("t").strip()
            if rank == 1.5 and re.match(r"^\d", body):  # "2. 000 đồng" / a number list, not a heading
                return None
            return rank, marker, body
    return None


def detect_period(text: str) -> tuple[int, int] | None:
    f = fold(text)
    m = re.search(r"(?:giai doan|nam)?\s*(20\d\d)\s*-\s*(20\d\d)", f)
    if m:
        return int(m.group(1)), int(m.group(2))
    m = re.search(r"nam\s+(20\d\d)", f)
    if m:
        return int(m.group(1)), int(m.group(1))
    m = re.search(r"(20\d\d)", f)
    if m:
        return int(m.group(1)), int(m.group(1))
    return None


def parse_plan(raw: RawDocument) -> Plan:
    blocks = unwrap(raw.blocks)
    meta = read_meta(blocks)
    paragraphs = [b.text for b in blocks if isinstance(b, Paragraph) and not b.furniture]
    title = meta.title
    # The plan's period: its title first ("giai đoạn 2026 - 2030", "năm 2026"), else the year it was issued.
    period = detect_period(title)
    if period is None and meta.date:
        y = int(meta.date[:4])
        period = (y, y)
    if period is None:
        period = detect_period(" ".join(paragraphs[:30]))
    root = Section(marker="", heading="", rank=-1)
    stack: list[Section] = [root]
    tables: list[tuple[Section, Table]] = []
    for b in blocks:
        if b.furniture:
            continue  # header block, motto, recipients, signature: metadata, never content
        if isinstance(b, Table):
            stack[-1].tables.append(b)
            tables.append((stack[-1], b))
            continue
        text = b.text
        if fold(text).startswith("phu luc") and len(text) < 200:
            # The appendix restarts the tree.
            sec = Section(marker="", heading=text, rank=0.5, parent=root)
            root.children.append(sec)
            stack = [root, sec]
            continue
        hm = _heading_match(b)
        if hm:
            rank, marker, body = hm
            if rank == 1 and not (b.bold or body.isupper() or len(body) < 100 or b.style.startswith("h")):
                hm = None  # a sentence that begins with a Roman numeral, not a heading
        if hm:
            rank, marker, body = hm
            while len(stack) > 1 and stack[-1].rank >= rank:
                stack.pop()
            sec = Section(marker=marker, heading=body.rstrip(":").strip(), rank=rank, parent=stack[-1])
            stack[-1].children.append(sec)
            stack.append(sec)
            if len(body) > 100:
                sec.items.append(Item(text=body, marker=f"{marker})" if rank == 4 else marker))
            continue
        bm = _BULLET.match(text)
        if bm:
            depth = 2 if bm.group("m") == "+" else 1
            stack[-1].items.append(Item(text=bm.group("t").strip(), marker=bm.group("m"), depth=depth))
        else:
            stack[-1].items.append(Item(text=text))
    return Plan(
        document=raw.path.name,
        doc_id=raw.sha,
        title=title,
        locality=meta.place,
        locality_name=meta.place_name,
        period=period,
        issue_date=meta.date,
        root=root,
        tables=tables,
        meta=meta,
    )
