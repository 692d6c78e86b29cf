"""Lexical side: BM25 (bm25s) over accent-folded syllables + syllable bigrams, abbreviations expanded."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .abbreviations import expand
from .textnorm import lexical_tokens

_STOP = {
    "ai", "la", "gi", "nao", "nhung", "cac", "cua", "va", "co", "khong", "the", "thi", "bao", "nhieu",
    "khi", "o", "dau", "duoc", "cho", "voi", "trong", "tai", "ve", "de", "do", "nay", "ra", "sao",
}


def tokens_for(text: str) -> list[str]:
    return lexical_tokens(expand(text))


def query_tokens(text: str) -> list[str]:
    toks = tokens_for(text)
    return [t for t in toks if t not in _STOP] or toks


class LexicalIndex:
    def __init__(self, retriever, n_docs: int) -> None:
        self._r = retriever
        self.n_docs = n_docs

    @classmethod
    def build(cls, texts: list[str]) -> "LexicalIndex":
        import bm25s

        corpus_tokens = [tokens_for(t) or ["_"] for t in texts]
        r = bm25s.BM25(k1=1.2, b=0.75)
        r.index(corpus_tokens, show_progress=False)
        return cls(r, len(texts))

    def save(self, path: Path) -> None:
        self._r.save(str(path))

    @classmethod
    def load(cls, path: Path) -> "LexicalIndex":
        import bm25s

        r = bm25s.BM25.load(str(path))
        return cls(r, int(r.scores["num_docs"]))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for the query (zeros when no token is known)."""
        toks = query_tokens(query)
        vocab = self._r.vocab_dict
        known = [t for t in toks if t in vocab]
        if not known:
            return np.zeros(self.n_docs, dtype=np.float32)
        return np.asarray(self._r.get_scores(known), dtype=np.float32)
