"""The element model every reader emits and every extractor reads.

A reader turns one encoding (tab-separated text, markdown pipe tables, tables drawn one cell per line, DOCX XML,
PDF words, a spreadsheet) into the same two elements: `Paragraph` (a heading, list item or prose paragraph, with
its emphasis and Word style) and `Table` (a grid of cell texts, merges resolved, with the bold cells that mark
group rows). Page furniture (the national motto, the header block, "Nơi nhận", signatures) stays in the stream,
flagged by `index.furniture`, so metadata can be read from it and extractors can skip it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Paragraph:
    text: str
    bold: bool = False  # whole paragraph bold (a heading cue in DOCX/markdown)
    style: str = ""  # DOCX style name or markdown heading level ("h2")
    italic: bool = False  # whole paragraph italic (crawled plans italicise sub-headings and date lines)
    furniture: str = ""  # "" for content; else "motto" | "header" | "recipients" | "signature" | "page" | "footnote"


@dataclass
class Table:
    rows: list[list[str]]  # cells as text; merged cells already resolved (value repeated or "" + flag)
    merged: list[list[bool]] = field(default_factory=list)  # True where a cell continues a vertical merge
    bold: list[list[bool]] = field(default_factory=list)  # True where a cell's text is bold (group rows)
    ragged: bool = False  # rows were drawn with their empty/merged cells left out (widths differ)
    furniture: str = ""  # a layout table holding the header block or the signature, not data


Block = Paragraph | Table


@dataclass
class RawDocument:
    path: Path
    sha: str  # content hash of the file bytes
    blocks: list[Block]
    kind: str  # extension without dot
    data: object = None  # parsed JSON (national procedure records); None for documents read as elements
