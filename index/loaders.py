"""File loaders: .txt/.md, .docx, .pdf, .csv/.xlsx -> a flat list of blocks (paragraph lines and tables).

Loaders only read; the structure (sections, table headers, tasks) is recognised later by `structure`.
A file that cannot be read raises `LoadError` with a reason the index command reports.
"""
from __future__ import annotations

import csv
import hashlib
import html
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from .textnorm import normalize

SUPPORTED = {".txt", ".md", ".docx", ".pdf", ".csv", ".xlsx"}


class LoadError(Exception):
    """A file that cannot be read; the message is the reason shown to the operator."""


@dataclass
class Paragraph:
    text: str
    bold: bool = False  # whole paragraph bold (a heading cue in DOCX/markdown)
    style: str = ""  # DOCX style name or markdown heading level ("h2")


@dataclass
class Table:
    rows: list[list[str]]  # cells as text; merged cells already resolved (value repeated or "" + flag)
    merged: list[list[bool]] = field(default_factory=list)  # True where a cell continues a vertical merge
    bold: list[list[bool]] = field(default_factory=list)  # True where a cell's text is bold (group rows)


Block = Paragraph | Table


@dataclass
class RawDocument:
    path: Path
    sha: str  # content hash of the file bytes
    blocks: list[Block]
    kind: str  # extension without dot


_TAG = re.compile(r"</?(?:b|strong|i|em|u|p|br|span|div|sup|sub)\b[^>]*>", re.I)
_BOLD_TAG = re.compile(r"^\s*<(?:b|strong)>.*</(?:b|strong)>\s*$", re.I | re.S)


def clean_cell(text: str) -> str:
    """Strip the HTML tags that text extraction leaves in cells; keep the words."""
    text = re.sub(r"<br\s*/?>|</p>\s*<p[^>]*>", " ", text or "", flags=re.I)
    return normalize(html.unescape(_TAG.sub("", text)))


def file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _load_text(path: Path) -> list[Block]:
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "utf-16", "cp1258"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise LoadError("không đọc được bảng mã (not UTF-8/UTF-16/CP1258)")
    if "\x00" in text:
        raise LoadError("tệp nhị phân, không phải văn bản (binary content)")
    return text_to_blocks(text)


def text_to_blocks(text: str) -> list[Block]:
    """Plain/markdown text: tab-separated runs of lines become tables; other lines paragraphs.

    A blank line inside a table run (page break) does not end the table: the next page's rows, with their
    repeated header, continue it.
    """
    blocks: list[Block] = []
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    table_rows: list[list[str]] = []  # raw cells, tags and spacing kept until the row is repaired

    def flush_table() -> None:
        if table_rows:
            width = _modal_width(table_rows)
            fixed = [_rejoin_split_words(r, width) for r in table_rows]
            rows = [[clean_cell(c) for c in r] for r in fixed]
            bold = [[bool(_BOLD_TAG.match(c)) for c in r] for r in fixed]
            width = max(len(r) for r in rows)
            rows = [r + [""] * (width - len(r)) for r in rows]
            bold = [b + [False] * (width - len(b)) for b in bold]
            blocks.append(Table(rows=rows, bold=bold))
            table_rows.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        if "\t" in line and line.count("\t") >= 2:
            table_rows.append(line.split("\t"))
            i += 1
            continue
        if table_rows and not line.strip():
            # Look ahead: does the table go on after blank lines?
            j = i
            while j < len(lines) and not lines[j].strip():
                j += 1
            if j < len(lines) and lines[j].count("\t") >= 2:
                i = j
                continue
        flush_table()
        stripped = line.strip()
        if stripped:
            md = re.match(r"^(#{1,6})\s+(.*)$", stripped)
            style = f"h{len(md.group(1))}" if md else ""
            body = md.group(2) if md else stripped
            bold = bool(re.fullmatch(r"\*\*[^*].*\*\*", body.strip()))
            body = re.sub(r"\*{1,3}([^*]+)\*{1,3}", r"\1", body).replace("**", "")
            body = clean_cell(body)
            if body:
                blocks.append(Paragraph(text=body, bold=bold, style=style))
        else:
            blocks.append(Paragraph(text=""))  # blank line: a paragraph boundary for unwrapping
        i += 1
    flush_table()
    return blocks


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


def _load_docx(path: Path) -> list[Block]:
    try:
        import docx  # python-docx
        from docx.oxml.ns import qn
    except ImportError as exc:  # pragma: no cover - dependency is in the default install
        raise LoadError(f"thiếu thư viện python-docx: {exc}") from exc
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # zip errors, XML errors, not a docx
        raise LoadError(f"tệp DOCX hỏng hoặc không đúng định dạng: {exc.__class__.__name__}: {exc}") from exc

    blocks: list[Block] = []
    body = document.element.body
    for child in body.iterchildren():
        if child.tag == qn("w:p"):
            para = docx.text.paragraph.Paragraph(child, document)
            text = normalize(para.text)
            runs = [r for r in para.runs if r.text.strip()]
            bold = bool(runs) and all(bool(r.bold) for r in runs)
            style = para.style.name if para.style is not None else ""
            blocks.append(Paragraph(text=text, bold=bold, style=style))
        elif child.tag == qn("w:tbl"):
            table = docx.table.Table(child, document)
            blocks.append(_docx_table(table, qn))
    return blocks


def _docx_table(table, qn) -> Table:
    """Read a Word table cell by cell from the XML so merges are explicit.

    Horizontal merges (gridSpan) repeat the value across the spanned columns; vertical merges (vMerge
    continue) repeat the value of the cell above and are flagged in `merged`.
    """
    rows: list[list[str]] = []
    merged: list[list[bool]] = []
    bold: list[list[bool]] = []
    for tr in table._tbl.tr_lst:
        row: list[str] = []
        row_merged: list[bool] = []
        row_bold: list[bool] = []
        for tc in tr.tc_lst:
            tcPr = tc.tcPr
            span = 1
            vmerge = None
            if tcPr is not None:
                gs = tcPr.find(qn("w:gridSpan"))
                if gs is not None:
                    span = int(gs.get(qn("w:val")) or 1)
                vm = tcPr.find(qn("w:vMerge"))
                if vm is not None:
                    vmerge = vm.get(qn("w:val")) or "continue"
            paras = tc.findall(qn("w:p"))
            texts = []
            all_bold = True
            any_text = False
            for p in paras:
                ptext = "".join(t.text or "" for t in p.iter(qn("w:t")))
                if ptext.strip():
                    texts.append(ptext)
                    any_text = True
                    for r in p.findall(qn("w:r")):
                        rt = "".join(t.text or "" for t in r.iter(qn("w:t")))
                        if rt.strip():
                            rpr = r.find(qn("w:rPr"))
                            b = rpr is not None and rpr.find(qn("w:b")) is not None
                            all_bold = all_bold and b
            text = normalize(" ".join(texts))
            is_cont = vmerge == "continue"
            col = len(row)
            if is_cont and rows and col < len(rows[-1]):
                text = rows[-1][col]
            for _ in range(span):
                row.append(text)
                row_merged.append(is_cont)
                row_bold.append(any_text and all_bold)
        rows.append(row)
        merged.append(row_merged)
        bold.append(row_bold)
    width = max((len(r) for r in rows), default=0)
    rows = [r + [""] * (width - len(r)) for r in rows]
    merged = [m + [False] * (width - len(m)) for m in merged]
    bold = [b + [False] * (width - len(b)) for b in bold]
    return Table(rows=rows, merged=merged, bold=bold)


def _load_pdf(path: Path) -> list[Block]:
    try:
        import pdfplumber
    except ImportError as exc:  # pragma: no cover
        raise LoadError(f"thiếu thư viện pdfplumber: {exc}") from exc
    blocks: list[Block] = []
    try:
        with pdfplumber.open(str(path)) as pdf:
            if not pdf.pages:
                raise LoadError("PDF không có trang nào")
            for page in pdf.pages:
                tables = page.find_tables()
                bboxes = [t.bbox for t in tables]

                def outside(obj, bboxes=bboxes):
                    x = (obj["x0"] + obj["x1"]) / 2
                    y = (obj["top"] + obj["bottom"]) / 2
                    return not any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b in bboxes)

                text_page = page.filter(outside) if bboxes else page
                top_of_first_table = min((b[1] for b in bboxes), default=None)
                if top_of_first_table is None:
                    blocks.extend(text_to_blocks(text_page.extract_text() or ""))
                    continue
                # Text above the first table, the tables, then the text below: tables that continue
                # across pages stay adjacent, so the structure stage can join their rows.
                # Split the page's text lines by vertical position relative to the tables.
                words = text_page.extract_words(keep_blank_chars=True, use_text_flow=True)
                above = [w for w in words if w["bottom"] <= top_of_first_table]
                above_text = _words_to_text(above)
                below_text = _words_to_text([w for w in words if w["bottom"] > top_of_first_table])
                blocks.extend(text_to_blocks(above_text))
                for t in tables:
                    data = t.extract()
                    rows = [[clean_cell((c or "").replace("\n", " ")) for c in r] for r in data if r]
                    if rows:
                        # pdfplumber gives None for cells covered by a merge: mark them merged.
                        merged = [[c is None for c in r] for r in data if r]
                        blocks.append(Table(rows=rows, merged=merged))
                blocks.extend(text_to_blocks(below_text))
    except LoadError:
        raise
    except Exception as exc:
        raise LoadError(f"tệp PDF hỏng hoặc không đọc được: {exc.__class__.__name__}: {exc}") from exc
    if not any(isinstance(b, Table) or (isinstance(b, Paragraph) and b.text) for b in blocks):
        raise LoadError("PDF không có lớp chữ (có thể là bản scan, cần OCR)")
    return blocks


def _words_to_text(words: list[dict]) -> str:
    lines: list[list[dict]] = []
    for w in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
        if lines and abs(lines[-1][0]["top"] - w["top"]) < 3:
            lines[-1].append(w)
        else:
            lines.append([w])
    return "\n".join(" ".join(x["text"] for x in sorted(line, key=lambda w: w["x0"])) for line in lines)


def _load_csv(path: Path) -> list[Block]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError("CSV phải ở bảng mã UTF-8") from exc
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = [[normalize(c) for c in r] for r in csv.reader(io.StringIO(text), dialect)]
    rows = [r for r in rows if any(c for c in r)]
    if not rows:
        raise LoadError("CSV rỗng")
    return [Table(rows=rows)]


def _load_xlsx(path: Path) -> list[Block]:
    try:
        import openpyxl
    except ImportError as exc:  # pragma: no cover
        raise LoadError(f"thiếu thư viện openpyxl: {exc}") from exc
    try:
        wb = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
    except Exception as exc:
        raise LoadError(f"tệp XLSX hỏng: {exc.__class__.__name__}: {exc}") from exc
    blocks: list[Block] = []
    for ws in wb.worksheets:
        rows = []
        for r in ws.iter_rows(values_only=True):
            cells = [normalize("" if c is None else str(c)) for c in r]
            if any(cells):
                rows.append(cells)
        if rows:
            blocks.append(Table(rows=rows))
    if not blocks:
        raise LoadError("XLSX không có dữ liệu")
    return blocks


_LOADERS = {
    ".txt": _load_text,
    ".md": _load_text,
    ".docx": _load_docx,
    ".pdf": _load_pdf,
    ".csv": _load_csv,
    ".xlsx": _load_xlsx,
}


def load(path: Path) -> RawDocument:
    """Read one file into blocks. Raises LoadError with a human-readable reason."""
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in _LOADERS:
        raise LoadError(f"định dạng {ext or '(không có đuôi)'} chưa hỗ trợ")
    if path.stat().st_size == 0:
        raise LoadError("tệp rỗng (0 byte)")
    blocks = _LOADERS[ext](path)
    return RawDocument(path=path, sha=file_sha(path), blocks=blocks, kind=ext[1:])
