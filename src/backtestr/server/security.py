"""The gate in front of every request: Host, Origin and the access token.

The server runs the user's Python code, so a web page on another origin must never reach it:

* ``Host`` must be the loopback address and our port (defeats DNS rebinding, where a foreign
  name resolves to 127.0.0.1);
* ``Origin``, when sent (every cross-origin fetch, form post and WebSocket carries it), must be
  ours; ``Sec-Fetch-Site: cross-site`` is refused too;
* the token must come as ``?token=`` (exchanged for an HttpOnly, SameSite=Strict cookie and a
  redirect that drops it from the address bar), as the cookie, or as a header
  (``Authorization: token …`` or ``X-Backtestr-Token``).

Written as plain ASGI middleware so that it guards HTTP and WebSocket alike.
"""

from __future__ import annotations

import hmac
import json
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from backtestr.server.settings import ServerSettings

__all__ = ["AccessGuard"]

_LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "[::1]"})
_TOKEN_HEADER = "x-backtestr-token"


class AccessGuard:
    """ASGI middleware refusing requests from elsewhere (403) or without the token (401)."""

    def __init__(self, app: ASGIApp, settings: ServerSettings) -> None:
        self.app = app
        self.settings = settings
        self._allowed_hosts = {f"{name}:{settings.port}" for name in _LOOPBACK_NAMES}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self._refusal(headers)
        if refusal is not None:
            await _deny(scope, receive, send, 403, refusal)
            return
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        if "token" in query and self._valid(query["token"]):
            if scope["type"] == "http" and not scope["path"].startswith("/api/"):
                await self._set_cookie_and_redirect(scope, send, query)
                return
            await self.app(scope, receive, send)
            return
        if self._valid(_presented_token(headers, self.settings.cookie_name)):
            await self.app(scope, receive, send)
            return
        await _deny(
            scope,
            receive,
            send,
            401,
            "Missing or wrong access token: open the address printed by `backtestr ui`.",
        )

    def _refusal(self, headers: Headers) -> str | None:
        host = headers.get("host", "").lower()
        if host not in self._allowed_hosts:
            return f"Host '{host}' is not allowed: this server answers only at {self._our_url()}."
        origin = headers.get("origin")
        if origin is not None:
            parts = urlsplit(origin.lower())
            if parts.scheme != "http" or parts.netloc not in self._allowed_hosts:
                return (
                    f"Origin '{origin}' is not allowed: only this server's own pages may call it."
                )
        if headers.get("sec-fetch-site", "").lower() == "cross-site":
            return "Cross-site requests are not allowed."
        return None

    def _our_url(self) -> str:
        return self.settings.base_url

    def _valid(self, presented: str | None) -> bool:
        if not presented:
            return False
        return hmac.compare_digest(presented.encode(), self.settings.token.encode())

    async def _set_cookie_and_redirect(
        self, scope: Scope, send: Send, query: dict[str, str]
    ) -> None:
        rest = {key: value for key, value in query.items() if key != "token"}
        location = scope["path"] + (f"?{urlencode(rest)}" if rest else "")
        cookie = (
            f"{self.settings.cookie_name}={self.settings.token}; Path=/; HttpOnly; SameSite=Strict"
        )
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [
                    (b"location", location.encode("latin-1")),
                    (b"set-cookie", cookie.encode("latin-1")),
                    (b"cache-control", b"no-store"),
                    (b"content-length", b"0"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})


def _presented_token(headers: Headers, cookie_name: str) -> str | None:
    authorization = headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() in ("token", "bearer") and value:
        return value.strip()
    if _TOKEN_HEADER in headers:
        return headers[_TOKEN_HEADER]
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == cookie_name:
            return value
    return None


async def _deny(scope: Scope, receive: Receive, send: Send, status: int, message: str) -> None:
    if scope["type"] == "websocket":
        await receive()  # the websocket.connect event
        await send({"type": "websocket.close", "code": 4000 + status})
        return
    body = json.dumps(
        {"error": "Forbidden" if status == 403 else "Unauthorized", "message": message}
    )
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body.encode()})
