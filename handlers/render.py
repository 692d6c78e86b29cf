"""Answer texts: what was asked first, then the quote and the citation (plan number and date, section).

Pure functions of records; no search here. Polite Vietnamese ("anh/chị"); nothing shown twice; long texts cut
at a word boundary.
"""
from __future__ import annotations

import re
from datetime import date, datetime

from index.records import Task
from index.textnorm import fold
from index.units import is_collective

from .formatting import ZALO_LIMIT, utf16_len
from .texts import PAGE_TYPED_HINT
from .types import Answer, Source, TaskRef

PAGE_SIZE = 12  # at most this many tasks on a page of a list
# A page of a unit's tasks is cut by length too: with what a channel adds to it (the typed "trang 2" hint, counted
# in the page, and the feedback hint, 63 characters) it fits one Zalo message (2,000), since every message counts
# against the Zalo plan's monthly quota and a page sent as two messages costs two.
PAGE_CHARS = ZALO_LIMIT - 100

NOT_FOUND = (
    "Xin lỗi, các văn bản hiện có không đề cập nội dung này nên tôi không thể trả lời chính xác.\n"
    "Tôi có thể giúp anh/chị: ai chủ trì / phối hợp một nhiệm vụ, thời hạn thực hiện, một đơn vị phụ trách những "
    "việc gì, các chỉ tiêu của kế hoạch, và thủ tục hành chính (giấy tờ, lệ phí, thời hạn, nơi nộp)."
)
GREETING = ("Xin chào anh/chị! Tôi là trợ lý hỏi đáp về kế hoạch và thủ tục hành chính. Anh/chị cứ hỏi, ví dụ: "
            "“ai chủ trì rà soát thủ tục hành chính?”, “đăng ký thường trú cần giấy tờ gì?”.")
THANKS = "Không có gì ạ, rất vui được giúp anh/chị. Anh/chị cần hỏi thêm gì cứ nhắn nhé."
HELP = ("Tôi có thể giúp anh/chị tra cứu:\n"
        "• kế hoạch: ai chủ trì, ai phối hợp, thời hạn của một nhiệm vụ; một đơn vị phụ trách những việc gì; việc "
        "nào đến hạn trong một tháng/quý; các chỉ tiêu; số, ngày ban hành và người ký kế hoạch;\n"
        "• thủ tục hành chính: cần giấy tờ gì, mất bao lâu, lệ phí bao nhiêu, nộp ở đâu, điều kiện.\n"
        "Anh/chị gõ câu hỏi bình thường, có dấu hoặc không dấu đều được.")


def fmt_date(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        return datetime.strptime(iso[:10], "%Y-%m-%d").strftime("%d/%m/%Y")
    except ValueError:
        return iso


def short(text: str, n: int) -> str:
    """Cut at a word boundary."""
    text = (text or "").strip()
    if len(text) <= n:
        return text
    cut = text[: n - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


def task_ref(t: Task) -> TaskRef:
    return TaskRef(id=t.id, title=t.title, locality=t.locality, lead=list(t.lead), coordinate=list(t.coordinate),
                   deadline={"text": t.deadline_text, "kind": t.deadline_kind, "due": t.due}, inferred=t.lead_inferred)


def display_quote(t: Task) -> str:
    """The row or sentence as quoted; a long row drops its 'Mục tiêu' cell, which its whole group shares."""
    quote = t.quote
    if t.source_kind == "table_row" and len(quote) > 400:
        quote = " | ".join(p for p in quote.split(" | ") if not p.startswith("Mục tiêu:"))
    return quote


def section_label(section: str) -> str:
    """The last two levels of a section path: enough to find it in the plan."""
    parts = [p for p in (section or "").split(" > ") if p]
    return " > ".join(parts[-2:]) if parts else ""


def cite(doc_cite: str, title: str, section: str) -> str:
    """'Nguồn: Kế hoạch số 144/KH-UBND ngày 24/11/2025 của UBND tỉnh Bắc Ninh, mục “…”.'"""
    head = doc_cite or title or "kế hoạch"
    sec = section_label(section)
    return f"Nguồn: {head}" + (f", mục “{short(sec, 140)}”." if sec else ".")


def task_source(t: Task) -> Source:
    return Source(document=t.document, locality=t.locality, section=t.section, quote=display_quote(t))


def _units(names: list[str]) -> str:
    return "; ".join(names)


def _deadline_line(t: Task, today: date | None = None) -> str:
    if not t.deadline_text:
        return ""
    d = t.deadline or {}
    extra = ""
    if t.deadline_kind == "recurring" and d.get("recurrence"):
        from index.deadlines import Deadline, occurrences

        today = today or date.today()
        nxt = occurrences(Deadline.from_dict(d), today, date(today.year + 2, 12, 31))
        rec = {"monthly": "hằng tháng", "quarterly": "hằng quý", "semiannual": "6 tháng một lần",
               "yearly": "hằng năm"}.get(d.get("recurrence"), "định kỳ")
        extra = f" — lặp lại {rec}" + (f", lần tới: {nxt[0]:%d/%m/%Y}" if nxt else "")
    elif t.due:
        extra = f" (hạn: {fmt_date(t.due)})"
    return f"{t.deadline_text.rstrip('.')}{extra}"


def correction_note(t: Task) -> str:
    if t.corrected_at:
        return f"(Thông tin này đã được cán bộ hiệu chỉnh ngày {fmt_date(t.corrected_at)}.)"
    return ""


def task_answer(q_text: str, t: Task, asks: list[str], intent: str, today: date | None = None) -> Answer:
    """One task: the asked fields first (lead / coordinators / deadline), then the task, source and citation."""
    lines: list[str] = []
    lead = _units(t.lead)
    collective = t.lead and all(is_collective(u) for u in t.lead)
    want_coord = "coord" in asks
    want_deadline = "deadline" in asks
    if t.lead and not t.lead_inferred:
        lines.append(f"Chủ trì: {lead}" + (" (nhóm đơn vị, không phải một đơn vị cụ thể)" if collective else "") + ".")
    elif t.lead and t.lead_inferred:
        lines.append(f"Kế hoạch không ghi đơn vị chủ trì riêng cho việc này; theo phân công lĩnh vực trong phần tổ chức "
                     f"thực hiện, {lead} phụ trách nội dung này.")
    else:
        lines.append("Kế hoạch không ghi rõ đơn vị chủ trì cho việc này.")
    if t.coordinate:
        lines.append(f"Phối hợp: {_units(t.coordinate)}.")
    elif want_coord:
        lines.append("Phối hợp: kế hoạch không ghi đơn vị phối hợp.")
    dl = _deadline_line(t, today)
    if dl:
        lines.append(f"Thời gian: {dl}.")
    elif want_deadline:
        lines.append("Thời gian: kế hoạch không ghi thời hạn cho việc này.")
    if want_coord and t.coordinate:  # what was asked first
        lines.insert(0, lines.pop(1))
    if want_deadline and dl and "lead" not in asks:
        idx = next(i for i, l in enumerate(lines) if l.startswith("Thời gian"))
        lines.insert(0, lines.pop(idx))
    if t.source_kind == "table_row" and "figure" in asks:
        lines.append(f"Trích dòng bảng: “{short(t.quote, 900)}”")  # the target's number may be in its goal cell
    elif t.source_kind == "table_row":
        lines.append(f"Nhiệm vụ: {short(t.title, 400)}")
        if t.output:
            lines.append(f"Sản phẩm: {short(t.output, 200)}")
    else:
        lines.append(f"Trích: “{short(display_quote(t), 600)}”")
    if t.lead_inferred and t.inferred_from:
        lines.append(f"Căn cứ phân công: “{short(t.inferred_from, 300)}”")
    if t.note and not t.lead_inferred:
        lines.append(f"Lưu ý: {t.note}.")
    note = correction_note(t)
    if note:
        lines.append(note)
    lines.append(cite(t.cite, t.plan_title, t.section))
    sources = [task_source(t)]
    if t.lead_inferred and t.inferred_from:
        sources.append(Source(document=t.document, locality=t.locality, section="Tổ chức thực hiện", quote=t.inferred_from))
    return Answer(question=q_text, text="\n".join(lines), found=True, intent=intent, sources=sources, tasks=[task_ref(t)])


def best_sentence(text: str, tokens: set[str], want_number: bool) -> str:
    """The sentence of a passage that carries the answer (the whole passage when it is short)."""
    if len(text) <= 420:
        return text
    parts = [p.strip() for p in re.split(r"(?<=[.;])\s+(?=[A-ZĐÀ-Ỹ0-9-])", text) if p.strip()]

    def score(p: str) -> float:
        toks = set(re.findall(r"[a-z0-9%]+", fold(p)))
        s = len(tokens & toks)
        if want_number and re.search(r"\d", p):
            s += 1.5
        return s

    return max(parts, key=score) if parts else text


def passage_answer(q_text: str, chunk, doc_cite: str, tokens: set[str], want_number: bool, intent: str) -> Answer:
    quote = best_sentence(chunk.text, tokens, want_number)
    lines = []
    head = chunk.heading if chunk.heading and fold(chunk.heading) not in fold(quote) else ""
    if head and chunk.kind != "table_row":
        lines.append(f"[{short(head, 120)}]")
    lines.append(f"“{short(quote, 700)}”")
    lines.append(cite(doc_cite, chunk.title, chunk.section))
    return Answer(question=q_text, text="\n".join(lines), found=True, intent=intent,
                  sources=[Source(document=chunk.document, locality=chunk.locality, section=chunk.section, quote=quote)])


def list_answer(q_text: str, chunk, siblings: list, doc_cite: str, intent: str) -> Answer:
    """A 'which ones' question answered by a passage: the items of its section, in order."""
    items = [c for c in siblings if c.kind != "table_row"][:15] or [chunk]
    lines = [f"[{short(chunk.heading or section_label(chunk.section), 140)}]"] if chunk.heading else []
    lines += [f"• {short(c.text, 300)}" for c in items]
    lines.append(cite(doc_cite, chunk.title, chunk.section))
    return Answer(question=q_text, text="\n".join(lines), found=True, intent=intent,
                  sources=[Source(document=c.document, locality=c.locality, section=c.section, quote=c.text)
                           for c in items[:5]])


def meta_answer(q_text: str, doc: dict, asks: list[str]) -> Answer:
    """The plan's number, date, signer and issuer, as the document writes them."""
    title = doc.get("title") or doc.get("document")
    lines = []
    number, iso = doc.get("number"), doc.get("date")
    if iso:
        y, m, d = iso.split("-")
        date_words = f"ngày {d} tháng {m} năm {y} ({d}/{m}/{y})"
    else:
        date_words = ""
    parts = [f"{title}"]
    if number:
        parts.append(f"có số {number}")
    else:
        parts.append("không ghi số (bản không có số hiệu)")
    if date_words:
        parts.append(f"ban hành {date_words}")
    elif "meta_date" in asks:
        parts.append("không ghi ngày ban hành")
    if doc.get("issuer"):
        parts.append(f"của {doc['issuer']}")
    lines.append(", ".join(parts) + ".")
    if doc.get("signer"):
        role = (doc.get("signer_title") or "").lower()
        lines.append(f"Người ký: {doc['signer']}" + (f" ({role})" if role else "") + ".")
    elif "meta_signer" in asks:
        lines.append("Văn bản tôi có không ghi người ký.")
    lines.append(f"Nguồn: phần đầu và phần ký của văn bản ({doc.get('document')}).")
    return Answer(question=q_text, text="\n".join(lines), found=True, intent="plan_meta",
                  sources=[Source(document=doc.get("document", ""), locality=doc.get("locality", ""),
                                  section="Phần đầu văn bản", quote=lines[0])])


def unit_tasks_answer(q_text: str, name: str, tasks: list[Task], page: int, intent: str = "unit_tasks") -> Answer:
    seen, uniq = set(), []
    for t in tasks:
        k = fold(t.title)[:80]
        if k not in seen:
            seen.add(k)
            uniq.append(t)
    lead_of = [t for t in uniq if name in t.lead]
    rest = [t for t in uniq if name not in t.lead]
    ordered = lead_of + rest
    first = tasks[0]
    k = sum(1 for t in uniq if name in t.lead and not t.lead_inferred)
    more = len(uniq) - k
    head = (f"{name} ({first.locality}) chủ trì {k} nhiệm vụ" + (f" và được giao thêm {more} nhiệm vụ (phối hợp, "
            f"thực hiện hoặc suy ra từ phân công lĩnh vực)" if more else "") + f" theo {first.cite or first.plan_title}:")
    if k == 0:
        head = f"{name} ({first.locality}) được giao {len(uniq)} nhiệm vụ theo {first.cite or first.plan_title}:"
    items = []
    for t in ordered:  # the tasks it leads come first, unmarked (the head counts them); the others say their role
        role = "" if name in t.lead and not t.lead_inferred else ("phối hợp" if name in t.coordinate else (
            "suy ra từ phân công lĩnh vực" if t.lead_inferred else ""))
        dl = f" — {t.deadline_text}" if t.deadline_text else ""
        items.append(f"• {short(t.title, 220)}{dl}" + (f" ({role})" if role else ""))

    def source(shown: list[Task]) -> str:
        secs = sorted({section_label(t.section) for t in shown})
        return f"Nguồn: {first.cite or first.plan_title}" + (f", mục “{short(secs[0], 120)}”" if len(secs) == 1 else "") + "."

    # The command that shows the list names the locality too: the chat's own may be another one, or none (chosen
    # by number). Text channels add "(Gõ “<command> trang 2” để xem tiếp.)"; Telegram pages with buttons instead.
    command = f"/nhiemvu {name}, {first.locality}" if first.locality else f"/nhiemvu {name}"
    longest = ["(Trang 999/999.)", PAGE_TYPED_HINT.format(command=command, next=1000)]
    bounds = page_bounds(len(items), lambda a, b: utf16_len("\n".join(
        [head, *items[a:b], *longest, source(ordered[a:b])])) <= PAGE_CHARS)
    pages = len(bounds)
    start, end = bounds[page - 1] if page <= pages else (len(items), len(items))
    shown = ordered[start:end]
    lines = [head] + items[start:end]
    if pages > 1:
        lines.append(f"(Trang {page}/{pages}.)")
    lines.append(source(shown))
    return Answer(question=q_text, text="\n".join(lines), found=True, intent=intent,
                  sources=[task_source(t) for t in shown], tasks=[task_ref(t) for t in shown], list_command=command)


def fits_one_message(lines: list[str]) -> bool:
    """Do these lines, joined, fit a page (one Zalo message with the feedback hint a channel adds)?"""
    return utf16_len("\n".join(lines)) <= PAGE_CHARS


def page_bounds(n: int, fits, max_items: int = PAGE_SIZE) -> list[tuple[int, int]]:
    """(start, end) of each page of `n` items, in order: from each start as many items as `fits(start, end)`
    allows, at most `max_items` and at least one, so every item is on exactly one page."""
    bounds: list[tuple[int, int]] = []
    start = 0
    while start < n:
        end = start + 1
        while end < n and end - start < max_items and fits(start, end + 1):
            end += 1
        bounds.append((start, end))
        start = end
    return bounds or [(0, 0)]


def smalltalk_answer(q_text: str, asks: list[str]) -> Answer:
    if "help" in asks:
        text = HELP
    elif "thanks" in asks:
        text = THANKS
    else:
        text = GREETING
    return Answer(question=q_text, text=text, found=True, intent="smalltalk")


def not_found(q_text: str, intent: str = "not_found", extra: str = "") -> Answer:
    return Answer(question=q_text, text=(extra + "\n" if extra else "") + NOT_FOUND, found=False, intent=intent)
