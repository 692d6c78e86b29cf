"""Small pieces of the command line: Vietnamese error sentences instead of tracebacks, dates typed either way,
closest names for an unknown locality or unit, exports (XLSX with openpyxl, CSV with a BOM so Excel reads
Vietnamese), one output line per input line in `ask --batch`, and a throw-away copy of the index for
`eval --extra`."""
from __future__ import annotations

import argparse
import contextlib
import csv
import json
import re
import shutil
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any, Iterable, Iterator, TextIO

from index.textnorm import fold


class CliError(Exception):
    """A Vietnamese sentence for the user; the command exits with status 2."""


# ---------------------------------------------------------------- argparse in Vietnamese

_ARGPARSE = [
    (r"the following arguments are required: (.+)", "thiếu tham số bắt buộc: {0}"),
    (r"unrecognized arguments: (.+)", "không hiểu tham số: {0}"),
    (r"argument (\S+): invalid choice: '?([^' ]+)'? \(choose from (.+)\)", "“{1}” không phải lệnh hợp lệ; các lệnh: {2}"),
    (r"argument (\S+): not allowed with argument (\S+)", "không dùng {0} cùng với {1}"),
    (r"argument (\S+): expected one argument", "{0} cần một giá trị"),
    (r"argument (\S+): invalid (\w+) value: (.+)", "giá trị {2} của {0} không hợp lệ"),
]


class VietnameseArgumentParser(argparse.ArgumentParser):
    def error(self, message: str):  # noqa: D401 - argparse API
        for pattern, template in _ARGPARSE:
            m = re.fullmatch(pattern, message)
            if m:
                message = template.format(*m.groups())
                break
        self.exit(2, f"Lỗi: {message}. Gõ “{self.prog} --help” để xem cách dùng.\n")


# ---------------------------------------------------------------- inputs

def parse_date(text: str) -> str:
    """'01/01/2027', '1-1-2027', '2027-01-01' -> '2027-01-01'; anything else is refused."""
    t = (text or "").strip()
    try:
        m = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", t)
        if m:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1))).isoformat()
        m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", t)
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
    except ValueError:
        raise CliError(f"Ngày “{text}” không có thật. Ví dụ hợp lệ: 31/12/2026 hoặc 2026-12-31.") from None
    raise CliError(f"Không hiểu ngày “{text}”. Viết theo dạng ngày/tháng/năm (31/12/2026) hoặc 2026-12-31.")


def closest(name: str, choices: Iterable[str], limit: int = 3) -> list[str]:
    """The names nearest to a misspelt one (accent-insensitive)."""
    from rapidfuzz import fuzz, process

    choices = sorted(set(c for c in choices if c))
    folded = {fold(c): c for c in choices}
    hits = process.extract(fold(name), list(folded), scorer=fuzz.WRatio, limit=limit, score_cutoff=50)
    return [folded[h[0]] for h in hits]


def unknown(kind: str, name: str, choices: Iterable[str]) -> CliError:
    near = closest(name, choices)
    hint = f" Gần nhất: {', '.join(near)}." if near else ""
    return CliError(f"Không có {kind} “{name}” trong dữ liệu đã lập chỉ mục.{hint}")


def need_file(path: Path, what: str = "tệp") -> Path:
    if not path.exists():
        raise CliError(f"Không tìm thấy {what} {path}.")
    if not path.is_file():
        raise CliError(f"{path} là thư mục, không phải {what}.")
    return path


def extra_files(paths: list[Path]) -> list[Path]:
    """`--extra` files and folders (every file inside a folder, hidden ones left out), each checked to exist."""
    out: list[Path] = []
    for p in paths:
        if not p.exists():
            raise CliError(f"Không tìm thấy tệp hoặc thư mục {p}.")
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and not any(x.startswith(".") for x in f.relative_to(p).parts))
        else:
            out.append(p)
    return out


def need_corpus(path: Path) -> None:
    if not path.exists():
        raise CliError(f"Không tìm thấy thư mục tài liệu {path}. Tạo thư mục và chép kế hoạch vào, "
                       "hoặc chỉ định bằng --corpus / BOT_CORPUS_DIR.")
    if not path.is_dir():
        raise CliError(f"{path} không phải thư mục (--corpus / BOT_CORPUS_DIR cần một thư mục tài liệu).")


def batch_questions(path: Path) -> Iterator[str]:
    """Every line of the batch file, blank ones included (one output line each)."""
    need_file(path, "tệp câu hỏi")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise CliError(f"Tệp {path} không phải văn bản UTF-8.") from None
    yield from text.splitlines()


def blank_answer() -> dict:
    """The JSON line printed for a blank input line (keeps line N of the output = line N of the input)."""
    return {"question": "", "answer": "", "found": False, "intent": "empty", "latency_ms": 0.0, "sources": [],
            "tasks": [], "procedures": [], "choices": []}


# ---------------------------------------------------------------- exports

# A cell starting with one of these is run as a formula when a spreadsheet opens the CSV (formula injection: a
# task text "=HYPERLINK(...)" in an uploaded plan); written with a leading apostrophe, it is shown as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def safe_cell(value: Any) -> Any:
    """A CSV cell that cannot start a formula."""
    value = _cell(value)
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def write_csv(rows: list[dict], columns: list[str], out: TextIO) -> None:
    """CSV with a UTF-8 BOM, so Excel shows Vietnamese correctly; formula-like cells escaped (safe_cell)."""
    out.write("\ufeff")
    w = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: safe_cell(r.get(k)) for k in columns})


def write_xlsx(rows: list[dict], columns: list[str], path: Path, sheet: str) -> None:
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    if path.parent and not path.parent.exists():
        raise CliError(f"Không có thư mục {path.parent} để ghi {path.name}.")
    wb = Workbook()
    ws = wb.active
    ws.title = sheet[:31]
    ws.append(columns)
    for r in rows:
        ws.append([_cell(r.get(k)) for k in columns])
        for cell in ws[ws.max_row]:  # openpyxl stores a string starting with "=" as a formula: keep it text
            if cell.data_type == "f":
                cell.data_type = "s"
    ws.freeze_panes = "A2"
    for i, col in enumerate(columns, 1):
        width = max([len(col)] + [len(str(_cell(r.get(col)) or "")) for r in rows[:200]])
        ws.column_dimensions[get_column_letter(i)].width = min(60, max(8, width + 2))
    try:
        wb.save(path)
    except OSError as exc:
        raise CliError(f"Không ghi được {path}: {exc.strerror or exc}.") from None


# ---------------------------------------------------------------- eval --extra

@contextlib.contextmanager
def scratch_data_dir(data_dir: Path) -> Iterator[Path]:
    """A temporary copy of the index (when there is one) that an evaluation may change freely."""
    with tempfile.TemporaryDirectory(prefix="cchc-eval-") as tmp:
        scratch = Path(tmp) / "data"
        if data_dir.exists():
            shutil.copytree(data_dir, scratch, ignore=shutil.ignore_patterns("console_history", "superseded",
                                                                              "removed", "rejected"))
        else:
            scratch.mkdir()
        yield scratch


# ---------------------------------------------------------------- errors

def run_guarded(fn, *args) -> int:
    """Run a command; known failures become one Vietnamese sentence on stderr (exit 2), a closed pipe
    (`… | head`) ends quietly."""
    try:
        return fn(*args) or 0
    except CliError as exc:
        print(f"Lỗi: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        _silence_stdout()
        return 0
    except KeyboardInterrupt:
        print("\nĐã dừng.", file=sys.stderr)
        return 130
    except FileNotFoundError as exc:
        print(f"Lỗi: không tìm thấy {exc.filename or exc}.", file=sys.stderr)
        return 2
    except PermissionError as exc:
        print(f"Lỗi: không có quyền truy cập {exc.filename or exc}.", file=sys.stderr)
        return 2


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the interpreter's final flush does not complain."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
