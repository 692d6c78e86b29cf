"""Telegram HTML for an answer: the line that answers what was asked in bold, the quoted source line in a
blockquote, the plan's file name linked to its public copy (BOT_DOCUMENT_BASE_URL).

Rendering works line by line and every tag opens and closes on its line, so a reply can be split at line
boundaries first and each piece rendered on its own (handlers.formatting.split_text measures the rendered
form). Everything that comes from the documents or the user is escaped. Adapters fall back to the plain text
when Telegram refuses the markup.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from handlers.formatting import escape_html

# Which labelled line answers which intent ("• Chủ trì: …" for "ai chủ trì …?").
_ASKED_LABELS = {
    "lead": ("Chủ trì",),
    "coord": ("Phối hợp",),
    "deadline": ("Thời gian", "Thời hạn"),
    "lead+deadline": ("Chủ trì", "Thời gian", "Thời hạn"),
}
_QUOTE_LABELS = ("Trích dòng bảng", "Trích", "Căn cứ phân công")
_QUOTED_LINE = re.compile(r"^“(.+)”$")
_LABELLED_QUOTE = re.compile(r"^(%s): “(.+)”$" % "|".join(re.escape(x) for x in _QUOTE_LABELS))
_SOURCE = re.compile(r"^(\(?Nguồn: )([^,()]+?\.(?:txt|md|docx|pdf|csv|xlsx|json))(.*)$", re.IGNORECASE)


@dataclass(frozen=True)
class RichHints:
    intent: str = ""
    doc_base_url: str = ""  # BOT_DOCUMENT_BASE_URL; empty: no links
    bold_first_line: bool = False  # procedure answers: the first line names the procedure asked about
    documents: tuple[str, ...] = ()  # file names of the answer's sources (the "Nguồn:" line cites them by title)


def document_url(base: str, document: str) -> str:
    return base.rstrip("/") + "/" + quote(document)


def _href(base: str, document: str) -> str:
    return escape_html(document_url(base, document)).replace('"', "&quot;")


def _label(line: str) -> str:
    return line.lstrip("•-– ").split(":", 1)[0].strip() if ":" in line else ""


def render_line(line: str, hints: RichHints, first: bool = False) -> str:
    m = _LABELLED_QUOTE.match(line)
    if m:
        return f"{escape_html(m.group(1))}:<blockquote>{escape_html(m.group(2))}</blockquote>"
    m = _QUOTED_LINE.match(line)
    if m:
        return f"<blockquote>{escape_html(m.group(1))}</blockquote>"
    m = _SOURCE.match(line)
    if m and hints.doc_base_url:
        url = _href(hints.doc_base_url, m.group(2))
        return f'{escape_html(m.group(1))}<a href="{url}">{escape_html(m.group(2))}</a>{escape_html(m.group(3))}'
    if hints.doc_base_url and hints.documents and line.lstrip("(").startswith("Nguồn:"):
        # the plan is cited by number and date: link its file after the citation
        return f'{escape_html(line)} <a href="{_href(hints.doc_base_url, hints.documents[0])}">văn bản gốc</a>'
    asked = _ASKED_LABELS.get(hints.intent, ())
    if (asked and _label(line) in asked) or (first and hints.bold_first_line):
        return f"<b>{escape_html(line)}</b>"
    return escape_html(line)


def to_html(text: str, hints: RichHints, first_piece: bool = True) -> str:
    """HTML of a plain reply (or of one piece of it)."""
    lines = text.split("\n")
    return "\n".join(render_line(line, hints, first=first_piece and i == 0) for i, line in enumerate(lines))
