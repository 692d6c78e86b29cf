"""Sign-in, session cookie and CSRF for the review page.

- One shared secret, ``BOT_WEB_TOKEN``: typed into the sign-in form (with the officer's name, recorded on every
  correction) or sent as ``Authorization: Bearer <token>`` by scripts. Compared in constant time.
- The session is a signed cookie (itsdangerous; key derived from the token, so changing the token signs everyone
  out): HttpOnly, SameSite=Strict, Secure when the request came over https, valid for ``SESSION_HOURS``.
- Every session (signed in or not) carries its own CSRF token; every POST from a cookie session must send it back
  in the ``csrf`` form field. Bearer requests carry no ambient credential, so they need none.
- Failed sign-ins are throttled per client address.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "cchc_session"
SESSION_HOURS = 12
MIN_TOKEN_CHARS = 16
MAX_FAILURES = 5  # failed sign-ins per address per window, then refused until the window passes
FAILURE_WINDOW = 300.0  # seconds


class TokenError(ValueError):
    """The configured token cannot protect the page; the message says why (Vietnamese)."""


def check_token(token: str | None) -> str:
    token = (token or "").strip()
    if not token:
        raise TokenError("Chưa đặt BOT_WEB_TOKEN trong .env nên trang rà soát không khởi động (không có mật khẩu "
                         "thì ai cũng vào được). Tạo một mã, ví dụ: python -c \"import secrets; "
                         "print(secrets.token_urlsafe(24))\", rồi ghi BOT_WEB_TOKEN=<mã> vào .env.")
    if len(token) < MIN_TOKEN_CHARS:
        raise TokenError(f"BOT_WEB_TOKEN quá ngắn ({len(token)} ký tự): cần ít nhất {MIN_TOKEN_CHARS} ký tự để "
                         "không đoán được.")
    return token


def token_matches(given: str | None, token: str) -> bool:
    return hmac.compare_digest((given or "").encode("utf-8"), token.encode("utf-8"))


def bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


@dataclass
class Session:
    sid: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    who: str = ""  # officer's name once signed in; "" = anonymous
    flash: str = ""  # one message shown on the next page

    @property
    def signed_in(self) -> bool:
        return bool(self.who)


class Sessions:
    """Signed, time-limited session cookies."""

    def __init__(self, token: str):
        key = hmac.new(token.encode(), b"cchc-web-session", hashlib.sha256).hexdigest()
        self._s = URLSafeTimedSerializer(key, salt="session")

    def load(self, cookie: str | None) -> Session | None:
        if not cookie:
            return None
        try:
            data = self._s.loads(cookie, max_age=SESSION_HOURS * 3600)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not data.get("sid") or not data.get("csrf"):
            return None
        return Session(sid=str(data["sid"]), csrf=str(data["csrf"]), who=str(data.get("who") or ""),
                       flash=str(data.get("flash") or ""))

    def dump(self, s: Session) -> str:
        return self._s.dumps({"sid": s.sid, "csrf": s.csrf, "who": s.who, "flash": s.flash})

    @staticmethod
    def cookie_args(secure: bool) -> dict:
        return {"key": COOKIE, "max_age": SESSION_HOURS * 3600, "httponly": True, "samesite": "strict",
                "secure": secure, "path": "/"}


def csrf_ok(session: Session | None, sent: str | None) -> bool:
    return session is not None and bool(sent) and hmac.compare_digest(session.csrf.encode(), str(sent).encode())


class Throttle:
    """Failed sign-ins per client address in a sliding window."""

    def __init__(self, limit: int = MAX_FAILURES, window: float = FAILURE_WINDOW, clock=time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._fails: dict[str, list[float]] = {}

    def _recent(self, who: str) -> list[float]:
        now = self.clock()
        recent = [t for t in self._fails.get(who, []) if now - t < self.window]
        if recent:
            self._fails[who] = recent
        else:
            self._fails.pop(who, None)
        return recent

    def blocked(self, who: str) -> bool:
        return len(self._recent(who)) >= self.limit

    def fail(self, who: str) -> None:
        self._recent(who)
        self._fails.setdefault(who, []).append(self.clock())

    def clear(self, who: str) -> None:
        self._fails.pop(who, None)
