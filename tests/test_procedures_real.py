"""Real procedure documents nobody here wrote: every record of the national procedure database in
`../shared/real/national/` (skipped when ../shared is absent) and in `tests/eval/corpus_unseen/national/`, every
real decision in `../shared/real/tthc/` and `tests/eval/corpus_unseen/tthc/`. Each record's fields are checked
against the raw JSON by their meaning (what the portal's own fields say), plus the values a citizen asks about."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.evaluate import judge
from handlers.procedures import ProcedureAnswerer
from handlers.types import Answer
from index.loaders import load
from index.national import UNITS, parse_records
from index.procedures import is_catalogue, parse_catalogue
from index.textnorm import fold

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
REAL = SHARED / "real"
UNSEEN = ROOT / "tests" / "eval" / "corpus_unseen"
NATIONAL = sorted((REAL / "national").glob("*.json")) + sorted((UNSEEN / "national").glob("*.json"))
DECISIONS = sorted((REAL / "tthc").glob("*.txt")) + sorted((UNSEEN / "tthc").glob("*.txt"))


def _skip_absent(path: Path) -> None:
    if not path.exists():
        pytest.skip("../shared is absent")


def _raw(path: Path) -> dict:
    d = json.loads(path.read_text(encoding="utf-8"))
    return d.get("data", d)


# ----------------------------------------------------------------------------------------------- national records

@pytest.mark.parametrize("path", NATIONAL, ids=lambda p: p.stem)
def test_every_national_record(path):
    rec = _raw(path)
    procs = parse_records(load(path))
    assert len(procs) == 1
    p = procs[0]
    assert p.code == path.stem == rec["codeNotation"]
    assert p.name and "\n" not in p.name and not p.name.lower().startswith("thủ tục ")
    assert p.origin == "national" and p.document == path.name
    # field (category), level, who published it and where it applies
    cats = [c["name"] for c in rec.get("categoriesDetails") or []]
    assert p.field == "; ".join(c.strip() for c in cats) if cats else True
    assert ("commune" in p.level) == bool(rec["isWard"]) and ("province" in p.level) == bool(rec["isProvince"])
    issuer = rec["departmentPromulgateName"]
    assert p.issuer == issuer.strip()
    if fold(issuer).startswith("ubnd"):
        assert p.scope == "province" and p.province and fold(p.province) in fold(issuer) and p.locality
    else:
        assert p.scope == "national" and not p.locality and not p.province
    assert rec["procedureProposal"]["proposalNumber"] in p.promulgation
    # one channel per submission method, each with its own fees
    methods = rec["executionMethods"]
    assert len(p.channel_details) == len(methods)
    for m, ch in zip(methods, p.channel_details):
        assert ch["channel"] == {"DIRECT": "in_person", "ONLINE": "online", "POSTAL": "post"}[m["submissionMethod"]]
        unit = m["processingTimeUnit"]
        if unit in UNITS and isinstance(m["processingTime"], (int, float)) and m["processingTime"] > 0:
            assert ch["time"].endswith(UNITS[unit]), ch["time"]
        elif unit == "OTHER" and not isinstance(m["processingTime"], str):
            assert ch["time"] == ""  # a bare number of unknown unit is never shown as days
        assert len(ch["fees"]) == len([f for f in m["fees"] if f.get("value") is not None or f.get("description")])
    # no fee anywhere in the record -> no fee stated (never "free")
    fees = [f for m in methods for f in m["fees"]]
    assert bool(p.fee) == bool(fees)
    if p.fee_exempt:
        assert all(f.get("value") == 0 for f in fees)
    # papers: every component with a name (notes kept apart), counts as the record gives them
    comps = [c for case in rec["executionCases"] for c in case["profileComponents"] if c["name"].strip()]
    notes = p.extra.get("Lưu ý về hồ sơ", "")
    assert len(p.documents) + (len(notes.split("\n")) if notes else 0) == len(comps)
    for d in p.documents:
        if d["original"] and d["copy"]:
            assert "bản chính" in d["quantity"] and "bản sao" in d["quantity"]
    assert len(p.cases) == len({(c["code"], c["processingDay"]["qty"], c["processingDay"]["type"])
                                for c in rec["cases"]}) or len(p.cases) <= len(rec["cases"])
    # legal basis: names and numbers, one per distinct number
    codes = {re.sub(r"\s+", "", c["code"]).rstrip(".") for c in rec["legalBasisesDetails"]}
    assert len(p.legal_basis) == len(codes)
    for c in codes:
        assert any(c.replace(" ", "") in x.replace(" ", "") or c in x for x in p.legal_basis), c
    assert p.result.split("\n")[0] and (p.applicants or not rec["subjectTypesDetails"])
    assert p.steps, "every record has steps"
    assert p.time_limit or not any(m["processingTime"] for m in methods)


@pytest.fixture(scope="module")
def shared_records():
    _skip_absent(REAL / "national")
    return {p.code: p for path in sorted((REAL / "national").glob("*.json")) for p in parse_records(load(path))}


def test_national_values_citizens_ask(shared_records):
    by = shared_records
    ch = {c["channel"]: c for c in by["1.004222"].channel_details}  # đăng ký thường trú
    assert ch["online"]["fees"][0]["amount_vnd"] == 10000 and ch["in_person"]["fees"][0]["amount_vnd"] == 20000
    assert by["1.004222"].time_limit == "07 ngày làm việc" and by["1.004222"].keywords == ["Hộ khẩu", "Cư trú"]
    th = {c["channel"]: c for c in by["1.010038"].channel_details}  # tách hộ
    assert th["online"]["fees"][0]["amount_vnd"] == 5000 and th["in_person"]["fees"][0]["amount_vnd"] == 10000
    assert by["1.010041"].fee_exempt and "0 đồng" in by["1.010041"].fee  # every fee value 0, no text
    assert by["2.000635"].fee == "8.000 đồng" and not by["2.000635"].fee_exempt
    # a zero beside "Theo quy định của HĐND cấp tỉnh" or a circular is not free
    assert by["1.013225"].fee_set_by_province and not by["1.013225"].fee_exempt
    assert not by["1.013234"].fee_exempt  # "… miễn một số khoản phí …" in a circular's title is not "free"
    # the record's two times are both shown (methods 10 working days, cases 20 days), the 7 days for houses too
    gp = by["1.013225"].time_limit
    assert gp.startswith("10 ngày làm việc") and "20 ngày" in gp and "7 ngày làm việc đối với nhà ở riêng lẻ" in gp
    assert "25 ngày" in by["1.004746"].time_limit  # methods say 5 of no unit, cases 25 days: no "05 ngày"
    assert "05 ngày" not in by["1.004746"].time_limit
    assert by["1.115593"].time_limit.startswith("3,5 ngày làm việc")
    assert "15 ngày làm việc" in by["1.115621"].time_limit  # mountain communes, from the method's description
    # a province's record: that province's
    hp = by["1.115621"]
    assert (hp.scope, hp.locality, hp.province) == ("province", "thành phố Hải Phòng", "Hải Phòng")
    assert by["1.115453"].name == "Hòa giải tranh chấp đất đai thuộc thẩm quyền cấp xã"  # pasted section text cut
    docs = by["1.010038"].documents
    assert {d["group"] for d in docs} == {
        "Trường hợp thành viên hộ gia đình đăng ký tách hộ là vợ, chồng đã ly hôn mà vẫn được ở cùng chỗ ở hợp pháp, "
        "hồ sơ gồm", "Tách hộ để đăng ký thường trú tại cùng một chỗ ở hợp pháp, hồ sơ gồm"}
    assert all(d["quantity"] == "01 bản chính" for d in docs)


# ----------------------------------------------------------------------------------------------- decisions

@pytest.mark.parametrize("path", DECISIONS, ids=lambda p: p.stem)
def test_every_decision_is_a_catalogue_without_junk(path):
    raw = load(path)
    assert is_catalogue(raw)
    cat = parse_catalogue(raw)
    assert cat.procedures and cat.locality.startswith("tỉnh ") and cat.decision.startswith("Quyết định số ")
    assert not any(fold(x) in fold(cat.decision) for x in ("/qd-bqp", "/qd-byt", "/qd-bca", "/qd-bt "))
    for p in cat.procedures:
        assert len(re.findall(r"[^\W\d_]{2,}", p.name)) >= 2, p.name  # no procedure named "|" or "TT Nội dung"
        assert not re.match(r"(?i)(phần|phụ lục|quy trình|trách nhiệm|ngày b\d)", p.name), p.name
        assert p.scope == "province" and p.decision == cat.decision


def _cat(name: str):
    path = next((p for p in DECISIONS if p.name == name), None)
    if path is None:
        pytest.skip("../shared is absent")
    return parse_catalogue(load(path))


def test_son_la_list_with_codes_in_the_name_cell_and_process_totals():
    cat = _cat("tthc-2025-chinh-sach-quan-su-tinh-son-la.txt")
    assert cat.decision == "Quyết định số 2929/QĐ-UBND ngày 18/11/2025" and cat.locality == "tỉnh Sơn La"
    by = {p.code: p for p in cat.procedures}
    assert set(by) == {"2.002755", "2.002757", "2.002765", "2.002760", "2.002761", "2.002767"}
    p = by["2.002761"]
    assert p.name == "Xác nhận cán bộ Quân đội nghỉ hưu mắc bệnh hiểm nghèo"
    assert p.time_limit == "09 ngày làm việc" and p.fee == "Không" and p.receiving == "Ban CHQS cấp xã"
    assert len(p.legal_basis) == 3
    assert {"label": "Tổng thời gian thực hiện", "text": "09 ngày"} == {
        k: v for k, v in p.facts[-1].items() if k != "source"}
    assert "Đại đội, tiểu đoàn" in by["2.002765"].receiving


def test_lai_chau_blocks_as_two_column_rows():
    cat = _cat("tthc-2025-duoc-pham-so-y-te-tinh-lai-chau.txt")
    assert len(cat.procedures) == 4 and cat.has_blocks
    for p in cat.procedures:
        assert p.steps and p.documents and p.time_limit and p.result and p.legal_basis, p.name
        assert p.field == "Dược phẩm" and not p.listed_only
    third = cat.procedures[2]
    assert third.name.startswith("Cấp phép nhập khẩu thuốc thuộc hành lý cá nhân")
    assert third.time_limit == "07 ngày làm việc" and third.fee == "Không."
    assert any("Mẫu số 27" in d["name"] for d in third.documents)


def test_cao_bang_list_only_with_internal_processes():
    cat = _cat("tthc-2025-bao-tro-xa-hoi-tre-em-tinh-cao-bang.txt")
    assert len(cat.procedures) == 18 and all(p.code for p in cat.procedures) and not cat.has_blocks
    by = {p.code: p for p in cat.procedures}
    assert by["1.001806"].field == "Bảo trợ xã hội" and by["1.001806"].level == "province"
    assert by["1.004946"].field == "Trẻ em"
    totals = [f["text"] for f in by["2.001661"].facts if f["label"].startswith("Tổng thời gian")]
    assert totals == ["08 ngày làm việc"]
    assert all(p.listed_only for p in cat.procedures)


def test_binh_thuan_pipe_table_amended_and_abolished():
    cat = _cat("tthc-2020-tu-phap-chung-thuc-tinh-binh-thuan.txt")
    amended = [p for p in cat.procedures if p.status == "amended"]
    abolished = [p for p in cat.procedures if p.status == "abolished"]
    assert len(amended) == 50 and len(abolished) == 21  # the crawl has 50 rows under "(51 TTHC)"
    by = {p.code: p for p in amended}
    ct = by["2.000815"]
    assert ct.fee.startswith("2.000 đồng/trang") and ct.time_limit.startswith("Trong ngày")
    assert ct.receiving.startswith("- Bộ phận Tiếp nhận và trả kết quả") and ct.field == "Chứng thực"
    assert by["2.000992"].level == "district"
    assert all("bãi bỏ" in p.status_note for p in abolished)


def test_vinh_long_blocks_numbered_with_suffixed_code():
    cat = _cat("tthc-2025-cai-nghien-ma-tuy-cap-xa-tinh-vinh-long.txt")
    assert [p.code for p in cat.procedures] == ["3.000527"]
    p = cat.procedures[0]
    assert p.name == "Đăng ký cai nghiện ma túy tự nguyện" and p.fee_exempt
    assert p.time_limit.startswith("03 ngày làm việc") and len(p.legal_basis) == 3
    assert any(f["text"].startswith("03 ngày làm việc") for f in p.facts)


def test_plans_are_not_catalogues():
    _skip_absent(REAL / "plans")
    for path in sorted((REAL / "plans").glob("*.txt")):
        assert not is_catalogue(load(path)), path.name


# ----------------------------------------------------------------------------------------------- answers

@pytest.fixture(scope="module")
def real_pa():
    _skip_absent(REAL)
    procs = []
    for path in sorted((REAL / "national").glob("*.json")):
        procs += parse_records(load(path))
    for path in sorted((REAL / "tthc").glob("*.txt")):
        procs += parse_catalogue(load(path)).procedures
    return ProcedureAnswerer(procs)


@pytest.fixture(scope="module")
def unseen_pa():
    procs = []
    for path in sorted((UNSEEN / "national").glob("*.json")):
        procs += parse_records(load(path))
    for path in sorted((UNSEEN / "tthc").glob("*.txt")):
        procs += parse_catalogue(load(path)).procedures
    return ProcedureAnswerer(procs)


def test_dev_real_procedure_questions(real_pa):
    """The procedure questions of the dev set, judged by the dev file's own rules, answered by this answerer."""
    path = SHARED / "eval" / "dev_real.jsonl"
    _skip_absent(path)
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    items = [it for it in items if it["kind"].startswith("proc") or (
        it["kind"] == "oos" and it["id"].startswith(("rd-t", "rd-qg")))]
    assert len(items) >= 20
    bad = []
    for it in items:
        ans = real_pa.answer(it["q"]) or Answer(question=it["q"], text="", found=False, intent="none")
        if not judge(it, ans):
            bad.append((it["id"], ans.text[:200]))
    assert not bad


@pytest.mark.parametrize("q,code,must", [
    # folk names and citizens' wording
    ("đăng ký thường trú cần giấy tờ gì", "1.004222", "Tờ khai thay đổi thông tin cư trú"),
    ("muốn nhập hộ khẩu cho con thì cần giấy tờ gì", "1.004222", "Tờ khai thay đổi thông tin cư trú"),
    ("tách khẩu mất bao lâu", "1.010038", "05 ngày làm việc"),
    ("Hải Phòng: làm lại sổ đỏ bị mất mất bao lâu", "1.115621", "05 ngày làm việc"),
    ("xin giấy phép xây nhà ở riêng lẻ ở xã cần giấy tờ gì", "1.013225", "nhà ở riêng lẻ"),
    ("tách thửa đất mất bao lâu", "3.000610", "05 ngày làm việc"),
    ("Lạng Sơn: lên thổ cư nộp hồ sơ ở đâu", "1.115743", "Trung tâm Phục vụ hành chính công cấp xã"),
    ("báo tạm vắng có mất tiền không", "1.003677", ""),
])
def test_folk_names_find_real_records(real_pa, q, code, must):
    ans = real_pa.answer(q)
    assert ans is not None and ans.intent != "procedure_choice", ans and ans.text[:300]
    assert f"(mã {code})" in ans.text, ans.text[:300]
    assert must in ans.text


def test_house_permit_papers_of_the_case_asked(real_pa):
    ans = real_pa.answer("xin giấy phép xây nhà ở riêng lẻ cần giấy tờ gì")
    assert "(1.7) Đối với công trình nhà ở riêng lẻ:" in ans.text
    assert "(1.3) Đối với công trình tôn giáo:" not in ans.text and "Trường hợp khác trong hồ sơ" in ans.text


def test_channel_asked_first_and_no_where_for_a_fee_question(real_pa):
    ans = real_pa.answer("Đăng ký thường trú nộp hồ sơ qua cổng dịch vụ công trực tuyến thì lệ phí bao nhiêu?")
    assert ans.intent == "procedure_fee" and "Nộp trực tuyến" in ans.text.splitlines()[1] and "10.000" in ans.text
    assert "Cơ quan thực hiện" not in ans.text


def test_processing_time_is_not_a_duty_question(real_pa):
    ans = real_pa.answer("Bắc Ninh: hòa giải tranh chấp đất đai ở cấp xã trong thời hạn bao lâu?")
    assert ans.intent == "procedure_time" and "30 ngày" in ans.text


def test_late_registration_penalty_not_invented(real_pa):
    ans = real_pa.answer("đăng ký khai tử lưu động quá hạn có bị phạt không")
    assert ans.procedures == [] or ans.procedures[0].code == "1.000419"
    assert not re.search(r"phạt (?:tiền )?(?:từ )?\d", ans.text)


@pytest.mark.parametrize("q", [
    "Làm hộ chiếu phổ thông lần đầu cần những giấy tờ gì?",
    "Đổi giấy phép lái xe ô tô ở xã mất bao lâu?",
    "đăng ký biển số xe máy ở đâu",
    "Sơn La: lệ phí đăng ký nghĩa vụ quân sự lần đầu là bao nhiêu?",
])
def test_procedures_the_bot_has_nowhere_are_refused(real_pa, q):
    ans = real_pa.answer(q)
    assert ans is not None and not ans.found and ans.intent == "procedure_not_found", ans and ans.text[:300]
    assert "dichvucong.gov.vn" in ans.text and not re.search(r"\d+ ngày|\d[\d.]* đồng", ans.text)


def test_unseen_records_answers(unseen_pa):
    sig = unseen_pa.answer("Ở Bình Thuận chứng thực chữ ký trên giấy tờ, văn bản mất bao nhiêu tiền?")
    assert sig.procedures[0].code == "2.000884" and "10.000 đồng/trường hợp" in sig.text  # not its abolished twin
    copy = unseen_pa.answer("Bình Thuận: chứng thực bản sao từ bản chính giấy tờ do cơ quan Việt Nam cấp tính phí "
                            "thế nào?")
    assert copy.intent == "procedure_fee" and copy.procedures[0].code == "2.000815"  # "Việt Nam cấp", not "liên kết"
    stay = unseen_pa.answer("Có khách đến ở nhà thì phải thông báo lưu trú trước mấy giờ?")
    assert stay.intent == "procedure_rule" and "23 giờ" in stay.text and "08 giờ" in stay.text
    renew = unseen_pa.answer("Khi nào phải làm thủ tục gia hạn tạm trú?")
    assert "15 ngày trước ngày kết thúc thời hạn tạm trú" in renew.text
