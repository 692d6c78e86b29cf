"""Structure-aware chunks: one per list item / paragraph (with its section path and heading) and one per
table row (rendered with its column names). Each chunk is small enough to quote as it is."""
from __future__ import annotations

import hashlib

from .records import Chunk
from .structure import Plan
from .tables import parse_task_table
from .textnorm import fold


def _cid(doc_id: str, pos: int) -> str:
    return hashlib.sha1(f"{doc_id}:{pos}".encode()).hexdigest()[:16]


def chunk_plan(plan: Plan) -> list[Chunk]:
    chunks: list[Chunk] = []
    pos = 0
    for sec in plan.root.walk():
        if sec.rank < 0:
            continue
        section = sec.path_label()
        parent = ""  # a "-" item that introduces "+" items ("Giai đoạn 2028 - 2030:") is their context
        for item in sec.items:
            text = item.text.strip()
            if item.depth == 1:
                parent = text if len(text) <= 200 else ""
            elif item.depth == 0:
                parent = ""
            if len(text) < 12:
                continue
            heading = f"{sec.heading} > {parent}" if item.depth == 2 and parent else sec.heading
            chunks.append(
                Chunk(
                    id=_cid(plan.doc_id, pos), document=plan.document, doc_id=plan.doc_id,
                    locality=plan.locality, title=plan.title, section=section, heading=heading,
                    kind="paragraph", text=text, position=pos, lines=[text],
                )
            )
            pos += 1
        for table in sec.tables:
            rows = parse_task_table(table)
            if rows is None:
                # Not a task table: keep each row as text so nothing is lost.
                for r in table.rows:
                    text = " | ".join(c for c in r if c)
                    if len(text) >= 12:
                        chunks.append(Chunk(
                            id=_cid(plan.doc_id, pos), document=plan.document, doc_id=plan.doc_id,
                            locality=plan.locality, title=plan.title, section=section, heading=sec.heading,
                            kind="table_row", text=text, position=pos, lines=[text]))
                        pos += 1
                continue
            for row in rows:
                text = row.render()
                chunks.append(
                    Chunk(
                        id=_cid(plan.doc_id, pos), document=plan.document, doc_id=plan.doc_id,
                        locality=plan.locality, title=plan.title,
                        section=" > ".join(x for x in [section, row.group] if x),
                        heading=row.group or sec.heading, kind="table_row", text=text, position=pos,
                        lines=[text],
                    )
                )
                pos += 1
    return chunks


def passage_text(chunk: Chunk) -> str:
    """What the dense model embeds: heading for context, then the text."""
    head = chunk.heading if chunk.heading and chunk.heading not in chunk.text else ""
    return f"{head}: {chunk.text}" if head else chunk.text


def lexical_text(chunk: Chunk) -> str:
    """What BM25 indexes: the text with its context — heading (a unit name in 'Tổ chức thực hiện'), section
    path and the plan's title — so a question that names the plan's topic still matches the plan's passages."""
    return f"{chunk.heading} {chunk.text} | {chunk.section} | {chunk.title}"


def task_lexical_text(task) -> str:
    """What the task-side BM25 indexes: the task, its output, the quoted row or sentence, the unit whose duty
    section lists it, its section path and the plan's title."""
    return f"{task.title} {task.output} {task.quote} | {task.owner} | {task.section} | {task.plan_title}"


def task_chunk_links(tasks, chunks: list[Chunk]) -> list[int | None]:
    """Position of the chunk each task quotes (a task's quote is a chunk's text: a row rendered, or an item),
    None when no chunk does."""
    text_to_chunk = {fold(c.text): i for i, c in enumerate(chunks)}
    return [text_to_chunk.get(fold(t.quote)) for t in tasks]
