"""The question-answering core: question -> intent -> structured tasks / procedures / passages -> Answer.

Extractive and grounded: every answer quotes the row or sentence it rests on and names the plan and
section. When nothing relevant is found the answer says so (found=False) and names no unit or date.
"""
from __future__ import annotations

import re
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from index.records import Task
from index.search import SearchIndex
from index.textnorm import fold, normalize
from index.units import is_collective

from .intents import classify, content_query
from .types import Answer, Choice, Source, TaskRef

NOT_FOUND = (
    "Xin lỗi, các kế hoạch hiện có không đề cập nội dung này nên tôi không thể trả lời chính xác.\n"
    "Tôi có thể giúp: ai chủ trì / phối hợp một nhiệm vụ, thời hạn thực hiện, một đơn vị phụ trách những việc gì, "
    "các chỉ tiêu của kế hoạch cải cách hành chính, và thủ tục hành chính (giấy tờ, lệ phí, thời hạn, nơi nộp)."
)
TASK_COVERAGE = 0.55  # share (IDF-weighted) of the question's words a matched task must contain
FACT_COVERAGE = 0.5
PAGE_SIZE = 12


def _fmt_date(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        return datetime.strptime(iso, "%Y-%m-%d").strftime("%d/%m/%Y")
    except ValueError:
        return iso


def task_ref(t: Task) -> TaskRef:
    return TaskRef(
        id=t.id, title=t.title, locality=t.locality, lead=list(t.lead), coordinate=list(t.coordinate),
        deadline={"text": t.deadline_text, "kind": t.deadline_kind, "due": t.due}, inferred=t.lead_inferred,
    )


def display_quote(t: Task) -> str:
    """The row or sentence as quoted; a long row drops its 'Mục tiêu' cell, which its whole group shares."""
    quote = t.quote
    if t.source_kind == "table_row" and len(quote) > 400:
        quote = " | ".join(p for p in quote.split(" | ") if not p.startswith("Mục tiêu:"))
    return quote


def task_source(t: Task) -> Source:
    return Source(document=t.document, locality=t.locality, section=t.section, quote=display_quote(t))


class Answerer:
    def __init__(self, index: SearchIndex, procedures=None, tz: str = "Asia/Ho_Chi_Minh") -> None:
        self.index = index
        self.procedures = procedures  # handlers.procedures.ProcedureAnswerer or None
        self.tz = ZoneInfo(tz)
        self._tasks_by_id = {t.id: t for t in index.tasks}

    # ---- public API -----------------------------------------------------------------------------
    def localities(self) -> list[str]:
        return self.index.localities()

    def task(self, task_id: str) -> Task | None:
        return self._tasks_by_id.get(task_id)

    def ask(self, question: str, locality: str | None = None, last_task_id: str | None = None,
            today: date | None = None) -> Answer:
        t0 = time.perf_counter()
        answer = self._ask(normalize(question or ""), locality, last_task_id, today)
        answer.latency_ms = round((time.perf_counter() - t0) * 1000, 2)
        return answer

    def _ask(self, q: str, locality: str | None, last_task_id: str | None, today: date | None) -> Answer:
        if len(fold(q)) < 2:
            return Answer(question=q, text="Bạn vui lòng nhập câu hỏi cụ thể hơn.", found=False, intent="empty")
        loc = self.index.detect_locality(q) or locality
        intent = classify(q)
        # Short follow-up about the last task in this chat ("còn ai phối hợp?", "hạn khi nào?").
        if last_task_id and self.task(last_task_id) and len(content_query(q)) < 12 and intent in (
            "coord", "deadline", "lead", "lead+deadline"
        ):
            return self._task_answer(q, [self.task(last_task_id)], intent)
        if self.procedures is not None and intent not in ("lead", "coord", "lead+deadline", "unit_tasks"):
            proc = self.procedures.answer(q, loc)
            if proc is not None:
                return proc
        if intent == "unit_tasks":
            ans = self.unit_tasks(q, loc)
            if ans.found or ans.choices:
                return ans
        if intent == "due_list":
            ans = self._due_list(q, loc, today)
            if ans is not None:
                return ans
        if intent in ("lead", "coord", "deadline", "lead+deadline"):
            ans = self._answer_task_question(q, loc, intent)
            if ans is not None:
                return ans
        return self._answer_passage(q, loc, intent)

    # ---- tasks ----------------------------------------------------------------------------------
    def _answer_task_question(self, q: str, loc: str | None, intent: str) -> Answer | None:
        cq = content_query(q, _name(loc))
        hits = self.index.search_tasks(cq or q, loc, k=8)
        hits = [h for h in hits if h.coverage >= TASK_COVERAGE]
        if intent in ("lead", "lead+deadline"):
            with_lead = [h for h in hits if self.index.tasks[h.index].lead]
            hits = with_lead or hits
        if not hits:
            return None
        best = hits[0]
        top = [self.index.tasks[h.index] for h in hits if h.score >= best.score * 0.999]
        if loc is None:
            locs = {}
            for h in hits[:5]:
                t = self.index.tasks[h.index]
                if h.score >= best.score * 0.8:
                    locs.setdefault(t.locality, t)
            if len(locs) > 1:
                return self._choices(q, list(locs.values()), intent)
        return self._task_answer(q, top[:1], intent)

    def _choices(self, q: str, tasks: list[Task], intent: str) -> Answer:
        lines = ["Câu hỏi khớp với nhiệm vụ trong kế hoạch của nhiều địa bàn. Bạn muốn hỏi địa bàn nào?"]
        choices = []
        for i, t in enumerate(tasks, 1):
            lines.append(f"{i}. {t.locality}: {_short(t.title, 90)}")
            choices.append(Choice(label=f"{t.locality}: {_short(t.title, 40)}", query=q, locality=t.locality))
        return Answer(question=q, text="\n".join(lines), found=False, intent=intent, choices=choices,
                      tasks=[task_ref(t) for t in tasks])

    def _task_answer(self, q: str, tasks: list[Task], intent: str) -> Answer:
        t = tasks[0]
        lines = [f"Theo {t.plan_title} ({t.locality}):", f"Nhiệm vụ: {_short(t.title, 300)}"]
        lead = ", ".join(t.lead) if t.lead else "kế hoạch không ghi rõ đơn vị chủ trì"
        if t.lead and any(is_collective(u) for u in t.lead):
            lead += " (nhóm đơn vị, không phải một đơn vị cụ thể)"
        if intent == "coord":
            coord = ", ".join(t.coordinate) if t.coordinate else "kế hoạch không ghi đơn vị phối hợp"
            lines.append(f"• Phối hợp: {coord}")
            lines.append(f"• Chủ trì: {lead}")
        else:
            lines.append(f"• Chủ trì: {lead}" + (" (suy ra từ phân công lĩnh vực)" if t.lead_inferred else ""))
            if t.coordinate:
                lines.append(f"• Phối hợp: {', '.join(t.coordinate)}")
        if t.deadline_text:
            due = f" (hạn: {_fmt_date(t.due)})" if t.due else ""
            lines.append(f"• Thời gian: {t.deadline_text}{due}")
        elif intent in ("deadline", "lead+deadline"):
            lines.append("• Thời gian: kế hoạch không ghi thời hạn cho nhiệm vụ này")
        if t.note:
            lines.append(f"Lưu ý: {t.note}.")
        lines.append(f"Nguồn: {t.document}, mục “{t.section}”.")
        quote = display_quote(t)
        lines.append(f"Trích dòng bảng: “{_short(quote, 600)}”" if t.source_kind == "table_row"
                     else f"Trích: “{_short(quote, 600)}”")
        if t.lead_inferred and t.inferred_from:
            lines.append(f"Căn cứ phân công: “{_short(t.inferred_from, 300)}”")
        sources = [task_source(t)]
        if t.lead_inferred and t.inferred_from:
            sources.append(Source(document=t.document, locality=t.locality, section="Tổ chức thực hiện",
                                  quote=t.inferred_from))
        return Answer(question=q, text="\n".join(lines), found=True, intent=intent, sources=sources,
                      tasks=[task_ref(x) for x in tasks])

    def unit_tasks(self, q: str, locality: str | None = None, page: int = 1) -> Answer:
        loc = self.index.detect_locality(q) or locality
        unit = self.index.find_unit(q, loc)
        if unit is None:
            return Answer(question=q, text="Bạn muốn hỏi nhiệm vụ của đơn vị nào? Ví dụ: “Phòng Văn hóa - Xã hội "
                          "phụ trách những việc gì?”", found=False, intent="unit_tasks")
        name, key = unit
        # Precomputed unit -> locality -> tasks map: no scan of every task per question.
        hits = self.index.tasks_led_by(key, loc)
        tasks = [self.index.tasks[i] for i in hits]
        if not tasks:
            return Answer(question=q, text=f"Các kế hoạch không giao nhiệm vụ chủ trì nào cho {name}"
                          + (f" ({loc})." if loc else "."), found=False, intent="unit_tasks")
        locs = sorted({t.locality for t in tasks})
        if len(locs) > 1 and not loc:
            choices = [Choice(label=l, query=q, locality=l) for l in locs]
            text = f"{name} có nhiệm vụ trong kế hoạch của nhiều địa bàn: " + "; ".join(
                f"{i}. {l}" for i, l in enumerate(locs, 1)) + ". Bạn chọn địa bàn nào?"
            return Answer(question=q, text=text, found=False, intent="unit_tasks", choices=choices)
        # Dedupe the same duty appearing in prose and table, group by area.
        seen, uniq = set(), []
        for t in tasks:
            k = fold(t.title)[:80]
            if k not in seen:
                seen.add(k)
                uniq.append(t)
        groups: dict[str, list[Task]] = {}
        for t in uniq:
            groups.setdefault(t.area or "Nhiệm vụ khác", []).append(t)
        flat = [(a, t) for a, ts in groups.items() for t in ts]
        start = (page - 1) * PAGE_SIZE
        shown = flat[start : start + PAGE_SIZE]
        lines = [f"{name} ({tasks[0].locality}) chủ trì {len(uniq)} nhiệm vụ theo {tasks[0].plan_title}:"]
        current = None
        for area, t in shown:
            if area != current:
                lines.append(f"\n[{area}]")
                current = area
            dl = f" — {t.deadline_text}" if t.deadline_text else ""
            mark = " (suy ra)" if t.lead_inferred else ""
            lines.append(f"• {_short(t.title, 160)}{dl}{mark}")
        if start + PAGE_SIZE < len(flat):
            lines.append(f"\n(Trang {page}/{(len(flat) - 1) // PAGE_SIZE + 1}. Gõ “/nhiemvu {name} trang {page + 1}” để xem tiếp.)")
        lines.append(f"Nguồn: {tasks[0].document}.")
        return Answer(question=q, text="\n".join(lines), found=True, intent="unit_tasks",
                      sources=[task_source(t) for _, t in shown], tasks=[task_ref(t) for _, t in shown])

    def _due_list(self, q: str, loc: str | None, today: date | None) -> Answer | None:
        f = fold(q)
        kind = None
        if re.search(r"khi co (quy dinh|huong dan|van ban)", f):
            kind = "conditional"
        elif "thuong xuyen" in f:
            kind = "ongoing"
        if kind:
            tasks = [t for t in self.index.tasks if t.deadline_kind == kind and (not loc or fold(t.locality) == fold(loc))]
            if "huong dan" in f or "quy dinh" in f:
                tasks = [t for t in tasks if re.search(r"quy dinh|huong dan", fold(t.deadline_text))] or tasks
            if not tasks:
                return None
            label = "khi có quy định, hướng dẫn" if kind == "conditional" else "thường xuyên"
            lines = [f"Các nhiệm vụ thực hiện {label}" + (f" ({loc})" if loc else "") + f": {len(tasks)} nhiệm vụ."]
            for t in tasks[:PAGE_SIZE]:
                lines.append(f"• {_short(t.title, 150)} — Chủ trì: {', '.join(t.lead) or 'không ghi'}; Thời gian: {t.deadline_text}")
            if len(tasks) > PAGE_SIZE:
                lines.append(f"(và {len(tasks) - PAGE_SIZE} nhiệm vụ khác)")
            lines.append(f"Nguồn: {tasks[0].document}.")
            return Answer(question=q, text="\n".join(lines), found=True, intent="due_list",
                          sources=[task_source(t) for t in tasks[:PAGE_SIZE]],
                          tasks=[task_ref(t) for t in tasks[:PAGE_SIZE]])
        return self.due(q, loc, today)

    def due(self, period_text: str, locality: str | None = None, today: date | None = None) -> Answer:
        """Tasks due in a period: 'tháng 6', 'quý này', 'tuần tới', 'tháng này' (Asia/Ho_Chi_Minh)."""
        today = today or datetime.now(self.tz).date()
        start, end, label = period_bounds(period_text, today)
        tasks = [t for t in self.index.tasks if t.due and (not locality or fold(t.locality) == fold(locality))
                 and start.isoformat() <= t.due <= end.isoformat()]
        tasks.sort(key=lambda t: t.due)
        if not tasks:
            return Answer(question=period_text, text=f"Không có nhiệm vụ nào có hạn trong {label}"
                          + (f" ({locality})" if locality else "") + " theo các kế hoạch hiện có.",
                          found=False, intent="due_list")
        lines = [f"Nhiệm vụ đến hạn trong {label} ({start:%d/%m/%Y}–{end:%d/%m/%Y}):"]
        for t in tasks[:PAGE_SIZE]:
            lines.append(f"• {_fmt_date(t.due)} — {_short(t.title, 140)} ({t.locality}; chủ trì: {', '.join(t.lead) or 'không ghi'}; “{t.deadline_text}”)")
        return Answer(question=period_text, text="\n".join(lines), found=True, intent="due_list",
                      sources=[task_source(t) for t in tasks[:PAGE_SIZE]], tasks=[task_ref(t) for t in tasks[:PAGE_SIZE]])

    # ---- passages -------------------------------------------------------------------------------
    def _answer_passage(self, q: str, loc: str | None, intent: str) -> Answer:
        cq = content_query(q, _name(loc)) or fold(q)
        hits = self.index.search_chunks(cq, loc, k=6, match_query=cq)
        hits = [h for h in hits if h.coverage >= FACT_COVERAGE]
        if not hits:
            return Answer(question=q, text=NOT_FOUND, found=False, intent=intent)
        want_number = bool(re.search(r"bao nhieu|ty le|muc|phan tram|toi thieu", fold(q)))
        best_hit = hits[0]
        if want_number:
            numeric = [h for h in hits[:4] if re.search(r"\d", self.index.chunks[h.index].text)]
            if numeric:
                best_hit = max(numeric, key=lambda h: (h.coverage, h.score))
        c = self.index.chunks[best_hit.index]
        quote = best_sentence(c.text, cq, want_number)
        head = c.heading if c.heading and c.heading not in quote else ""
        lines = [f"Theo {c.title} ({c.locality}):"]
        if head and c.kind != "table_row":
            lines.append(f"[{_short(head, 120)}]")
        lines.append(f"“{quote}”")
        lines.append(f"Nguồn: {c.document}, mục “{c.section}”.")
        return Answer(question=q, text="\n".join(lines), found=True, intent=intent,
                      sources=[Source(document=c.document, locality=c.locality, section=c.section, quote=quote)])


def best_sentence(text: str, query: str, want_number: bool) -> str:
    """The sentence of a passage that carries the answer (the whole passage when it is short)."""
    if len(text) <= 420:
        return text
    parts = [p.strip() for p in re.split(r"(?<=[.;])\s+(?=[A-ZĐÀ-Ỹ0-9-])", text) if p.strip()]
    qt = set(re.findall(r"[a-z0-9%]+", fold(query)))

    def score(p: str) -> float:
        toks = set(re.findall(r"[a-z0-9%]+", fold(p)))
        s = len(qt & toks)
        if want_number and re.search(r"\d", p):
            s += 1.5
        return s

    best = max(parts, key=score) if parts else text
    return best


def _short(text: str, n: int) -> str:
    text = text or ""
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _name(loc: str | None) -> str | None:
    if not loc:
        return None
    return re.sub(r"^(xã|phường|thị trấn)\s+", "", loc, flags=re.I)


def period_bounds(text: str, today: date) -> tuple[date, date, str]:
    """'tháng 6' / 'tháng này' / 'tháng tới' / 'quý này' / 'quý 3' / 'tuần tới' / 'tuần này' / default 30 days."""
    f = fold(text)
    m = re.search(r"thang (\d{1,2})(?:\s*/\s*|\s+nam\s+)?(\d{4})?", f)
    if m and 1 <= int(m.group(1)) <= 12:
        mo, y = int(m.group(1)), int(m.group(2) or today.year)
        return date(y, mo, 1), _month_end(y, mo), f"tháng {mo}/{y}"
    if re.search(r"thang (nay|hien tai)", f):
        return date(today.year, today.month, 1), _month_end(today.year, today.month), "tháng này"
    if re.search(r"thang (toi|sau)", f):
        y, mo = (today.year + (today.month == 12), today.month % 12 + 1)
        return date(y, mo, 1), _month_end(y, mo), "tháng tới"
    m = re.search(r"quy (\d|i{1,3}|iv)\b", f)
    if m or re.search(r"quy (nay|toi|sau)", f):
        if m:
            raw = m.group(1)
            qn = int(raw) if raw.isdigit() else {"i": 1, "ii": 2, "iii": 3, "iv": 4}[raw]
            y = today.year
        else:
            qn = (today.month - 1) // 3 + 1
            y = today.year
            if re.search(r"quy (toi|sau)", f):
                qn += 1
                if qn == 5:
                    qn, y = 1, y + 1
        start = date(y, 3 * (qn - 1) + 1, 1)
        return start, _month_end(y, 3 * qn), f"quý {qn}/{y}"
    if re.search(r"tuan (toi|sau)", f):
        start = today + timedelta(days=7 - today.weekday())
        return start, start + timedelta(days=6), "tuần tới"
    if re.search(r"tuan (nay)", f):
        start = today - timedelta(days=today.weekday())
        return start, start + timedelta(days=6), "tuần này"
    m = re.search(r"nam (\d{4})", f)
    if m:
        y = int(m.group(1))
        return date(y, 1, 1), date(y, 12, 31), f"năm {y}"
    return today, today + timedelta(days=30), "30 ngày tới"


def _month_end(y: int, m: int) -> date:
    return (date(y + (m == 12), m % 12 + 1, 1) - timedelta(days=1))
