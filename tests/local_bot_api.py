"""The lifecycle the fake bot platforms share: a Tornado app on a free 127.0.0.1 port, serving
`/bot<token>/<method>` (tests/fake_telegram_api.py, tests/fake_zalo_server.py)."""
from __future__ import annotations

from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application


class LocalBotApi:
    _server: HTTPServer | None = None
    port = 0

    def _app(self) -> Application:
        raise NotImplementedError

    async def start(self):
        self._server = HTTPServer(self._app())
        sockets = bind_sockets(0, "127.0.0.1")
        self._server.add_sockets(sockets)
        self.port = sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"
