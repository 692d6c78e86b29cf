"""Redaction of personal data in stored text (usage log, feedback): citizens type their ID card, phone number or
e-mail into questions ("CCCD 001203004567 của tôi làm lại mất bao lâu?"), and those must not be kept.

`redact(text)` replaces e-mail addresses, Vietnamese phone numbers (0xxxxxxxxx, +84 / 84 …, with spaces, dots or
dashes) and ID numbers (CMND 9 digits, CCCD 12 digits) with a placeholder. Shared by the usage log and the
feedback table so both keep the same rule. Dates ("30/6/2026"), document numbers ("141/KH-UBND"), procedure codes
("1.001193") and amounts ("50.000 đồng") are kept: they carry the meaning of the question.
"""
from __future__ import annotations

import re

EMAIL = "[email]"
PHONE = "[số điện thoại]"
ID_NUMBER = "[số giấy tờ]"

_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# A phone number: +84 or 84 or 0, then 9 digits (mobile) or 9-10 (landline), separators allowed between groups.
_PHONE_RE = re.compile(r"(?<![\w.,/])(?:\+?84[\s.-]?|0)(?:\d[\s.-]?){8,9}\d(?![\w/])")
# CMND (9 digits) or CCCD/định danh (12 digits) written as one number.
_ID_RE = re.compile(r"(?<![\w.,/-])(?:\d{12}|\d{9})(?![\w.,/-]?\d)")


def redact(text: str) -> str:
    """`text` with e-mails, phone numbers and ID numbers replaced by placeholders."""
    if not text:
        return text
    text = _EMAIL_RE.sub(EMAIL, text)
    text = _PHONE_RE.sub(PHONE, text)
    return _ID_RE.sub(ID_NUMBER, text)
