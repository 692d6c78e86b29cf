"""Pure parts of the chat experience: safe upload names and content checks, supersession by issuer + number
(contract 2's columns), the upload report, redaction, typed votes, paging arguments, Telegram HTML."""
from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from types import SimpleNamespace

import pytest

from handlers import uploads as up
from handlers.chat_ux import deep_link_slug, split_page
from handlers.feedback import FeedbackStore, typed_vote
from handlers.formatting import split_text, utf16_len
from handlers.privacy import redact
from handlers.rich import RichHints, to_html


@pytest.mark.parametrize("given, safe", [
    ("Kế hoạch CCHC 2027.docx", "Kế hoạch CCHC 2027.docx"),
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\Windows\\kh.PDF", "kh.pdf"),
    ("a/b/.hidden.md", "hidden.md"),
    ("kh;rm -rf $HOME`x`.txt", "kh_rm -rf _HOME_x_.txt"),
    ("kh\x00\n2026.csv", "kh2026.csv"),
    ("x" * 300 + ".xlsx", "x" * 115 + ".xlsx"),
])
def test_safe_filename(given, safe):
    assert up.safe_filename(given) == safe


@pytest.mark.parametrize("bad", ["", "...", "noextension", "../", ".docx"])
def test_safe_filename_refuses_nameless(bad):
    with pytest.raises(up.UploadRefused):
        up.safe_filename(bad)


def test_check_upload_kinds_sizes_and_content():
    assert up.check_upload("kh.docx", 10, 100) == "kh.docx"
    for name, size, words in (("kh.exe", 10, "Không nhận tệp .exe"), ("kh.docx", 101, "quá lớn"),
                              ("kh.docx", 0, "rỗng")):
        with pytest.raises(up.UploadRefused, match=words):
            up.check_upload(name, size, 100)
    up.check_content("kh.docx", b"PK\x03\x04rest", 100)
    up.check_content("kh.pdf", b"%PDF-1.7", 100)
    up.check_content("kh.txt", "Kế hoạch".encode(), 100)
    for name, data, words in (("kh.docx", b"hello", "không phải DOCX"), ("kh.pdf", b"PK\x03\x04", "không phải PDF"),
                              ("kh.txt", b"K\xea ho\xb9ch", "UTF-8"), ("kh.txt", b"x" * 101, "quá lớn")):
        with pytest.raises(up.UploadRefused, match=words):
            up.check_content(name, data, 100)


def test_store_replaces_aside_and_undo_restores(tmp_path):
    corpus, data = tmp_path / "corpus", tmp_path / "data"
    first = up.store(corpus, data, "kh.txt", b"old")
    assert first.replaced is None and (corpus / "kh.txt").read_bytes() == b"old"
    second = up.store(corpus, data, "kh.txt", b"new")
    assert second.replaced.read_bytes() == b"old" and second.replaced.parent == data / "superseded"
    rejected = up.undo(second, data)
    assert rejected.read_bytes() == b"new" and rejected.parent == data / "rejected"
    assert (corpus / "kh.txt").read_bytes() == b"old"
    assert not list(corpus.glob(".*part"))


def _documents_db(path: Path, rows: list[dict]) -> Path:
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE documents (doc_id TEXT, document TEXT, path TEXT, kind TEXT, title TEXT, "
                   "locality TEXT, issuer TEXT, number TEXT, date TEXT, report TEXT, n_tasks INTEGER)")
        for r in rows:
            db.execute("INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?)", (
                r["document"], r["document"], f"/c/{r['document']}", "plan", r.get("title", ""), "xã Tân Lập",
                r.get("issuer"), r.get("number"), r.get("date"), r.get("report"), 3))
    return path


def test_superseded_by_same_issuer_and_number(tmp_path):
    db = _documents_db(tmp_path / "a.db", [
        {"document": "kh-2027.docx", "issuer": "UBND xã Tân Lập", "number": "141/KH-UBND"},
        {"document": "kh-2027-sua.docx", "issuer": "Ủy ban nhân dân  xã Tân Lập".replace("Ủy ban nhân dân", "UBND"),
         "number": "141/KH-UBND"},
        {"document": "kh-khac.docx", "issuer": "UBND xã Tân Lập", "number": "142/KH-UBND"},
        {"document": "kh-khong-so.docx", "issuer": "UBND xã Tân Lập", "number": ""},
    ])
    assert up.superseded_by(db, "kh-2027-sua.docx") == [{"document": "kh-2027.docx", "path": "/c/kh-2027.docx"}]
    assert up.superseded_by(db, "kh-khac.docx") == []
    assert up.superseded_by(db, "kh-khong-so.docx") == []  # no number: nothing is replaced


def test_replaced_copies_from_the_index_duplicates():
    summary = SimpleNamespace(duplicates=[("kh-moi.docx", "kh-cu.docx"), ("x.txt", "y.txt"), ("kh-cu2.docx", "kh-moi.docx")])
    assert up.replaced_copies(summary, "kh-moi.docx") == ["kh-cu.docx", "kh-cu2.docx"]
    assert up.replaced_copies(SimpleNamespace(), "kh-moi.docx") == []


def test_superseded_by_without_contract_2_columns(tmp_path):
    path = tmp_path / "old.db"
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE documents (doc_id TEXT, document TEXT, path TEXT, kind TEXT, title TEXT)")
        db.execute("INSERT INTO documents VALUES ('1', 'kh.docx', '/c/kh.docx', 'plan', 'KH')")
    assert up.superseded_by(path, "kh.docx") == []
    assert up.document_row(path, "kh.docx")["issuer"] == ""


def test_report_uses_contract_2_report_or_the_older_summary(tmp_path):
    report = {"tasks": 7, "explicit_leads": 5, "deadlines": 6, "tables": 1, "procedures": 0,
              "warnings": ["2 dòng bảng thiếu cột chủ trì"]}
    db = _documents_db(tmp_path / "a.db", [{"document": "kh.docx", "title": "Kế hoạch CCHC 2027",
                                            "issuer": "UBND xã Tân Lập", "number": "141/KH-UBND",
                                            "date": "2027-01-05", "report": json.dumps(report, ensure_ascii=False)}])
    new = up.build_report(SimpleNamespace(skipped=[], per_plan=[]), db, Path("/c/kh.docx"))
    assert new.indexed and "Cơ quan ban hành: UBND xã Tân Lập; số: 141/KH-UBND; ngày: 05/01/2027" in new.lines
    assert "Nhiệm vụ có ghi rõ đơn vị chủ trì: 5" in new.lines and new.warnings == report["warnings"]
    old = up.build_report(SimpleNamespace(skipped=[], per_plan=[
        {"document": "kh.docx", "tasks": 3, "units": 4, "normalized": 3, "dated": 2}]), db, Path("/c/kh.docx"))
    skipped = up.build_report(SimpleNamespace(skipped=[("/c/kh.docx", "PDF không có trang nào")], per_plan=[]), db,
                              Path("/c/kh.docx"))
    assert not skipped.indexed and skipped.reason == "PDF không có trang nào"
    assert old.indexed and "Đơn vị được giao việc: 4" in old.lines


def test_redact_ids_phones_emails_but_not_dates_numbers_codes():
    assert redact("CCCD 001203004567, CMND 123456789") == "CCCD [số giấy tờ], CMND [số giấy tờ]"
    assert redact("gọi 0912 345 678 / +84 912.345.678 / 0241234567") == (
        "gọi [số điện thoại] / [số điện thoại] / [số điện thoại]")
    assert redact("mail lan.nguyen@hai-hau.gov.vn") == "mail [email]"
    kept = "hạn 30/6/2026 theo 141/KH-UBND, mã 1.001193, phí 50.000 đồng, năm 2026, 12 nhiệm vụ"
    assert redact(kept) == kept


def test_typed_votes_are_never_digits():
    assert [typed_vote(x) for x in ("+", "👍", "Đúng", "đúng rồi!", "-", "👎", "sai", "Chưa đúng")] == [
        1, 1, 1, 1, -1, -1, -1, -1]
    assert [typed_vote(x) for x in ("1", "2", "sai ở đâu?", "ai chủ trì?")] == [None] * 4


def test_feedback_vote_once_per_answer(tmp_path):
    store = FeedbackStore(tmp_path / "f.db", "salt")
    ref = store.offer(channel="zalo", scope="c1", user_id="u1", question="gọi 0912345678?", answer="A",
                      intent="lead", found=True)
    assert store.last_offer("zalo", "c1") == ref and store.last_offer("zalo", "c2") is None
    assert store.vote(ref, -1) and store.vote(ref, 1)  # a changed mind updates the row
    assert not store.vote("unknown", 1) and not store.vote(ref, 1, channel="telegram")
    s = store.stats()
    assert (s.up, s.down, s.satisfaction) == (1, 0, 1.0)
    with closing(sqlite3.connect(tmp_path / "f.db")) as db:
        assert db.execute("SELECT question FROM feedback").fetchall() == [("gọi [số điện thoại]?",)]


def test_paging_arguments_and_deep_link_slug():
    assert split_page("Phòng Văn hóa - Xã hội trang 2") == ("Phòng Văn hóa - Xã hội", 2)
    assert split_page("quý 3 Trang 10") == ("quý 3", 10)
    assert split_page("Phòng Văn hóa") == ("Phòng Văn hóa", 1)
    assert deep_link_slug("phường Chơn Thành") == "chon-thanh"
    assert deep_link_slug("xã Hải Hậu") == "hai-hau"


def test_telegram_html_bold_blockquote_link_and_escaping():
    text = ("Theo KẾ HOẠCH <CCHC> & năm 2026 (phường Chơn Thành):\n• Chủ trì: Phòng <A> & B\n• Phối hợp: C\n"
            "Nguồn: kh 2026.txt, mục “II”.\nTrích dòng bảng: “Nhiệm vụ: <x> | Chủ trì: A”\n“Tỷ lệ 80% & hơn”")
    html = to_html(text, RichHints(intent="lead", doc_base_url="https://ubnd.example.gov.vn/cchc"))
    assert "Theo KẾ HOẠCH &lt;CCHC&gt; &amp; năm 2026" in html
    assert "<b>• Chủ trì: Phòng &lt;A&gt; &amp; B</b>" in html and "<b>• Phối hợp" not in html
    assert 'Nguồn: <a href="https://ubnd.example.gov.vn/cchc/kh%202026.txt">kh 2026.txt</a>, mục “II”.' in html
    assert "Trích dòng bảng:<blockquote>Nhiệm vụ: &lt;x&gt; | Chủ trì: A</blockquote>" in html
    assert "<blockquote>Tỷ lệ 80% &amp; hơn</blockquote>" in html
    plain = to_html(text, RichHints(intent="coord"))
    assert "<a " not in plain and "<b>• Phối hợp: C</b>" in plain


def test_html_pieces_fit_the_limit():
    text = "\n".join(f"Trích: “{'dòng ' * 30}{i} <&>”" for i in range(60))
    hints = RichHints()
    pieces = split_text(text, 700, lambda p: to_html(p, hints))
    assert len(pieces) > 3 and all(utf16_len(to_html(p, hints)) <= 700 for p in pieces)
    assert "\n".join(pieces) == text
