"""Wiring in one place: settings -> embedder -> index -> answerer (loaded once per process)."""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from handlers.qa import Answerer
from handlers.router import Scorer
from index.embeddings import get_embedder
from index.pipeline import IndexSummary, build_dense, build_index
from index.search import SearchIndex

from .dense import DenseFill, attach, current_vectors, detach, index_lock
from .settings import Settings

log = logging.getLogger(__name__)


def index_exists(settings: Settings) -> bool:
    d = settings.data_dir
    return (d / "cchc.db").exists() and (d / "bm25").exists()


def run_index(settings: Settings, progress: bool = True, extra_files: list[Path] | None = None,
              dense: bool = True) -> IndexSummary:
    """Index the corpus. With `dense=False` only the records and the lexical side are built (seconds): the
    dense side is then marked pending, for `fill_dense` or a serving process's background fill."""
    with index_lock(settings.data_dir):
        summary = build_index(settings.corpus_dir, settings.data_dir, embedder=None, progress=progress,
                              exact_max=settings.exact_index_max, extra_files=extra_files)
        embedder = get_embedder(settings.embedder) if dense else None
        if embedder is not None:
            build_dense(settings.data_dir, embedder, progress=progress, exact_max=settings.exact_index_max,
                        summary=summary, batch=settings.embed_batch)
            summary.dense_pending = False
    return summary


def fill_dense(settings: Settings, progress: bool = True) -> tuple[int, int]:
    """Build the pending dense side now (`python -m bot index --dense`). Returns (passages embedded, reused)."""
    embedder = get_embedder(settings.embedder)
    if embedder is None:
        return 0, 0
    summary = IndexSummary()
    with index_lock(settings.data_dir):
        build_dense(settings.data_dir, embedder, progress=progress, exact_max=settings.exact_index_max,
                    summary=summary, batch=settings.embed_batch)
    return summary.embedded, summary.reused


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


def build_answerer(settings: Settings, embedder=None, dense: str = "background") -> Answerer:
    """Loads the index from settings.data_dir (building its lexical side first when it is missing).

    dense: what to do when the dense side is pending (a fresh or changed index):
      "background" — answer at once from the lexical side, fill the dense index on a thread and use it when
                     written (serve, chat, uploads);
      "wait"       — fill it first (eval: scores that do not depend on timing);
      "available"  — use it only if it is already there (one-off `ask`).
    With the gate at 0 (BOT_DENSE_GATE, else handlers/router_weights.json: no question is ever embedded) no model
    is loaded and nothing is filled, unless an embedder is passed in.
    """
    scorer = Scorer.load()
    if settings.dense_gate is not None:
        scorer.gate = settings.dense_gate
    if not index_exists(settings):
        # a closed gate never reads the dense side: embedding every passage first would be wasted minutes
        run_index(settings, progress=True, dense=dense == "wait" and (embedder is not None or scorer.gate > 0))
    if embedder is None and scorer.gate > 0:
        embedder = get_embedder(settings.embedder)
    if embedder is not None:  # BOT_EMBEDDER=none: lexical only
        embedder = BoundedEmbedder(embedder, settings.max_query_chars)
    index = SearchIndex(settings.data_dir, embedder=None)
    fill = None
    if embedder is not None:
        vectors = current_vectors(index, embedder)
        if vectors is not None:
            attach(index, embedder, vectors)
        else:
            detach(index)
            # the query path leaves the embedder alone until the fill attaches it: one model, not two
            fill = DenseFill(index, lambda: embedder, exact_max=settings.exact_index_max, batch=settings.embed_batch)
            if dense == "wait":
                fill.run()
            elif dense == "background":
                fill.start()
            else:
                fill = None
        if index.vectors is not None:
            embedder.embed_query("khởi động")  # warm the model once, not on the first user's question
    procedures = None
    try:
        from handlers.procedures import ProcedureAnswerer
        from index.procedures import load_procedures

        procs = load_procedures(settings.db_path)
        procedures = ProcedureAnswerer(procs) if procs else None
    except ImportError:  # pragma: no cover - procedures module not installed
        procedures = None
    answerer = Answerer(index, procedures=procedures, tz=settings.timezone, scorer=scorer)
    answerer.dense_fill = fill  # None when nothing is being filled
    return answerer
