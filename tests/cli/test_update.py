"""``backtestr update …`` against a real signed repository on 127.0.0.1."""

from __future__ import annotations

import http.server
import random
import socket
import threading
from functools import partial
from pathlib import Path

import pytest

from backtestr.app.update_repository import RepositoryKeys, UpdateRepository
from backtestr.cli import main


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def repository(tmp_path: Path):
    repo = UpdateRepository(tmp_path / "www", RepositoryKeys.generate())
    root = repo.create()
    (tmp_path / "root.json").write_bytes(root)
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(_Quiet, directory=str(repo.directory))
    )
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield repo, f"http://127.0.0.1:{server.server_address[1]}/", tmp_path / "root.json"
    server.shutdown()
    server.server_close()


def _bundle(folder: Path, version: str) -> Path:
    folder.mkdir(parents=True)
    script = folder / "backtestr"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o755)
    (folder / "payload.bin").write_bytes(random.Random(3).randbytes(64 * 1024))
    (folder / "VERSION").write_text(version)
    return folder


def _update(home: Path, url: str, root: Path, *args: str) -> None:
    main(["--home", str(home), "update", "--url", url, "--root", str(root), *args])


def test_check_install_and_rollback_through_the_cli(repository, tmp_path, capsys):
    repo, url, root = repository
    home = tmp_path / "home"
    repo.publish("1.0.0", _bundle(tmp_path / "b1", "1.0.0"), notes="First release.")
    _update(home, url, root, "check")
    out = capsys.readouterr().out
    assert "Update available: 1.0.0 (stable" in out
    assert "First release." in out
    _update(home, url, root, "install")
    assert "Installed 1.0.0" in capsys.readouterr().out
    repo.publish("1.1.0", _bundle(tmp_path / "b2", "1.1.0"))
    _update(home, url, root, "download")
    assert "(delta," in capsys.readouterr().out
    _update(home, url, root, "install")
    assert "1.0.0 kept for rollback" in capsys.readouterr().out
    _update(home, url, root, "status")
    status = capsys.readouterr().out.splitlines()
    assert status[:2] == ["  1.0.0", "* 1.1.0"]
    assert status[2].startswith("last check ")
    assert status[2].endswith(": up to date")
    _update(home, url, root, "rollback")
    assert "Rolled back to 1.0.0" in capsys.readouterr().out
    _update(home, url, root, "check")
    assert "Update available: 1.1.0" in capsys.readouterr().out


def test_unreachable_server_is_one_line_not_a_traceback(repository, tmp_path, capsys):
    _, _, root = repository
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    with pytest.raises(SystemExit) as exited:
        _update(tmp_path / "home", dead, root, "check")
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: Cannot reach the update server")
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_update_url_comes_from_the_environment(repository, tmp_path, capsys, monkeypatch):
    repo, url, root = repository
    repo.publish("2.0.0", _bundle(tmp_path / "b", "2.0.0"))
    monkeypatch.setenv("BACKTESTR_UPDATE_URL", url)
    main(["--home", str(tmp_path / "home"), "update", "--root", str(root), "check"])
    assert "Update available: 2.0.0" in capsys.readouterr().out
