"""Staff registry over a real SQLite file."""
from __future__ import annotations

import pytest

from bot.staff import StaffRegistry, is_collective_unit, locality_key, unit_key


@pytest.fixture
def reg(tmp_path):
    return StaffRegistry(tmp_path / "data" / "cchc.db")


def test_keys_fold_unit_and_locality_variants():
    assert unit_key("Phòng Văn hoá – Xã hội") == unit_key("Phòng Văn hóa - Xã hội") == unit_key("phong van hoa xa hoi")
    assert unit_key("Văn phòng HĐND và UBND") == unit_key("Văn phòng HĐND - UBND")
    assert unit_key("Phòng Kinh tế") != unit_key("Phòng Văn hóa - Xã hội")
    assert locality_key("xã Hải Hậu") == locality_key("UBND xã Hải Hậu") == locality_key("Hai Hau")
    assert locality_key("Phường Chơn Thành") == locality_key("Chơn Thành")
    assert is_collective_unit("Các cơ quan, đơn vị") and not is_collective_unit("Phòng Kinh tế")


def test_request_approve_flow(reg):
    s = reg.request("telegram", "u1", "c1", "Nguyễn Văn A", "Phòng Văn hoá – Xã hội", "xã Hải Hậu")
    assert s.status == "pending" and s.id
    again = reg.request("telegram", "u1", "c1", "Nguyễn Văn A", "Phòng Kinh tế", "xã Hải Hậu")
    assert again.id == s.id and again.unit == "Phòng Kinh tế"  # one pending request per person
    assert reg.approved_for("Phòng Kinh tế", "Hải Hậu") == []
    ok = reg.approve(s.id, by="telegram:admin")
    assert ok.status == "approved" and ok.decided_by == "telegram:admin" and ok.decided_at
    assert [x.id for x in reg.approved_for("phong kinh te", "Xã Hải Hậu")] == [s.id]
    assert reg.approved_for("Phòng Kinh tế", "Chơn Thành") == []
    assert reg.find_by_user("telegram", "u1").id == s.id
    # asking again for the same unit returns the approved record; for another unit, a new pending request
    assert reg.request("telegram", "u1", "c1", "Nguyễn Văn A", "Phòng Kinh Tế", "Hải Hậu").status == "approved"
    moved = reg.request("telegram", "u1", "c1", "Nguyễn Văn A", "Phòng Văn hóa - Xã hội", "Hải Hậu")
    assert moved.status == "pending" and moved.id != s.id
    reg.approve(moved.id, by="admin")
    assert reg.get(s.id).status == "removed"  # the old unit's record is retired
    assert [x.id for x in reg.approved_for("Phòng Văn hoá – Xã hội", "Hải Hậu")] == [moved.id]


def test_reject_remove_block_and_collective(reg):
    a = reg.add_approved("A", "Phòng Kinh tế", "Hải Hậu", "console", "ca")
    b = reg.add_approved("B", "Trung tâm Phục vụ hành chính công", "Hải Hậu", "zalo", "zb", quiet_start="21:00",
                         quiet_end="07:00")
    c = reg.add_approved("C", "Phòng Kinh tế", "Chơn Thành", "telegram", "tc")
    p = reg.request("zalo", "zz", "zz", "D", "Phòng Kinh tế", "Hải Hậu")
    assert reg.reject(p.id, by="admin").status == "removed"
    assert {s.id for s in reg.approved_for("Các cơ quan, đơn vị", "Hải Hậu")} == {a.id, b.id}
    assert reg.mark_blocked(b.id).status == "blocked"
    assert {s.id for s in reg.approved_for("Các cơ quan, đơn vị", "Hải Hậu")} == {a.id}
    assert reg.unblock(b.id).status == "approved"
    reg.remove(c.id)
    assert [s.id for s in reg.list("removed")] == [c.id, p.id]
    assert len(reg.list()) == 4
    assert reg.get(b.id).quiet_start == "21:00"
    with pytest.raises(ValueError):
        reg.add_approved("E", "X", "Y", "sms", "1")
    with pytest.raises(ValueError):
        reg.add_approved("E", "X", "Y", "console", "1", quiet_start="25:00", quiet_end="07:00")
    assert reg.get(9999) is None and reg.approve(9999, "x") is None
