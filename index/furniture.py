"""Page furniture of Vietnamese administrative documents: the national motto, the header block (issuer, number,
place and date), the recipients list ("Nơi nhận:") and the signature block, plus page numbers and footnotes.

They carry the document's metadata but are never section content, a task or a quote. `mark_furniture` flags
them in place on the element stream (`Paragraph.furniture` / `Table.furniture`); readers stay unaware of it.
"""
from __future__ import annotations

import re

from .elements import Block, Paragraph, Table
from .textnorm import fold

MOTTO = re.compile(r"cong hoa xa hoi chu nghia viet nam|doc lap - tu do - hanh phuc")
_NUMBER_LINE = re.compile(r"^so\s*:?\s*[\d/]")
_DATE_LINE = re.compile(r"(^|,\s*)ngay\s+(\d{1,2}|\.{2,}|…|\s)*\s*thang\s+(\d{1,2}|\.{2,}|…|\s)*\s*nam\s+\d{4}")
_RECIPIENTS = re.compile(r"^-?\s*noi nhan\s*:?")
# Signature lines: "TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "GIÁM ĐỐC" … in capitals.
_SIGN_ROLE = re.compile(
    r"^(?:(?:tm|kt|tl|tuq|q)\s*\.\s*)?(?:uy ban nhan dan|chu tich|pho chu tich|giam doc|pho giam doc|truong ban|"
    r"pho truong ban|bo truong|thu truong|chanh van phong|pho chanh van phong|truong phong|pho truong phong)\b"
)
_PAGE = re.compile(r"^(?:trang\s*)?\d{1,3}(?:\s*/\s*\d{1,3})?$", re.I)
# A footnote's text ("[1] Chương trình số 30-CTr/TU …"): a reference, never one of the document's tasks.
_FOOTNOTE = re.compile(r"^\[\d{1,3}\]\s*\S")
_PERSON = re.compile(r"^(?:[A-ZĐÀ-Ỹ][a-zđà-ỹ]+)(?:\s+[A-ZĐÀ-Ỹ][a-zđà-ỹ]+){1,4}$")


def is_motto(text: str) -> bool:
    return bool(MOTTO.search(fold(text)))


def is_signature_line(text: str) -> bool:
    """A line of the signature block: an upper-case role ("KT. CHỦ TỊCH") — not a sentence that starts with
    "Chủ tịch UBND xã …"."""
    t = text.strip()
    letters = [c for c in t if c.isalpha()]
    upper = letters and sum(c.isupper() for c in letters) / len(letters) >= 0.8
    return bool(upper and _SIGN_ROLE.match(fold(t)) and len(t) <= 160)


def looks_like_person(text: str) -> bool:
    return bool(_PERSON.match(text.strip()))


def _header_table(t: Table) -> bool:
    f = fold(" ".join(c for r in t.rows for c in r))
    return bool(MOTTO.search(f) or re.search(r"(^|\s)so\s*:\s*[\d/]", f)) and len(t.rows) <= 4


def _signature_table(t: Table) -> bool:
    cells = [c for r in t.rows for c in r if c]
    f = fold(" ".join(cells))
    return len(t.rows) <= 3 and bool(re.search(r"noi nhan", f) or any(
        is_signature_line(line) for c in cells for line in c.split("\n")) or re.search(
        r"\b(tm|kt)\s*\.\s*(uy ban|chu tich)", f))


def mark_furniture(blocks: list[Block]) -> list[Block]:
    """Flag furniture in place and return the same list."""
    n = len(blocks)
    first_content = True  # before the title, number and date lines belong to the header
    i = 0
    while i < n:
        b = blocks[i]
        if isinstance(b, Table):
            if _header_table(b):
                b.furniture = "header"
            elif _signature_table(b):
                b.furniture = "signature"
            i += 1
            continue
        text = b.text.strip()
        if not text:
            i += 1
            continue
        f = fold(text)
        if is_motto(text):
            b.furniture = "motto"
        elif _PAGE.match(text):
            b.furniture = "page"
        elif _FOOTNOTE.match(text):
            b.furniture = "footnote"
        elif first_content and (_NUMBER_LINE.match(f) or (_DATE_LINE.search(f) and len(text) < 80)):
            b.furniture = "header"
        elif _RECIPIENTS.match(f):
            b.furniture = "recipients"
            j = i + 1
            signed = False
            while j < n:  # the list items that follow, and the signature after them
                nb = blocks[j]
                if isinstance(nb, Table):
                    break
                t = nb.text.strip()
                sig = bool(t) and (is_signature_line(t) or looks_like_person(t))
                if t and not sig and (signed or not (t.startswith(("-", "+", "•", "}")) or len(t) < 40)):
                    break  # after the signature, anything else is content again (an appendix)
                if t:
                    nb.furniture = "signature" if sig else "recipients"
                    signed = signed or sig
                j += 1
            i = j
            continue
        elif is_signature_line(text):
            b.furniture = "signature"
            j = i + 1
            while j < n and isinstance(blocks[j], Paragraph) and (
                    not blocks[j].text.strip() or is_signature_line(blocks[j].text) or looks_like_person(blocks[j].text)):
                if blocks[j].text.strip():
                    blocks[j].furniture = "signature"
                j += 1
            i = j
            continue
        if f.startswith(("ke hoach", "quyet dinh", "chuong trinh", "cong van", "thong bao", "bao cao")):
            first_content = False
        i += 1
    return blocks
