"""Abbreviations of Vietnamese public administration, applied the same way to documents and queries.

Lexical matching sees both forms: a text with "TTHC" also gets "thu tuc hanh chinh", and a text with the
long form also gets "tthc", so "cải cách TTHC" and "cải cách thủ tục hành chính" meet.
"""
from __future__ import annotations

import re

from .textnorm import fold

# abbreviation (folded) -> long form (folded)
ABBREVIATIONS: dict[str, str] = {
    "tthc": "thu tuc hanh chinh",
    "cchc": "cai cach hanh chinh",
    "dvc": "dich vu cong",
    "dvctt": "dich vu cong truc tuyen",
    "ubnd": "uy ban nhan dan",
    "hdnd": "hoi dong nhan dan",
    "vhxh": "van hoa xa hoi",
    "cbccvc": "can bo cong chuc vien chuc",
    "cbcc": "can bo cong chuc",
    "ccvc": "cong chuc vien chuc",
    "vtvl": "vi tri viec lam",
    "nsnn": "ngan sach nha nuoc",
    "csdl": "co so du lieu",
    "dvsncl": "don vi su nghiep cong lap",
    "cntt": "cong nghe thong tin",
    "qppl": "quy pham phap luat",
    "vbqppl": "van ban quy pham phap luat",
    "pvhcc": "phuc vu hanh chinh cong",
    "mttq": "mat tran to quoc",
    "ktxh": "kinh te xa hoi",
    "cqcm": "co quan chuyen mon",
    "ttpvhcc": "trung tam phuc vu hanh chinh cong",
    "hsct": "ho so cong viec",
    "cds": "chuyen doi so",
    "kt-xh": "kinh te xa hoi",
}

_ABBR_RX = re.compile(r"\b(" + "|".join(sorted(map(re.escape, ABBREVIATIONS), key=len, reverse=True)) + r")\b")
_LONG_RX = {abbr: (long, re.compile(r"\b" + re.escape(long) + r"\b")) for abbr, long in ABBREVIATIONS.items()}


def expand(text: str) -> str:
    """Folded text with both forms of every abbreviation present (for lexical indexing/querying)."""
    f = fold(text)
    extra: list[str] = []
    for m in _ABBR_RX.finditer(f):
        extra.append(ABBREVIATIONS[m.group(1)])
    for abbr, (long, rx) in _LONG_RX.items():
        if long in f and rx.search(f):  # substring test first: most texts contain none of them
            extra.append(abbr)
    return f if not extra else f + " | " + " | ".join(extra)
