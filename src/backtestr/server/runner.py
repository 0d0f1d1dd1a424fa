"""Running the server with uvicorn: in the foreground (``backtestr ui``) or on a thread (tests)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import uvicorn

from backtestr.data.store import Store
from backtestr.errors import ConfigError
from backtestr.server.app import create_app
from backtestr.server.settings import LOOPBACK_HOST, ServerSettings

__all__ = ["BackgroundServer", "free_port", "serve"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK_HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _server(settings: ServerSettings) -> uvicorn.Server:
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,  # loopback only, whatever the caller wants
        port=settings.port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        ws="websockets-sansio",  # replay streams bars over a WebSocket
    )
    return uvicorn.Server(config)


def _check_home(settings: ServerSettings) -> None:
    # fail here, rendered by the CLI, rather than as a traceback from inside uvicorn's lifespan
    Store.open(settings.home).close()


def serve(settings: ServerSettings, *, on_started: Callable[[], None] | None = None) -> None:
    """Serve until interrupted (Ctrl+C); ``on_started`` runs once the server accepts requests."""
    _check_home(settings)
    server = _server(settings)
    if on_started is not None:
        callback = on_started

        def announce() -> None:
            while not server.started and not server.should_exit:
                time.sleep(0.05)
            if server.started:
                callback()

        threading.Thread(target=announce, name="backtestr-ui-started", daemon=True).start()
    server.run()


class BackgroundServer:
    """The real server on a daemon thread, for end-to-end tests and notebooks.

    >>> settings = ServerSettings(home=home, port=free_port())  # doctest: +SKIP
    >>> with BackgroundServer(settings) as running:             # doctest: +SKIP
    ...     print(running.settings.url_with_token)
    """

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self._server = _server(settings)
        self._thread = threading.Thread(
            target=self._server.run, name="backtestr-server", daemon=True
        )

    def start(self, timeout_s: float = 20.0) -> BackgroundServer:
        _check_home(self.settings)
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ConfigError(
                    f"The web server could not start on {self.settings.base_url}: "
                    "is the port in use? Choose another with --port."
                )
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
