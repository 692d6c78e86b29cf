"""The review page's server side, through Starlette's test client (the browser tests are in test_web_browser.py):
what each page reads from the stores the chat uses, and the protections of every form.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from starlette.testclient import TestClient

from index import store

TOKEN = "pages-test-token-0123456789"
LOCALITY = "phường Chơn Thành"
SEARCH = "ban hành chưa đúng quy định"


@pytest.fixture()
def data(index_copy, settings_factory):
    return settings_factory(index_copy)


def _client(settings, hooks=None) -> TestClient:
    from web.app import create_app

    return TestClient(create_app(settings, token=TOKEN, hooks=hooks), follow_redirects=False)


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def signed_in(settings, hooks=None, name: str = "Nguyễn Thị Lan") -> TestClient:
    c = _client(settings, hooks)
    page = c.get("/dang-nhap")
    r = c.post("/dang-nhap", data={"csrf": _csrf(page.text), "ten": name, "ma": TOKEN, "tiep": "/"})
    assert r.status_code == 303 and r.headers["location"] == "/"
    return c


def _task_id(settings) -> str:
    [row] = store.open_db(settings.db_path).query("select id from tasks where title like ?", [f"%{SEARCH}%"])
    return row["id"]


def test_overview_shows_each_documents_report_and_counts_without_one(data):
    c = signed_in(data)
    db = store.open_db(data.db_path)
    html = c.get("/").text
    national = [dict(d) for d in db.query("select * from documents where kind = 'national'")]
    for doc in national:  # one procedure each: a folded list under the table
        item = html.split(f"({doc['document']}")[1].split("</li>")[0]
        assert f"{json.loads(doc['report'])['procedures']} thủ tục" in item
    if national:
        assert f"{len(national)} hồ sơ thủ tục hành chính từ CSDL quốc gia" in html
    for doc in db.query("select * from documents where kind != 'national'"):
        report = json.loads(doc["report"])
        row = html.split(doc["document"])[1].split("</tr>")[0]
        assert doc["issuer"] and doc["issuer"] in html.split(doc["document"])[1].split("</tr>")[0]
        if doc["kind"] == "plan":
            nums = re.findall(r'data-label="(Nhiệm vụ|Chủ trì ghi rõ|Có thời hạn)" class="kv">(?:<a [^>]*>)?(\d+)', row)
            assert dict(nums) == {"Nhiệm vụ": str(report["tasks"]), "Chủ trì ghi rõ": str(report["explicit_leads"]),
                                  "Có thời hạn": str(report["deadlines"])}, doc["document"]
        for w in report["warnings"]:
            assert w.replace("“", "&#8220;") in row or w in row, w
        if doc["date"]:
            assert f"{doc['date'][8:10]}/{doc['date'][5:7]}/{doc['date'][:4]}" in row

    # an index without the report (an older one): counts from the tasks table, no failure
    db["documents"].transform(drop={"issuer", "level", "number", "date", "signer", "report"})
    html = c.get("/").text
    n = db.execute("select count(*) from tasks where locality = ?", [LOCALITY]).fetchone()[0]
    row = html.split("kh-cchc-2026-phuong-chon-thanh.txt")[1].split("</tr>")[0]
    assert f">{n}</a>" in row


def test_due_this_month_and_overdue_per_unit(data):
    c = signed_in(data)
    tid = _task_id(data)
    from index.corrections import save_correction

    save_correction(store.open_db(data.db_path), tid, by="A", lead=["Văn phòng HĐND và UBND"],
                    deadline_text="Trước ngày 10/12/2026")
    html = c.get("/?ngay=20/12/2026").text
    section = html.split('id="h-denhan"')[1]
    row = next(r for r in section.split("<tr>") if "Văn phòng HĐND và UBND" in r and LOCALITY in r)
    cells = re.findall(r'data-label="(Đến hạn trong tháng|Quá hạn)" class="kv">(.*?)</td>', row, re.S)
    counts = {k: int(re.sub(r"<[^>]+>", "", v).strip()) for k, v in cells}
    assert counts == {"Quá hạn": 1, "Đến hạn trong tháng": 1}  # due 10/12, seen on 20/12: both
    # marked done by the staff (/xong): neither due nor overdue any more, the unit's row goes
    from bot.reminders import Reminders

    Reminders(data.db_path, data).done(tid, "2026-12-10", by="test")
    html2 = c.get("/?ngay=20/12/2026").text
    assert not [r for r in html2.split('id="h-denhan"')[1].split("<tr>")
                if "Văn phòng HĐND và UBND" in r and LOCALITY in r]


def test_changed_on_last_reindex_filter_reads_the_index_marks(data):
    c = signed_in(data)
    db = store.open_db(data.db_path)
    tid = _task_id(data)
    db.execute("update tasks set status = 'unchanged'")
    db.execute("update tasks set status = 'changed' where id = ?", [tid])
    db.conn.commit()
    html = c.get("/nhiem-vu?thay_doi=1").text
    assert re.findall(r'<tr id="t-([^"]+)"', html) == [tid]
    assert "thay đổi</span>" in html
    # an index that does not mark them: the page says so
    db["tasks"].transform(drop={"status"})
    assert "chưa ghi nhiệm vụ nào mới hoặc thay đổi" in c.get("/nhiem-vu?thay_doi=1").text


def test_not_a_task_leaves_the_list_and_undo_brings_it_back(data):
    calls = []
    from web.app import Hooks

    c = signed_in(data, hooks=Hooks(tasks_changed=lambda: calls.append(1)))
    tid = _task_id(data)
    page = c.get(f"/nhiem-vu/{tid}")
    form = {"csrf": _csrf(page.text), "chu_tri": "Trung tâm Phục vụ hành chính công", "phoi_hop": "Các cơ quan, đơn vị",
            "thoi_han": "Thường xuyên", "ngay_han": "", "khong_phai_nhiem_vu": "1", "tiep": "/nhiem-vu"}
    r = c.post(f"/nhiem-vu/{tid}", data=form)
    assert r.status_code == 303 and calls == [1]
    html = c.get("/nhiem-vu").text
    assert f'id="t-{tid}"' not in html and "không phải nhiệm vụ" in html.split('id="h-ngoai"')[1]
    page = c.get(f"/nhiem-vu/{tid}")
    assert "đã được đánh dấu “không phải nhiệm vụ”" in page.text
    r = c.post(f"/nhiem-vu/{tid}/bo-hieu-chinh", data={"csrf": _csrf(page.text), "tiep": "/nhiem-vu"})
    assert r.status_code == 303 and calls == [1, 1]
    assert f'id="t-{tid}"' in c.get(f"/nhiem-vu?tim={SEARCH}").text


def test_a_bad_date_is_refused_in_vietnamese_and_the_typed_values_are_kept(data):
    c = signed_in(data)
    tid = _task_id(data)
    before = dict(next(store.open_db(data.db_path).query("select * from tasks where id = ?", [tid])))
    page = c.get(f"/nhiem-vu/{tid}")
    r = c.post(f"/nhiem-vu/{tid}", data={"csrf": _csrf(page.text), "chu_tri": "Phòng Văn hóa - Xã hội",
                                         "phoi_hop": "", "thoi_han": "Thường xuyên", "ngay_han": "31/02/2026"})
    assert r.status_code == 400
    assert "Ngày hạn “31/02/2026” không hợp lệ" in r.text
    assert "Phòng Văn hóa - Xã hội</textarea>" in r.text and 'value="31/02/2026"' in r.text
    assert dict(next(store.open_db(data.db_path).query("select * from tasks where id = ?", [tid]))) == before
    r = c.get("/nhiem-vu?tu=hôm qua")
    assert "“Hạn từ ngày” không phải một ngày hợp lệ" in r.text


def test_staff_registrations_are_approved_and_rejected_from_the_page(data):
    from bot.staff import StaffRegistry
    from web.app import Hooks

    told = []
    reg = StaffRegistry(data.db_path)
    a = reg.request("telegram", "501", "501", "Trần Văn Bình", "Văn phòng HĐND và UBND", LOCALITY)
    b = reg.request("zalo", "z9", "z9", "Lê Thị Cúc", "Phòng Văn hóa - Xã hội", LOCALITY)
    c = signed_in(data, hooks=Hooks(notify=lambda ch, chat, text: told.append((ch, chat, text))))
    page = c.get("/nhac-han")
    assert "Trần Văn Bình" in page.text and "Lê Thị Cúc" in page.text
    csrf = _csrf(page.text)
    assert c.post(f"/nhac-han/dang-ky/{a.id}/duyet", data={"csrf": csrf}).status_code == 303
    assert c.post(f"/nhac-han/dang-ky/{b.id}/tu-choi", data={"csrf": csrf}).status_code == 303
    assert reg.get(a.id).status == "approved" and reg.get(a.id).decided_by == "web:Nguyễn Thị Lan"
    assert reg.get(b.id).status == "removed"
    assert [(ch, chat) for ch, chat, _ in told] == [("telegram", "501"), ("zalo", "z9")]
    assert "đã được duyệt" in told[0][2] and "chưa được duyệt" in told[1][2]
    html = c.get("/nhac-han").text
    assert "Đã từ chối yêu cầu" in html and "Không có yêu cầu nào đang chờ" in html
    # deciding twice is refused politely
    c.post(f"/nhac-han/dang-ky/{a.id}/duyet", data={"csrf": csrf})
    assert f"Không có yêu cầu #{a.id} đang chờ duyệt" in c.get("/nhac-han").text


def test_reminders_page_shows_the_schedule_and_the_outbox(data):
    import asyncio

    from bot.reminders import Reminders, SendError
    from bot.staff import StaffRegistry
    from index.corrections import save_correction

    tid = _task_id(data)
    save_correction(store.open_db(data.db_path), tid, by="A", lead=["Văn phòng HĐND và UBND"],
                    deadline_text="Trước ngày 15/12/2026")
    reg = StaffRegistry(data.db_path)
    ok = reg.add_approved("Trần Văn Bình", "Văn phòng HĐND và UBND", LOCALITY, "telegram", "1001")
    reg.add_approved("Lê Thị Cúc", "Văn phòng HĐND và UBND", LOCALITY, "telegram", "1002")

    class Sender:
        async def send(self, channel, chat_id, text):
            if chat_id == "1002":
                raise SendError(retryable=False, message="chat not found")

    asyncio.run(Reminders(data.db_path, data).tick(Sender(), datetime(2026, 12, 8, 1, 5, tzinfo=timezone.utc)))
    c = signed_in(data)
    html = c.get("/nhac-han?ngay=08/12/2026").text
    day = html.split("<strong>08/12/2026</strong>")[1].split("</details>")[0]
    assert "trước hạn 7 ngày" in day
    assert "Trần Văn Bình (telegram): đã gửi" in day and "Lê Thị Cúc (telegram): lỗi" in day
    assert "chưa có cán bộ đăng ký" in html  # other units' reminders reach nobody
    outbox = html.split('id="h-hop"')[1]
    assert "chat not found" in outbox and ok.name in outbox
    counts = dict(store.open_db(data.db_path).execute("select status, count(*) from outbox group by status").fetchall())
    assert counts.get("sent") and counts.get("failed")  # Bình's reminder and digest; Cúc's fail
    for status, label in (("sent", "đã gửi"), ("failed", "lỗi"), ("pending", "chờ gửi")):
        assert f'<span class="n">{counts.get(status, 0)}</span> {label}</li>' in outbox, status


def test_questions_page_groups_unanswered_and_shows_thumbs_down_without_personal_data(data):
    from handlers.feedback import FeedbackStore
    from handlers.usage_log import UsageLog

    log = UsageLog(data.db_path, salt="s")
    for q, user in (("Lịch tiêm phòng dại ở đâu?", "1"), ("lich tiem phong dai o dau", "2"),
                    ("Giá đất năm 2026? gọi tôi 0912 345 678", "3")):
        log.record(channel="telegram", user_id=user, kind="question", question=q, intent="passage", found=False)
    log.record(channel="telegram", user_id="4", kind="question", question="Ai chủ trì?", intent="lead", found=True)
    fb = FeedbackStore(data.db_path, salt="s")
    for question, vote in (("Hạn nộp báo cáo quý? CCCD 001203004567", -1), ("Câu được khen", 1)):
        ref = fb.offer(channel="zalo", scope="z1", user_id="z1", question=question, answer="Theo kế hoạch…",
                       intent="deadline", found=True)
        assert fb.vote(ref, vote)
    db = store.open_db(data.db_path)
    db["feedback"].insert({"ts": (datetime.now(timezone.utc) - timedelta(days=40)).isoformat(timespec="seconds"),
                           "channel": "zalo", "user_hash": "ab" * 32, "question": "Câu cũ", "answer": "…", "intent": "",
                           "found": 1, "vote": -1, "ref": "old"})
    c = signed_in(data)
    html = c.get("/cau-hoi").text
    unanswered = html.split('id="h-chuatl"')[1].split('id="h-khong"')[0]
    assert unanswered.count("<tr>") == 1 + 2  # header + two distinct questions
    first = unanswered.split("<tbody>")[1].split("</tr>")[0]  # most asked first, in its latest wording
    assert re.search(r"(tiêm phòng dại|tiem phong dai)", first) and 'data-label="Số lần" class="kv">2<' in first
    assert "Ai chủ trì?" not in unanswered
    # the usage log kept the phone number; the page does not show it
    assert "Giá đất năm 2026? gọi tôi [số điện thoại]" in unanswered and "345" not in unanswered
    disliked = html.split('id="h-khong"')[1]
    assert "Hạn nộp báo cáo quý? CCCD [số giấy tờ]" in disliked
    assert "Câu cũ" not in disliked and "Câu được khen" not in disliked
    hashes = [r[0] for r in db.execute("select user_hash from feedback union select user_hash from usage_log")]
    assert hashes and not any(h in html for h in hashes)
    assert "Câu cũ" in c.get("/cau-hoi?ngay_qua=60").text


def test_sign_in_is_throttled_and_redirects_stay_on_the_site(data):
    c = _client(data)
    csrf = _csrf(c.get("/dang-nhap").text)
    codes = [c.post("/dang-nhap", data={"csrf": csrf, "ten": "X", "ma": "wrong"}).status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]
    # even the right token waits out the window now
    assert c.post("/dang-nhap", data={"csrf": csrf, "ten": "X", "ma": TOKEN}).status_code == 429

    c = _client(data)
    csrf = _csrf(c.get("/dang-nhap").text)
    r = c.post("/dang-nhap", data={"csrf": csrf, "ten": "X", "ma": TOKEN, "tiep": "//evil.example/x"})
    assert r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie  # http: not Secure
    r = c.get("/")
    assert "default-src 'none'" in r.headers["content-security-policy"] and r.headers["x-frame-options"] == "DENY"
    assert r.headers["cache-control"] == "no-store"
    https = TestClient(c.app, base_url="https://testserver", follow_redirects=False)
    assert "Secure" in https.get("/dang-nhap").headers["set-cookie"]


def test_a_session_cookie_from_another_token_is_worthless(data, settings_factory):
    from web.app import create_app

    c = signed_in(data)
    other = TestClient(create_app(data, token="another-token-0123456789"), follow_redirects=False)
    other.cookies.update(c.cookies)
    r = other.get("/nhiem-vu")
    assert r.status_code == 303 and r.headers["location"].startswith("/dang-nhap")


def test_the_parsed_tasks_are_cached_until_the_database_changes(data):
    """The tasks list is parsed once and kept while the database file is unchanged; a write by another process
    (a re-index, the chat's /dathan, a correction saved elsewhere) is seen on the next page."""
    from index.corrections import save_correction

    c = signed_in(data)
    tid = _task_id(data)
    app = c.app.state.review
    assert f'id="t-{tid}"' in c.get(f"/nhiem-vu?tim={SEARCH}").text
    cached = app._taskset[1]
    c.get("/nhiem-vu?suy_ra=1")
    assert app._taskset[1] is cached  # nothing changed: not parsed again
    save_correction(store.open_db(data.db_path), tid, by="Người khác", lead=["Phòng Kinh tế"])
    row = c.get(f"/nhiem-vu?tim={SEARCH}").text.split(f'id="t-{tid}"')[1].split("</tr>")[0]
    assert "Phòng Kinh tế" in row and app._taskset[1] is not cached
