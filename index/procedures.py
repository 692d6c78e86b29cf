"""Catalogues of administrative procedures (TTHC): recognise, parse, normalise, store.

A commune publishes its procedures as the appendix of a decision ("Quyết định công bố danh mục thủ tục hành
chính ..."), DOCX or PDF:

- Phần I: a list table (STT | Mã TTHC | Tên thủ tục | Lĩnh vực | Thời hạn giải quyết | Phí, lệ phí | Căn cứ
  pháp lý ...; columns vary, a column may be missing, headers may take two rows, group rows "I. Lĩnh vực Hộ
  tịch" may replace the field column, PDF tables are split across pages and a row may continue on the next).
- Phần II: one block per procedure, a title line ("1. Thủ tục đăng ký khai sinh (mã 1.001193)") followed by
  the official lettered headings a) Trình tự thực hiện, b) Cách thức thực hiện, c) Thành phần, số lượng hồ
  sơ, d) Thời hạn giải quyết, đ) Đối tượng thực hiện, e) Cơ quan thực hiện, g) Kết quả, h) Phí, lệ phí, i) Tên
  mẫu đơn, tờ khai, k) Yêu cầu, điều kiện, l) Căn cứ pháp lý. Letters, numbering and wording vary; the heading
  may carry its content after a colon; some catalogues have only the list; some put each block in a two-column
  table (heading | content).

Real decisions add more (all read by the same parser, whatever the element reader made of them): a province's
decision that only lists its procedures (answered from the list; the answer says the decision lists no papers);
tables crawled one cell per line, whose first row also holds the signature and the appendix title and whose
"rows" may carry the next part's first cells (the header is found anywhere in a row, the list ends where a row
reads like something else, the spilled cells are read as lines); markdown pipe tables whose second header row
splits one column (columns re-aligned by what the cells contain); group rows "I", "I.1" for the field and for the
level ("Thủ tục hành chính cấp xã"); blocks numbered "1.1 … 1.11" or laid out as two-column rows; codes printed
with their locality suffix ("3.000527.H61", even "2.000815.00 0.00.00.H61"), keyed by the base code; sections
of amended and abolished procedures (status and the decision's note); internal-process tables (Bước | nội
dung | trách nhiệm | thời gian), which are not procedures but whose total times become facts of the procedure
they name. The decision's number, date and issuer come from its header block (`index.docmeta.read_meta`).

`is_catalogue` recognises the genre by content (never by file name); `parse_catalogue` returns a `Catalogue`
whose `procedures` merge the list-table facts with the block facts (block text wins where both exist; every
field records the section it came from in `Procedure.sources`).

Hand-kept catalogues (CSV / XLSX, one row per procedure) are parsed by the same `parse_catalogue`. Accepted
column names (case and diacritics ignored; the first matching rule wins; only the name column is required):

    name          "Tên thủ tục", "Tên TTHC", "Thủ tục", "Tên"
    code          "Mã", "Mã TTHC", "Mã số", "Mã thủ tục"
    field         "Lĩnh vực"
    locality      "Địa phương", "Xã/phường", "Đơn vị hành chính"
    decision      "Quyết định", "Quyết định công bố", "Văn bản công bố"
    steps         "Trình tự", "Trình tự thực hiện", "Các bước"
    channels      "Cách thức", "Cách thức thực hiện", "Hình thức nộp", "Địa điểm", "Nơi tiếp nhận"
    documents     "Hồ sơ", "Thành phần hồ sơ", "Thành phần, số lượng hồ sơ", "Giấy tờ"
    time_limit    "Thời hạn", "Thời hạn giải quyết", "Thời gian giải quyết"
    fee           "Phí", "Lệ phí", "Phí, lệ phí", "Mức thu"
    applicants    "Đối tượng", "Đối tượng thực hiện"
    agency        "Cơ quan", "Cơ quan thực hiện", "Cơ quan giải quyết", "Thẩm quyền"
    result        "Kết quả", "Kết quả thực hiện"
    forms         "Mẫu đơn", "Tên mẫu đơn, tờ khai", "Biểu mẫu", "Tờ khai"
    conditions    "Điều kiện", "Yêu cầu, điều kiện"
    legal_basis   "Căn cứ pháp lý", "Căn cứ", "Cơ sở pháp lý"

Multi-item cells (steps, documents, forms, legal basis) are split on new lines, on "; " and on leading "-".
Without a locality column the locality comes from the file's text, else the file name stem is NOT used
(recognition is by content): it stays "" and the caller may pass `locality=`.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, fields
from dataclasses import field as dc_field
from pathlib import Path

from .loaders import Paragraph, RawDocument, Table
from .textnorm import fold, normalize

# --------------------------------------------------------------------------------------------- records

FIELDS = ["steps", "channels", "documents", "time_limit", "applicants", "agency", "result", "fee", "forms",
          "conditions", "legal_basis"]
FIELD_LABELS = {
    "code": "Mã thủ tục",
    "name": "Tên thủ tục",
    "field": "Lĩnh vực",
    "steps": "Trình tự thực hiện",
    "channels": "Cách thức thực hiện",
    "documents": "Thành phần, số lượng hồ sơ",
    "time_limit": "Thời hạn giải quyết",
    "applicants": "Đối tượng thực hiện",
    "agency": "Cơ quan thực hiện",
    "result": "Kết quả thực hiện",
    "fee": "Phí, lệ phí",
    "forms": "Tên mẫu đơn, tờ khai",
    "conditions": "Yêu cầu, điều kiện",
    "legal_basis": "Căn cứ pháp lý",
}


@dataclass
class Procedure:
    """One administrative procedure of one locality's catalogue.

    Text fields keep the catalogue's wording (items joined by new lines); normalised forms sit beside them:
    `time_norm` = {"kind": same_day|working_days|days|hours|months|unspecified, "days": int|None (0 for the
    same day), "cutoff": "15:00"|None, "extra": [{"condition", "kind", "days"}]};
    `fee_amounts` = [{"amount_vnd": int, "unit": "trang"|"bản"|..., "note": clause}].
    """

    code: str
    name: str
    locality: str = ""
    field: str = ""  # lĩnh vực
    decision: str = ""  # "Quyết định số 1205/QĐ-UBND ngày 15/8/2025"
    document: str = ""  # file name
    doc_id: str = ""
    number: str = ""  # its number in Phần I/II ("1", "2.3")
    steps: list[str] = dc_field(default_factory=list)
    channels: dict = dc_field(default_factory=dict)  # {"in_person","online","post": bool, "raw": str}
    documents: list[dict] = dc_field(default_factory=list)  # [{"name", "quantity", "group"}]
    documents_raw: str = ""
    time_limit: str = ""
    time_norm: dict = dc_field(default_factory=dict)
    fee: str = ""
    fee_amounts: list[dict] = dc_field(default_factory=list)
    fee_exempt: bool = False
    fee_set_by_province: bool = False
    applicants: str = ""
    agency: str = ""
    result: str = ""
    forms: list[str] = dc_field(default_factory=list)
    conditions: str = ""
    legal_basis: list[str] = dc_field(default_factory=list)
    sources: dict = dc_field(default_factory=dict)  # field -> section / heading text it came from
    extra: dict = dc_field(default_factory=dict)  # other sections / columns, heading -> text
    # --- where the record comes from and where it applies
    origin: str = ""  # "catalogue" (a commune's list) | "decision" (a province's decision) | "national" (CSDLQG)
    scope: str = ""  # "commune" | "province" | "national" (general rules that apply to every commune) | ""
    level: str = ""  # who performs it: "commune" | "district" | "province" | "ministry" (comma-joined)
    issuer: str = ""  # who published the record: "Bộ Tư pháp", "UBND tỉnh Đắk Lắk", "UBND xã Hải Hậu"
    province: str = ""  # the province / city the record belongs to ("Đắk Lắk"), "" when national
    promulgation: str = ""  # "Quyết định số 163/QĐ-BTP ngày 16/01/2026 của Bộ Tư pháp" (national records)
    status: str = ""  # "" | "new" | "amended" | "abolished" (from the decision that lists it)
    status_note: str = ""  # the decision's own words on the change ("bị bãi bỏ tại Quyết định số …")
    # --- the national record's finer structure
    channel_details: list[dict] = dc_field(default_factory=list)  # per submission channel: channel, label,
    #   time, time_norm, fees [{amount_vnd, text, free, by_province}], description
    cases: list[dict] = dc_field(default_factory=list)  # [{"name", "code", "time", "time_norm"}]
    receiving: str = ""  # where the file is handed in (dossierReceivingAddresses / the list's "Địa điểm")
    keywords: list[str] = dc_field(default_factory=list)  # the record's own keywords and service groups
    facts: list[dict] = dc_field(default_factory=list)  # [{"label", "text", "source"}] e.g. internal total time
    listed_only: bool = False  # the decision only lists it (no per-procedure block: no papers, no steps)

    @property
    def id(self) -> str:
        key = self.code or re.sub(r"[^a-z0-9]+", "-", fold(self.name)).strip("-")[:60]
        loc = re.sub(r"[^a-z0-9]+", "-", locality_key(self.locality)).strip("-")
        return f"{loc or 'chung'}:{key}"

    def text_of(self, fld: str) -> str:
        """The catalogue's own text for a field, for quoting."""
        if fld == "steps":
            return "\n".join(self.steps)
        if fld == "channels":
            return self.channels.get("raw", "") if self.channels else ""
        if fld == "documents":
            return self.documents_raw or "\n".join(_doc_line(d) for d in self.documents)
        if fld == "forms":
            return "\n".join(self.forms)
        if fld == "legal_basis":
            return "\n".join(self.legal_basis)
        return str(getattr(self, fld, "") or "")

    def citation(self) -> str:
        """Where the record comes from, as the answer cites it."""
        if self.origin == "national":
            cite = "Cơ sở dữ liệu quốc gia về thủ tục hành chính" + (f", mã {self.code}" if self.code else "")
            return cite + (f" (công bố kèm {self.promulgation})" if self.promulgation else "")
        if self.origin == "decision" and self.decision and self.issuer and fold(self.issuer) not in fold(self.decision):
            return f"{self.decision} của {self.issuer}"  # a province's decision says whose it is
        return self.decision or self.document

    def to_row(self) -> dict:
        d = asdict(self)
        d["id"] = self.id
        for k, v in list(d.items()):
            if isinstance(v, (list, dict)):
                d[k] = json.dumps(v, ensure_ascii=False)
        return d

    @classmethod
    def from_row(cls, row: dict) -> "Procedure":
        kw = {}
        for f in fields(cls):
            v = row.get(f.name)
            if f.type == "bool":
                v = bool(v)
            elif isinstance(v, str) and f.type in ("list[str]", "list[dict]", "dict"):
                v = json.loads(v) if v else ([] if f.type.startswith("list") else {})
            if v is None:
                continue
            kw[f.name] = v
        return cls(**kw)


@dataclass
class Catalogue:
    document: str
    doc_id: str
    title: str = ""
    decision: str = ""
    locality: str = ""
    procedures: list[Procedure] = dc_field(default_factory=list)
    has_list: bool = False
    has_blocks: bool = False
    warnings: list[str] = dc_field(default_factory=list)
    fields: int = 0  # non-empty fields over all procedures (the index report)


def _doc_line(d: dict) -> str:
    return d["name"] + (f" ({d['quantity']})" if d.get("quantity") and d["quantity"] not in d["name"] else "")


def locality_key(locality: str) -> str:
    """'phường An Phú' -> 'an phu' (type word dropped) for comparing localities."""
    f = fold(locality)
    f = re.sub(r"^(?:ubnd|uy ban nhan dan)\s+", "", f)
    f = re.sub(r"^(?:xa|phuong|thi tran|thi xa|dac khu)\s+", "", f)
    return f.strip()


# --------------------------------------------------------------------------------------------- headings

_MARK = r"(?:(?:[a-zđ]|[ivx]{1,4}|\d{1,2}(?:\.\d{1,2}){0,2})\s*[).:]|\(\s*(?:[a-zđ]|\d{1,2})\s*\)|[-+•*–]|\d{1,2}(?:\.\d{1,2}){1,2})?"
# (field, folded heading phrase) — the phrase must start the heading text (after the marker).
_HEAD_PHRASES: list[tuple[str, str]] = [
    ("steps", r"trinh tu(?:,? cach thuc)?(?: thuc hien| giai quyet)?"),
    ("channels", r"cach thuc(?: thuc hien| nop ho so)?|hinh thuc nop(?: ho so)?|dia (?:diem|chi) (?:thuc hien|tiep nhan)(?: ho so)?|noi tiep nhan(?: ho so)?"),
    ("documents", r"thanh phan,?(?: va)? so luong ho so|thanh phan ho so|ho so(?: bao gom| gom)?|so luong ho so|giay to can nop"),
    ("time_limit", r"thoi han giai quyet|thoi gian giai quyet|thoi han thuc hien|thoi gian thuc hien|thoi han"),
    ("applicants", r"doi tuong thuc hien|doi tuong"),
    ("agency", r"co quan (?:thuc hien|giai quyet|co tham quyen|tiep nhan)|co quan|tham quyen giai quyet"),
    ("result", r"ket qua(?: thuc hien| giai quyet)?"),
    ("fee", r"phi\s*[,/]?\s*le phi|le phi\s*[,/]?\s*phi|le phi|phi|muc thu(?: phi, le phi)?"),
    ("forms", r"ten mau don,?(?: mau)? to khai|mau don,?(?: mau)? to khai|ten mau don|mau don|bieu mau|mau to khai"),
    ("conditions", r"yeu cau,? dieu kien(?: thuc hien)?|yeu cau hoac dieu kien|yeu cau|dieu kien(?: thuc hien)?"),
    ("legal_basis", r"can cu phap ly|co so phap ly|can cu"),
]
_HEAD_RX = [(f, re.compile(rf"^\s*({_MARK})\s*({p})\b(.*)$")) for f, p in _HEAD_PHRASES]
_SPECIFIC = {"steps", "channels", "documents", "fee"}  # headings a plan does not use
_SUFFIX_OK = re.compile(
    r"^\s*(?:(?:cua|doi voi)?\s*(?:thu tuc|tthc)(?: hanh chinh)?|thuc hien(?: thu tuc(?: hanh chinh)?| tthc)?|"
    r"giai quyet(?: thu tuc(?: hanh chinh)?| tthc)?|hanh chinh|(?:va )?(?:muc thu|so luong|phuong thuc)|"
    r"(?:va )?le phi|thuc hien thu tuc|ho so|ban hanh)?\s*(?:\([^()]{0,40}\))?\s*[:.]?\s*$"
)


@dataclass
class _Head:
    field: str
    heading: str  # heading text as printed
    inline: str  # content after the colon on the same line
    lettered: bool


def match_heading(text: str, bold: bool = False) -> _Head | None:
    """A procedure-block heading ("c) Thành phần, số lượng hồ sơ:", "Phí, lệ phí: Không") or None."""
    t = normalize(text)
    if not t or len(t) > 400:
        return None
    f = fold(t)
    for fld, rx in _HEAD_RX:
        m = rx.match(f)
        if not m:
            continue
        marker = m.group(1).strip()
        rest = m.group(3)
        bullet = marker in ("-", "+", "•", "*", "–")
        lettered = bool(marker) and not bullet
        # The heading text is what comes before the first colon (if any), the rest is inline content.
        colon = t.find(":")
        if ":" in rest:
            head_f = f[: f.find(":")]
            tail = t[colon + 1:].strip()
        else:
            head_f = f
            tail = ""
        # Everything between the phrase and the colon must be heading words ("thủ tục hành chính", ...).
        between = head_f[m.end(2):] if len(head_f) >= m.end(2) else ""
        if not _SUFFIX_OK.match(between):
            continue
        if not lettered:
            # Unmarked or bulleted: a short standalone heading (bold, or ending with a colon, or exactly
            # the phrase) — never a content sentence that merely starts with "Kết quả ..." etc.
            if bullet and not (":" in rest and not tail) and not bold:
                continue
            if not bullet and not (bold or ":" in rest or not between.strip()):
                continue
        if not lettered and fld in ("fee", "result", "agency", "conditions") and tail and not bold and len(tail) > 300:
            continue
        heading = t[:colon].strip() if (":" in rest and colon >= 0) else t
        return _Head(fld, heading, tail, lettered)
    return None


# --------------------------------------------------------------------------------------------- titles

# A procedure code: the national base "2.000815", optionally with the locality suffix as printed
# ("2.000815.000.00.00.H61", "3.000527.H61", even "2.000815.00 0.00.00.H61" with a stray space). The base code is
# group 1 and is what records are keyed and asked by.
_CODE_SUFFIX = r"(?:\s?\.\s?[\d\s.]{0,14}?[A-Z]\d{2}(?![\w]))?"
_CODE_RX = re.compile(r"(?<![\d.])(\d\.\d{6})" + _CODE_SUFFIX + r"(?![\d])")
_CODE_PHRASE = re.compile(
    r"[\s,;\-–(\[]*(?:mã\s*(?:số)?\s*(?:TTHC|thủ tục(?: hành chính)?|hồ sơ)?\s*[:.]?\s*|"
    r"Mã\s*(?:số)?\s*(?:TTHC|thủ tục(?: hành chính)?)?\s*[:.]?\s*)?"
    r"(\d\.\d{6})" + _CODE_SUFFIX + r"\s*[)\]]?",
    re.I,
)
_TITLE_START = re.compile(r"^\s*(?:(\d{1,3}(?:\.\d{1,3}){0,2})\s*[.)]?\s+(?=\S)|(?=thủ tục\b)|(?=tên thủ tục))", re.I)
_GROUP_RX = re.compile(r"^\s*(?:(?:[IVXLC]{1,5}|[A-Z]|\d{1,2})\s*[.)\-–]\s*)?(?:LĨNH VỰC|Lĩnh vực|lĩnh vực)\s*[:\-–]?\s*(.+?)\s*$")
_PART_RX = re.compile(r"^\s*(?:PHẦN|Phần)\s+([IVX]+|\d+|thứ \w+)\b\.?\s*(.*)$")
# What follows the blocks: a form's title ("Mẫu số 22. Đăng ký …", bold), another appendix, the internal processes.
_AFTER_BLOCKS = re.compile(r"^(?:mau so \d+\s*[.:]\s|phu luc\s+(?:[ivx]+|\d+)\s*$|quy trinh noi bo\b)")


def _after_blocks(ln: "_Line") -> bool:
    f = fold(ln.text)
    return bool(_AFTER_BLOCKS.match(f)) or (ln.bold and bool(re.match(r"^mau so \d+\b", f)) and len(f) < 150)
_END_RX = re.compile(r"^(?:noi nhan\b|tm\.? (?:uy ban|ubnd)|kt\.? chu tich|chu tich\s*$|(?:tm|kt)\.?\s*chu tich)")
_PAGE_NO = re.compile(r"^\s*(?:trang\s*)?[-–]?\s*\d{1,3}\s*[-–]?(?:\s*/\s*\d{1,3})?\s*$", re.I)
_BULLET_START = re.compile(r"^\s*(?:[-+•*–]|\(?\d{1,2}[.)]|\(?[a-zđ][).]|bước\s*\d|b\d\s*[:.)])", re.I)


def split_title(text: str) -> tuple[str, str, str]:
    """'1. Thủ tục đăng ký khai sinh (mã 1.001193)' -> ('1', 'Đăng ký khai sinh', '1.001193')."""
    t = normalize(text)
    number = ""
    m = re.match(r"^\s*(\d{1,3}(?:\.\d{1,3}){0,2})\s*[.)]?\s+", t)
    if m:
        number = m.group(1)
        t = t[m.end():]
    code = ""
    cm = _CODE_PHRASE.search(t)
    if cm:
        code = cm.group(1)
        t = (t[: cm.start()] + " " + t[cm.end():]).strip()
    t = re.sub(r"^(?:tên\s+)?thủ tục(?:\s+hành chính)?\s*(?:\d{1,3}\s*)?[:.\-–]?\s*", "", t, flags=re.I)
    t = re.sub(r"\(\s*\)", "", t)
    t = re.sub(r"[\s,;:\-–.]+$", "", t).strip()
    t = re.sub(r"^[\s,;:\-–.]+", "", t)
    t = re.sub(r"\s+", " ", t)
    if t and t[0].islower():
        t = t[0].upper() + t[1:]
    return number, t, code


# --------------------------------------------------------------------------------------------- lines

@dataclass
class _Line:
    text: str
    bold: bool = False
    style: str = ""
    table: Table | None = None
    block: int = 0


def _flatten(raw: RawDocument, start: int = 0, layouts: dict | None = None) -> list[_Line]:
    """The document as lines for the block reader. List tables are left out (their rows are read as the list),
    except the cells a crawl spilled into them from the next part; a table of a crawled text (one cell per line)
    is read as the lines it is made of, since its "rows" are runs of cells, not a grid."""
    out: list[_Line] = []
    pdfish = raw.kind in ("pdf", "txt", "md")
    crawled = raw.kind in ("txt", "md")
    kv_width = 0  # width of the last heading | content table, for its continuation on the next page
    layouts = layouts or {}
    for i, b in enumerate(raw.blocks[start:], start):
        if isinstance(b, Paragraph):
            for part in (b.text or "").split("\n"):
                part = normalize(part)
                if not part:
                    out.append(_Line("", block=i))
                    continue
                if pdfish and _PAGE_NO.match(part):
                    continue
                out.append(_Line(part, b.bold, b.style, block=i))
                kv_width = 0
            continue
        layout = layouts.get(id(b))
        if layout is not None:
            kv_width = 0
            out.extend(_explode(b, i, layout))
            continue
        kv = _kv_table(b, continuation=bool(kv_width) and b.rows and len(b.rows[0]) == kv_width)
        if kv:
            kv_width = len(b.rows[0])
            for head, content in _title_rows_first(kv):
                if head:
                    hf = fold(head)
                    if re.match(r"^ten (?:thu tuc|tthc)", hf):
                        out.append(_Line(f"Thủ tục {content}", True, "", block=i))
                        continue
                    if re.match(r"^ma (?:so|tthc|thu tuc|ho so)", hf):
                        out.append(_Line(f"Mã số: {content}", True, "", block=i))
                        continue
                    if re.match(r"^linh vuc", hf):
                        out.append(_Line(f"Lĩnh vực: {content}", True, "", block=i))
                        continue
                    out.append(_Line(head.rstrip(":") + ":", True, "", block=i))
                pieces = _split_cell_items(content)
                for piece in pieces:
                    # items of one cell are whole: mark them so PDF unwrapping does not join them
                    out.append(_Line(("- " + piece) if len(pieces) > 1 and not _BULLET_START.match(piece)
                                     else piece, block=i))
        elif crawled or b.ragged:
            kv_width = 0
            out.extend(_explode(b, i, None))
        else:
            kv_width = 0
            out.append(_Line("", table=b, block=i))
    return out


_NUM_TITLE = re.compile(r"^\s*\d{1,3}\s*[.)]\s*(?:(?:tên\s+)?thủ tục(?:\s+hành chính)?|TTHC)?\s*:?\s*$", re.I)


def _explode(t: Table, block: int, layout: "_ListLayout | None") -> list[_Line]:
    """A crawled table as lines, one per cell (a cell's own lines kept); list rows of a list table are skipped
    but what the crawl appended to them (the next part's first cells) is kept."""
    out: list[_Line] = []
    bold = t.bold or [[False] * len(r) for r in t.rows]
    for ri, row in enumerate(t.rows):
        cells = list(row)
        flags = list(bold[ri]) if ri < len(bold) else [False] * len(cells)
        if layout is not None:
            if ri == layout.header:
                cells, flags = cells[: layout.prefix], flags[: layout.prefix]  # keep what precedes the header
            elif layout.header < ri < layout.start:
                cells, flags = [], []  # the header's second row
            elif ri >= layout.start and (layout.end is None or ri < layout.end):
                used = layout.used.get(ri, len(cells))
                cells, flags = cells[used:], flags[used:]
        k = 0
        while k < len(cells):
            c = cells[k]
            if not c:
                k += 1
                continue
            if _NUM_TITLE.match(c) and k + 1 < len(cells) and cells[k + 1]:
                out.append(_Line(f"{c} {cells[k + 1]}", True, block=block))  # "2. Thủ tục" | "<name>"
                k += 2
                continue
            for part in c.split("\n"):
                part = normalize(part)
                if part:
                    out.append(_Line(part, flags[k] if k < len(flags) else False, block=block))
            k += 1
        out.append(_Line("", block=block))
    return out


def _title_rows_first(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """In a per-procedure table, the name row goes first, then the code row (the title is read from them)."""
    def rank(pair: tuple[str, str]) -> int:
        hf = fold(pair[0])
        if re.match(r"^ten (?:thu tuc|tthc)", hf):
            return 0
        if re.match(r"^ma (?:so|tthc|thu tuc|ho so)", hf):
            return 1
        if re.match(r"^linh vuc", hf):
            return -1
        return 2
    head = [p for p in pairs if rank(p) < 2]
    if not head:
        return pairs
    return sorted(head, key=rank) + [p for p in pairs if rank(p) == 2]


def _dedupe_row(row: list[str]) -> list[str]:
    out: list[str] = []
    for c in row:
        if not out or c != out[-1]:
            out.append(c)
    return out


def _kv_table(t: Table, continuation: bool = False) -> list[tuple[str, str]] | None:
    """A per-procedure block laid out as a two-column table (heading | content); with `continuation`, the
    rest of such a table on the next page (rows with an empty heading cell continue the previous one)."""
    if not t.rows or len(t.rows[0]) < 2 or len(t.rows[0]) > 3:
        return None
    pairs: list[tuple[str, str]] = []
    hits = 0
    for r in t.rows:
        cells = list(r)
        if not any(cells):
            continue
        head = cells[0]
        content = "\n".join(c for c in _dedupe_row(cells[1:]) if c and c != head)
        h = match_heading(head + ":", bold=True) if head else None
        if h or re.match(r"^(?:ten (?:thu tuc|tthc)|ma (?:so|tthc|thu tuc)|linh vuc)", fold(head)):
            hits += 1
        if not head and pairs:
            pairs[-1] = (pairs[-1][0], (pairs[-1][1] + "\n" + content).strip())
            continue
        pairs.append((head, content))
    if hits >= 3 and hits >= len(pairs) * 0.5:
        return pairs
    if continuation and (hits >= 1 or not t.rows[0][0]):
        return pairs
    return None


def _ends_sentence(text: str) -> bool:
    return bool(re.search(r"[.:;!?]\s*$|[.;]\)$", text))


def unwrap_items(lines: list[str], wrapped: bool) -> list[str]:
    """Join PDF-wrapped lines back into items; DOCX paragraphs are already whole."""
    items: list[str] = []
    for ln in lines:
        ln = normalize(ln)
        if not ln:
            continue
        if (wrapped and items and not _BULLET_START.match(ln) and not _ends_sentence(items[-1])
                and not re.match(r"^(?:bước|trường hợp)\b", ln, re.I)):
            items[-1] = items[-1] + " " + ln
        elif wrapped and items and ln[:1].islower() and not _BULLET_START.match(ln):
            items[-1] = items[-1] + " " + ln
        else:
            items.append(ln)
    return items


def strip_bullet(text: str) -> str:
    return re.sub(r"^\s*(?:[-+•*–]\s*|\(\s*\d{1,2}\s*\)\s*)", "", text).strip()


# --------------------------------------------------------------------------------------------- normalisation

_NUM_WORDS = {"mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5, "sau": 6, "bay": 7, "tam": 8, "chin": 9,
              "muoi": 10, "muoi lam": 15, "muoi nam": 15, "hai muoi": 20, "ba muoi": 30, "muoi hai": 12}
_UNIT_KINDS = [
    (r"ngay lam viec", "working_days"),
    (r"ngay", "days"),
    (r"gio lam viec", "working_hours"),
    (r"gio", "hours"),
    (r"thang", "months"),
    (r"tuan", "weeks"),
]
_QTY = r"(\d{1,3})(?:\s*\(\s*[a-z ]+\s*\))?|\(\s*(\d{1,3})\s*\)|([a-z]+(?: [a-z]+)?)\s*\(\s*(\d{1,3})\s*\)"


def _first_duration(f: str) -> tuple[str, int] | None:
    """Folded clause -> (kind, n) for its first 'NN ngày làm việc' / 'năm (05) ngày' / '24 giờ'."""
    rx = re.compile(r"(?:([a-z]+(?: [a-z]+)?)\s*)?\(?\s*(\d{1,3})\s*\)?\s*(ngay lam viec|ngay|gio lam viec|gio|thang|tuan)\b")
    for m in rx.finditer(f):
        n = int(m.group(2))
        unit = m.group(3)
        if unit in ("gio", "gio lam viec") and re.match(r"\s*\d{1,2}\s*gio\s*(?:\d{2})?", f[m.start(2):]) and \
                re.search(r"(?:sau|truoc|luc|den|tu)\s*$", f[: m.start(2)]):
            continue  # "sau 15 giờ" is a cut-off time, not a duration
        kind = dict((u, k) for u, k in _UNIT_KINDS)[unit]
        return kind, n
    return None


def normalize_time(text: str) -> dict:
    """Raw 'Thời hạn giải quyết' -> {"kind", "days", "cutoff", "extra": [...], "raw"}.

    kind: same_day | working_days | days | hours | working_hours | months | weeks | immediate | unspecified.
    days: the number for day-based kinds (0 for same_day), None otherwise.
    cutoff: "HH:MM" when the text states a reception cut-off ("sau 15 giờ" -> "15:00").
    extra: later clauses with their own duration ("trường hợp cần xác minh ... không quá 05 ngày làm việc").
    """
    raw = normalize(text or "")
    f = fold(raw)
    out = {"kind": "unspecified", "days": None, "cutoff": None, "extra": [], "raw": raw}
    if not f:
        return out
    cm = re.search(r"(?:sau|truoc|qua|den)\s*(\d{1,2})\s*(?:gio|h|:)\s*(\d{2})?(?:\s*phut)?", f)
    if cm:
        out["cutoff"] = f"{int(cm.group(1)):02d}:{cm.group(2) or '00'}"
    clauses = [c.strip() for c in re.split(r";|\.\s+|\n|(?<=\S),\s*(?=truong hop|neu|doi voi|rieng)", f) if c.strip()]
    first = True
    for c in clauses:
        same_day = bool(re.search(r"\b(?:ngay )?trong ngay\b|\bngay trong ngay\b|\btrong buoi\b|\btra ngay\b|\bgiai quyet ngay\b", c)) \
            and not re.search(r"\btrong ngay lam viec tiep theo\b", c.replace("hoac trong ngay lam viec tiep theo", ""))
        dur = _first_duration(c)
        if first:
            if same_day and (not dur or c.find("trong ngay") < c.find(str(dur[1]))):
                out["kind"], out["days"] = "same_day", 0
            elif dur:
                out["kind"] = dur[0]
                out["days"] = dur[1] if dur[0] in ("working_days", "days") else None
                if dur[0] in ("hours", "working_hours", "months", "weeks"):
                    out["amount"] = dur[1]
            elif re.search(r"\bngay\b.*\b(?:sau khi|khi) nhan\b|\bngay khi\b|\bngay sau khi\b", c):
                out["kind"] = "immediate"
            elif re.search(r"^khong(?: quy dinh)?\.?$", c):
                out["kind"] = "unspecified"
            else:
                continue  # a preamble clause ("Kể từ ngày nhận đủ hồ sơ ...") — keep looking
            first = False
            continue
        if dur and (re.search(r"truong hop|neu|doi voi|rieng|khi", c)):
            out["extra"].append({"condition": _orig_clause(raw, c), "kind": dur[0], "days": dur[1]})
    return out


def _orig_clause(raw: str, folded_clause: str) -> str:
    """The original-case clause corresponding to a folded clause (same length after folding)."""
    f = fold(raw)
    i = f.find(folded_clause)
    if i >= 0 and len(f) == len(raw):
        return raw[i: i + len(folded_clause)].strip()
    return folded_clause


_AMOUNT_RX = re.compile(
    r"(\d{1,3}(?:[.,\s]\d{3})+|\d+)(?:\s*(nghin|ngan|trieu|tr|k))?\s*(?:dong|d|vnd|vnđ|đ)?\b(?=\s*(?:/|\(|\)|;|,|\.|\s|$|mot|moi|cho))",
)


def normalize_fee(text: str, legal_basis: str = "") -> dict:
    """Raw 'Phí, lệ phí' -> {"amounts": [{"amount_vnd", "unit", "note"}], "exempt", "set_by_province"}."""
    raw = normalize(text or "")
    f = fold(raw)
    amounts = []
    for clause in re.split(r";|\n|\.\s+(?=[a-z])", f):
        clause_s = clause.strip(" .,-")
        for m in re.finditer(r"(\d{1,3}(?:[.,]\d{3})+|\d+)\s*(nghin|ngan|trieu)?\s*(dong|vnd|d\b|đ)", clause_s):
            num = int(re.sub(r"[.,]", "", m.group(1)))
            mult = {"nghin": 1000, "ngan": 1000, "trieu": 1_000_000}.get(m.group(2) or "", 1)
            if re.fullmatch(r"\d{1,3}[.,]\d{3}", m.group(1)) is None and re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", m.group(1)) is None \
                    and num < 1000 and mult == 1:
                pass  # small bare numbers are still amounts ("500 đồng")
            amt = num * mult
            after = clause_s[m.end():]
            um = re.match(r"\s*(?:/|mot|moi|cho moi|cho 01|tren)\s*(?:01\s+|1\s+|mot\s+)?([a-z ]{1,20}?)(?=\s*(?:[;,.()]|$|tu |toi |doi |tru |neu |khi |va ))", after)
            unit = ""
            if um:
                unit = _unfold_unit(raw, um.group(1).strip())
            amounts.append({"amount_vnd": amt, "unit": unit, "note": _orig_clause(raw, clause_s) if clause_s else ""})
    exempt = bool(re.search(r"\bmien(?: thu)?(?: phi| le phi)?\b|\bkhong thu\b|\bkhong (?:co )?(?:phi|le phi)\b|^khong\.?$|\bkhong phai nop\b|\bmien phi\b", f))
    lb = fold(legal_basis)
    prov_rx = r"hdnd (?:cap )?tinh|hoi dong nhan dan (?:cap )?(?:tinh|thanh pho)|hdnd thanh pho|theo nghi quyet|nghi quyet (?:so )?[\d/]*\s*(?:/nq-hdnd)?|/nq-hdnd"
    set_by_province = bool(re.search(prov_rx, f)) or (
        bool(amounts or not exempt) and bool(re.search(r"(?:nghi quyet|/nq-hdnd)[^;\n]*(?:hdnd|hoi dong nhan dan)[^;\n]*(?:phi|le phi)|(?:hdnd|hoi dong nhan dan)[^;\n]*(?:phi|le phi)", lb))
    )
    return {"amounts": amounts, "exempt": exempt, "set_by_province": set_by_province}


def _unfold_unit(raw: str, unit_f: str) -> str:
    f = fold(raw)
    i = f.find(unit_f)
    if i >= 0 and len(f) == len(raw):
        return raw[i: i + len(unit_f)]
    return unit_f


def parse_channels(text: str) -> dict:
    f = fold(text or "")
    def has(rx: str) -> bool:
        for m in re.finditer(rx, f):
            pre = f[max(0, m.start() - 25): m.start()]
            if re.search(r"\bkhong(?: (?:ap dung|thuc hien|tiep nhan|nhan))?(?: (?:hinh thuc|qua|theo))?\s*$", pre):
                continue
            return True
        return False
    return {
        "in_person": has(r"truc tiep|tai (?:bo phan|trung tam|tru so|uy ban|ubnd)|mot cua"),
        "online": has(r"truc tuyen|dich vu cong|qua mang|online|dien tu|vneid|dichvucong"),
        "post": has(r"buu chinh|buu dien"),
        "raw": normalize(text or ""),
    }


_QUANTITY_RX = re.compile(
    r"[(:,\-–]?\s*\(?\s*((?:\d{1,2}|một|hai|ba)\s*(?:\(\s*\w+\s*\)\s*)?(?:bản|bộ|tờ|quyển)(?:\s+(?:chính|sao(?:\s+có\s+chứng\s+thực|\s+y)?|photo|chụp))?(?:\s+hoặc\s+(?:bản\s+)?(?:chính|sao(?:\s+có\s+chứng\s+thực)?))?|bản\s+(?:chính|sao(?:\s+có\s+chứng\s+thực)?)|xuất\s+trình)\s*\)?\s*\.?\s*$",
    re.I,
)


def parse_documents(items: list[str]) -> tuple[list[dict], str]:
    """Document items -> [{"name", "quantity", "group"}] and the raw text (quotable)."""
    docs: list[dict] = []
    group = ""
    for it in items:
        text = strip_bullet(it)
        if not text:
            continue
        f = fold(text)
        if re.match(r"^(?:\*\s*)?so luong(?: ho so)?\s*:?", f):
            docs.append({"name": text, "quantity": "", "group": "count"})
            continue
        if text.endswith(":") and len(text) < 120:
            group = text.rstrip(":").strip()
            continue
        qty = ""
        m = _QUANTITY_RX.search(text)
        if m:
            qty = m.group(1).strip()
        else:
            m2 = re.search(r"\(\s*(\d{1,2}\s*(?:bản|bộ)[^)]*)\)", text, re.I)
            if m2:
                qty = m2.group(1).strip()
        docs.append({"name": text.rstrip(";."), "quantity": qty, "group": group})
    return docs, "\n".join(normalize(i) for i in items if i.strip())


# --------------------------------------------------------------------------------------------- list table

_COL_RULES: list[tuple[str, str]] = [
    ("stt", r"^(?:stt|so tt|tt|so thu tu)$"),
    ("code", r"^(?:ma(?: so)?(?: tthc| thu tuc(?: hanh chinh)?| ho so)?|ma so tthc|ma tthc tren csdlqg.*|ma .*tthc.*)$"),
    ("name", r"^(?:ten (?:thu tuc|tthc).*|thu tuc hanh chinh|thu tuc|ten|danh muc thu tuc.*|noi dung thu tuc.*)$"),
    ("field", r"^(?:linh vuc.*)$"),
    ("locality", r"^(?:dia phuong|xa/phuong|xa, phuong|don vi hanh chinh)$"),
    ("decision", r"^(?:quyet dinh.*|van ban cong bo.*|so quyet dinh.*)$"),
    ("steps", r"^(?:trinh tu.*|cac buoc.*)$"),
    ("time_limit", r"^(?:thoi han.*|thoi gian.*)$"),
    ("fee", r"^(?:phi.*|le phi.*|muc thu.*)$"),
    ("documents", r"^(?:thanh phan.*|ho so.*|giay to.*)$"),
    ("receiving", r"^(?:dia diem.*|noi tiep nhan.*|noi nop.*|dia chi tiep nhan.*)$"),
    ("channels", r"^(?:cach thuc.*|hinh thuc.*|phuong thuc.*)$"),
    ("applicants", r"^(?:doi tuong.*)$"),
    ("agency", r"^(?:co quan.*|tham quyen.*|don vi (?:thuc hien|giai quyet|tiep nhan).*)$"),
    ("result", r"^(?:ket qua.*)$"),
    ("forms", r"^(?:(?:ten )?mau don.*|bieu mau.*|to khai.*|mau to khai.*)$"),
    ("conditions", r"^(?:dieu kien.*|yeu cau.*)$"),
    ("legal_basis", r"^(?:can cu.*|co so phap ly.*|(?:ten )?van ban (?:quy dinh|quy pham phap luat|phap luat).*)$"),
    ("note", r"^(?:ghi chu.*)$"),
]
_PLAN_COLS = re.compile(r"chu tri|phoi hop|nhiem vu|san pham|don vi thuc hien|thoi gian hoan thanh")
_STT = re.compile(r"^\s*\d{1,3}\s*[.)]?\s*$")
_GROUP_STT = re.compile(r"^\s*(?:[IVXLC]{1,5}|[A-ZĐ])(?:\s*\.\s*\d{1,2}){0,2}\s*[.)]?\s*$")
_COUNT_TAIL = re.compile(r"\s*\(\s*\d+\s*(?:tthc|thủ tục|TTHC|Thủ tục)[^)]*\)\s*$")
_LEVEL_GROUP = re.compile(r"\b(?:cap (tinh|xa|huyen|trung uong|bo)|ap dung chung)\b")
# A row that ends the list in a crawled (ragged) table: the next appendix or part heading.
_AFTER_LIST = re.compile(r"^(?:phu luc|phan (?:[ivx]+|\d+|thu)\b|quy trinh|noi dung cu the|trach nhiem thuc hien"
                         r"|thu tu cong viec|buoc \d)")


def _col_role(header: str) -> str | None:
    h = re.sub(r"\s+", " ", fold(header)).strip(" .:*")
    h = re.sub(r"\(\d+\)$", "", h).strip()
    if not h:
        return None
    for role, rx in _COL_RULES:
        if re.match(rx, h):
            return role
    return None


def header_roles(row: list[str]) -> list[str | None] | None:
    roles = [_col_role(c) for c in row]
    if "name" not in roles:
        return None
    if any(_PLAN_COLS.search(fold(c)) for c in row):
        return None
    others = {r for r in roles if r and r not in ("name", "stt", "note")}
    if not others and "stt" not in roles:
        return None
    # one column per role: keep the first occurrence (merged header cells repeat)
    seen: set[str] = set()
    out: list[str | None] = []
    for r in roles:
        if r in seen:
            out.append(None)
        else:
            out.append(r)
            if r:
                seen.add(r)
    return out


def find_header(row: list[str]) -> tuple[int, list[str | None]] | None:
    """(first column, roles) of a list header in `row`, also when the header is the tail of the row (a crawled
    table whose first row also holds the signature block and the appendix title)."""
    cells = list(row)
    while cells and not cells[-1]:
        cells.pop()
    for s in range(0, max(1, len(cells) - 1)):
        if _col_role(cells[s]) not in ("stt", "code", "name"):
            continue
        roles = header_roles(cells[s:])
        if roles:
            return s, roles
    return None


def _is_number_row(row: list[str]) -> bool:
    cells = [c for c in row if c]
    return bool(cells) and all(re.fullmatch(r"\(?\d{1,2}\)?|[A-Z]|\(\w\)", c) for c in cells)


@dataclass
class _ListRow:
    values: dict
    group: str
    row_text: str
    level: str = ""  # from a level group row ("Thủ tục hành chính cấp xã")
    status: str = ""  # new | amended | abolished, from the heading of the table's section


@dataclass
class _ListLayout:
    """How one table was read as a list: rows before `start` and after `end` are not list rows; `used` gives,
    per list row, how many leading cells belong to the list (the rest spilled over from the next part)."""
    header: int = -1
    start: int = 0
    end: int | None = None
    prefix: int = 0  # cells of the header row before the header (signature, appendix title)
    used: dict = dc_field(default_factory=dict)


_CONTENT = {
    "stt": lambda f: 1.0 if _STT.match(f) or _GROUP_STT.match(f.upper()) else 0.0,
    "code": lambda f: 1.0 if _CODE_RX.search(f) or "khong co ma" in f else 0.0,
    "name": lambda f: 1.0 if re.match(r"^(?:thu tuc|cap|dang ky|chung thuc|xac nhan)", f) else (0.6 if len(f) > 15 else 0.1),
    "time_limit": lambda f: 1.0 if re.search(r"\bngay\b|\bgio\b|\bthang\b", f) else (0.5 if re.fullmatch(r"[\d,.]{1,4}", f) else 0.0),
    "fee": lambda f: 1.0 if re.search(r"\bdong\b|\d{1,3}\.\d{3}|^khong\b|\bmien\b|\bvnd\b", f) else 0.0,
    "legal_basis": lambda f: 1.0 if re.search(r"\bluat\b|nghi dinh|thong tu|quyet dinh|nghi quyet|\d+/\d{4}/", f) else 0.0,
    "receiving": lambda f: 1.0 if re.search(r"bo phan|trung tam|ubnd|uy ban|mot cua|\bso\b|\bphong\b|cong an|tru so", f) else 0.0,
    "channels": lambda f: 1.0 if re.search(r"truc tiep|truc tuyen|buu chinh|dich vu cong|qua mang", f) else 0.0,
    "agency": lambda f: 1.0 if re.search(r"\bso\b|ubnd|uy ban|\bphong\b|cong an|chi cuc|\bbo\b|ban chi huy", f) else 0.0,
    "field": lambda f: 0.6 if 0 < len(f) < 80 else 0.0,
}


def _align(roles: list[str | None], rows: list[list[str]]) -> dict[int, int]:
    """Header position -> data column. Positional unless the cells' content clearly says the data columns are
    shifted (a two-row header whose second row splits one column in two, as markdown crawls print them)."""
    width = max((len(r) for r in rows), default=0)
    named = [(i, r) for i, r in enumerate(roles) if r]
    ident = {i: i for i, _ in named}
    if not rows or not named:
        return ident

    def score(role: str, j: int) -> float:
        fn = _CONTENT.get(role, lambda f: 0.3 if f else 0.0)
        vals = [fold(r[j]) if j < len(r) else "" for r in rows]
        filled = [v for v in vals if v]
        return sum(fn(v) for v in filled) / max(len(vals), 1)

    # dynamic programme: named roles in order onto increasing columns, maximising content agreement
    n = len(named)
    neg = float("-inf")
    best = [[neg] * width for _ in range(n)]
    back = [[-1] * width for _ in range(n)]
    for k, (i, role) in enumerate(named):
        for j in range(width):
            s = score(role, j) - 0.05 * abs(j - i)
            if k == 0:
                best[k][j] = s
                continue
            prev = max(range(j), key=lambda jj: best[k - 1][jj], default=None) if j else None
            if prev is not None and best[k - 1][prev] > neg:
                best[k][j] = best[k - 1][prev] + s
                back[k][j] = prev
    if not n:
        return ident
    j = max(range(width), key=lambda jj: best[n - 1][jj])
    mapping: dict[int, int] = {}
    for k in range(n - 1, -1, -1):
        mapping[named[k][0]] = j
        j = back[k][j]
    ident_score = sum(score(r, i) for i, r in named if i < width)
    dp_score = sum(score(named[k][1], mapping[named[k][0]]) for k in range(n))
    return mapping if dp_score > ident_score + 0.5 else ident


def _looks_group(text: str) -> bool:
    """'LĨNH VỰC HỘ TỊCH', 'THỦ TỤC HÀNH CHÍNH CẤP XÃ (04 TTHC)', 'I. Lĩnh vực …' — not 'Trình tự thực hiện'."""
    f = fold(text)
    letters = [c for c in text if c.isalpha()]
    upper = bool(letters) and sum(c.isupper() for c in letters) > 0.7 * len(letters)
    return bool(re.match(r"^(?:(?:[ivx]+|[a-z])\s*[.)]\s*)?(?:linh vuc|thu tuc hanh chinh|tthc|nhom)\b", f)
                or _COUNT_TAIL.search(text) or (upper and not match_heading(text, True)))


def _group_text(text: str) -> str:
    g = re.sub(r"^\s*(?:[IVXLC]{1,5}|[A-ZĐ]|\d{1,2})(?:\s*\.\s*\d{1,2}){0,2}\s*[.)\-–]?\s+", "", text)
    g = re.sub(r"^(?:lĩnh vực|LĨNH VỰC|Lĩnh vực)\s*:?\s*", "", g).strip()
    return _COUNT_TAIL.sub("", g).strip(" .:")


def _level_of(text: str) -> str:
    m = _LEVEL_GROUP.search(fold(text))
    if not m:
        return ""
    return {"tinh": "province", "xa": "commune", "huyen": "district", "trung uong": "ministry", "bo": "ministry"}.get(
        m.group(1) or "", "")


def section_status(text: str) -> str:
    """new | amended | abolished from a section heading ("B. DANH MỤC THỦ TỤC HÀNH CHÍNH BỊ BÃI BỎ")."""
    f = fold(text)
    kinds = [k for k, rx in (("abolished", r"bai bo|bi huy bo|het hieu luc"),
                             ("amended", r"sua doi|bo sung|thay the|dieu chinh"),
                             ("new", r"moi ban hanh|ban hanh moi|\bmoi\b")) if re.search(rx, f)]
    if kinds == ["amended", "new"]:
        return "amended"
    return kinds[0] if len(kinds) == 1 else ""


def parse_list_tables(tables: list[Table], statuses: list[str] | None = None,
                      layouts: dict | None = None) -> list[_ListRow]:
    """Rows of the Phần I list (possibly split across several tables / pages). `statuses` gives each table's
    section status; `layouts` (id(table) -> _ListLayout) is filled for the line reader."""
    out: list[_ListRow] = []
    roles: list[str | None] | None = None
    colmap: dict[int, int] = {}
    width = 0
    group = ""
    level = ""
    for ti, t in enumerate(tables):
        rows = t.rows
        merged = t.merged or [[False] * len(r) for r in rows]
        start = 0
        layout = _ListLayout()
        for i, r in enumerate(rows[:3]):
            hd = find_header(r)
            if hd:
                prefix, roles = hd
                width, start = len(roles), i + 1
                layout.prefix, layout.header = prefix, i
                level = ""
                # a second header row (sub-columns) merges into the first
                if start < len(rows) and not any(_CODE_RX.search(c) for c in rows[start]) and \
                        not _STT.match(rows[start][0] or "") and not _GROUP_STT.match(rows[start][0] or "") and \
                        (sum(1 for c in rows[start] if _col_role(c)) >= 1 or
                         (t.ragged or len(rows[start]) > width) and 0 < sum(1 for c in rows[start] if c) <= 3
                         and all(len(c) < 40 for c in rows[start])) and not _is_number_row(rows[start]):
                    start += 1
                break
        if roles is None or (start == 0 and len(rows[0]) != width and not t.ragged):
            continue
        layout.start = start
        data = [r for r in rows[start:] if r and (_STT.match(r[0] or "") or any(_CODE_RX.search(c) for c in r[:3]))]
        colmap = _align(roles, data) if start else (colmap or {i: i for i, r in enumerate(roles) if r})
        last_col = max(colmap.values(), default=0)
        status = statuses[ti] if statuses and ti < len(statuses) else ""
        for ri in range(start, len(rows)):
            r = rows[ri]
            m = merged[ri] if ri < len(merged) else [False] * len(r)
            if not any(r) or _is_number_row(r) or find_header(r):
                layout.used[ri] = len(r)
                continue
            head = r[: last_col + 1]
            distinct = [c for c in _dedupe_row(head) if c]
            vals = {roles[i]: head[j] for i, j in colmap.items() if j < len(head)}
            name = vals.get("name", "")
            stt = vals.get("stt", "") or (head[0] if head else "")
            code = _CODE_RX.search(vals.get("code", "") or "") or _CODE_RX.search(name or "")
            first = fold(distinct[0]) if distinct else ""
            if t.ragged and _AFTER_LIST.match(first) and not code:
                layout.end = ri  # the crawl put the next part in the same table
                break
            # group row: one distinct value, or a Roman/letter STT ("I", "I.1", "B") with no code; in a crawled table
            # a lone cell is a group only when it reads like one (else the next part has started in the table)
            lone = len(distinct) == 1 and not code and not _STT.match(stt)
            if lone and t.ragged and not _looks_group(distinct[0]):
                layout.end = ri
                break
            if lone or (_GROUP_STT.match(stt or "") and not code):
                g = _group_text(distinct[-1] if distinct else "")
                lv = _level_of(g)
                if lv or re.search(r"\bap dung chung\b", fold(g)):
                    level = lv
                elif g and len(g) < 120:
                    group = _cap(g)
                layout.used[ri] = len(r)
                continue
            if t.ragged and not _STT.match(stt) and not code:
                layout.end = ri  # a crawled table does not continue rows: something else starts here
                break
            continuation = (not stt and not code and out) or (m and roles and any(
                m[j] for i, j in colmap.items() if j < len(m) and roles[i] in ("stt", "code", "name")) and out)
            layout.used[ri] = last_col + 1
            if continuation:
                prev = out[-1].values
                for k, v in vals.items():
                    if v and (k not in prev or v not in prev[k]):
                        if k in ("stt", "code"):
                            continue
                        prev[k] = (prev.get(k, "") + (" " if t.merged else "\n") + v).strip()
                out[-1].row_text += " | " + " | ".join(x for x in distinct)
                continue
            if not name or not re.search(r"[^\W\d_]{2,}", name):
                continue
            out.append(_ListRow(vals, group, " | ".join(x for x in distinct), level, status))
        if layouts is not None:
            layouts[id(t)] = layout
    return out


# --------------------------------------------------------------------------------------------- document

_DECISION_RX = re.compile(
    r"(Quyết định\s+(?:số\s*)?([0-9][\w./-]*/(?:QĐ|QD)-[\wĐ.-]+)(?:\s+ngày\s+(\d{1,2}\s*(?:/|tháng)\s*\d{1,2}\s*(?:/|năm)\s*\d{4}))?)",
    re.I,
)
_SO_RX = re.compile(r"^\s*Số\s*[:.]\s*([0-9][\w./-]*/(?:QĐ|QD)-[\wĐ.-]+)", re.I)
_DATE_LINE = re.compile(r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})", re.I)
_LOCALITY_RX = re.compile(
    r"\b(xã|phường|thị trấn|đặc khu|Xã|Phường|Thị trấn|Đặc khu|XÃ|PHƯỜNG|THỊ TRẤN|ĐẶC KHU)\s+"
    r"((?:[A-ZĐÂĂÊÔƠƯÁÀẢÃẠẤẦẨẪẬẮẰẲẴẶÉÈẺẼẸẾỀỂỄỆÍÌỈĨỊÓÒỎÕỌỐỒỔỖỘỚỜỞỠỢÚÙỦŨỤỨỪỬỮỰÝỲỶỸỴ0-9][\wÀ-ỹ]*)"
    r"(?:\s+[A-ZĐÂĂÊÔƠƯÁÀẢÃẠẤẦẨẪẬẮẰẲẴẶÉÈẺẼẸẾỀỂỄỆÍÌỈĨỊÓÒỎÕỌỐỒỔỖỘỚỜỞỠỢÚÙỦŨỤỨỪỬỮỰÝỲỶỸỴ0-9][\wÀ-ỹ]*){0,3})"
)
_LOC_STOP = {"tỉnh", "huyện", "thành", "Tỉnh", "Huyện", "TỈNH", "HUYỆN", "Về", "VỀ", "Ban", "BAN", "Năm", "NĂM",
             "Thực", "Quyết", "QUYẾT", "Căn", "Kế", "KẾ", "Số", "Ngày"}


def detect_locality(texts: list[str]) -> str:
    counts: dict[str, int] = {}
    for i, t in enumerate(texts[:600]):
        for m in _LOCALITY_RX.finditer(t):
            kind = m.group(1).lower()
            words = []
            for w in m.group(2).split():
                if w in _LOC_STOP:
                    break
                words.append(w)
            if not words:
                continue
            name = " ".join(words[:3])
            if name.isupper():
                name = name.title()
            key = f"{kind} {name}"
            counts[key] = counts.get(key, 0) + (3 if i < 20 else 1)
    if not counts:
        return ""
    best = max(counts.items(), key=lambda kv: (kv[1], -len(kv[0])))[0]
    # a longer name that only extends the best one with a word seen less often is not preferred
    return best


def detect_decision(texts: list[str]) -> str:
    for t in texts[:80]:
        m = _DECISION_RX.search(t)
        if m:
            num = m.group(2)
            date = m.group(3)
            if date and "/" in date:
                date = re.sub(r"\s+", "", date)
            return f"Quyết định số {num}" + (f" ngày {date}" if date else "")
    num = date = ""
    for t in texts[:30]:
        m = _SO_RX.match(t)
        if m and not num:
            num = m.group(1)
        d = _DATE_LINE.search(t)
        if d and not date:
            date = f"{int(d.group(1))}/{int(d.group(2))}/{d.group(3)}"
    if num:
        return f"Quyết định số {num}" + (f" ngày {date}" if date else "")
    return ""


def detect_title(texts: list[str]) -> str:
    cands: list[str] = []
    for t in texts[:40]:
        f = fold(t)
        if "thu tuc hanh chinh" in f and ("danh muc" in f or "cong bo" in f or "tham quyen" in f or "phu luc" in f):
            lines = [x.strip() for x in t.split("\n") if x.strip()]
            best = [x for x in lines if "thu tuc hanh chinh" in fold(x)]
            cands.append((normalize(best[0] if best else t)))
    upper = [c for c in cands if sum(ch.isupper() for ch in c) > 0.6 * sum(ch.isalpha() for ch in c)]
    return (upper or cands or [""])[0]


def _paragraph_texts(raw: RawDocument) -> list[str]:
    return [b.text for b in raw.blocks if isinstance(b, Paragraph) and b.text]


def _list_tables(raw: RawDocument) -> tuple[list[Table], list[str]]:
    """Tables that are (or continue) a Phần I list, and each one's section status (new / amended / abolished)
    read from the nearest heading before it (or from the heading the crawl put in the header row)."""
    out: list[Table] = []
    statuses: list[str] = []
    width = None
    last_heading: list[str] = []
    for b in raw.blocks:
        if isinstance(b, Paragraph):
            if b.text.strip():
                last_heading = (last_heading + [b.text])[-4:]
            continue
        if not isinstance(b, Table) or not b.rows:
            continue
        hd = next((find_header(r) for r in b.rows[:3] if find_header(r)), None)
        if hd:
            out.append(b)
            width = len(b.rows[0])
            texts = last_heading + [c for c in b.rows[0][: hd[0]] if c]
            status = next((section_status(t) for t in reversed(texts) if section_status(t)), "")
            statuses.append(status)
        elif width is not None and len(b.rows[0]) == width and not _kv_table(b) and not b.ragged:
            out.append(b)  # page continuation without a repeated header
            statuses.append(statuses[-1] if statuses else "")
        last_heading = []
    return out, statuses


def _heading_fields(raw: RawDocument) -> dict[str, int]:
    counts: dict[str, int] = {}
    for b in raw.blocks:
        texts: list[tuple[str, bool]] = []
        if isinstance(b, Paragraph):
            texts = [(x, b.bold) for x in (b.text or "").split("\n")]
        elif isinstance(b, Table) and b.rows and len(b.rows[0]) >= 2:
            texts = [((r[0] or "") + ":", True) for r in b.rows]
        for x, bold in texts:
            h = match_heading(x, bold)
            if h:
                counts[h.field] = counts.get(h.field, 0) + 1
    return counts


def is_catalogue(raw: RawDocument) -> bool:
    """True when the document is a catalogue of procedures (list table and/or per-procedure blocks)."""
    tables, statuses = _list_tables(raw)
    if tables:
        rows = parse_list_tables(tables, statuses)
        coded = sum(1 for r in rows if _CODE_RX.search(r.values.get("code", "") or ""))
        informative = {k for r in rows for k, v in r.values.items() if v and k in (
            "code", "time_limit", "fee", "documents", "legal_basis", "steps", "channels")}
        if rows and (coded >= 1 or len(informative) >= 2):
            return True
    counts = _heading_fields(raw)
    specific = sum(1 for f in _SPECIFIC if counts.get(f))
    return specific >= 2 and len(counts) >= 4


# --------------------------------------------------------------------------------------------- blocks

@dataclass
class _Block:
    title: str
    number: str
    name: str
    code: str
    group: str
    sections: list[tuple[_Head, list[str], list[Table]]] = dc_field(default_factory=list)


def _title_like(ln: _Line) -> bool:
    t = ln.text
    if not t or match_heading(t, ln.bold):
        return False
    if _BULLET_START.match(t) and not re.match(r"^\s*\d{1,3}(?:\.\d{1,3}){0,2}\s*[.)]?\s+\S", t):
        return False
    if _TITLE_START.match(t) and (re.match(r"^\s*\d", t) or re.match(r"^\s*(?:tên\s+)?thủ tục", t, re.I)):
        return True
    return bool(ln.bold and len(t) < 300) or bool(_CODE_RX.search(t) and len(t) < 300)


def _title_cont(ln: _Line) -> bool:
    t = ln.text
    if not t or match_heading(t, ln.bold) or _BULLET_START.match(t) and not re.match(r"^\s*[-–]\s*mã", t, re.I):
        return False
    return len(t) < 200


def _find_title(lines: list[_Line], lo: int, hi: int, known: list[str]) -> int | None:
    """Index of the title's first line among lines[lo:hi] (searching back from hi), or None."""
    j = hi - 1
    while j >= lo and not lines[j].text:
        j -= 1
    k = j
    steps = 0
    while k >= lo and steps < 4:
        ln = lines[k]
        if not ln.text:
            k -= 1
            continue
        if _title_like(ln) and (re.match(r"^\s*(?:\d|thủ tục|tên thủ tục)", ln.text, re.I) or ln.bold
                                or _CODE_RX.search(ln.text)):
            # check everything between k and hi is title continuation
            if all(_title_cont(x) or not x.text for x in lines[k + 1: hi]):
                # a lone code line ("Mã số: 1.00xxxx") continues a title above it
                if not re.match(r"^\s*(?:\d|thủ tục|tên thủ tục)", ln.text, re.I) and k - 1 >= lo and \
                        lines[k - 1].text and _title_like(lines[k - 1]):
                    k -= 1
                return k
        if known:
            fk = _name_key(ln.text)
            if fk and any(fk == kk for kk in known):
                return k
        if not _title_cont(ln):
            return None
        k -= 1
        steps += 1
    return None


def _name_key(name: str) -> str:
    _, n, _ = split_title(name)
    f = fold(n)
    f = re.sub(r"\(.*?\)", " ", f)
    f = re.sub(r"[^a-z0-9 ]+", " ", f)
    return re.sub(r"\s+", " ", f).strip()


def parse_blocks(lines: list[_Line], known_names: list[str], wrapped: bool) -> list[_Block]:
    heads: list[tuple[int, _Head]] = []
    for i, ln in enumerate(lines):
        if ln.table is not None or not ln.text:
            continue
        h = match_heading(ln.text, ln.bold)
        if h:
            # wrapped heading: "k) Yêu cầu, điều kiện thực hiện thủ tục hành" + "chính:"
            heads.append((i, h))
    # absorb a heading's wrapped tail ("chính:") into the heading
    tails: set[int] = set()
    for i, h in heads:
        if not h.inline and not h.heading.endswith(":") and i + 1 < len(lines):
            nxt = lines[i + 1].text
            if nxt and len(nxt) < 40 and nxt.endswith(":") and nxt[:1].islower():
                tails.add(i + 1)
                h.heading = h.heading + " " + nxt[:-1]
    known = [_name_key(n) for n in known_names]
    blocks: list[_Block] = []
    group = ""
    prev_end = 0  # lines before this index belong to earlier sections
    cur: _Block | None = None
    last_field_idx = -1

    def content(a: int, b: int) -> tuple[list[str], list[Table]]:
        texts: list[str] = []
        tabs: list[Table] = []
        for xi in range(a, b):
            x = lines[xi]
            if x.text and _after_blocks(x):
                break  # a form, another appendix or the internal processes start: not this section's text
            if x.table is not None:
                tabs.append(x.table)
                for r in x.table.rows:
                    cells = [c for c in _dedupe_row(r) if c]
                    if cells:
                        texts.append("- " + " | ".join(cells))
            elif x.text and xi not in tails:
                texts.append(x.text)
        return texts, tabs

    pending: tuple[int, _Head] | None = None
    for n, (i, h) in enumerate(heads):
        # Where does the previous section's content end? At a title for a new procedure, if one precedes.
        lo = (pending[0] + 1) if pending else prev_end
        t_idx = _find_title(lines, lo, i, known)
        order = FIELDS.index(h.field)
        new_proc = t_idx is not None and (cur is None or order <= last_field_idx or h.field == "steps"
                                          or _is_strong_title(lines[t_idx].text))
        if cur is not None and pending is not None and h.field == pending[1].field and not new_proc:
            continue  # a sub-heading repeating the current field ("Thành phần hồ sơ:" inside c)
        end = t_idx if new_proc else i
        if pending is not None and cur is not None:
            body, tabs = content(pending[0] + 1, end)
            if new_proc:
                body, grp = _cut_groups(body)
                if grp:
                    group = grp
            cur.sections.append((pending[1], ([pending[1].inline] if pending[1].inline else []) + body, tabs))
        elif new_proc and cur is None:
            body, _ = content(prev_end, t_idx)
            _, grp = _cut_groups(body)
            if grp:
                group = grp
        if new_proc:
            title_lines = [x.text for x in lines[t_idx:i] if x.text]
            title = " ".join(title_lines)
            number, name, code = split_title(title)
            cur = _Block(title, number, name, code, group)
            blocks.append(cur)
            last_field_idx = -1
        if cur is None:
            continue
        pending = (i, h)
        last_field_idx = max(last_field_idx, order) if not new_proc else order
    if pending is not None and cur is not None:
        stop = len(lines)
        for k in range(pending[0] + 1, len(lines)):
            t = lines[k].text
            if t and (_END_RX.match(fold(t)) or _PART_RX.match(t) or _after_blocks(lines[k])):
                stop = k
                break
        body, tabs = content(pending[0] + 1, stop)
        cur.sections.append((pending[1], ([pending[1].inline] if pending[1].inline else []) + body, tabs))
    return blocks


def _is_strong_title(text: str) -> bool:
    return bool(re.match(r"^\s*(?:\d{1,3}(?:\.\d{1,3}){0,2}\s*[.)]?\s+)?(?:tên\s+)?thủ tục\b", text, re.I)) or bool(
        _CODE_RX.search(text))


def _cap(text: str) -> str:
    """'HỘ TỊCH' / 'hộ tịch' -> 'Hộ tịch'."""
    t = normalize(text)
    if t.isupper():
        t = t.lower()
    return t[:1].upper() + t[1:] if t else ""


def _cut_groups(body: list[str]) -> tuple[list[str], str]:
    """Drop trailing group headings ("II. LĨNH VỰC CHỨNG THỰC") and part headings from a section's body."""
    group = ""
    while body:
        last = body[-1]
        gm = _GROUP_RX.match(last)
        if gm and len(last) < 150:
            g = gm.group(1).strip(" .:")
            group = group or _cap(g)
            body.pop()
            continue
        if _PART_RX.match(last) or re.fullmatch(r"(?:[IVX]+|[A-Z])\s*[.)]\s*[A-ZĐ ,]+", last):
            body.pop()
            continue
        break
    return body, group


# --------------------------------------------------------------------------------------------- parse

_UPPER = "A-ZĐÂĂÊÔƠƯÁÀẢÃẠẤẦẨẪẬẮẰẲẴẶÉÈẺẼẸẾỀỂỄỆÍÌỈĨỊÓÒỎÕỌỐỒỔỖỘỚỜỞỠỢÚÙỦŨỤỨỪỬỮỰÝỲỶỸỴ"


def _split_cell_items(text: str) -> list[str]:
    """A table cell holding several items (its lines were joined by the loader): split on new lines, "; ",
    leading "-"/"+" bullets and "(01 bản) Next item" / "sentence. Next" boundaries."""
    parts = re.split(rf"\n+|;\s+(?=\S)|(?:^|\s)[-+•]\s+(?=\S)|(?<=[.)])\s+(?=(?:\d{{1,2}}[.)]\s|[{_UPPER}]))", text or "")
    return [normalize(p).strip(" ;") for p in parts if p and normalize(p).strip(" ;")]


def _apply(p: Procedure, fld: str, items: list[str], source: str, legal_text: str = "") -> None:
    items = [strip_bullet(normalize(i)) for i in items if strip_bullet(normalize(i))]
    if fld == "legal_basis":
        items = [x.strip() for i in items for x in re.split(r";\s+", i) if x.strip(" ;.")]
    if not items:
        return
    text = "\n".join(items)
    if fld == "steps":
        p.steps = items
    elif fld == "channels":
        p.channels = parse_channels(text)
    elif fld == "documents":
        p.documents, p.documents_raw = parse_documents(items)
    elif fld == "time_limit":
        p.time_limit = text
    elif fld == "fee":
        p.fee = re.sub(r"(\d)(đồng|Đồng|đ\b)", r"\1 \2", text)  # "2.000đồng" as printed by some crawls
    elif fld == "forms":
        p.forms = items
    elif fld == "legal_basis":
        p.legal_basis = [i.rstrip(";.") for i in items]
    elif fld in ("applicants", "agency", "result", "conditions"):
        setattr(p, fld, text)
    else:
        return
    p.sources[fld] = source


def _apply_block(p: Procedure, fld: str, items: list[str], source: str) -> None:
    """Apply a Phần II section; a differing Phần I cell is kept beside it in `extra`."""
    before = p.text_of(fld)
    if before and "cột" in p.sources.get(fld, ""):
        def _k(x: str) -> str:
            return re.sub(r"[^a-z0-9]+", "", fold(x))

        if _k(before) != _k(" ".join(strip_bullet(u) for u in items)):
            p.extra[f"Phần I: {FIELD_LABELS[fld]}"] = before
    _apply(p, fld, items, source)


def _finish(p: Procedure) -> None:
    p.time_norm = normalize_time(p.time_limit) if p.time_limit else {}
    fee = normalize_fee(p.fee, "\n".join(p.legal_basis)) if p.fee else {"amounts": [], "exempt": False,
                                                                            "set_by_province": False}
    p.fee_amounts = fee["amounts"]
    p.fee_exempt = fee["exempt"]
    p.fee_set_by_province = fee["set_by_province"]
    if not p.channels and p.steps:
        # no "Cách thức" section: where/how is read from the steps, flagged by its source
        ch = parse_channels("\n".join(p.steps))
        if ch["in_person"] or ch["online"] or ch["post"]:
            ch["raw"] = ""
            p.channels = ch


_JUNK_NAME = re.compile(r"^(?:phan\s+(?:[ivx]+|\d+)\b|phu luc|quy trinh|trach nhiem|noi dung cong viec|mau so|kinh gui"
                        r"|don vi tinh|thu tu cong viec|ghi chu|noi nhan|danh muc thu tuc|cong hoa xa hoi)")


def _valid_name(name: str) -> bool:
    """A procedure name: words, not a stray cell ("|"), a part heading or a form's text."""
    f = fold(name)
    return len(re.findall(r"[a-z]{2,}", f)) >= 2 and not _JUNK_NAME.match(f) and len(name) <= 600


def _decision_of(meta, texts: list[str]) -> str:
    if meta.doc_type == "quyết định" and meta.number and re.search(r"QĐ|QD", meta.number):
        if meta.date:
            y, m, d = (int(x) for x in meta.date.split("-"))
            return f"Quyết định số {meta.number} ngày {d}/{m}/{y}"
        return f"Quyết định số {meta.number}"
    return detect_decision([t for t in texts if not fold(t).startswith(("can cu", "theo de nghi"))])


_TOTAL_RX = re.compile(r"^(?:tong thoi gian|thoi gian giai quyet(?: tthc| thu tuc hanh chinh)?\b)")
_DURATION_RX = re.compile(r"(\d+(?:[.,]\d+)?|\d+/\d+)\s*(?:\(\s*[^)]*\)\s*)?(ngay lam viec|ngay|gio lam viec|gio|thang)\b")
_PROCESS_TITLE = re.compile(r"^\s*(?:\d{1,3}\s*[.)]\s*)?(?:quy trinh|thu tuc)\b")


def process_facts(lines: list[_Line]) -> list[tuple[str, str, str, str]]:
    """Totals of the internal-process tables ("Tổng thời gian giải quyết TTHC | 08 ngày làm việc") and the
    "Thời gian giải quyết TTHC: 10 ngày" lines under a process title, as (code, title, label, value)."""
    out: list[tuple[str, str, str, str]] = []
    code, title, sub = "", "", ""
    texts = [ln.text for ln in lines]
    for i, t in enumerate(texts):
        if not t:
            continue
        f = fold(t)
        cm = _CODE_RX.search(t)
        if _PROCESS_TITLE.match(f) and not cm and (re.search(r"\btai cap\b|^quy trinh giai quyet (?:o|tai)", f)
                                                  or _DURATION_RX.search(f) and len(t) < 120):
            sub = t.strip(" :")  # a part of the process ("Quy trình giải quyết tại cấp xã (03 ngày làm việc)")
            dm = re.search(r"\(([^()]*\d[^()]*)\)\s*$", t)
            if title and dm and _DURATION_RX.search(fold(dm.group(1))):
                out.append((code, title, t[: dm.start()].strip(), dm.group(1).strip()))
            continue
        if _PROCESS_TITLE.match(f) and (cm or (len(t) > 40 and re.search(r"thu tuc|tthc", f))):
            code, title, sub = (cm.group(1) if cm else ""), t, ""
            continue
        if re.match(r"^(?:[a-zđ]\)|[ivx]+\s|[ivx]+\.)\s*", f) and re.search(r"truong hop|cap (?:xa|tinh|huyen)|quy trinh", f):
            sub = t.strip(" :")
            continue
        if not title or not _TOTAL_RX.match(f.lstrip("-+ ")):
            continue
        label, _, inline = t.lstrip("-+ ").partition(":")
        value = inline.strip()
        if not _DURATION_RX.search(fold(value)):
            nxt = next((x for x in texts[i + 1: i + 3] if x), "")
            value = nxt if _DURATION_RX.match(fold(nxt).strip()) else ""
        if value:
            lab = label.strip() + (f" ({sub})" if sub else "")
            out.append((code, title, lab, value.rstrip(" .;")))
    return out


def parse_catalogue(raw: RawDocument, locality: str | None = None) -> Catalogue:
    """Parse a catalogue (DOCX/PDF/text decision appendix, or a CSV/XLSX hand-kept list) into procedures."""
    from .docmeta import read_meta

    texts = _paragraph_texts(raw)
    name = raw.path.name
    cat = Catalogue(document=name, doc_id=raw.sha)
    cat.title = detect_title(texts)
    meta = read_meta(raw.blocks) if raw.kind not in ("csv", "xlsx") else None
    cat.decision = _decision_of(meta, texts) if meta else detect_decision(texts)
    scope, province, issuer = "", "", ""
    if locality:
        cat.locality = locality
    elif meta and meta.place and (meta.level == "commune" or (meta.doc_type == "quyết định"
                                                               and meta.issuer_source == "header")):
        cat.locality = meta.place
    else:
        cat.locality = detect_locality(texts)
    if meta and meta.place and fold(cat.locality) == fold(meta.place):
        issuer = meta.issuer
        scope = {"commune": "commune", "district": "district"}.get(meta.level, "province")
        province = meta.place_name if scope == "province" else ""
    elif cat.locality:
        scope = "commune" if re.match(r"(?i)(xã|phường|thị trấn|đặc khu)\b", cat.locality) else ""
    origin = "catalogue" if raw.kind in ("csv", "xlsx") or scope == "commune" else "decision"

    # --- Phần I list
    list_tables, statuses = _list_tables(raw)
    layouts: dict = {}
    rows = parse_list_tables(list_tables, statuses, layouts) if list_tables else []
    cat.has_list = bool(rows)
    list_label = "Phần I. Danh mục thủ tục hành chính"
    for b in raw.blocks:
        if isinstance(b, Paragraph) and (_PART_RX.match(b.text or "") or fold(b.text).startswith("phu luc")) \
                and "danh muc" in fold(b.text):
            list_label = re.split(r"\s*\(", normalize(b.text))[0][:160]
            break
    by_key: dict[str, Procedure] = {}
    procs: list[Procedure] = []
    for r in rows:
        v = r.values
        code_m = _CODE_RX.search(v.get("code", "") or "")
        code = code_m.group(1) if code_m else ""
        _, pname, tcode = split_title(v.get("name", ""))
        code = code or tcode
        if not _valid_name(pname):
            continue
        p = Procedure(code=code, name=pname, locality=normalize(v.get("locality", "")) or cat.locality,
                      field=normalize(v.get("field", "")) or r.group, decision=normalize(v.get("decision", "")) or cat.decision,
                      document=name, doc_id=raw.sha, number=normalize(v.get("stt", "")), origin=origin, scope=scope,
                      level=r.level, issuer=issuer, province=province, status=r.status)
        src = f"{list_label}, STT {p.number}" if p.number else list_label
        p.sources["name"] = src
        if code:
            p.sources["code"] = src
        for fld in FIELDS:
            if v.get(fld):
                cell_items = _split_cell_items(v[fld]) if fld in ("steps", "documents", "forms", "legal_basis") \
                    else [normalize(v[fld])]
                _apply(p, fld, cell_items, f"{src}, cột {FIELD_LABELS[fld]}")
        if v.get("receiving"):
            p.receiving = normalize(v["receiving"])
            p.sources["receiving"] = f"{src}, cột Địa điểm thực hiện"
            if not p.channels:
                p.channels = parse_channels(p.receiving)
        if v.get("note"):
            p.extra["Ghi chú"] = normalize(v["note"])
            if p.status == "abolished" or re.search(r"bai bo", fold(v["note"])):
                p.status = p.status or "abolished"
                p.status_note = normalize(v["note"])
        procs.append(p)
        if code:
            by_key.setdefault(code, p)
        by_key.setdefault("n:" + _name_key(pname), p)

    # --- Phần II blocks
    start = 0
    for i, b in enumerate(raw.blocks):
        if isinstance(b, Paragraph) and _PART_RX.match(b.text or "") and i > 0 and "danh muc" not in fold(b.text):
            start = i
            break
    part2_label = "Phần II"
    if start and isinstance(raw.blocks[start], Paragraph):
        part2_label = re.split(r"\.\s", normalize(raw.blocks[start].text), maxsplit=1)[0].strip() or "Phần II"
        part2_label = re.sub(r"\s+", " ", part2_label).rstrip(".")
    lines = _flatten(raw, start, layouts)
    wrapped = raw.kind in ("pdf", "txt", "md")
    blocks = [b for b in parse_blocks(lines, [p.name for p in procs if p.status != "abolished"], wrapped)
              if _valid_name(b.name) or b.code]
    cat.has_blocks = bool(blocks)
    with_block: set[int] = set()
    for blk in blocks:
        key = blk.code if blk.code in by_key else "n:" + _name_key(blk.name)
        p = by_key.get(key)
        if p is None:
            p = _fuzzy_find([x for x in procs if x.status != "abolished"], blk.name)
        if p is None and cat.has_list and not blk.code and len({h.field for h, _, _ in blk.sections}) < 4:
            continue  # not in the list, no code, a heading or two: a form's or a process table's text, not a procedure
        if p is None:
            p = Procedure(code=blk.code, name=blk.name, locality=cat.locality, field=blk.group, decision=cat.decision,
                          document=name, doc_id=raw.sha, number=blk.number, origin=origin, scope=scope,
                          issuer=issuer, province=province)
            procs.append(p)
        with_block.add(id(p))
        if blk.code and not p.code:
            p.code = blk.code
        if blk.group and not p.field:
            p.field = blk.group
        if len(blk.name) > len(p.name) and _name_key(p.name) in _name_key(blk.name):
            p.name = blk.name
        head = f"{part2_label} > {blk.number + '. ' if blk.number else ''}{blk.name}"
        p.sources.setdefault("name", head)
        if blk.code:
            p.sources["code"] = head
        for h, items, tabs in blk.sections:
            unwrapped = unwrap_items(items, wrapped)
            src = f"{head} > {h.heading.rstrip(':').strip()}"
            if h.field == "documents" and tabs:
                unwrapped = _documents_from_tables(tabs, unwrapped)
            if h.field == "channels" and tabs:
                ch = _channel_table(tabs)
                if ch:
                    unwrapped = [u for u in unwrapped if not (u.startswith("- ") and "|" in u)] + ch["channels"]
                    for fld, key in (("time_limit", "time"), ("fee", "fee")):
                        if ch[key] and (not p.text_of(fld) or "cột" in p.sources.get(fld, "")):
                            _apply_block(p, fld, ch[key], src + " (bảng)")
            _apply_block(p, h.field, unwrapped, src)
    # --- internal processes: their total times are facts of the procedure they name
    for code, title, label, value in process_facts(_flatten(raw, 0, layouts)):
        target = by_key.get(code) if code else None
        if target is None:
            _, tname, _ = split_title(re.sub(r"(?i)^\s*(?:\d{1,3}\s*[.)]\s*)?quy trình[^:“\"]*[:“\"]\s*", "", title))
            target = by_key.get("n:" + _name_key(tname.strip("“”\" "))) or _fuzzy_find(procs, tname.strip("“”\" "))
        if target is not None:
            fact = {"label": label, "text": value, "source": f"Quy trình nội bộ > {_short_title(title)}"}
            if fact not in target.facts:
                target.facts.append(fact)
    for p in procs:
        p.listed_only = cat.has_list and id(p) not in with_block and not (p.documents or p.steps)
        _finish(p)
    # one procedure per id (a list row repeated across pages)
    seen: dict[str, Procedure] = {}
    for p in procs:
        if p.id not in seen:
            seen[p.id] = p
    cat.procedures = list(seen.values())
    cat.fields = count_fields(cat.procedures)
    if not cat.locality:
        cat.warnings.append("không xác định được địa phương hay cơ quan ban hành của danh mục")
    if cat.procedures and cat.has_list and not cat.has_blocks:
        cat.warnings.append("quyết định chỉ có danh mục (không có nội dung cụ thể từng thủ tục): không có thành "
                            "phần hồ sơ, trình tự")
    return cat


def _short_title(title: str) -> str:
    t = re.sub(r"\s+", " ", title).strip(" *")
    return t if len(t) <= 120 else t[:120].rsplit(" ", 1)[0] + "…"


def count_fields(procedures: list[Procedure]) -> int:
    """Fields yielded: every non-empty field of every procedure (the index report's "fields")."""
    return (sum(1 for p in procedures for f in FIELDS if p.text_of(f)) + sum(1 for p in procedures if p.receiving)
            + sum(1 for p in procedures if p.facts))


def _documents_from_tables(tabs: list[Table], items: list[str]) -> list[str]:
    """A documents section laid out as a table (Tên giấy tờ | Mẫu đơn | Số lượng): one item per row."""
    out = [i for i in items if not i.startswith("- ") or "|" not in i]
    for t in tabs:
        hdr = [fold(c) for c in t.rows[0]] if t.rows else []
        name_col = next((j for j, h in enumerate(hdr) if "ten" in h or "giay to" in h or "thanh phan" in h), None)
        qty_col = next((j for j, h in enumerate(hdr) if "so luong" in h), None)
        if name_col is None:
            out.extend("- " + " | ".join(c for c in _dedupe_row(r) if c) for r in t.rows if any(r))
            continue
        for r in t.rows[1:]:
            nm = r[name_col] if name_col < len(r) else ""
            if not nm or re.fullmatch(r"\d+", nm):
                continue
            q = r[qty_col] if qty_col is not None and qty_col < len(r) else ""
            out.append(f"- {nm}" + (f" ({q})" if q else ""))
    return out


def _channel_table(tabs: list[Table]) -> dict | None:
    """The national database's "Cách thức thực hiện" table: Hình thức nộp | Thời hạn giải quyết | Phí, lệ phí |
    Mô tả, one row per channel. Returns {"channels", "time", "fee"} lines ("Trực tiếp: 03 ngày làm việc")."""
    for t in tabs:
        if not t.rows:
            continue
        hdr = [fold(c) for c in t.rows[0]]
        form = next((j for j, h in enumerate(hdr) if "hinh thuc" in h or "cach thuc" in h), None)
        if form is None:
            continue
        tcol = next((j for j, h in enumerate(hdr) if "thoi han" in h or "thoi gian" in h), None)
        fcol = next((j for j, h in enumerate(hdr) if "phi" in h), None)
        dcol = next((j for j, h in enumerate(hdr) if "mo ta" in h), None)
        out = {"channels": [], "time": [], "fee": []}
        for r in t.rows[1:]:
            name = r[form] if form < len(r) else ""
            if not name:
                continue
            desc = r[dcol] if dcol is not None and dcol < len(r) else ""
            out["channels"].append(f"{name}" + (f": {desc}" if desc and desc != name else ""))
            if tcol is not None and tcol < len(r) and r[tcol]:
                out["time"].append(f"{name}: {r[tcol]}")
            if fcol is not None and fcol < len(r) and r[fcol]:
                out["fee"].append(f"{name}: {r[fcol]}")
        if out["channels"]:
            return out
    return None


def _fuzzy_find(procs: list[Procedure], name: str) -> Procedure | None:
    try:
        from rapidfuzz import fuzz
    except ImportError:  # pragma: no cover
        return None
    k = _name_key(name)
    best, score = None, 0.0
    for p in procs:
        s = fuzz.ratio(k, _name_key(p.name))
        if s > score:
            best, score = p, s
    return best if score >= 92 else None


# --------------------------------------------------------------------------------------------- storage

def save_procedures(db_path, procedures: list[Procedure], replace_documents: bool = True) -> int:
    """Upsert procedures into table `procedures` (pk id = locality:code). Rows of the same documents that
    are no longer in `procedures` are removed when `replace_documents`."""
    import sqlite_utils

    db = sqlite_utils.Database(str(db_path))
    rows = [p.to_row() for p in procedures]
    table = db["procedures"]
    if replace_documents and table.exists():
        docs = {p.document for p in procedures}
        keep = {r["id"] for r in rows}
        for d in docs:
            for r in list(table.rows_where("document = ?", [d])):
                if r["id"] not in keep:
                    table.delete(r["id"])
    if rows:
        table.upsert_all(rows, pk="id", alter=True)
    return len(rows)


def load_procedures(db_path, locality: str | None = None) -> list[Procedure]:
    import sqlite_utils

    path = Path(db_path)
    if not path.exists():
        return []
    db = sqlite_utils.Database(str(path))
    if not db["procedures"].exists():
        return []
    out = [Procedure.from_row(r) for r in db["procedures"].rows]
    if locality:
        key = locality_key(locality)
        out = [p for p in out if locality_key(p.locality) == key]
    return out


def delete_document(db_path, document: str) -> None:
    import sqlite_utils

    db = sqlite_utils.Database(str(db_path))
    if db["procedures"].exists():
        db["procedures"].delete_where("document = ?", [document])
