"""Saved strategies: named ``.py`` files in the data home's ``strategies`` folder.

Names are checked before they touch the file system, so a name from the browser can never be a
path (no separators, no dots in front, a short allowed alphabet).
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from backtestr.errors import ConfigError, NoDataError
from backtestr.strategy.loader import load_strategy

__all__ = ["SavedStrategy", "StrategyLibrary"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _-]{0,63}$")
_MAX_BYTES = 1_000_000


@dataclass(frozen=True, slots=True)
class SavedStrategy:
    name: str
    source: str


class StrategyLibrary:
    """The strategies saved under ``folder`` (created on first save)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def names(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(path.stem for path in self.folder.glob("*.py") if _NAME.match(path.stem))

    def save(self, name: str, source: str) -> SavedStrategy:
        """Check that ``source`` loads (``StrategyError`` at its line if not), then save it."""
        path = self._path(name)
        if len(source.encode("utf-8")) > _MAX_BYTES:
            raise ConfigError(f"A strategy is limited to {_MAX_BYTES:,} bytes.")
        load_strategy(source)
        self.folder.mkdir(parents=True, exist_ok=True)
        # write then rename, so that a crash never leaves half a strategy behind
        handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(source)
        Path(temporary).replace(path)
        return SavedStrategy(name, source)

    def load(self, name: str) -> SavedStrategy:
        path = self._path(name)
        if not path.is_file():
            raise NoDataError(
                f"No saved strategy is called '{name}'. Saved: {', '.join(self.names()) or 'none'}."
            )
        return SavedStrategy(name, path.read_text(encoding="utf-8"))

    def delete(self, name: str) -> None:
        self.load(name)  # the helpful error when unknown
        self._path(name).unlink()

    def _path(self, name: str) -> Path:
        if not _NAME.match(name):
            raise ConfigError(
                f"'{name}' cannot name a strategy: use letters, digits, spaces, '-' or '_' "
                "(at most 64, starting with a letter or digit)."
            )
        return self.folder / f"{name}.py"
