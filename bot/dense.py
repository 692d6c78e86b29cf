"""The dense side, filled while the bot already answers.

`python -m bot index` stores the records and the lexical side in seconds; a serving process then answers from
them at once and fills the dense index on a background thread (`DenseFill`): it embeds the passages missing from
the embedding cache, writes the FAISS index, and attaches it to the live `SearchIndex` in place, so the answer
path uses it from the next question on. A re-index in the meantime (an upload, /reindex) makes the older fill
stop; the newer answerer's own fill takes over, reusing every embedding already cached.

Index files are written under one lock per data directory (`index_lock`), shared by `run_index` and the
fill, threads and processes alike (flock), so a fill never writes vectors for a chunk list that a concurrent
re-index has just replaced.
"""
from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

log = logging.getLogger(__name__)

BACKGROUND_NICE = 10  # the fill's thread (and the model threads it starts) yield the cores to answering


@contextlib.contextmanager
def index_lock(data_dir: Path) -> Iterator[None]:
    """Exclusive lock on the index files of `data_dir` (between threads and processes)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / ".index.lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def chunk_order(data_dir: Path) -> list[str]:
    f = data_dir / "chunk_ids.txt"
    return [i for i in f.read_text().split("\n") if i] if f.exists() else []


def current_vectors(index, embedder):
    """The vector index on disk when it belongs to this index's chunks and this model, else None."""
    from index.vectors import VectorIndex

    vi = VectorIndex.load(index.data_dir)
    if vi is None or not vi.matches(embedder.model_id, embedder.dim) or vi.meta.get("count") != len(index.chunks):
        return None
    if chunk_order(index.data_dir) != [c.id for c in index.chunks]:
        return None
    return vi


def attach(index, embedder, vectors=None) -> bool:
    """Give a live SearchIndex its dense side, in place: the matrix and the embedder first, the vector index
    last, since `dense_ready` (what the answer path checks) turns true with it. False when the vectors on disk
    are not this index's (a re-index replaced the chunks meanwhile)."""
    vi = vectors if vectors is not None else current_vectors(index, embedder)
    if vi is None:
        return False
    matrix = vi.matrix()
    index._matrix = matrix if matrix is not None and len(matrix) == len(index.chunks) else None
    index._qcache = {}
    index.embedder = embedder
    index.vectors = vi
    return True


def detach(index) -> None:
    """Lexical only until the fill attaches vectors that match the chunks."""
    index.vectors = None
    index._matrix = None


def _lower_priority() -> None:
    """Background work gives way to answering: a higher nice value for this thread (Linux: per thread, and
    inherited by the model's worker threads this thread starts)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICE)
    except (AttributeError, OSError):
        pass


class DenseFill:
    """Fills the dense index of `index.data_dir` on a daemon thread and attaches it to `index` when written.

    state: "pending" (not started), "running", "ready" (attached), "stopped" (a newer fill took over, or
    `stop()`), "failed"."""

    def __init__(self, index, make_embedder: Callable[[], object], exact_max: int = 50_000, batch: int = 128,
                 nice: bool = True) -> None:
        self.index = index
        self.data_dir = Path(index.data_dir)
        self.make_embedder = make_embedder
        self.exact_max = exact_max
        self.batch = batch
        self.nice = nice
        self.state = "pending"
        self.embedded = 0
        self.seconds = 0.0
        self.error: str | None = None
        self._stop = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- control
    def start(self) -> "DenseFill":
        _take_over(self.data_dir, self)
        self.state = "running"
        self._thread = threading.Thread(target=self._run, name="dense-fill", daemon=True)
        self._thread.start()
        return self

    def run(self) -> "DenseFill":
        """The same work on the calling thread (`python -m bot index --dense`, eval)."""
        _take_over(self.data_dir, self)
        self.state = "running"
        self._run(background=False)
        return self

    def stop(self) -> None:
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        """True once the fill has ended (whatever its state)."""
        return self._done.wait(timeout)

    # ---- work
    def _run(self, background: bool = True) -> None:
        from index import store
        from index.embeddings.cache import dense_texts, embed_into_cache, missing
        from index.pipeline import build_dense

        t0 = time.perf_counter()
        try:
            if background and self.nice:
                _lower_priority()
            embedder = self.make_embedder()
            # 1. embed what the cache lacks, without the lock: a re-index may run meanwhile (it only adds rows)
            db = store.open_db(self.data_dir / "cchc.db")
            try:
                _, _, todo = missing(db, embedder.model_id, dense_texts(store.load_chunks(db)))
                if todo:
                    log.info("dense index: embedding %d passages in the background", len(todo))
                self.embedded += len(embed_into_cache(db, embedder, todo, batch=self.batch, stop=self._stop.is_set))
                if self._stop.is_set():
                    self.state = "stopped"
                    return
                # 2. under the lock: the chunks as they are now (a re-index may have added a few), then FAISS
                with index_lock(self.data_dir):
                    if self._stop.is_set():
                        self.state = "stopped"
                        return
                    self.embedded += build_dense(self.data_dir, embedder, exact_max=self.exact_max, db=db,
                                                 batch=self.batch, stop=self._stop.is_set)
                    if self._stop.is_set():
                        self.state = "stopped"
                        return
                    attached = attach(self.index, embedder)
            finally:
                db.conn.close()
            self.state = "ready" if attached else "stopped"
            self.seconds = time.perf_counter() - t0
            if attached:
                log.info("dense index ready: %d passages embedded, %.1f s; semantic search on", self.embedded,
                         self.seconds)
            else:
                log.info("dense index written, but the index changed meanwhile: the newer answerer attaches it")
        except Exception as exc:  # the lexical side keeps answering
            self.state = "failed"
            self.error = f"{type(exc).__name__}: {exc}"
            log.exception("dense index fill failed; answering stays lexical")
        finally:
            self.seconds = time.perf_counter() - t0
            _release(self.data_dir, self)
            self._done.set()


# One fill per data directory in this process: a newer one (after a re-index) makes the older one stop.
_FILLS: dict[Path, DenseFill] = {}
_FILLS_LOCK = threading.Lock()


def _take_over(data_dir: Path, fill: DenseFill) -> None:
    key = data_dir.resolve()
    with _FILLS_LOCK:
        old = _FILLS.get(key)
        _FILLS[key] = fill
    if old is not None and old is not fill:
        old.stop()


def _release(data_dir: Path, fill: DenseFill) -> None:
    key = data_dir.resolve()
    with _FILLS_LOCK:
        if _FILLS.get(key) is fill:
            del _FILLS[key]
