"""Units (cơ quan, đơn vị): splitting cells, canonical keys and display names, collectives."""
from __future__ import annotations

import re
from functools import lru_cache

from .textnorm import fold, normalize

# Words that begin a unit's name: used to split "Phòng A, Văn phòng B" but not "Phòng Kinh tế, Hạ tầng".
_STARTERS = (
    "phong", "van phong", "trung tam", "cong an", "ban ", "ubnd", "uy ban", "hdnd", "hoi dong", "dang uy",
    "cong chuc", "mat tran", "cac ", "doan ", "hoi ", "tram ", "truong ", "dai ", "quan su", "ban chi huy",
    "chu tich", "pho chu tich", "thu truong", "bo phan", "to ", "thanh tra", "kho bac", "chi cuc", "so ",
    "dai truyen thanh", "buu dien", "nguoi dung dau",
)
_COLLECTIVE = re.compile(
    r"^(cac|toan the|tat ca)\b.*\b(co quan|don vi|phong|ban|nganh|bo phan|dia phuong|thon|to chuc)"
    r"|^thu truong cac|^cac (co quan|don vi|phong|bo phan)"
)
_LOCALITY_TAIL = re.compile(r"\s+(xa|phuong|thi tran)$")


def is_collective(name: str) -> bool:
    """'Các cơ quan, đơn vị' and the like: a group, not one unit."""
    return bool(_COLLECTIVE.search(fold(name)))


def split_units(cell: str) -> list[str]:
    """Split a lead/coordinate cell into unit names."""
    cell = normalize(cell).strip(" .;:")
    if not cell:
        return []
    parts = re.split(r"\s*[;\n]\s*|\s+và\s+(?=(?:Phòng|Văn phòng|Trung tâm|Công an|Ban)\b)", cell)
    out: list[str] = []
    for part in parts:
        pieces = [p.strip() for p in part.split(",")]
        current = ""
        for piece in pieces:
            if not piece:
                continue
            f = fold(piece)
            if current and f.startswith(_STARTERS) and not is_collective(current + ", " + piece):
                out.append(current)
                current = piece
            else:
                current = f"{current}, {piece}" if current else piece
        if current:
            out.append(current)
    return [u.strip(" .;:") for u in out if u.strip(" .;:")]


@lru_cache(maxsize=65536)
def unit_key(name: str, locality_name: str = "") -> str:
    """Key under which aliases meet: 'Văn phòng Hội đồng nhân dân và Ủy ban nhân dân xã' ==
    'Văn phòng HĐND-UBND' == 'Văn phòng HĐND và UBND phường'; 'Phòng Văn hoá – Xã hội' == 'VHXH'."""
    f = fold(name)
    f = re.sub(r"\bhoi dong nhan dan\b", "hdnd", f)
    f = re.sub(r"\buy ban nhan dan\b", "ubnd", f)
    f = re.sub(r"\bvhxh\b", "van hoa xa hoi", f)
    f = re.sub(r"\btrung tam pvhcc\b", "trung tam phuc vu hanh chinh cong", f)
    f = re.sub(r"^(de nghi|cong chuc)\s+", "", f)
    f = re.sub(r"[-,–]", " ", f)
    f = re.sub(r"\b(va)\b", " ", f)
    if locality_name:
        f = re.sub(r"\s+(xa|phuong|thi tran)?\s*" + re.escape(fold(locality_name)) + "$", "", f)
    f = _LOCALITY_TAIL.sub("", f)
    f = re.sub(r"\s+", " ", f).strip(" .:;")
    return f


def display_name(name: str) -> str:
    """Tidy display form: no trailing punctuation or 'có trách nhiệm'."""
    name = normalize(name).strip(" .:;")
    name = re.sub(r"\s*(có trách nhiệm|chịu trách nhiệm).*$", "", name, flags=re.I)
    return name


_UNIT_HEADING = re.compile(
    r"^(de nghi\s+)?(phong|van phong|trung tam|cong an|ban|cong chuc|dai|uy ban|ubnd|hdnd|mat tran|doan|"
    r"quan su|ban chi huy|tram|thu truong|bo phan|chu tich|cac co quan|cac phong)\b"
)


def looks_like_unit(text: str) -> bool:
    """A heading that names a unit (in 'Tổ chức thực hiện'), e.g. '2.1. Phòng Văn hóa - Xã hội'."""
    f = fold(text)
    return bool(_UNIT_HEADING.match(f)) and len(text) <= 120
