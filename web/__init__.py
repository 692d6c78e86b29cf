"""The officer's review page: `python -m bot web`, or started by `serve` when BOT_WEB_PORT is set."""
