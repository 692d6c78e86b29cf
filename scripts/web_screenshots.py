"""Screenshots of the review page (overview, tasks, reminders) at 1280 px and 360 px, for docs/ and the README.

    .venv/bin/python scripts/web_screenshots.py [--data-dir data] [--out docs] [--date 2026-12-10]

Works on a copy of an index of the sample corpus (built first when --data-dir holds none), with a little
demonstration state added to the copy: three staff registrations (two approved, one pending), one officer's
correction, and one reminder tick (one recipient's chat fails) so the outbox has rows. Drives Debian's headless
Chromium (scripts/install-chromium.sh) through Selenium, like the browser tests.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, time as dtime
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOKEN = "screenshot-token-" + "0" * 16
OFFICER = "Nguyễn Thị Lan"
LOCALITY = "phường Chơn Thành"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(settings, day: date) -> None:
    """Demonstration state in the copy: staff, one correction, one reminder tick."""
    from bot.reminders import Reminders, SendError
    from bot.staff import StaffRegistry
    from index import store
    from index.corrections import save_correction

    db = store.open_db(settings.db_path)
    reg = StaffRegistry(settings.db_path)
    reg.add_approved("Trần Văn Bình", "Văn phòng HĐND và UBND", LOCALITY, "telegram", "1001")
    reg.add_approved("Lê Thị Cúc", "Văn phòng HĐND và UBND", LOCALITY, "zalo", "z-2002")
    reg.add_approved("Hoàng Văn Em", "Phòng Văn hóa - Xã hội", "xã Bình Giang", "telegram", "1004")
    reg.request("telegram", "1003", "1003", "Phạm Văn Dũng", "Trung tâm Phục vụ hành chính công", LOCALITY)
    [row] = db.query("select id from tasks where title like ?", ["%ban hành chưa đúng quy định%"])
    save_correction(db, row["id"], by=OFFICER, lead=["Văn phòng HĐND và UBND"],
                    deadline_text=f"Trước ngày {day.day + 5}/{day.month}/{day.year}")

    class Sender:  # Zalo's chat fails, the rest is accepted
        async def send(self, channel, chat_id, text):
            if channel == "zalo":
                raise SendError(retryable=False, message="Zalo: người nhận chưa quan tâm Official Account")

    tz = ZoneInfo(settings.timezone)
    # two days before the pages' date: the 7-day reminder of the corrected task went out (and failed on Zalo)
    now = datetime.combine(day - timedelta(days=2), dtime(settings.reminder_send_hour, 5), tzinfo=tz)
    asyncio.run(Reminders(settings.db_path, settings).tick(Sender(), now))


def main() -> int:
    from bot.settings import load_settings
    from web import chromium

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", type=Path, default=None, help="index to copy (default BOT_DATA_DIR)")
    p.add_argument("--out", type=Path, default=ROOT / "docs")
    p.add_argument("--date", default="2026-12-10", help="the day the pages are shown as of (ISO)")
    args = p.parse_args()
    missing = chromium.available()
    if missing:
        print(f"missing {missing}: run scripts/install-chromium.sh (or make test)", file=sys.stderr)
        return 2
    day = date.fromisoformat(args.date)
    source = load_settings(data_dir=args.data_dir)
    work = Path(tempfile.mkdtemp(prefix="cchc-shots-"))
    data = work / "data"
    if (source.data_dir / "cchc.db").exists():
        shutil.copytree(source.data_dir, data)
        settings = load_settings(data_dir=data)
    else:
        from bot.app import run_index

        settings = load_settings(data_dir=data)
        run_index(settings, progress=True)
    seed(settings, day)

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ZALO_"))}
    env.update(BOT_DATA_DIR=str(data), BOT_CORPUS_DIR=str(settings.corpus_dir.resolve()), BOT_WEB_TOKEN=TOKEN,
               PYTHONPATH=str(ROOT))
    server = subprocess.Popen([sys.executable, "-m", "bot", "web", "--port", str(port)], cwd=work, env=env)
    base = f"http://127.0.0.1:{port}"
    drv = None
    try:
        import httpx

        for _ in range(150):
            try:
                httpx.get(base + "/dang-nhap", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        drv = chromium.driver(1280, 900)
        drv.get(base + "/dang-nhap")
        drv.find_element("id", "ten").send_keys(OFFICER)
        drv.find_element("id", "ma").send_keys(TOKEN)
        drv.find_element("id", "ma").submit()
        iso = day.isoformat()
        pages = {
            "overview": f"/?ngay={iso}",
            "tasks": "/nhiem-vu?" + urlencode({"dia_ban": LOCALITY, "linh_vuc": "Cải cách thủ tục hành chính"}),
            "reminders": f"/nhac-han?ngay={iso}",
        }
        args.out.mkdir(parents=True, exist_ok=True)
        for name, url in pages.items():
            for width in (1280, 360):
                drv.get(base + url)
                path = args.out / f"web-{name}-{width}.png"
                w, h = chromium.screenshot(drv, path, width, max_height=2400 if width > 400 else 3200,
                                           mobile=width < 400)
                print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {w}x{h}")
    finally:
        if drv is not None:
            drv.quit()
        server.terminate()
        server.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
