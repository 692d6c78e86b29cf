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
