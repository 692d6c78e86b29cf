"""Task extraction on every sample plan (real files in corpus/)."""
from pathlib import Path

import pytest

from index.loaders import load
from index.structure import parse_plan
from index.tasks import extract_tasks
from index.textnorm import fold

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def _extract(name):
    return extract_tasks(parse_plan(load(CORPUS / name)))


def _find(tasks, words):
    hits = [t for t in tasks if all(fold(w) in fold(t.title) for w in words)]
    assert hits, words
    return hits[0]


def test_chon_thanh_appendix_rows():
    ex = _extract("kh-cchc-2026-phuong-chon-thanh.txt")
    rows = [t for t in ex.tasks if t.source_kind == "table_row"]
    assert len(rows) >= 55
    t = _find(rows, ["Rà soát, phát hiện các thủ tục hành chính ban hành chưa đúng quy định"])
    assert t.lead == ["Trung tâm Phục vụ hành chính công"] and t.coordinate == ["Các cơ quan, đơn vị"]
    assert t.deadline_kind == "ongoing" and t.area == "Cải cách thủ tục hành chính"
    # lead and coordinator swapped relative to the row above: read as written
    t = _find(rows, ["Cử công chức, viên chức, người lao động tham gia đào tạo"])
    assert t.lead == ["Các cơ quan, đơn vị"] and t.coordinate == ["Trung tâm Phục vụ hành chính công"]
    assert t.deadline_text == "Hàng năm" and t.deadline_kind == "recurring"
    # a row whose lead sits in the merged cell of the row above
    t = _find(rows, ["Triển khai thi hành Luật"])
    assert t.lead == ["Văn phòng HĐND và UBND"] and "lead" not in t.raw_cells and "ô gộp" in t.note
    assert t.deadline_text == "Theo Chương trình công tác đã phê duyệt"
    t = _find(rows, ["Kiểm tra trách nhiệm quản lý nhà nước"])
    assert t.lead == ["Văn phòng HĐND và UBND"] and "ô gộp" in t.note
    # conditional deadlines
    t = _find(rows, ["tiêu chuẩn ngạch"])
    assert t.lead == ["Phòng Văn hóa - Xã hội"] and t.deadline_kind == "conditional"
    # a row whose cells were shifted in the source is realigned and flagged
    t = _find(rows, ["tăng cường minh bạch, ứng dụng công nghệ thông tin"])
    assert t.lead == ["Phòng Văn hóa - Xã hội"] and t.deadline_text == "Hàng năm" and "lệch cột" in t.note
    # group rows become areas, never tasks
    assert not any(t.title.isupper() for t in rows)
    assert {t.area for t in rows} >= {"Cải cách thể chế", "Cải cách tài chính công", "Cải cách chế độ công vụ"}


@pytest.mark.parametrize("name,unit,words", [
    ("kh-cchc-2026-2030-xa-binh-giang.txt", "Trung tâm Phục vụ hành chính công", ["cải cách thủ tục hành chính"]),
    ("kh-cchc-2026-2030-xa-binh-giang.txt", "Công an xã", ["Đề án 06"]),
    ("kh-cchc-2026-2030-xa-binh-giang.txt", "Phòng Văn hóa - Xã hội", ["chính quyền điện tử"]),
    ("kh-cchc-2021-2025-xa-le-hong.txt", "Công chức Tư pháp - Hộ tịch", ["cải cách thể chế"]),
    ("kh-cchc-2021-2025-xa-le-hong.txt", "Công chức Tài chính - Kế toán", ["cải cách tài chính công"]),
    ("kh-cchc-6-thang-cuoi-2025-xa-thai-tan.txt", "Phòng Văn hóa - Xã hội", ["chỉ đạo, điều hành", "chế độ công vụ"]),
    ("kh-cchc-2026-xa-hai-hau.txt", "Trung tâm phục vụ hành chính công", ["cải cách TTHC"]),
])
def test_prose_unit_responsibilities(name, unit, words):
    ex = _extract(name)
    duties = [t for t in ex.tasks if t.source_kind == "sentence" and t.lead == [unit]]
    assert duties, (unit, sorted({u for t in ex.tasks for u in t.lead}))
    _find(duties, words)


def test_prose_coordination_duty_names_the_lead():
    ex = _extract("kh-cchc-6-thang-cuoi-2025-xa-thai-tan.txt")
    t = _find(ex.tasks, ["Phối hợp với Phòng Văn hóa - Xã hội tham mưu"])
    assert t.lead == ["Phòng Văn hóa - Xã hội"]
    assert t.coordinate == ["Văn phòng Hội đồng nhân dân và Ủy ban nhân dân xã"]


def test_report_deadline_sentence_with_plan_year():
    ex = _extract("kh-cchc-6-thang-cuoi-2025-xa-thai-tan.txt")
    t = _find(ex.tasks, ["báo cáo năm gửi trước ngày 10/12"])
    assert t.due == "2025-12-10"
    assert ex.focal_unit == "Phòng Văn hóa - Xã hội"


def test_body_tasks_get_inferred_leads_with_justification():
    ex = _extract("kh-cchc-2021-2025-xa-le-hong.txt")
    inferred = [t for t in ex.tasks if t.lead_inferred]
    assert inferred
    for t in inferred:
        assert t.inferred_from and t.lead
    the_che = [t for t in inferred if t.area == "Cải cách thể chế"]
    assert the_che and all(t.lead == ["Công chức Tư pháp - Hộ tịch"] for t in the_che)


def test_task_ids_stable_across_runs():
    a = [t.id for t in _extract("kh-cchc-2026-xa-hai-hau.txt").tasks]
    b = [t.id for t in _extract("kh-cchc-2026-xa-hai-hau.txt").tasks]
    assert a == b and len(set(a)) == len(a)


def test_units_canonical_per_locality():
    ex = _extract("kh-cchc-2026-phuong-chon-thanh.txt")
    names = set(ex.units.values())
    # "Phòng Văn hóa-Xã hội", "Phòng Văn hoá – Xã hội" ... meet under one key
    assert len([n for n in names if fold(n).startswith("phong van hoa")]) == 1


@pytest.mark.parametrize("header,roles", [
    (["STT", "Nhiệm vụ, giải pháp", "Đơn vị thực hiện", "Đơn vị phối hợp", "Thời gian thực hiện", "Sản phẩm đầu ra"],
     ["stt", "activity", "lead", "coord", "time", "output"]),
    (["TT", "Nội dung", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời gian hoàn thành", "Sản phẩm"],
     ["stt", "task", "lead", "coord", "time", "output"]),
    (["STT", "Tên nhiệm vụ", "Cơ quan thực hiện", "Lộ trình thực hiện"], ["stt", "task", "lead", "time"]),
])
def test_header_roles_whatever_the_wording(header, roles):
    """'Thời gian thực hiện' ends like a lead header ('… thực hiện'): it is the time column, and a row's time
    never joins its lead ('Sở Tư pháp 2026 - 2030')."""
    from index.tables import header_roles

    assert header_roles(header) == roles
