"""Procedure documents in the layouts real decisions and the national database use, generated here as small
fixtures: a list-only decision crawled one cell per line, a markdown pipe table with group rows, a two-row header
and an abolished section, blocks numbered 1.1–1.11 with an internal-process table, a JSON list of national records;
then which record answers (a commune's own catalogue over the national record, a province's record only for that
province), contract 6 (`best`) and the index report."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from handlers.procedures import ProcedureAnswerer, ProcMatch
from index.loaders import load
from index.national import parse_records
from index.procedures import Procedure, is_catalogue, load_procedures, parse_catalogue, save_procedures

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "fixtures" / "tthc-mau-xa-hai-hau.docx"


def cells(*rows: list[str]) -> str:
    """A table the way the crawler prints HTML tables: one cell per line between lines holding '|', a row ended by
    an empty cell ('|' right after '|')."""
    out = []
    for r in rows:
        for c in r:
            out.append("|")
            out.append(c)
        out.append("|")
    return "\n".join(out) + "\n"


HEADER = """|
**ỦY BAN NHÂN DÂN**
**TỈNH HÀ NAM SƠN**
|
**CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM**
Độc lập - Tự do - Hạnh phúc
|
|
Số: {number}
|
*Hà Nam Sơn, ngày 05 tháng 3 năm 2026*
|

**QUYẾT ĐỊNH**
Về việc công bố danh mục thủ tục hành chính {what}

**CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH**

*Căn cứ Quyết định số 999/QĐ-BTP ngày 01/01/2026 của Bộ trưởng Bộ Tư pháp;*

**QUYẾT ĐỊNH:**

**Điều 1.** Công bố kèm theo Quyết định này danh mục thủ tục hành chính.

**Điều 2.** Quyết định này có hiệu lực kể từ ngày ký.

"""

# ----------------------------------------------------------------------------------------------- list-only


def list_only_decision(path: Path) -> Path:
    """A decision that only lists its procedures (no per-procedure block), crawled one cell per line; the list
    table's first row also carries the signature and the appendix title (no blank line between them); a code is
    printed with its locality suffix and a stray space; an internal-process table follows in the same crawl."""
    text = HEADER.format(number="120/QĐ-UBND", what="lĩnh vực hộ tịch, đất đai")
    text += cells(
        ["Nơi nhận:\n- Như Điều 2;\n- Lưu: VT.", "**KT. CHỦ TỊCH**\nPHÓ CHỦ TỊCH\n**Trần Văn Bình**",
         "**PHỤ LỤC I**\nDANH MỤC THỦ TỤC HÀNH CHÍNH", "**STT**", "**Mã TTHC**", "**Tên thủ tục hành chính**",
         "**Thời hạn giải quyết**", "**Địa điểm thực hiện**", "**Phí, lệ phí**", "**Căn cứ pháp lý**"],
        ["I", "LĨNH VỰC HỘ TỊCH (02 TTHC)"],
        ["1", "1.001193.000.00.00.H99", "Đăng ký khai sinh", "Ngay trong ngày tiếp nhận hồ sơ",
         "Trung tâm Phục vụ hành chính công cấp xã", "Miễn lệ phí",
         "- Luật Hộ tịch năm 2014;\n- Nghị định số 123/2015/NĐ-CP"],
        ["2", "1.004873.00 0.00.00.H99", "Cấp Giấy xác nhận tình trạng hôn nhân", "03 ngày làm việc",
         "Trung tâm Phục vụ hành chính công cấp xã", "Theo Nghị quyết của Hội đồng nhân dân tỉnh",
         "- Luật Hộ tịch năm 2014"],
        ["II", "LĨNH VỰC ĐẤT ĐAI (01 TTHC)"],
        ["3", "1.003596", "Hòa giải tranh chấp đất đai", "Không quá 30 ngày",
         "Ủy ban nhân dân cấp xã", "Không", "- Luật Đất đai số 31/2024/QH15"],
    )
    text += "\n**PHỤ LỤC II**\nQUY TRÌNH NỘI BỘ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH\n"
    text += "**3. Quy trình nội bộ giải quyết TTHC: “Hòa giải tranh chấp đất đai” (Mã TTHC: 1.003596)**\n"
    text += cells(
        ["**Bước**", "**Nội dung công việc**", "**Trách nhiệm thực hiện**", "**Thời gian thực hiện**"],
        ["Bước 1", "Tiếp nhận đơn", "Bộ phận Một cửa", "0,5 ngày làm việc"],
        ["Bước 2", "Tổ chức hòa giải", "Hội đồng hòa giải", "29,5 ngày"],
        ["**Tổng thời gian giải quyết TTHC**", "**30 ngày**"],
    )
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def list_only(tmp_path_factory):
    return parse_catalogue(load(list_only_decision(tmp_path_factory.mktemp("lo") / "qd-120.txt")))


def test_list_only_decision_read_from_the_list(list_only):
    cat = list_only
    assert cat.decision == "Quyết định số 120/QĐ-UBND ngày 5/3/2026"  # the number line, not a "Căn cứ" line
    assert cat.locality == "tỉnh Hà Nam Sơn" and cat.has_list and not cat.has_blocks
    assert [p.code for p in cat.procedures] == ["1.001193", "1.004873", "1.003596"]  # suffixes and spaces read
    by = {p.code: p for p in cat.procedures}
    assert by["1.001193"].name == "Đăng ký khai sinh" and by["1.001193"].field == "Hộ tịch"
    assert by["1.003596"].field == "Đất đai"
    assert by["1.004873"].time_limit == "03 ngày làm việc" and by["1.004873"].fee_set_by_province
    assert by["1.001193"].fee_exempt and by["1.001193"].receiving.startswith("Trung tâm Phục vụ")
    assert all(p.listed_only and p.scope == "province" and p.province == "Hà Nam Sơn" for p in cat.procedures)
    # the internal process is not a procedure, but its total time is kept as a fact of the procedure it names
    assert len(cat.procedures) == 3
    assert by["1.003596"].facts and by["1.003596"].facts[0]["text"] == "30 ngày"
    assert cat.fields >= 12 and any("chỉ có danh mục" in w for w in cat.warnings)


def test_list_only_decision_answers(list_only):
    pa = ProcedureAnswerer(list_only.procedures)
    fee = pa.answer("Hà Nam Sơn: đăng ký khai sinh có mất lệ phí không?")
    assert fee.found and "Miễn lệ phí" in fee.text and "Quyết định số 120/QĐ-UBND" in fee.text
    where = pa.answer("Hà Nam Sơn: xin giấy xác nhận độc thân nộp ở đâu?")
    assert where.found and "Trung tâm Phục vụ hành chính công cấp xã" in where.text
    docs = pa.answer("Hà Nam Sơn: đăng ký khai sinh cần giấy tờ gì?")
    assert not docs.found and "chỉ công bố danh mục" in docs.text and "không nêu" in docs.text
    assert "dichvucong.gov.vn" in docs.text


def test_list_only_decision_is_not_a_plan(tmp_path):
    raw = load(list_only_decision(tmp_path / "qd.txt"))
    assert is_catalogue(raw)


# ----------------------------------------------------------------------------------------------- pipe table

PIPE = """| Số: 77/QĐ-UBND | Hà Nam Sơn, ngày 10 tháng 4 năm 2026 |
|---|---|

QUYẾT ĐỊNH

Về việc công bố danh mục thủ tục hành chính được sửa đổi, bổ sung, bãi bỏ

PHỤ LỤC

A. DANH MỤC THỦ TỤC HÀNH CHÍNH SỬA ĐỔI, BỔ SUNG (03 TTHC)

| TT | Mã số TTHC | Tên TTHC | Thời hạn giải quyết | Cách thức thực hiện | Địa điểm thực hiện | Phí, lệ phí (nếu có) | Căn cứ pháp lý |  |
|---|---|---|---|---|---|---|---|---|
| Mức độ DVC | Thực hiện qua BCCI |  |  |  |  |  |  |  |
| I | LĨNH VỰC CHỨNG THỰC (03 TTHC) |  |  |  |  |  |  |  |
| I.1 | Thủ tục hành chính cấp xã (02 TTHC) |  |  |  |  |  |  |  |
| 1 | 2.000815.000.00.00.H99 | Thủ tục chứng thực bản sao từ bản chính giấy tờ, văn bản | Trong ngày; không quá 02 ngày nếu nhiều bản | 3 | Có | Bộ phận Một cửa UBND cấp xã | 2.000 đồng/trang; từ trang thứ 3 trở lên 1.000 đồng/trang | Nghị định số 23/2015/NĐ-CP |  |
| 2 | 2.000884 | Thủ tục chứng thực chữ ký trong các giấy tờ, văn bản | Trong ngày | 2 | Không | Bộ phận Một cửa UBND cấp xã | 10.000 đồng/trường hợp | Nghị định số 23/2015/NĐ-CP |  |
| I.2 | Thủ tục hành chính cấp tỉnh (01 TTHC) |  |  |  |  |  |  |  |
| 1 | 2.001050 | Chứng thực văn bản thỏa thuận phân chia di sản | 02 ngày làm việc | 2 | Không | Sở Tư pháp | 50.000 đồng/văn bản | Nghị định số 23/2015/NĐ-CP |  |

B. DANH MỤC THỦ TỤC HÀNH CHÍNH BỊ BÃI BỎ (01 TTHC)

| TT | Mã số TTHC | Tên TTHC | Ghi chú |
|---|---|---|---|
| I | LĨNH VỰC NUÔI CON NUÔI (01 TTHC) |  |  |
| 1 | 1.003005 | Đăng ký việc nuôi con nuôi thực tế | Bị bãi bỏ tại Quyết định số 888/QĐ-BTP |
"""


@pytest.fixture(scope="module")
def pipe(tmp_path_factory):
    path = tmp_path_factory.mktemp("pipe") / "qd-77.md"
    path.write_text(PIPE, encoding="utf-8")
    return parse_catalogue(load(path))


def test_pipe_table_two_row_header_and_groups(pipe):
    by = {p.code: p for p in pipe.procedures}
    assert set(by) == {"2.000815", "2.000884", "2.001050", "1.003005"}
    assert not any(re.fullmatch(r"[\W\d]*", p.name) for p in pipe.procedures)  # no junk procedure named "|"
    ct = by["2.000815"]
    # the second header row split "Cách thức" in two: the later columns are found by their content
    assert ct.receiving == "Bộ phận Một cửa UBND cấp xã"
    assert ct.fee.startswith("2.000 đồng/trang") and ct.legal_basis == ["Nghị định số 23/2015/NĐ-CP"]
    assert ct.time_limit.startswith("Trong ngày")
    assert ct.field == "Chứng thực" and ct.level == "commune" and by["2.001050"].level == "province"
    assert ct.status == "amended" and by["1.003005"].status == "abolished"
    assert "888/QĐ-BTP" in by["1.003005"].status_note


def test_abolished_procedure_answered_as_abolished(pipe):
    pa = ProcedureAnswerer(pipe.procedures)
    ans = pa.answer("Đăng ký việc nuôi con nuôi thực tế cần giấy tờ gì?")
    assert ans.found and ans.intent == "procedure_abolished"
    assert "bãi bỏ" in ans.text and "Quyết định số 77/QĐ-UBND" in ans.text
    fee = pa.answer("chứng thực chữ ký ở xã hết bao nhiêu tiền")
    assert fee.found and "10.000 đồng/trường hợp" in fee.text


# ----------------------------------------------------------------------------------------------- blocks 1.1–1.11

BLOCKS = HEADER.format(number="15/QĐ-UBND", what="cấp xã mới ban hành") + """
**PHỤ LỤC I**

DANH MỤC THỦ TỤC HÀNH CHÍNH MỚI BAN HÀNH

""" + cells(
    ["TT", "Mã thủ tục hành chính", "Tên thủ tục hành chính", "Thời hạn giải quyết", "Phí, lệ phí"],
    ["01", "3.000527.H99", "Đăng ký cai nghiện ma túy tự nguyện", "03 ngày làm việc", "Không"],
) + """
**PHỤ LỤC II**

NỘI DUNG CỤ THỂ CỦA THỦ TỤC HÀNH CHÍNH

**1. Đăng ký cai nghiện ma túy tự nguyện - Mã số: 3.000527.H99**

1.1. Trình tự thực hiện:

Bước 1: Nộp hồ sơ tại Ủy ban nhân dân cấp xã.

Bước 2: Tiếp nhận, kiểm tra hồ sơ.

1.2. Cách thức thực hiện: Nộp hồ sơ trực tiếp tại Ủy ban nhân dân cấp xã.

1.3. Thành phần, số lượng hồ sơ:

- Đơn đăng ký cai nghiện ma túy tự nguyện theo Mẫu số 22;

- Bản sao Phiếu kết quả xác định tình trạng nghiện ma túy.

1.4. Thời hạn giải quyết: 03 ngày làm việc, kể từ ngày nhận đủ hồ sơ hợp lệ.

1.5. Đối tượng thực hiện thủ tục hành chính: Người nghiện ma túy từ đủ 18 tuổi trở lên.

1.6. Cơ quan giải quyết thủ tục hành chính: Ủy ban nhân dân cấp xã.

1.7. Kết quả thực hiện thủ tục hành chính: Quyết định cai nghiện ma túy tự nguyện tại gia đình, cộng đồng.

1.8. Lệ phí: Không.

1.9. Tên mẫu đơn, mẫu tờ khai: Đăng ký cai nghiện ma túy tự nguyện (Mẫu số 22).

1.10. Yêu cầu, điều kiện thực hiện thủ tục hành chính: Không có yêu cầu, điều kiện.

1.11. Căn cứ pháp lý ban hành:

- Luật Phòng, chống ma túy số 73/2021/QH14.

- Nghị định số 116/2021/NĐ-CP.

**Mẫu số 22. Đăng ký cai nghiện ma túy tự nguyện**

""" + cells(["TT", "Nội dung", "Địa điểm thực hiện"], ["1", "Xây dựng kế hoạch cai nghiện.", "Tại gia đình"]) + """
**PHỤ LỤC III**

QUY TRÌNH NỘI BỘ

**Quy trình nội bộ giải quyết thủ tục: Đăng ký cai nghiện ma túy tự nguyện (Mã TTHC: 3.000527)**

""" + cells(
    ["Bước", "Nội dung", "Trách nhiệm", "Thời gian"],
    ["Bước 1", "Tiếp nhận hồ sơ", "Công an cấp xã", "01 ngày làm việc"],
    ["Tổng thời gian giải quyết", "03 ngày làm việc"],
)


def test_blocks_numbered_1_1_to_1_11(tmp_path):
    path = tmp_path / "qd-15.txt"
    path.write_text(BLOCKS, encoding="utf-8")
    cat = parse_catalogue(load(path))
    assert [p.code for p in cat.procedures] == ["3.000527"]  # the form's table is not a procedure
    p = cat.procedures[0]
    filled = [f for f in ("steps", "channels", "documents", "time_limit", "applicants", "agency", "result", "fee",
                          "forms", "conditions", "legal_basis") if p.text_of(f)]
    assert len(filled) == 11, filled
    assert p.name == "Đăng ký cai nghiện ma túy tự nguyện" and not p.listed_only
    assert "1.8. Lệ phí" in p.sources["fee"] and p.fee_exempt
    assert [d["name"] for d in p.documents][0].startswith("Đơn đăng ký cai nghiện")
    assert "Luật Phòng, chống ma túy số 73/2021/QH14" in p.legal_basis
    assert p.facts and p.facts[0]["text"] == "03 ngày làm việc"
    ans = ProcedureAnswerer(cat.procedures).answer("Lệ phí đăng ký cai nghiện ma túy tự nguyện là bao nhiêu?")
    assert ans.found and "không mất phí" in ans.text.lower() and "1.8. Lệ phí" in ans.text


# ----------------------------------------------------------------------------------------------- national JSON

def record(code: str, name: str, **kw) -> dict:
    """A national record as the portal serves it (only the fields the mapping reads, with the portal's keys)."""
    rec = {
        "code": code, "codeNotation": code, "name": name, "isWard": True, "isProvince": False, "isMinistry": False,
        "categoriesDetails": [{"name": kw.get("field", "Đăng ký, quản lý cư trú")}],
        "departmentPromulgateName": kw.get("issuer", "Bộ Công an"),
        "procedureProposal": {"proposalNumber": kw.get("decision", "100/QĐ-BCA"), "decisionDate": 1767200400000,
                              "issuingAgency": {"name": kw.get("issuer", "Bộ Công an")}},
        "executionSteps": [{"name": "", "description": "Bước 1: Chuẩn bị hồ sơ.\nBước 2: Nộp hồ sơ tại Công an cấp xã."}],
        "executionMethods": kw.get("methods", []),
        "executionCases": kw.get("papers", []),
        "cases": kw.get("cases", []),
        "executingAgencies": kw.get("agency", "Công an cấp xã"),
        "dossierReceivingAddresses": kw.get("where", ""),
        "requirementsAndConditions": kw.get("conditions", ""),
        "legalBasisesDetails": [{"name": "Luật Cư trú", "code": "68/2020/QH14"}],
        "resultsDetails": [{"name": "Cập nhật thông tin trong Cơ sở dữ liệu về cư trú"}],
        "subjectTypesDetails": [{"name": "Công dân Việt Nam"}],
        "serviceGroupsDetails": [{"name": g} for g in kw.get("groups", [])],
        "keywords": kw.get("keywords", ""),
    }
    return rec


def method(kind: str, qty, unit: str, fees: list[tuple], desc: str = "") -> dict:
    return {"submissionMethod": kind, "processingTime": qty, "processingTimeUnit": unit, "description": desc,
            "fees": [{"type": "FEE", "value": v, "description": d} for v, d in fees]}


RECORDS = [
    record("1.900001", "Đăng ký tạm trú mẫu", groups=["Tạm trú"], methods=[
        method("ONLINE", 3, "WORKING_DAY", [(7000, "Nộp trực tuyến: 7.000 đồng/lần")]),
        method("DIRECT", 3, "WORKING_DAY", [(15000, "")]),
        method("POSTAL", 3, "WORKING_DAY", [(15000, "")]),
    ], papers=[
        {"name": "* Hồ sơ đăng ký tạm trú gồm:", "profileComponents": [
            {"name": "- Tờ khai thay đổi thông tin cư trú (Mẫu CT01);", "originalQty": 1, "copyQty": 0,
             "required": True},
            {"name": "Giấy tờ chứng minh chỗ ở hợp pháp", "originalQty": 0, "copyQty": 1, "required": False}]},
        {"name": "*Lưu ý:", "profileComponents": [
            {"name": "Thông tin đã có trong Cơ sở dữ liệu quốc gia về dân cư thì không phải nộp.", "originalQty": 0,
             "copyQty": 0, "required": False}]},
    ], cases=[{"name": "Đăng ký tạm trú mẫu", "code": "1.900001.01", "processingDay": {"qty": 3, "type": "WORKING_DAY"}}]),
    record("1.900002", "Xác nhận thông tin cư trú mẫu", methods=[
        method("ONLINE", 1, "WORKING_DAY", [(0, "")], "Đối với trường hợp thông tin có sẵn"),
        method("ONLINE", 3, "WORKING_DAY", [(0, "")], "Đối với trường hợp cần xác minh"),
    ]),
    record("1.900003", "Thủ tục đăng ký lại khai tử mẫu", field="Hộ tịch", issuer="Bộ Tư pháp", methods=[
        method("DIRECT", 5, "OTHER", [(0, "Mức lệ phí cụ thể do Hội đồng nhân dân tỉnh quyết định.")]),
    ], cases=[{"name": "Đăng ký lại khai tử mẫu", "code": "1.900003.01", "processingDay": {"qty": 5, "type": "OTHER"}}]),
    record("1.900004", "Đính chính Giấy chứng nhận mẫu", field="Đất đai", issuer="UBND tỉnh Hà Nam Sơn",
           methods=[method("DIRECT", "Không quá 10 ngày làm việc kể từ ngày nhận đủ hồ sơ", "OTHER", [])],
           where="Trung tâm Phục vụ hành chính công cấp xã"),
]


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    path = tmp_path_factory.mktemp("nat") / "records.json"
    path.write_text(json.dumps({"code": "OK", "data": RECORDS}, ensure_ascii=False), encoding="utf-8")
    return parse_records(load(path))


def test_json_list_of_records(national):
    by = {p.code: p for p in national}
    assert list(by) == ["1.900001", "1.900002", "1.900003", "1.900004"]
    tt = by["1.900001"]
    assert tt.origin == "national" and tt.scope == "national" and tt.locality == "" and tt.level == "commune"
    assert tt.promulgation == "Quyết định số 100/QĐ-BCA ngày 01/01/2026 của Bộ Công an"
    # each channel keeps its own time and fee
    ch = {c["channel"]: c for c in tt.channel_details}
    assert ch["online"]["time"] == "03 ngày làm việc" and ch["online"]["fees"][0]["amount_vnd"] == 7000
    assert ch["in_person"]["fees"][0]["text"] == "15.000 đồng" and ch["post"]["label"] == "Nộp qua dịch vụ bưu chính"
    assert tt.fee.splitlines() == ["- Nộp trực tuyến: Nộp trực tuyến: 7.000 đồng/lần",
                                   "- Nộp trực tiếp, Nộp qua dịch vụ bưu chính: 15.000 đồng"]
    assert not tt.fee_exempt and tt.time_limit == "03 ngày làm việc"
    # papers per case with original / copy counts and which are mandatory; notes kept apart
    assert [(d["name"], d["quantity"], d["required"]) for d in tt.documents] == [
        ("Tờ khai thay đổi thông tin cư trú (Mẫu CT01);".rstrip(";"), "01 bản chính", True),
        ("Giấy tờ chứng minh chỗ ở hợp pháp", "01 bản sao", False)]
    assert tt.documents[0]["group"] == "Hồ sơ đăng ký tạm trú gồm"
    assert "không phải nộp" in tt.extra["Lưu ý về hồ sơ"]
    assert tt.cases == [{"name": "mã 1.900001.01", "code": "1.900001.01", "time": "03 ngày làm việc",
                         "time_norm": tt.cases[0]["time_norm"]}]
    assert tt.keywords == ["Tạm trú"] and tt.legal_basis == ["Luật Cư trú (số 68/2020/QH14)"]
    # 0 đồng with no text is free; times differing per row of one channel keep their condition
    xn = by["1.900002"]
    assert xn.fee_exempt and "0 đồng (miễn phí)" in xn.fee
    assert "(Đối với trường hợp cần xác minh): 03 ngày làm việc" in xn.time_limit
    # a zero that defers to the province is not free; a time with unit OTHER is not shown as days
    lk = by["1.900003"]
    assert not lk.fee_exempt and lk.fee_set_by_province
    assert lk.name == "Đăng ký lại khai tử mẫu" and not re.search(r"5 ngày", lk.time_limit)
    assert "không ghi đơn vị" in lk.time_limit
    # a province's record belongs to that province; a time written as text is kept; no fee stated -> none
    dc = by["1.900004"]
    assert (dc.scope, dc.locality, dc.province) == ("province", "tỉnh Hà Nam Sơn", "Hà Nam Sơn")
    assert dc.time_limit.startswith("Không quá 10 ngày làm việc") and dc.fee == ""


def test_national_rows_round_trip(tmp_path, national):
    db = tmp_path / "x.db"
    save_procedures(db, national)
    back = {p.code: p for p in load_procedures(db)}
    for p in national:
        assert back[p.code] == p


def test_national_answers(national):
    pa = ProcedureAnswerer(national)
    online = pa.answer("Đăng ký tạm trú mẫu nộp trực tuyến lệ phí bao nhiêu?")
    lines = online.text.splitlines()
    assert online.found and "7.000" in lines[1]  # the channel asked comes first
    assert "quy định chung trên Cơ sở dữ liệu quốc gia về thủ tục hành chính" in online.text
    assert "Nguồn: mã 1.900001, công bố kèm Quyết định số 100/QĐ-BCA" in online.text
    assert online.text.count("Cơ sở dữ liệu quốc gia") == 1  # said once
    assert online.procedures[0].source.startswith("Cơ sở dữ liệu quốc gia về thủ tục hành chính, mã 1.900001")
    assert online.text.count("Tờ khai") == 0  # only what was asked
    free = pa.answer("xác nhận thông tin cư trú mẫu có mất tiền không")
    assert free.found and "không mất phí" in free.text and "0 đồng" in free.text
    province_fee = pa.answer("đăng ký lại khai tử mẫu lệ phí bao nhiêu")
    assert "mức phí cụ thể do tỉnh quy định" in province_fee.text
    docs = pa.answer("đăng ký tạm trú mẫu cần giấy tờ gì")
    assert "Tờ khai thay đổi thông tin cư trú (Mẫu CT01) (01 bản chính, bắt buộc)" in docs.text
    assert docs.text.count("Nguồn:") == 1
    # a procedure the bot has nowhere: refused plainly, no other procedure's fee or time
    none = pa.answer("làm hộ chiếu phổ thông mất bao lâu")
    assert none is not None and not none.found and "dichvucong.gov.vn" in none.text
    assert not re.search(r"\d+ ngày|\d[\d.]* đồng", none.text)


# ----------------------------------------------------------------------------------------------- precedence

@pytest.fixture(scope="module")
def mixed(national):
    """The sample commune catalogue (xã Hải Hậu) + a national record of the same procedure with another time +
    the national test records + a province's record."""
    commune = parse_catalogue(load(SAMPLE)).procedures
    general = parse_records(_raw_json([record("1.001193", "Thủ tục đăng ký khai sinh", field="Hộ tịch",
                                              issuer="Bộ Tư pháp",
                                              methods=[method("DIRECT", 3, "WORKING_DAY", [(0, "")])])]))
    return commune, general, national


def _raw_json(recs: list[dict]):
    from index.elements import RawDocument

    return RawDocument(path=Path("records.json"), sha="x", blocks=[], kind="json", data=recs)


def test_commune_catalogue_wins_for_its_locality(mixed):
    commune, general, national = mixed
    pa = ProcedureAnswerer(commune + general + national)
    own = pa.answer("Đăng ký khai sinh mất bao lâu?", "xã Hải Hậu")
    assert own.procedures[0].locality == "xã Hải Hậu" and "Quyết định số" in own.text
    assert "quy định chung" not in own.text and "03 ngày làm việc" not in own.text
    other = pa.answer("Đăng ký khai sinh mất bao lâu?", "xã Tân Lập")
    assert other.procedures[0].locality == "" and "03 ngày làm việc" in other.text
    assert "quy định chung trên Cơ sở dữ liệu quốc gia" in other.text
    named = pa.answer("Xã Hải Hậu: đăng ký khai sinh mất bao lâu?")
    assert named.procedures[0].locality == "xã Hải Hậu"


def test_province_record_only_for_its_province(mixed):
    commune, general, national = mixed
    pa = ProcedureAnswerer(commune + general + national)
    own = pa.answer("Hà Nam Sơn: đính chính giấy chứng nhận mẫu mất bao lâu?")
    assert own.found and "do UBND tỉnh Hà Nam Sơn công bố, áp dụng tại tỉnh Hà Nam Sơn" in own.text
    assert not own.text.startswith("Tôi chưa có")
    elsewhere = pa.answer("Đính chính giấy chứng nhận mẫu mất bao lâu?", "xã Hải Hậu")
    assert elsewhere.found and elsewhere.text.startswith("Tôi chưa có hồ sơ thủ tục này của xã Hải Hậu")


# ----------------------------------------------------------------------------------------------- contract 6

def test_best_gives_comparable_evidence(mixed):
    commune, general, national = mixed
    pa = ProcedureAnswerer(commune + general + national)
    m = pa.best("Hải Hậu: đăng ký khai sinh cần giấy tờ gì?")
    assert isinstance(m, ProcMatch) and m.code == "1.001193" and m.procedure is not None
    assert m.field == "documents" and m.field_found and m.locality_match is True
    assert 0.8 <= m.coverage <= 1.0 and 0 < m.name_score <= 1.0 and m.is_procedure_question
    assert m.answer.found and m.answer.procedures[0].code == "1.001193"
    missing = pa.best("đăng ký tạm trú mẫu căn cứ pháp lý là gì", "xã Tân Lập")
    assert missing.field == "legal" and missing.field_found and missing.locality_match is False
    weak = pa.best("ai chủ trì rà soát thủ tục hành chính năm 2026")
    assert weak is None or (not weak.is_procedure_question and weak.coverage < 0.5)
    assert pa.best("thời tiết hôm nay thế nào") is None


# ----------------------------------------------------------------------------------------------- index report

def test_index_reports_procedures_and_fields(tmp_path):
    from index.pipeline import build_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    list_only_decision(corpus / "qd-120.txt")
    (corpus / "records.json").write_text(json.dumps(RECORDS, ensure_ascii=False), encoding="utf-8")
    (corpus / "not-records.json").write_text(json.dumps({"hello": [1, 2]}), encoding="utf-8")
    # looks like a catalogue (its block headings), yields no procedure
    (corpus / "empty.txt").write_text("Trình tự thực hiện:\nCách thức thực hiện:\nThành phần hồ sơ:\n"
                                      "Phí, lệ phí:\nThời hạn giải quyết:\n", encoding="utf-8")
    summary = build_index(corpus, tmp_path / "data", embedder=None, progress=False)
    docs = {d["document"]: d for d in summary.per_doc}
    assert docs["qd-120.txt"]["kind"] == "catalogue" and docs["qd-120.txt"]["procedures"] == 3
    assert docs["qd-120.txt"]["fields"] >= 12
    assert docs["records.json"]["kind"] == "national" and docs["records.json"]["procedures"] == 4
    assert docs["records.json"]["fields"] >= 20
    assert docs["empty.txt"]["procedures"] == 0 and docs["empty.txt"]["warnings"]
    assert any(p.endswith("not-records.json") for p, _ in summary.skipped)
    assert {p.code for p in load_procedures(tmp_path / "data" / "cchc.db")} >= {"1.003596", "1.900001"}


def test_procedure_is_plain_dataclass_row():
    p = Procedure(code="1.000001", name="X", channel_details=[{"channel": "online"}], listed_only=True)
    assert Procedure.from_row(p.to_row()) == p


# ----------------------------------------------------------------------------------------------- the bundled corpus

@pytest.fixture(scope="module")
def bundled():
    """The bundled corpus's national records with the sample commune catalogue (xã Hải Hậu)."""
    procs = parse_catalogue(load(SAMPLE)).procedures
    for path in sorted((ROOT / "corpus" / "tthc").glob("*.json")):
        procs += parse_records(load(path))
    return ProcedureAnswerer(procs)


def test_context_words_do_not_sink_coverage(bundled):
    """Words about the asker ("bố tôi mới mất", "lúc 4 giờ chiều") are context, not a procedure's name: the
    coverage the router compares stays high."""
    m = bundled.best("Bố tôi mới mất, làm khai tử ở xã Hải Hậu cần mang gì?")
    assert m.code == "1.000656" and m.coverage >= 0.6 and m.answer.found
    m = bundled.best("Nộp hồ sơ khai sinh ở xã Hải Hậu lúc 4 giờ chiều thì bao giờ có kết quả?")
    assert m.code == "1.001193" and m.coverage >= 0.5 and m.field == "time"


@pytest.mark.parametrize("q", [
    "Đăng ký kết hôn có yếu tố nước ngoài ở xã Hải Hậu hết bao nhiêu tiền?",  # a qualifier no record has
    "Cấp căn cước cho trẻ em dưới 14 tuổi ở công an xã mất bao lâu?",  # not "… thẻ bảo hiểm y tế cho trẻ em …"
    "đăng ký biển số xe máy ở đâu",  # "biển" folds like "biến" (đăng ký biến động)
])
def test_never_another_procedures_value(bundled, q):
    ans = bundled.answer(q)
    assert ans is not None and not ans.found and ans.intent == "procedure_not_found", ans and ans.text[:300]
    assert not re.search(r"\d+ ngày|\d[\d.]* đồng|miễn lệ phí|không thu", ans.text, re.I)
