"""Wiring in one place: settings -> embedder -> index -> answerer (loaded once per process)."""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from handlers.qa import Answerer
from index.embeddings import get_embedder
from index.pipeline import IndexSummary, build_index
from index.search import SearchIndex

from .settings import Settings

log = logging.getLogger(__name__)


def index_exists(settings: Settings) -> bool:
    d = settings.data_dir
    return (d / "cchc.db").exists() and (d / "bm25").exists()


def run_index(settings: Settings, progress: bool = True, extra_files: list[Path] | None = None) -> IndexSummary:
    embedder = get_embedder(settings.embedder)
    return build_index(settings.corpus_dir, settings.data_dir, embedder=embedder, progress=progress,
                       exact_max=settings.exact_index_max, extra_files=extra_files)


def cap_query(text: str, max_chars: int) -> str:
    """At most `max_chars` characters of `text`, cut at a space when there is one in the last fifth."""
    if max_chars <= 0 or len(text) <= max_chars:
        return text
    cut = text[:max_chars]
    space = cut.rfind(" ")
    return cut[:space] if space >= max_chars * 4 // 5 else cut


class BoundedEmbedder:
    """The embedder as the answerer sees it. A query is cut to `max_chars` before it is embedded: the cost grows with
    its length (on the 2-core machine, one thread: ~60 ms for 50 characters, ~1.6 s for 1,000 single letters), and
    the lexical search still reads the whole question. Calls are serialized: the models are not documented as
    thread-safe."""

    def __init__(self, inner: Any, max_chars: int):
        self.inner = inner
        self.max_chars = max_chars
        self._lock = threading.Lock()

    def embed_query(self, text: str):
        with self._lock:
            return self.inner.embed_query(cap_query(text, self.max_chars))

    def embed_passages(self, texts: list[str]):
        with self._lock:
            return self.inner.embed_passages(texts)

    def __getattr__(self, name: str) -> Any:  # model_id, dim, ...
        return getattr(self.inner, name)


def build_answerer(settings: Settings, embedder=None) -> Answerer:
    """Loads the index from settings.data_dir (building it first when it is missing)."""
    if not index_exists(settings):
        run_index(settings, progress=True)
    embedder = embedder or get_embedder(settings.embedder)
    if embedder is not None:  # BOT_EMBEDDER=none: lexical only
        embedder = BoundedEmbedder(embedder, settings.max_query_chars)
        embedder.embed_query("khởi động")  # warm the model once, not on the first user's question
    index = SearchIndex(settings.data_dir, embedder=embedder)
    procedures = None
    try:
        from handlers.procedures import ProcedureAnswerer
        from index.procedures import load_procedures

        procs = load_procedures(settings.db_path)
        procedures = ProcedureAnswerer(procs) if procs else None
    except ImportError:  # pragma: no cover - procedures module not installed
        procedures = None
    return Answerer(index, procedures=procedures, tz=settings.timezone)
