"""Answers about administrative procedures (TTHC): a commune's catalogue, a province's decision, or the record of
the national procedure database (CSDLQG về TTHC).

`ProcedureAnswerer(procedures).best(question, locality)` -> `ProcMatch | None` (contract 6): the best-matching
procedure with comparable evidence — `coverage` (IDF-weighted share of the question's content words that the
procedure's name, folk names or keywords explain; words the catalogue never uses count against it),
`name_score` (share of the name the question covers), `field` asked, whether the record states it, whether the
locality matched, close runners-up, and the `Answer` to show. The router compares it with the plan side.
`answer(question, locality)` -> `Answer | None` is the same decision made here: None when the question is not
about a procedure.

- Which record answers: the locality's own records (a commune's catalogue, a province's decision or records)
  win; a national record (published by a ministry) answers for every commune and the answer says it is the
  general rule ("mức phí cụ thể do tỉnh quy định" where the record defers to the province); a record of another
  province is used only when nothing else matches, and the answer says whose it is.
- Finding the procedure: folded lexical matching of the question against each procedure's name and its own
  keywords / service groups (IDF-weighted syllables and bigrams, i/y unified, typos corrected against the
  vocabulary), after folk names are rewritten to the catalogue's vocabulary (`index.procedure_terms.SYNONYMS`:
  sổ đỏ -> giấy chứng nhận, hộ khẩu -> thường trú …). Similar procedures are told apart by what the question
  says; when it cannot, the candidates are offered as choices.
- The answer leads with what was asked (fee, time, papers …) for the channel asked (online / in person / post
  when the record differs per channel), then where the rule applies, then the source (decision number and date,
  or "Cơ sở dữ liệu quốc gia về TTHC, mã …"). Nothing is stated that the record does not say; a procedure or a
  field the bot has nowhere is refused plainly with where to ask.
"""
from __future__ import annotations

import math
import re
from functools import lru_cache
import time
from dataclasses import dataclass, field

from handlers.scopes import strip_type
from handlers.types import Answer, Choice, ProcedureRef, Source
from index.procedure_terms import (CHANNEL_CUES, FIELD_CUES, FILLER, PLAN_CUES, PROCEDURE_CUES, RULE_CUES, SYNONYMS,
                                   WEAK_CUES, canon_token)
from index.procedures import FIELD_LABELS, Procedure, locality_key
from index.textnorm import fold, normalize

PORTAL = "Cổng Dịch vụ công quốc gia (dichvucong.gov.vn)"
NATIONAL_DB = "Cơ sở dữ liệu quốc gia về thủ tục hành chính"
# Name words too common to identify a procedure by themselves.
_GENERIC_UNI = {"dang", "ki", "cap", "thu", "tuc", "giai", "giay", "to", "van", "ban", "hanh", "chinh", "cho",
                "co", "tu", "va", "cua", "trong", "doi", "voi", "viec", "tai", "ho", "so", "nguoi", "the", "theo",
                "thuc", "hien", "duoc", "da", "khong", "cac", "nhung", "mot", "hoac", "xac", "nhan", "moi",
                "tich", "quyen", "nha", "nuoc", "dan", "ve", "thong", "tin", "dat", "o"}
_GENERIC_BI = {"dang_ki", "cap_giay", "thu_tuc", "giay_to", "van_ban", "ban_chinh", "hanh_chinh", "ho_so",
               "xac_nhan", "cap_ban", "ho_tich", "thong_tin", "co_quan", "nha_nuoc", "tham_quyen", "cap_lai",
               "giay_chung", "chung_nhan", "cap_giay", "su_dung", "quyen_su", "dung_dat"}
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
    "validity": "có giá trị bao lâu?",
    "penalty": "làm muộn có bị phạt không?",
    "overview": "",
    "rule": "",
}
# Contract 6 names of what is asked.
CONTRACT_FIELD = {"documents": "documents", "time_limit": "time", "fee": "fee", "where": "where",
                  "conditions": "conditions", "applicants": "conditions", "validity": "validity", "code": "code",
                  "result": "result", "legal_basis": "legal", "forms": "forms", "steps": "steps",
                  "agency": "where", "overview": "overview", "rule": "time", "penalty": "legal"}
_CUE_FIELD = {"time": "time_limit"}  # FIELD_CUES key -> Procedure field
_WORD = re.compile(r"[a-z0-9]+(?:\.[0-9]+)*")
# A folded Vietnamese syllable: such a token is a word, not a typo, and is never "corrected".
_SYLLABLE = re.compile(r"^(?:ngh|ng|gh|gi|kh|ph|th|tr|ch|nh|qu|[bcdghklmnprstvx])?[aeiouy]{1,3}(?:ng|nh|ch|[cmnpt])?$")
_CODE_Q = re.compile(r"(?<![\d.])(\d\.\d{6})(?![\d])")
_PLACE_TYPES = r"(?:xa|phuong|thi tran|thi xa|dac khu|tinh|thanh pho|tp)"
# "Hải Phòng: …" / "ở tỉnh Gia Lai" / "tại xã X": a place the question names (kept even when no record has it).
_PLACE_PREFIX = re.compile(r"^\s*((?:[A-ZĐÀ-Ỹ][\wÀ-ỹđĐ]*\.?\s*){1,4}):\s*")
_PLACE_NAMED = re.compile(r"\b(?:ở|tại|của|o|tai)?\s*(?i:tỉnh|thành phố|tp\.?|xã|phường|thị trấn|thị xã|huyện|quận)"
                          r"\s+((?:[A-ZĐÀ-Ỹ][\wÀ-ỹđĐ]*\s*){1,4})")


def _tokens(folded: str) -> list[str]:
    return [canon_token(t) for t in _WORD.findall(folded)]


def _bigrams(toks: list[str]) -> list[str]:
    return [f"{a}_{b}" for a, b in zip(toks, toks[1:])]


class _Phrase:
    """A phrase pattern that skips the regex when its first word is not even a substring of the text (most cue
    and synonym phrases are absent from most questions: this keeps the analysis well under a millisecond)."""

    __slots__ = ("first", "rx", "plain", "need")

    def __init__(self, toks: list[str]):
        self.first = toks[0] if toks else ""
        self.rx = re.compile(r"(?<![a-z0-9])" + r"\s+".join(re.escape(t) for t in toks) + r"(?![a-z0-9])")
        # the pattern's first word can only match a whole run of [a-z0-9] of the text (see _words)
        self.plain = _ALNUM.fullmatch(self.first) is not None
        # and so can each of its words, when all are plain: a text lacking one of them cannot match
        self.need = frozenset(toks) if toks and all(_ALNUM.fullmatch(t) for t in toks) else frozenset()

    def search(self, text: str):
        return self.rx.search(text) if self.first in text else None

    def sub(self, repl, text: str) -> str:
        return self.rx.sub(repl, text) if self.first in text else text


_ALNUM = re.compile(r"[a-z0-9]+")


def _words(text: str) -> set[str]:
    """The runs of [a-z0-9] of a folded text: a phrase whose first word is none of them cannot match."""
    return set(_ALNUM.findall(text))


class _Phrases:
    """A fixed list of entries, each holding a phrase, indexed by the phrase's first word: `live(words)` gives
    the entries that can match a text with these words, in list order (the order matters: longest first), so a
    question pays for the few phrases that share a word with it, not for the whole list."""

    def __init__(self, entries: list, phrase_of) -> None:
        self.entries = entries
        self._needs = [phrase_of(e).need for e in entries]
        self._by_first: dict[str, list[int]] = {}
        self._always: list[int] = []
        for i, e in enumerate(entries):
            ph = phrase_of(e)
            (self._by_first.setdefault(ph.first, []) if ph.plain else self._always).append(i)

    def positions(self, words: set[str]) -> list[int]:
        out = set(self._always)
        by_first = self._by_first
        for w in words & by_first.keys():
            out.update(by_first[w])
        needs = self._needs
        return sorted(i for i in out if needs[i] <= words)

    def live(self, words: set[str]) -> list:
        return [self.entries[i] for i in self.positions(words)]


def _rewrite_synonyms(text: str, words: set[str]) -> str:
    """Synonyms, longest first, each span rewritten once (the replacement's words joined by no-break spaces so a
    shorter synonym does not rewrite inside it). A rewrite may bring words that later synonyms start with: those
    join the pass from there on, so the result is the same as trying every synonym in order."""
    out, words = text, set(words)
    pending = _SYN.positions(words)
    j = 0
    while j < len(pending):
        i = pending[j]
        rx, repl, _ = _SYN.entries[i]
        new = rx.sub(lambda m, r=repl: " " + r.replace(" ", "\u00a0") + " ", out)
        j += 1
        if new != out:
            out = new
            fresh = _words(out) - words
            if fresh:
                words |= fresh
                pending = pending[:j] + [k for k in _SYN.positions(words) if k > i]
    return out


def _phrase_rx(phrase: str) -> _Phrase:
    return _Phrase(_tokens(phrase))


def _canon_text(folded: str) -> str:
    return " ".join(_tokens(folded))


@lru_cache(maxsize=1)
def _cue_tokens() -> frozenset[str]:
    """Every word of the field cues (computed once, not per question and word)."""
    return frozenset(c for cs in FIELD_CUES.values() for c in _tokens(" ".join(cs)))


@lru_cache(maxsize=65536)
def place_key(name: str) -> str:
    """'thành phố Hải Phòng' / 'TP Hải Phòng' / 'Hải Phòng' -> 'hai phong'; 'xã Hải Hậu' -> 'hai hau'."""
    f = fold(name or "")
    f = re.sub(r"^(?:ubnd|uy ban nhan dan)\s+", "", f)
    f = re.sub(rf"^{_PLACE_TYPES}\.?\s+", "", f)
    return re.sub(r"[^a-z0-9 ]+", " ", f).split(" (")[0].strip()


_SYN = _Phrases(sorted(((_phrase_rx(a), _canon_text(b), len(a)) for a, b in SYNONYMS), key=lambda x: -x[2]),
                lambda e: e[0])
_CUES = _Phrases(sorted(((f, _phrase_rx(c), _canon_text(c)) for f, cs in FIELD_CUES.items() for c in cs),
                        key=lambda x: -len(x[2])), lambda e: e[1])
_CHANNEL = _Phrases([(ch, _phrase_rx(c)) for ch, cs in CHANNEL_CUES.items() for c in cs], lambda e: e[1])
_WEAK = {_canon_text(c) for c in WEAK_CUES}
_RULE = _Phrases([_phrase_rx(c) for c in RULE_CUES], lambda e: e)
_PROC_CUES = _Phrases([_phrase_rx(c) for c in PROCEDURE_CUES], lambda e: e)
_PLAN = _Phrases([_phrase_rx(c) for c in PLAN_CUES], lambda e: e)
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
    channel: str | None = None  # "online" | "in_person" | "post" when the question names one
    place: str = ""  # a place the question names that no record belongs to ("Đà Lạt")
    foreign: list[str] = field(default_factory=list)  # content words no record and no vocabulary list knows ("xe")


@dataclass(frozen=True)
class _Surface:
    """A name (or keyword) of a procedure as scoring reads it."""

    via: str  # "name" | "keyword"
    tokens: list[str]
    words: set[str]
    pairs: set[str]
    length: int
    weight: float  # IDF weight of its words and (half) word pairs
    head_need: list[str]  # words the question must have for the head (or the whole keyword) to be there
    exact_need: list[str]  # words the question must have for the whole name to be there


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
    via: str = "name"  # "name" | "keyword": which surface matched
    matched: frozenset = frozenset()  # the question's words and word pairs this name has

    @property
    def abolished(self) -> bool:
        return all(p.status == "abolished" for p in self.procedures)


@dataclass
class ProcMatch:
    """Contract 6: the best-matching procedure for a question, with evidence the router can compare."""

    procedure: Procedure | None  # the record the answer rests on (None when several remain: a choice)
    name: str
    code: str
    coverage: float  # IDF-weighted share (0..1) of the question's content words the name / keywords explain
    name_score: float  # 0..1, how much of the name phrase the question covers
    field: str  # documents | time | fee | where | conditions | validity | code | result | legal | forms | steps | overview
    field_found: bool  # the record states that field
    locality_match: bool | None  # the record belongs to the asked locality (None: no locality asked)
    alternatives: list[str]  # close runners-up ("name (mã …)")
    answer: Answer
    procedural: bool = False  # the question carries procedure words ("thủ tục", "hồ sơ", "lệ phí" …)
    is_procedure_question: bool = False  # this answerer's own verdict (what `answer()` does)
    key: str = ""  # the record's id ("chung:1.004222", "tinh-son-la:2.002761") for logs and fitting


def _short(name: str, limit: int = 60) -> str:
    """A button-sized procedure name: the part before a parenthesis, cut at a word boundary."""
    n = re.split(r"\s*\(", name, maxsplit=1)[0].strip() or name
    if len(n) <= limit:
        return n
    return n[:limit].rsplit(" ", 1)[0].rstrip(",;") + "…"


def _clip(text: str, limit: int) -> str:
    """A long text cut at a word boundary (summaries only; answers to the field asked are quoted whole)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _is_none(value: str) -> bool:
    return bool(re.fullmatch(r"khong(?: co| quy dinh)?\.?", fold(value or "").strip()))


@dataclass
class _Resolved:
    q: Query
    loc: str | None
    cands: list[Candidate]
    chosen: Candidate | None
    options: list[Candidate]
    is_proc: bool
    note: str = ""  # said before the answer (records of another locality)


class ProcedureAnswerer:
    def __init__(self, procedures: list[Procedure], default_locality: str | None = None):
        self.procedures = list(procedures)
        self.default_locality = default_locality
        self.localities: dict[str, str] = {}  # place key -> display name ("hai phong" -> "thành phố Hải Phòng")
        for p in self.procedures:
            for name in (p.locality, p.province):
                k = place_key(name)
                if k and len(k) > 2:
                    self.localities.setdefault(k, p.locality or name)
        self._groups: dict[str, list[Procedure]] = {}
        self._pools: dict[str, dict[str, list[Procedure]]] = {}  # place key -> _pool (filled on demand)
        self._other_pools: dict[str, dict[str, list[Procedure]]] = {}
        # the places the records belong to, folded without their type word ("xã", "tỉnh" …)
        self.place_names = frozenset(fold(strip_type(p.locality)) for p in self.procedures if p.locality)
        for p in self.procedures:
            self._groups.setdefault(self._name_key(p.name), []).append(p)
        for ps in self._groups.values():  # a procedure in force before an abolished one of the same name
            ps.sort(key=lambda p: p.status == "abolished")
        self._name_toks: dict[str, list[str]] = {k: _tokens(k) for k in self._groups}
        # the records' own keywords / service groups: other names the procedure is asked by
        self._aliases: dict[str, list[list[str]]] = {}
        for k, ps in self._groups.items():
            seen: list[list[str]] = []
            for p in ps:
                for kw in p.keywords:
                    t = _tokens(self._name_key(kw))
                    if t and t not in seen and t != self._name_toks[k]:
                        seen.append(t)
            self._aliases[k] = seen
        self._head_toks: dict[str, list[str]] = {}
        for k in self._groups:
            m = _HEAD_CUT.search(" " + k + " ")
            head = (" " + k + " ")[: m.start()].strip() if m else k
            self._head_toks[k] = _tokens(head) or self._name_toks[k]
        # word -> names (or keywords) that have it: a procedure sharing no word with the question is never scored
        self._by_word: dict[str, set[str]] = {}
        for k in self._groups:
            for toks in [self._name_toks[k], *self._aliases[k]]:
                for t in toks:
                    self._by_word.setdefault(t, set()).add(k)
        surfaces = list(self._name_toks.values()) + [a for al in self._aliases.values() for a in al]
        n = max(1, len(surfaces))
        df: dict[str, int] = {}
        for toks in surfaces:
            for t in set(toks) | set(_bigrams(toks)):
                df[t] = df.get(t, 0) + 1
        self._idf = {t: math.log(1 + n / c) for t, c in df.items()}
        self._surfaces: dict[str, list[_Surface]] = {k: self._surfaces_of(k) for k in self._groups}
        self._idf_unknown = math.log(1 + n)  # a word no name uses is as distinctive as the rarest word
        self._vocab = {t for toks in surfaces for t in toks}
        self._bivocab = {b for toks in surfaces for b in _bigrams(toks)}
        syn_vocab = {t for a, b in SYNONYMS for t in _tokens(a) + _tokens(b)}
        cue_vocab = {t for cs in FIELD_CUES.values() for c in cs for t in _tokens(c)}
        cue_vocab |= {t for cs in CHANNEL_CUES.values() for c in cs for t in _tokens(c)}
        extra = {t for c in PLAN_CUES + PROCEDURE_CUES + RULE_CUES for t in _tokens(c)}
        self._known = self._vocab | syn_vocab | cue_vocab | extra | _FILLER
        raw_vocab = {t for k in self._groups for t in _WORD.findall(k)} | {
            t for a, b in SYNONYMS for t in _WORD.findall(a + " " + b)}
        self._fix_targets = sorted(self._vocab | syn_vocab | cue_vocab | raw_vocab)
        self._loc_rx = [(k, re.compile(rf"(?<![a-z0-9])(?:{_PLACE_TYPES}\.?\s+)?" + r"\s+".join(
            map(re.escape, k.split())) + r"(?![a-z0-9])")) for k in sorted(self.localities, key=len, reverse=True)]

    def _surfaces_of(self, key: str) -> list["_Surface"]:
        """The procedure's name and keywords with what scoring reads of them (fixed once the records are loaded)."""
        out = []
        for via, nt in [("name", self._name_toks[key])] + [("keyword", a) for a in self._aliases.get(key, [])]:
            nu, nb = set(nt), set(_bigrams(nt))
            weight = sum(self._idf.get(t, 0) for t in nu) + 0.5 * sum(self._idf.get(b, 0) for b in nb)
            if via == "name":
                head = self._head_toks[key]
                head_need = [t for t in head if t not in _GENERIC_UNI] or head
                whole = _tokens(re.sub(r"\(.*?\)", " ", key))
                exact_need = [t for t in whole if t not in _GENERIC_UNI] or whole
            else:
                head_need = [t for t in nt if t not in _GENERIC_UNI] or nt
                exact_need = []
            out.append(_Surface(via, nt, nu, nb, len(nt), weight, head_need, exact_need))
        return out

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

    def _named_place(self, q: str) -> tuple[str, str]:
        """(place as written, the question without it) for a place no record belongs to."""
        m = _PLACE_PREFIX.match(q)
        if m and not re.search(r"(?i)thủ tục|hồ sơ|giấy", m.group(1)):
            return m.group(1).strip(), q[m.end():]
        m = _PLACE_NAMED.search(q)
        if m:
            return m.group(1).strip(), q[: m.start()] + " " + q[m.end():]
        return "", q

    def analyze(self, question: str, locality: str | None = None) -> Query:
        q = normalize(question or "")
        f = fold(q)
        code_m = _CODE_Q.search(f)
        code = code_m.group(1) if code_m else None
        f = re.sub(r"(?<![\d.])\d\.\d{6}(?:\.[\w.]+)?", " ", f)
        # locality named in the question: one the records know, else any place it names
        found_loc = None
        for k, rx in self._loc_rx:
            if rx.search(f):
                found_loc = found_loc or self.localities[k]
                f = rx.sub(" ", f)
        place = ""
        if not found_loc:
            place, rest = self._named_place(q)
            if place:
                f = fold(rest)
        loc = locality or found_loc or (place or None)
        toks = self._fix_typos(_tokens(f))
        text = " ".join(toks)
        words = _words(text)
        # field cues: longest first, on the text before synonym rewriting (so "mat" in "nguoi nha mat" is kept)
        fields, strong = self._cue_fields(text, words)
        rule = any(rx.search(text) for rx in _RULE.live(words)) and ("time_limit" in fields or bool(re.search(
            r"thoi han|bao lau|khi nao|luc nao|may gio|truoc|han cuoi|han chot", text)))
        channel = next((ch for ch, rx in _CHANNEL.live(words) if rx.search(text)), None)
        rewritten = _rewrite_synonyms(text, words)
        rewritten = re.sub(r"\s+", " ", rewritten.replace("\u00a0", " ")).strip()
        rewritten = re.sub(r"\b(\w+ \w+) \1\b", r"\1", rewritten)  # "dang ki dang ki khai sinh"
        masked = rewritten
        r_words = _words(rewritten)  # masking only removes words: these bound every pass below
        for _, rx, _c in _CUES.live(r_words):
            masked = rx.sub(" | ", masked)
        for rx in _RULE.live(r_words):
            masked = rx.sub(" | ", masked)
        for _, rx in _CHANNEL.live(r_words):
            masked = rx.sub(" | ", masked)
        # a filler-ish word ("chữ" / "chú", "sao" / "làm sao", "bản" / "bạn") is kept when it makes a word pair some
        # name has ("chữ ký", "bản sao"); it then counts only when a name shares that pair
        mtoks = _tokens(masked)
        content = [t for i, t in enumerate(mtoks) if t not in _FILLER or t in {"con", "nhan", "lai", "cha", "me"}
                   or (i and f"{mtoks[i - 1]}_{t}" in self._bivocab)
                   or (i + 1 < len(mtoks) and f"{t}_{mtoks[i + 1]}" in self._bivocab)]
        # a weak cue alone ("thế nào", "lâu") does not make a question about a procedure
        procedural = strong or any(rx.search(text) for rx in _PROC_CUES.live(words))
        plan_like = any(rx.search(text) for rx in _PLAN.live(words))
        unknown = [t for t in content if t not in self._vocab and t not in self._known and len(t) > 1
                   and not t.isdigit()]
        foreign = list(unknown)
        # words the rewriting produced count too: a folk name whose official words no record uses is a procedure
        # the catalogue lacks ("tạm trú" when no record is about it)
        unknown += [t for t in content if t not in self._vocab and t in self._known and t not in _FILLER
                    and t not in _cue_tokens()]
        return Query(question=q, folded=rewritten, fields=fields, content=content, locality=loc, code=code,
                     procedural=procedural, plan_like=plan_like, rule=rule, unknown=unknown, channel=channel,
                     place=place if not found_loc else "", foreign=foreign)

    def _cue_fields(self, text: str, words: set[str]) -> tuple[list[str], bool]:
        hits: list[tuple[int, str, bool]] = []
        masked = text
        for fld, rx, canon in _CUES.live(words):
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

    # ------------------------------------------------------------------ which records apply

    @staticmethod
    def _belongs(p: Procedure, key: str) -> bool:
        return bool(key) and key in (place_key(p.locality), place_key(p.province))

    @staticmethod
    def _general(p: Procedure) -> bool:
        """A record that applies everywhere: the national database's general rules (or a catalogue of no place)."""
        return p.scope == "national" or (not p.locality and not p.province)

    def _pool(self, locality: str | None) -> dict[str, list[Procedure]]:
        """Records that answer for `locality`: its own (commune catalogue, province decision or records) win,
        else the general national rule. Without a locality every record is a candidate."""
        if not locality:
            return self._groups
        k = place_key(locality)
        cached = self._pools.get(k)  # the records never change after loading: one pool per place
        if cached is not None:
            return cached
        out: dict[str, list[Procedure]] = {}
        for key, ps in self._groups.items():
            own = [p for p in ps if self._belongs(p, k)]
            sel = own or [p for p in ps if self._general(p)]
            if sel:
                out[key] = sel
        if len(self._pools) < 4096:
            self._pools[k] = out
        return out

    def _others(self, locality: str | None) -> dict[str, list[Procedure]]:
        """Records of other localities only (used when nothing that applies matches, with a note)."""
        if not locality:
            return {}
        k = place_key(locality)
        cached = self._other_pools.get(k)
        if cached is None:
            cached = {key: ps for key, ps in self._groups.items()
                      if not any(self._belongs(p, k) or self._general(p) for p in ps)}
            if len(self._other_pools) < 4096:
                self._other_pools[k] = cached
        return cached

    # ------------------------------------------------------------------ matching

    def _query_weights(self, query: Query) -> tuple[set[str], set[str], dict[str, float], float]:
        """(words, word pairs, word weights, total weight) of the question, as candidates() scores them; read once
        per question (candidates() over two pools and the bound ask for it)."""
        cached = query.__dict__.get("_weights")
        if cached is None:
            cached = query.__dict__["_weights"] = self._weights_of(query)
        return cached

    def _weights_of(self, query: Query) -> tuple[set[str], set[str], dict[str, float], float]:
        qu = set(query.content)
        qb = set(_bigrams(query.content)) | set(_bigrams(_tokens(query.folded)))
        idf = self._idf
        # every content word counts: one no name uses weighs as the rarest word, so a question about something
        # else ("giấy phép lái xe") is not explained by the words it shares with a name ("giấy phép")
        # A syllable some name has but that makes no name's word pair with its neighbours in the question is
        # context ("bố tôi mới mất": "bố" as in "bổ sung", "mới" as in "cấp mới") and weighs less.
        toks = query.content
        paired = {t for i, t in enumerate(toks) for b in (f"{toks[i - 1]}_{t}" if i else "",
                                                           f"{t}_{toks[i + 1]}" if i + 1 < len(toks) else "")
                  if b in self._bivocab}
        # (numbers are hours, ages, counts: codes are matched apart)
        w = {t: (self._idf_unknown if t not in self._vocab else idf.get(t, 0) * (1.0 if t in paired else 0.35))
             for t in qu if len(t) > 1 and not t.isdigit()}
        q_w = sum(w.values()) + 0.5 * sum(idf.get(b, 0) for b in qb if b in idf)
        return qu, qb, w, q_w

    def _q_cov_bound(self, query: Query) -> float:
        """The most of the question any procedure name or keyword could explain (its words and pairs that some
        name has): no candidate's q_cov exceeds it."""
        qu, qb, w, q_w = self._query_weights(query)
        if not q_w:
            return 0.0
        named = sum(w.get(t, 0) for t in qu if t in self._vocab) + 0.5 * sum(
            self._idf.get(b, 0) for b in qb if b in self._bivocab)
        return named / q_w

    def candidates(self, query: Query, pool: dict[str, list[Procedure]]) -> list[Candidate]:
        if query.code:
            hits = [(k, ps) for k, ps in pool.items() if any(p.code.startswith(query.code) for p in ps)]
            if hits:
                return [Candidate(k, [p for p in ps if p.code.startswith(query.code)], 1.0, 1.0, 1.0, True, True, True)
                        for k, ps in hits]
        qu, qb, w, q_w = self._query_weights(query)
        idf = self._idf
        # the question's rarest word pairs that some name has: a record that has none of them is not what it asks
        # about unless its name's head is all there ("đính chính giấy chứng nhận" is not "chứng thực bản sao từ bản
        # chính giấy tờ", which shares only the accidental pair "chính giấy"); pairs, not single syllables, since
        # one folded syllable collides too easily ("trạng" / "trang")
        weights = {b: idf.get(b, 0) for b in qb if b in self._bivocab and b not in _GENERIC_BI}
        top = max(weights.values(), default=0.0)
        rarest = {b for b, w in weights.items() if w >= top - 1e-9}
        out: list[Candidate] = []
        sharing = set().union(*(self._by_word.get(t, ()) for t in qu))
        for key, ps in pool.items():
            if key not in sharing:  # no word in common: _score would find nothing
                continue
            best: Candidate | None = None
            for sf in self._surfaces[key]:
                if qu.isdisjoint(sf.words):
                    continue
                c = self._score(key, ps, sf, qu, qb, q_w, w)
                if c is not None and rarest and rarest.isdisjoint(sf.pairs) and not (c.exact or c.head_full):
                    continue
                if c is not None and (best is None or (c.q_cov, c.n_cov) > (best.q_cov, best.n_cov)):
                    best = c
            if best is not None:
                out.append(best)
        out.sort(key=lambda c: (-c.score, -c.n_cov, len(c.key)))
        return out

    def _score(self, key: str, ps: list[Procedure], sf: "_Surface", qu: set, qb: set,
               q_w: float, w: dict[str, float]) -> Candidate | None:
        idf = self._idf
        mu = qu & sf.words
        mb = qb & sf.pairs
        # a filler-ish word counts only when a matched bigram carries it
        mu = {t for t in mu if t not in _FILLER or any(t in b.split("_") for b in mb)}
        if not mu:
            return None
        # enough to name a procedure: a distinctive word pair the name also has (scattered words are not: "đính
        # chính giấy chứng nhận" shares "chính", "giấy", "chứng" with "chứng thực bản sao từ bản chính giấy tờ"),
        # or, for a name of one pair, that pair
        distinct = any(b not in _GENERIC_BI for b in mb) or (sf.length <= 2 and sum(1 for t in mu if t not in
                                                                                   _GENERIC_UNI) >= 2)
        if not distinct:
            return None
        matched_q = sum(w.get(t, 0) for t in mu) + 0.5 * sum(idf.get(b, 0) for b in mb)
        matched = sum(idf.get(t, 0) for t in mu) + 0.5 * sum(idf.get(b, 0) for b in mb)
        q_cov = min(matched_q / q_w, 1.0) if q_w else 0.0
        n_cov = matched / sf.weight if sf.weight else 0.0
        via = sf.via
        head_full = all(t in qu for t in sf.head_need)
        if via == "name":
            exact = all(t in qu for t in sf.exact_need)
        else:  # a keyword is another name, but never outranks the procedure's own name on a tie
            head_full = head_full and sf.length >= 2
            exact = False
            n_cov *= 0.95
        score = 0.6 * q_cov + 0.4 * n_cov
        return Candidate(key, ps, score, q_cov, n_cov, head_full, distinct, exact, via, frozenset(mu | mb))

    def decide(self, cands: list[Candidate]) -> tuple[Candidate | None, list[Candidate]]:
        """(chosen, []) when the question identifies one procedure; (None, options) when it cannot.

        What the question says comes first (share of its words a name explains), then whether the name's
        distinctive head words are all in the question, then how much of the name the question covers; two
        candidates that tie on all three are offered as choices instead of guessing."""
        if not cands:
            return None, []
        ranked = sorted(cands, key=lambda c: (-round(c.q_cov / 0.05), not c.exact, not c.head_full, c.abolished,
                                              -c.n_cov, len(self._name_toks[c.key])))
        best = ranked[0]
        if len(ranked) == 1:
            return (best, []) if best.q_cov >= 0.45 or (best.head_full and best.q_cov >= 0.3) else (None, [best])
        close = [c for c in ranked[1:] if abs(c.q_cov - best.q_cov) < 0.05]
        if best.exact:
            rivals = [c for c in close if c.exact and abs(c.n_cov - best.n_cov) < 0.02]
        elif best.head_full:
            rivals = [c for c in close if c.head_full or best.n_cov - c.n_cov < 0.25]
        else:
            rivals = [c for c in close if best.n_cov - c.n_cov < 0.25]
        # a rival whose evidence is a strict part of the best one's ("Việt Nam cấp" vs "Việt Nam liên kết") is not one
        rivals = [c for c in rivals if not (c.matched < best.matched)]
        # a procedure in force is what is asked about, not its abolished namesake
        if rivals and not best.abolished and all(c.abolished for c in rivals):
            rivals = []
        if not rivals:
            return best, []
        # cannot tell: offer every candidate that explains the question as well (most specific first)
        return None, ([best] + sorted(close, key=lambda c: -c.n_cov))[:6]

    def match(self, question: str, locality: str | None = None) -> tuple[str | None, list[Candidate]]:
        """(intent, candidates): intent is the field asked ("documents", "time_limit", "fee", "where", ...,
        "overview", "rule"), "procedure_choice" when several candidates remain, or None when the question is not
        a procedure question."""
        r = self._resolve(question, locality)
        if not r.is_proc:
            return None, r.cands
        if r.chosen is None and r.options:
            return "procedure_choice", r.options
        return self._primary_field(r.q), ([r.chosen] if r.chosen else [])

    def _primary_field(self, q: Query) -> str:
        if "penalty" in q.fields:
            return "penalty"
        if q.rule:
            return "rule"
        return q.fields[0] if q.fields else "overview"

    def _is_procedure_question(self, q: Query, chosen: Candidate | None, options: list[Candidate]) -> bool:
        if q.code and chosen is not None:
            return True
        strong = chosen is not None and (chosen.head_full or chosen.n_cov >= 0.5)
        if q.plan_like:
            return bool(strong and chosen.n_cov >= 0.6 and chosen.q_cov >= 0.6)
        if chosen is not None:
            return q.procedural or strong or chosen.q_cov >= 0.7
        if options and self._offerable(options[0]):
            return q.procedural
        # nothing matched: a procedure question about something the catalogue lacks?
        return q.procedural and bool(q.unknown) and not q.plan_like

    @staticmethod
    def _offerable(best: Candidate) -> bool:
        """Choices are offered only when the best candidate explains the question well enough: most of its words,
        or half of them and a fair part of the name (not "giấy phép lái xe" for every "giấy phép …")."""
        return best.q_cov >= 0.6 or (best.q_cov >= 0.45 and best.n_cov >= 0.2)

    def _resolve(self, question: str, locality: str | None) -> _Resolved:
        q = self.analyze(question, locality)
        loc = q.locality or self.default_locality
        pool = self._pool(loc)
        cands = self.candidates(q, pool)
        chosen, options = self.decide(cands)
        variant = False
        if chosen is not None and not (chosen.exact or chosen.head_full or q.code) and chosen.n_cov < 0.3 \
                and q.foreign:
            # a name the question explains only in part and covers little of, while the question has words no record
            # uses: not a basis for another procedure's fee or time ("đăng ký biển số xe" is not "đăng ký biến động")
            chosen = None
        elif chosen is not None and not q.code and (self._asks_variant(q, chosen) or (
                len(q.foreign) >= 2 and chosen.q_cov < 0.6)):
            # a qualifier other names carry, or words no record knows weighing half the question ("… có yếu tố nước
            # ngoài" when no record is about it): another procedure, which these records do not have
            chosen, variant = None, True
        note = ""
        if chosen is None and loc and (q.code or self._q_cov_bound(q) >= 0.6 - 1e-9):
            # nothing that applies to this locality: another locality's record of the same procedure, said so
            # (only a name explaining 60% of the question is taken: skipped when no name could)
            others = self._others(loc)
            o_cands = self.candidates(q, others)
            o_chosen, o_options = self.decide(o_cands)
            if o_chosen is not None and o_chosen.q_cov >= 0.6 and (o_chosen.exact or o_chosen.head_full):
                whose = ", ".join(dict.fromkeys(p.locality or p.issuer for p in o_chosen.procedures))
                note = (f"Tôi chưa có hồ sơ thủ tục này của {loc}; thông tin dưới đây theo hồ sơ của {whose}, "
                        f"anh/chị nên kiểm tra lại tại Bộ phận Một cửa nơi mình cư trú.\n")
                cands, chosen, options = o_cands, o_chosen, []
        is_proc = self._is_procedure_question(q, chosen, options) or (variant and q.procedural)
        return _Resolved(q, loc, cands, chosen, options, is_proc, note)

    def _asks_variant(self, q: Query, c: Candidate) -> bool:
        """The question names, besides this procedure, a qualifier other procedures carry and this one does not
        ("kết hôn có yếu tố nước ngoài" when the records have only "Đăng ký kết hôn"): another procedure, which
        the records of this place do not have. Weighed by the rare word pairs on each side."""
        own = set(_bigrams(self._name_toks[c.key])) | {b for a in self._aliases.get(c.key, []) for b in _bigrams(a)}
        # the longest run of consecutive question word pairs that names have and this one does not: a qualifier is
        # a phrase of three syllables or more ("có yếu tố nước ngoài"), not a place or an office ("công an xã")
        run: list[str] = []
        best: list[str] = []
        for b in _bigrams(q.content):
            if b in self._bivocab and b not in own and b not in _GENERIC_BI:
                run.append(b)
                best = max(best, run, key=len)
            else:
                run = []
        matched = {b for b in c.matched if "_" in b and b not in _GENERIC_BI}
        w_extra = sum(self._idf.get(b, 0) for b in best)
        w_matched = sum(self._idf.get(b, 0) for b in matched)
        return len(best) >= 3 and w_extra > 1.5 * w_matched

    # ------------------------------------------------------------------ public answers

    def answer(self, question: str, locality: str | None = None) -> Answer | None:
        t0 = time.perf_counter()
        r = self._resolve(question, locality)
        if not r.is_proc:
            return None
        ans = self._build(r)
        ans.latency_ms = round((time.perf_counter() - t0) * 1000, 2)
        return ans

    def best(self, question: str, locality: str | None = None) -> ProcMatch | None:
        """The best-matching procedure with its evidence (None when no procedure shares a distinctive word with
        the question). The answer is built even when this answerer would not call it a procedure question, so
        the router can weigh it against the plan side."""
        t0 = time.perf_counter()
        r = self._resolve(question, locality)
        top = r.chosen or (r.options[0] if r.options else (r.cands[0] if r.cands else None))
        if top is None:
            if not r.is_proc:
                return None
            ans = self._build(r)
            return ProcMatch(None, "", "", 0.0, 0.0, CONTRACT_FIELD.get(self._primary_field(r.q), "overview"), False,
                             None, [], ans, r.q.procedural, True)
        ans = self._build(r) if (r.chosen or r.options) else self._not_found(r.q, r.loc)
        ans.latency_ms = round((time.perf_counter() - t0) * 1000, 2)
        fld = self._primary_field(r.q)
        p = self._pick(top.procedures, r.loc)[0] if r.chosen else None
        found = bool(p and self._value(p, fld, r.q)[0])
        loc_key = place_key(r.loc) if r.loc else ""
        loc_match = None if not r.loc else any(self._belongs(x, loc_key) for x in top.procedures)
        alts = [c for c in ([x for x in r.options if x is not top] or r.cands) if c is not top][:4]
        alternatives = [self._label(c.procedures[0]) for c in alts]
        return ProcMatch(procedure=p, name=top.procedures[0].name, code=top.procedures[0].code,
                         coverage=round(top.q_cov, 3), name_score=round(top.n_cov, 3),
                         field=CONTRACT_FIELD.get(fld, "overview"), field_found=found, locality_match=loc_match,
                         alternatives=alternatives, answer=ans, procedural=r.q.procedural,
                         is_procedure_question=r.is_proc, key=(p or top.procedures[0]).id)

    def _build(self, r: _Resolved) -> Answer:
        if r.chosen is None and not (r.options and self._offerable(r.options[0])):
            ans = self._not_found(r.q, r.loc)
        elif r.chosen is None:
            ans = self._choice(r.q, r.options, r.loc)
        else:
            ans = self._field_answer(r.q, r.chosen, r.loc)
        if r.note:
            ans.text = r.note + ans.text
        return ans

    # ------------------------------------------------------------------ refusals and choices

    def _where_to_ask(self, loc: str | None) -> str:
        place = f" của {loc}" if loc else " của xã/phường nơi anh/chị cư trú"
        return (f"Anh/chị vui lòng liên hệ Bộ phận Một cửa (Trung tâm Phục vụ hành chính công){place} "
                f"hoặc tra cứu trên {PORTAL}.")

    def _not_found(self, q: Query, loc: str | None) -> Answer:
        where = f" áp dụng cho {loc}" if loc else ""
        text = (f"Các danh mục và hồ sơ thủ tục hành chính{where} mà tôi có không có thủ tục anh/chị hỏi, nên tôi "
                f"không thể trả lời chính xác về giấy tờ, thời hạn hay lệ phí. " + self._where_to_ask(loc))
        return Answer(question=q.question, text=text, found=False, intent="procedure_not_found")

    @staticmethod
    def _label(p: Procedure) -> str:
        return _short(p.name) + (f" (mã {p.code})" if p.code else "")

    def _place_label(self, p: Procedure) -> str:
        if p.locality:
            return p.locality
        return "quy định chung" if p.origin == "national" else ""

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
                where = self._place_label(p)
                label = self._label(p) + (f" – {where}" if multi_loc and where else "")
                query = f"Thủ tục {p.name} {phrase}".strip() if phrase else f"Thủ tục {p.name}"
                choices.append(Choice(label=label, query=query, locality=p.locality or loc))
                lines.append(f"{n}. {label}")
        text = ("Câu hỏi của anh/chị có thể ứng với nhiều thủ tục. Anh/chị hỏi về thủ tục nào ạ?\n"
                + "\n".join(lines))
        return Answer(question=q.question, text=text, found=True, intent="procedure_choice", choices=choices)

    # ------------------------------------------------------------------ field answers

    def _pick(self, procs: list[Procedure], loc: str | None) -> list[Procedure]:
        """Records to answer from: the locality's own first, then the general rule."""
        if loc:
            k = place_key(loc)
            own = [p for p in procs if self._belongs(p, k)]
            if own:
                return own
            gen = [p for p in procs if self._general(p)]
            if gen:
                return gen
        return procs

    def _field_answer(self, q: Query, cand: Candidate, loc: str | None) -> Answer:
        procs = self._pick(cand.procedures, loc)
        fld = self._primary_field(q)
        fields = [fld] if fld in ("rule", "overview", "penalty") else \
            [f for f in q.fields if f in _FIELD_PHRASE and f != "penalty"][:3] or [fld]
        # several localities and the question did not say which: answer each (values differ) or once (same)
        if len(procs) > 1:
            values: dict[tuple, list[Procedure]] = {}
            for p in procs:
                v = tuple(self._value(p, f, q)[0] for f in fields)
                values.setdefault(self._strip_loc(v, p), []).append(p)
            procs = procs[:1] if len(values) == 1 else [ps[0] for ps in values.values()][:4]
        if procs[0].status == "abolished":
            return self._abolished(q, procs[0])
        parts: list[str] = []
        sources: list[Source] = []
        refs: list[ProcedureRef] = []
        found_any = False
        partial = not (cand.exact or cand.head_full or cand.n_cov >= 0.5 or q.code)
        for p in procs:
            title = f"“{p.name}”" + (f" (mã {p.code})" if p.code else "")
            where = self._place_label(p) if len(procs) > 1 else ""
            body: list[str] = []
            cited: list[str] = []  # sections of this record the answer rests on
            for f in fields:
                value, section, label = self._value(p, f, q)
                if value:
                    found_any = True
                    body.append(self._render(f, label, value, p, q, title))
                    cite = self._cite(p, section)
                    sources.append(Source(document=p.document, locality=p.locality, section=section, quote=value))
                    refs.append(ProcedureRef(code=p.code, name=p.name, locality=p.locality, field_asked=f,
                                             value=value, source=cite))
                    for sec in (section.split("; ") if section else [""]):
                        if sec not in cited:
                            cited.append(sec)
                else:
                    body.append(self._missing(p, f, title, q))
            scope = self._scope_note(p, fields, loc)
            if scope:
                body.append(scope)
            if cited:
                body.append("Nguồn: " + self._cite_many(p, cited) + ".")
            if fields == ["overview"] and found_any:
                body.append("Anh/chị có thể hỏi riêng về giấy tờ, thời hạn, lệ phí, nơi nộp, điều kiện hoặc căn "
                            "cứ pháp lý của thủ tục này.")
            parts.append((f"{where}:\n" if where else "") + "\n".join(body))
        text = "\n\n".join(parts)
        if partial and found_any:
            text = (f"Tôi không thấy thủ tục trùng khớp với câu hỏi; thủ tục gần nhất tôi có là "
                    f"“{procs[0].name}”.\n") + text
        intent = "procedure_" + {"time_limit": "time"}.get(fields[0], fields[0])
        return Answer(question=q.question, text=text, found=found_any, intent=intent, sources=sources,
                      procedures=refs)

    def _abolished(self, q: Query, p: Procedure) -> Answer:
        dec = p.decision or p.citation()
        text = (f"Thủ tục “{p.name}”" + (f" (mã {p.code})" if p.code else "") + f" đã bị bãi bỏ theo {dec}"
                + (f" ({p.status_note})" if p.status_note else "") + ", nên không còn thực hiện. "
                + self._where_to_ask(p.locality or None))
        section = p.sources.get("name", "")
        ref = ProcedureRef(code=p.code, name=p.name, locality=p.locality, field_asked="status", value="bãi bỏ",
                           source=self._cite(p, section))
        return Answer(question=q.question, text=text, found=True, intent="procedure_abolished",
                      sources=[Source(document=p.document, locality=p.locality, section=section,
                                      quote=p.status_note or p.name)], procedures=[ref])

    def _scope_note(self, p: Procedure, fields: list[str], loc: str | None) -> str:
        """Where the rule applies (said once; the source line then gives only the code and the decision)."""
        if p.origin == "national" and p.scope == "national":
            note = f"Đây là quy định chung trên {NATIONAL_DB}, áp dụng cho các xã, phường trên cả nước"
            if p.fee_set_by_province and any(f in ("fee", "overview") for f in fields):
                note += "; mức phí cụ thể do tỉnh quy định"
            return note + "."
        if p.origin == "national" and p.scope == "province":
            return (f"Đây là hồ sơ trên {NATIONAL_DB} do {p.issuer or p.locality} công bố, áp dụng tại "
                    f"{p.locality or p.province}.")
        return ""

    @staticmethod
    def _strip_loc(values: tuple, p: Procedure) -> tuple:
        k = locality_key(p.locality)
        return tuple(fold(v).replace(k, "") if k else fold(v) for v in values)

    @staticmethod
    def _cite(p: Procedure, section: str) -> str:
        dec = p.citation()
        if p.origin == "national":
            return f"{dec}, mục “{section}”" if section else dec
        return f"{dec}, {section}" if section else dec

    def _cite_many(self, p: Procedure, sections: list[str]) -> str:
        sections = [s for s in sections if s]
        if not sections:
            return p.citation()
        if p.origin == "national":
            # the database is named in the note above: here the code, the decision that published it, the sections
            prom = p.promulgation
            if p.scope == "province" and p.issuer and prom.endswith(f" của {p.issuer}"):
                prom = prom[: -len(f" của {p.issuer}")]
            return (f"mã {p.code}" + (f", công bố kèm {prom}" if prom else "") + "; mục "
                    + ", ".join(f"“{s}”" for s in sections))
        return "; ".join(self._cite(p, s) for s in sections)

    def _missing(self, p: Procedure, f: str, title: str, q: Query) -> str:
        label = {"where": "nơi nộp hồ sơ", "overview": "nội dung", "rule": "quy định anh/chị hỏi",
                 "validity": "thời hạn giá trị của kết quả", "penalty": "mức xử phạt",
                 "time_limit": "thời hạn giải quyết"}.get(f, FIELD_LABELS.get(f, f).lower())
        src = NATIONAL_DB if p.origin == "national" else p.citation()
        where = f"Hồ sơ thủ tục {title} trên {NATIONAL_DB}" if p.origin == "national" else \
            f"Hồ sơ thủ tục {title} ({src})"
        if p.listed_only and f in ("documents", "steps", "forms", "conditions", "result", "applicants"):
            return (f"{src} chỉ công bố danh mục thủ tục {title} (tên, thời hạn, phí, lệ phí, nơi thực hiện), không "
                    f"nêu {label}, nên tôi không nêu để tránh sai. " + self._where_to_ask(p.locality or None))
        if f == "penalty":
            return (f"{where} không nêu {label}; việc xử phạt vi phạm hành chính do văn bản khác quy định. "
                    + self._where_to_ask(p.locality or None))
        return f"{where} không ghi {label}, nên tôi không nêu để tránh sai. " + self._where_to_ask(p.locality or None)

    def _value(self, p: Procedure, f: str, q: Query) -> tuple[str, str, str]:
        """(quoted value, section, label) of a field; value "" when the record lacks it."""
        if f == "code":
            return p.code, p.sources.get("code", ""), "Mã thủ tục"
        if f == "where":
            return self._where(p, q)
        if f == "overview":
            return self._overview(p)
        if f == "rule":
            return self._rule(p, q)
        if f == "penalty":
            return self._sentences(p, r"xu phat|bi phat|phat tien|xu ly vi pham", "Quy định về xử phạt")
        if f == "validity":
            return self._sentences(p, r"co gia tri|gia tri su dung|hieu luc|thoi han (?:cua|su dung) (?:giay|ket qua)",
                                   "Giá trị, hiệu lực")
        if f == "time_limit":
            if p.time_limit:
                return p.time_limit, p.sources.get("time_limit", ""), FIELD_LABELS["time_limit"]
            facts = [x for x in p.facts if "thoi gian" in fold(x.get("label", ""))]
            if facts:
                text = "\n".join(f"{x['label']}: {x['text']}" for x in facts)
                return text, facts[0].get("source", ""), "Thời gian giải quyết theo quy trình nội bộ"
            return "", "", FIELD_LABELS["time_limit"]
        if f == "agency":
            value = p.agency
            return value, p.sources.get("agency", ""), FIELD_LABELS["agency"]
        if f == "applicants" and p.applicants and p.conditions and not _is_none(p.conditions):
            # "who may / must" is also in the conditions ("… thì người thực hiện khai báo là cha, mẹ …")
            return (f"{p.applicants}\n{FIELD_LABELS['conditions']}: {p.conditions}",
                    "; ".join(x for x in (p.sources.get("applicants", ""), p.sources.get("conditions", "")) if x),
                    FIELD_LABELS["applicants"])
        if f == "conditions" and not p.conditions and p.extra.get("Mô tả"):
            return p.extra["Mô tả"], "Mô tả", "Mô tả thủ tục"
        return p.text_of(f), p.sources.get(f, ""), FIELD_LABELS.get(f, f)

    def _where(self, p: Procedure, q: Query) -> tuple[str, str, str]:
        lines: list[str] = []
        keys: list[str] = []
        if p.receiving:
            lines.append("Nơi tiếp nhận hồ sơ: " + p.receiving)
            keys.append("receiving")
        if p.channel_details:
            for d in p.channel_details:
                # the sentence of the channel's description that says where / how (not its time)
                desc = next((x.strip(" -+") for x in re.split(r"(?<=[.;])\s+|\n", d["description"])
                             if re.search(r"\bnop\b|tiep nhan|cong dich vu|ung dung|vneid|buu chinh|truc tiep tai",
                                          fold(x)) and not re.search(r"\d+\s*(?:ngay|gio)\b|^thoi (?:han|gian)",
                                                                     fold(x).strip(" -+"))), "")
                line = d["label"] + (f": {_clip(desc, 240)}" if desc else "")
                if line not in lines and len(lines) < 6:
                    lines.append(line)
            keys.append("channels")
        else:
            for s in p.steps:
                fs = fold(s)
                if re.search(r"\bnop\b|\btiep nhan\b|\bxuat trinh\b|\bden\b.*\btai\b", fs) and re.search(
                        r"\btai\b|truc tuyen|buu chinh|dich vu cong|\bqua\b", fs):
                    lines.append(s)
                    if "steps" not in keys:
                        keys.append("steps")
            if p.channels.get("raw"):
                lines.append("Cách thức: " + p.channels["raw"])
                keys.append("channels")
        if p.agency:
            lines.append(p.agency if p.agency.startswith("Cơ quan") else "Cơ quan thực hiện: " + p.agency)
            keys.append("agency")
        if not lines:
            return "", "", "Nơi nộp hồ sơ"
        secs = [p.sources.get(k, "") for k in keys if p.sources.get(k)]
        if p.origin == "national":
            return "\n".join(lines), "; ".join(dict.fromkeys(secs)), "Nơi nộp hồ sơ, cách thức thực hiện"
        section = "; ".join(dict.fromkeys(s.split(" > ")[-1] for s in secs))
        base = secs[0].rsplit(" > ", 1)[0] if secs and " > " in secs[0] else ""
        return "\n".join(lines), (f"{base} > {section}" if base else section), "Nơi nộp hồ sơ, cách thức thực hiện"

    def _overview(self, p: Procedure) -> tuple[str, str, str]:
        lines = []
        if p.field:
            lines.append(f"Lĩnh vực: {p.field}")
        for f in ("time_limit", "fee"):
            v = p.text_of(f)
            if v:
                lines.append(f"{FIELD_LABELS[f]}: {_clip(v, 300)}")
        if p.documents:
            lines.append(f"{FIELD_LABELS['documents']}: " + "; ".join(_short(d["name"], 90) for d in p.documents[:6]))
        if p.channels.get("raw") and p.origin != "national":
            lines.append(f"{FIELD_LABELS['channels']}: {p.channels['raw']}")
        elif p.agency:
            lines.append(p.agency)
        if not lines:
            return "", "", "Tóm tắt"
        src = p.sources.get("name", "")
        if p.origin == "national":
            return "\n".join(lines), "Tóm tắt hồ sơ", "Tóm tắt"
        return "\n".join(lines), src.split(" > ")[0] + (" > " + p.name if " > " in src else ""), "Tóm tắt"

    def _texts(self, p: Procedure) -> list[tuple[str, str]]:
        out = [(f, p.text_of(f)) for f in ("applicants", "conditions", "steps", "documents", "result", "legal_basis",
                                            "time_limit")]
        out += [(f"extra:{k}", v) for k, v in p.extra.items() if isinstance(v, str)]
        out += [("channels", d.get("description", "")) for d in p.channel_details]
        return out

    def _sentences(self, p: Procedure, pattern: str, label: str) -> tuple[str, str, str]:
        found = []
        for f, text in self._texts(p):
            for sent in re.split(r"(?<=[.;])\s+|\n", text):
                if sent.strip() and re.search(pattern, fold(sent)) and sent.strip() not in found:
                    found.append(sent.strip())
                    src = p.sources.get(f, f.split(":", 1)[-1])
        if not found:
            return "", "", label
        return "\n".join(found[:3]), src, label

    def _rule(self, p: Procedure, q: Query) -> tuple[str, str, str]:
        """A duty / deadline the procedure text states ("... trong thời hạn 15 ngày kể từ ngày ..."): the sentences
        of the best field that state one, best first (at most two)."""
        qset = set(q.content) | set(_tokens(q.folded))
        found: list[tuple[int, int, str, str]] = []  # (overlap, order, sentence, field)
        for f, text in self._texts(p):
            if f == "time_limit":
                continue
            for sent in re.split(r"(?<=[.;])\s+|\n", text):
                fs = fold(sent)
                if not re.search(r"(?:thoi han|trong vong|cham nhat|ke tu|khong qua|truoc|sau)[^.;]*\d+\s*(?:ngay|thang|gio)"
                                 r"|\b(?:truoc|sau)\s+\d{1,2}\s*(?:gio|h)\b", fs):
                    continue
                found.append((len(qset & set(_tokens(fs))), len(found), sent.strip(), f))
        if not found:
            return "", "", "Quy định về thời hạn"
        top = max(found, key=lambda x: (x[0], -x[1]))
        # the matching sentence next to it in the same field goes with it (a rule and its exception)
        same = [x for x in found if x[3] == top[3] and abs(x[1] - top[1]) == 1][:1]
        picked = sorted([top] + same, key=lambda x: x[1])
        return "\n".join(x[2] for x in picked), p.sources.get(top[3], ""), "Theo hồ sơ thủ tục"

    # ------------------------------------------------------------------ rendering

    def _channel_first(self, lines: list[str], p: Procedure, q: Query) -> list[str]:
        """The line of the channel the question asks about first (fees and times differ per channel)."""
        if not q.channel or not p.channel_details:
            return lines
        labels = {d["label"] for d in p.channel_details if d["channel"] == q.channel}
        first = [ln for ln in lines if any(lb in ln for lb in labels)]
        return first + [ln for ln in lines if ln not in first] if first else lines

    def _documents_for(self, p: Procedure, q: Query) -> list[dict]:
        """The papers of the case the question names ("nhà ở riêng lẻ", "ly hôn"), else all of them."""
        groups = list(dict.fromkeys(d.get("group", "") for d in p.documents if d.get("group") not in ("", "count")))
        if len(groups) < 2:
            return p.documents
        qtoks = set(q.content) - _FILLER - _GENERIC_UNI
        scored = []
        for g in groups:
            gt = set(_tokens(fold(g))) - _FILLER - _GENERIC_UNI
            if gt:
                hit = sum(self._idf.get(t, self._idf_unknown) for t in qtoks & gt)
                scored.append((hit / sum(self._idf.get(t, self._idf_unknown) for t in gt), g))
        scored.sort(reverse=True)
        if not scored or scored[0][0] < 0.35 or (len(scored) > 1 and scored[1][0] >= scored[0][0] - 0.1):
            return p.documents  # no case named, or two equally: all the papers
        best = scored[0][1]
        generic = {g for g in groups if re.match(r"(?:giay to phai (?:nop|xuat trinh)|ho so gom)", fold(g))}
        return [d for d in p.documents if d.get("group") in ({best} | generic) or not d.get("group")]

    def _render(self, f: str, label: str, value: str, p: Procedure, q: Query, title: str) -> str:
        items = [v for v in value.split("\n") if v.strip()]
        if f == "documents" and p.documents:
            docs = self._documents_for(p, q)
            out = [f"Hồ sơ thủ tục {title} gồm:"]
            group = None
            for d in docs:
                if d.get("group") and d["group"] != group and d["group"] != "count":
                    group = d["group"]
                    out.append(f"{group}:")
                qty = d.get("quantity") or ""
                extra = [x for x in (qty if qty and qty.lower() not in d["name"].lower() else "",
                                     "bắt buộc" if d.get("required") else "") if x]
                out.append(f"- {d['name']}" + (f" ({', '.join(extra)})" if extra else ""))
            if len(docs) < len(p.documents):
                others = [g for g in dict.fromkeys(d.get("group") for d in p.documents if d not in docs) if g]
                out.append("(Trường hợp khác trong hồ sơ: " + "; ".join(others) + ".)")
            return "\n".join(out)
        if f == "fee":
            items = self._channel_first(items, p, q)
            if p.fee_exempt:
                out = f"Thủ tục {title} không mất phí, lệ phí" + (
                    " (hồ sơ ghi mức thu 0 đồng)." if p.origin == "national" else
                    f" (danh mục ghi: “{'; '.join(items).rstrip('.')}”).")
            elif len(items) == 1:
                out = f"Phí, lệ phí của thủ tục {title}: {items[0]}"
            else:
                out = f"Phí, lệ phí của thủ tục {title}:\n" + "\n".join(
                    i if i.startswith("-") else f"- {i}" for i in items if not i.startswith("(Hồ sơ ghi"))
            if p.fee_set_by_province and p.origin != "national":
                out += ("\n(Mức phí, lệ phí này do Hội đồng nhân dân tỉnh quy định; khi tỉnh ban hành nghị quyết mới "
                        "thì mức thu có thể thay đổi.)")
            return out
        if f == "time_limit":
            items = self._channel_first(items, p, q)
            head = f"Thời hạn giải quyết thủ tục {title}"
            if label != FIELD_LABELS["time_limit"]:
                head += f" ({label.lower()})"
            return f"{head}: {items[0]}" if len(items) == 1 else f"{head}:\n" + "\n".join(items)
        if f == "conditions" and _is_none(value):
            return f"Thủ tục {title} không đặt yêu cầu, điều kiện riêng (hồ sơ ghi: {value.strip()})."
        if f == "forms" and _is_none(value):
            return f"Thủ tục {title} không quy định mẫu đơn, tờ khai."
        if f == "code":
            return f"Mã của thủ tục “{p.name}” là {value}."
        if f in ("rule", "penalty", "validity"):
            head = f"Theo hồ sơ thủ tục {title}" if f == "rule" else f"{label} (thủ tục {title})"
            return f"{head}: “{value}”" if len(items) == 1 else f"{head}:\n" + "\n".join(f"- “{s}”" for s in items)
        heads = {"where": f"Nơi nộp hồ sơ thủ tục {title}", "legal_basis": f"Căn cứ pháp lý của thủ tục {title}",
                 "steps": f"Trình tự thực hiện thủ tục {title}", "result": f"Kết quả của thủ tục {title}",
                 "agency": f"Cơ quan giải quyết thủ tục {title}", "forms": f"Mẫu đơn, tờ khai của thủ tục {title}",
                 "applicants": f"Đối tượng thực hiện thủ tục {title}",
                 "conditions": f"Yêu cầu, điều kiện thực hiện thủ tục {title}",
                 "overview": f"Thủ tục {title}"}
        head = heads.get(f, f"{label} của thủ tục {title}")
        if f == "steps" and len(items) > 1 and p.origin != "national":
            return f"{head}:\n" + "\n".join(f"{i}. {s}" for i, s in enumerate(items, 1))
        if len(items) == 1:
            return f"{head}: {items[0]}"
        return f"{head}:\n" + "\n".join(s if re.match(r"^\s*(?:[-+•*]|\(?\w{1,3}[.)])\s", s) or f == "steps"
                                         else f"- {s}" for s in items)
