"""Plans nobody here wrote: every real plan of ../shared/real/plans (skipped without ../shared), and generated
plans in the layouts of the genre (DOCX with Word auto-numbering, a crawled one-cell-per-line page, a PDF table
split across pages). Issuer, number, date, signer, and a sample of tasks with lead / coordinators / deadline."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from index.loaders import load
from index.structure import parse_plan
from index.tasks import extract_tasks
from index.textnorm import fold

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT.parent / "shared" / "real" / "plans"
sys.path.insert(0, str(Path(__file__).parent))
from docgen import make_docx_provincial_plan, make_one_cell_per_line_plan, make_pdf_split_rows  # noqa: E402

needs_real = pytest.mark.skipif(not REAL.exists(), reason="../shared/real not present")

META = [  # file, issuer, level, number, date, signer
    ("kh-2025-2035-doi-moi-cong-nghe-tinh-dong-thap.txt", "UBND tỉnh Đồng Tháp", "province", "552/KH-UBND", "2025-11-19", "Huỳnh Minh Tuấn"),
    ("kh-2025-2030-csdl-quy-hoach-tp-ho-chi-minh.txt", "UBND thành phố Hồ Chí Minh", "province", "2820/QĐ-UBND", "2025-11-19", "Nguyễn Lộc Hà"),
    ("kh-2026-2030-kinh-te-so-xa-hoi-so-tinh-bac-ninh.txt", "UBND tỉnh Bắc Ninh", "province", "144/KH-UBND", "2025-11-24", "Mai Sơn"),
    ("kh-2025-luat-viec-lam-tp-ho-chi-minh.txt", "UBND thành phố Hồ Chí Minh", "province", "172/KH-UBND", "2025-11-18", "Trần Thị Diệu Thúy"),
    ("kh-2025-luat-tieu-chuan-quy-chuan-ky-thuat-tinh-lai-chau.txt", "UBND tỉnh Lai Châu", "province", "7360/KH-UBND", "2025-11-19", "Tống Thanh Hải"),
    ("kh-2023-bao-ve-bi-mat-nha-nuoc-tinh-son-la.txt", "UBND tỉnh Sơn La", "province", "254/QĐ-UBND", "2023-02-17", "Hoàng Quốc Khánh"),
    ("kh-2025-2030-phong-chong-ma-tuy-tp-can-tho.txt", "UBND thành phố Cần Thơ", "province", "153/KH-UBND", "2025-11-17", "Trương Cảnh Tuyên"),
    ("kh-2025-2035-giao-duc-mam-non-tinh-ha-tinh.txt", "UBND tỉnh Hà Tĩnh", "province", "624/KH-UBND", "2025-11-19", "Nguyễn Thị Nguyệt"),
]


def _plan(path: Path):
    return parse_plan(load(path))


def _task(tasks, *words):
    hits = [t for t in tasks if all(fold(w) in fold(t.title) for w in words)]
    assert hits, words
    return hits[0]


@needs_real
@pytest.mark.parametrize("name,issuer,level,number,date,signer", META)
def test_issuer_number_date_signer_from_the_header_never_the_motto(name, issuer, level, number, date, signer):
    plan = _plan(REAL / name)
    m = plan.meta
    assert (m.issuer, m.level, m.number, m.date, m.signer) == (issuer, level, number, date, signer)
    assert "xã Hội" not in plan.locality and plan.locality == issuer.removeprefix("UBND ")
    assert m.citation().startswith(("Kế hoạch số", "Kế hoạch ban hành kèm theo Quyết định số"))
    # page furniture is never section content
    texts = [i.text for s in plan.root.walk() for i in s.items]
    assert not any("CỘNG HÒA XÃ HỘI" in t or t.startswith("Nơi nhận") for t in texts)


@needs_real
def test_one_cell_per_line_appendix_rows():
    ex = extract_tasks(_plan(REAL / "kh-2025-2035-doi-moi-cong-nghe-tinh-dong-thap.txt"))
    rows = [t for t in ex.tasks if t.origin == "row"]
    assert len(rows) >= 18
    t = _task(rows, "cải thiện môi trường đầu tư")
    assert t.lead == ["Sở Tài chính"] and t.coordinate == ["Sở Công Thương", "Ban Quản lý khu Kinh tế tỉnh Đồng Tháp"]
    assert t.deadline_text == "2026" and t.due == "2026-12-31"
    assert "NHÓM GIẢI PHÁP VỀ CƠ CHẾ CHÍNH SÁCH" in t.section  # group row


@needs_real
def test_rows_drawn_without_their_merged_cells_inherit_them():
    ex = extract_tasks(_plan(REAL / "kh-2025-2030-csdl-quy-hoach-tp-ho-chi-minh.txt"))
    t = _task(ex.tasks, "Thực hiện sao lưu dữ liệu", "phục hồi")
    assert t.lead == ["Sở Khoa học và Công nghệ"] and t.coordinate == ["Sở Tài chính"]
    # the row has no TT and no time cell of its own: its deadline is the merged cell of the row above
    assert t.deadline_text == "Quý IV/2026" and "time" not in t.raw_cells


@needs_real
def test_labelled_lines_wrapped_mid_phrase():
    ex = extract_tasks(_plan(REAL / "kh-2025-luat-viec-lam-tp-ho-chi-minh.txt"))
    t = _task(ex.tasks, "tập huấn, bồi dưỡng")
    assert t.origin == "labelled" and t.lead == ["Sở Nội vụ", "Sở Giáo dục và Đào tạo", "Sở Tài chính"]
    assert "Bảo hiểm xã hội Thành phố" in t.coordinate
    assert t.deadline_kind == "recurring" and t.deadline["recurrence"] == "yearly"  # "Năm 2025 và các năm tiếp theo"
    lc = extract_tasks(_plan(REAL / "kh-2025-luat-tieu-chuan-quy-chuan-ky-thuat-tinh-lai-chau.txt"))
    k = _task(lc.tasks, "Phối hợp kiểm tra việc thi hành Luật")
    assert k.lead == ["Sở Khoa học và Công nghệ"] and k.deadline_text.startswith("Năm 2026")


@needs_real
def test_inline_assignments_and_duties_per_unit():
    ex = extract_tasks(_plan(REAL / "kh-2023-bao-ve-bi-mat-nha-nuoc-tinh-son-la.txt"))
    t = _task(ex.tasks, "Quy chế bảo vệ BMNN trên địa bàn tỉnh")
    assert t.lead == ["Công an tỉnh"] and "Văn phòng UBND tỉnh" in t.coordinate
    d = _task(ex.tasks, "kiểm tra công tác bảo vệ BMNN trên không gian mạng")
    assert d.owner == "Sở Thông tin và Truyền thông" and d.lead == ["Công an tỉnh"]
    assert "Sở Thông tin và Truyền thông" in d.coordinate
    s = _task(ex.tasks, "gửi về UBND tỉnh")
    assert s.due == "2023-02-28"


@needs_real
def test_cross_references_give_the_referenced_sections_a_lead():
    ex = extract_tasks(_plan(REAL / "kh-2026-2030-kinh-te-so-xa-hoi-so-tinh-bac-ninh.txt"))
    body = [t for t in ex.tasks if t.origin == "body" and "IV." in t.section and "1. Nông nghiệp" in t.section]
    assert body and all(t.lead == ["Sở Nông nghiệp và Môi trường"] and not t.lead_inferred for t in body)
    assert all("mục (IV) (1)" in t.note for t in body)
    target = [t for t in ex.tasks if t.origin == "row" and "chữ ký số" in t.title]
    assert target and target[0].lead == ["Tỉnh đoàn"]


@needs_real
def test_unit_headings_wrapped_after_their_number():
    ex = extract_tasks(_plan(REAL / "kh-2025-2035-giao-duc-mam-non-tinh-ha-tinh.txt"))
    owners = {t.owner for t in ex.tasks if t.owner}
    assert {"Sở Giáo dục và Đào tạo", "Sở Nội vụ", "Sở Tài chính", "Sở Nông nghiệp và Môi trường"} <= owners
    t = _task(ex.tasks, "quỹ đất")
    assert t.owner == "Sở Nông nghiệp và Môi trường"


@needs_real
def test_every_real_plan_is_understood():
    """The extraction report of every real plan: tasks found, most with an explicit lead, no issuer warning."""
    for path in sorted(REAL.glob("*.txt")):
        ex = extract_tasks(_plan(path))
        r = ex.report
        assert r["tasks"] >= 4, path.name
        assert r["explicit_leads"] / r["tasks"] >= 0.4, (path.name, r)
        assert not any("cơ quan ban hành" in w for w in r["warnings"]), (path.name, r["warnings"])


def test_docx_with_word_auto_numbering(tmp_path):
    plan = _plan(make_docx_provincial_plan(tmp_path / "kh.docx"))
    m = plan.meta
    assert (m.issuer, m.level, m.number, m.date, m.signer, m.signer_title) == (
        "UBND tỉnh Tuyên Quang", "province", "215/KH-UBND", "2026-03-12", "Nguyễn Văn Sơn", "Phó chủ tịch")
    markers = [(s.marker, s.heading) for s in plan.root.walk() if s.rank >= 0]
    assert ("II", "NỘI DUNG") in markers and ("III", "TỔ CHỨC THỰC HIỆN") in markers  # numbers not in the text
    assert ("1", "Công an tỉnh") in markers and ("a", "Chủ trì xây dựng cơ sở dữ liệu tổng hợp về dân cư của tỉnh.") in markers
    ex = extract_tasks(plan)
    t = _task(ex.tasks, "phổ biến Luật Dữ liệu")
    assert t.origin == "labelled" and t.lead == ["Sở Khoa học và Công nghệ"]
    assert t.coordinate == ["Sở Tư pháp", "Báo và Phát thanh, Truyền hình tỉnh"] and t.due == "2026-06-30"
    r = _task(ex.tasks, "Rà soát văn bản quy phạm pháp luật về dữ liệu")
    assert r.lead == ["Sở Tư pháp"] and r.due == "2026-09-30" and r.deadline_kind == "date"
    d = _task(ex.tasks, "báo cáo kết quả thực hiện về Sở Khoa học")
    assert d.owner == "Công an tỉnh" and d.deadline_kind == "recurring" and d.deadline["day_rule"] == {"day": 15, "month": 12}
    k = _task(ex.tasks, "Bố trí kinh phí")
    assert k.lead == ["Sở Tài chính"] and k.deadline_text == ""  # "chi thường xuyên" is not a deadline
    assert not any("Thời gian hoàn thành" in t.title for t in ex.tasks)  # a labelled line is not a task


def test_crawled_page_with_one_cell_per_line_tables(tmp_path):
    plan = _plan(make_one_cell_per_line_plan(tmp_path / "kh.md"))
    m = plan.meta
    assert (m.issuer, m.number, m.date, m.signer) == ("UBND tỉnh Điện Biên", "77/KH-UBND", "2026-06-05", "Trần Thị Hoa")
    assert "chuyển đổi số trong ngành y tế" in m.title
    ex = extract_tasks(plan)
    rows = [t for t in ex.tasks if t.origin == "row"]
    assert [t.lead for t in rows] == [["Sở Y tế"], ["Bảo hiểm xã hội tỉnh"], ["Sở Y tế"]]
    assert rows[1].deadline_text == "Quý III/2026" and "time" not in rows[1].raw_cells  # merged cell inherited
    assert rows[2].deadline_kind == "recurring"
    assert all("HẠ TẦNG SỐ" in t.section for t in rows)
    duty = _task(ex.tasks, "bệnh án điện tử")
    assert duty.owner == "Sở Y tế" and duty.coordinate == ["Sở Tài chính"]


def test_pdf_table_continued_across_pages(tmp_path):
    plan = _plan(make_pdf_split_rows(tmp_path / "kh.pdf"))
    rows = [t for t in extract_tasks(plan).tasks if t.origin == "row"]
    t = _task(rows, "Số hóa hồ sơ")
    assert "còn hiệu lực đang lưu trữ tại xã" in t.title and t.lead == ["Phòng Văn hóa - Xã hội"]
    assert len(rows) == 4


FRESH3 = ROOT / "tests" / "eval" / "corpus_fresh3" / "plans"


def test_sections_named_by_units_are_duties_whatever_their_parent_is_called():
    """Cần Thơ's population plan lists its duties under "II. NỘI DUNG THỰC HIỆN > 1. Sở Y tế > a) …" (not under a
    "Tổ chức thực hiện" heading): each item is its unit's duty; its footnotes ("[1] Chương trình số …") are not."""
    tasks = extract_tasks(_plan(FRESH3 / "kh-2025-cong-tac-dan-so-tp-can-tho.txt")).tasks
    check = next(t for t in tasks if fold("tăng cường kiểm tra, đôn đốc") in fold(t.quote))
    assert check.lead == ["Sở Y tế"] and "NỘI DUNG THỰC HIỆN > 1. Sở Y tế" in check.section
    budget = next(t for t in tasks if fold("tham mưu bố trí kinh phí theo phân cấp") in fold(t.quote))
    assert budget.lead == ["Sở Tài chính"] and budget.coordinate == ["Sở Y tế"]
    assert not [t for t in tasks if t.quote.lstrip().startswith("[")], "a footnote became a task"


def test_a_determiner_before_a_units_head_still_names_a_unit():
    """"4. Các doanh nghiệp viễn thông" heads its duties in Nghệ An's 5G plan; "Các nhiệm vụ trọng tâm" or
    "Các doanh nghiệp nhỏ và vừa" (a beneficiary) are not units."""
    from index.units import looks_like_unit

    assert looks_like_unit("Các doanh nghiệp viễn thông") and looks_like_unit("Các xã, phường")
    assert not looks_like_unit("Các nhiệm vụ trọng tâm") and not looks_like_unit("Các doanh nghiệp nhỏ và vừa")
    tasks = extract_tasks(_plan(FRESH3 / "kh-2026-2030-5g-iot-khu-cong-nghiep-tinh-nghe-an.txt")).tasks
    own = [t for t in tasks if t.lead == ["Các doanh nghiệp viễn thông"]]
    assert len(own) >= 4 and all("4. Các doanh nghiệp viễn thông" in t.section for t in own)


def test_a_steps_lead_is_the_subject_after_its_introductory_clause():
    """TP.HCM's housing plan: "Bước 4 … Trên cơ sở đề nghị của UBND quận, huyện, Sở Xây dựng chủ trì, phối hợp với
    Sở LĐ-TB&XH, Sở Tài chính lập Đề án … Thời gian hoàn tất: trước ngày 30 tháng 9 năm 2014" (no "Chủ trì:" line)."""
    from index.assignments import main_clause

    assert main_clause("Trên cơ sở đề nghị của Ủy ban nhân dân quận, huyện, Sở Xây dựng chủ trì lập Đề án.") \
        == "Sở Xây dựng chủ trì lập Đề án."
    assert main_clause("Sở Xây dựng chủ trì, phối hợp với Sở Tài chính.") == "Sở Xây dựng chủ trì, phối hợp với Sở Tài chính."
    tasks = extract_tasks(_plan(FRESH3 / "kh-2014-ho-tro-nha-o-nguoi-co-cong-tp-ho-chi-minh.txt")).tasks
    step4 = next(t for t in tasks if "30 tháng 9 năm 2014" in t.deadline_text)
    assert step4.lead == ["Sở Xây dựng"] and "Sở Tài chính" in step4.coordinate
    step5 = next(t for t in tasks if "15 tháng 10 năm 2014" in t.deadline_text)
    assert step5.lead == ["Sở Tài chính"]
