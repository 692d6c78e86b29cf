"""Redaction of personal data in stored text (usage log, feedback): citizens type their ID card, phone number or
e-mail into questions ("CCCD 001203004567 của tôi làm lại mất bao lâu?"), and those must not be kept.

`redact(text)` replaces e-mail addresses, Vietnamese phone numbers (0xxxxxxxxx, +84 / 84 …, with spaces, dots or
dashes) and ID numbers (CMND 9 digits, CCCD 12 digits, also in groups of three; passports) with a placeholder. Shared by the usage log and the
feedback table so both keep the same rule. Dates ("30/6/2026"), document numbers ("141/KH-UBND"), procedure codes
("1.001193") and amounts ("50.000 đồng") are kept: they carry the meaning of the question.
"""
from __future__ import annotations

import re

EMAIL = "[email]"
PHONE = "[số điện thoại]"
ID_NUMBER = "[số giấy tờ]"

_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# 0 or +84/84, then a non-zero digit and 8-9 more digits (mobile 10 digits, landline 11), single spaces, dots or
# dashes allowed between digits; not inside a longer number or a code ("84.000.000 đồng" starts with 84 then 0).
_PHONE_RE = re.compile(r"(?<![\w.,/+-])(?:\+84|84|0)[ .-]?[1-9](?:[ .-]?\d){8,9}(?![\w]|[.,/-]\d)", re.ASCII)
# CMND (9 digits) or CCCD/định danh (12 digits), as one number or in groups of three; passports: a letter + 7 digits.
_ID_RE = re.compile(
    r"(?<![\w.,/-])(?:\d{12}|\d{9}|\d{3}([ .])\d{3}\1\d{3}(?:\1\d{3})?|[A-Z]\d{7})(?![\w]|[.,/-]\d)", re.ASCII)


def redact(text: str) -> str:
    """`text` with e-mails, phone numbers and ID numbers replaced by placeholders."""
    if not text:
        return text
    text = _EMAIL_RE.sub(EMAIL, text)
    text = _PHONE_RE.sub(PHONE, text)
    return _ID_RE.sub(ID_NUMBER, text)
