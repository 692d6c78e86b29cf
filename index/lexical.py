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


def _bm25s():
    """bm25s, imported lazily; its import sets its own logger to DEBUG ("Building index from tokens" on every
    build), so put that logger back under the application's level."""
    import logging

    import bm25s

    logging.getLogger("bm25s").setLevel(max(logging.getLogger().getEffectiveLevel(), logging.INFO))
    return bm25s


class LexicalIndex:
    """BM25 over a list of texts. Its postings (token -> sorted document ids) double as each document's
    token set, so coverage and document frequencies need no second tokenization when a process loads."""

    _SORTED_MARK = "postings_sorted"

    def __init__(self, retriever, n_docs: int) -> None:
        self._r = retriever
        self.n_docs = n_docs
        self._indices = retriever.scores["indices"]
        self._indptr = retriever.scores["indptr"]
        self._data = retriever.scores["data"]

    @classmethod
    def build(cls, texts: list[str]) -> "LexicalIndex":
        corpus_tokens = [tokens_for(t) or ["_"] for t in texts]
        r = _bm25s().BM25(k1=1.2, b=0.75)
        r.index(corpus_tokens, show_progress=False)
        _sort_postings(r.scores)
        return cls(r, len(corpus_tokens))

    def save(self, path: Path) -> None:
        self._r.save(str(path))
        (Path(path) / self._SORTED_MARK).write_text("1")

    @classmethod
    def load(cls, path: Path, mmap: bool = False) -> "LexicalIndex":
        r = _bm25s().BM25.load(str(path), mmap=mmap, show_progress=False)
        if not (Path(path) / cls._SORTED_MARK).exists():  # saved by an older version: check once
            _sort_postings(r.scores)
        return cls(r, int(r.scores["num_docs"]))

    def scores(self, query: str | list[str]) -> np.ndarray:
        """BM25 score of every document for the query — a text, or its tokens already chosen (zeros when no
        token is known)."""
        toks = query if isinstance(query, list) else query_tokens(query)
        vocab = self._r.vocab_dict
        known = [t for t in toks if t in vocab]
        if not known:
            return np.zeros(self.n_docs, dtype=np.float32)
        if self._r.nonoccurrence_array is not None or np.dtype(self._r.dtype) != np.float32:
            return np.asarray(self._r.get_scores(known), dtype=np.float32)  # variants this index does not build
        # bm25s' own sum (_compute_relevance_from_scores: np.add.at token after token, float32) as one np.add.at
        # over the tokens' postings laid end to end: the same additions in the same order, one call
        ptr, ind, data = self._indptr, self._indices, self._data
        spans = [(ptr[v], ptr[v + 1]) for v in map(vocab.__getitem__, known)]
        out = np.zeros(self.n_docs, dtype=np.float32)
        np.add.at(out, np.concatenate([ind[a:b] for a, b in spans]), np.concatenate([data[a:b] for a, b in spans]))
        return out

    def _postings(self, token: str) -> np.ndarray | None:
        v = self._r.vocab_dict.get(token)
        if v is None or v + 1 >= len(self._indptr):
            return None
        return self._indices[self._indptr[v] : self._indptr[v + 1]]

    def df(self, token: str) -> int:
        """Number of documents containing the token."""
        post = self._postings(token)
        return 0 if post is None else len(post)

    def contains(self, tokens: list[str], docs: np.ndarray) -> np.ndarray:
        """Boolean matrix [token, doc]: does document docs[j] contain tokens[i]?

        One binary search for the whole matrix: the tokens' postings (each ascending) are laid end to end as
        keys i * n_docs + doc, which keeps them ascending, and every (token, doc) pair is looked up at once."""
        docs = np.asarray(docs, dtype=np.int64)
        out = np.zeros((len(tokens), len(docs)), dtype=bool)
        if not len(docs):
            return out
        n = max(self.n_docs, int(docs.max()) + 1)
        parts, rows = [], []
        for i, t in enumerate(tokens):
            post = self._postings(t)
            if post is not None and len(post):
                parts.append(post)
                rows.append(i)
        if not parts:
            return out
        lengths = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
        if lengths.sum() > _CONCAT_MAX:
            # long postings (a large corpus): copying them costs more than a search per token saves
            for i, post in zip(rows, parts):
                pos = post.searchsorted(docs)
                np.minimum(pos, len(post) - 1, out=pos)
                out[i] = post[pos] == docs
            return out
        keys = np.concatenate(parts).astype(np.int64)
        keys += np.repeat(np.asarray(rows, dtype=np.int64) * n, lengths)
        wanted = (np.arange(len(tokens), dtype=np.int64)[:, None] * n + docs[None, :]).ravel()
        pos = keys.searchsorted(wanted)
        np.minimum(pos, len(keys) - 1, out=pos)
        return (keys[pos] == wanted).reshape(out.shape)


_CONCAT_MAX = 20_000  # postings laid end to end for one search up to this many; above it, a search per token


def _sort_postings(scores: dict) -> None:
    """Make each token's document ids ascending (bm25s builds them so; older or foreign files may not)."""
    ind, ptr, data = scores["indices"], scores["indptr"], scores["data"]
    if not len(ind):
        return
    starts = np.zeros(len(ind), dtype=bool)
    starts[ptr[:-1][ptr[:-1] < len(ind)]] = True
    if np.all((np.diff(ind.astype(np.int64)) > 0) | starts[1:]):
        return
    column = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))
    order = np.lexsort((ind, column))
    scores["indices"] = np.ascontiguousarray(ind[order])
    scores["data"] = np.ascontiguousarray(data[order])
