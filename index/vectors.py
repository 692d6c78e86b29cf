"""Dense side: a FAISS index persisted with the model id, dimension and index type it was built with.

Exact inner-product search below a size threshold; IVF-Flat above it (parameters recorded). IVF rather than
HNSW: plans of many communes share template passages, and HNSW's graph over thousands of near-duplicate
vectors measured recall@10 0.30-0.50 at 1,000 plans whatever efSearch, where IVF (nprobe 16) gave 1.00.
The vectors are also saved as a plain matrix (vectors.npy), memory-mapped by the search side to score one
commune's passages exactly without a second copy in RAM."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np


class VectorIndex:
    def __init__(self, index, meta: dict, vectors: np.ndarray | None = None) -> None:
        self.index = index
        self.meta = meta
        self._vectors = vectors  # the matrix, when the index does not keep it flat (IVF)

    @classmethod
    def build(cls, vectors: np.ndarray, model_id: str, exact_max: int = 50_000) -> "VectorIndex":
        import faiss

        n, dim = vectors.shape if vectors.size else (0, 0)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if n > exact_max:
            # faiss's rule of thumb: 4-16 x sqrt(n) lists, each trained on >= 39 points
            nlist = max(1, min(int(4 * np.sqrt(n)), n // 39))
            nprobe = 16
            index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
            sample = np.random.default_rng(0).choice(n, size=min(n, 64 * nlist), replace=False)
            index.train(vectors[np.sort(sample)])
            index.nprobe = nprobe
            kind = {"type": "ivf_flat", "nlist": nlist, "nprobe": nprobe, "train_sample": int(len(sample))}
        else:
            index = faiss.IndexFlatIP(max(dim, 1))
            kind = {"type": "flat_ip"}
        if n:
            index.add(vectors)
        return cls(index, {"model": model_id, "dim": int(dim), "count": int(n), "index": kind}, vectors)

    def save(self, directory: Path) -> None:
        import faiss

        faiss.write_index(self.index, str(directory / "vectors.faiss"))
        if self._vectors is not None and self.meta["index"]["type"] != "flat_ip":
            np.save(directory / "vectors.npy", self._vectors)
        elif (directory / "vectors.npy").exists():
            (directory / "vectors.npy").unlink()  # a flat index is its own matrix
        (directory / "vectors.json").write_text(json.dumps(self.meta))

    @classmethod
    def load(cls, directory: Path) -> "VectorIndex | None":
        import faiss

        meta_path = directory / "vectors.json"
        if not meta_path.exists() or not (directory / "vectors.faiss").exists():
            return None
        meta = json.loads(meta_path.read_text())
        index = faiss.read_index(str(directory / "vectors.faiss"))
        params = meta.get("index", {})
        if "efSearch" in params:  # an HNSW index saved by an earlier version
            index.hnsw.efSearch = params["efSearch"]
        if "nprobe" in params:
            faiss.extract_index_ivf(index).nprobe = params["nprobe"]
        vectors = None
        if (directory / "vectors.npy").exists():
            vectors = np.load(directory / "vectors.npy", mmap_mode="r")  # pages read on demand, shared
        return cls(index, meta, vectors)

    def matrix(self) -> np.ndarray | None:
        """The stored vectors as a read-only numpy view (no copy), or None for an index that keeps none."""
        import faiss

        if self._vectors is not None:
            return self._vectors
        flat = faiss.downcast_index(self.index.storage) if hasattr(self.index, "storage") else self.index
        if not isinstance(flat, faiss.IndexFlat) or flat.ntotal == 0:
            return None
        view = faiss.rev_swig_ptr(flat.get_xb(), flat.ntotal * flat.d).reshape(flat.ntotal, flat.d)
        view.flags.writeable = False
        return view

    def matches(self, model_id: str, dim: int) -> bool:
        """Built by this model and current (not marked stale by a re-index that has not re-embedded yet)."""
        return self.meta.get("model") == model_id and self.meta.get("dim") == dim and not self.meta.get("stale")

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self.meta.get("count", 0) == 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        scores, ids = self.index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep]
