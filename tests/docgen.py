"""Generators of real test documents: a DOCX plan with a Word table (vertically merged cells) and a PDF
plan with a ruled table (rows split across pages, wrapped cell text)."""
from __future__ import annotations

from pathlib import Path

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
HEADER = ["STT", "Nội dung nhiệm vụ", "Kết quả/sản phẩm", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời gian hoàn thành"]


def make_docx_plan(path: Path, locality: str = "xã Tân Lập", year: int = 2027) -> Path:
    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    d = docx.Document()
    d.add_paragraph("ỦY BAN NHÂN DÂN")
    d.add_paragraph(f"KẾ HOẠCH")
    d.add_paragraph(f"Cải cách hành chính năm {year} của {locality}")
    d.add_paragraph(f"Ủy ban nhân dân {locality} ban hành Kế hoạch cải cách hành chính năm {year} như sau:")
    d.add_paragraph("I. MỤC TIÊU")
    d.add_paragraph(f"- Tỷ lệ hồ sơ trực tuyến đạt tối thiểu 75% trên địa bàn {locality}.")
    d.add_paragraph("II. TỔ CHỨC THỰC HIỆN")
    d.add_paragraph("1. Phòng Văn hoá – Xã hội")
    d.add_paragraph("- Là cơ quan thường trực về cải cách hành chính; chủ trì, phối hợp với các cơ quan tham mưu các nội dung về cải cách thể chế.")
    d.add_paragraph("PHỤ LỤC NHIỆM VỤ")
    rows = [
        HEADER,
        ["I", "CẢI CÁCH THỦ TỤC HÀNH CHÍNH", "", "", "", ""],
        ["1", "Rà soát quy trình nội bộ giải quyết thủ tục cấp phép xây dựng", "Báo cáo", "Phòng Kinh tế", "Văn phòng HĐND-UBND", f"Trước ngày 15/3/{year}"],
        ["2", "Số hóa hồ sơ hộ tịch lưu trữ tại xã", "Dữ liệu số", "", "", f"Quý II/{year}"],
        ["II", "CHÍNH QUYỀN SỐ", "", "", "", ""],
        ["1", "Triển khai chữ ký số cho công chức một cửa", "Chứng thư số", "Trung tâm Phục vụ hành chính công", "Phòng Văn hóa - Xã hội", f"31/12/{year}"],
    ]
    table = d.add_table(rows=len(rows), cols=len(HEADER))
    table.style = "Table Grid"
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            table.cell(i, j).text = v
    # Vertical merges: lead and coordinator of row 3 sit in the merged cells of row 2.
    for col in (3, 4):
        table.cell(2, col).merge(table.cell(3, col))
    # The merge keeps the text of both cells in the top one; restore the top text only.
    table.cell(2, 3).text = "Phòng Kinh tế"
    table.cell(2, 4).text = "Văn phòng HĐND-UBND"
    # Horizontal merge of the group rows.
    for gi in (1, 4):
        a = table.cell(gi, 1).merge(table.cell(gi, 5))
        a.text = rows[gi][1]
        for p in a.paragraphs:
            for run in p.runs:
                run.bold = True
    d.save(str(path))
    return path


def make_pdf_plan(path: Path, locality: str = "phường Hòa Bình", year: int = 2027, rows: int = 28) -> Path:
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.add_font("DejaVu", "", FONT)
    pdf.add_font("DejaVu", "B", FONT)
    pdf.set_font("DejaVu", size=10)
    pdf.add_page()
    pdf.multi_cell(0, 6, new_x="LMARGIN", new_y="NEXT", text="KẾ HOẠCH")
    pdf.multi_cell(0, 6, new_x="LMARGIN", new_y="NEXT", text=f"Cải cách hành chính năm {year} {locality}")
    pdf.multi_cell(0, 6, new_x="LMARGIN", new_y="NEXT", text=f"Ủy ban nhân dân {locality} ban hành kế hoạch như sau:")
    pdf.multi_cell(0, 6, new_x="LMARGIN", new_y="NEXT", text="I. NHIỆM VỤ")
    pdf.multi_cell(0, 6, new_x="LMARGIN", new_y="NEXT", text="- Đẩy mạnh thanh toán trực tuyến phí, lệ phí trong giải quyết thủ tục hành chính.")
    pdf.multi_cell(0, 6, new_x="LMARGIN", new_y="NEXT", text="PHỤ LỤC")
    pdf.set_font("DejaVu", size=8)
    data = [["STT", "Nhiệm vụ", "Chủ trì", "Phối hợp", "Thời gian"]]
    for i in range(1, rows + 1):
        lead = "Phòng Kinh tế" if i % 2 else "Trung tâm Phục vụ hành chính công"
        data.append([str(i), f"Nhiệm vụ số {i}: cập nhật cơ sở dữ liệu chuyên ngành về đất đai và dân cư "
                     f"phục vụ giải quyết thủ tục hành chính trên môi trường điện tử đợt {i}",
                     lead, "Các cơ quan, đơn vị", f"Tháng {(i % 12) + 1:02d}/{year}"])
    with pdf.table(col_widths=(10, 80, 40, 35, 25), first_row_as_headings=True, repeat_headings=1) as table:
        for r in data:
            row = table.row()
            for v in r:
                row.cell(v)
    pdf.output(str(path))
    return path


def make_pdf_split_rows(path: Path, year: int = 2027) -> Path:
    """A ruled task table continued on the next page without a repeated header, where row 3 is cut by the
    page break: its task text goes on at the top of page 2 (lower case), the other cells empty — as Word
    prints a row that is allowed to break across pages."""
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.add_font("DejaVu", "", FONT)
    pdf.add_font("DejaVu", "B", FONT)
    pdf.set_font("DejaVu", size=9)
    widths = (10, 90, 50, 30)

    def table(rows, heading):
        with pdf.table(col_widths=widths, first_row_as_headings=heading) as t:
            for r in rows:
                row = t.row()
                for v in r:
                    row.cell(v)

    pdf.add_page()
    pdf.multi_cell(0, 5, new_x="LMARGIN", new_y="NEXT", text=f"KẾ HOẠCH cải cách hành chính năm {year} xã Phú Thịnh")
    pdf.multi_cell(0, 5, new_x="LMARGIN", new_y="NEXT", text="PHỤ LỤC")
    table([
        ["STT", "Nhiệm vụ", "Chủ trì", "Thời gian"],
        ["1", "Rà soát, công khai thủ tục hành chính trên Cổng dịch vụ công quốc gia", "Văn phòng HĐND và UBND", f"Quý I/{year}"],
        ["2", "Triển khai thanh toán trực tuyến phí, lệ phí", "Công an xã", f"Quý II/{year}"],
        ["3", "Số hóa hồ sơ, giấy tờ, kết quả giải quyết thủ tục hành chính", "Phòng Văn hóa - Xã hội", f"30/9/{year}"],
    ], True)
    pdf.add_page()
    table([
        ["", "còn hiệu lực đang lưu trữ tại xã", "", ""],
        ["4", "Đối thoại với người dân về thủ tục hành chính", "Trung tâm Phục vụ hành chính công", f"Tháng 11/{year}"],
    ], False)
    pdf.output(str(path))
    return path


def _add_numbering(document) -> dict[str, int]:
    """Add a multi-level list to the DOCX's numbering.xml: level 0 'I.', level 1 '1.', level 2 'a)' — the
    numbers Word shows but the paragraph text does not hold. Returns {"num_id": …}."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    numbering = document.part.numbering_part.element
    abstract_id = 90
    levels = [("upperRoman", "%1."), ("decimal", "%2."), ("lowerLetter", "%3)")]
    lvls = "".join(
        f'<w:lvl w:ilvl="{i}"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/><w:lvlText w:val="{txt}"/></w:lvl>'
        for i, (fmt, txt) in enumerate(levels))
    abstract = parse_xml(f'<w:abstractNum {nsdecls("w")} w:abstractNumId="{abstract_id}">{lvls}</w:abstractNum>')
    # abstractNum elements must come before num elements
    first_num = numbering.find(abstract.tag.replace("abstractNum", "num"))
    if first_num is not None:
        first_num.addprevious(abstract)
    else:
        numbering.append(abstract)
    num_id = 90
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="{num_id}"><w:abstractNumId w:val="{abstract_id}"/></w:num>'))
    return {"num_id": num_id}


def _numbered(document, text: str, level: int, num_id: int, bold: bool = False):
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    p = document.add_paragraph()
    run = p.add_run(text)
    run.bold = bold
    p._p.get_or_add_pPr().append(parse_xml(
        f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{level}"/><w:numId w:val="{num_id}"/></w:numPr>'))
    return p


def make_docx_provincial_plan(path: Path, province: str = "Tuyên Quang", number: str = "215/KH-UBND",
                              day: tuple[int, int, int] = (12, 3, 2026)) -> Path:
    """A provincial plan as a DOCX: header block in a layout table (issuer | national motto; number | place and
    date), headings and unit duties numbered by Word's automatic numbering, tasks with labelled lines, and a
    signature table ("Nơi nhận" | "TM. ỦY BAN NHÂN DÂN / KT. CHỦ TỊCH / PHÓ CHỦ TỊCH / name")."""
    import docx

    d = docx.Document()
    num = _add_numbering(d)["num_id"]
    head = d.add_table(rows=2, cols=2)
    head.cell(0, 0).text = f"ỦY BAN NHÂN DÂN\nTỈNH {province.upper()}\n-------"
    head.cell(0, 1).text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n---------------"
    head.cell(1, 0).text = f"Số: {number}"
    dd, mm, yy = day
    head.cell(1, 1).text = f"{province}, ngày {dd:02d} tháng {mm:02d} năm {yy}"
    t = d.add_paragraph()
    t.add_run("KẾ HOẠCH").bold = True
    d.add_paragraph(f"TRIỂN KHAI THI HÀNH LUẬT DỮ LIỆU TRÊN ĐỊA BÀN TỈNH {province.upper()}")
    d.add_paragraph(f"Ủy ban nhân dân tỉnh ban hành Kế hoạch triển khai thi hành Luật Dữ liệu như sau:")
    _numbered(d, "MỤC ĐÍCH, YÊU CẦU", 0, num, bold=True)
    d.add_paragraph("- Bảo đảm triển khai kịp thời, thống nhất Luật Dữ liệu trên địa bàn tỉnh.")
    _numbered(d, "NỘI DUNG", 0, num, bold=True)
    _numbered(d, "Tổ chức phổ biến Luật Dữ liệu cho cán bộ, công chức", 1, num, bold=True)
    d.add_paragraph("- Cơ quan chủ trì: Sở Khoa học và Công nghệ.")
    d.add_paragraph("- Cơ quan phối hợp: Sở Tư pháp; Báo và Phát thanh, Truyền hình tỉnh.")
    d.add_paragraph(f"- Thời gian thực hiện: Quý II/{yy}.")
    _numbered(d, "Rà soát văn bản quy phạm pháp luật về dữ liệu", 1, num, bold=True)
    d.add_paragraph("- Đơn vị chủ trì (tham mưu) thực hiện: Sở Tư pháp.")
    d.add_paragraph("- Cơ quan phối hợp: Các sở, ban, ngành; UBND các xã, phường.")
    d.add_paragraph(f"- Thời gian hoàn thành: Trước ngày 30/9/{yy}.")
    _numbered(d, "TỔ CHỨC THỰC HIỆN", 0, num, bold=True)
    _numbered(d, "Công an tỉnh", 1, num, bold=True)
    _numbered(d, "Chủ trì xây dựng cơ sở dữ liệu tổng hợp về dân cư của tỉnh.", 2, num)
    _numbered(d, "Hằng năm, trước ngày 15/12 báo cáo kết quả thực hiện về Sở Khoa học và Công nghệ.", 2, num)
    _numbered(d, "Sở Tài chính", 1, num, bold=True)
    _numbered(d, "Bố trí kinh phí thực hiện Kế hoạch từ nguồn chi thường xuyên.", 2, num)
    sig = d.add_table(rows=1, cols=2)
    sig.cell(0, 0).text = "Nơi nhận:\n- Bộ Công an;\n- Lưu: VT."
    sig.cell(0, 1).text = "TM. ỦY BAN NHÂN DÂN\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH\nNguyễn Văn Sơn"
    d.save(str(path))
    return path


ONE_CELL_PER_LINE_PLAN = """|
**ỦY BAN NHÂN DÂN
TỈNH {PROVINCE}**
-------
|
**CỘNG HÒA XÃ HỘI
CHỦ NGHĨA VIỆT NAM**
Độc lập - Tự do - Hạnh phúc
|
|
Số: 77/KH-UBND
|
*{Province}, ngày 05 tháng 6
năm 2026*
|

**KẾ HOẠCH**

THỰC HIỆN CHUYỂN ĐỔI SỐ TRONG
NGÀNH Y TẾ TỈNH {PROVINCE} NĂM 2026

**I. MỤC TIÊU**

- Đến hết năm 2026, 90% cơ sở khám bệnh
sử dụng bệnh án điện tử.

**II. TỔ CHỨC THỰC HIỆN**

**1. Sở
Y tế**

a) Chủ trì, phối hợp với Sở Tài chính
bố trí kinh phí triển khai bệnh án điện tử.

**PHỤ LỤC**

|
**STT**
|
**NHIỆM VỤ**
|
**CƠ QUAN CHỦ TRÌ**
|
**CƠ QUAN PHỐI HỢP**
|
**THỜI GIAN**
|
|
**I**
|
**HẠ TẦNG SỐ**
|
|
1
|
Nâng cấp hạ tầng mạng tại
các trạm y tế xã
|
Sở Y tế
|
Sở Khoa học và Công nghệ; UBND các xã, phường
|
Quý III/2026
|
|
Kết nối liên thông dữ liệu
khám chữa bệnh với cơ sở dữ liệu quốc gia về bảo hiểm
|
Bảo hiểm xã hội tỉnh
|
|
2
|
Đào tạo kỹ năng số cho nhân viên y tế
|
Sở Y tế
|
Trường Cao đẳng Y tế
|
Hằng năm
|

|
*Nơi nhận:*
- Bộ Y tế;
- Lưu: VT.
|
**TM. ỦY BAN NHÂN DÂN
KT. CHỦ TỊCH
PHÓ CHỦ TỊCH**
**Trần Thị Hoa**
|
"""


def make_one_cell_per_line_plan(path: Path, province: str = "Điện Biên") -> Path:
    """A plan crawled from the web: header and appendix tables drawn one cell per line between '|' lines
    (merged cells left out), bold markers and lines wrapped inside phrases."""
    text = ONE_CELL_PER_LINE_PLAN.replace("{PROVINCE}", province.upper()).replace("{Province}", province)
    path.write_text(text, encoding="utf-8")
    return path


def make_numbered_docx_plan(path: Path, number: str = "15/KH-UBND", lead: str = "Phòng Kinh tế",
                            task: str = "Rà soát quy trình nội bộ giải quyết thủ tục cấp phép xây dựng") -> Path:
    """A commune plan with the header block of a real one (issuer, "Số: …", place and date, signer): two files
    with the same issuer and number are two versions of one plan."""
    import docx

    d = docx.Document()
    for line in ["ỦY BAN NHÂN DÂN", "XÃ TÂN LẬP", f"Số: {number}", "Tân Lập, ngày 05 tháng 01 năm 2027", "KẾ HOẠCH",
                 "Cải cách hành chính năm 2027 của xã Tân Lập", "I. MỤC TIÊU",
                 "- Tỷ lệ hồ sơ trực tuyến đạt tối thiểu 75%.", "II. NHIỆM VỤ"]:
        d.add_paragraph(line)
    table = d.add_table(rows=2, cols=5)
    for j, v in enumerate(["STT", "Nội dung nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời gian hoàn thành"]):
        table.cell(0, j).text = v
    for j, v in enumerate(["1", task, lead, "Văn phòng HĐND-UBND", "Quý II/2027"]):
        table.cell(1, j).text = v
    for line in ["Nơi nhận:", "CHỦ TỊCH", "Nguyễn Văn Bình"]:
        d.add_paragraph(line)
    d.save(str(path))
    return path
