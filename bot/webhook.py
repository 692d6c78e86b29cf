"""What the Telegram and Zalo webhook receivers share: a Tornado handler for one channel that takes POSTs only
after the platform's secret header matched (403 and nothing processed otherwise)."""
from __future__ import annotations

from typing import Any

try:
    from tornado.web import RequestHandler
except ImportError:  # pragma: no cover - tornado comes with python-telegram-bot[webhooks]
    RequestHandler = object  # type: ignore[assignment,misc]


class SecretWebhookHandler(RequestHandler):  # type: ignore[misc,valid-type]
    secret_header = ""  # the platform's header carrying the webhook secret
    forbidden_body: Any = None  # what a refused request gets back (None: an empty body)

    def initialize(self, channel) -> None:
        self.channel = channel

    def check_xsrf_cookie(self) -> None:  # an API endpoint, not a form
        return None

    def refused(self) -> bool:
        """True (after answering 403) when the request does not carry the channel's secret."""
        if self.channel.check_secret(self.request.headers.get(self.secret_header)):
            return False
        self.set_status(403)
        self.finish(self.forbidden_body)
        return True
