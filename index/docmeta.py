"""Who issued a document, its number, date, signer, title and administrative level — read from the header
block, the number line, the signature block and (only when the header names no issuer) the issuing sentence of
the preamble ("UBND xã X ban hành Kế hoạch …"). Never from the national motto or from body text.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from .elements import Block, Paragraph, Table
from .furniture import is_motto, is_signature_line, looks_like_person
from .textnorm import fold, normalize

# Cities under the central government: a "thành phố" of this name is a province-level unit.
CENTRAL_CITIES = {"ha noi", "ho chi minh", "hai phong", "da nang", "can tho", "hue"}
_ADMIN_TYPES = [  # (folded type word, display word, level)
    ("thanh pho", "thành phố", None),
    ("tinh", "tỉnh", "province"),
    ("huyen", "huyện", "district"),
    ("quan", "quận", "district"),
    ("thi xa", "thị xã", "district"),
    ("thi tran", "thị trấn", "commune"),
    ("dac khu", "đặc khu", "commune"),
    ("phuong", "phường", "commune"),
    ("xa", "xã", "commune"),
]
_TYPE_RX = r"(thành phố|tp\.?|tỉnh|huyện|quận|thị xã|thị trấn|đặc khu|phường|xã)"
_NAME_WORD = r"[A-ZĐÀ-Ỹa-zđà-ỹ0-9][\wÀ-ỹđĐ]*"
# "ỦY BAN NHÂN DÂN TỈNH LAI CHÂU", "UBND XÃ BÌNH GIANG", "CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH", "HĐND HUYỆN …"
_COUNCIL = re.compile(
    rf"(?P<org>(?:chủ tịch\s+)?(?:ủy ban nhân dân|ubnd|hội đồng nhân dân|hđnd))\s+(?P<type>{_TYPE_RX})\s+"
    rf"(?P<name>{_NAME_WORD}(?:\s*-\s*{_NAME_WORD}|\s+{_NAME_WORD}){{0,4}})",
    re.I,
)
# A department under a council: "SỞ NỘI VỤ", "BAN QUẢN LÝ …", "VĂN PHÒNG UBND …", "CÔNG AN TỈNH …".
_DEPARTMENT = re.compile(
    r"(?P<org>(?:sở|ban|văn phòng|công an|bộ chỉ huy|thanh tra|kho bạc|cục|chi cục|trung tâm|phòng)\s+"
    r"[\wÀ-ỹđĐ,&\- ]{2,80})",
    re.I,
)
_NUMBER = re.compile(r"\bSố\s*:?\s*(?P<n>\d{1,6}[a-zA-Z]?\s*/\s*(?:\d{4}\s*/\s*)?[A-ZĐa-zđ0-9][\wĐđ.\-– ]{0,30})")
_DATE = re.compile(r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})", re.I)
_DATE_NUM = re.compile(r"ngày\s+(\d{1,2})/(\d{1,2})/(\d{4})", re.I)
# Only the organisation and type words ignore case: a place name starts with a capital.
_ISSUING = re.compile(
    rf"(?P<org>(?i:ủy ban nhân dân|ubnd|hội đồng nhân dân|hđnd))\s+(?P<type>(?i:{_TYPE_RX}))\s+"
    rf"(?P<name>[A-ZĐÀ-Ỹ][\wÀ-ỹđĐ]*(?:\s+[A-ZĐÀ-Ỹ0-9][\wÀ-ỹđĐ]*){{0,3}})\s+(?i:xây dựng|ban hành|triển khai)"
    r"\s+(?i:kế hoạch|chương trình)"
)
_TITLE_LOCALITY = re.compile(
    rf"\b(?P<type>(?i:{_TYPE_RX}))\s+(?P<name>[A-ZĐÀ-Ỹ][\wÀ-ỹđĐ]*(?:\s+[A-ZĐÀ-Ỹ0-9][\wÀ-ỹđĐ]*){{0,3}})")
_DOC_TYPES = ("kế hoạch", "quyết định", "chương trình", "công văn", "thông báo", "chỉ thị", "đề án", "báo cáo")


@dataclass
class DocMeta:
    doc_type: str = ""  # "kế hoạch" | "quyết định" | …
    issuer: str = ""  # "UBND tỉnh Lai Châu", "Sở Nội vụ tỉnh Bắc Ninh"
    level: str = ""  # commune | district | province | department | central | ""
    place: str = ""  # the area the issuer governs: "tỉnh Lai Châu", "xã Bình Giang"
    place_name: str = ""  # "Lai Châu"
    number: str = ""  # "7360/KH-UBND" ("" when the copy is unnumbered)
    date: str | None = None  # ISO
    signer: str = ""  # "Tống Thanh Hải"
    signer_title: str = ""  # "Phó Chủ tịch"
    title: str = ""  # "Kế hoạch triển khai thi hành Luật …"
    issuer_source: str = ""  # "header" | "preamble" | "title" | "date line" — how sure the issuer is

    def to_dict(self) -> dict:
        return asdict(self)

    def citation(self) -> str:
        """'Kế hoạch số 7360/KH-UBND ngày 19/11/2025 của UBND tỉnh Lai Châu' (parts that are unknown left out)."""
        kind = (self.doc_type or "kế hoạch").capitalize()
        if self.doc_type == "quyết định" and fold(self.title).startswith("ke hoach"):
            kind = "Kế hoạch ban hành kèm theo Quyết định"  # a plan issued by a decision cites the decision
        parts = [kind]
        if self.number:
            parts.append(f"số {self.number}")
        if self.date:
            y, m, d = self.date.split("-")
            parts.append(f"ngày {d}/{m}/{y}")
        if self.issuer:
            parts.append(f"của {self.issuer}")
        return " ".join(parts)


def proper_case(name: str) -> str:
    """'BÌNH GIANG' -> 'Bình Giang'; 'HỒ CHÍ MINH' -> 'Hồ Chí Minh'; mixed case is kept."""
    name = normalize(name).strip(" ,.;:-")
    if name.isupper() or name.islower():
        # a word with a combining mark the crawl left decomposed is still a word; codes keep their case
        return " ".join(w if re.search(r"[\d/]", w) else w[:1].upper() + w[1:].lower() for w in name.split())
    return name


def _level(type_folded: str, name: str) -> str:
    t = type_folded.rstrip(".")
    if t in ("thanh pho", "tp"):
        return "province" if fold(name) in CENTRAL_CITIES else "district"
    for f, _, level in _ADMIN_TYPES:
        if f == t:
            return level or ""
    return ""


def _type_word(raw: str) -> str:
    t = fold(raw).rstrip(".")
    if t == "tp":
        return "thành phố"
    for f, display, _ in _ADMIN_TYPES:
        if f == t:
            return display
    return raw.lower()


_NAME_STOP = re.compile(
    r"\s+(?:sở|ban|văn phòng|công an|số|v/v|về|kế hoạch|quyết định|cộng hòa|độc lập|trung tâm|phòng|thường trực)\b.*$",
    re.I)


def _clean_name(name: str) -> str:
    name = _NAME_STOP.sub("", name)
    name = re.sub(r"[-–_]{2,}.*$", "", name)
    return proper_case(name.strip(" -,.;:"))


def _council(text: str) -> tuple[str, str, str, str] | None:
    """(issuer, place, place_name, level) of the LAST council named in a header text (the most specific)."""
    found = None
    for m in _COUNCIL.finditer(text):
        name = _clean_name(m.group("name"))
        if not name or is_motto(name):
            continue
        type_word = _type_word(m.group("type"))
        place = f"{type_word} {name}"
        org = "Chủ tịch UBND" if fold(m.group("org")).startswith("chu tich") else (
            "HĐND" if fold(m.group("org")) in ("hoi dong nhan dan", "hdnd") else "UBND")
        found = (f"{org} {place}", place, name, _level(fold(m.group("type")), name))
    return found


def _header_texts(blocks: list[Block]) -> list[str]:
    """The header block's texts: the furniture table/lines before the title, minus the motto."""
    out: list[str] = []
    for b in blocks[:40]:
        if isinstance(b, Table):
            if b.furniture == "header":
                for row in b.rows:
                    for cell in row:
                        if cell and not is_motto(cell):
                            out.append(cell)
                        elif cell:  # the motto cell: keep any text beside the motto words
                            rest = re.sub(r"(?i)cộng hòa xã hội chủ nghĩa việt nam|độc lập\s*-\s*tự do\s*-\s*hạnh phúc",
                                          " ", cell)
                            if rest.strip(" -\n"):
                                out.append(rest)
            continue
        t = b.text.strip()
        if not t:
            continue
        if fold(t).startswith(tuple(fold(x) for x in _DOC_TYPES)) and not b.furniture:
            break
        if not is_motto(t):
            out.append(t)
    return out


# Central bodies that issue plans: the Prime Minister, the Government, a ministry, a national steering committee.
_CENTRAL = re.compile(r"(?i)^(thủ tướng chính phủ|chính phủ|bộ\s+[\wÀ-ỹđĐ,&\- ]{2,60}|ban chỉ đạo\s+[\wÀ-ỹđĐ,&\- ]{2,80})$")


def _central(header: list[str]) -> str:
    """A central issuer written on its own header line(s) ("THỦ TƯỚNG / CHÍNH PHỦ", "BỘ TƯ PHÁP")."""
    for text in header:
        line = normalize(text.replace("\n", " ")).strip(" -*_")
        line = re.split(r"\s{2,}|-{3,}", line)[0].strip(" -*_")
        if line.isupper() and _CENTRAL.match(line):
            name = proper_case(line)
            return {"Thủ Tướng Chính Phủ": "Thủ tướng Chính phủ", "Chính Phủ": "Chính phủ"}.get(name, name)
    return ""


def _departments(header: list[str]) -> str:
    """A department named on its own header line ("SỞ NỘI VỤ"), when the header has one."""
    for text in header:
        for line in re.split(r"\n|\s{2,}", text):
            line = line.strip(" -")
            if not line or not line.isupper():
                continue
            if re.match(r"(?i)^(ủy ban nhân dân|ubnd|hội đồng|cộng hòa|độc lập|số\b)", line):
                continue
            m = _DEPARTMENT.match(line)
            if m:
                return proper_case(m.group("org"))
    return ""


def _first_paragraphs(blocks: list[Block], n: int = 40) -> list[str]:
    return [b.text for b in blocks[:n * 3] if isinstance(b, Paragraph) and b.text and not b.furniture][:n]


def detect_title(blocks: list[Block]) -> tuple[str, str]:
    """(document type, title): 'KẾ HOẠCH' and the short lines that complete it. For a decision that issues a
    plan, the plan's own 'KẾ HOẠCH' heading is preferred when the document has one."""
    paras = [b for b in blocks if isinstance(b, Paragraph) and b.text and not b.furniture]
    found: tuple[str, str] | None = None
    for i, p in enumerate(paras[:400]):
        f = fold(p.text)
        for kind in _DOC_TYPES:
            fk = fold(kind)
            if f == fk or (f.startswith(fk + " ") and p.text[: len(kind)].isupper() and not f.startswith(fk + " so")):
                parts = [p.text]
                for nxt in paras[i + 1 : i + 4]:
                    nf = fold(nxt.text)
                    head = re.split(r"\s\(", nxt.text)[0]  # "… NĂM 2023 (Kèm theo Quyết định …)"
                    caps = head.isupper()
                    if (nf.startswith(("can cu", "so:", "i.", "i ", "chu tich", "uy ban nhan dan", "("))
                            or (not caps and (len(nxt.text) > 160 or nf.startswith("thuc hien") and len(head) > 120))
                            or len(head) > 400 or nf.endswith(":") or "ban hanh ke hoach" in nf and len(parts) > 1):
                        break
                    parts.append(head)
                    if not caps:
                        break
                title = normalize(" ".join(parts))
                if found is None:
                    found = (kind, title)
                elif kind == "kế hoạch" and found[0] != "kế hoạch":
                    return found[0], title  # the plan issued by the decision
                break
        if found and found[0] == "kế hoạch":
            break
        if found and i > 200:
            break
    if found is None:
        first = paras[0].text if paras else ""
        return "", first
    return found


def sentence_case(title: str, place_name: str = "") -> str:
    """An all-caps title in sentence case, keeping the place name and the first word capitalised;
    'KẾ HOẠCH Cải cách hành chính' -> 'Kế hoạch cải cách hành chính'."""
    if not title:
        return title
    if not title.isupper():
        words = title.split()
        k = 0
        while k < len(words) and words[k].isupper() and words[k].isalpha():
            k += 1
        if 0 < k < len(words) and k <= 3:
            rest = words[k:]
            if len(rest) > 1 and rest[1][:1].islower():  # a common-noun phrase: "Cải cách hành chính"
                rest[0] = rest[0][:1].lower() + rest[0][1:]
            lead = " ".join(words[:k]).lower()
            return " ".join([lead[:1].upper() + lead[1:]] + rest)
        return title
    # Codes and numbers keep their case ("06/QĐ-TTg" stays as written).
    low = " ".join(w if re.search(r"[\d/]", w) else w.lower() for w in title.split())
    out = low[:1].upper() + low[1:]
    if place_name:
        out = re.sub(re.escape(place_name.lower()), place_name, out)
    return out


def _signature(blocks: list[Block]) -> tuple[str, str]:
    """(signer, title) from the first signature block: the role lines, then a person's name."""
    texts: list[str] = []
    for b in blocks:
        if isinstance(b, Table) and b.furniture == "signature":
            for row in b.rows:
                for cell in row:
                    if cell and not re.match(r"(?i)^-?\s*nơi nhận", cell.strip()):
                        texts.append(cell)
            found = _signer_in(" ".join(texts))
            if found:
                return found
            texts = []
        elif isinstance(b, Paragraph) and b.furniture == "signature":
            texts.append(b.text)
        elif isinstance(b, Paragraph) and not b.text.strip():
            continue
        elif texts:
            found = _signer_in(" ".join(texts))
            if found:
                return found
            texts = []
    if texts:
        return _signer_in(" ".join(texts)) or ("", "")
    return "", ""


_ROLE_WORDS = ("PHÓ CHỦ TỊCH", "CHỦ TỊCH", "PHÓ GIÁM ĐỐC", "GIÁM ĐỐC", "PHÓ TRƯỞNG BAN", "TRƯỞNG BAN",
               "CHÁNH VĂN PHÒNG", "PHÓ CHÁNH VĂN PHÒNG", "TRƯỞNG PHÒNG", "PHÓ TRƯỞNG PHÒNG", "BỘ TRƯỞNG", "THỨ TRƯỞNG")


def _signer_in(text: str) -> tuple[str, str] | None:
    text = normalize(text.replace("\n", " "))
    m = re.search(r"([A-ZĐÀ-Ỹ][a-zđà-ỹ]+(?:\s+[A-ZĐÀ-Ỹ][a-zđà-ỹ]+){1,4})\s*$", text)
    if not m or not looks_like_person(m.group(1)):
        return None
    before = text[: m.start()].upper()
    title = ""
    best = -1
    for role in _ROLE_WORDS:  # the role written last (its end), the longer one on a tie ("PHÓ CHỦ TỊCH")
        pos = before.rfind(role)
        end = pos + len(role) if pos >= 0 else -1
        if end > best or (end == best and end >= 0 and len(role) > len(title)):
            best, title = end, role
    return m.group(1), (title.capitalize() if title else "")


def read_meta(blocks: list[Block]) -> DocMeta:
    meta = DocMeta()
    header = _header_texts(blocks)
    head_text = normalize(" ".join(h.replace("\n", " ") for h in header))
    meta.doc_type, raw_title = detect_title(blocks)
    # Number and date: the header block first, then the first lines.
    for text in header:  # never a date of the "Căn cứ" lines
        if not meta.number:
            m = _NUMBER.search(text)
            if m:
                meta.number = re.sub(r"\s+", "", m.group("n")).rstrip(".-–")
        if not meta.date:
            m = _DATE.search(text) or _DATE_NUM.search(text)
            if m:
                d, mo, y = (int(x) for x in m.groups())
                if 1 <= d <= 31 and 1 <= mo <= 12:
                    meta.date = f"{y:04d}-{mo:02d}-{d:02d}"
    council = _council(head_text)
    dept = _departments(header)
    if council:
        meta.issuer, meta.place, meta.place_name, meta.level = council
        meta.issuer_source = "header"
        if dept:
            meta.issuer = f"{dept} {meta.place}"
            meta.level = "department"
    elif dept:
        meta.issuer, meta.level, meta.issuer_source = dept, "department", "header"
    elif central := _central(header):
        meta.issuer, meta.level, meta.issuer_source = central, "central", "header"
    if not meta.place:
        # No council in the header: the preamble's issuing sentence, then the title, then the date line.
        for text in _first_paragraphs(blocks, 30):
            m = _ISSUING.search(text)
            if m:
                name = _clean_name(m.group("name"))
                type_word = _type_word(m.group("type"))
                meta.place, meta.place_name = f"{type_word} {name}", name
                meta.level = meta.level or _level(fold(m.group("type")), name)
                meta.issuer = meta.issuer or f"UBND {meta.place}"
                meta.issuer_source = meta.issuer_source or "preamble"
                break
    if not meta.place and raw_title:
        m = _TITLE_LOCALITY.search(raw_title)
        if m:
            name = _clean_name(m.group("name"))
            if name:
                type_word = _type_word(m.group("type"))
                meta.place, meta.place_name = f"{type_word} {name}", name
                meta.level = meta.level or _level(fold(m.group("type")), name)
                meta.issuer = meta.issuer or f"UBND {meta.place}"
                meta.issuer_source = meta.issuer_source or "title"
    meta.signer, meta.signer_title = _signature(blocks)
    meta.title = sentence_case(raw_title, meta.place_name)
    if meta.number and not re.search(r"\d", meta.number.split("/")[0]):
        meta.number = ""  # "Số: /KH-UBND": an unnumbered draft
    return meta
