"""The one door to the network: a small HTTP client interface and its stdlib implementation.

Every life-cycle service (updater, crash uploader, telemetry) receives an :class:`HttpClient`
instead of opening connections itself, so tests hand them a client pointed at a real local server
and nothing in the app talks to the network behind the user's back.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Protocol

__all__ = ["HttpClient", "HttpStatusError", "UrllibClient"]

_CHUNK_BYTES = 64 * 1024


class HttpStatusError(OSError):
    """The server answered with a non-success status.

    A transport-level error: services translate it (the updater into
    :class:`~backtestr.errors.UpdateError`) or swallow it (telemetry), so it never reaches users.
    """

    def __init__(self, url: str, status: int) -> None:
        self.url = url
        self.status = status
        super().__init__(f"{url} answered HTTP {status}")


class HttpClient(Protocol):
    """What the life-cycle services need from HTTP."""

    def stream(self, url: str) -> Iterator[bytes]:
        """Yield the body of ``GET url`` in chunks; stop reading when the caller stops.

        Raises :class:`HttpStatusError` for a non-2xx status and :class:`OSError` when the
        server cannot be reached.
        """
        ...

    def post(self, url: str, body: bytes, content_type: str) -> int:
        """``POST`` ``body`` and return the HTTP status (``OSError`` if unreachable)."""
        ...


class UrllibClient:
    """:class:`HttpClient` on the standard library, with a timeout and our user agent.

    Parameters
    ----------
    timeout_s
        Seconds to wait for connecting and for each read.
    user_agent
        Sent as ``User-Agent``.
    """

    def __init__(self, *, timeout_s: float = 15.0, user_agent: str = "BackTestr") -> None:
        self.timeout_s = timeout_s
        self.user_agent = user_agent

    def stream(self, url: str) -> Iterator[bytes]:
        """See :meth:`HttpClient.stream`."""
        request = urllib.request.Request(url, headers={"User-Agent": self.user_agent})
        try:
            response = urllib.request.urlopen(request, timeout=self.timeout_s)
        except urllib.error.HTTPError as error:
            error.close()
            raise HttpStatusError(url, error.code) from error
        return self._chunks(response)

    @staticmethod
    def _chunks(response: urllib.request._UrlopenRet) -> Iterator[bytes]:
        # A generator so that the caller decides how much to read: a length limit enforced by
        # the caller stops an endless response without downloading it.
        with response:
            try:
                while chunk := response.read(_CHUNK_BYTES):
                    yield chunk
            except http.client.HTTPException as error:
                raise OSError(f"the transfer broke off: {error!r}") from error
            # a short read at end of stream is not an error to http.client; a missing part of
            # the promised Content-Length is one to us
            missing = getattr(response, "length", None)
            if missing:
                raise OSError(f"the transfer broke off with {missing} bytes missing")

    def post(self, url: str, body: bytes, content_type: str) -> int:
        """See :meth:`HttpClient.post`."""
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={"Content-Type": content_type, "User-Agent": self.user_agent},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                status: int = response.status
                return status
        except urllib.error.HTTPError as error:
            error.close()
            return error.code
