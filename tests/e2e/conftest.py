"""End-to-end fixtures: the real server on a free port over a temporary home, and Debian's
Chromium driven by Playwright (never a downloaded browser). Skipped when Chromium or the built
frontend is missing, so a fresh clone still passes; CI installs Chromium so they run there."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from backtestr.server import ServerSettings
from backtestr.server.runner import BackgroundServer, free_port
from backtestr.server.settings import default_static_dir

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    if not (default_static_dir() / "index.html").is_file():
        pytest.skip("the frontend is not built: run ./dev web")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[BackgroundServer]:
    settings = ServerSettings(home=tmp_path / "home", port=free_port())
    with BackgroundServer(settings) as running:
        yield running


@pytest.fixture
def page(browser: Browser, server: BackgroundServer) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    opened.goto(server.settings.url_with_token)
    try:
        yield opened
    finally:
        context.close()
