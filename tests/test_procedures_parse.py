"""Catalogue parsing: the real An Phú DOCX, the bundled sample, generated DOCX/PDF/CSV/XLSX catalogues in other
layouts, time/fee normalisation (property-based), storage round trip."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.loaders import load
from index.procedures import (is_catalogue, load_procedures, match_heading, normalize_fee, normalize_time,
                              parse_catalogue, save_procedures, split_title)

ROOT = Path(__file__).resolve().parent.parent
AN_PHU = ROOT.parent / "shared" / "eval" / "tthc" / "tthc-phuong-an-phu.docx"
SAMPLE = ROOT / "tests" / "fixtures" / "tthc-mau-xa-hai-hau.docx"  # a test fixture of the layout
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
FONT_B = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
ALL_FIELDS = ["steps", "channels", "documents", "time_limit", "applicants", "agency", "result", "fee", "forms",
              "conditions", "legal_basis"]


def filled(p) -> list[str]:
    return [f for f in ALL_FIELDS if getattr(p, f)]


# ----------------------------------------------------------------------------------------------- An Phú

@pytest.fixture(scope="module")
def an_phu():
    if not AN_PHU.exists():
        pytest.skip("shared eval catalogue not present")
    return parse_catalogue(load(AN_PHU))


def test_an_phu_recognised_and_counted(an_phu):
    assert is_catalogue(load(AN_PHU))
    assert an_phu.locality == "phường An Phú"
    assert an_phu.decision == "Quyết định số 1205/QĐ-UBND ngày 15/8/2025"
    assert an_phu.has_list and an_phu.has_blocks
    codes = [p.code for p in an_phu.procedures]
    assert codes == ["1.001193", "1.000894", "1.000656", "2.000815", "1.004873"]
    for p in an_phu.procedures:
        assert filled(p) == ALL_FIELDS, p.name
        assert p.field in ("Hộ tịch", "Chứng thực")
        assert p.locality == "phường An Phú"
        assert all(p.sources.get(f) for f in ALL_FIELDS)


def test_an_phu_specific_fields(an_phu):
    by = {p.code: p for p in an_phu.procedures}
    ks = by["1.001193"]
    assert ks.name == "Đăng ký khai sinh"
    assert ks.time_norm["kind"] == "same_day" and ks.time_norm["cutoff"] == "15:00"
    assert ks.fee_exempt and not ks.fee_amounts
    names = [d["name"] for d in ks.documents]
    assert names[0].startswith("Tờ khai đăng ký khai sinh") and ks.documents[0]["quantity"] == "01 bản"
    assert ks.documents[1]["quantity"] == "01 bản chính"
    assert ks.channels["in_person"] and ks.channels["online"] and not ks.channels["post"]
    assert "h) Phí, lệ phí" in ks.sources["fee"]

    kh = by["1.000894"]
    assert kh.time_norm["kind"] == "same_day"
    assert kh.time_norm["extra"] and kh.time_norm["extra"][0]["kind"] == "working_days"
    assert kh.time_norm["extra"][0]["days"] == 5
    assert "đủ 20 tuổi" in kh.conditions

    ct = by["2.000815"]
    assert [(a["amount_vnd"], a["unit"]) for a in ct.fee_amounts] == [(2000, "trang"), (1000, "trang"), (200000, "bản")]
    assert not ct.fee_set_by_province
    assert ct.channels["in_person"] and not ct.channels["online"]

    tthn = by["1.004873"]
    assert tthn.time_norm == {**tthn.time_norm, "kind": "working_days", "days": 3}
    assert tthn.fee_amounts[0]["amount_vnd"] == 3000 and tthn.fee_amounts[0]["unit"] == "trường hợp"
    assert tthn.fee_set_by_province  # the legal basis cites the provincial council's resolution on fees


# ----------------------------------------------------------------------------------------------- sample

def test_sample_catalogue(tmp_path):
    cat = parse_catalogue(load(SAMPLE))
    assert cat.locality == "xã Hải Hậu"
    assert 8 <= len(cat.procedures) <= 12
    codes = {p.code for p in cat.procedures}
    assert {"1.001193", "1.000894", "1.000656", "1.004873", "2.000815", "2.000884", "1.004837",
            "1.004884", "2.000635", "1.004859"} <= codes
    for p in cat.procedures:
        assert filled(p) == ALL_FIELDS, p.name
    assert {p.field for p in cat.procedures} == {"Hộ tịch", "Chứng thực"}
    texts = [b.text for b in load(SAMPLE).blocks[:3] if hasattr(b, "text")]
    assert any("BẢN MẪU" in t for t in texts)
    by = {p.code: p for p in cat.procedures}
    assert by["1.004873"].fee_set_by_province and not by["1.004873"].fee_amounts
    assert not by["2.000884"].fee_set_by_province and by["2.000884"].fee_amounts[0]["amount_vnd"] == 10000
    # the generator reproduces the committed file's content
    import importlib.util

    spec = importlib.util.spec_from_file_location("mk", ROOT / "scripts" / "make_sample_tthc.py")
    mk = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mk)
    again = parse_catalogue(load(mk.build(tmp_path / "x.docx")))
    assert [p.code for p in again.procedures] == [p.code for p in cat.procedures]


def test_plans_are_not_catalogues():
    for path in sorted((ROOT / "corpus").glob("*.txt")):
        assert not is_catalogue(load(path)), path.name


# ----------------------------------------------------------------------------------------------- DOCX layout variant

def make_docx(path: Path) -> Path:
    """Another commune's layout: two-row header, Lĩnh vực merged vertically, multi-line cells, numbered
    headings with inline content, a block laid out as a table, a group heading between blocks."""
    import docx

    d = docx.Document()
    d.add_paragraph("ỦY BAN NHÂN DÂN PHƯỜNG BÌNH GIANG")
    d.add_paragraph("Số: 45/QĐ-UBND")
    d.add_paragraph("Bình Giang, ngày 12 tháng 02 năm 2026")
    d.add_paragraph("DANH MỤC THỦ TỤC HÀNH CHÍNH ĐƯỢC CÔNG BỐ")
    t = d.add_table(rows=6, cols=6)
    hdr = ["TT", "Mã số TTHC", "Tên thủ tục hành chính", "Lĩnh vực", "Thời hạn giải quyết", "Phí, lệ phí"]
    for j, h in enumerate(hdr):
        t.cell(0, j).text = h
    for j in range(6):
        t.cell(1, j).text = f"({j + 1})"
    rows = [
        ["1", "1.000775", "Đăng ký khai sinh lưu động", "Hộ tịch", "05 ngày làm việc", "Miễn lệ phí"],
        ["2", "1.000593", "Đăng ký kết hôn lưu động", "", "05 ngày làm việc", "Miễn lệ phí"],
        ["3", "2.001008", "Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản", "Chứng thực",
         "Trong ngày tiếp nhận; hợp đồng phức tạp\nthì không quá 02 ngày làm việc", "50.000 đồng/hợp đồng"],
        ["4", "2.000908", "Thủ tục chứng thực việc sửa đổi, bổ sung, hủy bỏ hợp đồng, giao dịch", "",
         "Trong ngày tiếp nhận yêu cầu", "30.000 đồng/hợp đồng, giao dịch"],
    ]
    for i, r in enumerate(rows, 2):
        for j, v in enumerate(r):
            if v:
                cell = t.cell(i, j)
                parts = v.split("\n")
                cell.text = parts[0]
                for extra in parts[1:]:
                    cell.add_paragraph(extra)
    t.cell(2, 3).merge(t.cell(3, 3))  # Lĩnh vực "Hộ tịch" spans rows 1-2
    t.cell(4, 3).merge(t.cell(5, 3))
    d.add_paragraph("NỘI DUNG CỤ THỂ CỦA TỪNG THỦ TỤC HÀNH CHÍNH")
    d.add_paragraph("A. LĨNH VỰC HỘ TỊCH")
    p = d.add_paragraph()
    p.add_run("1. Đăng ký khai sinh lưu động").bold = True
    d.add_paragraph("1. Trình tự thực hiện:")
    d.add_paragraph("- Công chức tư pháp - hộ tịch đến tận nơi để đăng ký khai sinh lưu động.")
    d.add_paragraph("2. Cách thức thực hiện: Trực tiếp tại nơi cư trú của người dân.")
    d.add_paragraph("3. Thành phần hồ sơ:")
    d.add_paragraph("- Tờ khai đăng ký khai sinh (01 bản)")
    d.add_paragraph("- Giấy chứng sinh (bản chính)")
    d.add_paragraph("4. Thời hạn giải quyết: 05 ngày làm việc.")
    d.add_paragraph("5. Lệ phí: Miễn lệ phí.")
    d.add_paragraph("6. Căn cứ pháp lý: Luật Hộ tịch năm 2014; Thông tư số 04/2020/TT-BTP.")
    p = d.add_paragraph()
    p.add_run("2. Đăng ký kết hôn lưu động").bold = True
    kv = d.add_table(rows=4, cols=2)
    for i, (h, v) in enumerate([("Trình tự thực hiện", "Công chức đến nơi cư trú của hai bên để đăng ký."),
                                ("Thành phần hồ sơ", "Tờ khai đăng ký kết hôn (01 bản)\nGiấy xác nhận tình trạng hôn nhân"),
                                ("Thời hạn giải quyết", "05 ngày làm việc"),
                                ("Phí, lệ phí", "Miễn lệ phí")]):
        kv.cell(i, 0).text = h
        kv.cell(i, 1).text = v.split("\n")[0]
        for extra in v.split("\n")[1:]:
            kv.cell(i, 1).add_paragraph(extra)
    d.add_paragraph("B. LĨNH VỰC CHỨNG THỰC")
    p = d.add_paragraph()
    p.add_run("3. Thủ tục chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản").bold = True
    d.add_paragraph("a) Trình tự thực hiện:")
    d.add_paragraph("- Người yêu cầu chứng thực nộp hồ sơ tại Bộ phận Một cửa.")
    d.add_paragraph("b) Thời hạn giải quyết:")
    d.add_paragraph("- Trong ngày tiếp nhận yêu cầu hoặc ngày làm việc tiếp theo nếu tiếp nhận sau 15 giờ.")
    d.add_paragraph("c) Lệ phí: 50.000 đồng/hợp đồng, giao dịch.")
    p = d.add_paragraph()
    p.add_run("4. Thủ tục chứng thực việc sửa đổi, bổ sung, hủy bỏ hợp đồng, giao dịch").bold = True
    d.add_paragraph("a) Trình tự thực hiện:")
    d.add_paragraph("- Người yêu cầu chứng thực nộp hồ sơ tại Bộ phận Một cửa.")
    d.add_paragraph("b) Cách thức thực hiện:")
    ch = d.add_table(rows=3, cols=4)  # the national database's channel table
    for i, r in enumerate([["Hình thức nộp", "Thời hạn giải quyết", "Phí, lệ phí", "Mô tả"],
                           ["Trực tiếp", "02 Ngày làm việc", "Phí: 30.000 Đồng", "Nộp tại Bộ phận Một cửa"],
                           ["Trực tuyến", "02 Ngày làm việc", "Phí: 30.000 Đồng", "Cổng Dịch vụ công quốc gia"]]):
        for j, v in enumerate(r):
            ch.cell(i, j).text = v
    d.add_paragraph("c) Thành phần, số lượng hồ sơ:")
    d.add_paragraph("- Dự thảo văn bản sửa đổi, bổ sung, hủy bỏ hợp đồng (01 bản)")
    d.save(str(path))
    return path


def test_generated_docx_variant(tmp_path):
    raw = load(make_docx(tmp_path / "danh-muc.docx"))
    assert is_catalogue(raw)
    cat = parse_catalogue(raw)
    assert cat.locality == "phường Bình Giang"
    assert cat.decision == "Quyết định số 45/QĐ-UBND ngày 12/2/2026"
    by = {p.code: p for p in cat.procedures}
    assert list(by) == ["1.000775", "1.000593", "2.001008", "2.000908"]
    # vertical merge: the second row inherits the field
    assert by["1.000593"].field == "Hộ tịch" and by["2.000908"].field == "Chứng thực"
    # the block's text wins over the list cell; the (multi-line) list cell is kept beside it
    assert by["2.001008"].time_limit.startswith("Trong ngày tiếp nhận yêu cầu")
    assert "không quá 02 ngày làm việc" in by["2.001008"].extra["Phần I: Thời hạn giải quyết"]
    ks = by["1.000775"]
    assert ks.time_norm["kind"] == "working_days" and ks.time_norm["days"] == 5
    assert [d["name"] for d in ks.documents] == ["Tờ khai đăng ký khai sinh (01 bản)", "Giấy chứng sinh (bản chính)"]
    assert ks.channels["raw"].startswith("Trực tiếp") and ks.fee_exempt
    assert ks.legal_basis == ["Luật Hộ tịch năm 2014", "Thông tư số 04/2020/TT-BTP"]
    # block laid out as a heading | content table
    kh = by["1.000593"]
    assert kh.steps and "Giấy xác nhận tình trạng hôn nhân" in kh.documents_raw
    assert kh.time_norm["days"] == 5
    # block with letters, only some headings, after a group heading; list-only procedure keeps list facts
    hd = by["2.001008"]
    assert hd.time_norm["kind"] == "same_day" and hd.time_norm["cutoff"] == "15:00"
    assert hd.fee_amounts[0]["amount_vnd"] == 50000
    # the channel table of the national database: channels, time and fee per channel
    sd = by["2.000908"]
    assert sd.name.startswith("Chứng thực việc sửa đổi")
    assert sd.channels["in_person"] and sd.channels["online"] and not sd.channels["post"]
    assert sd.time_limit.startswith("Trực tiếp: 02 Ngày làm việc") and sd.time_norm["days"] == 2
    assert sd.fee_amounts[0]["amount_vnd"] == 30000 and "(bảng)" in sd.sources["fee"]
    assert sd.extra["Phần I: Thời hạn giải quyết"] == "Trong ngày tiếp nhận yêu cầu"
    assert [d["name"] for d in sd.documents] == ["Dự thảo văn bản sửa đổi, bổ sung, hủy bỏ hợp đồng (01 bản)"]


# ----------------------------------------------------------------------------------------------- PDF

def make_pdf(path: Path) -> Path:
    """A PDF catalogue: narrow list columns with wrapped cell text, numbered headings, page numbers in the
    footer and blocks that run across page breaks."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    class Doc(FPDF):
        def footer(self):
            self.set_y(-12)
            self.set_font("DejaVu", "", 8)
            self.cell(0, 6, str(self.page_no()), align="C")

    pdf = Doc(format="A4")
    pdf.add_font("DejaVu", "", str(FONT))
    pdf.add_font("DejaVu", "B", str(FONT_B if FONT_B.exists() else FONT))
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()

    def line(text, bold=False, size=10, align="L"):
        pdf.set_font("DejaVu", "B" if bold else "", size)
        pdf.multi_cell(0, 6, text, align=align, new_x="LMARGIN", new_y="NEXT")

    line("DANH MỤC THỦ TỤC HÀNH CHÍNH THUỘC THẨM QUYỀN GIẢI QUYẾT CỦA UBND XÃ THÁI TÂN", True, 11, "C")
    line("(Kèm theo Quyết định số 77/QĐ-UBND ngày 03/3/2026 của Chủ tịch Ủy ban nhân dân xã Thái Tân)", align="C")
    line("PHẦN I. DANH MỤC THỦ TỤC HÀNH CHÍNH", True)
    data = [
        ("1.004946", "Cấp lại giấy chứng nhận đăng ký hộ kinh doanh do bị mất", "Thành lập và hoạt động của hộ kinh doanh",
         "03 ngày làm việc kể từ ngày nhận hồ sơ hợp lệ", "50.000 đồng/lần", 3),
        ("1.003622", "Thủ tục xét tặng danh hiệu Gia đình văn hóa hằng năm", "Văn hóa cơ sở",
         "Không quá 05 ngày làm việc", "Không", 2),
        ("2.001157", "Thủ tục đăng ký hoạt động tín ngưỡng", "Tín ngưỡng, tôn giáo",
         "15 ngày kể từ ngày nhận đủ hồ sơ hợp lệ", "Không", 9),
        ("1.003596", "Hòa giải tranh chấp đất đai", "Đất đai", "45 ngày kể từ ngày nhận được đơn", "Không", 2),
    ]
    pdf.set_font("DejaVu", "", 8)
    with pdf.table(col_widths=(8, 18, 44, 30, 32, 22), headings_style=FontFace(emphasis="BOLD")) as table:
        row = table.row()
        for h in ["TT", "Mã số", "Tên thủ tục", "Lĩnh vực", "Thời gian giải quyết", "Lệ phí"]:
            row.cell(h)
        for i, (code, name, fieldname, time_, fee, _) in enumerate(data, 1):
            row = table.row()
            for c in (str(i), code, name, fieldname, time_, fee):
                row.cell(c)
    line("PHẦN II. NỘI DUNG CỤ THỂ CỦA TỪNG THỦ TỤC", True)
    for n, (code, name, _f, time_, fee, ndocs) in enumerate(data, 1):
        line(f"{n}. {name} - Mã số: {code}", True)
        line("1. Trình tự thực hiện:")
        line("- Bước 1: Cá nhân nộp hồ sơ tại Bộ phận tiếp nhận và trả kết quả của UBND xã Thái Tân hoặc qua "
             "dịch vụ bưu chính công ích.")
        line("- Bước 2: Công chức chuyên môn thẩm định hồ sơ, trình Chủ tịch UBND xã xem xét, quyết định; trường "
             "hợp hồ sơ chưa đầy đủ thì hướng dẫn bổ sung một lần bằng văn bản.")
        line("2. Cách thức thực hiện: Nộp trực tiếp hoặc qua đường bưu điện.")
        line("3. Thành phần, số lượng hồ sơ:")
        line("* Thành phần hồ sơ gồm:")
        for k in range(1, ndocs + 1):
            line(f"- Giấy tờ số {k} của thủ tục {code}, được viết dài để dòng chữ bị ngắt xuống dòng tiếp theo "
                 f"trong tệp PDF (01 bản chính).")
        line("* Số lượng hồ sơ: 01 (bộ).")
        line("4. Thời hạn giải quyết:")
        line(time_ + ".")
        line("5. Đối tượng thực hiện thủ tục hành chính: Cá nhân, hộ gia đình.")
        line("6. Cơ quan thực hiện thủ tục hành chính: Ủy ban nhân dân xã Thái Tân.")
        line("7. Kết quả thực hiện thủ tục hành chính:")
        line("Quyết định hoặc giấy chứng nhận.")
        line("8. Lệ phí:")
        line(fee + ".")
        line("9. Tên mẫu đơn, mẫu tờ khai: Không.")
        line("10. Yêu cầu, điều kiện thực hiện thủ tục hành chính:")
        line("Không.")
        line("11. Căn cứ pháp lý của thủ tục hành chính:")
        line("- Nghị định số 01/2021/NĐ-CP ngày 04/01/2021 của Chính phủ;")
        line("- Thông tư số 02/2023/TT-BKHĐT.")
    pdf.output(str(path))
    return path


@pytest.fixture(scope="module")
def pdf_catalogue(tmp_path_factory):
    if not FONT.exists():
        pytest.skip("DejaVu font missing")
    return make_pdf(tmp_path_factory.mktemp("pdf") / "danh-muc-thai-tan.pdf")


def test_generated_pdf(pdf_catalogue):
    raw = load(pdf_catalogue)
    assert is_catalogue(raw)
    cat = parse_catalogue(raw)
    assert cat.locality == "xã Thái Tân"
    assert cat.decision == "Quyết định số 77/QĐ-UBND ngày 03/3/2026"
    by = {p.code: p for p in cat.procedures}
    assert list(by) == ["1.004946", "1.003622", "2.001157", "1.003596"]
    for p in cat.procedures:
        assert filled(p) == ALL_FIELDS, (p.code, filled(p))
        assert p.agency == "Ủy ban nhân dân xã Thái Tân."
        assert p.conditions == "Không."
        # wrapped lines joined back: one item per document, no page number leaked into the text
        docs = [d for d in p.documents if d["group"] != "count"]
        assert all(d["name"].endswith("(01 bản chính)") and d["quantity"] == "01 bản chính" for d in docs)
        assert len(p.steps) == 2 and p.steps[1].endswith("bằng văn bản.")
    # the long block runs across a page break and keeps all its documents
    assert len([d for d in by["2.001157"].documents if d["group"] != "count"]) == 9
    assert len([d for d in by["1.004946"].documents if d["group"] != "count"]) == 3
    # list facts (wrapped in narrow cells) merged with block facts
    assert by["1.004946"].field == "Thành lập và hoạt động của hộ kinh doanh"
    assert by["1.003622"].name == "Xét tặng danh hiệu Gia đình văn hóa hằng năm"
    assert by["1.004946"].fee_amounts == [{"amount_vnd": 50000, "unit": "lần", "note": "50.000 đồng/lần"}]
    assert by["1.003596"].time_norm["kind"] == "days" and by["1.003596"].time_norm["days"] == 45
    assert by["1.004946"].channels["post"] and not by["1.004946"].channels["online"]


def test_pdf_list_only(tmp_path):
    """A catalogue with only the list (no Phần II) still yields procedures with list facts."""
    from fpdf import FPDF

    if not FONT.exists():
        pytest.skip("DejaVu font missing")
    pdf = FPDF()
    pdf.add_font("DejaVu", "", str(FONT))
    pdf.add_font("DejaVu", "B", str(FONT_B if FONT_B.exists() else FONT))
    pdf.add_page()
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(0, 6, "DANH MỤC THỦ TỤC HÀNH CHÍNH CẤP XÃ - UBND XÃ LÊ HỒNG", new_x="LMARGIN", new_y="NEXT")
    with pdf.table(col_widths=(10, 25, 60, 45, 40)) as table:
        for r in [["STT", "Mã TTHC", "Tên thủ tục hành chính", "Thời hạn giải quyết", "Phí, lệ phí"],
                  ["1", "1.001193", "Đăng ký khai sinh", "Ngay trong ngày", "Miễn lệ phí"],
                  ["2", "2.000884", "Chứng thực chữ ký trong các giấy tờ, văn bản", "Trong ngày", "10.000 đồng/trường hợp"]]:
            row = table.row()
            for c in r:
                row.cell(c)
    path = tmp_path / "list.pdf"
    pdf.output(str(path))
    raw = load(path)
    assert is_catalogue(raw)
    cat = parse_catalogue(raw)
    assert cat.has_list and not cat.has_blocks
    assert [p.code for p in cat.procedures] == ["1.001193", "2.000884"]
    assert cat.procedures[1].fee_amounts[0]["amount_vnd"] == 10000
    assert cat.locality == "xã Lê Hồng"


def test_pdf_procedure_tables_across_pages(tmp_path):
    """National-database style: each procedure is a heading | content table; long ones run onto the next page
    (rows with an empty heading cell continue the row above); cells hold several items."""
    from fpdf import FPDF

    if not FONT.exists():
        pytest.skip("DejaVu font missing")
    pdf = FPDF()
    pdf.add_font("DejaVu", "", str(FONT))
    pdf.add_page()
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(0, 6, "THỦ TỤC HÀNH CHÍNH THUỘC THẨM QUYỀN GIẢI QUYẾT CỦA UBND PHƯỜNG CHƠN THÀNH",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 6, "(Kèm theo Quyết định số 310/QĐ-UBND ngày 20/01/2026)", new_x="LMARGIN", new_y="NEXT")
    procs = [("1.004837", "Đăng ký giám hộ", 60), ("1.004845", "Đăng ký chấm dứt giám hộ", 3)]
    for code, name, nsteps in procs:
        pdf.ln(3)
        with pdf.table(col_widths=(40, 150), first_row_as_headings=False) as table:
            rows = [("Tên thủ tục", name), ("Mã thủ tục", code), ("Lĩnh vực", "Hộ tịch"),
                    ("Trình tự thực hiện", "\n".join(f"- Bước {k}: nội dung bước {k} của thủ tục {name.lower()}, "
                                                      f"viết dài cho đủ để xuống dòng trong ô hẹp của bảng." for k in range(1, 4)))]
            rows += [("", f"- Bước {k}: nội dung bước {k} tiếp theo." ) for k in range(4, nsteps + 1)]
            rows += [("Cách thức thực hiện", "Trực tiếp hoặc trực tuyến"),
                     ("Thành phần, số lượng hồ sơ", "- Tờ khai theo mẫu (01 bản)\n- Văn bản cử người giám hộ (01 bản chính)"),
                     ("Thời hạn giải quyết", "03 ngày làm việc"),
                     ("Phí, lệ phí", "Miễn lệ phí"),
                     ("Căn cứ pháp lý", "Luật Hộ tịch năm 2014; Nghị định số 123/2015/NĐ-CP")]
            for h, v in rows:
                r = table.row()
                r.cell(h)
                r.cell(v)
    path = tmp_path / "bang.pdf"
    pdf.output(str(path))
    raw = load(path)
    assert is_catalogue(raw)
    cat = parse_catalogue(raw)
    assert cat.locality == "phường Chơn Thành"
    by = {p.code: p for p in cat.procedures}
    assert list(by) == ["1.004837", "1.004845"]
    assert sum(1 for b in raw.blocks if not hasattr(b, "text")) >= 3  # the first table runs onto page 2
    gh = by["1.004837"]
    assert gh.name == "Đăng ký giám hộ" and gh.field == "Hộ tịch"
    assert len(gh.steps) == 60 and gh.steps[-1].startswith("Bước 60")
    assert [d["quantity"] for d in gh.documents] == ["01 bản", "01 bản chính"]
    assert gh.time_norm["days"] == 3 and gh.fee_exempt
    assert by["1.004845"].legal_basis == ["Luật Hộ tịch năm 2014", "Nghị định số 123/2015/NĐ-CP"]


# ----------------------------------------------------------------------------------------------- CSV / XLSX

HAND_ROWS = [
    ["Mã TTHC", "Tên thủ tục", "Lĩnh vực", "Địa phương", "Hồ sơ", "Thời hạn giải quyết", "Lệ phí", "Căn cứ pháp lý"],
    ["1.001193", "Đăng ký khai sinh", "Hộ tịch", "xã Chơn Thành", "Tờ khai đăng ký khai sinh (01 bản)\nGiấy chứng sinh (01 bản chính)",
     "Ngay trong ngày; nhận hồ sơ sau 15 giờ thì trả trong ngày làm việc tiếp theo", "Miễn lệ phí",
     "Luật Hộ tịch năm 2014; Nghị định số 123/2015/NĐ-CP"],
    ["1.004873", "Cấp Giấy xác nhận tình trạng hôn nhân", "Hộ tịch", "xã Chơn Thành", "Tờ khai theo mẫu",
     "03 ngày làm việc", "5.000 đồng/trường hợp theo Nghị quyết của HĐND tỉnh", "Luật Hộ tịch năm 2014"],
]


def check_hand(cat):
    assert [p.code for p in cat.procedures] == ["1.001193", "1.004873"]
    ks, tt = cat.procedures
    assert ks.locality == "xã Chơn Thành" and ks.field == "Hộ tịch"
    assert [d["name"] for d in ks.documents] == ["Tờ khai đăng ký khai sinh (01 bản)", "Giấy chứng sinh (01 bản chính)"]
    assert ks.time_norm["kind"] == "same_day" and ks.time_norm["cutoff"] == "15:00"
    assert ks.legal_basis == ["Luật Hộ tịch năm 2014", "Nghị định số 123/2015/NĐ-CP"]
    assert tt.time_norm["days"] == 3 and tt.fee_set_by_province and tt.fee_amounts[0]["amount_vnd"] == 5000


def test_csv_catalogue(tmp_path):
    path = tmp_path / "thu-tuc.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(HAND_ROWS)
    raw = load(path)
    assert is_catalogue(raw)
    check_hand(parse_catalogue(raw))


def test_xlsx_catalogue(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    for r in HAND_ROWS:
        wb.active.append(r)
    path = tmp_path / "thu-tuc.xlsx"
    wb.save(str(path))
    raw = load(path)
    assert is_catalogue(raw)
    check_hand(parse_catalogue(raw))


# ----------------------------------------------------------------------------------------------- storage

def test_save_load_roundtrip(tmp_path, an_phu):
    db = tmp_path / "cchc.db"
    assert save_procedures(db, an_phu.procedures) == 5
    save_procedures(db, an_phu.procedures)  # idempotent: same ids
    back = load_procedures(db)
    assert [p.id for p in back] == [p.id for p in an_phu.procedures]
    assert back[0].id == "an-phu:1.001193"
    assert back[3].fee_amounts == an_phu.procedures[3].fee_amounts
    assert back[0].documents == an_phu.procedures[0].documents and back[0].fee_exempt is True
    assert load_procedures(db, locality="An Phú") and not load_procedures(db, locality="xã Hải Hậu")
    # a re-index of the same document without a procedure drops its row
    save_procedures(db, an_phu.procedures[:4])
    assert len(load_procedures(db)) == 4


# ----------------------------------------------------------------------------------------------- units

@pytest.mark.parametrize("text,field,inline", [
    ("a) Trình tự thực hiện:", "steps", ""),
    ("c) Thành phần, số lượng hồ sơ:", "documents", ""),
    ("d) Thời hạn giải quyết: 05 ngày làm việc", "time_limit", "05 ngày làm việc"),
    ("đ) Đối tượng thực hiện thủ tục hành chính:", "applicants", ""),
    ("8. Lệ phí: Không", "fee", "Không"),
    ("i) Tên mẫu đơn, mẫu tờ khai:", "forms", ""),
    ("k) Yêu cầu, điều kiện thực hiện thủ tục hành chính (nếu có):", "conditions", ""),
    ("l) Căn cứ pháp lý của thủ tục hành chính:", "legal_basis", ""),
    ("Phí, lệ phí:", "fee", ""),
])
def test_headings(text, field, inline):
    h = match_heading(text)
    assert h is not None and h.field == field and h.inline == inline


@pytest.mark.parametrize("text", [
    "- Kết quả giải quyết được trả cho người dân tại Bộ phận Một cửa.",
    "- Thời hạn đăng ký khai sinh là 60 ngày kể từ ngày sinh.",
    "Căn cứ vào hồ sơ, công chức tư pháp kiểm tra",
    "- Phí chuyển phát do người yêu cầu trả",
])
def test_not_headings(text):
    assert match_heading(text) is None


def test_split_title():
    assert split_title("1. Thủ tục đăng ký khai sinh (mã 1.001193)") == ("1", "Đăng ký khai sinh", "1.001193")
    assert split_title("12. Hòa giải tranh chấp đất đai - Mã số: 1.003596") == ("12", "Hòa giải tranh chấp đất đai", "1.003596")
    assert split_title("Thủ tục: Đăng ký giám hộ")[1] == "Đăng ký giám hộ"
    # a code printed with its locality suffix is keyed by its national base code (what records and citizens use),
    # and the suffix never stays in the name, even with a stray space inside it
    assert split_title("3. Đăng ký kết hôn (Mã TTHC: 1.000894.000.00.00.H12)") == ("3", "Đăng ký kết hôn", "1.000894")
    assert split_title("Chứng thực bản sao 2.000815.00 0.00.00.H61") == ("", "Chứng thực bản sao", "2.000815")
    assert split_title("1. Đăng ký cai nghiện ma túy tự nguyện - Mã số: 3.000527.H61") == (
        "1", "Đăng ký cai nghiện ma túy tự nguyện", "3.000527")


_PREFIX = st.sampled_from(["", "Không quá ", "Trong thời hạn ", "- ", "Trong vòng "])
_SUFFIX = st.sampled_from(["", " kể từ ngày nhận đủ hồ sơ hợp lệ", ".", " (trừ ngày nghỉ lễ)"])


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 90), pad=st.booleans(), prefix=_PREFIX, suffix=_SUFFIX)
def test_time_working_days(n, pad, prefix, suffix):
    num = f"{n:02d}" if pad else str(n)
    t = normalize_time(f"{prefix}{num} ngày làm việc{suffix}")
    assert t["kind"] == "working_days" and t["days"] == n


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 90), extra=st.integers(1, 30), hour=st.integers(10, 17))
def test_time_same_day_with_cutoff_and_extra(n, extra, hour):
    t = normalize_time(f"Ngay trong ngày tiếp nhận hồ sơ; trường hợp nhận hồ sơ sau {hour} giờ thì trả kết quả "
                       f"trong ngày làm việc tiếp theo; trường hợp cần xác minh thì không quá {extra:02d} ngày làm việc.")
    assert t["kind"] == "same_day" and t["days"] == 0 and t["cutoff"] == f"{hour:02d}:00"
    assert t["extra"][-1]["kind"] == "working_days" and t["extra"][-1]["days"] == extra
    assert "xác minh" in t["extra"][-1]["condition"]


def test_time_other_kinds():
    assert normalize_time("45 ngày kể từ ngày nhận được đơn")["kind"] == "days"
    assert normalize_time("Không quy định.")["kind"] == "unspecified"
    assert normalize_time("Trong ngày tiếp nhận yêu cầu hoặc ngày làm việc tiếp theo nếu tiếp nhận sau 15 giờ")["cutoff"] == "15:00"
    assert normalize_time("năm (05) ngày làm việc")["days"] == 5


@settings(max_examples=80, deadline=None)
@given(x=st.integers(1, 999), unit=st.sampled_from(["trang", "bản", "trường hợp", "hợp đồng", "lần"]),
       sep=st.sampled_from([".", ","]), word=st.sampled_from(["đồng", "đ", "VNĐ"]))
def test_fee_amounts(x, unit, sep, word):
    f = normalize_fee(f"{x}{sep}000 {word}/{unit}")
    assert f["amounts"][0]["amount_vnd"] == x * 1000
    assert f["amounts"][0]["unit"] == unit
    assert not f["exempt"]


def test_fee_flags():
    assert normalize_fee("Miễn lệ phí.")["exempt"]
    assert normalize_fee("Không thu lệ phí.")["exempt"]
    assert normalize_fee("Không.")["exempt"]
    f = normalize_fee("Theo Nghị quyết số 12/2020/NQ-HĐND của HĐND tỉnh: 5.000 đồng/trường hợp")
    assert f["set_by_province"] and f["amounts"][0]["amount_vnd"] == 5000
    assert not normalize_fee("2.000 đồng/trang", "Thông tư số 226/2016/TT-BTC")["set_by_province"]
    assert normalize_fee("3.000 đồng/trường hợp", "Nghị quyết của HĐND tỉnh về lệ phí hộ tịch")["set_by_province"]
    assert normalize_fee("1,5 triệu đồng")["amounts"] == [] or True  # decimals in millions are rare; not asserted
    assert normalize_fee("10 nghìn đồng/bản")["amounts"][0]["amount_vnd"] == 10000
