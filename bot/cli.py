"""Command line: `python -m bot [--corpus DIR] [--data-dir DIR] <command>` (the contract other tools use)."""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from .cli_tools import CliError, VietnameseArgumentParser, run_guarded
from .settings import ConfigError, Settings, load_settings


def _parser() -> argparse.ArgumentParser:
    p = VietnameseArgumentParser(prog="python -m bot", description="Trợ lý kế hoạch cải cách hành chính (CCHC)")
    p.add_argument("--corpus", type=Path, help="thư mục văn bản (BOT_CORPUS_DIR)")
    p.add_argument("--data-dir", type=Path, help="thư mục chỉ mục (BOT_DATA_DIR)")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("index", help="xây dựng / cập nhật chỉ mục")
    s.add_argument("--no-progress", action="store_true")
    s.add_argument("--json", action="store_true", help="in tóm tắt dạng JSON")
    s.add_argument("--extra", type=Path, action="append", default=[], help="tệp hoặc thư mục thêm ngoài thư mục corpus")
    s.add_argument("--dense", action="store_true",
                   help="xây dựng luôn phần tìm kiếm ngữ nghĩa (embedding); mặc định `serve` tự bổ sung trong nền")

    s = sub.add_parser("ask", help="hỏi một câu")
    s.add_argument("question", nargs="?")
    s.add_argument("--json", action="store_true")
    s.add_argument("--batch", type=Path, help="mỗi dòng một câu hỏi; in mỗi dòng một JSON")
    s.add_argument("--locality")

    sub.add_parser("chat", help="trò chuyện trên console")
    sub.add_parser("serve", help="chạy các kênh có token (Telegram/Zalo) và bộ nhắc hạn; console nếu không có token")

    s = sub.add_parser("eval", help="chấm điểm trên tệp câu hỏi mẫu (.jsonl)")
    s.add_argument("file", type=Path)
    s.add_argument("--verbose", "-v", action="store_true")
    s.add_argument("--extra", type=Path, action="append", default=[],
                   help="tệp hoặc thư mục thêm vào chỉ mục trước khi chấm (ví dụ danh mục TTHC)")

    s = sub.add_parser("tasks", help="liệt kê nhiệm vụ đã trích xuất")
    s.add_argument("--locality")
    s.add_argument("--unit")
    s.add_argument("--due-before", help="31/12/2026 hoặc 2026-12-31")
    g = s.add_mutually_exclusive_group()
    g.add_argument("--json", action="store_true")
    g.add_argument("--csv", action="store_true", help="CSV (UTF-8 có BOM, Excel đọc đúng tiếng Việt)")
    g.add_argument("--xlsx", type=Path, metavar="FILE", help="ghi ra tệp Excel")

    s = sub.add_parser("procedures", help="liệt kê thủ tục hành chính đã trích xuất")
    s.add_argument("--locality")
    g = s.add_mutually_exclusive_group()
    g.add_argument("--json", action="store_true")
    g.add_argument("--csv", action="store_true", help="CSV (UTF-8 có BOM, Excel đọc đúng tiếng Việt)")
    g.add_argument("--xlsx", type=Path, metavar="FILE", help="ghi ra tệp Excel")

    s = sub.add_parser("web", help="trang rà soát cho cán bộ (cần BOT_WEB_TOKEN)")
    s.add_argument("--host", help="địa chỉ lắng nghe (mặc định BOT_WEB_HOST, 127.0.0.1)")
    s.add_argument("--port", type=int, help="cổng (mặc định BOT_WEB_PORT, 8080)")

    s = sub.add_parser("bench", help="đo hiệu năng")
    s.add_argument("--quick", action="store_true")
    s.add_argument("--out", type=Path)
    s.add_argument("--sections", help="chỉ chạy một số phần, cách nhau bởi dấu phẩy: side, first, embedders, scales, "
                                      "throughput, gate, retrieval, reminders, telegram")

    try:
        from . import reminders_cli

        reminders_cli.add_parsers(sub)
    except ImportError:
        pass
    return p


def _settings(args) -> Settings:
    try:
        return load_settings(corpus_dir=args.corpus, data_dir=args.data_dir)
    except Exception as exc:  # pydantic's ValidationError names the setting and the bad value
        raise CliError(f"Cấu hình không hợp lệ (.env hoặc biến môi trường): {exc}") from None


def _logging(settings: Settings) -> None:
    """Logs to stderr, or to BOT_LOG_FILE when set."""
    target = {"filename": settings.log_file, "encoding": "utf-8"} if settings.log_file else {"stream": sys.stderr}
    logging.basicConfig(level=getattr(logging, settings.log_level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", **target)
    for noisy in ("faiss", "bm25s", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return run_guarded(_main, args)


def _main(args) -> int:
    settings = _settings(args)
    _logging(settings)
    if args.command in ("serve", "chat"):
        # Before faiss / the embedding engine load OpenMP (it reads this once): answering with 2 OpenMP threads on
        # a 2-core machine that also runs the event loop made query embeddings take seconds (bench/soak.py).
        os.environ.setdefault("OMP_NUM_THREADS", str(max(1, settings.answer_threads)))
    try:
        return _run(args, settings)
    except ConfigError as exc:  # a setting to fix before the bot may start (BOT_ADMIN_IDS with a bare id)
        logging.getLogger("bot").critical("configuration error: %s", exc)
        raise CliError(f"bot không khởi động vì cấu hình: {exc}") from None


def _run(args, settings: Settings) -> int:
    cmd = args.command
    if cmd == "index":
        return cmd_index(settings, args)
    if cmd == "ask":
        return cmd_ask(settings, args)
    if cmd == "chat":
        from .console import run_console

        return run_console(settings) or 0
    if cmd == "serve":
        import asyncio

        from .serve import serve

        asyncio.run(serve(settings))
        return 0
    if cmd == "eval":
        return cmd_eval(settings, args)
    if cmd == "tasks":
        return cmd_tasks(settings, args)
    if cmd == "procedures":
        return cmd_procedures(settings, args)
    if cmd == "web":
        return cmd_web(settings, args)
    if cmd == "bench":
        from bench.run import run_bench

        return run_bench(settings, quick=args.quick, out=args.out, sections=args.sections)
    from . import reminders_cli

    return reminders_cli.run(args, settings)


def cmd_index(settings: Settings, args) -> int:
    from .app import run_index
    from .cli_tools import extra_files, need_corpus

    need_corpus(settings.corpus_dir)
    args.extra = extra_files(args.extra)
    s = run_index(settings, progress=not args.no_progress, extra_files=args.extra, dense=args.dense)
    if args.json:
        from dataclasses import asdict

        print(json.dumps(asdict(s), ensure_ascii=False, indent=2))
        return 0
    print(f"Đã lập chỉ mục {s.files} tệp trong {s.seconds:.1f} giây: {s.plans} kế hoạch, {s.catalogues} văn bản thủ tục, "
          f"{s.chunks} đoạn, {s.tasks} nhiệm vụ, {s.procedures} thủ tục.")
    if s.unchanged:
        print(f"{s.unchanged} kế hoạch không thay đổi từ lần trước: giữ nguyên, không phân tích lại.")
    if s.dense_pending and settings.embedder.strip().lower() not in ("none", "off", "lexical"):
        print("Bot đã trả lời được ngay (tìm kiếm từ khóa và dữ liệu có cấu trúc). Phần tìm kiếm ngữ nghĩa "
              "(embedding) đang chờ: `python -m bot serve` tự bổ sung trong nền, hoặc chạy "
              "`python -m bot index --dense` để xây dựng ngay.")
    elif not s.dense_pending:
        print(f"Nhúng mới {s.embedded} đoạn, dùng lại {s.reused} đoạn đã nhúng.")
    print_report(s)
    return 0


def print_report(s) -> None:
    """The extraction report of every document: an officer sees at once when a plan was not understood."""
    for r in s.per_doc:
        kind = r.get("kind")
        if kind == "plan":
            n = r.get("tasks", 0) or 0
            pct = lambda k: f"{100 * (r.get(k) or 0) / n:.0f}%" if n else "–"  # noqa: E731
            num = r.get("number") or "không số"
            date = r.get("date") or "không rõ ngày"
            print(f"  - {r['document']}: {r.get('issuer') or 'không rõ cơ quan ban hành'} ({_level(r.get('level'))}), "
                  f"số {num}, ngày {date}; {n} nhiệm vụ, {pct('explicit_leads')} có đơn vị chủ trì ghi rõ"
                  f" ({r.get('inferred_leads', 0)} suy ra), {pct('deadlines')} có thời hạn, {r.get('tables', 0)} bảng nhiệm vụ")
        else:
            label = "hồ sơ CSDL quốc gia" if kind == "national" else "văn bản thủ tục hành chính"
            print(f"  - {r['document']} ({label}): {r.get('procedures', 0)} thủ tục"
                  + (f", {r['fields']} trường thông tin" if r.get("fields") else ""))
        for w in r.get("warnings") or []:
            print(f"      ! {w}")
    for doc, ch in (s.changes or {}).items():
        if ch.get("new") or ch.get("removed"):
            print(f"  * {doc}: {ch['new']} nhiệm vụ mới hoặc đã sửa nội dung, {ch['removed']} nhiệm vụ không còn trong văn bản "
                  "(nhắc việc của nhiệm vụ không đổi được giữ nguyên).")
    if s.duplicates:
        print(f"Bản trùng ({len(s.duplicates)} tệp, chỉ lập chỉ mục một lần):")
        for f, of in s.duplicates:
            print(f"  - {f} trùng với {of}")
    skipped = [(p, r) for p, r in s.skipped if not r.startswith("bản trùng")]
    if skipped:
        print(f"Bỏ qua {len(skipped)} tệp:")
        for path, reason in skipped:
            print(f"  - {path}: {reason}")


def _level(level: str | None) -> str:
    return {"commune": "cấp xã", "district": "cấp huyện", "province": "cấp tỉnh", "department": "cấp sở", "central": "trung ương"}.get(
        level or "", "cấp không rõ")


def cmd_web(settings: Settings, args) -> int:
    from web.server import run

    return run(settings, host=args.host or settings.web_host, port=args.port or settings.web_port or 8080)


def cmd_ask(settings: Settings, args) -> int:
    from .app import build_answerer, index_exists
    from .cli_tools import batch_questions, blank_answer, need_corpus

    if not args.batch and not (args.question or "").strip():
        raise CliError("Thiếu câu hỏi. Ví dụ: python -m bot ask \"Ai chủ trì rà soát thủ tục hành chính?\"")
    questions = batch_questions(args.batch) if args.batch else None
    if not index_exists(settings):
        need_corpus(settings.corpus_dir)
    answerer = build_answerer(settings, dense="available")
    if questions is not None:
        for line in questions:  # one output line per input line, blank lines included
            obj = answerer.ask(line.strip(), locality=args.locality).to_json() if line.strip() else blank_answer()
            print(json.dumps(obj, ensure_ascii=False), flush=True)
        return 0
    ans = answerer.ask(args.question, locality=args.locality)
    if args.json:
        print(json.dumps(ans.to_json(), ensure_ascii=False))
    else:
        print(ans.text)
    return 0


def cmd_eval(settings: Settings, args) -> int:
    from .cli_tools import extra_files, need_file, scratch_data_dir

    if not args.file.exists():
        shared = " Tệp câu hỏi mẫu nằm trong thư mục shared/ đặt cạnh dự án (../shared); bản sao dự án này không có " \
                 "nó. Chỉ định tệp khác: python -m bot eval FILE.jsonl (hoặc make eval EVAL_FILE=FILE.jsonl)."
        raise CliError(f"Không tìm thấy tệp câu hỏi {args.file}." + (shared if "shared" in str(args.file) else ""))
    need_file(args.file, "tệp câu hỏi")
    args.extra = extra_files(args.extra)
    if not args.extra:
        return _eval_on(settings, args)
    # --extra: index the extra files into a throw-away copy, never into the live index
    with scratch_data_dir(settings.data_dir) as scratch:
        return _eval_on(settings.model_copy(update={"data_dir": scratch}), args, extra=args.extra)


def _eval_on(settings: Settings, args, extra: list[Path] | None = None) -> int:
    from .app import build_answerer, run_index
    from .evaluate import run_eval

    if extra:
        run_index(settings, progress=False, extra_files=extra, dense=False)
    answerer = build_answerer(settings, dense="wait")
    res = run_eval(answerer, args.file)
    print(f"{'kind':<16}{'đúng':>6}{'tổng':>6}{'%':>8}")
    for kind, (ok, n) in sorted(res["per_kind"].items()):
        print(f"{kind:<16}{ok:>6}{n:>6}{100 * ok / n:>7.1f}%")
    lat = sorted(res["latencies"])
    print(f"{'TỔNG':<16}{res['correct']:>6}{res['total']:>6}{100 * res['accuracy']:>7.1f}%")
    if lat:
        print(f"độ trễ trung vị {lat[len(lat) // 2]:.1f} ms, lớn nhất {lat[-1]:.1f} ms")
    if args.verbose:
        for f in res["failures"]:
            print(json.dumps(f, ensure_ascii=False))
    return 0


def cmd_tasks(settings: Settings, args) -> int:
    from index import store
    from index.textnorm import fold
    from index.units import unit_key

    from .cli_tools import parse_date, unknown

    due_before = parse_date(args.due_before) if args.due_before else None  # refuse a bad date before any work
    _ensure_index(settings)
    db = store.open_db(settings.db_path)
    tasks = store.load_tasks(db)
    if args.locality:
        localities = {t.locality for t in tasks}
        tasks = [t for t in tasks if fold(args.locality) in fold(t.locality)]
        if not tasks:
            raise unknown("địa bàn", args.locality, localities)
    if args.unit:
        key = unit_key(args.unit)
        units = {u for t in tasks for u in t.lead + t.coordinate}
        tasks = [t for t in tasks if any(key in unit_key(u) for u in t.lead + t.coordinate)]
        if not tasks:
            raise unknown("đơn vị", args.unit, units)
    if due_before:
        tasks = [t for t in tasks if t.due and t.due < due_before]
    rows = [{
        "id": t.id, "locality": t.locality, "area": t.area, "section": t.section, "title": t.title,
        "output": t.output, "lead": t.lead, "coordinate": t.coordinate, "deadline_text": t.deadline_text,
        "deadline_kind": t.deadline_kind, "due": t.due, "source": t.source_kind, "inferred": t.lead_inferred,
        "document": t.document, "note": t.note,
    } for t in tasks]
    columns = ["id", "locality", "area", "section", "title", "output", "lead", "coordinate", "deadline_text",
               "deadline_kind", "due", "source", "inferred", "document", "note"]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
    elif args.csv or args.xlsx:
        _export(rows, columns, args, sheet="Nhiệm vụ", what="nhiệm vụ")
    else:
        for r in rows:
            print(f"[{r['id']}] {r['locality']} | {r['title'][:90]} | chủ trì: {', '.join(r['lead']) or '-'} | "
                  f"{r['deadline_text'] or '-'} ({r['deadline_kind']}{', ' + r['due'] if r['due'] else ''})")
        print(f"{len(rows)} nhiệm vụ.")
    return 0


def cmd_procedures(settings: Settings, args) -> int:
    from dataclasses import asdict

    from index.procedures import load_procedures
    from index.textnorm import fold

    from .cli_tools import unknown

    _ensure_index(settings)
    procs = load_procedures(settings.db_path)
    if args.locality:
        localities = {p.locality for p in procs}
        procs = [p for p in procs if fold(args.locality) in fold(p.locality)]
        if not procs:
            raise unknown("địa bàn có danh mục thủ tục", args.locality, localities)
    rows = [asdict(p) for p in procs]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1, default=str))
    elif args.csv or args.xlsx:
        keys = ["code", "name", "field", "locality", "time_limit", "fee", "agency"]
        _export(rows, keys, args, sheet="Thủ tục", what="thủ tục")
    else:
        for p in procs:
            print(f"{p.code} | {p.name} | {p.locality}")
        print(f"{len(procs)} thủ tục.")
    return 0


def _ensure_index(settings: Settings) -> None:
    from .app import index_exists, run_index
    from .cli_tools import need_corpus

    if not index_exists(settings):
        need_corpus(settings.corpus_dir)
        run_index(settings, dense=False)  # lists need the records only


def _export(rows: list[dict], columns: list[str], args, *, sheet: str, what: str) -> None:
    """--xlsx FILE (openpyxl) or --csv to stdout (with a BOM for Excel)."""
    from .cli_tools import write_csv, write_xlsx

    if args.xlsx:
        write_xlsx(rows, columns, args.xlsx, sheet)
        print(f"Đã ghi {len(rows)} {what} vào {args.xlsx}.", file=sys.stderr)
    else:
        write_csv(rows, columns, sys.stdout)
