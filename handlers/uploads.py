"""Documents sent to the bot by an admin: checked, stored in the corpus under a safe name, indexed, reported.

The file operations and the report are here; the conversation decides who may upload and runs the index
(`bot.app.run_index` on the answerer thread). Nothing is ever deleted: a file replaced under the same name, a plan
superseded by a newer one with the same issuer and number (contract 2's `documents.issuer` / `documents.number`),
and a file removed with /xoa are moved to `<data_dir>/superseded/` or `<data_dir>/removed/`; an upload the index
cannot read is moved to `<data_dir>/rejected/` and the file it replaced is put back.
"""
from __future__ import annotations

import re
import shutil
import sqlite3
import unicodedata
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from index.textnorm import fold

MAX_NAME_CHARS = 120
# What the first bytes of each kind must look like (a renamed .exe is not a plan).
_ZIP = b"PK\x03\x04"
_MAGIC = {".docx": (_ZIP,), ".xlsx": (_ZIP,), ".pdf": (b"%PDF",)}
_TEXT_KINDS = {".txt", ".md", ".csv", ".json"}


def allowed_suffixes() -> set[str]:
    """The kinds the index reads (index.loaders.SUPPORTED), so an upload never lands where it is skipped."""
    from index.loaders import SUPPORTED

    return {s.lower() for s in SUPPORTED}


class UploadRefused(Exception):
    """A Vietnamese sentence saying why the file was not taken."""


def safe_filename(name: str) -> str:
    """A file name that stays inside the corpus folder: no folders, no control or shell characters, no leading
    dot, at most 120 characters, Vietnamese letters kept. Raises UploadRefused when nothing usable is left."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]  # a path sent as a name keeps only its last part
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r"[^\w\s.()+,-]", "_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem.strip(" ._"):
        raise UploadRefused("Tên tệp không hợp lệ. Vui lòng đặt tên tệp có phần mở rộng, ví dụ ke-hoach-cchc-2026.docx.")
    stem = stem[: MAX_NAME_CHARS - len(suffix) - 1].rstrip(" .")
    return f"{stem}.{suffix.lower()}"


def check_upload(name: str, size: int | None, max_bytes: int) -> str:
    """The safe name for an announced upload, or UploadRefused (kind, size)."""
    safe = safe_filename(name)
    suffix = Path(safe).suffix.lower()
    kinds = allowed_suffixes()
    if suffix not in kinds:
        raise UploadRefused(
            f"Không nhận tệp {suffix or 'không đuôi'}. Tôi đọc được: {', '.join(sorted(k.lstrip('.').upper() for k in kinds))}.")
    if size is not None and size > max_bytes:
        raise UploadRefused(f"Tệp quá lớn ({size / 1e6:.1f} MB). Giới hạn là {max_bytes / 1e6:.0f} MB.")
    if size == 0:
        raise UploadRefused("Tệp rỗng, không có nội dung.")
    return safe


def check_content(safe_name: str, data: bytes, max_bytes: int) -> None:
    """The bytes match the kind the name says (zip for DOCX/XLSX, %PDF, UTF-8 text) and the size limit."""
    suffix = Path(safe_name).suffix.lower()
    if not data:
        raise UploadRefused("Tệp rỗng, không có nội dung.")
    if len(data) > max_bytes:
        raise UploadRefused(f"Tệp quá lớn ({len(data) / 1e6:.1f} MB). Giới hạn là {max_bytes / 1e6:.0f} MB.")
    magic = _MAGIC.get(suffix)
    if magic and not data.startswith(magic):
        raise UploadRefused(f"Nội dung tệp không phải {suffix.lstrip('.').upper()} (tệp hỏng hoặc đổi đuôi).")
    if suffix in _TEXT_KINDS:
        try:
            data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise UploadRefused("Tệp văn bản phải mã hóa UTF-8. Vui lòng lưu lại tệp dạng UTF-8 rồi gửi lại.") from None


def _stamp() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S")


def move_aside(path: Path, folder: Path) -> Path:
    """Move `path` into `folder` under a time-stamped name (never overwrites); returns the new path."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{_stamp()}-{path.name}"
    n = 1
    while target.exists():
        n += 1
        target = folder / f"{_stamp()}-{n}-{path.name}"
    shutil.move(str(path), str(target))
    return target


@dataclass
class Stored:
    path: Path  # the new file in the corpus
    replaced: Path | None = None  # where a file of the same name was moved


def store(corpus_dir: Path, data_dir: Path, safe_name: str, data: bytes) -> Stored:
    """Write the upload into the corpus folder (a same-named file is moved to superseded/ first)."""
    corpus = corpus_dir.resolve()
    corpus.mkdir(parents=True, exist_ok=True)
    target = (corpus / safe_name).resolve()
    if target.parent != corpus:  # safe_filename makes this impossible; keep the guarantee explicit
        raise UploadRefused("Tên tệp không hợp lệ.")
    replaced = move_aside(target, data_dir / "superseded") if target.exists() else None
    tmp = target.with_name(f".{target.name}.part")
    tmp.write_bytes(data)
    tmp.replace(target)
    return Stored(target, replaced)


def undo(stored: Stored, data_dir: Path) -> Path:
    """An upload the index could not read: move it to rejected/, put back the file it replaced."""
    rejected = move_aside(stored.path, data_dir / "rejected")
    if stored.replaced is not None and stored.replaced.exists():
        shutil.move(str(stored.replaced), str(stored.path))
    return rejected


# ------------------------------------------------------------------ reading the index after an upload

def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in db.execute(f"PRAGMA table_info([{table}])")}


def document_row(db_path: Path, file_name: str) -> dict:
    """The `documents` row of a file name, with contract 2's columns read defensively (missing -> "")."""
    wanted = ("document", "path", "kind", "title", "locality", "issuer", "level", "number", "date", "signer",
              "report", "issue_date", "n_tasks", "n_chunks", "stats")
    with closing(sqlite3.connect(db_path, timeout=30)) as db:
        cols = _columns(db, "documents")
        if not cols:
            return {}
        present = [c for c in wanted if c in cols]
        row = db.execute(f"SELECT {', '.join(present)} FROM documents WHERE document = ?", (file_name,)).fetchone()
    if row is None:
        return {}
    out = {c: "" for c in wanted}
    out.update({c: ("" if v is None else v) for c, v in zip(present, row)})
    return out


def plan_identity(row: dict) -> tuple[str, str] | None:
    """(issuer, number) folded, when both are known: a plan with the same pair replaces this one."""
    issuer, number = fold(str(row.get("issuer") or "")), fold(str(row.get("number") or "")).replace(" ", "")
    return (" ".join(issuer.split()), number) if issuer and number else None


def superseded_by(db_path: Path, new_file: str) -> list[dict]:
    """Other documents with the same issuer and number as `new_file` (contract 2), oldest first; [] while the
    columns are missing or empty."""
    new = document_row(db_path, new_file)
    ident = plan_identity(new)
    if ident is None:
        return []
    with closing(sqlite3.connect(db_path, timeout=30)) as db:
        cols = _columns(db, "documents")
        if not {"issuer", "number", "document", "path"} <= cols:
            return []
        rows = db.execute("SELECT document, path, issuer, number FROM documents WHERE document != ?",
                          (new_file,)).fetchall()
    return [{"document": d, "path": p} for d, p, i, n in rows if plan_identity({"issuer": i, "number": n}) == ident]


def replaced_copies(summary: Any, file_name: str) -> list[str]:
    """Files the index found to be the same plan as `file_name` (same issuer and number, or near-identical text:
    `IndexSummary.duplicates`, pairs (skipped copy, kept file)), whichever of the two it kept: after an upload,
    those older files are superseded by the new one."""
    out = []
    for copy, kept in getattr(summary, "duplicates", None) or []:
        other = kept if Path(str(copy)).name == file_name else copy if Path(str(kept)).name == file_name else None
        if other is not None and Path(str(other)).name != file_name:
            out.append(Path(str(other)).name)
    return out


def procedure_count(db_path: Path, file_name: str) -> int:
    with closing(sqlite3.connect(db_path, timeout=30)) as db:
        cols = _columns(db, "procedures")
        if "document" not in cols:
            return 0
        return db.execute("SELECT COUNT(*) FROM procedures WHERE document = ?", (file_name,)).fetchone()[0]


@dataclass
class Report:
    """What the index made of one uploaded file, for the reply."""
    file: str
    indexed: bool
    reason: str = ""  # why it was skipped
    kind: str = ""
    lines: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _per_doc(summary: Any, file_name: str) -> dict | None:
    """Contract 2's per-document report in the summary (`per_doc`), else the older `per_plan` entry."""
    for key in ("per_doc", "per_plan"):
        for entry in getattr(summary, key, None) or []:
            if isinstance(entry, dict) and Path(str(entry.get("document", ""))).name == file_name:
                return entry
    return None


def build_report(summary: Any, db_path: Path, stored_path: Path) -> Report:
    name = stored_path.name
    for path, reason in getattr(summary, "skipped", []) or []:
        if Path(str(path)).name == name:
            return Report(name, False, reason=str(reason))
    row = document_row(db_path, name)
    if not row:
        return Report(name, False, reason="chỉ mục không ghi nhận tệp này")
    entry = _per_doc(summary, name) or {}
    report = entry.get("report") if isinstance(entry.get("report"), dict) else None
    if report is None and row.get("report"):
        try:
            import json

            report = json.loads(row["report"])
        except ValueError:
            report = None
    report = report or {}
    kind = str(row.get("kind") or entry.get("kind") or "")
    lines: list[str] = []
    title = row.get("title") or ""
    if title:
        lines.append(f"Văn bản: {title}")
    ident = []
    issuer = row.get("issuer") or report.get("issuer")
    if issuer:
        ident.append(f"cơ quan ban hành: {issuer}")
    if row.get("number") or report.get("number"):
        ident.append(f"số: {row.get('number') or report.get('number')}")
    date = row.get("date") or report.get("date") or row.get("issue_date")
    if date:
        ident.append(f"ngày: {_vn_date(str(date))}")
    if row.get("signer") or report.get("signer"):
        ident.append(f"người ký: {row.get('signer') or report.get('signer')}")
    if ident:
        joined = "; ".join(ident)
        lines.append(joined[0].upper() + joined[1:])
    if row.get("locality"):
        lines.append(f"Địa bàn: {row['locality']}")
    if kind == "catalogue" or report.get("procedures"):
        n = report.get("procedures") or procedure_count(db_path, name)
        lines.append(f"Thủ tục hành chính: {n}")
    if kind != "catalogue":
        tasks = report.get("tasks", entry.get("tasks", row.get("n_tasks") or 0))
        lines.append(f"Nhiệm vụ: {tasks}")
        if "explicit_leads" in report:
            lines.append(f"Nhiệm vụ có ghi rõ đơn vị chủ trì: {report['explicit_leads']}")
        if report.get("inferred_leads"):
            lines.append(f"Nhiệm vụ suy ra đơn vị chủ trì từ phân công lĩnh vực: {report['inferred_leads']}")
        if "units" in entry:
            lines.append(f"Đơn vị được giao việc: {entry['units']}")
        deadlines = report.get("deadlines")
        if deadlines is None and "normalized" in entry:
            deadlines = entry["normalized"]
        if deadlines is not None:
            dated = f" ({entry['dated']} có ngày cụ thể)" if "dated" in entry else ""
            lines.append(f"Thời hạn đọc được: {deadlines}{dated}")
        if report.get("tables") is not None:
            lines.append(f"Bảng: {report['tables']}")
    warnings = [str(w) for w in report.get("warnings") or []]
    if kind != "catalogue" and not report and not (entry.get("tasks") or row.get("n_tasks")):
        warnings.append("Không trích được nhiệm vụ nào: kiểm tra tệp có phải kế hoạch (có bảng phân công hoặc "
                        "mục Tổ chức thực hiện) không.")
    return Report(name, True, kind=kind, lines=lines, warnings=warnings)


def _vn_date(iso: str) -> str:
    try:
        return datetime.strptime(iso[:10], "%Y-%m-%d").strftime("%d/%m/%Y")
    except ValueError:
        return iso


def corpus_files(corpus_dir: Path) -> list[Path]:
    return sorted(p for p in corpus_dir.rglob("*") if p.is_file() and not p.name.startswith((".", "~$")))


def find_corpus_file(corpus_dir: Path, name: str) -> list[Path]:
    """Files of the corpus matching what an admin typed: the exact name, else names containing it (folded)."""
    files = corpus_files(corpus_dir)
    exact = [p for p in files if p.name == name.strip()]
    if exact:
        return exact
    want = fold(name).strip()
    if not want:
        return []
    return [p for p in files if want in fold(p.name) or want == fold(p.stem)]
