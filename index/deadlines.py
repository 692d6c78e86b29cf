"""Vietnamese deadline phrases ("Thời gian hoàn thành") -> normalized deadlines, and their due dates.

Pure functions, no I/O. Matching runs on ``index.textnorm.fold`` output, so case, diacritics (or their
absence) and old/new tone placement ("hoá"/"hóa") never change the result.

Kinds
-----
- ``date``        an explicit day: "Trước ngày 15/3/2026", "ngày 15 tháng 3 năm 2026", "31/12/2026".
- ``period_end``  due at the end of a named period: "Tháng 02/2026", "Quý IV/2026", "6 tháng đầu năm 2026",
                  "năm 2025", "giai đoạn 2026-2030" (``start`` = first day of the period).
- ``recurring``   "Hàng tháng" / "Hàng quý" / "Hằng năm" / "Định kỳ" (``recurrence`` monthly | quarterly |
                  semiannual | yearly | periodic), optionally with a ``day_rule`` such as
                  {"day": 15, "month_of_quarter": 3} for "trước ngày 15 của tháng cuối quý". ``start``/``until``
                  bound the recurrence (the plan period, when known); ``due`` is the first occurrence in it.
- ``ongoing``     "Thường xuyên", "Thường xuyên, liên tục", "Hàng ngày".
- ``conditional`` timing set by something outside the plan: "Khi có quy định, hướng dẫn của …", "Khi có văn
                  bản chỉ đạo", and also every "Theo …" phrase without a date ("Theo Chương trình công tác đã
                  phê duyệt", "Theo quy định", "Theo lộ trình", "Theo văn bản chỉ đạo của tỉnh"). Why conditional
                  and not unspecified: these phrases *do* name where the date comes from (a work programme, a
                  regulation, a roadmap), so the deadline exists but is external — exactly like "khi có hướng
                  dẫn". Keeping them in one kind keeps the ``condition`` text (shown in digests, and a hint for
                  the admin who pins a date with /dathan). ``unspecified`` is kept for "no timing information we
                  can use": empty cells, unparseable text, or a day/month whose year is unknown.
- ``unspecified`` nothing usable. A day/month without a known year is kept in ``day_rule`` ({"day", "month"})
                  but ``due`` stays None: a date is never invented.

``occurrences(deadline, start, end)`` expands a deadline into the concrete due dates inside a window.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from .textnorm import fold, normalize

KINDS = ("date", "period_end", "recurring", "ongoing", "conditional", "unspecified")
RECURRENCES = ("monthly", "quarterly", "semiannual", "yearly", "periodic")


@dataclass(frozen=True)
class Deadline:
    text: str
    kind: str = "unspecified"
    due: date | None = None  # the (first) concrete due date, when there is one
    start: date | None = None  # start of the period (period_end) / of the recurrence window (recurring)
    until: date | None = None  # end of the recurrence window (recurring; the plan period end when known)
    recurrence: str | None = None  # monthly | quarterly | semiannual | yearly | periodic
    day_rule: dict | None = None  # {"day", "month"} / {"day", "month_of_quarter", "next_period"} / {"day"}
    condition: str | None = None
    dues: list[date] = field(default_factory=list)  # every explicit due date, sorted ("Quý I, II/2026")

    __hash__ = None  # type: ignore[assignment]  (holds a dict and a list)

    def to_dict(self) -> dict:
        iso = lambda d: d.isoformat() if d else None  # noqa: E731
        return {
            "text": self.text,
            "kind": self.kind,
            "due": iso(self.due),
            "start": iso(self.start),
            "until": iso(self.until),
            "recurrence": self.recurrence,
            "day_rule": dict(self.day_rule) if self.day_rule else None,
            "condition": self.condition,
            "dues": [d.isoformat() for d in self.dues],
        }

    @classmethod
    def from_dict(cls, d: dict | None) -> "Deadline":
        """Inverse of ``to_dict`` (tolerant of missing keys and of ``date`` objects)."""
        d = d or {}

        def day(v):
            if not v:
                return None
            if isinstance(v, date):
                return v
            try:
                return date.fromisoformat(str(v)[:10])
            except ValueError:
                return None

        kind = d.get("kind") if d.get("kind") in KINDS else "unspecified"
        return cls(
            text=d.get("text") or "",
            kind=kind,
            due=day(d.get("due")),
            start=day(d.get("start")),
            until=day(d.get("until")),
            recurrence=d.get("recurrence") or None,
            day_rule=dict(d["day_rule"]) if d.get("day_rule") else None,
            condition=d.get("condition") or None,
            dues=[x for x in (day(v) for v in d.get("dues") or []) if x],
        )


# ----------------------------------------------------------------------------------------------- helpers

def month_end(y: int, m: int) -> date:
    return date(y, m, calendar.monthrange(y, m)[1])


def quarter_end(y: int, q: int) -> date:
    return month_end(y, 3 * q)


def _clamped(y: int, m: int, d: int) -> date:
    while m > 12:
        y, m = y + 1, m - 12
    return date(y, m, min(max(d, 1), calendar.monthrange(y, m)[1]))


def _safe_date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_Q = r"(?:iv|iii|ii|i|[1-4])(?![\w])"
_YEAR = r"((?:19|20)\d{2})(?!\d)"
_SEP = r"\s*(?:,|;|&|va|và|-|\+)\s*"

_RE_FULL_NUM = re.compile(r"(?<![\d/.])(\d{1,2})\s*([/.\-])\s*(\d{1,2})\s*\2\s*" + _YEAR)
_RE_FULL_WORDS = re.compile(r"\bngay\s+(\d{1,2})\s+thang\s+(\d{1,2})\s*[,.]?\s*nam\s+" + _YEAR)
_RE_HALF = re.compile(
    r"\b(?:(\d{1,2}|sau|chin|ba)\s+thang|(nua))\s+(dau|cuoi)(?:\s+(?:cua\s+)?nam)?(?:\s*(?:/|-|,)?\s*(?:nam\s+)?"
    + _YEAR + r")?"
)
_RE_QUARTERS = re.compile(
    r"\bquy\s+(" + _Q + r"(?:" + _SEP + r"(?:quy\s+)?" + _Q + r")*)(?:\s*(?:/|-|,)?\s*(?:nam\s+)?" + _YEAR + r")?"
)
_RE_MONTHS = re.compile(
    r"\bthang\s+(\d{1,2}(?:" + _SEP + r"(?:thang\s+)?\d{1,2})*)(?!\s*[/.\-]\s*\d{1,2}\s*[/.\-])"
    r"(?:\s*(?:/|-|\.|,)?\s*(?:nam\s+)?" + _YEAR + r")?(?!\s*/)"
)
_RE_MONTH_YEAR = re.compile(r"(?<![\d/.])(\d{1,2})\s*/\s*" + _YEAR)
_RE_YEAR_RANGE = re.compile(r"(?<![\d/.])((?:19|20)\d{2})\s*(?:-|den|toi|–)\s*((?:19|20)\d{2})(?!\d)")
_RE_YEAR_START = re.compile(r"\bdau\s+nam\s*(?:/\s*)?" + _YEAR)
_RE_YEAR = re.compile(r"(?<![\d/.])" + _YEAR)
_RE_DAY_MONTH_NUM = re.compile(r"(?<![\d/.])(\d{1,2})\s*/\s*(\d{1,2})(?![\d]|\s*/\s*\d)")
_RE_DAY_MONTH_WORDS = re.compile(r"\bngay\s+(\d{1,2})\s+thang\s+(\d{1,2})(?!\d)")
_RE_RANGE_WORD = re.compile(r"^\s*(?:-|den|den het|toi)\s*(?:ngay\s*)?$")
# A date written right after a document number is the document's date, not a deadline:
# "Theo Kế hoạch số 12/KH-UBND ngày 05/3/2026", "Nghị định 137/2024/NĐ-CP ngày 23/10/2024".
_RE_DOC_REF_BEFORE = re.compile(
    r"(?:\d+(?:/\d+)?/[a-z]{1,8}[\w./ -]{0,24}|\bso\s+\d+[\w./ -]{0,30})\s+ngay\s*,?\s*$"
)

_RE_ONGOING = re.compile(r"\b(?:thuong xuyen|lien tuc|hang ngay|hang tuan|moi ngay|moi tuan|xuyen suot)\b")
_RE_CONDITIONAL = re.compile(
    r"\bkhi\s+(?:co|duoc|phat sinh|can)\b|^\W*theo\b|\bdot xuat\b|\bsau khi\b|\btuy\s+(?:theo|tinh hinh)\b"
    r"|\bneu co\b|\bkhi\s+\w+\s+(?:yeu cau|chi dao)\b"
)
_RE_MONTHLY = re.compile(r"\b(?:hang|moi)\s+thang\b|\bdinh ky\s+(?:hang\s+)?thang\b")
_RE_QUARTERLY = re.compile(r"\b(?:hang|moi)\s+quy\b|\bdinh ky\s+(?:hang\s+|theo\s+)?quy\b")
_RE_SEMI = re.compile(
    r"\b(?:hang|moi|dinh ky)\s+(?:0?6|sau)\s+thang\b|\b(?:0?6|sau)\s+thang\s*(?:/|mot)\s*lan\b"
)
_RE_YEARLY = re.compile(r"\b(?:hang|moi)\s+nam\b|\bdinh ky\s+(?:hang\s+)?nam\b|\bnam\s*/\s*lan\b")
_RE_PERIODIC = re.compile(r"\bdinh ky\b")
# "Năm 2026 và các năm tiếp theo", "Quý IV năm 2025 và các năm tiếp theo": yearly from that year on.
_RE_ONWARD = re.compile(r"\s*(?:,\s*)?(?:va|&)\s+(?:cac|nhung)\s+nam\s+(?:tiep theo|sau|ke tiep)\b")
_RE_QRULE = re.compile(
    r"\bngay\s+(\d{1,2})\s+(?:cua\s+)?(?:thang\s+)?(dau|giua|cuoi|thu nhat|thu hai|thu ba|thu 1|thu 2|thu 3)"
    r"\s+(?:cua\s+)?(?:moi\s+)?quy(\s+(?:sau|tiep theo|ke tiep|lien sau))?"
)
_MOQ = {"dau": 1, "thu nhat": 1, "thu 1": 1, "giua": 2, "thu hai": 2, "thu 2": 2, "cuoi": 3, "thu ba": 3, "thu 3": 3}
_RE_DAY_ONLY = re.compile(r"\bngay\s+(\d{1,2})(?!\s*[/.\-]\s*\d)(?!\d)(?!\s+thang\s+\d)")
_RE_NEXT_MONTH = re.compile(r"\bthang\s+(?:sau|tiep theo|ke tiep|lien sau)\b")
_HALF_WORDS = {"sau": 6, "chin": 9, "ba": 3}


def _blank(s: str, m: re.Match) -> str:
    return s[: m.start()] + " " * (m.end() - m.start()) + s[m.end():]


def _context_year(plan_year: int | None, plan_period: tuple[date, date] | None) -> int | None:
    if plan_year:
        return plan_year
    if plan_period and plan_period[0].year == plan_period[1].year:
        return plan_period[0].year
    return None


def _year_for_day_month(day: int, month: int, plan_year, plan_period) -> int | None:
    """The year of a "10/12" without year: the plan year, or the single year that puts it in the plan period."""
    if plan_year:
        return plan_year
    if plan_period:
        lo, hi = plan_period
        years = [y for y in range(lo.year, hi.year + 1) if (d := _safe_date(y, month, day)) and lo <= d <= hi]
        if len(years) == 1:
            return years[0]
    return None


def _bounds(f: str, plan_year, plan_period) -> tuple[date | None, date | None]:
    """Window of a recurring deadline: a year (range) in the phrase, else the plan period/year."""
    m = _RE_YEAR_RANGE.search(f)
    if m and int(m.group(2)) >= int(m.group(1)):
        return date(int(m.group(1)), 1, 1), date(int(m.group(2)), 12, 31)
    m = _RE_YEAR.search(f)
    if m:
        y = int(m.group(1))
        return date(y, 1, 1), date(y, 12, 31)
    if plan_period:
        return plan_period
    if plan_year:
        return date(plan_year, 1, 1), date(plan_year, 12, 31)
    return None, None


# ----------------------------------------------------------------------------------------------- parsing

def parse_deadline(
    text: str, plan_year: int | None = None, plan_period: tuple[date, date] | None = None
) -> Deadline:
    """Normalize one deadline phrase. Never raises; never invents a year."""
    try:
        return _parse(text, plan_year, plan_period)
    except Exception:  # pragma: no cover - defensive: a deadline cell must never break indexing
        return Deadline(text=text or "", kind="unspecified")


def _parse(text: str, plan_year, plan_period) -> Deadline:
    raw = text or ""
    shown = normalize(raw)
    f = re.sub(r"\bqui\b", "quy", fold(shown))  # "Quí" is the older spelling of "Quý"
    if not re.search(r"[a-z0-9]", f):
        return Deadline(text=raw)
    if plan_year is not None and not (1900 <= int(plan_year) <= 2200):
        plan_year = None
    cond_m = _RE_CONDITIONAL.search(f)
    condition = shown.strip(" .;:()") if cond_m else None
    ctx_year = _context_year(plan_year, plan_period)

    onward = _RE_ONWARD.search(f)
    if onward and not _RE_YEARLY.search(f):
        base = _parse(f[: onward.start()], plan_year, plan_period)
        if base.due is not None and base.kind in ("date", "period_end"):
            until = plan_period[1] if plan_period and plan_period[1] > base.due else None
            return Deadline(text=raw, kind="recurring", recurrence="yearly", due=base.due,
                            day_rule={"day": base.due.day, "month": base.due.month},
                            start=date(base.due.year, 1, 1), until=until, condition=condition)

    # 1. Recurring ------------------------------------------------------------------------------------
    recurrence = None
    for name, rx in (("monthly", _RE_MONTHLY), ("quarterly", _RE_QUARTERLY), ("semiannual", _RE_SEMI),
                     ("yearly", _RE_YEARLY)):
        if rx.search(f):
            recurrence = name
            break
    if recurrence is None and _RE_PERIODIC.search(f):
        recurrence = "periodic"
    if recurrence:
        day_rule = _day_rule(f, recurrence)
        if recurrence == "periodic":
            return Deadline(text=raw, kind="recurring", recurrence="periodic", condition=condition)
        lo, hi = _bounds(f, plan_year, plan_period)
        dl = Deadline(text=raw, kind="recurring", recurrence=recurrence, day_rule=day_rule, start=lo, until=hi,
                      condition=condition)
        if lo and hi:
            occ = occurrences(dl, lo, hi + timedelta(days=400))
            if occ:
                dl = Deadline(**{**_fields(dl), "due": occ[0]})
        return dl

    # 2. Explicit dates and periods ---------------------------------------------------------------------
    work = f
    items: list[tuple[date | None, date, int]] = []  # (period start, due, position in text)
    full_dates: list[tuple[int, int, date]] = []  # (start pos, end pos, date)
    for rx, order in ((_RE_FULL_NUM, (1, 3, 4)), (_RE_FULL_WORDS, (1, 2, 3))):
        for m in list(rx.finditer(work)):
            if _RE_DOC_REF_BEFORE.search(work[: m.start()]):
                work = _blank(work, m)  # a document's date: drop it
                continue
            d = _safe_date(int(m.group(order[2])), int(m.group(order[1])), int(m.group(order[0])))
            work = _blank(work, m)
            if d:
                full_dates.append((m.start(), m.end(), d))
    full_dates.sort()
    range_start: date | None = None
    if len(full_dates) == 2 and _RE_RANGE_WORD.match(f[full_dates[0][1]: full_dates[1][0]].replace("tu ", "")):
        range_start = full_dates[0][2]
        items.append((range_start, full_dates[1][2], full_dates[1][0]))
    else:
        items.extend((None, d, p) for p, _, d in full_dates)

    undated_rule: dict | None = None
    for m in list(_RE_HALF.finditer(work)):
        n_txt, half, which, y = m.group(1), m.group(2), m.group(3), m.group(4)
        n = 6 if half else (_HALF_WORDS.get(n_txt) or int(n_txt))
        work = _blank(work, m)
        if not 1 <= n <= 12:
            continue
        year = int(y) if y else ctx_year
        if year is None:
            continue
        if which == "dau":
            items.append((date(year, 1, 1), month_end(year, n), m.start()))
        else:
            items.append((date(year, 13 - n, 1), date(year, 12, 31), m.start()))

    for m in list(_RE_QUARTERS.finditer(work)):
        qs = sorted({_ROMAN[q] for q in re.findall(r"iv|iii|ii|i|[1-4]", re.sub(r"quy|va|và", " ", m.group(1)))})
        year = int(m.group(2)) if m.group(2) else ctx_year
        work = _blank(work, m)
        if year is None:
            continue
        for q in qs:
            items.append((date(year, 3 * q - 2, 1), quarter_end(year, q), m.start()))

    for m in list(_RE_MONTHS.finditer(work)):
        if re.search(r"\bngay\s+\d{1,2}\s+$", work[: m.start()]):
            continue  # "ngày 15 tháng 11": a day, read below
        months = [int(x) for x in re.findall(r"\d{1,2}", m.group(1))]
        if not months or not all(1 <= x <= 12 for x in months):
            continue
        year = int(m.group(2)) if m.group(2) else ctx_year
        work = _blank(work, m)
        if year is None:
            if len(months) == 1:
                undated_rule = {"month": months[0]}
            continue
        for mo in months:
            items.append((date(year, mo, 1), month_end(year, mo), m.start()))

    for m in list(_RE_MONTH_YEAR.finditer(work)):
        mo, y = int(m.group(1)), int(m.group(2))
        if 1 <= mo <= 12:
            work = _blank(work, m)
            items.append((date(y, mo, 1), month_end(y, mo), m.start()))

    for m in list(_RE_YEAR_RANGE.finditer(work)):
        y1, y2 = int(m.group(1)), int(m.group(2))
        work = _blank(work, m)
        if y2 >= y1:
            items.append((date(y1, 1, 1), date(y2, 12, 31), m.start()))

    for m in list(_RE_YEAR_START.finditer(work)):
        work = _blank(work, m)  # "đầu năm 2026": no defensible date; not "năm 2026" either

    day_month: list[tuple[int, int, int]] = []
    for rx in (_RE_DAY_MONTH_WORDS, _RE_DAY_MONTH_NUM):
        for m in list(rx.finditer(work)):
            dd, mo = int(m.group(1)), int(m.group(2))
            if _RE_DOC_REF_BEFORE.search(work[: m.start()]) or not (1 <= mo <= 12 and 1 <= dd <= 31):
                continue
            if _safe_date(2000, mo, dd) is None:  # 2000 is a leap year: 29/2 stays possible
                continue
            work = _blank(work, m)
            day_month.append((m.start(), dd, mo))

    for m in list(_RE_YEAR.finditer(work)):
        y = int(m.group(1))
        work = _blank(work, m)
        for p, dd, mo in list(day_month):  # "ngày 10/12 năm 2026" written apart
            if p < m.start() and (d := _safe_date(y, mo, dd)):
                items.append((None, d, p))
                day_month.remove((p, dd, mo))
                break
        else:
            items.append((date(y, 1, 1), date(y, 12, 31), m.start()))

    for p, dd, mo in day_month:
        year = _year_for_day_month(dd, mo, plan_year, plan_period)
        d = _safe_date(year, mo, dd) if year else None
        if d:
            items.append((None, d, p))
        else:
            undated_rule = {"day": dd, "month": mo}

    ongoing = bool(_RE_ONGOING.search(f))
    if items:
        only_years = all(s is not None and s.month == 1 and s.day == 1 and d.month == 12 and d.day == 31
                         for s, d, _ in items)
        if ongoing and only_years:  # "Thường xuyên trong năm 2026": continuous, bounded by the year(s)
            return Deadline(text=raw, kind="ongoing", start=min(s for s, _, _ in items),
                            until=max(d for _, d, _ in items), condition=condition)
        dues = sorted({d for _, d, _ in items})
        first = min(items, key=lambda t: (t[1], t[2]))
        kind = "date" if all(s is None for s, _, _ in items) or range_start else "period_end"
        start = range_start or first[0]
        if kind == "period_end" and len(items) == 1:
            start = items[0][0]
        return Deadline(text=raw, kind=kind, due=dues[0], start=start, dues=dues, condition=condition)

    # 3. No date ----------------------------------------------------------------------------------------
    if ongoing:
        return Deadline(text=raw, kind="ongoing", condition=condition)
    if cond_m:
        return Deadline(text=raw, kind="conditional", condition=condition, day_rule=undated_rule)
    return Deadline(text=raw, kind="unspecified", day_rule=undated_rule)


def _fields(dl: Deadline) -> dict:
    return {k: getattr(dl, k) for k in dl.__dataclass_fields__}


def _day_rule(f: str, recurrence: str) -> dict | None:
    if recurrence == "quarterly":
        m = _RE_QRULE.search(f)
        if m:
            rule = {"day": int(m.group(1)), "month_of_quarter": _MOQ[m.group(2)]}
            if m.group(3):
                rule["next_period"] = True
            return rule if 1 <= rule["day"] <= 31 else None
        m = _RE_DAY_ONLY.search(f)
        if m and 1 <= int(m.group(1)) <= 31:  # "Hàng quý, trước ngày 20": the last month of the quarter
            return {"day": int(m.group(1)), "month_of_quarter": 3}
        return None
    if recurrence == "monthly":
        m = _RE_DAY_ONLY.search(f)
        if m and 1 <= int(m.group(1)) <= 31:
            rule = {"day": int(m.group(1))}
            if _RE_NEXT_MONTH.search(f):
                rule["next_period"] = True
            return rule
        return None
    if recurrence == "yearly":
        for rx in (_RE_DAY_MONTH_WORDS, _RE_DAY_MONTH_NUM):
            m = rx.search(f)
            if m:
                dd, mo = int(m.group(1)), int(m.group(2))
                if 1 <= mo <= 12 and _safe_date(2000, mo, dd):
                    return {"day": dd, "month": mo}
        m = re.search(r"\bthang\s+(\d{1,2})(?!\s*/)", f)
        if m and 1 <= int(m.group(1)) <= 12:
            return {"month": int(m.group(1))}
        m = _RE_QUARTERS.search(f)
        if m:
            qs = re.findall(r"iv|iii|ii|i|[1-4]", m.group(1))
            if len(qs) == 1:
                return {"month": 3 * _ROMAN[qs[0]]}
    return None


# ----------------------------------------------------------------------------------------------- occurrences

def _months_between(lo: date, hi: date):
    y, m = lo.year, lo.month
    while (y, m) <= (hi.year, hi.month):
        yield y, m
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


def occurrences(deadline: Deadline, start: date, end: date) -> list[date]:
    """Concrete due dates of ``deadline`` inside [start, end], sorted and unique.

    Explicit dates/period ends count once; recurring deadlines are expanded (within their own
    ``start``/``until`` window when they have one); ongoing, conditional, periodic-without-dates and
    unspecified deadlines have none.
    """
    if start > end:
        return []
    kind = deadline.kind
    if kind in ("date", "period_end"):
        ds = deadline.dues or ([deadline.due] if deadline.due else [])
        return sorted({d for d in ds if start <= d <= end})
    if kind != "recurring" or deadline.recurrence not in ("monthly", "quarterly", "semiannual", "yearly"):
        return []
    rule = deadline.day_rule or {}
    # Periods (months/quarters/...) that overlap the recurrence window decide which occurrences exist;
    # the window asked for filters the due dates themselves.
    p_lo = deadline.start or date(max(start.year - 1, 1), 1, 1)
    p_hi = deadline.until or date(min(end.year + 1, 9999), 12, 31)
    p_lo, p_hi = max(p_lo, date(max(start.year - 2, 1), 1, 1)), min(p_hi, date(min(end.year + 1, 9999), 12, 31))
    if p_lo > p_hi:
        return []
    out: set[date] = set()
    nxt = 1 if rule.get("next_period") else 0
    day = rule.get("day")
    rec = deadline.recurrence
    try:
        for y, m in _months_between(p_lo, p_hi):
            d: date | None = None
            if rec == "monthly":
                d = _clamped(y, m + nxt, day) if day else month_end(y, m)
            elif rec == "quarterly" and m % 3 == 0:
                q = m // 3
                if day:
                    moq = rule.get("month_of_quarter", 3)
                    d = _clamped(y, 3 * (q - 1) + moq + 3 * nxt, day)
                else:
                    d = quarter_end(y, q)
            elif rec == "semiannual" and m in (6, 12):
                d = month_end(y, m)
            elif rec == "yearly" and m == 12:
                mo = rule.get("month")
                if mo and day:
                    d = _clamped(y, mo, day)
                elif mo:
                    d = month_end(y, mo)
                else:
                    d = date(y, 12, 31)
            if d and start <= d <= end:
                out.add(d)
    except (ValueError, OverflowError):
        pass
    return sorted(out)


def plan_period(title: str) -> tuple[int | None, tuple[date, date] | None]:
    """(plan year, plan period) from a plan title: "… năm 2026" -> (2026, (2026-01-01, 2026-12-31));
    "… giai đoạn 2026-2030" -> (None, (2026-01-01, 2030-12-31)); "… 6 tháng cuối năm 2025" ->
    (2025, (2025-07-01, 2025-12-31)). (None, None) when the title names no period."""
    dl = parse_deadline(title or "")
    if dl.kind == "period_end" and dl.start and dl.due:
        year = dl.start.year if dl.start.year == dl.due.year else None
        return year, (dl.start, dl.due)
    if dl.kind == "date" and dl.due:
        return dl.due.year, (date(dl.due.year, 1, 1), date(dl.due.year, 12, 31))
    return None, None
