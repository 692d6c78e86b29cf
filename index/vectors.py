"""Dense side: a FAISS index persisted with the model id, dimension and index type it was built with.

Exact inner-product search below a size threshold; HNSW above it (parameters recorded)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np


class VectorIndex:
    def __init__(self, index, meta: dict) -> None:
        self.index = index
        self.meta = meta

    @classmethod
    def build(cls, vectors: np.ndarray, model_id: str, exact_max: int = 50_000) -> "VectorIndex":
        import faiss

        n, dim = vectors.shape if vectors.size else (0, 0)
        if n > exact_max:
            index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 80
            index.hnsw.efSearch = 64
            kind = {"type": "hnsw", "M": 32, "efConstruction": 80, "efSearch": 64}
        else:
            index = faiss.IndexFlatIP(max(dim, 1))
            kind = {"type": "flat_ip"}
        if n:
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index, {"model": model_id, "dim": int(dim), "count": int(n), "index": kind})

    def save(self, directory: Path) -> None:
        import faiss

        faiss.write_index(self.index, str(directory / "vectors.faiss"))
        (directory / "vectors.json").write_text(json.dumps(self.meta))

    @classmethod
    def load(cls, directory: Path) -> "VectorIndex | None":
        import faiss

        meta_path = directory / "vectors.json"
        if not meta_path.exists() or not (directory / "vectors.faiss").exists():
            return None
        meta = json.loads(meta_path.read_text())
        index = faiss.read_index(str(directory / "vectors.faiss"))
        if "efSearch" in meta.get("index", {}):
            index.hnsw.efSearch = meta["index"]["efSearch"]
        return cls(index, meta)

    def matrix(self) -> np.ndarray | None:
        """The stored vectors as a read-only numpy view (no copy), or None for an index that keeps none."""
        import faiss

        flat = faiss.downcast_index(self.index.storage) if hasattr(self.index, "storage") else self.index
        if not isinstance(flat, faiss.IndexFlat) or flat.ntotal == 0:
            return None
        view = faiss.rev_swig_ptr(flat.get_xb(), flat.ntotal * flat.d).reshape(flat.ntotal, flat.d)
        view.flags.writeable = False
        return view

    def matches(self, model_id: str, dim: int) -> bool:
        return self.meta.get("model") == model_id and self.meta.get("dim") == dim

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self.meta.get("count", 0) == 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        scores, ids = self.index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep]
