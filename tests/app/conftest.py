"""Shared builders for the life-cycle tests: a real local HTTP server and release bundles."""

from __future__ import annotations

import http.server
import random
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pytest

from backtestr.app.layout import AppPaths
from backtestr.app.update_repository import RepositoryKeys, UpdateRepository


@dataclass
class LocalServer:
    """A real HTTP server on 127.0.0.1 serving ``root`` and recording every request."""

    root: Path
    url: str = ""
    requests: list[tuple[str, str, bytes]] = field(default_factory=list)
    post_status: int = 200
    _server: http.server.ThreadingHTTPServer | None = None

    @property
    def bytes_received(self) -> int:
        return sum(len(body) for _, _, body in self.requests)


def _handler(state: LocalServer) -> type[http.server.SimpleHTTPRequestHandler]:
    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output clean

        def do_GET(self) -> None:
            state.requests.append(("GET", self.path, b""))
            super().do_GET()

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            state.requests.append(("POST", self.path, body))
            self.send_response(state.post_status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hangs up early (the size-limit tests) is expected here


@pytest.fixture
def local_server(tmp_path: Path) -> Iterator[LocalServer]:
    root = tmp_path / "www"
    root.mkdir()
    state = LocalServer(root)
    handler = partial(_handler(state), directory=str(root))
    server = _QuietServer(("127.0.0.1", 0), handler)
    state._server = server
    state.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(5)


def make_bundle(folder: Path, version: str, *, self_test_ok: bool = True, seed: int = 1) -> Path:
    """A small application bundle: an executable self-test script and some payload.

    The payload is 256 KiB of seeded random bytes (does not compress, like real binaries); the
    same seed gives the same payload, so two versions differ only where we change them.
    """
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "backtestr"
    script.write_text(
        f"#!/bin/sh\necho 'backtestr {version}'\nexit {0 if self_test_ok else 1}\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    rng = random.Random(seed)
    (folder / "lib").mkdir(exist_ok=True)
    (folder / "lib" / "payload.bin").write_bytes(rng.randbytes(256 * 1024))
    (folder / "lib" / "VERSION").write_text(version, encoding="utf-8")
    return folder


@dataclass
class PublishedRepo:
    """A signed repository published under a :class:`LocalServer`."""

    repository: UpdateRepository
    keys: RepositoryKeys
    root: bytes
    server: LocalServer
    bundles: Path

    def publish(self, version: str, **kwargs: object) -> None:
        ok = bool(kwargs.pop("self_test_ok", True))
        bundle = make_bundle(self.bundles / version, version, self_test_ok=ok)
        self.repository.publish(version, bundle, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def published(local_server: LocalServer, tmp_path: Path) -> PublishedRepo:
    keys = RepositoryKeys.generate()
    repository = UpdateRepository(local_server.root, keys)
    root = repository.create()
    return PublishedRepo(repository, keys, root, local_server, tmp_path / "bundles")


@pytest.fixture
def app_paths(tmp_path: Path) -> AppPaths:
    return AppPaths(tmp_path / "home")


@pytest.fixture
def dead_url() -> str:
    """A URL on 127.0.0.1 where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture
def bundle_maker() -> Callable[..., Path]:
    return make_bundle
