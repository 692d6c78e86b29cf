"""Platform formatting: escaping for the parse mode used and splitting under each platform's length limit.

Replies are built as plain text by the conversation core; each adapter renders them here:
- Telegram: HTML parse mode, `<`, `>` and `&` escaped, at most 4096 UTF-16 units per message.
- Zalo: plain text (the Bot API has no documented parse mode), at most 2000 UTF-16 units per message.
- Console: plain text, no limit.

Splitting happens on the plain text, at line boundaries first (then at spaces, then anywhere between two code
points), and the limit is checked on the escaped form, so an escape such as `&amp;` is never cut in two and a
surrogate pair never split.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Callable

TELEGRAM_LIMIT = 4096
ZALO_LIMIT = 2000


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram (and, conservatively, Zalo) counts."""
    return len(text.encode("utf-16-le")) // 2


def escape_html(text: str) -> str:
    """Escape for Telegram's HTML parse mode (only `<`, `>` and `&` are special there)."""
    return html.escape(text, quote=False)


def _identity(text: str) -> str:
    return text


@dataclass(frozen=True)
class Platform:
    name: str
    limit: int | None  # UTF-16 units per message; None = unlimited
    escape: Callable[[str], str]
    parse_mode: str | None  # the value adapters pass to the platform ("HTML"), None for plain text


TELEGRAM = Platform("telegram", TELEGRAM_LIMIT, escape_html, "HTML")
ZALO = Platform("zalo", ZALO_LIMIT, _identity, None)
CONSOLE = Platform("console", None, _identity, None)


def _fits(piece: str, limit: int, escape: Callable[[str], str]) -> bool:
    return utf16_len(escape(piece)) <= limit


def _hard_split(text: str, limit: int, escape: Callable[[str], str]) -> list[str]:
    """Split one line with no usable space: the longest prefix that fits, repeatedly (by code points)."""
    out: list[str] = []
    rest = text
    while rest:
        lo, hi = 1, len(rest)
        while lo < hi:  # binary search for the longest prefix whose escaped form fits
            mid = (lo + hi + 1) // 2
            if _fits(rest[:mid], limit, escape):
                lo = mid
            else:
                hi = mid - 1
        out.append(rest[:lo])
        rest = rest[lo:]
    return out


def _split_line(line: str, limit: int, escape: Callable[[str], str]) -> list[str]:
    """Split a single over-long line at spaces; words longer than the limit are cut."""
    out: list[str] = []
    current = ""
    for word in line.split(" "):
        candidate = f"{current} {word}" if current else word
        if _fits(candidate, limit, escape):
            current = candidate
            continue
        if current:
            out.append(current)
        if _fits(word, limit, escape):
            current = word
        else:
            *head, current = _hard_split(word, limit, escape)
            out.extend(head)
    if current:
        out.append(current)
    return out


def split_text(text: str, limit: int | None, escape: Callable[[str], str] = _identity) -> list[str]:
    """Split `text` into pieces whose escaped form is at most `limit` UTF-16 units.

    Pieces break at line boundaries, so a line is only cut (at spaces if it has any) when it alone is longer than
    the limit. Returns the pieces unescaped, without leading/trailing blank lines; empty text gives [].
    """
    text = text.strip("\n")
    if not text.strip():
        return []
    if limit is None or _fits(text, limit, escape):
        return [text]
    pieces: list[str] = []
    current: list[str] = []
    current_len = 0  # escaped UTF-16 length of "\n".join(current)

    def flush() -> None:
        nonlocal current, current_len
        chunk = "\n".join(current).strip("\n")
        if chunk.strip():
            pieces.append(chunk)
        current, current_len = [], 0

    for line in text.split("\n"):
        line_len = utf16_len(escape(line))
        if line_len > limit:
            flush()
            parts = _split_line(line, limit, escape)
            pieces.extend(parts[:-1])
            current, current_len = [parts[-1]], utf16_len(escape(parts[-1]))
            continue
        added = line_len + (1 if current else 0)
        if current_len + added > limit:
            flush()
            added = line_len
        current.append(line)
        current_len += added
    flush()
    return pieces


def render(text: str, platform: Platform) -> list[str]:
    """Split for the platform and escape each piece: the strings to send, in order."""
    return [platform.escape(piece) for piece in split_text(text, platform.limit, platform.escape)]


def truncate(text: str, max_chars: int, ellipsis: str = "…") -> str:
    """One-line label of at most `max_chars` characters (button labels, numbered choices)."""
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text
    return text[: max(1, max_chars - len(ellipsis))].rstrip() + ellipsis
