"""The fixed question set of the latency benchmark, and dev questions re-targeted to synthetic localities.

Categories (each question names the sample locality it is about; at the synthetic scales the name is replaced by
the fictional locality of a plan generated from that sample plan, a different one per repetition, so no two
asks share a query embedding):
who_leads, unit_tasks, procedure, no_diacritics, fact, out_of_scope.
"""
from __future__ import annotations

import json
from pathlib import Path

from .synth import fold

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"

# (category, question, sample locality named in it or None)
QUESTIONS: list[tuple[str, str, str | None]] = [
    ("who_leads", "Phường Chơn Thành: ai chủ trì rà soát, phát hiện các thủ tục hành chính ban hành chưa đúng quy định?", "Chơn Thành"),
    ("who_leads", "Xã Bình Giang: ai chủ trì triển khai các nhiệm vụ về cải cách thủ tục hành chính?", "Bình Giang"),
    ("who_leads", "Lê Hồng: ai chủ trì nhiệm vụ cải cách tài chính công?", "Lê Hồng"),
    ("who_leads", "Xã Thái Tân: ai chủ trì các nội dung về chỉ đạo điều hành, cải cách tổ chức bộ máy và chế độ công vụ?", "Thái Tân"),
    ("who_leads", "Xã Hải Hậu: ai chủ trì các nội dung cải cách thủ tục hành chính, công khai tiến độ hồ sơ trên Cổng dịch vụ công quốc gia?", "Hải Hậu"),
    ("unit_tasks", "Trung tâm Phục vụ hành chính công phường Chơn Thành chủ trì những nhiệm vụ nào?", "Chơn Thành"),
    ("unit_tasks", "Phòng Kinh tế, Hạ tầng và Đô thị phường Chơn Thành phụ trách những việc gì?", "Chơn Thành"),
    ("procedure", "Xã Hải Hậu: đăng ký khai sinh cần giấy tờ gì?", None),
    ("procedure", "Đăng ký kết hôn ở xã Hải Hậu mất bao lâu?", None),
    ("procedure", "lam giay khai sinh o hai hau co mat le phi khong", None),
    ("no_diacritics", "ai chu tri tu danh gia chi so cai cach hanh chinh phuong chon thanh", "Chơn Thành"),
    ("no_diacritics", "le hong cong chuc nao chu tri cai cach the che", "Lê Hồng"),
    ("no_diacritics", "binh giang don vi nao chu tri tham muu ve xay dung chinh quyen dien tu", "Bình Giang"),
    ("fact", "Chơn Thành đặt mục tiêu tỷ lệ hồ sơ trực tuyến trên tổng số hồ sơ tiếp nhận là bao nhiêu?", "Chơn Thành"),
    ("fact", "Hải Hậu: dữ liệu dân cư phải đảm bảo tiêu chí gì?", "Hải Hậu"),
    ("out_of_scope", "Lãi suất tiết kiệm ngân hàng hiện nay là bao nhiêu?", None),
    ("out_of_scope", "Ai chủ trì tổ chức lễ hội pháo hoa năm 2026?", None),
]

# dev kinds whose expected answer is a unit name or a refusal: still right after the synthetic perturbation
# (which keeps unit names and deadlines but moves percentages and swaps phrases)
RETARGET_KINDS = {"lead", "coord", "lead+deadline", "noaccent", "unit_tasks", "deadline_list", "oos"}


def retarget(question: str, base_name: str | None, new_name: str | None) -> str:
    """The question about `new_name` instead of `base_name` (diacritic-less questions get the folded name)."""
    if not base_name or not new_name:
        return question
    if base_name in question:
        return question.replace(base_name, new_name)
    fb, fn = fold(base_name), fold(new_name)
    if fb in question:
        return question.replace(fb, fn)
    return question


def question_set(scale_localities: dict[str, list[str]] | None, reps: int) -> list[tuple[str, str]]:
    """[(category, question)] * reps. `scale_localities`: sample locality -> fictional names generated from it
    (None: the sample corpus itself, the same questions each repetition)."""
    out = []
    for r in range(reps):
        for cat, q, loc in QUESTIONS:
            if scale_localities and loc:
                names = scale_localities.get(loc) or []
                q = retarget(q, loc, names[r % len(names)]) if names else q
            out.append((cat, q))
    return out


def load_dev(path: Path = DEV) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def dev_retargeted(scale_localities: dict[str, list[str]], bases: list[str], path: Path = DEV) -> list[dict]:
    """Dev items of RETARGET_KINDS whose question names a sample locality, asked about a synthetic one."""
    out = []
    for i, item in enumerate(load_dev(path)):
        if item.get("kind") not in RETARGET_KINDS:
            continue
        if item.get("found") is False:
            out.append(item)
            continue
        base = next((b for b in bases if b in item["q"] or fold(b) in fold(item["q"])), None)
        names = scale_localities.get(base or "", [])
        if not base or not names:
            continue
        new = dict(item)
        q = item["q"]
        if base not in q and fold(base) in q:
            q = q.replace(fold(base), fold(names[i % len(names)]))
        else:
            q = q.replace(base, names[i % len(names)])
        new["q"] = q
        new["retargeted_from"] = base
        out.append(new)
    return out
