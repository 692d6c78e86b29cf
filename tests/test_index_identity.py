"""Task identity that survives edits, duplicate plans indexed once, and per-file limits (lexical index only:
these are properties of the records, not of the embeddings)."""
from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from index import store
from index.loaders import Limits
from index.pipeline import build_index

ROOT = Path(__file__).resolve().parent.parent
PLAN = ROOT / "corpus" / "kh-cchc-2026-xa-hai-hau.txt"
OTHER = ROOT / "corpus" / "kh-cchc-6-thang-cuoi-2025-xa-thai-tan.txt"


def _tasks(data: Path):
    return store.load_tasks(store.open_db(data / "cchc.db"))


def test_editing_a_plan_keeps_the_ids_of_unchanged_tasks(tmp_path):
    corpus, data = tmp_path / "corpus", tmp_path / "data"
    corpus.mkdir()
    target = corpus / PLAN.name
    shutil.copy(PLAN, target)
    build_index(corpus, data, progress=False)
    before = {t.id: t for t in _tasks(data)}
    text = target.read_text(encoding="utf-8")
    # one byte added at the end, one task reworded, one task added
    old_line = next(l for l in text.splitlines() if l.startswith("- ") and len(l) > 80)
    text = text.replace(old_line, old_line.replace("- ", "- Khẩn trương ", 1)) + " "
    text = text.replace("II. NHIỆM VỤ", "II. NHIỆM VỤ\n- Tổ chức hội nghị sơ kết công tác cải cách hành chính giữa năm.", 1)
    target.write_text(text, encoding="utf-8")
    summary = build_index(corpus, data, progress=False)
    after = {t.id: t for t in _tasks(data)}
    kept = set(before) & set(after)
    assert len(kept) >= len(before) - 3  # every task whose own text did not change keeps its id
    assert all(after[i].status == "unchanged" for i in kept)
    changed = [t for t in after.values() if t.status == "changed"]
    assert changed and any("Khẩn trương" in t.title for t in changed)
    assert summary.changes[PLAN.name]["new"] == len(changed) and summary.changes[PLAN.name]["removed"] >= 1


def test_renaming_a_plan_file_keeps_task_ids(tmp_path):
    corpus, data = tmp_path / "corpus", tmp_path / "data"
    corpus.mkdir()
    shutil.copy(PLAN, corpus / PLAN.name)
    build_index(corpus, data, progress=False)
    before = sorted(t.id for t in _tasks(data))
    (corpus / PLAN.name).rename(corpus / "ke-hoach-cchc-2026.txt")
    build_index(corpus, data, progress=False)
    assert sorted(t.id for t in _tasks(data)) == before  # identity = issuer + number/title, not the file name


def test_duplicate_and_near_duplicate_copies_are_indexed_once(tmp_path):
    corpus, data = tmp_path / "corpus", tmp_path / "data"
    corpus.mkdir()
    shutil.copy(PLAN, corpus / PLAN.name)
    shutil.copy(OTHER, corpus / OTHER.name)
    text = PLAN.read_text(encoding="utf-8")
    (corpus / "ban-sao.txt").write_text(text, encoding="utf-8")
    (corpus / "ban-sao-utf16.txt").write_bytes(text.encode("utf-16"))  # another encoding, same text
    (corpus / "ban-sao-thieu.txt").write_text(text[: int(len(text) * 0.93)], encoding="utf-8")  # truncated
    s = build_index(corpus, data, progress=False)
    assert s.plans == 2
    copies = {PLAN.name, "ban-sao.txt", "ban-sao-utf16.txt", "ban-sao-thieu.txt"}
    dups = {d for d, _ in s.duplicates}
    assert len(dups) == 3 and dups < copies
    kept = (copies - dups).pop()
    assert kept != "ban-sao-thieu.txt"  # the complete copy is kept, not the truncated one
    ids = [t.id for t in _tasks(data)]
    assert len(ids) == len(set(ids))
    # two different communes' plans are never duplicates, however alike
    assert any(d["document"] == OTHER.name for d in store.open_db(data / "cchc.db")["documents"].rows)


def test_limits_symlinks_and_empty_files_are_reported(tmp_path):
    corpus, data = tmp_path / "corpus", tmp_path / "data"
    corpus.mkdir()
    shutil.copy(PLAN, corpus / PLAN.name)
    (corpus / "qua-lon.txt").write_text("a b c d e f g h\n" * 200_000, encoding="utf-8")
    bomb = corpus / "bom.docx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", "<w:document/>" + " " * (30 * 2**20))
    outside = tmp_path / "secret.txt"
    outside.write_text("KẾ HOẠCH bí mật", encoding="utf-8")
    (corpus / "lien-ket.txt").symlink_to(outside)
    (corpus / "rong.txt").write_text("\n\n   \n", encoding="utf-8")
    s = build_index(corpus, data, progress=False, limits=Limits(max_bytes=2 * 2**20, max_uncompressed=10 * 2**20))
    reasons = {Path(p).name: r for p, r in s.skipped}
    assert "quá lớn" in reasons["qua-lon.txt"]
    assert "giải nén quá lớn" in reasons["bom.docx"]
    assert "ngoài thư mục" in reasons["lien-ket.txt"]
    assert "rong.txt" in reasons
    assert s.plans == 1
