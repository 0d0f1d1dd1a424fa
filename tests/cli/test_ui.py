"""``backtestr ui``: starts the real server on 127.0.0.1 and prints the address with the token."""

from __future__ import annotations

import importlib.util
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest

from backtestr.cli import EXIT_CONFIG_ERROR, main
from backtestr.data.store import Store
from backtestr.server.runner import free_port


def test_ui_serves_on_loopback_with_the_printed_token(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "backtestr", "ui", "--no-browser", "--port", str(port),
         "--home", str(tmp_path / "home")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 60
        url = None
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                break
            match = re.search(rf"http://127\.0\.0\.1:{port}/\?token=(\S+)", line)
            url = match.group(0) if match else None
        assert url is not None, "the address with the token was not printed"
        token = url.rsplit("=", 1)[1]
        base = f"http://127.0.0.1:{port}"
        assert httpx2.get(f"{base}/api/datasets").status_code == 401
        answer = httpx2.get(f"{base}/api/datasets", headers={"X-Backtestr-Token": token})
        assert (answer.status_code, answer.json()) == (200, [])
        with httpx2.Client(base_url=base) as browser:
            first = browser.get(f"/?token={token}")
            assert first.status_code == 303  # token swapped for a cookie
            assert browser.get("/api/formats").status_code == 200
        assert (tmp_path / "home" / "catalog.duckdb").exists()
    finally:
        process.terminate()
        process.communicate(timeout=20)  # also closes the pipe
    # uvicorn shuts down on SIGTERM, then re-raises it so the exit status tells why it stopped
    assert process.returncode in (0, -signal.SIGTERM)
    Store.open(tmp_path / "home").close()


def test_app_without_pywebview_says_how_to_get_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if importlib.util.find_spec("webview") is not None:
        pytest.skip("pywebview is installed: the window would open")
    with pytest.raises(SystemExit) as stopped:
        main(["--home", str(tmp_path / "home"), "app"])
    assert stopped.value.code == EXIT_CONFIG_ERROR
    assert "pip install 'backtestr[app]'" in capsys.readouterr().err
