"""Loaders and structure on real files: generated DOCX (merged cells) and PDF (ruled table over pages)."""
from pathlib import Path

import pytest

from index.loaders import LoadError, Table, load, text_to_blocks
from index.structure import parse_plan
from index.tasks import extract_tasks

from docgen import make_docx_plan, make_pdf_plan


def test_docx_table_with_vertically_merged_lead(tmp_path):
    raw = load(make_docx_plan(tmp_path / "plan.docx"))
    tables = [b for b in raw.blocks if isinstance(b, Table)]
    assert len(tables) == 1
    t = tables[0]
    # row 3 continues the vertical merge of row 2 in the lead and coordinator columns
    assert t.rows[3][3] == "Phòng Kinh tế" and t.merged[3][3]
    plan = parse_plan(raw)
    assert plan.locality == "xã Tân Lập" and plan.period == (2027, 2027)
    tasks = {t.title: t for t in extract_tasks(plan).tasks if t.source_kind == "table_row"}
    t2 = tasks["Số hóa hồ sơ hộ tịch lưu trữ tại xã"]
    assert t2.lead == ["Phòng Kinh tế"] and t2.coordinate == ["Văn phòng HĐND-UBND"]
    assert t2.deadline_kind == "period_end" and t2.due == "2027-06-30"
    t1 = tasks["Rà soát quy trình nội bộ giải quyết thủ tục cấp phép xây dựng"]
    assert t1.due == "2027-03-15" and t1.area == "Cải cách thủ tục hành chính"
    t3 = tasks["Triển khai chữ ký số cho công chức một cửa"]
    assert t3.lead == ["Trung tâm Phục vụ hành chính công"] and t3.due == "2027-12-31"
    assert t3.area.startswith("Chính quyền")
    assert not any(t.title.isupper() for t in tasks.values())  # group rows are not tasks


def test_pdf_table_across_pages(tmp_path):
    raw = load(make_pdf_plan(tmp_path / "plan.pdf", rows=28))
    plan = parse_plan(raw)
    assert plan.locality == "phường Hòa Bình"
    rows = [t for t in extract_tasks(plan).tasks if t.source_kind == "table_row"]
    assert len(rows) == 28  # repeated page headers dropped, nothing lost across the page break
    by_no = {int(t.title.split(":")[0].split()[-1]): t for t in rows}
    assert by_no[7].lead == ["Phòng Kinh tế"] and by_no[8].lead == ["Trung tâm Phục vụ hành chính công"]
    assert by_no[11].due == "2027-12-31" and by_no[12].due == "2027-01-31"
    assert "đất đai và dân cư" in by_no[20].title  # wrapped cell text joined


def test_tab_text_table_repairs_and_repeated_headers():
    text = (
        "PHỤ LỤC\n"
        "STT\tNhiệm vụ\tHoạt động\tChủ trì\tPhối hợp\tThời gian\n"
        "<b>I</b>\t<b>CẢI CÁCH THỂ CHẾ</b>\t\t\t\t\n"
        "1\tRà soát văn bản\tXây dựng kế hoạch của Tỉ\tnh\tVăn phòng HĐND và UBND\tCác cơ quan, đơn vị\tQuý IV/2026\n"
        "\t\tTập huấn cho công chức\t\t\tHàng năm\n"
        "\n"
        "STT\tNhiệm vụ\tHoạt động\tChủ trì\tPhối hợp\tThời gian\n"
        "\t\tvà người lao động\t\t\t\n"
    )
    blocks = text_to_blocks(text)
    table = [b for b in blocks if isinstance(b, Table)][0]
    assert table.rows[2][2] == "Xây dựng kế hoạch của Tỉnh"  # stray tab inside a word rejoined
    from index.tables import parse_task_table

    rows = parse_task_table(table)
    assert [r.title for r in rows] == ["Xây dựng kế hoạch của Tỉnh", "Tập huấn cho công chức và người lao động"]
    assert rows[1].cells["lead"] == "Văn phòng HĐND và UBND" and "lead" in rows[1].inherited
    assert rows[0].group == "I. CẢI CÁCH THỂ CHẾ"


@pytest.mark.parametrize("name,content", [
    ("broken.docx", b"PK\x03\x04 not really a zip"),
    ("broken.pdf", b"%PDF-1.4 garbage"),
    ("empty.txt", b""),
    ("binary.txt", b"\x00\x01\x02abc"),
])
def test_corrupt_files_raise_load_error(tmp_path, name, content):
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(LoadError) as exc:
        load(p)
    assert str(exc.value)


def test_pdf_row_cut_by_page_break_is_joined(tmp_path):
    from docgen import make_pdf_split_rows

    raw = load(make_pdf_split_rows(tmp_path / "split.pdf"))
    tasks = [t for t in extract_tasks(parse_plan(raw)).tasks if t.source_kind == "table_row"]
    assert len(tasks) == 4
    third = tasks[2]
    assert third.title.endswith("còn hiệu lực đang lưu trữ tại xã")
    assert third.lead == ["Phòng Văn hóa - Xã hội"] and third.due == "2027-09-30"
    assert tasks[3].lead == ["Trung tâm Phục vụ hành chính công"] and tasks[3].due == "2027-11-30"
