"""Document structure: blocks -> a plan with metadata, a tree of numbered sections and tables.

Recognises the genre, not a sample: Roman (I.), Arabic (1.), decimal (1.1.), letter (a) / a.) headings,
"-" and "+" list items; PDF line wrapping and page numbers; a "PHỤ LỤC" appendix.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .loaders import Paragraph, RawDocument, Table
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
            if prev_t is not None and prev_t.rows and b.rows and len(prev_t.rows[0]) == len(b.rows[0]):
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
        if _PAGE_NO.match(text):
            continue
        prev = out[-1] if out and isinstance(out[-1], Paragraph) else None
        starts_lower = text[0].islower() or text[0] in "(,;"
        if (
            prev is not None
            and not _TERMINAL.search(prev.text)
            and starts_lower
            and not _is_marker_line(text)
            and not prev.style.startswith("h")
        ):
            prev.text = normalize(prev.text + " " + text)
            continue
        out.append(Paragraph(text=text, bold=b.bold, style=b.style))
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


_LOCALITY_RX = re.compile(
    r"\b(xã|phường|thị trấn|Xã|Phường|Thị trấn|XÃ|PHƯỜNG|THỊ TRẤN)\s+"
    r"((?:[A-ZĐÂĂÊÔƠƯÁÀẢÃẠ-Ỹ][\wÀ-ỹ]*)(?:\s+[A-ZĐÂĂÊÔƠƯÁÀẢÃẠ-Ỹ0-9][\wÀ-ỹ]*){0,3})"
)


def detect_locality(paragraphs: list[str]) -> tuple[str, str]:
    """Most frequent 'xã/phường X' with a capitalised name in the document's first part."""
    counts: dict[tuple[str, str], int] = {}
    for i, text in enumerate(paragraphs[:400]):
        weight = 3 if i < 25 else 1
        for m in _LOCALITY_RX.finditer(text):
            kind = m.group(1).lower()
            name = m.group(2).strip()
            words = name.split()
            # Stop at words that start another phrase ("Chơn Thành Kế hoạch") — keep 1-3 capitalised words
            words = [w for w in words if not w.isupper() or len(w) <= 2] or words
            name = " ".join(words[:3])
            if not name or name.isupper():
                name = name.title()
            counts[(kind, name)] = counts.get((kind, name), 0) + weight
    if not counts:
        return "", ""
    # Prefer shorter names when a longer one only adds a trailing word seen less often.
    (kind, name), _ = max(counts.items(), key=lambda kv: (kv[1], -len(kv[0][1])))
    return f"{kind} {name}", name


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


def detect_issue_date(paragraphs: list[str]) -> str | None:
    for text in paragraphs[:15]:
        f = fold(text)
        m = re.search(r"ngay\s+(\d{1,2})\s+thang\s+(\d{1,2})\s+nam\s+(20\d\d)", f)
        if m:
            d, mo, y = map(int, m.groups())
            return f"{y:04d}-{mo:02d}-{d:02d}"
    return None


def detect_title(paragraphs: list[str]) -> tuple[str, int]:
    """'KẾ HOẠCH' plus the short lines that complete it; returns (title, index of its first line)."""
    for i, text in enumerate(paragraphs[:40]):
        f = fold(text)
        if f.startswith("ke hoach") and not f.startswith("ke hoach so"):
            parts = [text]
            for nxt in paragraphs[i + 1 : i + 4]:
                nf = fold(nxt)
                if (nf.startswith(("can cu", "so:", "i.", "i ")) or len(nxt) > 120 or nf.endswith(":")
                        or "ban hanh ke hoach" in nf or (nf.startswith("thuc hien") and len(nxt) > 80)):
                    break
                parts.append(nxt)
            return normalize(" ".join(parts)), i
    return (paragraphs[0] if paragraphs else ""), 0


def parse_plan(raw: RawDocument) -> Plan:
    blocks = unwrap(raw.blocks)
    paragraphs = [b.text for b in blocks if isinstance(b, Paragraph)]
    title, _ = detect_title(paragraphs)
    head_text = " ".join(paragraphs[:30])
    locality, locality_name = detect_locality([title] + paragraphs)
    period = detect_period(title) or detect_period(head_text)
    root = Section(marker="", heading="", rank=-1)
    stack: list[Section] = [root]
    tables: list[tuple[Section, Table]] = []
    for b in blocks:
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
        locality=locality,
        locality_name=locality_name,
        period=period,
        issue_date=detect_issue_date(paragraphs),
        root=root,
        tables=tables,
    )
