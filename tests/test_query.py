"""One query analysis: each field of the `Query`, with and without diacritics (no index needed)."""
from __future__ import annotations

from datetime import date

import pytest

from handlers.query import Analyzer, content_tokens, detect_asks, detect_period, split_parts
from handlers.scopes import Gazetteer
from index.textnorm import fold

PLACES = ["tỉnh Sơn La", "thành phố Hồ Chí Minh", "thành phố Cần Thơ", "xã Bình Giang", "phường Chơn Thành",
          "xã Hải Hậu", "tỉnh Bắc Ninh", "phường An Phú"]
TODAY = date(2026, 11, 30)


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer(Gazetteer(PLACES))


@pytest.mark.parametrize("q,place", [
    ("Tỉnh Sơn La: ai chủ trì?", "tỉnh Sơn La"),
    ("son la ai chu tri", "tỉnh Sơn La"),
    ("TP HCM: ai chủ trì sao lưu dữ liệu?", "thành phố Hồ Chí Minh"),
    ("tphcm luat viec lam", "thành phố Hồ Chí Minh"),
    ("thành phố Cần Thơ báo cáo trước ngày nào", "thành phố Cần Thơ"),
    ("binh giag phong nao lo tai chinh cong", "xã Bình Giang"),  # a typo in the place
    ("Chơn Thàn: ai làm đầu mối", "phường Chơn Thành"),
    ("Bắc Ninh đặt mục tiêu gì", "tỉnh Bắc Ninh"),
])
def test_place_as_people_write_it(analyzer, q, place):
    assert analyzer.analyze(q, today=TODAY).scope.place == place


@pytest.mark.parametrize("q", ["phát triển xã hội số", "an ninh trật tự ở đâu", "tối nay tuyển Việt Nam đá mấy giờ"])
def test_no_place_where_none_is_named(analyzer, q):
    assert analyzer.analyze(q, today=TODAY).scope is None


def test_chat_place_is_a_fallback(analyzer):
    q = analyzer.analyze("ai chủ trì rà soát thủ tục?", locality="xã Hải Hậu", today=TODAY)
    assert q.scope.place == "xã Hải Hậu" and q.scope.how == "chat"
    assert analyzer.analyze("Sơn La: ai chủ trì?", locality="xã Hải Hậu", today=TODAY).scope.place == "tỉnh Sơn La"


@pytest.mark.parametrize("q,asks,absent", [
    ("cải cách thể chế ai lo vậy ạ", {"lead"}, set()),
    ("cai cach the che ai lo vay a", {"lead"}, set()),
    ("bên nào làm việc số hóa hồ sơ?", {"lead"}, set()),
    ("việc này giao cho đơn vị nào", {"lead"}, set()),
    ("còn ai phối hợp?", {"coord"}, set()),
    ("hạn chót nộp báo cáo là khi nào", {"deadline"}, set()),
    ("báo cáo kết quả CCHC bao lâu một lần", {"deadline"}, {"proc_time"}),
    ("bao cao gui so noi vu vao nhung ky nao", {"deadline"}, set()),
    ("làm giấy khai sinh mất mấy ngày", {"proc_time"}, set()),
    ("dang ky ket hon co mat tien khong", {"proc_fee"}, set()),
    ("kinh phí cho cải cách hành chính lấy từ đâu", set(), {"proc_fee"}),
    ("đăng ký thường trú cần giấy tờ gì", {"proc_docs"}, set()),
    ("nộp hồ sơ ở đâu", {"proc_where"}, set()),
    ("kế hoạch này số mấy, ai ký?", {"meta_number", "meta_signer"}, set()),
    ("Sở Tài chính có nhiệm vụ gì", {"unit_tasks"}, set()),
    ("những nhiệm vụ nào thực hiện hàng năm", {"due_list"}, set()),
    ("tỷ lệ hồ sơ trực tuyến phải đạt bao nhiêu %", {"figure"}, set()),
])
def test_what_is_asked(q, asks, absent):
    found = set(detect_asks(fold(q)))
    assert asks <= found and not (absent & found), found


@pytest.mark.parametrize("q,asks", [("xin chào", {"greeting"}), ("cảm ơn bot nhé", {"thanks"}),
                                    ("bạn làm được gì?", {"help"}), ("chao ban", {"greeting"})])
def test_small_talk(analyzer, q, asks):
    query = analyzer.analyze(q, today=TODAY)
    assert set(query.asks) == asks and query.smalltalk


def test_greeting_inside_a_real_question_is_not_small_talk(analyzer):
    q = analyzer.analyze("xin chào, cho hỏi ai chủ trì rà soát thủ tục hành chính ở Hải Hậu?", today=TODAY)
    assert not q.smalltalk and "lead" in q.asks


@pytest.mark.parametrize("text,start,end,year_given", [
    ("Quý IV/2026", date(2026, 10, 1), date(2026, 12, 31), True),
    ("quy 4 nam 2026", date(2026, 10, 1), date(2026, 12, 31), True),
    ("những việc phải xong trong Q4", date(2026, 10, 1), date(2026, 12, 31), False),
    ("tháng 12/2025", date(2025, 12, 1), date(2025, 12, 31), True),
    ("tháng 12", date(2026, 12, 1), date(2026, 12, 31), False),
    ("năm nay", date(2026, 1, 1), date(2026, 12, 31), True),
    ("6 tháng cuối năm 2025", date(2025, 7, 1), date(2025, 12, 31), True),
])
def test_period(text, start, end, year_given):
    p = detect_period(fold(text), TODAY)
    assert (p.start, p.end, p.year_given) == (start, end, year_given)


def test_several_questions_in_one_message():
    assert split_parts("Ai chủ trì X? Hạn khi nào?") == ["Ai chủ trì X", "Hạn khi nào?"]
    assert split_parts("Ở Thái Tân ai chủ trì cải cách thể chế, còn cải cách tài chính công thì ai lo?") == [
        "Ở Thái Tân ai chủ trì cải cách thể chế", "cải cách tài chính công thì ai lo?"]
    assert split_parts("Sở Tài chính, Sở Nội vụ và các sở có nhiệm vụ gì?") == [
        "Sở Tài chính, Sở Nội vụ và các sở có nhiệm vụ gì?"]


def test_parts_inherit_the_place(analyzer):
    q = analyzer.analyze("Hải Hậu: ai chủ trì cải cách thể chế? còn ai phối hợp?", today=TODAY)
    assert len(q.parts) == 2 and all(p.scope.place == "xã Hải Hậu" for p in q.parts)


def test_content_words_keep_phrases_of_form_words():
    toks = content_tokens("các cơ quan đơn vị phải báo cáo kết quả đúng hạn bao lâu một lần")
    assert "co_quan" in toks and "dung_han" in toks and "bao_cao" in toks
    assert not {"bao", "lau", "mot", "lan", "phai"} & set(toks)


def test_same_analysis_with_and_without_diacritics(analyzer):
    a = analyzer.analyze("Sơn La: ai chủ trì xây dựng quy chế bảo vệ bí mật nhà nước?", today=TODAY)
    b = analyzer.analyze("son la ai chu tri xay dung quy che bao ve bi mat nha nuoc", today=TODAY)
    assert a.scope == b.scope and a.asks == b.asks and a.tokens == b.tokens


@pytest.mark.parametrize("question,expected", [
    ("Cần Thơ hiện có bao nhiêu người nghiện ma túy?", (True, "nguoi")),
    ("can tho hien co bao nhieu nguoi nghien ma tuy", (True, "nguoi")),
    ("Tỷ lệ hồ sơ trực tuyến là bao nhiêu?", (True, "")),
    ("phấn đấu đạt bao nhiêu phần trăm?", (True, "%")),
    ("Hải Hậu bố trí bao nhiêu tỷ đồng cho CCHC?", (True, "ty")),
    ("ngân sách trung ương chiếm bao nhiêu vốn?", (True, "%")),
    ("báo cáo bao nhiêu lần một năm?", (False, "")),  # how often: answered by "hằng quý", no number needed
    ("ai chủ trì cải cách thể chế?", (False, "")),
])
def test_quantity_and_its_measure(question, expected):
    from handlers.query import detect_quantity
    from index.textnorm import fold

    assert detect_quantity(fold(question)) == expected


@pytest.mark.parametrize("question, phrase", [
    ("Công an tỉnh Nghệ An được giao nhiệm vụ gì?", "cong an tinh"),
    ("Phòng Tư pháp xã làm những việc gì?", "phong tu phap"),
    ("Văn phòng xã phụ trách gì?", "van phong xa"),
    ("Ai chủ trì cải cách thủ tục hành chính?", ""),
])
def test_the_unit_a_question_names(analyzer, question, phrase):
    assert analyzer.analyze(question).unit_phrase == phrase
