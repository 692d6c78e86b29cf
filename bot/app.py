"""Wiring in one place: settings -> embedder -> index -> answerer (loaded once per process)."""
from __future__ import annotations

import logging
from pathlib import Path

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


def build_answerer(settings: Settings, embedder=None) -> Answerer:
    """Loads the index from settings.data_dir (building it first when it is missing)."""
    if not index_exists(settings):
        run_index(settings, progress=True)
    embedder = embedder or get_embedder(settings.embedder)
    if embedder is not None:
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
