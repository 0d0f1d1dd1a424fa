"""The stdlib HTTP client every life-cycle service goes through, against a real local server."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from backtestr.app.http import HttpStatusError, UrllibClient


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/missing":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", "100000")
        self.end_headers()
        if self.path == "/broken":
            self.wfile.write(b"x" * 10)  # then hang up: the promised body never arrives
            return
        self.wfile.write(b"y" * 100000)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(202 if self.path == "/accept" else 500)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_stream_yields_the_whole_body(url):
    assert sum(len(chunk) for chunk in UrllibClient().stream(url + "/ok")) == 100000


def test_error_status_is_an_http_status_error(url):
    with pytest.raises(HttpStatusError) as caught:
        UrllibClient().stream(url + "/missing")
    assert caught.value.status == 404


def test_a_transfer_that_breaks_off_is_an_os_error(url):
    with pytest.raises(OSError, match="broke off"):
        b"".join(UrllibClient(timeout_s=5).stream(url + "/broken"))


def test_post_returns_the_status(url):
    client = UrllibClient()
    assert client.post(url + "/accept", b"{}", "application/json") == 202
    assert client.post(url + "/fail", b"{}", "application/json") == 500
