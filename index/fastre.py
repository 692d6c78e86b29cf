"""Regular expressions that skip the regex engine when a cheap substring test proves there is no match.

Most cue patterns of the question analysis are alternations of words ("\\b(ai|đơn vị nào) chủ trì\\b|…") and most
questions contain none of them. Python's `re` cannot use a literal prefix once a pattern starts with `\\b` or a
lookbehind, so it tries every position of the text. `Guarded` reads the pattern's own parse tree once: when
every match must begin with one of a few literal strings (after zero-width assertions), a text that contains none
of them cannot match, and `search` returns None without running the engine. Patterns it cannot bound (a leading
character class, an optional first item, case-insensitive literals) are run as they are.
"""
from __future__ import annotations

import re

try:  # Python 3.11+: the parser moved to re._parser
    from re import _constants as _c
    from re import _parser as _p
except ImportError:  # pragma: no cover - Python < 3.11
    import sre_constants as _c  # type: ignore[no-redef]
    import sre_parse as _p  # type: ignore[no-redef]

_ZERO_WIDTH = {_c.AT, _c.ASSERT, _c.ASSERT_NOT}


_MAX_HEADS = 64


def _heads(seq) -> set[str] | None:
    """Literal strings one of which every match of the parsed sequence starts with, or None when unknown."""
    h, _complete = _prefixes(list(seq))
    return h or None


def _prefixes(items, cap: int = _MAX_HEADS) -> tuple[set[str], bool]:
    """(strings, complete): every match of `items` starts with one of the strings; `complete` when the strings are
    exactly what the items can match (so what follows extends them). ({""}, False) when nothing is known."""
    out = {""}
    for op, av in items:
        if op in _ZERO_WIDTH:  # consumes nothing: the literals around it stay adjacent
            continue
        if op is _c.LITERAL:
            out = {s + chr(av) for s in out}
            continue
        part, complete = _item(op, av, cap)
        if not part or (len(out) > 1 and len(out) * len(part) > cap):
            return out, False  # what is known so far still starts every match
        out = {s + t for s in out for t in part}
        if not complete:
            return out, False
    return out, True


def _item(op, av, cap: int) -> tuple[set[str], bool]:
    if op is _c.SUBPATTERN:
        _group, add_flags, _del_flags, sub = av
        if add_flags & re.IGNORECASE:
            return set(), False
        return _prefixes(list(sub), cap)
    if op is _c.BRANCH:
        out: set[str] = set()
        complete = True
        for alt in av[1]:
            h, c = _prefixes(list(alt), cap)
            if not h:
                return set(), False
            out |= h
            complete = complete and c
        return out, complete
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
        lo, hi, sub = av
        h, c = _prefixes(list(sub), cap)
        if lo == 0:  # an optional item ("(la nguoi )?"): the match goes on with or without it
            return (h | {""}, True) if hi == 1 and c else (set(), False)
        return h, c and lo == hi == 1
    return set(), False


def literal_heads(pattern: str, flags: int = 0) -> frozenset[str] | None:
    """The literal starts of `pattern` (see `_heads`), or None when the pattern cannot be bounded so."""
    if flags & (re.IGNORECASE | re.VERBOSE):
        return None
    try:
        tree = _p.parse(pattern, flags)
    except re.error:
        return None
    if tree.state.flags & re.IGNORECASE:
        return None
    h = _heads(tree)
    if not h or "" in h:
        return None
    kept = _minimal(h)
    # many long heads cost more substring tests than the engine saves: shorten them (a prefix of a head is still
    # a head) until a few remain
    while len(kept) > _MAX_TESTS:
        cut = max(len(s) for s in kept) - 1
        if cut < 2:
            return None
        kept = _minimal({s[:cut] for s in kept})
    return frozenset(kept)


_MAX_TESTS = 24


def _minimal(heads: set[str]) -> list[str]:
    """A head that contains another is implied by it: keep the shortest ones (fewer substring tests)."""
    kept: list[str] = []
    for s in sorted(heads, key=len):
        if not any(k in s for k in kept):
            kept.append(s)
    return kept


class Guarded:
    """A compiled pattern with a substring pre-test (same results as the pattern itself)."""

    __slots__ = ("rx", "heads", "pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.rx = re.compile(pattern, flags)
        self.pattern = pattern
        self.heads = literal_heads(pattern, flags)

    def possible(self, text: str) -> bool:
        h = self.heads
        if h is None:
            return True
        for s in h:
            if s in text:
                return True
        return False

    def search(self, text: str, *args):
        return self.rx.search(text, *args) if self.possible(text) else None

    def match(self, text: str, *args):
        return self.rx.match(text, *args) if self.possible(text) else None

    def fullmatch(self, text: str, *args):
        return self.rx.fullmatch(text, *args) if self.possible(text) else None

    def finditer(self, text: str, *args):
        return self.rx.finditer(text, *args) if self.possible(text) else iter(())

    def findall(self, text: str, *args):
        return self.rx.findall(text, *args) if self.possible(text) else []

    def sub(self, repl, text: str, count: int = 0) -> str:
        return self.rx.sub(repl, text, count) if self.possible(text) else text


def finite_language(pattern: str, limit: int = 5000) -> frozenset[str] | None:
    """Every string `pattern` fully matches, when they are few (an alternation of words, optional words): then
    `fullmatch` is a set lookup. None when the language is not finite and small."""
    try:
        tree = _p.parse(pattern)
    except re.error:
        return None
    if tree.state.flags & re.IGNORECASE:
        return None
    strings, complete = _prefixes(list(tree), limit)
    if not complete or len(strings) > limit:
        return None
    rx = re.compile(pattern)
    # zero-width assertions were read as nothing: keep only what the pattern itself accepts
    return frozenset(s for s in strings if rx.fullmatch(s))


def compile(pattern: str, flags: int = 0) -> Guarded:  # noqa: A001 - mirrors re.compile
    return Guarded(pattern, flags)


def split_alternatives(pattern: str) -> list[str]:
    """The top-level branches of `pattern` ("a|b(c|d)|e" -> ["a", "b(c|d)", "e"]); [pattern] when it has none."""
    out, depth, start, i, in_class = [], 0, 0, 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            if pattern[i + 1:i + 2] == "^":
                i += 1
            if pattern[i + 1:i + 2] == "]":  # "[]…]" / "[^]…]": a literal ] first
                i += 1
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            out.append(pattern[start:i])
            start = i + 1
        i += 1
    out.append(pattern[start:])
    return out


class AnyOf:
    """Does a pattern match anywhere? Asked of each top-level branch apart ("a|b|c" matches iff one of a, b, c
    does), so each branch gets its own, sharper substring pre-test: for truth tests only (no match object)."""

    __slots__ = ("branches", "pattern", "whole")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.whole = Guarded(pattern)
        parts = split_alternatives(pattern)
        if pattern.startswith("(?") and not pattern.startswith(("(?:", "(?=", "(?!", "(?<")):
            parts = [pattern]  # global inline flags apply to every branch: keep the pattern whole
        if re.search(r"\\[1-9]|\(\?P=|\(\?\(", pattern):
            parts = [pattern]  # a back-reference names a group of the whole pattern: keep it whole
        self.branches = [Guarded(p) for p in parts]

    def test(self, text: str) -> bool:
        if not self.whole.possible(text):  # the whole pattern's pre-test first: most texts stop here
            return False
        for b in self.branches:
            if b.possible(text) and b.rx.search(text) is not None:
                return True
        return False


def any_of(pattern: str) -> AnyOf:
    return AnyOf(pattern)
