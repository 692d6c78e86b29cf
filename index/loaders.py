"""File loaders: one reader per encoding, all emitting the element model of `index.elements`.

.txt/.md (`index.text_reader`: tab rows, markdown pipe tables, one-cell-per-line tables, wrapped paragraphs),
.docx (python-docx, merges and Word's automatic numbering read from the XML), .pdf (pdfplumber tables and
words, running headers/footers and page numbers dropped), .csv/.xlsx (one table per sheet), .json (records of
the national procedure database, kept as parsed data for `index.national`). Page furniture is flagged by
`index.furniture` for every format.

Loaders only read; a file that cannot or must not be read raises `LoadError` with the reason the index command
reports. Limits (bytes, uncompressed size, pages, paragraphs) protect the indexer from a file that would take
all memory or hours.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .elements import Block, Paragraph, RawDocument, Table
from .furniture import mark_furniture
from .text_reader import clean_cell, text_to_blocks
from .textnorm import normalize

__all__ = ["SUPPORTED", "LoadError", "Limits", "Paragraph", "RawDocument", "Table", "Block", "clean_cell",
           "file_sha", "load", "text_to_blocks"]

SUPPORTED = {".txt", ".md", ".docx", ".pdf", ".csv", ".xlsx", ".json"}


class LoadError(Exception):
    """A file that cannot be read; the message is the reason shown to the operator."""


@dataclass(frozen=True)
class Limits:
    """Per-file limits. A plan is tens of KB; these leave two orders of magnitude of room."""

    max_bytes: int = 20 * 1024 * 1024  # on disk
    max_uncompressed: int = 100 * 1024 * 1024  # DOCX/XLSX: sum of the zip members
    max_pages: int = 600  # PDF
    max_blocks: int = 60_000  # paragraphs + tables after reading
    max_chars: int = 5_000_000  # decoded text


def file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


# ------------------------------------------------------------------------------------------------ text

def _decode(raw: bytes) -> str:
    for enc in ("utf-8-sig", "utf-16", "cp1258"):
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        if enc == "utf-16" and not raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
            continue  # without a BOM, UTF-16 "decodes" almost anything into nonsense
        return text
    raise LoadError("không đọc được bảng mã (not UTF-8/UTF-16/CP1258)")


def _load_text(path: Path, limits: Limits) -> list[Block]:
    text = _decode(path.read_bytes())
    if "\x00" in text:
        raise LoadError("tệp nhị phân, không phải văn bản (binary content)")
    if len(text) > limits.max_chars:
        raise LoadError(f"văn bản quá dài ({len(text):,} ký tự, tối đa {limits.max_chars:,})")
    return text_to_blocks(text)


# ------------------------------------------------------------------------------------------------ docx

def _check_zip(path: Path, limits: Limits) -> None:
    try:
        with zipfile.ZipFile(path) as z:
            total = sum(i.file_size for i in z.infolist())
    except zipfile.BadZipFile as exc:
        raise LoadError(f"tệp hỏng hoặc không đúng định dạng (not a zip container): {exc}") from exc
    if total > limits.max_uncompressed:
        raise LoadError(f"tệp giải nén quá lớn ({total // 2**20} MB, tối đa {limits.max_uncompressed // 2**20} MB)")


_ROMAN = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"),
          (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]


def _roman(n: int) -> str:
    out = ""
    for v, s in _ROMAN:
        while n >= v:
            out += s
            n -= v
    return out


def _format_number(n: int, fmt: str) -> str:
    if fmt in ("upperRoman", "lowerRoman"):
        r = _roman(n)
        return r if fmt == "upperRoman" else r.lower()
    if fmt in ("upperLetter", "lowerLetter"):
        letters = "abcdefghijklmnopqrstuvwxyz"
        s = letters[(n - 1) % 26] * ((n - 1) // 26 + 1)
        return s.upper() if fmt == "upperLetter" else s
    if fmt in ("decimalZero",):
        return f"{n:02d}"
    return str(n)


class _Numbering:
    """Word's automatic numbering (numbering.xml): the label ("1.", "a)", "II.", "2.1.") each numbered
    paragraph shows, which is not in its text. Counters run per list (numId); a level's counter restarts when
    a higher level advances."""

    def __init__(self, document, qn):
        self.qn = qn
        self.levels: dict[str, dict[int, tuple[int, str, str]]] = {}  # numId -> ilvl -> (start, fmt, lvlText)
        self.counters: dict[str, dict[int, int]] = {}
        try:
            root = document.part.numbering_part.element
        except (NotImplementedError, AttributeError, KeyError):
            return
        abstract: dict[str, dict[int, tuple[int, str, str]]] = {}
        for an in root.findall(qn("w:abstractNum")):
            lv: dict[int, tuple[int, str, str]] = {}
            for lvl in an.findall(qn("w:lvl")):
                ilvl = int(lvl.get(qn("w:ilvl")) or 0)
                start_el, fmt_el, text_el = lvl.find(qn("w:start")), lvl.find(qn("w:numFmt")), lvl.find(qn("w:lvlText"))
                start = int(start_el.get(qn("w:val"))) if start_el is not None else 1
                fmt = fmt_el.get(qn("w:val")) if fmt_el is not None else "decimal"
                text = text_el.get(qn("w:val")) if text_el is not None else f"%{ilvl + 1}."
                lv[ilvl] = (start, fmt, text)
            abstract[an.get(qn("w:abstractNumId"))] = lv
        for num in root.findall(qn("w:num")):
            ref = num.find(qn("w:abstractNumId"))
            if ref is None:
                continue
            lv = dict(abstract.get(ref.get(qn("w:val")), {}))
            for ov in num.findall(qn("w:lvlOverride")):
                ilvl = int(ov.get(qn("w:ilvl")) or 0)
                so = ov.find(qn("w:startOverride"))
                if so is not None and ilvl in lv:
                    s, f, t = lv[ilvl]
                    lv[ilvl] = (int(so.get(qn("w:val"))), f, t)
            self.levels[num.get(qn("w:numId"))] = lv

    def _num_pr(self, para):
        qn = self.qn
        ppr = para._p.pPr
        if ppr is not None and ppr.numPr is not None:
            return ppr.numPr
        style = para.style
        while style is not None:  # numbering inherited from the paragraph style (numbered headings)
            sppr = style.element.pPr
            if sppr is not None and sppr.find(qn("w:numPr")) is not None:
                return sppr.find(qn("w:numPr"))
            style = style.base_style
        return None

    def label(self, para) -> str:
        qn = self.qn
        num_pr = self._num_pr(para)
        if num_pr is None:
            return ""
        num_el, ilvl_el = num_pr.find(qn("w:numId")), num_pr.find(qn("w:ilvl"))
        num_id = num_el.get(qn("w:val")) if num_el is not None else None
        ilvl = int(ilvl_el.get(qn("w:val"))) if ilvl_el is not None else 0
        levels = self.levels.get(num_id or "")
        if not levels or ilvl not in levels or num_id == "0":
            return ""
        counters = self.counters.setdefault(num_id, {})
        start, fmt, text = levels[ilvl]
        counters[ilvl] = counters.get(ilvl, start - 1) + 1
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]
        if fmt == "bullet":
            return "-"
        if fmt == "none":
            return ""

        def sub(m: re.Match) -> str:
            k = int(m.group(1)) - 1
            s, f, _ = levels.get(k, (1, "decimal", ""))
            return _format_number(counters.get(k, s), f)

        return re.sub(r"%(\d)", sub, text).strip()


def _load_docx(path: Path, limits: Limits) -> list[Block]:
    _check_zip(path, limits)
    try:
        import docx  # python-docx
        from docx.oxml.ns import qn
    except ImportError as exc:  # pragma: no cover - dependency is in the default install
        raise LoadError(f"thiếu thư viện python-docx: {exc}") from exc
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # zip errors, XML errors, not a docx
        raise LoadError(f"tệp DOCX hỏng hoặc không đúng định dạng: {exc.__class__.__name__}: {exc}") from exc
    numbering = _Numbering(document, qn)
    blocks: list[Block] = []
    for child in document.element.body.iterchildren():
        if len(blocks) > limits.max_blocks:
            raise LoadError(f"quá nhiều đoạn văn (trên {limits.max_blocks:,})")
        if child.tag == qn("w:p"):
            para = docx.text.paragraph.Paragraph(child, document)
            text = normalize(para.text)
            label = numbering.label(para) if text else ""
            if label:
                text = f"{label} {text}"
            runs = [r for r in para.runs if r.text.strip()]
            bold = bool(runs) and all(bool(r.bold) for r in runs)
            italic = bool(runs) and all(bool(r.italic) for r in runs)
            style = para.style.name if para.style is not None else ""
            blocks.append(Paragraph(text=text, bold=bold, italic=italic, style=style))
        elif child.tag == qn("w:tbl"):
            table = docx.table.Table(child, document)
            blocks.append(_docx_table(table, qn))
    return blocks


def _docx_table(table, qn) -> Table:
    """Read a Word table cell by cell from the XML so merges are explicit.

    Horizontal merges (gridSpan) repeat the value across the spanned columns; vertical merges (vMerge
    continue) repeat the value of the cell above and are flagged in `merged`. Paragraphs inside a cell are kept
    as lines ("\\n") so multi-item cells can be split.
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
            texts = []
            all_bold = True
            any_text = False
            for p in tc.iter(qn("w:p")):
                ptext = "".join(t.text or "" for t in p.iter(qn("w:t")))
                if ptext.strip():
                    texts.append(normalize(ptext))
                    any_text = True
                    for r in p.findall(qn("w:r")):
                        rt = "".join(t.text or "" for t in r.iter(qn("w:t")))
                        if rt.strip():
                            rpr = r.find(qn("w:rPr"))
                            b = rpr is not None and rpr.find(qn("w:b")) is not None
                            all_bold = all_bold and b
            text = "\n".join(texts)
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


# ------------------------------------------------------------------------------------------------ pdf

_PAGE_FURNITURE = re.compile(r"^(?:trang\s*)?\d{1,3}(?:\s*/\s*\d{1,3})?$|^-\s*\d{1,3}\s*-$", re.I)


def _running_lines(pages_lines: list[list[str]]) -> set[str]:
    """Lines repeated at the top or bottom of most pages (running headers/footers), digits ignored."""
    if len(pages_lines) < 3:
        return set()
    counts: Counter = Counter()
    for lines in pages_lines:
        edge = {re.sub(r"\d+", "#", ln.strip()) for ln in lines[:2] + lines[-2:] if ln.strip()}
        counts.update(edge)
    return {k for k, c in counts.items() if c >= max(3, 0.6 * len(pages_lines))}


def _load_pdf(path: Path, limits: Limits) -> list[Block]:
    try:
        import pdfplumber
    except ImportError as exc:  # pragma: no cover
        raise LoadError(f"thiếu thư viện pdfplumber: {exc}") from exc
    pages: list[tuple[list[str], list[Table], list[str]]] = []  # (lines above, tables, lines below)
    try:
        with pdfplumber.open(str(path)) as pdf:
            if not pdf.pages:
                raise LoadError("PDF không có trang nào")
            if len(pdf.pages) > limits.max_pages:
                raise LoadError(f"PDF quá nhiều trang ({len(pdf.pages)}, tối đa {limits.max_pages})")
            for page in pdf.pages:
                tables = page.find_tables()
                bboxes = [t.bbox for t in tables]

                def outside(obj, bboxes=bboxes):
                    x = (obj["x0"] + obj["x1"]) / 2
                    y = (obj["top"] + obj["bottom"]) / 2
                    return not any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b in bboxes)

                text_page = page.filter(outside) if bboxes else page
                words = text_page.extract_words(keep_blank_chars=True, use_text_flow=True)
                top = min((b[1] for b in bboxes), default=None)
                above = [w for w in words if top is None or w["bottom"] <= top]
                below = [w for w in words if top is not None and w["bottom"] > top]
                page_tables = []
                for t in tables:
                    data = t.extract()
                    rows = [[clean_cell((c or "").replace("\n", " ")) for c in r] for r in data if r]
                    if rows:
                        # pdfplumber gives None for cells covered by a merge: mark them merged.
                        page_tables.append(Table(rows=rows, merged=[[c is None for c in r] for r in data if r]))
                pages.append((_words_to_lines(above), page_tables, _words_to_lines(below)))
    except LoadError:
        raise
    except Exception as exc:
        raise LoadError(f"tệp PDF hỏng hoặc không đọc được: {exc.__class__.__name__}: {exc}") from exc
    running = _running_lines([a + b for a, _, b in pages])

    def keep(lines: list[str]) -> str:
        return "\n".join(ln for ln in lines if not _PAGE_FURNITURE.match(ln.strip())
                         and re.sub(r"\d+", "#", ln.strip()) not in running)

    blocks: list[Block] = []
    for above, tables, below in pages:
        # Text above the first table, the tables, then the text below: a table that continues on the next
        # page stays adjacent to its first part, so the structure stage can join their rows.
        blocks.extend(text_to_blocks(keep(above)))
        blocks.extend(tables)
        blocks.extend(text_to_blocks(keep(below)))
    if not any(isinstance(b, Table) or (isinstance(b, Paragraph) and b.text) for b in blocks):
        raise LoadError("PDF không có lớp chữ (có thể là bản scan, cần OCR)")
    return blocks


def _words_to_lines(words: list[dict]) -> list[str]:
    lines: list[list[dict]] = []
    for w in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
        if lines and abs(lines[-1][0]["top"] - w["top"]) < 3:
            lines[-1].append(w)
        else:
            lines.append([w])
    return [" ".join(x["text"] for x in sorted(line, key=lambda w: w["x0"])) for line in lines]


# ------------------------------------------------------------------------------------------------ sheets

def _load_csv(path: Path, limits: Limits) -> list[Block]:
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
    if len(rows) > limits.max_blocks:
        raise LoadError(f"CSV quá nhiều dòng (trên {limits.max_blocks:,})")
    return [Table(rows=rows)]


def _load_xlsx(path: Path, limits: Limits) -> list[Block]:
    _check_zip(path, limits)
    try:
        import openpyxl
    except ImportError as exc:  # pragma: no cover
        raise LoadError(f"thiếu thư viện openpyxl: {exc}") from exc
    try:
        wb = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
    except Exception as exc:
        raise LoadError(f"tệp XLSX hỏng: {exc.__class__.__name__}: {exc}") from exc
    blocks: list[Block] = []
    n = 0
    for ws in wb.worksheets:
        rows = []
        for r in ws.iter_rows(values_only=True):
            cells = [normalize("" if c is None else str(c)) for c in r]
            if any(cells):
                rows.append(cells)
                n += 1
                if n > limits.max_blocks:
                    raise LoadError(f"XLSX quá nhiều dòng (trên {limits.max_blocks:,})")
        if rows:
            blocks.append(Table(rows=rows))
    if not blocks:
        raise LoadError("XLSX không có dữ liệu")
    return blocks


# ------------------------------------------------------------------------------------------------ json

def _load_json(path: Path, limits: Limits):
    try:
        data = json.loads(_decode(path.read_bytes()))
    except json.JSONDecodeError as exc:
        raise LoadError(f"JSON không hợp lệ: dòng {exc.lineno}, cột {exc.colno}: {exc.msg}") from exc
    return data


_LOADERS = {
    ".txt": _load_text,
    ".md": _load_text,
    ".docx": _load_docx,
    ".pdf": _load_pdf,
    ".csv": _load_csv,
    ".xlsx": _load_xlsx,
}


def load(path: Path, limits: Limits | None = None) -> RawDocument:
    """Read one file into elements (or parsed JSON data). Raises LoadError with a human-readable reason."""
    path = Path(path)
    limits = limits or Limits()
    ext = path.suffix.lower()
    if ext not in SUPPORTED:
        raise LoadError(f"định dạng {ext or '(không có đuôi)'} chưa hỗ trợ")
    size = path.stat().st_size
    if size == 0:
        raise LoadError("tệp rỗng (0 byte)")
    if size > limits.max_bytes:
        raise LoadError(f"tệp quá lớn ({size / 2**20:.1f} MB, tối đa {limits.max_bytes / 2**20:.0f} MB)")
    if ext == ".json":
        return RawDocument(path=path, sha=file_sha(path), blocks=[], kind="json", data=_load_json(path, limits))
    blocks = _LOADERS[ext](path, limits)
    if len(blocks) > limits.max_blocks:
        raise LoadError(f"quá nhiều đoạn văn (trên {limits.max_blocks:,})")
    mark_furniture(blocks)
    return RawDocument(path=path, sha=file_sha(path), blocks=blocks, kind=ext[1:])
