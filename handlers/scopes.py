"""Which commune, district, province or department a question is about — named as people name them.

"tỉnh Sơn La", "Sơn La", "TP HCM", "tphcm", "thành phố Cần Thơ", "binh giag" (a typo), "Chơn Thàn": one gazetteer
built from the indexed documents' own places, matched on folded syllables — exactly, by initials of a long name
(HCM), or with one typo per name (edit distance on syllables), never against places the corpus does not have.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import Levenshtein

from index.textnorm import fold

_TYPES = ("thanh pho", "tp", "tinh", "huyen", "quan", "thi xa", "thi tran", "dac khu", "phuong", "xa")
_TYPE_PREFIX = re.compile(r"^(?:thanh pho|tp\.?|tinh|huyen|quan|thi xa|thi tran|dac khu|phuong|xa)\s+")


@dataclass(frozen=True)
class Scope:
    place: str  # the documents' locality value: "tỉnh Bắc Ninh", "xã Bình Giang"
    name: str  # "Bắc Ninh"
    how: str = "name"  # name | acronym | fuzzy | chat


@dataclass(frozen=True)
class _Entry:
    place: str
    name: str
    syl: tuple[str, ...]  # folded syllables of the name
    initials: str


def strip_type(place: str) -> str:
    """'tỉnh Bắc Ninh' -> 'Bắc Ninh'; 'UBND xã Hải Hậu' -> 'Hải Hậu'."""
    p = re.sub(r"(?i)^(ủy ban nhân dân|ubnd)\s+", "", place.strip())
    return re.sub(r"(?i)^(thành phố|tp\.?|tỉnh|huyện|quận|thị xã|thị trấn|đặc khu|phường|xã)\s+", "", p).strip()


class Gazetteer:
    def __init__(self, places: list[str]):
        self.entries: list[_Entry] = []
        for place in sorted({p for p in places if p}):
            name = strip_type(place)
            syl = tuple(re.findall(r"[a-z0-9]+", fold(name)))
            if not syl:
                continue
            self.entries.append(_Entry(place, name, syl, "".join(s[0] for s in syl)))
        # lookups that keep a question's cost flat with 1,000 places: exact names by their syllables, initials,
        # and for typos the places that share a syllable with the window
        self._exact: dict[tuple[str, ...], list[_Entry]] = {}
        self._by_syllable: dict[str, list[_Entry]] = {}
        self._initials: dict[str, _Entry] = {}
        for e in self.entries:
            self._exact.setdefault(e.syl, []).append(e)
            for syl in set(e.syl):
                self._by_syllable.setdefault(syl, []).append(e)
            if len(e.syl) >= 3:
                self._initials.setdefault(e.initials, e)
        self._lengths = sorted({len(e.syl) for e in self.entries})

    def __bool__(self) -> bool:
        return bool(self.entries)

    def places(self) -> list[str]:
        return [e.place for e in self.entries]

    def find(self, folded: str, text: str = "") -> tuple[Scope, tuple[int, int]] | None:
        """The place a folded question names, and the span of syllables (start, end) that named it. A
        one-syllable name counts only written after its type word and capitalised ("TP Huế"), since folded
        syllables collide with common words ("xã hội")."""
        toks = re.findall(r"[a-z0-9]+", folded)
        words = re.findall(r"[^\W_]+", text) if text else []
        best: tuple[int, Scope, tuple[int, int]] | None = None  # (quality, scope, span)
        for k in self._lengths:
            for i in range(len(toks) - k + 1):
                for e in self._exact.get(tuple(toks[i : i + k]), ()):
                    if k == 1:
                        typed = i > 0 and toks[i - 1] in ("tinh", "tp", "pho", "xa", "phuong", "huyen", "quan", "khu")
                        capital = len(words) == len(toks) and words[i][:1].isupper()
                        if not (typed and capital):
                            continue
                    q = 100 + k + (5 if i > 0 and toks[i - 1] in ("tinh", "tp", "pho", "xa", "phuong", "huyen", "quan") else 0)
                    if best is None or q > best[0]:
                        best = (q, Scope(e.place, e.name, "name"), (i, i + k))
        if best is not None:
            return best[1], best[2]
        for i, t in enumerate(toks):  # initials of a long name: "HCM", "tphcm"
            e = self._initials.get(t) or (self._initials.get(t[2:]) if t.startswith("tp") else None)
            if e is not None:
                return Scope(e.place, e.name, "acronym"), (i, i + 1)
        seen: set[tuple[int, str]] = set()
        for i, t in enumerate(toks):  # one typo per syllable, few in all, never in a one-syllable name
            for e in self._by_syllable.get(t, ()):
                k = len(e.syl)
                if k < 2:
                    continue
                for start in range(max(0, i - k + 1), min(i, len(toks) - k) + 1):
                    if (start, e.place) in seen:
                        continue
                    seen.add((start, e.place))
                    window = toks[start : start + k]
                    dists = [_dist(a, b) for a, b in zip(window, e.syl)]
                    if max(dists) <= 1 and sum(dists) <= (1 if k <= 2 else 2) and len("".join(window)) >= 6:
                        q = 50 - sum(dists)
                        if best is None or q > best[0]:
                            best = (q, Scope(e.place, e.name, "fuzzy"), (start, start + k))
        return (best[1], best[2]) if best else None


@lru_cache(maxsize=65536)
def _dist(a: str, b: str) -> int:
    """Edit distance of two syllables for typo tolerance. A typo keeps the syllable's first letter ("binh giag",
    "thai tam"); a different first letter is a different word ("Thái Lan" is not "Thái Tân")."""
    if a == b:
        return 0
    if abs(len(a) - len(b)) > 1 or min(len(a), len(b)) < 3 or a[0] != b[0]:
        return 9
    return Levenshtein.distance(a, b)
