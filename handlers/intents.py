"""Intent of a question, from folded text (works with and without diacritics)."""
from __future__ import annotations

import re

from index.textnorm import fold

_LEAD = re.compile(
    r"\bai (la )?(chu tri|phu trach|tham muu|dam nhiem|thuc hien)|\b(don vi|co quan|phong|cong chuc|bo phan|ban) nao"
    r" (se )?(chu tri|phu trach|tham muu|dam nhiem|thuc hien)|do ai (chu tri|phu trach|thuc hien)|"
    r"(chu tri|phu trach) (la )?(ai|don vi nao)|\bai lam\b|giao cho ai|ai chiu trach nhiem"
)
_COORD = re.compile(r"ai phoi hop|phoi hop (la |voi )?(ai|don vi nao)|(don vi|co quan|phong) nao phoi hop|con ai phoi hop")
_DEADLINE = re.compile(
    r"\bhan (chot|hoan thanh|nop|bao cao)?\b|khi nao|bao gio|thoi gian (ra sao|nhu the nao|la gi|nao|thuc hien)|"
    r"thoi han|hoan thanh (truoc|vao) (ngay|luc) nao|(ngay|thang) nao"
)
_UNIT_TASKS = re.compile(
    r"(chu tri|phu trach|lam|thuc hien|dam nhiem|duoc giao) (nhung|cac)? ?(nhiem vu|viec|noi dung|cong viec) (nao|gi)|"
    r"phu trach (nhung )?(gi|viec gi)|\blam (nhung )?(gi|viec gi)\b|co nhiem vu gi|nhiem vu (cua|la gi)|"
    r"co trach nhiem gi|trach nhiem (cua|gi)"
)
_DUE_LIST = re.compile(
    r"(nhung|cac) (nhiem vu|viec|cong viec) nao|viec gi den han|den han|sap het han|qua han|"
    r"(thang|quy|tuan|nam) (nay|toi|sau|truoc)|trong (thang|quy|tuan)"
)
_FACT = re.compile(r"bao nhieu|ty le|chi tieu|muc tieu|toi thieu|tan suat|tieu chi|phan tram|%|muc do")


def classify(question: str) -> str:
    f = fold(question)
    lead = bool(_LEAD.search(f))
    coord = bool(_COORD.search(f))
    deadline = bool(_DEADLINE.search(f))
    if _UNIT_TASKS.search(f) and not lead:
        return "unit_tasks"
    if coord and not lead:
        return "coord"
    if lead and deadline:
        return "lead+deadline"
    if lead:
        return "lead"
    if _DUE_LIST.search(f) and re.search(r"nhiem vu|viec", f):
        return "due_list"
    if deadline and not _FACT.search(f):
        return "deadline"
    if _FACT.search(f):
        return "fact"
    return "general"


_INTENT_WORDS = re.compile(
    r"\b(ai|la|gi|nao|nhung|cac|chu tri|phoi hop|phu trach|don vi nao|co quan nao|thi|do ai|se|con|"
    r"thoi gian|ra sao|nhu the nao|khi nao|bao gio|han chot|thoi han|han(?! che)|bao nhieu|nhiem vu|xa|phuong|thi tran|"
    r"phai dat|phai|duoc|co|khong|hay|cho biet|vui long|xin hoi|cua|trong ke hoach cchc)\b"
)


def content_query(question: str, locality_name: str | None = None) -> str:
    """The question without intent words and locality: what the task is about."""
    f = fold(question)
    if locality_name:
        f = f.replace(fold(locality_name), " ")
    f = _INTENT_WORDS.sub(" ", f)
    return re.sub(r"[^a-z0-9%/.,\- ]", " ", re.sub(r"\s+", " ", f)).strip()
