"""Records of the national database of administrative procedures (Cơ sở dữ liệu quốc gia về thủ tục hành chính,
served by dichvucong.gov.vn) -> `Procedure`.

A corpus `.json` file holds one record, a list of records, or either wrapped as the portal serves it
(`{"code": "OK", "data": {...}}`). A record is recognised by its fields (a name, a code and at least one of
the execution fields), never by the file name. The mapping reads fields by their meaning:

- name, code (`codeNotation`), field (`categoriesDetails` / `category`), level (`isWard` commune,
  `isProvince` province, `isMinistry` ministry), steps (`executionSteps`: name + description, lines kept);
- channels (`executionMethods`): per submission method its own processing time (`processingTime` +
  `processingTimeUnit`; a unit of OTHER is not guessed: a text time is kept, a bare number is not shown as
  days) and its own fees (`fees[].value` + `description`; a value of 0 with no text is free, a 0 whose text
  defers to the provincial council is *not* free);
- documents per case (`executionCases[].profileComponents`: name, original / copy counts, `required`),
  notes ("Lưu ý") kept apart; `cases[]` with their own time (`processingDay`);
- applicants (`subjectTypesDetails`), executing / competent / coordinating agencies, where to hand in the file
  (`dossierReceivingAddresses`), result (`resultsDetails`), forms (papers named as a form), conditions,
  legal basis (names and numbers), the promulgating body and decision (`procedureProposal`), keywords and
  service groups (folk names of the procedure).

Who the record belongs to: published by a ministry (or another central body) it is the general rule for every
commune (`scope="national"`, no locality); published by a province or centrally-run city ("UBND tỉnh Đắk Lắk")
it is that province's (`scope="province"`, locality "tỉnh Đắk Lắk").
"""
from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timedelta, timezone
from typing import Iterator

from .elements import RawDocument
from .procedures import FIELD_LABELS, Procedure, normalize_fee, normalize_time
from .textnorm import fold, normalize

log = logging.getLogger(__name__)

_VN_TZ = timezone(timedelta(hours=7))

UNITS = {
    "WORKING_DAY": "ngày làm việc", "DAY": "ngày", "CALENDAR_DAY": "ngày", "HOUR": "giờ",
    "WORKING_HOUR": "giờ làm việc", "MINUTE": "phút", "WEEK": "tuần", "WORKING_WEEK": "tuần làm việc",
    "MONTH": "tháng", "YEAR": "năm",
}
CHANNELS = {  # submissionMethod -> (channel key, label as a citizen reads it)
    "DIRECT": ("in_person", "Nộp trực tiếp"),
    "ONLINE": ("online", "Nộp trực tuyến"),
    "POSTAL": ("post", "Nộp qua dịch vụ bưu chính"),
}
_RETURNING = {"AT_HOME": "tại nhà (qua bưu chính)", "AT_SUBMISSION_PLACE": "tại nơi nộp hồ sơ",
              "ONLINE": "trực tuyến"}
_EXECUTION_KEYS = ("executionMethods", "executionCases", "executionSteps", "cases", "legalBasisesDetails")
_PROVINCE_ISSUER = re.compile(
    r"^\s*(?:ubnd|uy ban nhan dan|hdnd|chu tich ubnd)\s+(tinh|thanh pho|tp\.?)\s+(.+?)\s*$")
_DURATION = re.compile(r"\d+(?:[.,]\d+)?\s*(?:\(\s*[^)]*\)\s*)?(?:ngay|gio|thang|tuan|phut)\b")
_PROVINCE_FEE = re.compile(r"hoi dong nhan dan|hdnd|do (?:ubnd )?(?:cap )?tinh|nghi quyet")
_FREE = re.compile(r"^\W*(?:mien(?: phi| le phi| thu)?|khong thu|khong(?: co)?(?: phi| le phi)?|khong (?:phai )?nop)\W*(?:dong)?\W*$")
_PARTIAL = re.compile(r"truong hop|doi voi|cho nguoi|thuoc dien|nguoi thuoc")


# --------------------------------------------------------------------------------------------- records

def is_record(obj) -> bool:
    """A national procedure record: a dict with a name, a code and at least one execution field."""
    if not isinstance(obj, dict):
        return False
    name = obj.get("name") or obj.get("procedureName")
    code = obj.get("codeNotation") or obj.get("code")
    return bool(isinstance(name, str) and name.strip() and isinstance(code, str) and code.strip()
                and any(k in obj for k in _EXECUTION_KEYS))


def iter_records(data) -> Iterator[dict]:
    """Every record in a parsed JSON document: one record, a list, or either under a wrapper key."""
    if is_record(data):
        yield data
        return
    if isinstance(data, list):
        for x in data:
            yield from iter_records(x)
        return
    if isinstance(data, dict):
        for key in ("data", "items", "content", "result", "results", "records", "procedures"):
            if key in data:
                yield from iter_records(data[key])


def parse_records(raw: RawDocument) -> list[Procedure]:
    """The procedures of a JSON document of national records ([] when it holds none)."""
    data = raw.data
    if data is None and raw.path.exists():
        data = json.loads(raw.path.read_text(encoding="utf-8"))
    out: list[Procedure] = []
    seen: set[str] = set()
    for rec in iter_records(data):
        try:
            p = record_to_procedure(rec, raw.path.name, raw.sha)
        except Exception:  # one malformed record must not lose the others
            log.exception("national record %s in %s", rec.get("code"), raw.path.name)
            continue
        if p.id in seen:
            continue
        seen.add(p.id)
        out.append(p)
    return out


# --------------------------------------------------------------------------------------------- helpers

def _text(value) -> str:
    """A record's free text with its line structure ("- …", "(i) …") kept, each line normalised."""
    if value is None:
        return ""
    if not isinstance(value, str):
        value = str(value)
    value = re.sub(r"<br\s*/?>|</p>|</li>", "\n", value, flags=re.I)
    value = re.sub(r"<[^>]+>", "", value)
    lines = [normalize(x) for x in value.replace("\r", "\n").split("\n")]
    return "\n".join(x for x in lines if x)


def _line(value) -> str:
    return normalize(_text(value).replace("\n", " "))


def _key(text: str) -> str:
    """Letters and digits only: two texts that differ in punctuation or parentheses are the same."""
    return re.sub(r"[^a-z0-9]+", "", fold(text))


def _names(items) -> list[str]:
    out: list[str] = []
    for it in items or []:
        name = re.sub(r"^[-+•*]\s*", "", _line(it.get("name") if isinstance(it, dict) else it))
        if name and name not in out:
            out.append(name)
    return out


def fmt_qty(q) -> str:
    """5 -> '05', 30 -> '30', 3.5 -> '3,5' (the way decisions write durations)."""
    f = float(q)
    if f.is_integer():
        return f"{int(f):02d}"
    return (f"{f:.2f}".rstrip("0").rstrip(".")).replace(".", ",")


def duration_text(qty, unit) -> str:
    """'05 ngày làm việc' for a typed duration; '' when the unit is unknown (OTHER) or the amount missing."""
    if qty is None or isinstance(qty, bool):
        return ""
    if isinstance(qty, str):
        q = qty.strip()
        if not re.fullmatch(r"\d+(?:[.,]\d+)?", q):
            return ""
        qty = float(q.replace(",", "."))
    word = UNITS.get(str(unit or "").upper())
    if not word or qty <= 0:
        return ""
    return f"{fmt_qty(qty)} {word}"


def _ms_date(ms) -> str:
    try:
        d = datetime.fromtimestamp(int(ms) / 1000, tz=_VN_TZ)
    except (TypeError, ValueError, OverflowError, OSError):
        return ""
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def fmt_vnd(amount) -> str:
    return f"{int(round(float(amount))):,}".replace(",", ".") + " đồng"


def _time_sentences(text: str) -> list[str]:
    """Sentences of a method's description that state a duration (the normal / mountain-commune times)."""
    out = []
    for s in re.split(r"(?<=[.;])\s+|\n", text or ""):
        s = s.strip(" -+")
        if s and _DURATION.search(fold(s)) and len(s) <= 400:
            out.append(s)
    return out


def _is_note(label: str) -> bool:
    return bool(re.match(r"^\W*(?:luu y|ghi chu|chu y)\b", fold(label)))


def _clean_label(label: str) -> str:
    t = _line(label)
    t = re.sub(r"^[\s*•\-+]+", "", t)
    return t.rstrip(" :;").strip()


def _clean_item(name: str) -> str:
    t = _text(name)
    t = re.sub(r"^[\s*•\-+]+", "", t)
    return t.rstrip(" ;").strip()


# --------------------------------------------------------------------------------------------- channels

def _fee_item(fee: dict) -> dict | None:
    desc = _line(fee.get("description"))
    value = fee.get("value")
    try:
        amount = None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        amount, desc = None, desc or _line(value)
    if amount is None and not desc:
        return None
    fd = fold(desc)
    by_province = bool(_PROVINCE_FEE.search(fd))
    # free: a zero with no text, or a short text that says so ("Miễn phí", "Không"); a zero beside a text that
    # defers to the province or a circular is a missing number, not a free procedure
    free = amount == 0 and not by_province and (not desc or (len(fd) <= 60 and bool(_FREE.match(fd))
                                                             and not _PARTIAL.search(fd)))
    if amount and amount > 0:
        shown = fmt_vnd(amount)
        num = shown.split()[0]
        # the amount as the record's number says it, then its own words (unless they already say it so)
        text = desc if num in desc else (f"{shown}: {desc}" if desc else shown)
    elif free and not desc:
        text = "0 đồng (miễn phí)"
    else:
        text = desc
    return {"amount_vnd": int(amount) if amount is not None else None, "text": text, "free": free,
            "by_province": by_province, "kind": str(fee.get("type") or "")}


def _channels(rec: dict) -> list[dict]:
    out = []
    for m in rec.get("executionMethods") or []:
        if not isinstance(m, dict):
            continue
        method = str(m.get("submissionMethod") or "").upper()
        key, label = CHANNELS.get(method, (method.lower() or "other", _line(method) or "Cách thức khác"))
        qty, unit = m.get("processingTime"), m.get("processingTimeUnit")
        time = duration_text(qty, unit)
        time_text = ""
        if not time and isinstance(qty, str) and not re.fullmatch(r"\s*\d+(?:[.,]\d+)?\s*", qty):
            time_text = _line(qty)  # the record states its time as text ("Không quá 15 ngày kể từ …")
        desc = _text(m.get("description"))
        fees = [f for f in (_fee_item(x) for x in m.get("fees") or [] if isinstance(x, dict)) if f]
        out.append({
            "channel": key, "label": label, "time": time or time_text,
            "time_norm": normalize_time(time or time_text) if (time or time_text) else {},
            "time_raw": "" if time or time_text or qty in (None, "") else f"{qty} ({unit or 'không rõ đơn vị'})",
            "fees": fees, "description": desc,
        })
    return out


def _group(channels: list[dict], key) -> list[tuple[list[str], object, dict]]:
    """Channels grouped by an equal key (first-seen order): [(labels, key, first channel of the group)]."""
    groups: list[tuple[list[str], object, dict]] = []
    for ch in channels:
        v = key(ch)
        for labels, gv, _ in groups:
            if gv == v:
                if ch["label"] not in labels:
                    labels.append(ch["label"])
                break
        else:
            groups.append(([ch["label"]], v, ch))
    return groups


def _time_text(channels: list[dict], cases: list[dict]) -> str:
    lines: list[str] = []
    timed = [c for c in channels if c["time"]]
    if timed:
        groups = _group(timed, lambda c: (c["time"], _condition(c["description"])))
        if len({g[1][0] for g in groups}) == 1:
            lines.append(timed[0]["time"])
        else:
            for labels, (t, cond), _ in groups:
                lines.append(f"- {', '.join(labels)}{(' (' + cond + ')') if cond else ''}: {t}")
    main = {c["time"] for c in timed}
    case_times: dict[str, list[str]] = {}
    for c in cases:
        if c.get("time"):
            case_times.setdefault(c["time"], []).append(c["name"])
    if case_times and (not timed or set(case_times) - main):
        parts = [f"{t} ({', '.join(dict.fromkeys(names))})" for t, names in case_times.items()]
        if not timed and len(parts) == 1:
            lines.append(next(iter(case_times)))
        else:
            lines.append(("Theo từng trường hợp ghi trong hồ sơ: " if timed else "") + "; ".join(parts))
    numbers = {re.sub(r"^0+(?=\d)", "", t.split()[0]) for t in main | set(case_times)}
    notes: list[str] = []
    for c in channels:
        for s in _time_sentences(c["description"]):
            said = {re.sub(r"^0+(?=\d)", "", n) for n in re.findall(r"\d+(?:[.,]\d+)?", s)}
            # a description sentence is kept when it adds a time or a condition the numbers above do not show
            if (said - numbers or re.search(r"doi voi|truong hop|mien nui|vung sau|hai dao|khong bao gom",
                                            fold(s))) and s not in notes:
                notes.append(s)
    if not lines and not notes:
        raws = [c["time_raw"] for c in channels if c.get("time_raw")]
        if raws:
            lines.append(f"hồ sơ ghi con số {raws[0].split(' (')[0]} nhưng không ghi đơn vị (ngày hay ngày làm việc), "
                         f"nên chưa rõ thời hạn; anh/chị nên hỏi lại Bộ phận Một cửa")
    if notes:
        lines.append("Ghi chú: " + " ".join(notes[:3]))
    return "\n".join(lines)


def _condition(desc: str) -> str:
    """The 'Đối với …' clause that tells two rows of one channel apart."""
    m = re.search(r"(?:^|[\s+\-])((?:Đối với|Trường hợp|đối với|trường hợp) [^:.;]{3,160})", desc or "")
    if not m:
        return ""
    clause = re.split(r"\s(?:thì|là|:)\s", m.group(1))[0].strip(" ,")
    return clause if len(clause) <= 120 else clause[:120].rsplit(" ", 1)[0] + "…"


def _fee_text(channels: list[dict]) -> tuple[str, bool, bool]:
    """(fee text, every fee free, some fee set by the province) — "" when no channel states a fee."""
    with_fees = [c for c in channels if c["fees"]]
    if not with_fees:
        return "", False, False
    items = [f for c in with_fees for f in c["fees"]]
    free = all(f["free"] for f in items)
    by_province = any(f["by_province"] for f in items)
    for c in with_fees:
        for f in c["fees"]:
            f["text"] = f["text"].rstrip(" ;").strip("() ") if f["text"].startswith("(") else f["text"].rstrip(" ;")
    groups = [(labels, [f["text"] for f in first["fees"]]) for labels, _, first in
              _group(with_fees, lambda c: tuple(_key(f["text"]) for f in c["fees"]))]
    lines: list[str] = []
    if len(groups) == 1:
        texts = list(dict.fromkeys(groups[0][1]))
        lines = texts if len(texts) == 1 else [f"- {t}" for t in texts]
    else:
        # a text every channel carries (an exemption, a note) is said once, after what differs per channel
        common = [t for t in dict.fromkeys(groups[0][1]) if all(
            _key(t) in {_key(x) for x in g[1]} for g in groups[1:])]
        ck = {_key(t) for t in common}
        for labels, texts in groups:
            own = [t for t in dict.fromkeys(texts) if _key(t) not in ck]
            lines.append(f"- {', '.join(labels)}: " + ("; ".join(own) if own else "như dưới đây"))
        lines += [f"- Mọi cách nộp: {t}" for t in common]
    if free:
        lines.append("(Hồ sơ ghi mức thu 0 đồng: không mất phí, lệ phí.)")
    return "\n".join(lines), free, by_province


# --------------------------------------------------------------------------------------------- documents

def _qty(original, copy) -> str:
    def n(x):
        try:
            return int(float(x or 0))
        except (TypeError, ValueError):
            return 0
    o, c = n(original), n(copy)
    parts = []
    if o:
        parts.append(f"{o:02d} bản chính")
    if c:
        parts.append(f"{c:02d} bản sao")
    return " và ".join(parts)


def _documents(rec: dict) -> tuple[list[dict], list[str], list[str]]:
    """(documents, notes, forms) from the record's cases of papers."""
    docs: list[dict] = []
    notes: list[str] = []
    forms: list[str] = []
    groups = [(c.get("name"), c.get("profileComponents")) for c in rec.get("executionCases") or [] if isinstance(c, dict)]
    if rec.get("profileComponents"):
        groups.insert(0, ("", rec.get("profileComponents")))
    for label, comps in groups:
        group = _clean_label(label or "")
        note_group = _is_note(label or "")
        for pc in comps or []:
            if not isinstance(pc, dict):
                continue
            name = _clean_item(pc.get("name"))
            if not name:
                continue
            qty = _qty(pc.get("originalQty"), pc.get("copyQty"))
            if note_group and not qty:
                notes.append(name)
                continue
            doc = {"name": name, "quantity": qty, "group": "" if note_group else group,
                   "original": pc.get("originalQty") or 0, "copy": pc.get("copyQty") or 0,
                   "required": bool(pc.get("required"))}
            docs.append(doc)
            if re.search(r"\bmau\b|\bto khai\b", fold(name)) and name not in forms:
                forms.append(name if len(name) <= 250 else name[:250].rsplit(" ", 1)[0] + "…")
    return docs, notes, forms


def render_documents(docs: list[dict]) -> str:
    lines: list[str] = []
    group = None
    for d in docs:
        if d.get("group") and d["group"] != group:
            group = d["group"]
            lines.append(f"{group}:")
        extra = [x for x in (d.get("quantity"), "bắt buộc" if d.get("required") else "") if x]
        lines.append(f"- {d['name']}" + (f" ({', '.join(extra)})" if extra else ""))
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------- mapping

def _scope(issuer: str) -> tuple[str, str, str]:
    """(scope, locality, province) from the promulgating body."""
    m = _PROVINCE_ISSUER.match(fold(issuer))
    if m:
        start = len(issuer) - len(m.group(2))  # fold keeps lengths for Vietnamese letters
        name = normalize(issuer[start:]).strip(" .")
        if name.isupper():
            name = " ".join(w.capitalize() for w in name.split())
        kind = "tỉnh" if m.group(1) == "tinh" else "thành phố"
        return "province", f"{kind} {name}", name
    return "national", "", ""


def _agency(rec: dict) -> str:
    executing = _line(rec.get("executingAgencies")) or "; ".join(
        _names(rec.get("departmentsExecuting")) + _names(rec.get("unitGroupsExecuting")))
    authority = "; ".join(_names(rec.get("departmentsAuthority")) + _names(rec.get("unitGroupsAuthority")))
    delegated = _line(rec.get("delegatedAgencies")) or _line(rec.get("authorizedAgencies"))
    coordinating = _line(rec.get("coordinatingAgencies")) or "; ".join(
        _names(rec.get("departmentsCoordinating")) + _names(rec.get("unitGroupsCoordinating")))
    lines = []
    seen: set[str] = set()
    for label, value in (("Cơ quan thực hiện", executing), ("Cơ quan có thẩm quyền", authority),
                         ("Cơ quan được ủy quyền, phân cấp", delegated), ("Cơ quan phối hợp", coordinating)):
        k = re.sub(r"[^a-z0-9]+", "", fold(value))
        if value and k not in seen:
            seen.add(k)
            lines.append(f"{label}: {value.rstrip('.')}")
    return "\n".join(lines)


def _legal(rec: dict) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for lb in rec.get("legalBasisesDetails") or []:
        if not isinstance(lb, dict):
            continue
        name, code = _line(lb.get("name")).rstrip(" ;."), _line(lb.get("code")).rstrip(" ;.")
        key = re.sub(r"\s+", "", fold(code)) or fold(name)
        if not (name or code) or key in seen:
            continue
        seen.add(key)
        if code and re.sub(r"\s+", "", fold(code)) not in re.sub(r"\s+", "", fold(name)):
            out.append(f"{name} (số {code})" if name else code)
        else:
            out.append(name)
    return out


def _promulgation(rec: dict) -> str:
    pp = rec.get("procedureProposal") if isinstance(rec.get("procedureProposal"), dict) else {}
    number = _line(pp.get("proposalNumber") or pp.get("decisionNumber") or rec.get("decisionNo"))
    if not number:
        return ""
    date = _ms_date(pp.get("decisionDate")) if pp.get("decisionDate") else ""
    agency = _line((pp.get("issuingAgency") or {}).get("name") if isinstance(pp.get("issuingAgency"), dict) else "") \
        or _line(rec.get("departmentPromulgateName"))
    return f"Quyết định số {number}" + (f" ngày {date}" if date else "") + (f" của {agency}" if agency else "")


def _steps(rec: dict) -> list[str]:
    lines: list[str] = []
    for st in rec.get("executionSteps") or []:
        if not isinstance(st, dict):
            continue
        name, desc = _line(st.get("name")), _text(st.get("description"))
        if name and desc and fold(desc).startswith(fold(name).rstrip(" :")):
            name = ""
        if name:
            lines.append(name)
        lines += [x for x in desc.split("\n") if x.strip()]
    return lines


def _name(rec: dict) -> str:
    name = _text(rec.get("name") or rec.get("procedureName"))
    first = name.split("\n")[0].strip()  # a name followed by pasted section text ("(1) Trình tự thực hiện:")
    first = re.sub(r"^(?:thủ tục|Thủ tục|THỦ TỤC)\s+(?=\S)", "", first).rstrip(" .;:")
    return first[:1].upper() + first[1:] if first else ""


def record_to_procedure(rec: dict, document: str = "", doc_id: str = "") -> Procedure:
    code = _line(rec.get("codeNotation") or rec.get("code"))
    issuer = _line(rec.get("departmentPromulgateName")) or _line(
        ((rec.get("procedureProposal") or {}).get("issuingAgency") or {}).get("name")
        if isinstance(rec.get("procedureProposal"), dict) else "")
    scope, locality, province = _scope(issuer)
    field = "; ".join(_names(rec.get("categoriesDetails"))) or _line((rec.get("category") or {}).get("name")
                                                                   if isinstance(rec.get("category"), dict) else "")
    levels = [lv for flag, lv in (("isWard", "commune"), ("isProvince", "province"), ("isMinistry", "ministry"))
              if rec.get(flag)]
    p = Procedure(code=code, name=_name(rec), locality=locality, field=field, document=document, doc_id=doc_id,
                  origin="national", scope=scope, level=",".join(levels), issuer=issuer, province=province,
                  promulgation=_promulgation(rec))
    # sections are the record's own headings; the answer cites them after "Cơ sở dữ liệu quốc gia …, mã …"
    def put(fld: str, label: str | None = None) -> None:
        p.sources[fld] = label or FIELD_LABELS.get(fld, fld)

    p.sources["name"] = "Thông tin chung"
    p.sources["code"] = "Mã thủ tục"
    p.steps = _steps(rec)
    if p.steps:
        put("steps")
    channels = _channels(rec)
    p.channel_details = channels
    if channels:
        raw_lines = []
        for labels, _, first in _group(channels, lambda c: _key(c["description"])):
            d = first["description"].replace("\n", " ")
            raw_lines.append(", ".join(labels) + (f": {d}" if d else ""))
        p.channels = {"in_person": any(c["channel"] == "in_person" for c in channels),
                      "online": any(c["channel"] == "online" for c in channels),
                      "post": any(c["channel"] == "post" for c in channels), "raw": "\n".join(raw_lines)}
        put("channels")
    p.cases = []
    for c in rec.get("cases") or []:
        if not isinstance(c, dict):
            continue
        pd = c.get("processingDay") if isinstance(c.get("processingDay"), dict) else {}
        t = duration_text(pd.get("qty"), pd.get("type"))
        name = _clean_label(c.get("name") or "")
        entry = {"name": name if fold(name) != fold(rec.get("name") or "") else "", "code": _line(c.get("code")),
                 "time": t, "time_norm": normalize_time(t) if t else {}}
        entry["name"] = entry["name"] or (f"mã {entry['code']}" if entry["code"] else "trường hợp chung")
        if entry not in p.cases:
            p.cases.append(entry)
    p.time_limit = _time_text(channels, p.cases)
    if p.time_limit:
        put("time_limit", "Cách thức thực hiện > Thời hạn giải quyết")
    p.fee, exempt, by_province = _fee_text(channels)
    if p.fee:
        put("fee", "Cách thức thực hiện > Phí, lệ phí")
    docs, notes, forms = _documents(rec)
    p.documents = docs
    p.documents_raw = render_documents(docs)
    if docs:
        put("documents")
    if notes:
        p.extra["Lưu ý về hồ sơ"] = "\n".join(notes)
    p.forms = forms
    if forms:
        put("forms", "Thành phần hồ sơ")
    p.applicants = "; ".join(_names(rec.get("subjectTypesDetails")) + _names(rec.get("targetObjects")))
    if p.applicants:
        put("applicants")
    p.agency = _agency(rec)
    if p.agency:
        put("agency")
    p.receiving = _text(rec.get("dossierReceivingAddresses"))
    if p.receiving:
        put("receiving", "Địa chỉ tiếp nhận hồ sơ")
    p.result = "\n".join(_names(rec.get("resultsDetails")))
    if p.result:
        put("result")
    p.conditions = _text(rec.get("requirementsAndConditions"))
    if p.conditions:
        put("conditions")
    desc = _text(rec.get("description"))
    if desc and fold(desc) != fold(p.conditions) and fold(desc) not in ("khong quy dinh", "khong"):
        p.extra["Mô tả"] = desc
    note = _text(rec.get("note"))
    if note:
        p.extra["Ghi chú"] = note
    p.legal_basis = _legal(rec)
    if p.legal_basis:
        put("legal_basis")
    keywords = [k.strip() for k in re.split(r"[,;\n]", _text(rec.get("keywords"))) if k.strip()]
    keywords += _names(rec.get("serviceGroupsDetails"))
    p.keywords = list(dict.fromkeys(k for k in keywords if fold(k) != fold(p.name)))
    returning = []
    for r in rec.get("returningMethods") or []:
        if isinstance(r, dict):
            returning += [_RETURNING.get(str(v), str(v).lower()) for v in r.get("value") or []]
    if returning:
        p.extra["Cách thức nhận kết quả"] = ", ".join(dict.fromkeys(returning))
    if rec.get("isOfflineOnly"):
        p.extra["Hình thức"] = "Chỉ thực hiện trực tiếp (không trực tuyến)"
    if rec.get("isNonTerritorial"):
        p.extra["Địa giới"] = "Thực hiện không phụ thuộc địa giới hành chính"
    state = fold(str(rec.get("state") or ""))
    if re.search(r"abol|cancel|revok|expir|bai bo|het hieu luc|bi huy", state):
        p.status = "abolished"
        p.status_note = f"trạng thái trên Cơ sở dữ liệu quốc gia: {rec.get('state')}"
    # normalised forms beside the text (the province-set flag also reads the legal basis, as for decisions)
    p.time_norm = next((c["time_norm"] for c in channels if c.get("time_norm")), {}) or (
        p.cases[0]["time_norm"] if p.cases and p.cases[0].get("time_norm") else {})
    if p.fee:
        fee = normalize_fee(p.fee, "\n".join(p.legal_basis))
        p.fee_amounts = [{"amount_vnd": f["amount_vnd"], "unit": "", "note": f["text"]}
                         for c in channels for f in c["fees"] if f["amount_vnd"]]
        p.fee_amounts = list({(a["amount_vnd"], a["note"]): a for a in p.fee_amounts}.values())
        p.fee_exempt = exempt
        p.fee_set_by_province = by_province or (fee["set_by_province"] and not exempt and not p.fee_amounts)
    return p
