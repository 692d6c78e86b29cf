"""Plain text and markdown -> elements, whatever the encoding of its tables and paragraphs.

Tables come in three encodings, each recognised by its lines alone:
- tab-separated rows (text extracted from PDF/DOCX; stray tabs inside words rejoined);
- markdown pipe rows (`| a | b |`, separator rows `|---|` dropped);
- one cell per line between lines holding a single `|` (HTML tables converted by crawlers): a row is the run of
  cells between two consecutive `|` lines; cells of a row drawn merged (rowspan/colspan) are left out, so rows
  may be shorter than the header (`Table.ragged`); a `|` followed by a blank line ends the table.

Paragraphs: wrapped lines are rejoined. Which lines belong together depends on the document's convention, read
from the document itself: when nearly every list/heading marker starts a blank-line-separated block ("block"
documents, e.g. crawled web pages), a block is one paragraph apart from the marker lines inside it; otherwise
(text extracted from PDF, one paragraph per line) a line continues the previous one only when the previous one
is unfinished (no final punctuation) and the next starts in lower case, inside an open emphasis, or after a bare
number ("2."). Markdown emphasis, headings (#), escapes and HTML tags/entities are removed after joining, so a
bold span wrapped over two lines is still one bold heading.
"""
from __future__ import annotations

import html
import re

from .elements import Block, Paragraph, Table
from .textnorm import normalize

_TAG = re.compile(r"</?(?:b|strong|i|em|u|p|br|span|div|sup|sub|a|font|td|tr|th|table|tbody|thead)\b[^>]*>", re.I)
_BOLD_TAG = re.compile(r"^\s*<(?:b|strong)>.*</(?:b|strong)>\s*$", re.I | re.S)
_EMPH_PREFIX = re.compile(r"^[*_\s]+")
# A line that starts a new paragraph: bullets, numbered/lettered items, Roman numerals, "Bước 1", "Điều 2".
MARKER = re.compile(
    r"^(?:[-+•–]\s*[^\s\-–_=]|\*\s+\S|[a-zđ][).]\s|\(?\d{1,2}(?:\.\d{1,2}){0,3}[.)](?:\s|$)|\(\d{1,2}\)\s|\([a-zđ]\)\s"
    r"|\(?[ivx]{1,4}\)\s|[IVXL]{1,5}[.)](?:\s|$)|(?:Bước|Điều|Phần|Mục|Chương)\s+[\dIVXL]+\b)"
)
_BARE_MARKER = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2}){0,3}|[IVXL]{1,5}|[a-zđ])[.)]?$")
_TERMINAL = re.compile(r"[.:;!?…)\]»”\"]$")
_MD_SEPARATOR = re.compile(r"^\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?$")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])")


# ------------------------------------------------------------------------------------------- inline markup

def clean_cell(text: str) -> str:
    """Strip the HTML tags that text extraction leaves in cells; keep the words."""
    text = re.sub(r"<br\s*/?>|</p>\s*<p[^>]*>", " ", text or "", flags=re.I)
    return normalize(html.unescape(_TAG.sub("", text)))


def _emphasis_share(raw: str) -> tuple[float, float]:
    """Shares of the letters inside **bold** and *italic* spans of a markdown line."""
    bold = italic = False
    letters = in_bold = in_italic = 0
    i = 0
    while i < len(raw):
        if raw.startswith("***", i):
            bold, italic = not bold, not italic
            i += 3
            continue
        if raw.startswith("**", i):
            bold = not bold
            i += 2
            continue
        if raw[i] == "*":
            italic = not italic
            i += 1
            continue
        if raw[i].isalnum():
            letters += 1
            in_bold += bold
            in_italic += italic
        i += 1
    if not letters:
        return 0.0, 0.0
    return in_bold / letters, in_italic / letters


def _open_emphasis(raw: str) -> bool:
    """True when a line ends inside a ** or * span (the span goes on in the next line)."""
    s = raw.replace("***", "**")
    stars = s.count("**")
    singles = s.replace("**", "").count("*")
    if s.lstrip().startswith("* "):  # a "* " bullet is not an emphasis mark
        singles -= 1
    return stars % 2 == 1 or singles % 2 == 1


def clean_inline(raw: str) -> tuple[str, bool, bool, str]:
    """One paragraph's markdown/HTML -> (text, bold, italic, style)."""
    s = raw.strip()
    style = ""
    m = re.match(r"^(#{1,6})\s+(.*)$", s)
    if m:
        style, s = f"h{len(m.group(1))}", m.group(2)
    bold_share, italic_share = _emphasis_share(s)
    tag_bold = bool(_BOLD_TAG.match(s))
    if s.startswith("* "):
        s = "- " + s[2:]  # a markdown bullet
    s = re.sub(r"\*+", "", s)
    s = re.sub(r"(?<![\w/])_{1,2}([^_\n]+?)_{1,2}(?![\w/])", r"\1", s)
    s = _ESCAPE.sub(r"\1", s)
    text = clean_cell(s)
    return text, bold_share >= 0.6 or tag_bold, italic_share >= 0.6, style


# ------------------------------------------------------------------------------------------- paragraphs

def is_marker_line(line: str) -> bool:
    return bool(MARKER.match(_EMPH_PREFIX.sub("", line.strip())))


def _is_bare_marker(line: str) -> bool:
    return bool(_BARE_MARKER.match(re.sub(r"[*_\s]", "", line)))


def _continues(prev_raw: str, nxt_raw: str, block_mode: bool) -> bool:
    """Does line `nxt_raw` continue the paragraph whose last line is `prev_raw`?"""
    prev, nxt = prev_raw.strip(), nxt_raw.strip()
    if _is_bare_marker(prev):
        return True  # "**2.****" then the item's text
    if _open_emphasis(prev_raw) and not is_marker_line(nxt):
        return True
    clean_next = _EMPH_PREFIX.sub("", nxt)
    prev_plain = re.sub(r"[*_\s]+$", "", prev)
    if is_marker_line(nxt):
        # "Báo cáo xuất\n- nhập - tồn": a dash before a lower-case word after an unfinished line is a wrap
        return (block_mode and clean_next[:1] in "-–" and not _TERMINAL.search(prev_plain)
                and clean_next[1:].strip()[:1].islower())
    if block_mode:
        return True
    if _TERMINAL.search(prev_plain):
        return False
    return bool(clean_next) and (clean_next[0].islower() or clean_next[0] in "(,;%")


def join_lines(lines: list[str], block_mode: bool) -> list[str]:
    """Raw lines of one blank-line-separated block -> raw paragraphs."""
    out: list[str] = []
    for line in lines:
        if not line.strip():
            continue
        if out and _continues(out[-1], line, block_mode):
            out[-1] = out[-1].rstrip() + " " + line.strip()
        else:
            out.append(line.rstrip())
    return out


def detect_block_mode(lines: list[str]) -> bool:
    """True when the document separates paragraphs by blank lines (a block is a paragraph): almost every
    marker line starts a block, and blocks of several lines exist (wrapped text)."""
    at_start = inside = multi = 0
    prev_blank = True
    run = 0
    for line in lines:
        s = line.strip()
        if not s or s == "|" or "\t" in line:
            if run > 1:
                multi += 1
            run = 0
            prev_blank = True
            continue
        run += 1
        if is_marker_line(s):
            if prev_blank:
                at_start += 1
            else:
                inside += 1
        prev_blank = False
    markers = at_start + inside
    return multi >= 3 and markers >= 3 and at_start / markers >= 0.75


# ------------------------------------------------------------------------------------------- tables

def _cell_text(lines: list[str]) -> tuple[str, bool]:
    """A table cell's raw lines -> (text with one logical line per '\\n', bold)."""
    paras: list[str] = []
    block: list[str] = []
    for line in lines + [""]:
        if line.strip():
            block.append(line)
            continue
        if block:
            paras.extend(join_lines(block, block_mode=True))
            block = []
    cleaned = [clean_inline(p) for p in paras]
    texts = [c[0] for c in cleaned if c[0]]
    bold = bool(cleaned) and all(c[1] for c in cleaned if c[0])
    return "\n".join(texts), bold and bool(texts)


def _cell_per_line_table(lines: list[str], start: int) -> tuple[Table, int]:
    """Parse a one-cell-per-line table starting at lines[start] == '|'. Returns the table and the index of the
    first line after it."""
    rows: list[list[str]] = []
    bold: list[list[bool]] = []
    row: list[str] = []
    row_bold: list[bool] = []
    cell: list[str] = []
    i = start
    prev_pipe = False
    n = len(lines)
    while i < n:
        s = lines[i].strip()
        if s == "|":
            if cell:
                text, b = _cell_text(cell)
                row.append(text)
                row_bold.append(b)
                cell = []
            elif prev_pipe and row:  # "|\n|": the row is complete
                rows.append(row)
                bold.append(row_bold)
                row, row_bold = [], []
            prev_pipe = True
            i += 1
            # A '|' followed by a blank line ends the table; so does a full-width row followed by text (some
            # crawls put no blank line after a table).
            if i >= n or not lines[i].strip():
                break
            width = max((len(r) for r in rows), default=0)
            if width and len(row) >= width and lines[i].strip() != "|":
                break
            continue
        prev_pipe = False
        cell.append(lines[i])
        i += 1
    if cell:
        text, b = _cell_text(cell)
        row.append(text)
        row_bold.append(b)
    if row:
        rows.append(row)
        bold.append(row_bold)
    return _grid(rows, bold), i


def _grid(rows: list[list[str]], bold: list[list[bool]]) -> Table:
    width = max((len(r) for r in rows), default=0)
    ragged = len({len(r) for r in rows}) > 1
    rows = [r + [""] * (width - len(r)) for r in rows]
    bold = [b + [False] * (width - len(b)) for b in bold]
    return Table(rows=rows, bold=bold, ragged=ragged)


def _split_pipe_row(line: str) -> list[str]:
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        s = s[:-1]
    return [c.replace("\\|", "|") for c in re.split(r"(?<!\\)\|", s)]


def _is_pipe_row(line: str) -> bool:
    s = line.strip()
    return len(s) > 2 and s.startswith("|") and s.endswith("|") and s.count("|") >= 2


def _modal_width(rows: list[list[str]]) -> int:
    counts: dict[int, int] = {}
    for r in rows:
        counts[len(r)] = counts.get(len(r), 0) + 1
    return max(counts.items(), key=lambda kv: (kv[1], -kv[0]))[0]


def _rejoin_split_words(cells: list[str], width: int) -> list[str]:
    """Extraction sometimes puts a stray tab inside a word ('Tỉ\\tnh', 'chỉ\\t đạo'), which shifts the
    row's columns. While the row is wider than the table, join a cell that ends mid-word with a next
    cell that starts in lower case."""
    cells = list(cells)
    while len(cells) > width:
        for i in range(len(cells) - 1):
            left, right = cells[i], cells[i + 1]
            r = right.lstrip()
            if left and not left[-1].isspace() and left[-1].isalpha() and r and r[0].islower():
                cells[i : i + 2] = [left + right]
                break
        else:
            break
    return cells


def _tab_table(raw_rows: list[list[str]]) -> Table:
    width = _modal_width(raw_rows)
    fixed = [_rejoin_split_words(r, width) for r in raw_rows]
    rows = [[clean_cell(c) for c in r] for r in fixed]
    bold = [[bool(_BOLD_TAG.match(c)) for c in r] for r in fixed]
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    bold = [b + [False] * (width - len(b)) for b in bold]
    return Table(rows=rows, bold=bold)


def _pipe_table(lines: list[str]) -> Table:
    rows, bold = [], []
    for line in lines:
        if _MD_SEPARATOR.match(line.strip()):
            continue
        cells = _split_pipe_row(line)
        texts = [clean_inline(c) for c in cells]
        rows.append([t[0] for t in texts])
        bold.append([t[1] for t in texts])
    return _grid(rows, bold)


# ------------------------------------------------------------------------------------------- reader

def text_to_blocks(text: str) -> list[Block]:
    """Plain/markdown text -> paragraphs and tables. A blank `Paragraph("")` marks a blank line, which the
    structure stage uses when it rejoins PDF paragraphs broken across a blank line."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    segments = _segments(lines)
    # The paragraph convention is read from the prose alone (table cells are blocks by construction).
    block_mode = detect_block_mode([ln for kind, seg in segments if kind != "table" for ln in (seg or [""])])
    blocks: list[Block] = []
    for kind, seg in segments:
        if kind == "table":
            blocks.append(seg)
        elif kind == "blank":
            blocks.append(Paragraph(text=""))
        else:
            for raw in join_lines(seg, block_mode):
                body, bold, italic, style = clean_inline(raw)
                if body:
                    blocks.append(Paragraph(text=body, bold=bold, italic=italic, style=style))
    return blocks


def _segments(lines: list[str]) -> list[tuple[str, object]]:
    """Lines -> ("table", Table) | ("lines", [consecutive non-blank prose lines]) | ("blank", None)."""
    out: list[tuple[str, object]] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            out.append(("lines", list(para)))
            para.clear()

    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        s = line.strip()
        if line.count("\t") >= 2:
            flush()
            raw_rows = []
            while i < n:
                if lines[i].count("\t") >= 2:
                    raw_rows.append(lines[i].split("\t"))
                    i += 1
                    continue
                j = i  # a blank line inside a table run (page break) does not end the table
                while j < n and not lines[j].strip():
                    j += 1
                if j > i and j < n and lines[j].count("\t") >= 2:
                    i = j
                    continue
                break
            out.append(("table", _tab_table(raw_rows)))
            continue
        if s == "|":
            flush()
            table, i = _cell_per_line_table(lines, i)
            if table.rows:
                out.append(("table", table))
            continue
        if _is_pipe_row(line):
            flush()
            run = []
            while i < n and (_is_pipe_row(lines[i]) or _MD_SEPARATOR.match(lines[i].strip() or "x")):
                run.append(lines[i])
                i += 1
            table = _pipe_table(run)
            if table.rows:
                out.append(("table", table))
            continue
        if not s:
            flush()
            out.append(("blank", None))
            i += 1
            continue
        para.append(line)
        i += 1
    flush()
    return out
