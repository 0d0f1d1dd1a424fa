"""Side-by-side installation with an atomic switch and automatic rollback.

Layout under ``AppPaths.versions_dir``::

    versions/1.0.0/         an unpacked, complete application bundle
    versions/1.1.0/
    versions/current.json   {"current": "1.1.0", "previous": "1.0.0"}
    versions/backtestr      the launcher: runs versions/<current>/backtestr

A new version is unpacked into a hidden staging folder, renamed into place when complete, and only
then does ``current.json`` change — by an atomic rename, so a crash at any moment leaves either
the old pointer or the new one. The new version then runs its self-test; if that fails the pointer
is switched back at once. The launcher (``launcher.sh``) starts ``versions/<current>/backtestr``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from backtestr.app._files import write_atomic
from backtestr.app.archive import extract_tar
from backtestr.app.version import SemVer
from backtestr.errors import ConfigError, UpdateError

__all__ = ["CommandSelfTest", "InstallResult", "Installer", "SelfTest"]

POINTER_FILE = "current.json"
LAUNCHER_FILE = "backtestr"
_LAUNCHER_SOURCE = Path(__file__).with_name("launcher.sh")
_STAGING_PREFIX = ".staging-"


class SelfTest(Protocol):
    """Checks that an unpacked version works; ``True`` when it does."""

    def __call__(self, version_dir: Path) -> bool:
        """Run the check against the bundle in ``version_dir``."""
        ...


class CommandSelfTest:
    """Runs ``<version_dir>/backtestr self-test`` as a child process; passes on exit code 0.

    Parameters
    ----------
    executable
        File name of the entry point inside a bundle (``backtestr.exe`` on Windows).
    arguments
        Arguments that make the app check itself and exit.
    timeout_s
        A self-test that hangs longer than this fails.
    """

    def __init__(
        self,
        executable: str | None = None,
        arguments: tuple[str, ...] = ("self-test",),
        timeout_s: float = 120.0,
    ) -> None:
        self.executable = executable or (
            "backtestr.exe" if sys.platform == "win32" else "backtestr"
        )
        self.arguments = arguments
        self.timeout_s = timeout_s

    def __call__(self, version_dir: Path) -> bool:
        """See :class:`SelfTest`."""
        program = version_dir / self.executable
        if not program.is_file():
            return False
        try:
            completed = subprocess.run(
                [str(program), *self.arguments],
                cwd=version_dir,
                capture_output=True,
                timeout=self.timeout_s,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
        return completed.returncode == 0


@dataclass(frozen=True)
class InstallResult:
    """The outcome of a successful install."""

    version: str
    previous: str | None
    path: Path


class Installer:
    """Installs verified tars side by side and moves the ``current`` pointer.

    Parameters
    ----------
    versions_dir
        Where versions live (``AppPaths.versions_dir``).
    self_test
        Run against each newly installed version before it is kept.
    keep
        Versions kept on disk besides the current one (the previous one is always kept).
    """

    def __init__(self, versions_dir: Path, self_test: SelfTest, *, keep: int = 2) -> None:
        self.versions_dir = versions_dir
        self.self_test = self_test
        self.keep = max(keep, 1)

    @property
    def pointer_file(self) -> Path:
        """The JSON file naming the current and previous versions."""
        return self.versions_dir / POINTER_FILE

    def _pointer(self) -> dict[str, str | None]:
        try:
            data = json.loads(self.pointer_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {"current": None, "previous": None}
        if not isinstance(data, dict):
            return {"current": None, "previous": None}
        return {
            "current": data.get("current") if isinstance(data.get("current"), str) else None,
            "previous": data.get("previous") if isinstance(data.get("previous"), str) else None,
        }

    def current(self) -> str | None:
        """The version the launcher starts, ``None`` before the first install."""
        return self._pointer()["current"]

    def previous(self) -> str | None:
        """The version :meth:`rollback` returns to."""
        return self._pointer()["previous"]

    def installed(self) -> list[str]:
        """Complete versions on disk, oldest first (staging leftovers are not versions)."""
        if not self.versions_dir.is_dir():
            return []
        names = []
        for path in self.versions_dir.iterdir():
            if path.is_dir() and not path.name.startswith("."):
                try:
                    names.append((SemVer.parse(path.name).precedence_key(), path.name))
                except ConfigError:  # a folder that is not a version is not ours to list
                    continue
        return [name for _, name in sorted(names)]

    def _switch(self, current: str | None, previous: str | None) -> None:
        text = json.dumps({"current": current, "previous": previous}, indent=2) + "\n"
        write_atomic(self.pointer_file, text.encode("utf-8"))

    @property
    def launcher(self) -> Path:
        """The script that starts the current version (POSIX; Windows uses the installer's)."""
        return self.versions_dir / LAUNCHER_FILE

    def _write_launcher(self) -> None:
        if sys.platform == "win32":
            return
        script = _LAUNCHER_SOURCE.read_bytes()
        if not self.launcher.exists() or self.launcher.read_bytes() != script:
            write_atomic(self.launcher, script)
            self.launcher.chmod(0o755)

    def _clean_staging(self) -> None:
        if self.versions_dir.is_dir():
            for path in self.versions_dir.iterdir():
                if path.name.startswith(_STAGING_PREFIX):
                    shutil.rmtree(path, ignore_errors=True)

    def install(self, version: str, tar_bytes: bytes) -> InstallResult:
        """Unpack ``tar_bytes`` (already verified) as ``version`` and switch to it.

        Raises :class:`UpdateError` when the new version fails its self-test; the previous
        version is then current again and the failed folder is removed.
        """
        name = str(SemVer.parse(version))
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        self._clean_staging()  # leftovers of an install that was interrupted
        staging = self.versions_dir / f"{_STAGING_PREFIX}{uuid.uuid4().hex}"
        try:
            extract_tar(tar_bytes, staging)
            target = self.versions_dir / name
            before = self._pointer()
            old_current = before["current"]
            if target.exists():
                if name == old_current:
                    raise UpdateError(f"Version {name} is already installed and current")
                shutil.rmtree(target)
            os.replace(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self._switch(name, old_current)
        self._write_launcher()
        if not self.self_test(target):
            self._switch(old_current, before["previous"])  # exactly the state before
            shutil.rmtree(target, ignore_errors=True)
            back = old_current or "no version"
            raise UpdateError(
                f"Version {name} failed its self-test; rolled back to {back}. "
                "Your installed app is unchanged."
            )
        self._prune(keep_also={name, old_current})
        return InstallResult(name, old_current, target)

    def rollback(self) -> InstallResult:
        """Switch back to the previous version (kept on disk for exactly this)."""
        pointer = self._pointer()
        previous, current = pointer["previous"], pointer["current"]
        if previous is None or not (self.versions_dir / previous).is_dir():
            raise UpdateError("No previous version to roll back to.")
        self._switch(previous, current)
        return InstallResult(previous, current, self.versions_dir / previous)

    def _prune(self, keep_also: set[str | None]) -> None:
        versions = self.installed()
        removable = [v for v in versions if v not in keep_also]
        excess = len(removable) - (self.keep - 1)
        for version in removable[: max(excess, 0)]:
            shutil.rmtree(self.versions_dir / version, ignore_errors=True)
