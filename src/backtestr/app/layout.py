"""Where each life-cycle service keeps its files, all under one data home.

Everything lives below the data home (see :mod:`backtestr.app.paths`) so that ``--home`` or
``BACKTESTR_HOME`` isolates a whole installation: settings, caches, crash reports, the update
client's trusted metadata and the side-by-side installed versions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from backtestr.app.paths import resolve_home

__all__ = ["AppPaths"]


@dataclass(frozen=True)
class AppPaths:
    """The files and folders of one installation, derived from its data home.

    Nothing is created here; each service creates what it writes, when it first writes it.
    """

    home: Path

    @classmethod
    def resolve(cls, explicit: str | Path | None = None) -> AppPaths:
        """Paths for ``--home`` / ``BACKTESTR_HOME`` / the platform default (in that order)."""
        return cls(resolve_home(explicit))

    @property
    def settings_file(self) -> Path:
        """The typed user settings (JSON)."""
        return self.home / "settings.json"

    @property
    def cache_dir(self) -> Path:
        """Re-creatable files: downloads, trusted update metadata, crash reports."""
        return self.home / "cache"

    @property
    def crash_dir(self) -> Path:
        """``crash-<uuid>.json`` reports waiting to be read or (with consent) uploaded."""
        return self.cache_dir / "crash-reports"

    @property
    def update_cache_dir(self) -> Path:
        """Trusted TUF metadata and verified downloads of the update client."""
        return self.cache_dir / "updates"

    @property
    def versions_dir(self) -> Path:
        """Installed application versions side by side, plus the ``current`` pointer."""
        return self.home / "versions"

    @property
    def telemetry_dir(self) -> Path:
        """Local usage metrics (always kept) and the outbox of unsent, consented events."""
        return self.home / "telemetry"

    def as_dict(self) -> dict[str, str]:
        """Name → path, as printed by ``backtestr paths``."""
        return {
            "home": str(self.home),
            "settings": str(self.settings_file),
            "cache": str(self.cache_dir),
            "crash_reports": str(self.crash_dir),
            "updates": str(self.update_cache_dir),
            "versions": str(self.versions_dir),
            "telemetry": str(self.telemetry_dir),
        }
