"""Answers about administrative procedures (TTHC) from the commune's published catalogue.

`ProcedureAnswerer(procedures).answer(question, locality=None)`:

- returns None when the question is not about a procedure (the plan side answers it);
- finds the procedure by folded lexical matching of the question against procedure names (IDF-weighted
  syllables and syllable bigrams, i/y spelling unified, typos corrected against the catalogue vocabulary with
  rapidfuzz), after folk names are rewritten to catalogue vocabulary (`index.procedure_terms.SYNONYMS`);
- tells similar procedures apart by what the question says; when it cannot, answers with intent
  "procedure_choice" and one `Choice` per candidate (the label carries the code; the query re-asks the
  question with the exact procedure name);
- answers only the field asked (documents, time, fee, where/how, conditions, legal basis, forms, code, steps,
  applicants, result, agency; an overview otherwise), quoted from the catalogue, with the procedure's name,
  code and locality, the decision and section as `Source`, and `ProcedureRef`s;
- when the catalogue lacks the procedure or the field: found=False, said plainly, pointing to the one-stop
  shop (Bộ phận Một cửa / Trung tâm Phục vụ hành chính công) and dichvucong.gov.vn. Nothing is stated that
  is not in the catalogue text.
"""
from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field

from handlers.types import Answer, Choice, ProcedureRef, Source
from index.procedure_terms import (FIELD_CUES, FILLER, PLAN_CUES, PROCEDURE_CUES, RULE_CUES, SYNONYMS, WEAK_CUES,
                                   canon_token)
from index.procedures import FIELD_LABELS, Procedure, locality_key
from index.textnorm import fold, normalize

PORTAL = "Cổng Dịch vụ công quốc gia (dichvucong.gov.vn)"
# Name words too common to identify a procedure by themselves.
_GENERIC_UNI = {"dang", "ki", "cap", "thu", "tuc", "giai", "giay", "to", "van", "ban", "hanh", "chinh", "cho",
                "co", "tu", "va", "cua", "trong", "doi", "voi", "viec", "tai", "ho", "so", "nguoi", "the", "theo",
                "thuc", "hien", "duoc", "da", "khong", "cac", "nhung", "mot", "hoac", "xac", "nhan", "moi",
                "tich", "quyen", "nha", "nuoc", "dan", "ve", "thong", "tin"}
_GENERIC_BI = {"dang_ki", "cap_giay", "thu_tuc", "giay_to", "van_ban", "ban_chinh", "hanh_chinh", "ho_so",
               "xac_nhan", "cap_ban", "ho_tich", "thong_tin", "co_quan", "nha_nuoc", "tham_quyen", "cap_lai"}
_HEAD_CUT = re.compile(r"\s(?:tu ban chinh|trong cac|trong|cho|cua|do|doi voi|tai|theo|ap dung|tren|thuoc|"
                       r"co yeu to|khi|gom|bao gom)\s|\(")
_FIELD_PHRASE = {
    "documents": "cần những giấy tờ gì?",
    "time_limit": "mất bao lâu?",
    "fee": "lệ phí bao nhiêu?",
    "where": "nộp hồ sơ ở đâu?",
    "conditions": "cần điều kiện gì?",
    "legal_basis": "căn cứ pháp lý là gì?",
    "forms": "dùng mẫu đơn, tờ khai nào?",
    "code": "mã thủ tục là gì?",
    "steps": "trình tự thực hiện thế nào?",
    "applicants": "ai được thực hiện?",
    "result": "kết quả nhận được là gì?",
    "agency": "cơ quan nào giải quyết?",
    "overview": "",
    "rule": "",
}
_CUE_FIELD = {"time": "time_limit"}  # FIELD_CUES key -> Procedure field
_WORD = re.compile(r"[a-z0-9]+(?:\.[0-9]+)*")
# A folded Vietnamese syllable: such a token is a word, not a typo, and is never "corrected".
_SYLLABLE = re.compile(r"^(?:ngh|ng|gh|gi|kh|ph|th|tr|ch|nh|qu|[bcdghklmnprstvx])?[aeiouy]{1,3}(?:ng|nh|ch|[cmnpt])?$")


def _tokens(folded: str) -> list[str]:
    return [canon_token(t) for t in _WORD.findall(folded)]


def _bigrams(toks: list[str]) -> list[str]:
    return [f"{a}_{b}" for a, b in zip(toks, toks[1:])]


def _phrase_rx(phrase: str) -> re.Pattern:
    toks = _tokens(phrase)
    return re.compile(r"(?<![a-z0-9])" + r"\s+".join(re.escape(t) for t in toks) + r"(?![a-z0-9])")


def _canon_text(folded: str) -> str:
    return " ".join(_tokens(folded))


_SYN = sorted(((_phrase_rx(a), _canon_text(b), len(a)) for a, b in SYNONYMS), key=lambda x: -x[2])
_CUES = sorted(((f, _phrase_rx(c), _canon_text(c)) for f, cs in FIELD_CUES.items() for c in cs),
               key=lambda x: -len(x[2]))
_WEAK = {_canon_text(c) for c in WEAK_CUES}
_RULE = [_phrase_rx(c) for c in RULE_CUES]
_PROC_CUES = [_phrase_rx(c) for c in PROCEDURE_CUES]
_PLAN = [_phrase_rx(c) for c in PLAN_CUES]
_FILLER = {canon_token(t) for t in FILLER}


@dataclass
class Query:
    question: str
    folded: str  # typo-corrected, canonical tokens, synonyms applied
    fields: list[str]  # Procedure fields asked, priority order ("where", "overview", "rule" are pseudo-fields)
    content: list[str]  # content tokens (cues, filler, locality removed)
    locality: str | None
    code: str | None
    procedural: bool  # carries procedure cue words
    plan_like: bool  # carries plan cue words
    rule: bool
    unknown: list[str] = field(default_factory=list)  # content tokens unknown to the catalogue


@dataclass
class Candidate:
    key: str  # folded name: same procedure across localities
    procedures: list[Procedure]
    score: float
    q_cov: float
    n_cov: float
    head_full: bool
    distinct: bool
    exact: bool = False  # every distinctive word of the whole name is in the question


def _short(name: str, limit: int = 60) -> str:
    """A button-sized procedure name: the part before a parenthesis, cut at a word boundary."""
    n = re.split(r"\s*\(", name, maxsplit=1)[0].strip() or name
    if len(n) <= limit:
        return n
    return n[:limit].rsplit(" ", 1)[0].rstrip(",;") + "…"


class ProcedureAnswerer:
    def __init__(self, procedures: list[Procedure], default_locality: str | None = None):
        self.procedures = list(procedures)
        self.default_locality = default_locality
        self.localities: dict[str, str] = {}
        for p in self.procedures:
            k = locality_key(p.locality)
            if k:
                self.localities.setdefault(k, p.locality)
        self._groups: dict[str, list[Procedure]] = {}
        for p in self.procedures:
            self._groups.setdefault(self._name_key(p.name), []).append(p)
        self._name_toks: dict[str, list[str]] = {k: _tokens(k) for k in self._groups}
        self._head_toks: dict[str, list[str]] = {}
        for k in self._groups:
            m = _HEAD_CUT.search(" " + k + " ")
            head = (" " + k + " ")[: m.start()].strip() if m else k
            self._head_toks[k] = _tokens(head) or self._name_toks[k]
        n = max(1, len(self._groups))
        df: dict[str, int] = {}
        for toks in self._name_toks.values():
            for t in set(toks) | set(_bigrams(toks)):
                df[t] = df.get(t, 0) + 1
        self._idf = {t: math.log(1 + n / c) for t, c in df.items()}
        self._vocab = {t for toks in self._name_toks.values() for t in toks}
        syn_vocab = {t for a, b in SYNONYMS for t in _tokens(a) + _tokens(b)}
        cue_vocab = {t for cs in FIELD_CUES.values() for c in cs for t in _tokens(c)}
        extra = {t for c in PLAN_CUES + PROCEDURE_CUES + RULE_CUES for t in _tokens(c)}
        self._known = self._vocab | syn_vocab | cue_vocab | extra | _FILLER
        raw_vocab = {t for k in self._groups for t in _WORD.findall(k)} | {
            t for a, b in SYNONYMS for t in _WORD.findall(a + " " + b)}
        self._fix_targets = sorted(self._vocab | syn_vocab | cue_vocab | raw_vocab)
        self._loc_rx = [(k, re.compile(r"(?<![a-z0-9])(?:(?:xa|phuong|thi tran|dac khu)\s+)?" + r"\s+".join(
            map(re.escape, k.split())) + r"(?![a-z0-9])")) for k in sorted(self.localities, key=len, reverse=True)]

    # ------------------------------------------------------------------ analysis

    @staticmethod
    def _name_key(name: str) -> str:
        f = fold(name)
        f = re.sub(r"^thu tuc\s+", "", f)
        f = re.sub(r"[^a-z0-9().]+", " ", f)
        return re.sub(r"\s+", " ", f).strip()

    def _fix_typos(self, toks: list[str]) -> list[str]:
        try:
            from rapidfuzz import process
            from rapidfuzz.distance import OSA
        except ImportError:  # pragma: no cover
            return toks
        out: list[str] = []
        for t in toks:
            if t in self._known or len(t) < 3 or not t.isalpha() or _SYLLABLE.match(t):
                out.append(t)
                continue
            # a missing space ("khaisinh")
            split = next(((t[:i], t[i:]) for i in range(2, len(t) - 1)
                          if t[:i] in self._vocab and t[i:] in self._vocab), None)
            if split:
                out.extend(split)
                continue
            best = process.extractOne(t, self._fix_targets, scorer=OSA.distance, score_cutoff=1 if len(t) < 7 else 2)
            if best is not None:
                out.append(canon_token(best[0]))
            else:
                out.append(t)
        return out

    def analyze(self, question: str, locality: str | None = None) -> Query:
        q = normalize(question or "")
        f = fold(q)
        code_m = re.search(r"(?<![\d.])(\d\.\d{6})(?![\d])", f)
        code = code_m.group(1) if code_m else None
        f = re.sub(r"(?<![\d.])\d\.\d{6}(?:\.[\w.]+)?", " ", f)
        # locality named in the question
        found_loc = None
        for k, rx in self._loc_rx:
            if rx.search(f):
                found_loc = found_loc or self.localities[k]
                f = rx.sub(" ", f)
        loc = locality or found_loc
        toks = self._fix_typos(_tokens(f))
        text = " ".join(toks)
        # field cues: longest first, on the text before synonym rewriting (so "mat" in "nguoi nha mat" is kept)
        fields, strong = self._cue_fields(text)
        rule = any(rx.search(text) for rx in _RULE) and ("time_limit" in fields or "thoi han" in text or
                                                         "bao lau" in text)
        # synonyms (longest first, each span rewritten once)
        rewritten = text
        for rx, repl, _ in _SYN:
            rewritten = rx.sub(lambda m, r=repl: " " + r.replace(" ", "\u00a0") + " ", rewritten)
        rewritten = re.sub(r"\s+", " ", rewritten.replace("\u00a0", " ")).strip()
        rewritten = re.sub(r"\b(\w+ \w+) \1\b", r"\1", rewritten)  # "dang ki dang ki khai sinh"
        masked = rewritten
        for _, rx, _c in _CUES:
            masked = rx.sub(" | ", masked)
        for rx in _RULE:
            masked = rx.sub(" | ", masked)
        content = [t for t in _tokens(masked) if t not in _FILLER or t in {"con", "nhan", "lai", "cha", "me"}]
        # a word both filler-ish and name-ish ("lai", "con") only counts when a name shares its bigram
        procedural = bool(fields) or any(rx.search(text) for rx in _PROC_CUES)
        plan_like = any(rx.search(text) for rx in _PLAN)
        unknown = [t for t in content if t not in self._vocab and t not in self._known and len(t) > 1
                   and not t.isdigit()]
        unknown += [t for t in content if t not in self._vocab and t in self._known and t not in _FILLER
                    and t not in {c for cs in FIELD_CUES.values() for c in _tokens(" ".join(cs))}
                    and t not in {x for a, b in SYNONYMS for x in _tokens(b)}]
        return Query(question=q, folded=rewritten, fields=fields, content=content, locality=loc, code=code,
                     procedural=procedural, plan_like=plan_like, rule=rule, unknown=unknown)

    def _cue_fields(self, text: str) -> tuple[list[str], bool]:
        hits: list[tuple[int, str, bool]] = []
        masked = text
        for fld, rx, canon in _CUES:
            m = rx.search(masked)
            if m:
                hits.append((m.start(), fld, canon not in _WEAK))
                masked = masked[: m.start()] + "#" * (m.end() - m.start()) + masked[m.end():]
        strong = [h for h in hits if h[2]]
        use = strong or hits
        out: list[str] = []
        for _, fld, _s in sorted(use):
            fld = _CUE_FIELD.get(fld, fld)
            if fld not in out:
                out.append(fld)
        return out, bool(strong)

    # ------------------------------------------------------------------ matching

    def _pool(self, locality: str | None) -> dict[str, list[Procedure]]:
        if not locality:
            return self._groups
        k = locality_key(locality)
        out: dict[str, list[Procedure]] = {}
        for key, ps in self._groups.items():
            sel = [p for p in ps if locality_key(p.locality) == k]
            if sel:
                out[key] = sel
        return out

    def candidates(self, query: Query, pool: dict[str, list[Procedure]]) -> list[Candidate]:
        if query.code:
            hits = [(k, ps) for k, ps in pool.items() if any(p.code.startswith(query.code) for p in ps)]
            if hits:
                return [Candidate(k, [p for p in ps if p.code.startswith(query.code)], 1.0, 1.0, 1.0, True, True)
                        for k, ps in hits]
        qu = set(query.content)
        qb = set(_bigrams(query.content)) | set(_bigrams(_tokens(query.folded)))
        idf = self._idf
        q_w = sum(idf.get(t, 0) for t in qu if t in self._vocab) + sum(idf.get(b, 0) for b in qb if b in idf) * 0.5
        out: list[Candidate] = []
        for key, ps in pool.items():
            nt = self._name_toks[key]
            nu, nb = set(nt), set(_bigrams(nt))
            mu = qu & nu
            mb = qb & nb
            # a filler-ish word counts only when a matched bigram carries it
            mu = {t for t in mu if t not in _FILLER or any(t in b.split("_") for b in mb)}
            if not mu:
                continue
            matched = sum(idf.get(t, 0) for t in mu) + 0.5 * sum(idf.get(b, 0) for b in mb)
            name_w = sum(idf.get(t, 0) for t in nu) + 0.5 * sum(idf.get(b, 0) for b in nb)
            q_cov = matched / q_w if q_w else 0.0
            n_cov = matched / name_w if name_w else 0.0
            head = self._head_toks[key]
            head_distinct = [t for t in head if t not in _GENERIC_UNI] or head
            head_full = all(t in qu for t in head_distinct)
            # enough to name a procedure: a distinctive word pair, or two distinctive words
            # (one folded syllable alone is too weak: "lái" and "lại" fold alike)
            distinct = any(b not in _GENERIC_BI for b in mb) or sum(1 for t in mu if t not in _GENERIC_UNI) >= 2
            if not distinct:
                continue
            score = 0.6 * min(q_cov, 1.0) + 0.4 * n_cov
            whole = _tokens(re.sub(r"\(.*?\)", " ", key))
            exact = all(t in qu for t in ([t for t in whole if t not in _GENERIC_UNI] or whole))
            out.append(Candidate(key, ps, score, min(q_cov, 1.0), n_cov, head_full, distinct, exact))
        out.sort(key=lambda c: (-c.score, -c.n_cov, len(c.key)))
        return out

    def decide(self, cands: list[Candidate]) -> tuple[Candidate | None, list[Candidate]]:
        """(chosen, []) when the question identifies one procedure; (None, options) when it cannot.

        What the question says comes first (share of its words a name explains), then whether the name's
        distinctive head words are all in the question, then how much of the name the question covers; two
        candidates that tie on all three are offered as choices instead of guessing."""
        if not cands:
            return None, []
        ranked = sorted(cands, key=lambda c: (-round(c.q_cov / 0.05), not c.exact, not c.head_full, -c.n_cov,
                                              len(self._name_toks[c.key])))
        best = ranked[0]
        if len(ranked) == 1:
            return (best, []) if best.q_cov >= 0.34 or best.head_full else (None, [best])
        close = [c for c in ranked[1:] if abs(c.q_cov - best.q_cov) < 0.05]
        if best.exact:
            rivals = [c for c in close if c.exact and abs(c.n_cov - best.n_cov) < 0.02]
        elif best.head_full:
            rivals = [c for c in close if c.head_full or best.n_cov - c.n_cov < 0.25]
        else:
            rivals = [c for c in close if best.n_cov - c.n_cov < 0.25]
        if not rivals:
            return best, []
        # cannot tell: offer every candidate that explains the question as well (most specific first)
        return None, ([best] + sorted(close, key=lambda c: -c.n_cov))[:6]

    def match(self, question: str, locality: str | None = None) -> tuple[str | None, list[Candidate]]:
        """(intent, candidates): intent is the field asked ("documents", "time_limit", "fee", "where", ...,
        "overview", "rule"), "procedure_choice" when several candidates remain, or None when the question is not
        a procedure question."""
        q = self.analyze(question, locality)
        pool = self._pool(q.locality) or self._groups
        cands = self.candidates(q, pool)
        chosen, options = self.decide(cands)
        if not self._is_procedure_question(q, chosen, options):
            return None, cands
        if chosen is None and options:
            return "procedure_choice", options
        return self._primary_field(q), ([chosen] if chosen else [])

    def _primary_field(self, q: Query) -> str:
        if q.rule:
            return "rule"
        return q.fields[0] if q.fields else "overview"

    def _is_procedure_question(self, q: Query, chosen: Candidate | None, options: list[Candidate]) -> bool:
        if q.code and chosen is not None:
            return True
        strong = chosen is not None and (chosen.head_full or chosen.n_cov >= 0.5)
        if q.plan_like:
            return bool(strong and chosen.n_cov >= 0.6 and chosen.q_cov >= 0.6)
        if chosen is not None or options:
            return q.procedural or strong or (chosen is not None and chosen.q_cov >= 0.7)
        # nothing matched: a procedure question about something the catalogue lacks?
        return q.procedural and bool(q.unknown)

    # ------------------------------------------------------------------ answers

    def answer(self, question: str, locality: str | None = None) -> Answer | None:
        t0 = time.perf_counter()
        q = self.analyze(question, locality)
        loc = q.locality or self.default_locality
        pool = self._pool(loc)
        note = ""
        if loc and not pool:
            note = (f"Hiện chưa có danh mục thủ tục hành chính của {loc}; thông tin dưới đây theo danh mục của "
                    f"địa phương khác, anh/chị nên kiểm tra lại tại Bộ phận Một cửa của {loc}.\n")
            pool = self._groups
            loc = None
        cands = self.candidates(q, pool)
        chosen, options = self.decide(cands)
        if not self._is_procedure_question(q, chosen, options):
            return None
        if chosen is None and not options:
            ans = self._not_found(q, loc)
        elif chosen is None:
            ans = self._choice(q, options, loc)
        else:
            ans = self._field_answer(q, chosen, loc)
        if note:
            ans.text = note + ans.text
        ans.latency_ms = round((time.perf_counter() - t0) * 1000, 2)
        return ans

    def _where_to_ask(self, loc: str | None) -> str:
        place = f" của {loc}" if loc else " của xã/phường"
        return (f"Anh/chị vui lòng liên hệ Bộ phận Một cửa (Trung tâm Phục vụ hành chính công){place} "
                f"hoặc tra cứu trên {PORTAL}.")

    def _not_found(self, q: Query, loc: str | None) -> Answer:
        where = f" của {loc}" if loc else ""
        text = (f"Danh mục thủ tục hành chính{where} mà tôi có không có thủ tục anh/chị hỏi, nên tôi không thể "
                f"trả lời chính xác về giấy tờ, thời hạn hay lệ phí. " + self._where_to_ask(loc))
        return Answer(question=q.question, text=text, found=False, intent="procedure_not_found")

    def _choice(self, q: Query, options: list[Candidate], loc: str | None) -> Answer:
        fld = self._primary_field(q)
        phrase = _FIELD_PHRASE.get(fld, "")
        choices: list[Choice] = []
        lines = []
        multi_loc = len({p.locality for c in options for p in c.procedures}) > 1
        n = 0
        for c in options:
            for p in (c.procedures if multi_loc else c.procedures[:1]):
                n += 1
                label = _short(p.name) + (f" (mã {p.code})" if p.code else "") + (f" – {p.locality}" if multi_loc else "")
                query = f"Thủ tục {p.name} {phrase}".strip() if phrase else f"Thủ tục {p.name}"
                choices.append(Choice(label=label, query=query, locality=p.locality or loc))
                lines.append(f"{n}. {label}")
        text = ("Câu hỏi của anh/chị có thể ứng với nhiều thủ tục. Anh/chị hỏi về thủ tục nào ạ?\n"
                + "\n".join(lines))
        return Answer(question=q.question, text=text, found=True, intent="procedure_choice", choices=choices)

    def _field_answer(self, q: Query, cand: Candidate, loc: str | None) -> Answer:
        procs = cand.procedures
        fld = self._primary_field(q)
        fields = [fld] if fld in ("rule", "overview") else [f for f in q.fields if f in _FIELD_PHRASE][:3] or [fld]
        # several localities and the question did not say which: answer each (values differ) or once (same)
        if len(procs) > 1:
            values = {}
            for p in procs:
                v = tuple(self._value(p, f, q)[0] for f in fields)
                values.setdefault(self._strip_loc(v, p), []).append(p)
            if len(values) == 1:
                procs = procs[:1]
            else:
                procs = procs[:4]
        parts: list[str] = []
        sources: list[Source] = []
        refs: list[ProcedureRef] = []
        found_any = False
        for p in procs:
            head = f"Thủ tục “{p.name}”" + (f" (mã {p.code})" if p.code else "") + (f" – {p.locality}" if p.locality else "")
            body: list[str] = []
            for f in fields:
                value, section, label = self._value(p, f, q)
                if value:
                    found_any = True
                    body.append(self._render(f, label, value, p))
                    cite = self._cite(p, section)
                    sources.append(Source(document=p.document, locality=p.locality, section=section, quote=value))
                    refs.append(ProcedureRef(code=p.code, name=p.name, locality=p.locality, field_asked=f,
                                             value=value, source=cite))
                    body.append(f"(Nguồn: {cite})")
                    if f == "overview":
                        body.append("Anh/chị có thể hỏi riêng về giấy tờ, thời hạn, lệ phí, nơi nộp, điều kiện "
                                    "hoặc căn cứ pháp lý của thủ tục này.")
                else:
                    body.append(self._missing(p, f))
            parts.append(head + ":\n" + "\n".join(body))
        text = "\n\n".join(parts)
        if not found_any:
            text += "\n" + self._where_to_ask(procs[0].locality or loc)
        intent = "procedure_" + (fields[0] if fields[0] not in ("time_limit",) else "time")
        return Answer(question=q.question, text=text, found=found_any, intent=intent, sources=sources,
                      procedures=refs)

    @staticmethod
    def _strip_loc(values: tuple, p: Procedure) -> tuple:
        k = locality_key(p.locality)
        return tuple(fold(v).replace(k, "") if k else fold(v) for v in values)

    @staticmethod
    def _cite(p: Procedure, section: str) -> str:
        dec = p.decision or p.document
        return f"{dec}, {section}" if section else dec

    def _missing(self, p: Procedure, f: str) -> str:
        label = {"where": "nơi nộp hồ sơ", "overview": "nội dung", "rule": "quy định anh/chị hỏi"}.get(
            f, FIELD_LABELS.get(f, f).lower())
        return (f"Danh mục{(' (' + p.decision + ')') if p.decision else ''} không ghi {label} của thủ tục này, "
                f"nên tôi không nêu để tránh sai. " + self._where_to_ask(p.locality))

    def _value(self, p: Procedure, f: str, q: Query) -> tuple[str, str, str]:
        """(quoted value, section, label) of a field; value "" when the catalogue lacks it."""
        if f == "code":
            return p.code, p.sources.get("code", ""), "Mã thủ tục"
        if f == "where":
            return self._where(p)
        if f == "overview":
            return self._overview(p)
        if f == "rule":
            return self._rule(p, q)
        if f == "time_limit":
            return p.time_limit, p.sources.get("time_limit", ""), FIELD_LABELS["time_limit"]
        if f == "conditions" and p.conditions and re.fullmatch(r"khong(?: co)?\.?", fold(p.conditions).strip()):
            return p.conditions, p.sources.get("conditions", ""), FIELD_LABELS["conditions"]
        return p.text_of(f), p.sources.get(f, ""), FIELD_LABELS.get(f, f)

    def _where(self, p: Procedure) -> tuple[str, str, str]:
        lines: list[str] = []
        section = ""
        for s in p.steps:
            fs = fold(s)
            if re.search(r"\bnop\b|\btiep nhan\b|\bxuat trinh\b|\bden\b.*\btai\b", fs) and re.search(
                    r"\btai\b|truc tuyen|buu chinh|dich vu cong|\bqua\b", fs):
                lines.append(s)
                section = section or p.sources.get("steps", "")
        if p.channels.get("raw"):
            lines.append("Cách thức: " + p.channels["raw"])
            section = section or p.sources.get("channels", "")
        if p.agency:
            lines.append("Cơ quan thực hiện: " + p.agency)
            section = section or p.sources.get("agency", "")
        if not lines:
            return "", "", "Nơi nộp hồ sơ"
        secs = [p.sources.get(k, "") for k in ("steps", "channels", "agency") if p.sources.get(k)]
        section = "; ".join(dict.fromkeys(s.split(" > ")[-1] for s in secs))
        base = secs[0].rsplit(" > ", 1)[0] if secs else ""
        return "\n".join(lines), (f"{base} > {section}" if base else section), "Nơi nộp hồ sơ, cách thức thực hiện"

    def _overview(self, p: Procedure) -> tuple[str, str, str]:
        lines = []
        if p.field:
            lines.append(f"Lĩnh vực: {p.field}")
        for f in ("time_limit", "fee"):
            v = p.text_of(f)
            if v:
                lines.append(f"{FIELD_LABELS[f]}: {v}")
        if p.documents:
            lines.append(f"{FIELD_LABELS['documents']}: " + "; ".join(d["name"] for d in p.documents[:6]))
        if p.channels.get("raw"):
            lines.append(f"{FIELD_LABELS['channels']}: {p.channels['raw']}")
        if not lines:
            return "", "", "Tóm tắt"
        src = p.sources.get("name", "")
        return "\n".join(lines), src.split(" > ")[0] + (" > " + p.name if " > " in src else ""), "Tóm tắt"

    def _rule(self, p: Procedure, q: Query) -> tuple[str, str, str]:
        """A duty / deadline the procedure text states ("... trong thời hạn 15 ngày kể từ ngày ...")."""
        best = None
        qset = set(q.content) | set(_tokens(q.folded))
        for f in ("applicants", "conditions", "steps", "documents", "result", "legal_basis"):
            text = p.text_of(f)
            for sent in re.split(r"(?<=[.;])\s+|\n", text):
                fs = fold(sent)
                if not re.search(r"(?:thoi han|trong vong|cham nhat|ke tu|khong qua)[^.;]*\d+\s*(?:ngay|thang|gio)", fs):
                    continue
                overlap = len(qset & set(_tokens(fs)))
                if best is None or overlap > best[0]:
                    best = (overlap, sent.strip(), f)
        if best is None:
            return "", "", "Quy định về thời hạn"
        return best[1], p.sources.get(best[2], ""), "Theo danh mục"

    def _render(self, f: str, label: str, value: str, p: Procedure) -> str:
        items = [v for v in value.split("\n") if v.strip()]
        if f == "documents" and p.documents:
            out = [f"{label}:"]
            group = None
            for d in p.documents:
                if d.get("group") and d["group"] != group and d["group"] != "count":
                    group = d["group"]
                    out.append(f"{group}:")
                out.append(f"- {d['name']}" + (f" ({d['quantity']})" if d.get("quantity") and d["quantity"].lower() not in d["name"].lower() else ""))
            return "\n".join(out)
        if f == "fee":
            out = f"{label}: " + "; ".join(items)
            if p.fee_set_by_province:
                out += "\n(Mức phí, lệ phí này do Hội đồng nhân dân tỉnh quy định; khi tỉnh ban hành nghị quyết mới thì mức thu có thể thay đổi.)"
            return out
        if f == "conditions" and re.fullmatch(r"khong(?: co)?\.?", fold(value).strip()):
            return f"{label}: Không (danh mục không đặt yêu cầu, điều kiện riêng)."
        if f == "forms" and re.fullmatch(r"khong(?: co)?\.?", fold(value).strip()):
            return f"{label}: Không (thủ tục này không quy định mẫu đơn, tờ khai)."
        if f == "rule":
            return f"{label}: “{value}”"
        if f == "steps" and len(items) > 1:
            return f"{label}:\n" + "\n".join(f"{i}. {s}" for i, s in enumerate(items, 1))
        if len(items) == 1:
            return f"{label}: {items[0]}"
        return f"{label}:\n" + "\n".join(f"- {s}" for s in items)
