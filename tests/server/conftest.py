"""A real server app over a real temporary data home, driven in-process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backtestr.server import ServerSettings, create_app

PORT = 8765
BASE_URL = f"http://127.0.0.1:{PORT}"
TOKEN = "test-token-0123456789abcdef"


@pytest.fixture
def settings(tmp_path: Path) -> ServerSettings:
    static = tmp_path / "static"
    (static / "assets").mkdir(parents=True)
    (static / "index.html").write_text("<!doctype html><title>BackTestr</title>", encoding="utf-8")
    (static / "assets" / "app.js").write_text("console.log('hi')", encoding="utf-8")
    return ServerSettings(
        home=tmp_path / "home",
        port=PORT,
        token=TOKEN,
        max_upload_bytes=1_000_000,
        static_dir=static,
    )


@pytest.fixture
def anonymous(settings: ServerSettings) -> Iterator[TestClient]:
    """A client at the right address that has not presented the token."""
    with TestClient(create_app(settings), base_url=BASE_URL, follow_redirects=False) as client:
        yield client


@pytest.fixture
def client(anonymous: TestClient) -> TestClient:
    """A client carrying the token in a header, as scripts do."""
    anonymous.headers["X-Backtestr-Token"] = TOKEN
    return anonymous
