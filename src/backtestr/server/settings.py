"""Typed, frozen settings of the web server, validated once when they are made."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

from backtestr.errors import ConfigError

__all__ = ["LOOPBACK_HOST", "ServerSettings", "default_static_dir"]

LOOPBACK_HOST = "127.0.0.1"
_DEFAULT_MAX_UPLOAD_BYTES = 2 * 1024**3


def default_static_dir() -> Path:
    """Where the built frontend lives inside the installed package (``./dev web`` builds it)."""
    return Path(__file__).resolve().parent / "static"


def _new_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """How one web server runs.

    Parameters
    ----------
    home
        The data home the server opens (and locks) for its whole life.
    port
        The TCP port on 127.0.0.1. Requests must name this port in ``Host`` (and ``Origin``, when
        the browser sends one), so a page served from any other origin is refused.
    token
        The secret every request must carry (``?token=`` once, then a cookie; or a header).
        A fresh random one by default.
    max_upload_bytes
        Largest accepted upload; bigger ones are refused before being read.
    static_dir
        The built frontend (``index.html`` and ``assets/``).
    """

    home: Path
    port: int
    token: str = field(default_factory=_new_token, repr=False)
    max_upload_bytes: int = _DEFAULT_MAX_UPLOAD_BYTES
    static_dir: Path = field(default_factory=default_static_dir)

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ConfigError(f"Invalid port {self.port}: use a number from 1 to 65535.")
        if len(self.token) < 16:
            raise ConfigError("The access token is too short: use at least 16 characters.")
        if self.max_upload_bytes <= 0:
            raise ConfigError("max_upload_bytes must be positive.")

    @property
    def host(self) -> str:
        """The only interface the server listens on."""
        return LOOPBACK_HOST

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK_HOST}:{self.port}"

    @property
    def url_with_token(self) -> str:
        """What the user opens once; the server then swaps the token for a cookie."""
        return f"{self.base_url}/?token={self.token}"

    @property
    def cookie_name(self) -> str:
        # cookies ignore ports: name them per port so two servers do not overwrite each other
        return f"backtestr_token_{self.port}"
