"""Splitting under platform limits (UTF-16 units, escaped length) and escaping for the parse mode."""
from __future__ import annotations

import random

import pytest

from handlers.formatting import (
    CONSOLE,
    TELEGRAM,
    TELEGRAM_LIMIT,
    ZALO,
    ZALO_LIMIT,
    escape_html,
    render,
    split_text,
    truncate,
    utf16_len,
)


def test_utf16_len_counts_surrogate_pairs_twice():
    assert utf16_len("abc") == 3
    assert utf16_len("Chơn Thành") == 10  # precomposed Vietnamese letters are one unit each
    assert utf16_len("😀") == 2
    assert utf16_len("a😀b") == 4


def test_escape_html_escapes_only_what_telegram_parses():
    assert escape_html("a < b & c > d * _x_ `y`") == "a &lt; b &amp; c &gt; d * _x_ `y`"
    assert escape_html('"quoted"') == '"quoted"'


def test_short_text_is_one_piece_and_empty_text_none():
    assert split_text("xin chào", 10) == ["xin chào"]
    assert split_text("", 10) == []
    assert split_text("\n \n", 10) == []
    assert split_text("a" * 5000, None) == ["a" * 5000]


def test_split_at_line_boundaries_under_limit():
    lines = [f"Dòng {i}: Phòng Văn hóa - Xã hội chủ trì nhiệm vụ số {i}." for i in range(300)]
    text = "\n".join(lines)
    pieces = split_text(text, TELEGRAM_LIMIT)
    assert len(pieces) > 1
    assert all(utf16_len(p) <= TELEGRAM_LIMIT for p in pieces)
    # nothing lost, nothing reordered, no line cut
    assert "\n".join(pieces).split("\n") == lines


def test_limit_is_checked_on_escaped_text():
    line = "a&b<c>" * 10  # 60 chars, escaped 60 + 4*10 + 3*10 + 3*10 = 160
    text = "\n".join([line] * 100)
    pieces = render(text, TELEGRAM)
    assert all(utf16_len(p) <= TELEGRAM_LIMIT for p in pieces)
    assert all("&amp;" in p and "&lt;" in p for p in pieces)
    # escaping never cut: every '&' starts an entity
    for p in pieces:
        for i, ch in enumerate(p):
            if ch == "&":
                assert p[i:].startswith(("&amp;", "&lt;", "&gt;"))


def test_long_line_split_at_spaces_then_hard():
    words = " ".join(f"từ{i}" for i in range(1500))
    pieces = split_text(words, ZALO_LIMIT)
    assert all(utf16_len(p) <= ZALO_LIMIT for p in pieces)
    assert " ".join(pieces) == words
    blob = "x" * 4500
    pieces = split_text(blob, ZALO_LIMIT)
    assert [len(p) for p in pieces] == [2000, 2000, 500]


def test_emoji_counted_in_utf16_and_never_split():
    text = "😀" * 3000  # 6000 UTF-16 units, 3000 code points
    pieces = split_text(text, ZALO_LIMIT)
    assert all(utf16_len(p) <= ZALO_LIMIT for p in pieces)
    assert "".join(pieces) == text
    assert len(pieces) == 3


def test_zalo_is_plain_text_and_console_unlimited():
    text = "<b>Phòng Kinh tế, Hạ tầng & Đô thị</b>"
    assert render(text, ZALO) == [text]
    assert render("x\n" * 10000, CONSOLE) == [("x\n" * 10000).strip()]


@pytest.mark.parametrize("platform", [TELEGRAM, ZALO])
def test_random_texts_round_trip(platform):
    rng = random.Random(7)
    alphabet = "aăâbcdđeêghiklmnoôơpqrstuưvxy <>&*_ \n😀"
    for _ in range(30):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 9000)))
        pieces = split_text(text, platform.limit, platform.escape)
        assert all(utf16_len(platform.escape(p)) <= platform.limit for p in pieces)
        # Only whitespace at the cut points may be dropped.
        assert "".join("".join(pieces).split()) == "".join(text.split())


def test_truncate_labels():
    assert truncate("ngắn", 10) == "ngắn"
    assert truncate("một  hai\nba", 20) == "một hai ba"
    out = truncate("Rà soát, phát hiện các thủ tục hành chính ban hành chưa đúng quy định", 20)
    assert len(out) <= 20 and out.endswith("…")
