"""The question-answering core: question -> one `Query` -> candidates from every source -> one scorer -> the
answer, a choice between close candidates, or an honest refusal.

Extractive and grounded: every answer quotes the row or sentence it rests on and cites the plan by number and
date (or the procedure record). When no candidate clears the calibrated bar the answer says the documents do
not cover the question, and names no unit, date or fee.
"""
from __future__ import annotations

import re
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from index.deadlines import Deadline, occurrences
from index.lexical import query_tokens
from index.records import Task
from index.search import SearchIndex
from index.textnorm import fold, normalize
from index.units import unit_key

from . import render
from .query import LIST_ASK, PROC_ASKS, Analyzer, Period, Query, detect_period
from .router import Candidate, Scorer, base_features
from .scopes import Gazetteer, Scope, strip_type
from .types import Answer, Choice

PAGE_SIZE = render.PAGE_SIZE
NOT_FOUND = render.NOT_FOUND
TASK_ASKS = ("lead", "coord", "deadline")


class Answerer:
    def __init__(self, index: SearchIndex, procedures=None, tz: str = "Asia/Ho_Chi_Minh",
                 scorer: Scorer | None = None) -> None:
        self.index = index
        self.procedures = procedures  # handlers.procedures.ProcedureAnswerer or None
        self.tz = ZoneInfo(tz)
        self.scorer = scorer or Scorer.load()
        self._tasks_by_id = {t.id: t for t in index.tasks}
        proc_places = [p.locality for p in getattr(procedures, "procedures", []) if getattr(p, "locality", "")]
        self.proc_lexical = _ProcLexicon(getattr(procedures, "procedures", []) or [])
        self.gazetteer = Gazetteer(index.localities() + proc_places)
        titles = {d["doc_id"]: (d.get("locality") or "", d.get("title") or "") for d in index.documents
                  if d.get("kind") == "plan"}
        numbers = {d["doc_id"]: d.get("number") or "" for d in index.documents if d.get("kind") == "plan"}
        self.analyzer = Analyzer(self.gazetteer, index.restorer, titles, find_unit=self._find_unit, numbers=numbers)

    # ---- public API (channels, CLI, reminders) -----------------------------------------------------
    def localities(self) -> list[str]:
        return self.index.localities()

    def task(self, task_id: str) -> Task | None:
        return self._tasks_by_id.get(task_id)

    def analyze(self, question: str, locality: str | None = None, today: date | None = None) -> Query:
        return self.analyzer.analyze(question, locality, today or self._today())

    def ask(self, question: str, locality: str | None = None, last_task_id: str | None = None,
            today: date | None = None) -> Answer:
        t0 = time.perf_counter()
        today = today or self._today()
        # normalized here and again in analyze(): normalize() is not idempotent on rare combining-mark sequences,
        # and the answers were fitted and checked with both passes
        q = self.analyzer.analyze(normalize(question or ""), locality, today)
        if q.parts:
            answers = [self._answer(p, last_task_id, today) for p in q.parts]
            answer = _combine(q.text, answers)
        else:
            answer = self._answer(q, last_task_id, today)
        answer.latency_ms = round((time.perf_counter() - t0) * 1000, 2)
        return answer

    def _today(self) -> date:
        return datetime.now(self.tz).date()

    # ---- one question ------------------------------------------------------------------------------
    def _answer(self, q: Query, last_task_id: str | None, today: date) -> Answer:
        if len(q.folded) < 2:
            return Answer(question=q.text, text="Anh/chị vui lòng nhập câu hỏi cụ thể hơn.", found=False, intent="empty")
        if q.smalltalk:
            return render.smalltalk_answer(q.text, q.asks)
        # A short follow-up about the task just answered ("còn ai phối hợp?", "hạn khi nào?").
        last = self.task(last_task_id) if last_task_id else None
        if last is not None and len(set(q.tokens)) <= 2 and q.scope is None and any(a in TASK_ASKS for a in q.asks):
            return render.task_answer(q.text, last, q.asks, _intent(q), today)
        ranked = self.rank(q, today)
        if ranked and ranked[0].score >= self.scorer.threshold:
            choice = self._choices(q, ranked)
            return choice or ranked[0].render()
        if q.scope is not None and q.scope.how == "chat":  # the chat's place is a preference, not a wall
            open_q = _unscoped(q)
            ranked = self.rank(open_q, today)
            if ranked and ranked[0].score >= self.scorer.threshold:
                return self._choices(open_q, ranked) or ranked[0].render()
        return self._refusal(q)

    def rank(self, q: Query, today: date, dense: bool | None = None) -> list[Candidate]:
        """Every source's candidates, scored. The question is embedded only when the lexical evidence is unsure
        (best coverage under the gate) and the dense index is ready — `dense` forces it on or off."""
        cands = self.candidates(q, today, dense=False)
        best_cov = max((c.feats["cov"] for c in cands if c.source in ("task", "passage")), default=0.0)
        want_dense = dense if dense is not None else (best_cov < self.scorer.gate and self.index.dense_ready)
        if want_dense and self.index.dense_ready:
            lexical_only = [c for c in cands if c.source not in ("task", "passage")]
            cands = lexical_only + self._plan_candidates(q, dense_text=self.analyzer.dense_text(q))
            _mark_best_coverage(cands)
        return self.scorer.rank(cands)

    def candidates(self, q: Query, today: date, dense: bool = False) -> list[Candidate]:
        out: list[Candidate] = []
        if not dense:
            out += self._plan_candidates(q, None)
        else:
            out += self._plan_candidates(q, self.analyzer.dense_text(q))
        _mark_best_coverage(out)
        out += self._proc_candidates(q)
        out += self._unit_candidates(q)
        out += self._meta_candidates(q)
        out += self._due_candidates(q, today)
        return out

    # ---- sources -------------------------------------------------------------------------------------
    def _place(self, q: Query) -> str | None:
        return q.scope.place if q.scope else None

    def _plan_candidates(self, q: Query, dense_text: str | None) -> list[Candidate]:
        if not q.tokens:
            return []
        place = self._place(q)
        docs = q.doc_ids or None
        dense_scores = self.index._dense_scores(dense_text, 100, place) if dense_text else {}
        out: list[Candidate] = []
        # what depends on the question only, read once (not per candidate)
        asks_task = any(a in q.asks for a in TASK_ASKS)
        check_number = _number_asked(q)
        check_unit = _unit_asked(q)
        scoped = float(q.scope is not None and q.scope.how != "chat")
        hits = self.index.search_tasks(q.tokens, place, k=8, dense=dense_scores, docs=docs)
        best = hits[0].score if hits else 1.0
        rare = _rare(self.index, q, hits, tasks=True)
        task_chunk = self.index.task_chunk
        for rank, h in enumerate(hits):
            t = self.index.tasks[h.index]
            if (check_number and _number_missing(q, t.quote)) or (
                    check_unit and _other_unit(q, " ".join([t.quote, *t.lead, *t.coordinate]))):
                continue
            f = base_features(q, "task")
            f.update(cov=h.coverage, cov_sq=h.coverage ** 2, lex_rel=h.score / best, top1=float(rank == 0),
                     doc_named=float(t.doc_id in q.doc_ids), scoped=scoped, cov_rare=float(rare[rank]))
            ci = task_chunk[h.index] if h.index < len(task_chunk) else None
            f["dense"] = dense_scores.get(ci, 0.0) if ci is not None else 0.0
            ok = _task_field_ok(q, t)
            f["field_ok"], f["field_missing"] = float(ok), float(not ok and asks_task)
            f["inferred"] = float(t.lead_inferred and "lead" in q.asks)
            out.append(Candidate("task", t.locality, f, _bind_task(q, t), key=t.id, payload=t))
        chits = (self._chunks_with_dense(q, place, docs, dense_scores) if dense_scores
                 else self.index.search_chunks(q.tokens, place, k=6, docs=docs))
        best = chits[0].score if chits else 1.0
        want_number = "figure" in q.asks
        tokset = set(re.findall(r"[a-z0-9%]+", q.content))
        rare = _rare(self.index, q, chits, tasks=False)
        list_ask = bool(LIST_ASK.search(q.folded))
        for rank, h in enumerate(chits):
            c = self.index.chunks[h.index]
            if (check_number and _number_missing(q, c.text)) or (check_unit and _other_unit(q, c.text)):
                continue
            f = base_features(q, "passage")
            has_num = bool(_DIGIT.search(c.text))
            ok = _passage_field_ok(q, c.text)
            f.update(cov=h.coverage, cov_sq=h.coverage ** 2, lex_rel=h.score / best, top1=float(rank == 0),
                     doc_named=float(c.doc_id in q.doc_ids), scoped=scoped,
                     dense=dense_scores.get(h.index, 0.0), figure_number=float(want_number and has_num),
                     field_ok=float(ok), field_missing=float(not ok), cov_rare=float(rare[rank]))
            linked = self.index.chunk_tasks.get(h.index)
            if linked and asks_task:
                # the passage is a task's own row or sentence: answer as the task (fields, follow-ups, reminders)
                t = self.index.tasks[linked[0]]
                render_fn = _bind_task(q, t)
            else:
                doc = self.index.doc_by_id.get(c.doc_id, {})
                render_fn = _bind_passage(q, c, doc.get("citation", ""), tokset, want_number,
                                          self.index.section_chunks(c), list_ask)
            out.append(Candidate("passage", c.locality, f, render_fn, key=c.id, payload=c))
        return out

    def _chunks_with_dense(self, q: Query, place, docs, dense_scores):
        from index.search import Hit

        hits = self.index.search_chunks(q.tokens, place, k=12, docs=docs)
        fused = {h.index: h for h in hits}
        ranked_dense = sorted(dense_scores.items(), key=lambda kv: -kv[1])[:20]
        ids = [i for i, _ in ranked_dense if i not in fused]
        covs = self.index.coverages(q.tokens, ids) if ids else []
        for (i, _), cov in zip([(i, s) for i, s in ranked_dense if i not in fused], covs):
            fused[i] = Hit(i, 0.7 / (20 + [j for j, _ in ranked_dense].index(i)), float(cov))
        return sorted(fused.values(), key=lambda h: -h.score)[:6]

    def _proc_candidates(self, q: Query) -> list[Candidate]:
        pa = self.procedures
        if pa is None:
            return []
        place = self._place(q)
        names = getattr(pa, "place_names", None)
        if names is None:
            names = {fold(strip_type(p.locality)) for p in pa.procedures if p.locality}
        proc_place = place if place and fold(strip_type(place)) in names else None
        f = base_features(q, "proc")
        if hasattr(pa, "best"):
            m = pa.best(q.text, proc_place)
            if m is None:
                return []
            f.update(cov=m.coverage, cov_sq=m.coverage ** 2, name_score=m.name_score, top1=1.0, lex_rel=1.0,
                     cov_rare=m.name_score, cov_best=1.0,
                     field_ok=float(m.field_found), field_missing=float(not m.field_found))
            answer = m.answer
            return [Candidate("proc", proc_place or "", f, lambda a=answer: a, key=getattr(m, "key", ""), payload=m)]
        intent, cands = pa.match(q.text, proc_place)
        if intent is None or not cands:
            return []
        c0 = cands[0]
        answer = pa.answer(q.text, proc_place)
        if answer is None:
            return []
        cov, rare = self.proc_lexical.coverage(q.tokens, c0.procedures[0])
        asked = any(a in PROC_ASKS for a in q.asks)
        f.update(cov=cov, cov_sq=cov ** 2, name_score=c0.n_cov, top1=1.0, lex_rel=1.0,
                 cov_rare=rare, cov_best=1.0,
                 field_ok=float(asked and answer.found), field_missing=float(asked and not answer.found))
        return [Candidate("proc", proc_place or "", f, lambda a=answer: a, key=c0.key, payload=c0)]

    def _find_unit(self, folded: str, place: str | None) -> tuple[str, str] | None:
        return self.index.find_unit(folded, place)

    def _unit_candidates(self, q: Query) -> list[Candidate]:
        if q.unit is None or "unit_tasks" not in q.asks:
            return []
        name, key = q.unit
        place = self._place(q)
        idx = self.index.tasks_led_by(key, place)
        if q.doc_ids:  # the plan the question names, and only it
            idx = [i for i in idx if self.index.tasks[i].doc_id in q.doc_ids]
        if not idx:
            return []
        # The question's own topic words ("về kinh phí") order the unit's tasks.
        unit_toks = set(query_tokens(fold(name)))
        topic = [t for t in q.tokens if t not in unit_toks]
        if topic:
            covs = _coverage(self.index, topic, idx)
            idx = [i for _, i in sorted(zip(covs, idx), key=lambda ci: -ci[0])]
        tasks = [self.index.tasks[i] for i in idx]
        places = sorted({t.locality for t in tasks})
        f = base_features(q, "unit")
        f.update(cov=1.0, cov_sq=1.0, cov_rare=1.0, cov_best=1.0, top1=1.0, lex_rel=1.0, field_ok=1.0,
                 scoped=float(q.scope is not None and q.scope.how != "chat"), doc_named=float(bool(q.doc_ids)))
        if len(places) > 1:
            choices = [Choice(label=p, query=q.text, locality=p) for p in places]
            text = f"{name} có nhiệm vụ trong kế hoạch của nhiều địa bàn: " + "; ".join(
                f"{i}. {p}" for i, p in enumerate(places, 1)) + ". Anh/chị chọn địa bàn nào?"
            ans = Answer(question=q.text, text=text, found=False, intent="unit_tasks", choices=choices)
            return [Candidate("unit", "", f, lambda a=ans: a, key=key)]
        return [Candidate("unit", places[0], f, lambda: render.unit_tasks_answer(q.text, name, tasks, 1), key=key)]

    def _meta_candidates(self, q: Query) -> list[Candidate]:
        if not any(a.startswith("meta_") for a in q.asks):
            return []
        if _REFERS_ELSEWHERE.search(q.folded):
            return []  # "thay thế / thực hiện kế hoạch số mấy": another document's number, read from the text
        place = self._place(q)
        docs = [self.index.doc_by_id[d] for d in q.doc_ids if d in self.index.doc_by_id]
        if not docs and place:
            docs = [d for d in self.index.documents if d.get("kind") == "plan" and fold(d.get("locality") or "") == fold(place)]
        if not docs:
            return []
        f = base_features(q, "meta")
        f.update(cov=1.0 if q.doc_ids or len(docs) == 1 else 0.5, top1=1.0, lex_rel=1.0, field_ok=1.0,
                 cov_rare=1.0, cov_best=1.0,
                 doc_named=float(bool(q.doc_ids)), scoped=float(q.scope is not None))
        if len(docs) > 1:
            choices = [Choice(label=render.short(d.get("title") or d["document"], 60), query=q.text,
                              locality=d.get("locality")) for d in docs]
            text = "Địa bàn này có nhiều kế hoạch; anh/chị hỏi kế hoạch nào?\n" + "\n".join(
                f"{i}. {d.get('title')}" for i, d in enumerate(docs, 1))
            ans = Answer(question=q.text, text=text, found=False, intent="plan_meta", choices=choices)
            return [Candidate("meta", place or "", f, lambda a=ans: a)]
        doc = docs[0]
        return [Candidate("meta", doc.get("locality") or "", f, lambda: render.meta_answer(q.text, doc, q.asks),
                          key=doc["doc_id"])]

    def _due_candidates(self, q: Query, today: date) -> list[Candidate]:
        recurring = re.search(r"\b(hang|hang) (nam|quy|thang)\b|\bthuong xuyen\b|\bkhi co (quy dinh|huong dan|van ban)", q.folded)
        if "due_list" not in q.asks:
            return []
        ans = self.due_answer(q, today, recurring_only=bool(recurring and q.period is None))
        if ans is None:
            return []
        f = base_features(q, "due")
        f.update(cov=1.0, top1=1.0, lex_rel=1.0, field_ok=float(ans.found), field_missing=float(not ans.found),
                 cov_rare=1.0, cov_best=1.0,
                 scoped=float(q.scope is not None))
        return [Candidate("due", self._place(q) or "", f, lambda a=ans: a)]

    # ---- choices and refusals ------------------------------------------------------------------------
    def _choices(self, q: Query, ranked: list[Candidate]) -> Answer | None:
        """Two good candidates of the same kind from different places, and the question names no place."""
        if q.scope is not None or len(ranked) < 2:
            return None
        top = ranked[0]
        rivals = [c for c in ranked[1:6] if c.source == top.source and c.place and c.place != top.place
                  and c.score >= self.scorer.threshold and top.score - c.score <= self.scorer.margin]
        if top.source not in ("task", "passage") or not rivals:
            return None
        picks: dict[str, Candidate] = {top.place: top}
        for c in rivals:
            picks.setdefault(c.place, c)
        lines = ["Câu hỏi khớp với nội dung trong văn bản của nhiều địa bàn. Anh/chị muốn hỏi địa bàn nào?"]
        choices = []
        for i, (place, c) in enumerate(picks.items(), 1):
            title = getattr(c.payload, "title", "") or getattr(c.payload, "text", "")
            lines.append(f"{i}. {place}: {render.short(title, 90)}")
            choices.append(Choice(label=f"{place}: {render.short(title, 40)}", query=q.text, locality=place))
        return Answer(question=q.text, text="\n".join(lines), found=False, intent=_intent(q), choices=choices)

    def _refusal(self, q: Query) -> Answer:
        plan_ask = any(a in q.asks for a in (*TASK_ASKS, "unit_tasks", "due_list")) or any(
            a.startswith("meta_") for a in q.asks)
        if any(a in PROC_ASKS for a in q.asks) and not plan_ask:  # "ai chủ trì … cấp phép" is a plan question
            where = f" của {q.scope.place}" if q.scope else ""
            text = (f"Các văn bản và hồ sơ thủ tục tôi có không nêu nội dung anh/chị hỏi, nên tôi không thể trả lời "
                    f"chính xác (giấy tờ, thời hạn hay lệ phí). Anh/chị vui lòng hỏi Bộ phận Một cửa (Trung tâm Phục vụ "
                    f"hành chính công){where} hoặc tra cứu trên Cổng Dịch vụ công quốc gia (dichvucong.gov.vn).")
            return Answer(question=q.text, text=text, found=False, intent="procedure_not_found")
        return render.not_found(q.text)

    # ---- structured lists (also used by commands) ----------------------------------------------------
    def unit_tasks(self, q: str, locality: str | None = None, page: int = 1) -> Answer:
        query = self.analyzer.analyze(q, locality, self._today())
        if query.unit is None:
            return Answer(question=q, text="Anh/chị muốn hỏi nhiệm vụ của đơn vị nào? Ví dụ: “Phòng Văn hóa - Xã hội "
                          "phụ trách những việc gì?”", found=False, intent="unit_tasks")
        name, key = query.unit
        place = query.scope.place if query.scope else locality
        tasks = [self.index.tasks[i] for i in self.index.tasks_led_by(key, place)]
        if not tasks:
            return Answer(question=q, text=f"Các kế hoạch không giao nhiệm vụ nào cho {name}"
                          + (f" ({place})." if place else "."), found=False, intent="unit_tasks")
        places = sorted({t.locality for t in tasks})
        if len(places) > 1 and not place:
            choices = [Choice(label=p, query=q, locality=p) for p in places]
            text = f"{name} có nhiệm vụ trong kế hoạch của nhiều địa bàn: " + "; ".join(
                f"{i}. {p}" for i, p in enumerate(places, 1)) + ". Anh/chị chọn địa bàn nào?"
            return Answer(question=q, text=text, found=False, intent="unit_tasks", choices=choices)
        return render.unit_tasks_answer(q, name, tasks, page)

    def due(self, period_text: str, locality: str | None = None, today: date | None = None, page: int = 1) -> Answer:
        """Tasks due in a period: 'tháng 6', 'quý này', 'tuần tới', 'tháng này' (default: the next 30 days);
        `page` of PAGE_SIZE tasks (the chat pages with buttons)."""
        today = today or self._today()
        q = self.analyzer.analyze(period_text or "", locality, today)
        ans = self.due_answer(q, today, recurring_only=False, page=page)
        return ans or render.not_found(period_text, "due_list")

    def due_answer(self, q: Query, today: date, recurring_only: bool, page: int = 1) -> Answer | None:
        place = self._place(q)
        pool = [t for t in self.index.tasks if not place or fold(t.locality) == fold(place)]
        if q.doc_ids:
            pool = [t for t in pool if t.doc_id in q.doc_ids] or pool
        if recurring_only:
            f = q.folded
            if re.search(r"\bthuong xuyen\b", f):
                sel, label = [t for t in pool if t.deadline_kind == "ongoing"], "thường xuyên"
            elif re.search(r"\bkhi co (quy dinh|huong dan|van ban)", f):
                sel, label = [t for t in pool if t.deadline_kind == "conditional"], "khi có quy định, hướng dẫn"
            else:
                rec = "yearly" if re.search(r"hang nam", f) else "quarterly" if re.search(r"hang quy", f) else "monthly"
                sel = [t for t in pool if t.deadline_kind == "recurring" and (t.deadline or {}).get("recurrence") == rec]
                label = {"yearly": "hằng năm", "quarterly": "hằng quý", "monthly": "hằng tháng"}[rec]
            if not sel:
                return None
            lines = [f"Các nhiệm vụ thực hiện {label}" + (f" ({place})" if place else "") + f": {len(sel)} nhiệm vụ."]
            for t in sel[:PAGE_SIZE]:
                lines.append(f"• {render.short(t.title, 150)} — Chủ trì: {', '.join(t.lead) or 'không ghi'}; "
                             f"Thời gian: {t.deadline_text}")
            if len(sel) > PAGE_SIZE:
                lines.append(f"(và {len(sel) - PAGE_SIZE} nhiệm vụ khác)")
            lines.append(f"Nguồn: {sel[0].cite or sel[0].plan_title}.")
            return Answer(question=q.text, text="\n".join(lines), found=True, intent="due_list",
                          sources=[render.task_source(t) for t in sel[:PAGE_SIZE]],
                          tasks=[render.task_ref(t) for t in sel[:PAGE_SIZE]])
        period = q.period or Period(today, today + timedelta(days=30), "30 ngày tới", True)
        year_note = ""
        if not period.year_given:
            period, year_note = _plan_year(period, pool, today)
        due: list[tuple[date, Task]] = []
        for t in pool:
            occ = occurrences(Deadline.from_dict(t.deadline), period.start, period.end) if t.deadline else []
            if occ:
                due.append((occ[0], t))
        due.sort(key=lambda x: x[0])
        where = f" ({place})" if place else ""
        if not due:
            return Answer(question=q.text, text=f"Không có nhiệm vụ nào có hạn trong {period.label}{where} theo các kế "
                          "hoạch hiện có." + (f" {year_note}" if year_note else ""), found=False, intent="due_list")
        lines = [f"Nhiệm vụ đến hạn trong {period.label}{where} ({period.start:%d/%m/%Y}–{period.end:%d/%m/%Y}):"]
        if year_note:
            lines.append(year_note)
        items = [f"• {d:%d/%m/%Y} — {render.short(t.title, 140)} ({t.locality}; chủ trì: "
                 f"{', '.join(t.lead) or 'không ghi'}; “{t.deadline_text}”)" for d, t in due]
        # pages cut by length as well as count, like a unit's list: each fits one Zalo message with the page line
        # and the typed "trang 2" hint a text channel adds (the command repeats the user's words: room is kept)
        longest = [f"(Trang 999/999, {len(due)} nhiệm vụ.)", render.PAGE_TYPED_HINT.format(
            command="/hanchot " + "x" * 60, next=1000)]
        bounds = render.page_bounds(len(items), lambda a, b: render.fits_one_message([*lines, *items[a:b], *longest]))
        pages = len(bounds)
        start, end = bounds[page - 1] if page <= pages else (len(due), len(due))
        shown = due[start:end]
        lines += items[start:end]
        if pages > 1:
            lines.append(f"(Trang {page}/{pages}, {len(due)} nhiệm vụ.)")
        return Answer(question=q.text, text="\n".join(lines), found=True, intent="due_list",
                      sources=[render.task_source(t) for _, t in shown], tasks=[render.task_ref(t) for _, t in shown])


# ---------------------------------------------------------------------------------------------------- helpers

class _ProcLexicon:
    """The question's content words against a procedure's name, field and keywords, weighted by how rare each
    word is among all procedures — the same coverage measure as for plan passages, so the scorer can compare."""

    def __init__(self, procedures: list):
        import math
        from collections import Counter

        self._text: dict[int, set[str]] = {}
        df: Counter = Counter()
        for p in procedures:
            toks = set(query_tokens(fold(" ".join([p.name, getattr(p, "field", "") or "",
                                                   " ".join(getattr(p, "keywords", []) or [])]))))
            self._text[id(p)] = toks
            df.update(toks)
        n = max(len(procedures), 1)
        self._idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        self._unknown = math.log(1 + (n + 0.5) / 0.5)

    def coverage(self, tokens: list[str], proc) -> tuple[float, float]:
        toks = self._text.get(id(proc), set())
        if not tokens:
            return 0.0, 0.0
        w = {t: self._idf.get(t, self._unknown) for t in set(tokens)}
        total = sum(w.values()) or 1.0
        cov = sum(v for t, v in w.items() if t in toks) / total
        rare = sorted(w, key=lambda t: -w[t])[:3]
        return cov, sum(1 for t in rare if t in toks) / len(rare)


def _mark_best_coverage(cands: list[Candidate]) -> None:
    """cov_best: the candidate has the highest coverage of its source (the lexical rank may disagree)."""
    for source in ("task", "passage"):
        group = [c for c in cands if c.source == source]
        if group:
            top = max(c.feats["cov"] for c in group)
            for c in group:
                c.feats["cov_best"] = float(c.feats["cov"] >= top - 1e-9)


def _intent(q: Query) -> str:
    if "lead" in q.asks and "deadline" in q.asks:
        return "lead+deadline"
    for a in ("coord", "lead", "deadline", "unit_tasks", "due_list", "figure"):
        if a in q.asks:
            return a
    return "general"


_DIGIT = re.compile(r"\d")
_REFERS_ELSEWHERE = re.compile(r"\b(thay the|thuc hien|can cu|trien khai|kem theo|ban hanh kem|sua doi|cu the hoa)\b.{0,40}"
                               r"\b(ke hoach|quyet dinh|nghi quyet|chuong trinh|van ban|chi thi) so\b|\bso (may|bao nhieu).{0,30}\b(cua|do) (ubnd|uy ban|tinh|bo|chinh phu)")
_ORG_WORD = re.compile(r"\b(Sở|Phòng|Văn phòng|Công an|UBND|Ủy ban|Ban|Trung tâm|Bộ|Tỉnh đoàn|Công chức|Hội|Đài|Chi cục)\b")


# A number as a quantity: not a year, not a date, not a section number ("2.1.").
_QUANT_NUMBER = re.compile(r"(?<![\d/.,])(\d+(?:[.,]\d+)*)(?![\d/]|\.\s|\.$)\s*(%?)")
_MONEY = ("dong", "ty", "trieu", "nghin", "ngan", "usd", "vnd")
_SAME_MEASURE = {"tien": _MONEY, "kinh": _MONEY, "%": ("%", "phan tram")}


def _number_asked(q: Query) -> bool:
    """Is _number_missing worth asking for this question (a how-many question, no unit or procedure field)?"""
    return bool(q.quantity) and not any(a in q.asks for a in TASK_ASKS) and not q.asks_any(*PROC_ASKS)


def _unit_asked(q: Query) -> bool:
    """Is _other_unit worth asking: a unit's duties asked for a unit the plans do not know?"""
    return ("unit_tasks" in q.asks and q.unit is None and bool(q.unit_phrase)
            and not any(a in q.asks for a in TASK_ASKS))


def _number_missing(q: Query, text: str) -> bool:
    """A how-many / what-share question (no unit, deadline or procedure field asked with it) and a source that
    states no such number: that source cannot answer, however well its words match. With a measure word
    ("bao nhiêu người", "bao nhiêu tỷ đồng") the number must come with it (within three words) and not be a share."""
    if not _number_asked(q):
        return False
    folded = fold(text)
    wanted = _SAME_MEASURE.get(q.measure, (q.measure,)) if q.measure else ()
    for m in _QUANT_NUMBER.finditer(folded):
        digits = m.group(1)
        if re.fullmatch(r"(19|20)\d\d", digits) and not m.group(2):
            continue  # a year
        if not wanted:
            return False
        if "%" in wanted and m.group(2):
            return False
        if m.group(2):
            continue  # a share is not the count or amount asked ("bao nhiêu người" is not "90% người …")
        after = " " + " ".join(re.findall(r"%|[a-z]+", folded[m.end():m.end() + 40])[:4]) + " "
        if any(f" {w} " in after for w in wanted):
            return False
    return True


def _other_unit(q: Query, text: str) -> bool:
    """A unit's duties are asked for a unit the plans do not know: a source that does not name that unit is
    about someone else ("Phòng Tư pháp làm gì?" is not answered by another office's duty)."""
    return _unit_asked(q) and q.unit_phrase not in fold(text)


def _passage_field_ok(q: Query, text: str) -> bool:
    """Does a passage hold what is asked: a unit for who-questions, a time for when-questions, a number for
    how-much questions?"""
    from index.tasks import deadline_phrase

    ok = True
    if "lead" in q.asks or "coord" in q.asks:
        ok = ok and bool(_ORG_WORD.search(text))
    if "deadline" in q.asks and ok:
        ok = bool(re.search(r"\b(19|20)\d\d\b|\bngày \d", text) or deadline_phrase(text))
    if "figure" in q.asks:
        ok = ok and bool(re.search(r"\d", text))
    if "meta_number" in q.asks:
        ok = ok and bool(re.search(r"(?i)\bsố:?\s*\d+\s*/", text))
    return ok


def _task_field_ok(q: Query, t: Task) -> bool:
    ok = True
    if "figure" in q.asks and not any(a in q.asks for a in TASK_ASKS):
        ok = ok and bool(re.search(r"\d", t.quote))
    if "lead" in q.asks:
        ok = ok and bool(t.lead)
    if "coord" in q.asks:
        ok = ok and bool(t.coordinate or t.lead)
    if "deadline" in q.asks:
        ok = ok and bool(t.deadline_text)
    return ok


def _bind_task(q: Query, t: Task):
    return lambda: render.task_answer(q.text, t, q.asks, _intent(q))


def _bind_passage(q: Query, c, cite: str, tokens: set[str], want_number: bool, siblings=None,
                  list_ask: bool | None = None):
    if list_ask is None:
        list_ask = bool(LIST_ASK.search(q.folded))
    if siblings and list_ask:
        return lambda: render.list_answer(q.text, c, siblings, cite, _intent(q))
    return lambda: render.passage_answer(q.text, c, cite, tokens, want_number, _intent(q))


def _rare(index: SearchIndex, q: Query, hits, tasks: bool) -> list[float]:
    """Each hit's share of the question's rarest words: read with the hit when the search computed it."""
    if all(h.rare is not None for h in hits):
        return [h.rare for h in hits]
    return list(index.rare_coverages(q.tokens, [h.index for h in hits], tasks=tasks))


def _coverage(index: SearchIndex, tokens: list[str], ids: list[int]) -> list[float]:
    return list(index.coverages(tokens, ids, tasks=True)) if ids else []


def _unscoped(q: Query) -> Query:
    from dataclasses import replace

    return replace(q, scope=None, doc_ids=[])


def _plan_year(period: Period, pool: list[Task], today: date) -> tuple[Period, str]:
    """'tháng 12' without a year: this year when today falls in a plan's period, else the year of the plans' own
    period (and the answer says which year it used)."""
    years = set()
    for t in pool:
        d = t.deadline or {}
        for key in ("start", "due", "until"):
            if d.get(key):
                years.add(int(d[key][:4]))
    if not years or today.year in years:
        return period, ""
    y = max(years) if today.year > max(years) else min(years)
    shift = y - period.start.year
    new = Period(period.start.replace(year=period.start.year + shift), period.end.replace(year=period.end.year + shift),
                 re.sub(r"\d{4}", str(y), period.label), True, period.month, period.quarter)
    return new, f"(Kế hoạch chỉ có mốc thời gian trong năm {y} nên tôi hiểu “{period.label.split('/')[0]}” là của năm {y}.)"


def _combine(text: str, answers: list[Answer]) -> Answer:
    parts = [f"{i}) {a.text}" for i, a in enumerate(answers, 1)]
    out = Answer(question=text, text="\n\n".join(parts), found=any(a.found for a in answers),
                 intent="multi:" + ",".join(a.intent for a in answers))
    for a in answers:
        out.sources += a.sources
        out.tasks += a.tasks
        out.procedures += a.procedures
    return out


def period_bounds(text: str, today: date) -> tuple[date, date, str]:
    """'tháng 6' / 'tháng này' / 'quý 3' / 'tuần tới' ... (default: the next 30 days)."""
    p = detect_period(fold(text), today)
    if p is None:
        return today, today + timedelta(days=30), "30 ngày tới"
    return p.start, p.end, p.label
