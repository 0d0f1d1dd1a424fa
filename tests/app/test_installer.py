"""Side-by-side installs: atomic pointer switch, self-test rollback, pruning."""

from __future__ import annotations

from pathlib import Path

import pytest

from backtestr.app.archive import make_tar
from backtestr.app.installer import CommandSelfTest, Installer
from backtestr.errors import UpdateError


def _tar(tmp_path: Path, version: str, exit_code: int = 0) -> bytes:
    folder = tmp_path / f"bundle-{version}"
    folder.mkdir()
    script = folder / "backtestr"
    script.write_text(f'#!/bin/sh\n[ "$1" = self-test ] && exit {exit_code}\nexit 9\n')
    script.chmod(0o755)
    (folder / "VERSION").write_text(version)
    return make_tar(folder)


def test_versions_are_installed_side_by_side_and_old_ones_pruned(tmp_path):
    installer = Installer(tmp_path / "versions", CommandSelfTest(timeout_s=10), keep=1)
    for version in ["1.0.0", "1.1.0", "1.2.0", "1.3.0"]:
        installer.install(version, _tar(tmp_path, version))
    assert installer.current() == "1.3.0"
    assert installer.previous() == "1.2.0"
    assert installer.installed() == ["1.2.0", "1.3.0"]


def test_a_self_test_failure_restores_the_exact_previous_state(tmp_path):
    installer = Installer(tmp_path / "versions", CommandSelfTest(timeout_s=10))
    installer.install("1.0.0", _tar(tmp_path, "1.0.0"))
    installer.install("1.1.0", _tar(tmp_path, "1.1.0"))
    pointer = installer.pointer_file.read_text()
    with pytest.raises(UpdateError, match="failed its self-test"):
        installer.install("1.2.0", _tar(tmp_path, "1.2.0", exit_code=3))
    assert installer.pointer_file.read_text() == pointer
    assert not (tmp_path / "versions" / "1.2.0").exists()


def test_first_install_failing_its_self_test_leaves_nothing_current(tmp_path):
    installer = Installer(tmp_path / "versions", CommandSelfTest(timeout_s=10))
    with pytest.raises(UpdateError, match="rolled back to no version"):
        installer.install("1.0.0", _tar(tmp_path, "1.0.0", exit_code=1))
    assert installer.current() is None


def test_rollback_without_a_previous_version_is_refused(tmp_path):
    installer = Installer(tmp_path / "versions", CommandSelfTest(timeout_s=10))
    with pytest.raises(UpdateError, match="No previous version"):
        installer.rollback()


def test_rollback_twice_goes_back_and_forth(tmp_path):
    installer = Installer(tmp_path / "versions", CommandSelfTest(timeout_s=10))
    installer.install("1.0.0", _tar(tmp_path, "1.0.0"))
    installer.install("1.1.0", _tar(tmp_path, "1.1.0"))
    assert installer.rollback().version == "1.0.0"
    assert installer.rollback().version == "1.1.0"


def test_reinstalling_the_current_version_is_refused(tmp_path):
    installer = Installer(tmp_path / "versions", CommandSelfTest(timeout_s=10))
    tar = _tar(tmp_path, "1.0.0")
    installer.install("1.0.0", tar)
    with pytest.raises(UpdateError, match="already installed"):
        installer.install("1.0.0", tar)
    assert installer.current() == "1.0.0"


def test_bundle_without_an_executable_fails_the_self_test(tmp_path):
    assert not CommandSelfTest()(tmp_path)


def test_launcher_starts_the_current_version_and_follows_rollback(tmp_path):
    import subprocess

    installer = Installer(tmp_path / "versions", CommandSelfTest(timeout_s=10))
    for version in ["1.0.0", "1.1.0"]:
        folder = tmp_path / f"app-{version}"
        folder.mkdir()
        script = folder / "backtestr"
        script.write_text(f'#!/bin/sh\n[ "$1" = self-test ] && exit 0\necho "{version} $*"\n')
        script.chmod(0o755)
        installer.install(version, make_tar(folder))

    def launch() -> str:
        return subprocess.run(
            [str(installer.launcher), "run", "x"], capture_output=True, text=True, check=True
        ).stdout.strip()

    assert launch() == "1.1.0 run x"
    installer.rollback()
    assert launch() == "1.0.0 run x"
