"""Synthetic scale corpora from the sample plans: fictional localities, shuffled and perturbed sentences, tables.

`generate(n_plans, out_dir, base_dir=corpus/)` writes `n_plans` plan files (round robin over the sample plans)
plus the sample procedure catalogue(s) it finds under `base_dir`, and returns a `SynthCorpus` describing them.

What a synthetic plan is, made from one sample plan (its "base"):
- the base's locality name (e.g. "Hải Hậu") is replaced everywhere (as written and upper-cased) by a fictional
  one, unique after folding case and diacritics ("Tân Thanh" and "Tân Thạnh" never both appear);
- heading lines (I., 1., 1.1., a), page numbers, table headers and group rows stay where they are, so the
  document keeps the genre's structure and the indexer still finds sections, units and tasks;
- the paragraphs/list items between two headings are shuffled (with probability `p_shuffle` per section);
  an item's wrapped continuation lines travel with it;
- each paragraph is perturbed with probability `p_perturb`: synonym swaps of common administrative phrases,
  percentages moved by up to 10 points, and (for one-line paragraphs of several sentences) the sentence order
  shuffled; unit names and deadline phrases are left alone, so tasks keep their lead units and deadlines;
- table rows (tab-separated, as the plain-text extraction of the samples gives them) keep their order (rows
  continue across pages and merged cells inherit from the row above), but the free-text cells (objective, task,
  activity, output) are perturbed like paragraphs; unit and deadline columns are not.

Deterministic for a given seed. Pure Python, no index code needed (the locality name of each base plan is read
from its title line with a small regex; the caller may pass them explicitly).
"""
from __future__ import annotations

import hashlib
import json
import random
import re
import shutil
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CORPUS = ROOT / "corpus"

# Syllables of Vietnamese commune names (fictional combinations).
_SYLLABLES = [
    "An", "Bình", "Cẩm", "Đông", "Gia", "Hòa", "Hưng", "Khánh", "Lạc", "Long", "Minh", "Mỹ", "Nghĩa", "Ngọc",
    "Phú", "Phúc", "Phước", "Quang", "Sơn", "Tân", "Thạnh", "Thịnh", "Thuận", "Tiến", "Trung", "Vĩnh", "Xuân",
    "Yên", "Đức", "Kim", "Lâm", "Liên", "Phong", "Quý", "Thọ", "Tường", "Vân", "Hiệp", "Lộc", "Định", "Hạnh",
    "Mai", "Nhân", "Tài", "Triều", "Uyên", "Bảo", "Cát",
]

# Phrase swaps (both directions). Unit names and deadline phrases are deliberately absent.
_SYNONYMS = [
    ("tăng cường", "đẩy mạnh"), ("nâng cao", "cải thiện"), ("kịp thời", "đúng thời hạn"),
    ("bảo đảm", "đảm bảo"), ("ứng dụng", "áp dụng"), ("hiệu quả", "thiết thực"),
    ("người dân, doanh nghiệp", "người dân, tổ chức"), ("triển khai", "tổ chức triển khai"),
    ("tuyên truyền", "thông tin, tuyên truyền"), ("hoàn thiện", "từng bước hoàn thiện"),
    ("chất lượng", "chất lượng, hiệu quả"), ("trên địa bàn", "trong phạm vi địa bàn"),
    ("nghiêm túc", "nghiêm"), ("đồng bộ", "thống nhất, đồng bộ"), ("cán bộ, công chức", "cán bộ, công chức, viên chức"),
]
_PCT = re.compile(r"\b(\d{1,3})\s?%")
_ROMAN = r"(?:I|II|III|IV|V|VI|VII|VIII|IX|X|XI|XII)"
_HEADING = re.compile(
    rf"^(?:{_ROMAN}[.)]\s*\S|\d{{1,2}}(?:\.\d{{1,2}}){{0,2}}[.)]?\s+\S|[a-zđ][).]\s+\S|PHỤ LỤC|KẾ HOẠCH\b)"
)
_BULLET = re.compile(r"^[-+•*–]\s*\S")
_PAGE_NO = re.compile(r"^(?:trang\s*)?\d{1,3}(?:\s*/\s*\d{1,3})?$", re.I)
_TITLE_LOC = re.compile(r"\b(xã|phường|thị trấn)\s+((?:[A-ZĐÀ-Ỹ][\wÀ-ỹ]*\s?){1,3})")
_TEXT_COLUMNS = (1, 2, 3, 4)  # Mục tiêu, Nhiệm vụ, Hoạt động, Kết quả — not Chủ trì / Phối hợp / Thời gian


def fold(text: str) -> str:
    t = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in t if unicodedata.category(ch) != "Mn").lower()


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")


@dataclass
class SynthPlan:
    file: str
    base: str  # base plan file name
    base_locality: str  # "Hải Hậu"
    locality_name: str  # "Tân Phú"
    kind: str  # "xã" | "phường"
    perturbed_paragraphs: int = 0
    shuffled_sections: int = 0
    table_rows: int = 0


@dataclass
class SynthCorpus:
    directory: str
    seed: int
    plans: list[SynthPlan] = field(default_factory=list)
    catalogues: list[str] = field(default_factory=list)
    bytes: int = 0

    def by_base(self) -> dict[str, list[SynthPlan]]:
        out: dict[str, list[SynthPlan]] = {}
        for p in self.plans:
            out.setdefault(p.base_locality, []).append(p)
        return out

    def to_json(self) -> dict:
        return asdict(self)


def fictional_names(n: int, seed: int = 7, avoid: set[str] = frozenset()) -> list[str]:
    """n commune names, unique after folding and not folding to any name in `avoid`."""
    rng = random.Random(seed)
    seen = {fold(a) for a in avoid}
    out: list[str] = []
    pairs = [(a, b) for a in _SYLLABLES for b in _SYLLABLES if a != b]
    rng.shuffle(pairs)
    for a, b in pairs:
        if len(out) >= n:
            return out
        name = f"{a} {b}"
        if fold(name) not in seen:
            seen.add(fold(name))
            out.append(name)
    while len(out) < n:  # beyond ~2,200 two-syllable names: three syllables
        name = " ".join(rng.sample(_SYLLABLES, 3))
        if fold(name) not in seen:
            seen.add(fold(name))
            out.append(name)
    return out


def base_locality(text: str) -> tuple[str, str]:
    """('xã', 'Hải Hậu') from the first lines naming 'xã/phường X'."""
    for line in text.splitlines()[:40]:
        m = _TITLE_LOC.search(line)
        if m:
            name = m.group(2).strip()
            name = re.split(r"\s+(?:năm|giai|giai đoạn|nhiệm|\d)", name)[0].strip()
            words = [w for w in name.split() if w[:1].isupper()]
            return m.group(1), " ".join(words[:3])
    raise ValueError("no 'xã/phường <name>' in the first lines")


def sample_plans(base_dir: Path = SAMPLE_CORPUS) -> list[Path]:
    return sorted(p for p in Path(base_dir).glob("*.txt") if p.is_file())


def sample_catalogues(base_dir: Path = SAMPLE_CORPUS) -> list[Path]:
    # .json: records of the national procedure database (what the bundled corpus ships)
    return sorted(p for p in Path(base_dir).rglob("*") if p.is_file()
                  and p.suffix.lower() in (".docx", ".pdf", ".xlsx", ".json") and not p.name.startswith((".", "~$")))


# ---------------------------------------------------------------------------------------------------- perturbation

def _swap_phrases(text: str, rng: random.Random, max_swaps: int = 2) -> str:
    options = []
    low = text.lower()
    for a, b in _SYNONYMS:
        if a in low:
            options.append((a, b))
        elif b in low:
            options.append((b, a))
    rng.shuffle(options)
    for a, b in options[:max_swaps]:
        idx = text.lower().find(a)
        if idx < 0:
            continue
        orig = text[idx: idx + len(a)]
        rep = b[0].upper() + b[1:] if orig[:1].isupper() else b
        text = text[:idx] + rep + text[idx + len(a):]
    return text


def _jitter_pct(text: str, rng: random.Random) -> str:
    def sub(m: re.Match) -> str:
        v = int(m.group(1))
        if v == 100 or rng.random() < 0.5:
            return m.group(0)
        v = max(10, min(100, v + rng.choice((-10, -5, 5, 10))))
        return f"{v}%"

    return _PCT.sub(sub, text)


def _shuffle_sentences(text: str, rng: random.Random) -> str:
    parts = [p for p in re.split(r"(?<=[.;])\s+(?=[A-ZĐÀ-Ỹ])", text) if p]
    if len(parts) < 3:
        return text
    head, rest = parts[0], parts[1:]
    rng.shuffle(rest)  # the first sentence (often "1. Xxx:" style lead-in) stays first
    return " ".join([head, *rest])


def perturb(text: str, rng: random.Random) -> str:
    out = _swap_phrases(text, rng)
    out = _jitter_pct(out, rng)
    if "\n" not in out and rng.random() < 0.5:
        out = _shuffle_sentences(out, rng)
    return out


# ---------------------------------------------------------------------------------------------------- structure

def _bare(line: str) -> str:
    """A line without Markdown heading / bold marks ('### **1. Cải cách thể chế**' -> '1. Cải cách thể chế')."""
    return line.strip().lstrip("#").strip().strip("*").strip()


def _is_anchor(line: str) -> bool:
    """Lines that keep their place: headings, page numbers, table rows (tabs), short upper-case lines."""
    s = _bare(line)
    if line.lstrip().startswith("#"):
        return True
    if not s or "\t" in line or _PAGE_NO.match(s) or _HEADING.match(s):
        return True
    letters = [c for c in s if c.isalpha()]
    return bool(letters) and len(s) < 120 and all(c.isupper() for c in letters)


def _blocks(lines: list[str]) -> list[tuple[str, list[str]]]:
    """('anchor'|'para'|'blank', lines). A paragraph is a bullet / capitalised line plus its lower-case
    continuation lines (PDF wrapping, with or without blank lines in between)."""
    out: list[tuple[str, list[str]]] = []
    for line in lines:
        s = line.strip()
        if not s:
            out.append(("blank", [line]))
            continue
        if _is_anchor(line):
            out.append(("anchor", [line]))
            continue
        starts_new = bool(_BULLET.match(s)) or s[:1].isupper() or s[:1].isdigit() or s[:1] in "“\"("
        if not starts_new:
            # continuation: attach to the last paragraph, skipping blanks in between (keep them inside)
            j = len(out) - 1
            while j >= 0 and out[j][0] == "blank":
                j -= 1
            if j >= 0 and out[j][0] == "para":
                merged = out[j][1] + [b for k in range(j + 1, len(out)) for b in out[k][1]] + [line]
                del out[j:]
                out.append(("para", merged))
                continue
        out.append(("para", [line]))
    return out


def _perturb_table_row(line: str, rng: random.Random, p: float) -> str:
    cells = line.split("\t")
    for i in _TEXT_COLUMNS:
        if i < len(cells) and cells[i].strip() and "<b>" not in cells[i] and rng.random() < p:
            cells[i] = perturb(cells[i], rng)
    return "\t".join(cells)


def synthesize_plan(text: str, base_name: str, new_name: str, rng: random.Random, p_shuffle: float = 0.7,
                    p_perturb: float = 0.5) -> tuple[str, dict]:
    stats = {"perturbed_paragraphs": 0, "shuffled_sections": 0, "table_rows": 0}
    blocks = _blocks(text.splitlines())
    out_lines: list[str] = []
    section: list[tuple[str, list[str]]] = []

    def flush():
        paras = [b for b in section if b[0] == "para"]
        if len(paras) >= 2 and rng.random() < p_shuffle:
            rng.shuffle(paras)
            stats["shuffled_sections"] += 1
        it = iter(paras)
        for kind, ls in section:
            if kind == "para":
                ls = next(it)[1]
                if rng.random() < p_perturb:
                    stats["perturbed_paragraphs"] += 1
                    ls = perturb("\n".join(ls), rng).split("\n")
            out_lines.extend(ls)
        section.clear()

    started = False  # the preamble (before the first Roman-numeral heading) is kept as it is
    for kind, ls in blocks:
        if not started:
            if kind == "anchor" and re.match(rf"^{_ROMAN}[.)]\s*\S", _bare(ls[0])):
                started = True
            else:
                out_lines.extend(ls)
                continue
        if kind == "anchor":
            flush()
            line = ls[0]
            if "\t" in line:
                stats["table_rows"] += 1
                line = _perturb_table_row(line, rng, p_perturb)
            out_lines.append(line)
        else:
            section.append((kind, ls))
    flush()
    body = "\n".join(out_lines) + ("\n" if text.endswith("\n") else "")
    for old, new in ((base_name, new_name), (base_name.upper(), new_name.upper())):
        body = body.replace(old, new)
    return body, stats


# ---------------------------------------------------------------------------------------------------- corpus

def generate(n_plans: int, out_dir: Path, base_dir: Path = SAMPLE_CORPUS, seed: int = 2026,
             with_catalogues: bool = True, p_shuffle: float = 0.7, p_perturb: float = 0.5) -> SynthCorpus:
    """Write `n_plans` synthetic plans (and the sample catalogues) to `out_dir` (emptied first)."""
    out_dir = Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    bases = []
    for p in sample_plans(base_dir):
        text = p.read_text(encoding="utf-8")
        kind, name = base_locality(text)
        bases.append((p, text, kind, name))
    if not bases:
        raise FileNotFoundError(f"no sample plans (*.txt) in {base_dir}")
    names = fictional_names(n_plans, seed=seed, avoid={b[3] for b in bases})
    corpus = SynthCorpus(directory=str(out_dir), seed=seed)
    for i in range(n_plans):
        path, text, kind, base_name = bases[i % len(bases)]
        rng = random.Random(int(hashlib.sha1(f"{seed}:{i}".encode()).hexdigest()[:12], 16))
        new = names[i]
        body, stats = synthesize_plan(text, base_name, new, rng, p_shuffle, p_perturb)
        fname = f"kh-cchc-{i:05d}-{slug(kind)}-{slug(new)}.txt"
        (out_dir / fname).write_text(body, encoding="utf-8")
        corpus.bytes += len(body.encode("utf-8"))
        corpus.plans.append(SynthPlan(file=fname, base=path.name, base_locality=base_name, locality_name=new,
                                      kind=kind, **stats))
    if with_catalogues:
        for cat in sample_catalogues(base_dir):
            dest = out_dir / "tthc" / cat.name
            dest.parent.mkdir(exist_ok=True)
            shutil.copy2(cat, dest)
            corpus.catalogues.append(str(dest.relative_to(out_dir)))
            corpus.bytes += dest.stat().st_size
    (out_dir.parent / f"{out_dir.name}.manifest.json").write_text(
        json.dumps(corpus.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
    return corpus


def change_one_file(corpus_dir: Path, rng_seed: int = 1) -> Path:
    """The 'one changed file' of the incremental re-index: a new list item appended to the first plan."""
    plan = sorted(Path(corpus_dir).glob("*.txt"))[0]
    text = plan.read_text(encoding="utf-8")
    extra = (f"\n- Tổ chức hội nghị sơ kết công tác cải cách hành chính lần {rng_seed}, đánh giá kết quả thực hiện "
             f"và đề ra giải pháp khắc phục hạn chế (bổ sung {rng_seed}).\n")
    plan.write_text(text.rstrip("\n") + "\n" + extra, encoding="utf-8")
    return plan


if __name__ == "__main__":  # python -m bench.synth N OUT_DIR
    import sys

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "bench" / "out" / f"synth-{n}"
    c = generate(n, out)
    print(json.dumps({"plans": len(c.plans), "bytes": c.bytes, "dir": c.directory}, ensure_ascii=False))
