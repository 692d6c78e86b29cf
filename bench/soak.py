"""Soak test (not run in CI): `python -m bot serve` against the Telegram emulator for N minutes with 20 simulated
users, one of them abusive, measuring what the 19 others see and the serving process' memory.

- 19 normal users: ask a question (or /start, /help, /diaban), wait for the reply, think 2-8 s, again.
- 1 abusive user: bursts of 10 messages every 5 s — questions of 990 single letters (the longest accepted, the
  costliest to embed), messages over the 1,000-character limit, commands — about 2 messages/s on average.
- Latency = from the user's sendMessage to the first reply in their chat, read with per-chat polling of the
  emulator's client API every 0.1 s (so ~0.1 s of resolution). Memory = VmRSS of the serve process every 15 s.

    python -m bench.soak [--minutes 10] [--data-dir DIR] [--json out.json]

The index of corpus/ is built into a temporary data dir first unless --data-dir names one that holds it.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.emulator import running_emulator  # noqa: E402
from bench.worker import pct as percentile  # noqa: E402

QUESTIONS = [
    "Chơn Thành: ai chủ trì rà soát, phát hiện các thủ tục hành chính ban hành chưa đúng quy định?",
    "chon thanh: ai chu tri ra soat, phat hien cac thu tuc hanh chinh ban hanh chua dung quy dinh?",
    "Xã Bình Giang: ai chủ trì triển khai các nhiệm vụ về cải cách thủ tục hành chính?",
    "Chơn Thành đặt mục tiêu tỷ lệ hồ sơ trực tuyến là bao nhiêu?",
    "Hải Hậu: thủ tục đăng ký khai sinh cần giấy tờ gì?",
    "Thủ tục đăng ký kết hôn mất bao lâu?",
    "Phòng Văn hóa - Xã hội xã Thái Tân phụ trách những việc gì?",
    "Kế hoạch cải cách hành chính của xã Lê Hồng có bao nhiêu nhiệm vụ về chuyển đổi số?",
    "/start",
    "/help",
]
ABUSE = [
    " ".join(random.Random(i).choice("abcdeghiklmnopqrstuvxy") for _ in range(495)) for i in range(5)
] + ["x" * 1500, "/help", "/nhiemvu Phòng Văn hóa - Xã hội", "?" * 990]


def pct(values: list[float], p: float) -> float | None:
    return percentile(values, p, ndigits=1)


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


class Chat:
    def __init__(self, http: httpx.AsyncClient, token: str, uid: int):
        self.http, self.token, self.uid = http, token, uid
        self.user = {"id": uid, "is_bot": False, "first_name": f"U{uid}", "username": f"u{uid}"}
        self.chat = {"id": uid, "type": "private", "first_name": f"U{uid}"}

    async def send(self, text: str) -> None:
        body = {"botToken": self.token, "from": self.user, "chat": self.chat, "date": int(time.time()), "text": text}
        if text.startswith("/"):
            body["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
            await self.http.post("/sendCommand", json=body)
        else:
            await self.http.post("/sendMessage", json=body)

    async def read(self) -> int:
        r = await self.http.post("/getUpdates", json={"token": self.token, "chatId": self.uid})
        return len(r.json().get("result", []))


async def normal_user(chat: Chat, stop: float, samples: list[tuple[float, float]], timeouts: list[float],
                      rng: random.Random) -> None:
    await asyncio.sleep(rng.uniform(0, 5))
    while time.monotonic() < stop:
        q = rng.choice(QUESTIONS)
        await chat.read()  # drop leftovers (a long answer's later pieces)
        t0 = time.monotonic()
        await chat.send(q)
        while True:
            if await chat.read():
                samples.append((t0, (time.monotonic() - t0) * 1000))
                break
            if time.monotonic() - t0 > 60:
                timeouts.append(t0)
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(rng.uniform(2, 8))


async def abusive_user(chat: Chat, stop: float, counts: dict, rng: random.Random) -> None:
    while time.monotonic() < stop:
        for _ in range(10):
            await chat.send(rng.choice(ABUSE))
            counts["sent"] += 1
        await asyncio.sleep(5)
        counts["replies"] += await chat.read()


async def soak(minutes: float, data_dir: Path) -> dict:
    with running_emulator() as port:
        token = f"{secrets.randbelow(10**9)}:{secrets.token_urlsafe(24)}"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TELEGRAM_BOT_TOKEN": token,
               "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{port}/bot", "TELEGRAM_POLL_INTERVAL": "0.1",
               "BOT_DATA_DIR": str(data_dir), "BOT_CORPUS_DIR": str(ROOT / "corpus"), "BOT_WEBHOOK_URL": "",
               "ZALO_BOT_TOKEN": "", "BOT_ADMIN_IDS": "telegram:1", "BOT_LOG_LEVEL": "WARNING"}
        log_path = data_dir / "soak-serve.log"
        with open(log_path, "w") as log:
            serve = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=data_dir, env=env, stdout=log,
                                     stderr=subprocess.STDOUT)
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30, limits=limits) as http:
                probe = Chat(http, token, 2)
                t0 = time.monotonic()
                await probe.send("/start")  # wait until serve answers (index loaded, polling)
                while not await probe.read():
                    if serve.poll() is not None or time.monotonic() - t0 > 300:
                        raise RuntimeError(f"serve did not answer; see {log_path}")
                    await asyncio.sleep(0.2)
                started = time.monotonic()
                stop = started + minutes * 60
                samples: list[tuple[float, float]] = []
                timeouts: list[float] = []
                memory: list[tuple[float, float | None]] = [(0.0, rss_mib(serve.pid))]
                abuse = {"sent": 0, "replies": 0}

                async def sample_memory():
                    while time.monotonic() < stop:
                        await asyncio.sleep(15)
                        memory.append((round(time.monotonic() - started), rss_mib(serve.pid)))

                rngs = [random.Random(1000 + i) for i in range(20)]
                await asyncio.gather(
                    sample_memory(), abusive_user(Chat(http, token, 100), stop, abuse, rngs[0]),
                    *(normal_user(Chat(http, token, 101 + i), stop, samples, timeouts, rngs[i + 1])
                      for i in range(19)))
        finally:
            serve.terminate()
            try:
                serve.wait(30)
            except subprocess.TimeoutExpired:
                serve.kill()
    lat = [ms for _, ms in samples]
    per_minute = []
    for m in range(int(minutes + 0.999)):
        window = [ms for t, ms in samples if m * 60 <= t - started < (m + 1) * 60]
        per_minute.append({"minute": m + 1, "answers": len(window), "p50_ms": pct(window, 50),
                           "p95_ms": pct(window, 95), "max_ms": round(max(window), 1) if window else None})
    return {
        "minutes": minutes, "users": 20, "abusive_users": 1,
        "normal": {"answers": len(lat), "timeouts_60s": len(timeouts), "p50_ms": pct(lat, 50), "p95_ms": pct(lat, 95),
                   "p99_ms": pct(lat, 99), "max_ms": round(max(lat), 1) if lat else None,
                   "mean_ms": round(statistics.fmean(lat), 1) if lat else None},
        "abusive": abuse, "per_minute": per_minute,
        "rss_mib": [{"t_s": t, "rss_mib": v} for t, v in memory],
        "serve_exit": serve.returncode,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.soak")
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--data-dir", type=Path, help="a data dir holding the index of corpus/ (default: build one)")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        data = args.data_dir or Path(tmp) / "data"
        if not (data / "cchc.db").exists():
            print(f"indexing corpus/ into {data} ...", file=sys.stderr, flush=True)
            subprocess.run([sys.executable, "-m", "bot", "--corpus", str(ROOT / "corpus"), "--data-dir", str(data),
                            "index", "--no-progress"], check=True, cwd=ROOT)
        result = asyncio.run(soak(args.minutes, data.resolve()))
    n = result["normal"]
    print(f"\n{result['minutes']} min, 19 normal users + 1 abusive ({result['abusive']['sent']} messages sent, "
          f"{result['abusive']['replies']} replies)")
    print(f"normal users: {n['answers']} answers, {n['timeouts_60s']} unanswered after 60 s; latency p50 {n['p50_ms']} "
          f"ms, p95 {n['p95_ms']} ms, p99 {n['p99_ms']} ms, max {n['max_ms']} ms")
    print("minute  answers  p50 ms  p95 ms  max ms")
    for m in result["per_minute"]:
        print(f"{m['minute']:>6}  {m['answers']:>7}  {m['p50_ms']!s:>6}  {m['p95_ms']!s:>6}  {m['max_ms']!s:>6}")
    print("RSS of serve (MiB): " + ", ".join(f"{r['t_s']}s {r['rss_mib']}" for r in result["rss_mib"]))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
