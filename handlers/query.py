"""One analysis of the question, done once: every answerer reads the `Query`, none re-folds the raw text.

Fields: normalized and folded text, diacritics restored (for the dense side), the place (`Scope`, with typo
tolerance), the plan it names by title, the period ("Quý IV/2026", "tháng 12", "năm nay"), what is asked
(lead, coordinators, deadline, a unit's duties, due list, a figure, a procedure field, document metadata,
small talk), a unit it names, the content words, and the sub-questions when one message holds several.

What is asked is read from phrases people actually type ("ai lo", "bên nào làm", "hạn chót", "bao lâu một lần",
"mấy ngày", "có mất tiền không"); whether a question is about a plan or a procedure is NOT decided here — the
router compares the evidence each source finds.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from index import fastre
from index.lexical import query_tokens
from index.textnorm import fold, normalize

from .scopes import Gazetteer, Scope

# (ask, folded pattern). Order matters only for display; a question may ask several things.
ASK_PATTERNS: list[tuple[str, str]] = [
    ("greeting", r"^(xin )?chao\b|^(hi|hello|alo|a lo)\b|^chao (ban|bot|em|anh|chi)\b"),
    ("thanks", r"\b(cam on|thank|thanks|tks|camon)\b"),
    ("help", r"\b(ban|bot|em) (lam duoc|giup duoc|biet) (gi|nhung gi)|\bban la ai\b|huong dan su dung|\bco the hoi (gi|nhung gi)\b"),
    ("meta_number", r"\bso (may|bao nhieu|hieu|ky hieu)\b|\bso (cua )?(ke hoach|quyet dinh|van ban)\b|ke hoach so (may|gi|nao)"),
    ("meta_date", r"\b(ban hanh|ky|phat hanh) (vao |tu )?(ngay|hom|thang|luc) nao\b|\bngay (ban hanh|ky)\b|\bban hanh (khi nao|bao gio|luc nao)\b"),
    ("meta_signer", r"\b(ai|nguoi nao|ong nao|ba nao|lanh dao nao) (da )?ky\b|\bnguoi ky\b|\bky (ban hanh )?(boi|la ai)\b|\bai la nguoi ky\b"),
    ("meta_issuer", r"\b(ai|co quan nao|don vi nao|cap nao) ban hanh\b|\bdo (ai|co quan nao) ban hanh\b"),
    ("coord", r"phoi hop|\bho tro (la )?(ai|don vi nao|ben nao)|cung (voi )?(ai|don vi nao)\b|\bai (cung )?tham gia\b"),
    ("lead", r"\bai (la nguoi |la don vi )?(chu tri|phu trach|tham muu|dam nhiem|dam trach|thuc hien|lo|lam|giu|chiu trach nhiem|dau moi|la dau moi|trien khai|to chuc|xay dung|lap|kiem tra|theo doi)\b"
             r"|\b(don vi|co quan|phong|ban|ben|cho|bo phan|cong chuc|so|ai) nao (se |duoc giao |co trach nhiem )?(chu tri|phu trach|tham muu|dam nhiem|thuc hien|lo|lam|lo viec|trien khai|to chuc|xay dung|lap|kiem tra|chiu trach nhiem|giu|dau moi)\b"
             r"|\bdo (ai|don vi nao|co quan nao|ben nao|phong nao|so nao) (chu tri|phu trach|thuc hien|dam nhiem|lam|lo)|\b(chu tri|phu trach|dau moi) (la |boi )?(ai|don vi nao|co quan nao|ben nao)"
             r"|\bgiao (cho )?(ai|don vi nao|co quan nao|so nao|ben nao)|\bai (lo|lam|phu trach) (viec|vu|khoan)\b|\bai chiu trach nhiem\b|\bben nao (lo|lam|phu trach)\b"
             r"|\b(ai|ben nao|don vi nao|co quan nao|so nao) (lo|lam|phu trach|chu tri)\b"),
    ("unit_tasks", r"\b(phu trach|lam|thuc hien|dam nhiem|duoc giao|dam trach|lo|chu tri|trien khai|phai trien khai|phai thuc hien|phai lam) (nhung |cac )?(nhiem vu|viec|noi dung|cong viec|mang|mang viec|phan viec|hoat dong|linh vuc) (nao|gi)"
                   r"|\b(co|gom|la) (nhung |cac )?(nhiem vu|viec|hoat dong|mang viec|trach nhiem) (gi|nao)\b"
                   r"|\bphu trach (nhung )?(gi|viec gi|mang gi)|\blam (nhung )?(gi|viec gi)\b|\bco nhiem vu gi|\bnhiem vu (cua|la gi)|\bco trach nhiem (gi|nhu the nao|the nao)"
                   r"|\btrach nhiem (cua|gi)|\bduoc giao (viec|nhiem vu) gi|\bduoc giao (nhung )?gi\b|\bphai lam (gi|nhung gi)|\bcan lam (gi|nhung gi)|\bgiao (cho )?.{3,60} (nhiem vu|viec) gi"),
    ("due_list", r"\b(nhung|cac) (nhiem vu|viec|cong viec|hoat dong) (nao|gi) (phai |se |can )?(xong|hoan thanh|den han|thuc hien|lam|co han|het han)|viec gi den han|\bden han\b|sap het han|qua han|\bhan trong\b"
                 r"|\b(nhiem vu|viec) (nao|gi) (thuc hien )?(hang|hang) (nam|quy|thang)|\bnhung viec (phai lam|can lam)"),
    ("deadline", r"\bhan (chot|cuoi|nop|hoan thanh|bao cao|la (khi|ngay|bao)|khi nao|ngay nao|thang nao|gi)\b|\b(het|toi|den) han\b|\bhan\s*$|\bkhi nao\b|\bbao gio\b|\b(ky|dot) nao\b|\bthoi han (bao nhieu|may) ngay\b|\bthoi gian (thuc hien|hoan thanh|ra sao|nhu the nao|la gi|nao|bao lau)|\bthoi han\b|\btien do\b"
                 r"|(ngay|thang|nam|quy) nao\b|\bluc nao\b|\bbao lau (mot|1) lan\b|\bmay lan\b|\bdinh ky\b|\btan suat\b|\btruoc ngay nao\b|\btu khi nao\b|\bmoc\b"),
    ("figure", r"\bbao nhieu\b|\bty le\b|\bti le\b|%|\bphan tram\b|\bchi tieu\b|\bmuc tieu\b|\btoi thieu\b|\bit nhat\b|\bmay (lan|don vi|xa|phuong|nhiem vu|chi tieu)\b|\bdat (muc|bao)\b|\bmuc (nao|bao)\b"),
    ("proc_docs", r"\bgiay to\b|\bho so (gom|can|nhung gi|gi|nop)|\bcan (nhung )?(gi|nhung gi)\b|\bcan mang\b|\bmang theo\b|\bchuan bi (gi|nhung gi)\b|\bthanh phan ho so\b|\bnop (nhung )?gi\b|\bcan co (gi|nhung gi)"),
    ("proc_time", r"\bmat bao lau\b|\bbao lau\b|\bmay ngay\b|\bbao nhieu ngay\b|\bthoi gian giai quyet\b|\bthoi han giai quyet\b|\bkhi nao (co|nhan duoc) ket qua\b|\blau (khong|ko)\b|\bmat may\b"),
    ("proc_fee", r"\ble phi\b|(?<!kinh )\bphi\b(?! (hop|pham))|\bbao nhieu tien\b|\bmat tien\b|\btien (khong|ko)\b|\bton (bao nhieu|tien|phi)\b|\bmuc thu\b|\bchi phi\b|\bmien phi\b|\bdong tien\b|\bnop tien\b"),
    ("proc_where", r"\b(o|tai) dau\b|\bnop (o|tai) (dau|cho nao|noi nao|co quan nao)|\bcho nao\b|\bnoi nao\b|\bden dau\b|\bco quan nao (giai quyet|tiep nhan|cap)\b|\bnop truc tuyen\b|\bnop online\b"),
    ("proc_cond", r"\bdieu kien\b|\bco duoc (khong|ko)\b|\bduoc (khong|ko)\b|\bai (duoc|co the) (lam|dang ky|xin|nop)\b|\bdoi tuong\b|\byeu cau\b|\bbao nhieu tuoi\b|\bmay tuoi\b"),
    ("proc_validity", r"\bgia tri (bao lau|trong bao lau|den khi nao)\b|\bdung duoc bao lau\b|\bhieu luc\b|\bhan su dung\b|\bco thoi han\b"),
    ("proc_code", r"\bma (thu tuc|tthc|so|ho so)\b|\bma (la )?gi\b|\bma bao nhieu\b"),
    ("proc_result", r"\bnhan duoc (gi|cai gi)\b|\bket qua (la gi|nhan duoc)\b|\bduoc cap (gi|giay gi)\b"),
    ("proc_legal", r"\bcan cu (phap ly|nao)\b|\b(luat|nghi dinh|thong tu|van ban) nao (quy dinh)?\b|\btheo quy dinh nao\b"),
    ("proc_steps", r"\b(lam|thuc hien) (the nao|nhu the nao|ra sao)\b|\bcac buoc\b|\bquy trinh\b|\btrinh tu\b|\bthu tuc (the nao|ra sao)\b|\bphai lam gi\b|\bcach (lam|xin|dang ky)\b"),
]
_ASK_RX = [(a, fastre.any_of(p)) for a, p in ASK_PATTERNS]
PROC_ASKS = {"proc_docs", "proc_time", "proc_fee", "proc_where", "proc_cond", "proc_validity", "proc_code",
             "proc_result", "proc_legal", "proc_steps"}
META_ASKS = {"meta_number", "meta_date", "meta_signer", "meta_issuer"}
SMALLTALK = {"greeting", "thanks", "help"}

# Words that carry the question's form, not its topic (removed from the content words).
_FORM = re.compile(
    r"\b(xin hoi|cho (em|toi|minh|chau|tui|anh|chi)? ?hoi|cho biet|vui long|lam on|a|ah|vay|nhe|nha|nhi|oi|"
    r"ban oi|bot oi|ad oi|ad|admin|the|thi|la|ai|gi|nao|nhung|cac|se|duoc|co|khong|ko|k|hay|cua|cho|voi|"
    r"trong|tai|o|ve|do|ra sao|nhu the nao|the nao|khi nao|bao gio|bao lau|bao nhieu|may|dau|ben|cho nao|"
    r"chu tri|phoi hop|phu trach|tham muu|dam nhiem|thuc hien|lo|lam|giu|han chot|han|thoi han|thoi gian|"
    r"nhiem vu|viec|cong viec|ke hoach|kh|cchc|theo|giao|chiu trach nhiem|so nao|"
    r"dinh ky|tan suat|mot lan|1 lan|em|minh|toi|anh|chi|"
    r"muon|can|phai|nhe|duoc khong|co phai|gom|gom nhung|la ai|la gi|ba|ong|mang|mang viec|linh vuc|hoat dong nao)\b")


def content_tokens(text: str) -> list[str]:
    """Lexical tokens of the topic: syllables and bigrams of the question minus those made only of form words.
    Removing whole tokens (not words from the text) keeps bigrams such as "co_quan" or "dung_han" whose parts
    are form words on their own."""
    toks = query_tokens(text) if text else []
    out = []
    for t in toks:
        parts = t.split("_")
        if all(_is_form_word(p) for p in parts):
            continue
        if len(parts) == 2 and _is_form_phrase(" ".join(parts)):
            continue
        out.append(t)
    return out


def _matcher(rx: re.Pattern):
    """`rx.fullmatch` as a set lookup when the pattern's language is a small finite set (a list of words)."""
    words = None if rx.flags & re.IGNORECASE else fastre.finite_language(rx.pattern)
    return words.__contains__ if words is not None else (lambda s: rx.fullmatch(s) is not None)


_FORM_WORDS = re.compile(
    r"a|ah|vay|nhe|nha|nhi|oi|the|thi|la|ai|gi|nao|nhung|cac|se|duoc|co|khong|ko|k|hay|cua|cho|voi|trong|tai|o|"
    r"ve|do|ra|sao|khi|bao|gio|lau|nhieu|may|dau|ben|lo|lam|giu|han|chot|em|minh|toi|anh|chi|muon|can|phai|gom|"
    r"ba|ong|mot|1|lan|hoi|xin|biet|vui|long|on|ad|bot|ban|nguoi|chu|tri|phoi|hop|phu|trach|tham|muu|dam|nhiem|"
    r"thuc|hien|viec|giao|chiu|dinh|ky|tan|suat|mang|ke|hoach|kh|cchc|theo|nhu|tra|loi")
_is_form_word = _matcher(_FORM_WORDS)
_is_form_phrase = _matcher(_FORM)


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    label: str
    year_given: bool  # False for "tháng 12": the year is chosen later, against the plans' periods
    month: int | None = None
    quarter: int | None = None


@dataclass
class Query:
    raw: str
    text: str  # normalized for display and matching (NFC, one tone placement, spaces)
    folded: str
    restored: str = ""  # the dense side's text (diacritics restored), filled on demand by QueryAnalyzer.dense_text
    scope: Scope | None = None
    scope_span: tuple[int, int] | None = None
    doc_ids: list[str] = field(default_factory=list)  # plans the question names by title
    period: Period | None = None
    asks: list[str] = field(default_factory=list)
    unit: tuple[str, str] | None = None  # (display name, key) of a unit named in the question
    content: str = ""  # folded content words
    tokens: list[str] = field(default_factory=list)  # lexical query tokens of the content
    parts: list["Query"] = field(default_factory=list)  # several questions in one message
    code: str = ""  # a procedure code written in the question ("1.004222")
    unit_mentioned: bool = False  # the question names something that looks like a unit
    quantity: bool = False  # a count, share or amount is asked ("bao nhiêu", "tỷ lệ", "%")
    unit_phrase: str = ""  # the unit the question names, folded, as typed ("phong tu phap")
    measure: str = ""  # what is counted, folded ("nguoi", "ty", "%"), "" when the question does not say

    def asks_any(self, *names: str) -> bool:
        return any(a in self.asks for a in names)

    @property
    def smalltalk(self) -> bool:
        return bool(self.asks) and all(a in SMALLTALK for a in self.asks)


# ----------------------------------------------------------------------------------------------- pieces

# A count, a share or an amount is asked: only a source that states that number can answer.
_QUANTITY = re.compile(r"\bbao nhieu\b(?! lan)|\bty le\b|\bti le\b|%|\bphan tram\b|\bmay (nguoi|xa|phuong|ho|don vi|chi tieu)\b")
_MEASURE = re.compile(r"\b(?:bao nhieu|may)\s+(%|phan tram|[a-z]+)")
_NOT_MEASURE = {"la", "a", "vay", "the", "nhi", "nhe", "so", "ca", "khong", "ko", "con", "trong", "tai", "o", "cho", "de",
                "va", "moi", "nam", "thang"}


def detect_quantity(folded: str) -> tuple[bool, str]:
    """(is a quantity asked, the measure word after "bao nhiêu"/"mấy", folded, or "")."""
    if not _QUANTITY.search(folded):
        return False, ""
    m = _MEASURE.search(folded)
    measure = m.group(1) if m else ""
    if measure == "phan tram" or (not measure and re.search(r"%|\bphan tram\b", folded)) or re.search(
            r"\bchiem (khoang )?(bao nhieu|may)\b", folded):  # "chiếm bao nhiêu vốn": a share of it
        measure = "%"
    return True, ("" if measure in _NOT_MEASURE else measure)


_LIST = fastre.compile(r"\b(nhung|cac) (nhiem vu|viec|cong viec|hoat dong|mang viec|noi dung) (nao|gi)\b")
# A unit named in the question: a head noun and a capitalised name ("Phòng Tư pháp"), or the level it serves
# ("Công an tỉnh", "Văn phòng xã").
_ORG_MENTION = re.compile(r"\b(Sở|Phòng|Văn phòng|Công an|Ban|Trung tâm|Bộ Chỉ huy|Công chức|Đài|Chi cục|Tỉnh đoàn)\s+"
                          r"(?:[A-ZĐÀ-Ỹ]|(tỉnh|thành phố|huyện|quận|xã|phường|thị xã|thị trấn)\b)")
_BY_TIME = fastre.compile(r"\bhang (nam|quy|thang)\b|\bthuong xuyen\b|\bkhi co\b|\b(quy|q) ?(i|ii|iii|iv|[1-4])\b|"
                      r"\bthang \d|\bnam \d{4}|\bden han\b|\bhan\b|\b(6|sau) thang\b|\bnam nay\b|\bthang nay\b")


_HOW_OFTEN = fastre.compile(r"\bbao lau (mot|1) lan\b|\b(ky|dot) nao\b")


def detect_asks(folded: str) -> list[str]:
    out = [a for a, rx in _ASK_RX if rx.test(folded)]
    if "proc_time" in out and _HOW_OFTEN.search(folded):
        out.remove("proc_time")  # how often: a plan's frequency, not a procedure's duration
    # "Những nhiệm vụ nào … hằng năm / quý IV / khi có hướng dẫn": a list by time.
    if _LIST.search(folded) and _BY_TIME.search(folded) and "due_list" not in out:
        out.append("due_list")
    if "due_list" in out and "unit_tasks" in out:
        out.remove("unit_tasks")
    # Small talk only when the message is short and asks nothing else.
    if any(a in SMALLTALK for a in out) and (len(folded.split()) > 12 or any(a not in SMALLTALK for a in out)):
        out = [a for a in out if a not in SMALLTALK]
    return out


_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}


def _month_end(y: int, m: int) -> date:
    return date(y + (m == 12), m % 12 + 1, 1) - timedelta(days=1)


# the period patterns, compiled once with their substring pre-test (most questions name no period)
_PERIOD_RX = [fastre.compile(p) for p in (
    r"\b(?:quy|q)\s*(iv|iii|ii|i|[1-4])\b(?:\s*(?:/|-|nam)\s*(\d{4}))?",
    r"\bquy (nay|hien tai)\b",
    r"\bquy (toi|sau)\b",
    r"\b(6|sau) thang (dau|cuoi) (?:nam\s*)?(\d{4})?",
    r"\bthang (\d{1,2})\b(?:\s*(?:/|-|nam)\s*(\d{4}))?",
    r"\b\d+ thang\b",
    r"\bthang (nay|hien tai)\b",
    r"\bthang (toi|sau)\b",
    r"\btuan (toi|sau)\b",
    r"\btuan nay\b",
    r"\bnam nay\b",
    r"\bnam (\d{4})\b",
)]


def detect_period(folded: str, today: date) -> Period | None:
    f = re.sub(r"\bqui\b", "quy", folded)
    m = _PERIOD_RX[0].search(f)
    if m:
        q = _ROMAN.get(m.group(1)) or int(m.group(1))
        y = int(m.group(2)) if m.group(2) else today.year
        return Period(date(y, 3 * q - 2, 1), _month_end(y, 3 * q), f"quý {q}/{y}", bool(m.group(2)), quarter=q)
    if _PERIOD_RX[1].search(f):
        q = (today.month - 1) // 3 + 1
        return Period(date(today.year, 3 * q - 2, 1), _month_end(today.year, 3 * q), f"quý {q}/{today.year}", True, quarter=q)
    if _PERIOD_RX[2].search(f):
        q, y = (today.month - 1) // 3 + 2, today.year
        if q == 5:
            q, y = 1, y + 1
        return Period(date(y, 3 * q - 2, 1), _month_end(y, 3 * q), f"quý {q}/{y}", True, quarter=q)
    m = _PERIOD_RX[3].search(f)
    if m:
        y = int(m.group(3)) if m.group(3) else today.year
        lo, hi = (date(y, 1, 1), date(y, 6, 30)) if m.group(2) == "dau" else (date(y, 7, 1), date(y, 12, 31))
        return Period(lo, hi, f"6 tháng {m.group(2).replace('dau', 'đầu').replace('cuoi', 'cuối')} năm {y}", bool(m.group(3)))
    m = _PERIOD_RX[4].search(f)
    if m and 1 <= int(m.group(1)) <= 12 and not _PERIOD_RX[5].search(f[max(0, m.start() - 4): m.start() + 7]):
        mo = int(m.group(1))
        y = int(m.group(2)) if m.group(2) else today.year
        return Period(date(y, mo, 1), _month_end(y, mo), f"tháng {mo}/{y}", bool(m.group(2)), month=mo)
    if _PERIOD_RX[6].search(f):
        return Period(date(today.year, today.month, 1), _month_end(today.year, today.month), "tháng này", True,
                      month=today.month)
    if _PERIOD_RX[7].search(f):
        y, mo = today.year + (today.month == 12), today.month % 12 + 1
        return Period(date(y, mo, 1), _month_end(y, mo), "tháng tới", True, month=mo)
    if _PERIOD_RX[8].search(f):
        start = today + timedelta(days=7 - today.weekday())
        return Period(start, start + timedelta(days=6), "tuần tới", True)
    if _PERIOD_RX[9].search(f):
        start = today - timedelta(days=today.weekday())
        return Period(start, start + timedelta(days=6), "tuần này", True)
    if _PERIOD_RX[10].search(f):
        return Period(date(today.year, 1, 1), date(today.year, 12, 31), f"năm {today.year}", True)
    m = _PERIOD_RX[11].search(f)
    if m:
        y = int(m.group(1))
        return Period(date(y, 1, 1), date(y, 12, 31), f"năm {y}", True)
    return None


_CODE = re.compile(r"\b(\d\.\d{6})\b")
# "Kế hoạch 308", "QĐ số 4385", "308/KH-UBND": the number of a document the question names
_DOC_NUMBER = re.compile(r"\b(?:ke hoach|quyet dinh|qd|kh|van ban|so)\s+(?:so\s+)?(\d{1,6})\b|\b(\d{1,6})\s*/\s*(?:kh|qd)\b")
LIST_ASK = re.compile(r"\b(nhung|cac) \w+( \w+)? (nao|gi)\b")


def split_parts(text: str) -> list[str]:
    """Several questions in one message: split after '?' (or on new lines / ';'), and on ', còn …' / ', và …'
    when both sides ask something of their own; a single question is returned whole."""
    pieces = [p.strip() for p in re.split(r"\?\s+|\n+|;\s+(?=\S)", text) if p.strip()]
    out: list[str] = []
    for p in pieces:
        m = re.search(r",\s+(?:còn|và|với lại|thêm nữa)\s+(?=\S)", p)
        if m:
            left, right = p[: m.start()], p[m.end():]
            if detect_asks(fold(left)) and detect_asks(fold(right)) and len(right.split()) >= 3:
                out.extend([left, right])
                continue
        out.append(p)
    good = [p for p in out if len(p.split()) >= 3]
    return good if len(good) >= 2 else [text]


# ----------------------------------------------------------------------------------------------- analyzer

class Analyzer:
    """Builds `Query` objects against one index (its places, plans, units and restorer)."""

    def __init__(self, gazetteer: Gazetteer, restorer=None, titles: dict[str, tuple[str, str]] | None = None,
                 find_unit=None, numbers: dict[str, str] | None = None):
        self.gazetteer = gazetteer
        self.restorer = restorer
        self.titles = titles or {}  # doc_id -> (place, title)
        # doc_id -> the leading number of its "Số: 308/KH-UBND" ("308"), to find "Kế hoạch 308", "QĐ 4385"
        self.numbers = {d: re.match(r"\d+", n).group(0) for d, n in (numbers or {}).items() if n and re.match(r"\d+", n)}
        self._by_number: dict[str, list[str]] = {}
        for d, n in self.numbers.items():
            self._by_number.setdefault(n, []).append(d)
        self._title_bigrams = {d: _bigrams(fold(t)) for d, (_, t) in self.titles.items()}
        # bigram -> plans whose title has it (in title order): a question is compared with the titles it shares a
        # word pair with, not with every plan
        self._title_order = {d: i for i, d in enumerate(self.titles)}
        self._titles_by_bigram: dict[str, list[str]] = {}
        for d, bs in self._title_bigrams.items():
            for b in bs:
                self._titles_by_bigram.setdefault(b, []).append(d)
        self.find_unit = find_unit  # (folded question, place) -> (name, key) | None

    def analyze(self, raw: str, locality: str | None = None, today: date | None = None) -> Query:
        today = today or date.today()
        text = normalize(raw or "")
        parts = split_parts(text)
        q = self._one(text, locality, today)
        if len(parts) > 1:
            subs = [self._one(p, locality, today) for p in parts]
            for s in subs:  # "Bình Giang: ai chủ trì X? hạn khi nào?" — the place carries over
                if s.scope is None and q.scope is not None:
                    s.scope, s.doc_ids = q.scope, s.doc_ids or q.doc_ids
            q.parts = subs
        return q

    def _one(self, text: str, locality: str | None, today: date) -> Query:
        folded = fold(text)
        q = Query(raw=text, text=text, folded=folded)
        found = self.gazetteer.find(folded, text) if self.gazetteer else None
        if found:
            q.scope, q.scope_span = found
        elif locality:
            q.scope = Scope(locality, locality, "chat")
        q.asks = detect_asks(folded)
        q.period = detect_period(folded, today)
        m = _CODE.search(folded)
        q.code = m.group(1) if m else ""
        q.doc_ids = self._named_docs(folded, q.scope)
        if self.find_unit is not None:
            q.unit = self.find_unit(folded, q.scope.place if q.scope else None)
        mention = _ORG_MENTION.search(text)
        q.unit_mentioned = bool(mention)
        if mention:  # the head and the two words after it; the head and its level ("cong an tinh") when one follows
            extra = len(mention.group(2).split()) if mention.group(2) else 2
            q.unit_phrase = " ".join(re.findall(r"[a-z0-9]+", fold(text[mention.start():]))[:len(mention.group(1).split()) + extra])
        q.quantity, q.measure = detect_quantity(folded)
        if q.unit is not None and _LIST.search(folded) and "unit_tasks" not in q.asks and not any(
                a in q.asks for a in ("lead", "coord")):
            q.asks.append("unit_tasks")  # "Sở X … những nhiệm vụ gì / hoạt động nào"
        if q.unit is not None and "unit_tasks" in q.asks and "due_list" in q.asks:
            q.asks.remove("due_list")
        q.content = self._content(folded, q)
        q.tokens = content_tokens(q.content)
        return q

    def dense_text(self, q: Query) -> str:
        """The text the dense side embeds: the question with its diacritics restored when typed without them.
        Restored on demand (most answers never embed the question) and kept on the query."""
        if not q.restored:
            typed = q.text
            plain = self.restorer is not None and fold(typed) == typed.lower().replace("đ", "d")
            q.restored = self.restorer.restore(typed) if plain else typed
        return q.restored

    def _content(self, folded: str, q: Query) -> str:
        """The question without its place (and the place's type word): the text its content tokens come from."""
        toks = re.findall(r"[a-z0-9%./]+", folded)
        if q.scope_span:
            a, b = q.scope_span
            # the place and its type word ("tỉnh", "thành phố", "TP", "xã" …) are not the topic
            while a > 0 and toks[a - 1] in ("tinh", "tp", "pho", "thanh", "xa", "phuong", "huyen", "quan", "tran", "thi"):
                a -= 1
            toks = toks[:a] + toks[b:]
        return " ".join(toks)


    def _named_docs(self, folded: str, scope: Scope | None) -> list[str]:
        """Plans the question names by their number ("Kế hoạch 308", "QĐ 4385/QĐ-BVHTTDL") or by their title
        ("kế hoạch đổi mới công nghệ"), within its place."""
        named = {m.group(1) or m.group(2) for m in _DOC_NUMBER.finditer(folded)}
        by_number = [d for n in named for d in self._by_number.get(n, ())]
        if by_number:
            return by_number
        qb = _bigrams(folded)
        shared: dict[str, int] = {}
        for b in qb:
            for doc in self._titles_by_bigram.get(b, ()):
                shared[doc] = shared.get(doc, 0) + 1
        scored = []
        for doc in sorted((d for d, n in shared.items() if n >= 2), key=self._title_order.__getitem__):
            place = self.titles[doc][0]
            if scope is not None and scope.how != "chat" and fold(place) != fold(scope.place):
                continue
            scored.append((shared[doc], doc))
        if not scored:
            return []
        top = max(s for s, _ in scored)
        return [d for s, d in scored if s == top]


_GENERIC_BIGRAMS = {"ke hoach", "thuc hien", "trien khai", "tren dia", "dia ban", "giai doan", "den nam",
                    "uy ban", "ban nhan", "nhan dan", "to chuc", "cua uy", "ve viec", "ban hanh"}


def _bigrams(folded: str) -> set[str]:
    toks = re.findall(r"[a-z0-9]+", folded)
    return {f"{a} {b}" for a, b in zip(toks, toks[1:])} - _GENERIC_BIGRAMS


def with_scope(q: Query, scope: Scope | None) -> Query:
    return replace(q, scope=scope)
