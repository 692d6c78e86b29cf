"""Shared helpers for the channel tests (imported by test_conversation / test_telegram_e2e / test_zalo).

The index and the real Answerer come from the session fixtures of tests/conftest.py (`built_index`,
`answerer`: the sample corpus indexed once per test session). Each channel test module imports the autouse
fixture `shared_index`, which hands them to the helpers here:
- `make_settings(tmp_path, **overrides)`: Settings isolated from the environment and `.env`, over that index.
- `new_conversation(settings, tmp_path)`: a Conversation with the real answerer, its own SQLite file and staff
  registry, so tests never share chat state.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"

WHO_LEADS = "Chơn Thành: ai chủ trì rà soát, phát hiện các thủ tục hành chính ban hành chưa đúng quy định?"
WHO_LEADS_ASCII = "chon thanh: ai chu tri ra soat, phat hien cac thu tuc hanh chinh ban hanh chua dung quy dinh?"
LEAD_UNIT = "Trung tâm Phục vụ hành chính công"
# A unit with duties in several localities: the answer offers a choice of locality.
AMBIGUOUS_UNIT_QUESTION = "Phòng Văn hóa - Xã hội phụ trách những việc gì?"

_shared: dict = {}


@pytest.fixture(autouse=True)
def shared_index(built_index, answerer):
    """The session's index settings and answerer (tests/conftest.py), for make_settings / new_conversation."""
    _shared["settings"], _shared["answerer"] = built_index, answerer


def shared_data_dir() -> Path:
    return Path(_shared["settings"].data_dir)


def shared_answerer():
    return _shared["answerer"]


def make_settings(tmp_path: Path, **overrides) -> Settings:
    """Settings for a test: the shared index, no tokens, no webhook, generous rate limits unless overridden.
    Keys are the environment names (TELEGRAM_BOT_TOKEN=...)."""
    values = {
        "BOT_CORPUS_DIR": str(CORPUS),
        "BOT_DATA_DIR": str(shared_data_dir()),
        "BOT_EMBEDDER": _shared["settings"].embedder,
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
