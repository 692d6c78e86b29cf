"""Time the review page's requests (server side, through Starlette's test client) on an index, and on the same
index with its tasks copied N times (communes of one province on one machine).

    .venv/bin/python scripts/web_bench.py [--data-dir data] [--copies 1,25,250]

Prints, per page: median and worst of 5 requests, in milliseconds. Works on a copy; the index is not touched.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOKEN = "bench-token-0123456789abcdef"
PAGES = ["/", "/nhiem-vu", "/nhiem-vu?dia_ban=phường Chơn Thành&suy_ra=1", "/nhiem-vu?tu=01/12/2026&den=31/12/2026",
         "/nhiem-vu.xlsx?dia_ban=phường Chơn Thành", "/nhac-han", "/cau-hoi"]


def scale(db_path: Path, copies: int) -> int:
    """The tasks table repeated `copies` times (new ids and localities), as many communes' plans would be."""
    import sqlite3

    con = sqlite3.connect(db_path)
    cols = [r[1] for r in con.execute("pragma table_info(tasks)")]
    rest = [c for c in cols if c not in ("id", "locality")]
    for k in range(1, copies):
        con.execute(f"insert into tasks (id, locality, {', '.join(rest)}) "
                    f"select id || '-{k}', locality || ' {k}', {', '.join(rest)} from tasks where id not like '%-%'")
    con.commit()
    n = con.execute("select count(*) from tasks").fetchone()[0]
    con.close()
    return n


def main() -> int:
    from starlette.testclient import TestClient

    from bot.settings import load_settings
    from web.app import create_app

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", type=Path)
    p.add_argument("--copies", default="1,25,250")
    args = p.parse_args()
    source = load_settings(data_dir=args.data_dir)
    if not (source.data_dir / "cchc.db").exists():
        print(f"no index in {source.data_dir}: run python -m bot index first", file=sys.stderr)
        return 2
    print(f"{'tasks':>8}  {'page':<48}{'median ms':>10}{'max ms':>9}")
    for copies in [int(x) for x in args.copies.split(",")]:
        work = Path(tempfile.mkdtemp(prefix="cchc-webbench-"))
        try:
            shutil.copy(source.data_dir / "cchc.db", work / "cchc.db")
            n = scale(work / "cchc.db", copies)
            client = TestClient(create_app(load_settings(data_dir=work), token=TOKEN),
                                headers={"Authorization": f"Bearer {TOKEN}"})
            for page in PAGES:
                times = []
                for _ in range(5):
                    t0 = time.perf_counter()
                    r = client.get(page)
                    times.append((time.perf_counter() - t0) * 1000)
                    assert r.status_code == 200, (page, r.status_code)
                print(f"{n:>8}  {page:<48}{statistics.median(times):>10.0f}{max(times):>9.0f}", flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
