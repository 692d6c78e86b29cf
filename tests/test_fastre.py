"""index.fastre: the substring pre-test never changes what a pattern finds.

Checked on the question analysis' own cue patterns against every question of the dev and held-out sets (folded,
as the analysis sees them), and on hand-picked edge cases of the pattern reader."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from handlers import query
from index import fastre
from index.textnorm import fold, normalize

ROOT = Path(__file__).resolve().parent.parent
SETS = [ROOT / "tests" / "eval" / n for n in ("heldout_samples.jsonl", "heldout_real_plans.jsonl",
                                               "heldout_procedures.jsonl", "heldout_unseen.jsonl",
                                               "heldout_fresh.jsonl", "heldout_fresh2.jsonl")]


def _questions() -> list[str]:
    out = []
    for p in SETS:
        if p.exists():
            out += [fold(normalize(json.loads(line)["q"])) for line in p.read_text(encoding="utf-8").splitlines()
                    if line.strip()]
    return out


def test_ask_patterns_find_the_same_spans_as_re():
    qs = _questions()
    assert len(qs) > 300
    skipped = 0
    for name, pattern in query.ASK_PATTERNS:
        plain, guarded = re.compile(pattern), fastre.compile(pattern)
        for q in qs:
            a, b = plain.search(q), guarded.search(q)
            assert (a and a.span()) == (b and b.span()), (name, q)
            skipped += b is None and not guarded.possible(q)
    # the pre-test does work: most (pattern, question) pairs never reach the engine
    assert skipped > 0.5 * len(qs) * len(query.ASK_PATTERNS)


def test_any_of_answers_like_the_whole_pattern():
    qs = _questions()
    for name, pattern in query.ASK_PATTERNS:
        plain, branches = re.compile(pattern), fastre.any_of(pattern)
        assert len(branches.branches) >= 1
        for q in qs:
            assert (plain.search(q) is not None) == branches.test(q), (name, q)


def test_split_alternatives_respects_groups_classes_and_escapes():
    assert fastre.split_alternatives(r"a|b(c|d)|[|x]|e\|f") == ["a", "b(c|d)", "[|x]", r"e\|f"]
    assert fastre.split_alternatives("abc") == ["abc"]
    assert fastre.split_alternatives("[^]|]x|y") == ["[^]|]x", "y"]


def test_any_of_keeps_back_references_whole():
    assert fastre.any_of(r"(a)|(b)\1").test("bb") is False  # \1 is the first group of the whole pattern
    assert fastre.any_of(r"(a)|(b)\2").test("bb") is True


@pytest.mark.parametrize("pattern, heads", [
    (r"\bai (la nguoi )?chu tri\b", {"ai chu tri", "ai la nguoi chu tri"}),
    (r"(?<![a-z])(han|thoi han) nop\b", {"han nop"}),  # "thoi han nop" contains "han nop": one test
    (r"\b(bao lau|may ngay)|phi\b", {"bao lau", "may ngay", "phi"}),
    (r"[0-9]+ ngay", None),  # a character class first: unbounded
    (r"(?i)ubnd", None),  # case-insensitive literals: not bounded by a case-sensitive test
    (r"(?:xin )?chao", {"chao"}),  # an optional head leaves the rest (its shortest form is implied)
])
def test_literal_heads(pattern, heads):
    got = fastre.literal_heads(pattern)
    assert (None if got is None else set(got)) == heads


def test_guarded_methods_agree_with_re():
    pattern = r"\b(so|ma) (thu tuc|ho so) (\d+)"
    g, r = fastre.compile(pattern), re.compile(pattern)
    for text in ["ma thu tuc 123 va so ho so 45", "khong co gi", "ma so 9", ""]:
        assert g.findall(text) == r.findall(text)
        assert [m.span() for m in g.finditer(text)] == [m.span() for m in r.finditer(text)]
        assert g.sub("#", text) == r.sub("#", text)
        assert bool(g.match(text)) == bool(r.match(text))
        assert bool(g.fullmatch(text)) == bool(r.fullmatch(text))
