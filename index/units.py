"""Units (cơ quan, đơn vị) of every level: recognising a unit name, splitting cells, canonical keys, display
names, abbreviations and collectives.

A unit name starts with a head noun of Vietnamese public administration (Sở, Ban, Phòng, Văn phòng, Trung tâm,
Công an, Bộ Chỉ huy, UBND, Ủy ban MTTQ, Hội, Liên hiệp, Tỉnh đoàn, Báo, Đài, Viện, Kho bạc, Bảo hiểm xã hội,
Ngân hàng …) — the vocabulary of the genre, not of one document. Abbreviations (Sở KH&CN, Sở NN&MT, UBMTTQ, BCH
Quân sự …) meet their long forms under one key. Collectives ("các sở, ban, ngành", "UBND các xã, phường") are
kept as collectives: a group, never one unit.
"""
from __future__ import annotations

import re
from functools import lru_cache

from .textnorm import fold, normalize

# Head nouns that begin a unit's name. Multi-word heads are matched folded; one-syllable heads are matched with
# their diacritics, because folding merges them with common words (Sở/số, Ban/bản, Bộ/bổ, Đài/đại, Hội/hỏi …).
_MULTI_HEADS: tuple[str, ...] = (
    "van phong", "trung tam", "cong an", "bo chi huy", "ban chi huy", "bo doi bien phong", "bo tu lenh",
    "uy ban nhan dan", "ubnd", "uy ban mat tran", "ubmttq", "uy ban mttq", "mat tran", "hoi dong nhan dan", "hdnd",
    "hoi dong", "hoi lien hiep", "lien hiep", "lien doan", "tinh doan", "thanh doan", "huyen doan",
    "doan thanh nien", "vien kiem sat", "kho bac", "chi cuc", "thanh tra", "bao hiem xa hoi", "bhxh", "ngan hang",
    "chi nhanh", "cong ty", "tong cong ty", "toa an", "buu dien", "dang uy", "huyen uy", "tinh uy", "thanh uy",
    "cong chuc", "can bo", "bo phan", "thu truong", "chu tich", "pho chu tich", "nguoi dung dau", "quan su",
    "hiep hoi", "doanh nghiep", "cac so", "cac co quan", "cac don vi", "cac phong", "cac ban", "cac dia phuong",
    "cac xa", "cac huyen", "cac hoi", "cac to chuc", "cac doan the", "cac nganh", "tong cuc", "uy ban kiem tra",
    "lanh dao", "chi huy truong", "dai phat thanh", "dai truyen thanh", "bao va phat thanh", "ban quan ly",
    "ban chi dao", "ban dan toc", "ban to chuc", "ban tuyen giao", "ban dan van", "ban noi chinh",
)
_SHORT_HEADS = {"sở", "ban", "phòng", "bộ", "báo", "đài", "viện", "trường", "trưởng", "tổ", "trạm", "hội", "đoàn",
                "cục", "quỹ", "ngành", "ubnd", "hđnd", "ubmttq", "bchqs"}
_NOT_UNIT = re.compile(
    r"^(to chuc|ban hanh|ban dau|hoi nghi|hoi thao|hoi nhap|hoi dap|bo may|bo tieu chi|bo sung|bo tri|to chuc thuc hien"
    r"|doan ket|phong chong|phong ngua|phong tranh|truong hop|bao cao|bao dam|bao ve|dai hoi|cong chuc,? vien chuc"
    r"|can bo,? cong chuc|doanh nghiep (nho|va|co|khoi|nha)|lanh dao,? chi dao|nganh nghe|to khai|cac nganh nghe)\b"
)
_DETERMINER = re.compile(r"^(?:cac|nhung|toan the|tat ca cac|tat ca)\s+")
_MULTI_RX = re.compile(r"^(?:" + "|".join(re.escape(h) for h in _MULTI_HEADS) + r")\b")

# Abbreviations of unit names -> long form (folded). General administrative usage, applied to keys and display.
UNIT_ABBREVIATIONS: dict[str, str] = {
    "kh&cn": "khoa hoc va cong nghe", "khcn": "khoa hoc va cong nghe",
    "nn&mt": "nong nghiep va moi truong", "nnmt": "nong nghiep va moi truong",
    "nn&ptnt": "nong nghiep va phat trien nong thon", "nnptnt": "nong nghiep va phat trien nong thon",
    "vhttdl": "van hoa, the thao va du lich", "vh,tt&dl": "van hoa, the thao va du lich",
    "vh, tt&dl": "van hoa, the thao va du lich", "vhtt&dl": "van hoa, the thao va du lich",
    "tt&tt": "thong tin va truyen thong", "tttt": "thong tin va truyen thong",
    "gd&dt": "giao duc va dao tao", "gddt": "giao duc va dao tao",
    "ldtb&xh": "lao dong - thuong binh va xa hoi", "ldtbxh": "lao dong - thuong binh va xa hoi",
    "tn&mt": "tai nguyen va moi truong", "tnmt": "tai nguyen va moi truong",
    "kh&dt": "ke hoach va dau tu", "khdt": "ke hoach va dau tu",
    "gtvt": "giao thong van tai", "xd": "xay dung", "vhxh": "van hoa - xa hoi", "kt": "kinh te",
    "ubnd": "uy ban nhan dan", "hdnd": "hoi dong nhan dan", "ubmttq": "uy ban mat tran to quoc",
    "mttq": "mat tran to quoc", "bch": "bo chi huy", "bhxh": "bao hiem xa hoi", "ttpvhcc": "trung tam phuc vu hanh chinh cong",
    "pvhcc": "phuc vu hanh chinh cong", "trung tam hcc": "trung tam phuc vu hanh chinh cong",
    "tt hcc": "trung tam phuc vu hanh chinh cong", "tthcc": "trung tam phuc vu hanh chinh cong",
    "hcc": "hanh chinh cong", "cqs": "chinh quyen so", "bdbp": "bo doi bien phong",
    "vp": "van phong", "ca": "cong an",
}
_ABBR_RX = re.compile(r"(?<![\w&])(" + "|".join(sorted(map(re.escape, UNIT_ABBREVIATIONS), key=len, reverse=True))
                      + r")(?![\w&])")

_COLLECTIVE = re.compile(
    r"^(cac|toan the|tat ca|nhung)\b"
    r"|^(ubnd|uy ban nhan dan|hdnd|thu truong|chu tich ubnd|chu tich uy ban nhan dan) cac\b"
    r"|\b(so|co quan), ban, nganh\b|\bco lien quan$|\blien quan$"
    r"|(^|, )cac (xa|phuong|huyen|quan|tinh|so|co quan|don vi|dia phuong|phong|ban|nganh)\b"
)
_LOCALITY_TAIL = re.compile(r"\s+(xa|phuong|thi tran|tinh|thanh pho|huyen|quan|thi xa|dac khu)$")
_WITH_OTHERS = re.compile(r"\s+(va|cung) (cac|nhung) .*$")


def looks_like_unit(text: str) -> bool:
    """Does the text begin with a unit's name ('2.1. ' numbering and 'Đề nghị'/'Giao' already allowed for)?"""
    t = normalize(text).lstrip("*_ ")
    t = re.sub(r"^(?:\d{1,2}(?:\.\d{1,2})*[.)]|[a-zđ][).])\s+", "", t)
    t = re.sub(r"(?i)^(?:đề nghị|giao)\s+", "", t)
    if not t or len(t) > 160:
        return False
    f = fold(t)
    if _NOT_UNIT.match(f):
        return False
    if _MULTI_RX.match(f):
        return True
    # a determiner before the head ("Các doanh nghiệp viễn thông", "Các Sở, ban, ngành"): the head decides
    det = _DETERMINER.match(f)
    if det:
        head_f = f[det.end():]
        head_t = " ".join(t.split()[len(det.group(0).split()):])
        if not head_t or _NOT_UNIT.match(head_f):
            return False
        return bool(_MULTI_RX.match(head_f)) or head_t.split()[0].lower().strip(",.:;") in _SHORT_HEADS
    first = t.split()[0].lower().strip(",.:;")
    return first in _SHORT_HEADS and len(t.split()) >= 2


def is_collective(name: str) -> bool:
    """'Các cơ quan, đơn vị', 'Sở, ban, ngành có liên quan', 'UBND các xã, phường': a group, not one unit."""
    return bool(_COLLECTIVE.search(fold(name)))


def expand_unit_abbreviations(folded: str) -> str:
    return _ABBR_RX.sub(lambda m: UNIT_ABBREVIATIONS[m.group(1)], folded)


_SPLIT_AND = re.compile(r"\s+(?:và|cùng)\s+(?=(?:" + "|".join(
    ["Sở", "Ban", "Phòng", "Văn phòng", "Trung tâm", "Công an", "Bộ", "UBND", "Ủy ban", "Hội", "Liên hiệp", "Báo",
     "Đài", "Viện", "Tỉnh đoàn", "Thành đoàn", "Kho bạc", "Bảo hiểm", "Ngân hàng", "Chi nhánh", "Mặt trận",
     "Cục", "Chi cục", "Thanh tra", "Công chức", "Đoàn", "Trường", "Quỹ", "Doanh nghiệp", "các", "Các"]) + r"))\b")


_COUNCIL_END = re.compile(r"(hdnd|ubnd|hoi dong nhan dan|uy ban nhan dan)$")
_COUNCIL_ONLY = re.compile(r"^(hdnd|ubnd|hoi dong nhan dan|uy ban nhan dan)(\s+\S+){0,3}$")


def split_units(cell: str) -> list[str]:
    """Split a lead/coordinate cell into unit names: on ';' and new lines always; on ',' and 'và' only where the
    next piece starts a unit's name ('Sở A, Sở B' -> two; 'Phòng Kinh tế, Hạ tầng và Đô thị' -> one)."""
    cell = normalize(cell.replace("\n", "; ")).strip(" .;:")
    if not cell:
        return []
    parts = re.split(r"\s*;\s*|\s*\+\s+", cell)
    out: list[str] = []
    for part in parts:
        subs: list[str] = []
        for sub in _SPLIT_AND.split(part):
            # "Văn phòng HĐND và UBND": the council pair names one office, not two units
            if subs and _COUNCIL_END.search(fold(subs[-1])) and _COUNCIL_ONLY.match(fold(sub)):
                subs[-1] = f"{subs[-1]} và {sub}"
            else:
                subs.append(sub)
        for sub in subs:
            pieces = [p.strip() for p in sub.split(",")]
            current = ""
            for piece in pieces:
                if not piece:
                    continue
                # A new unit starts with a capital ("Sở B") or a collective "các …"; "ngành liên quan" continues.
                if current and looks_like_unit(piece) and (piece[:1].isupper() or fold(piece).startswith("cac ")):
                    out.append(current)
                    current = piece
                else:
                    current = f"{current}, {piece}" if current else piece
            if current:
                out.append(current)
    return [display_name(u) for u in out if display_name(u)]


def display_name(name: str) -> str:
    """Tidy display form: no numbering, emphasis, trailing punctuation, '(cơ quan chủ trì)' or 'có trách nhiệm'."""
    name = normalize(name).strip(" .:;*_-")
    name = re.sub(r"^(?:\d{1,2}(?:\.\d{1,2})*[.)]|[a-zđ][).])\s+", "", name)
    name = re.sub(r"(?i)^(?:đề nghị|giao)\s+", "", name)
    name = re.sub(r"\s*\((?:cơ quan|đơn vị) (?:chủ trì|thường trực|phối hợp|đầu mối)[^)]*\)\s*$", "", name, flags=re.I)
    name = re.sub(r"\s*(có trách nhiệm|chịu trách nhiệm|căn cứ chức năng).*$", "", name, flags=re.I)
    name = name.strip(" .:;,")
    return name[:1].upper() + name[1:] if name else name


@lru_cache(maxsize=65536)
def unit_key(name: str, locality_name: str = "") -> str:
    """Key under which aliases meet: 'Sở KH&CN' == 'Sở Khoa học và Công nghệ'; 'Văn phòng HĐND-UBND' ==
    'Văn phòng Hội đồng nhân dân và Ủy ban nhân dân xã'; 'Phòng Văn hoá – Xã hội' == 'Phòng VHXH'."""
    f = fold(display_name(name))
    f = expand_unit_abbreviations(f)
    f = re.sub(r"^(cong chuc)\s+", "", f)
    f = f.replace("&", " va ")
    f = _WITH_OTHERS.sub("", f)
    f = re.sub(r"[-,–()]", " ", f)
    f = re.sub(r"\b(va)\b", " ", f)
    f = re.sub(r"\s+", " ", f).strip(" .:;")
    if locality_name:
        loc = fold(locality_name)
        f = re.sub(r"\s+(xa|phuong|thi tran|tinh|thanh pho|huyen|quan|thi xa|dac khu)?\s*" + re.escape(loc) + "$",
                   "", f)
    f = _LOCALITY_TAIL.sub("", f)
    return re.sub(r"\s+", " ", f).strip(" .:;")


_UNIT_END = re.compile(
    r"\s*(?::|\(|\s+(?:có trách nhiệm|chịu trách nhiệm|chủ trì|phối hợp|là cơ quan|là đơn vị|thực hiện|"
    r"tham mưu|căn cứ|theo chức năng|trên cơ sở|triển khai|tổ chức|hướng dẫn|chỉ đạo|xây dựng|bố trí|rà soát|"
    r"khẩn trương|chủ động|nghiên cứu|kiểm tra|đôn đốc|giúp|được giao|phụ trách|đảm bảo|bảo đảm|tiến hành|thúc đẩy|"
    r"theo dõi|lập|trình|đề xuất|cung cấp|cập nhật|tổng hợp|ban hành|tuyên truyền|tiếp tục|"
    r"tăng cường|đẩy mạnh|nâng cao|hoàn thành|gửi|báo cáo|thẩm định|xác định|phê duyệt|là|cần|phải|sẽ)\b)", re.I)


def _unit_end(t: str):
    """The first verb (or colon/parenthesis) after a unit name; 'tổ chức' after a comma or 'và' is a noun
    ('các cơ quan, tổ chức có liên quan'), not the verb."""
    for m in _UNIT_END.finditer(t, 3):
        word = m.group(0).strip().lower()
        if word.startswith("tổ chức"):
            before = t[: m.start()].rstrip()
            if before.endswith(",") or (" " + before.lower()).endswith((" và", " các")):
                continue
        if word.startswith("thẩm định") and t[: m.start()].rstrip().lower().endswith("hội đồng"):
            continue  # "Hội đồng thẩm định …" is a name
        return m
    return None


def unit_at_start(text: str) -> tuple[str, str] | None:
    """'Sở Tài chính: chủ trì …' -> ('Sở Tài chính', 'chủ trì …'); None when the text does not start with a unit.

    The name ends at a colon, a parenthesis, or the first verb of the sentence."""
    t = normalize(text).lstrip("*_ ")
    t = re.sub(r"^(?:\d{1,2}(?:\.\d{1,2})*[.)]|[a-zđ][).])\s+", "", t)
    if not looks_like_unit(t[:150]):  # a long sentence may start with a unit: test its head only
        return None
    m = _unit_end(t)
    name = t[: m.start()] if m else t
    rest = t[m.end():] if m and m.group(0).strip().startswith((":",)) else (t[m.start():] if m else "")
    if m and m.group(0).strip().startswith("("):
        close = t.find(")", m.start())
        rest = t[close + 1 :] if close > 0 else ""
        rest = rest.lstrip(" :.-")
    name = display_name(name)
    if not name or len(name) > 120 or len(name.split()) > 16 or len(name.split()) < 2:
        return None  # a unit's name has a head and a name ("Các" alone is a determiner cut off by a verb)
    return name, rest.strip(" :")
