"""The one exception hierarchy of BackTestr.

Every error we raise on purpose derives from :class:`BacktestrError`; anything else escaping the
core is a bug. Messages say what was wrong, where, and how to fix it. Domain errors know nothing of
exit codes or HTTP: the CLI and the server map them in one place each.

::

    BacktestrError
    ├── DataError                 market data could not be read, stored or found
    │   ├── DataFormatError       a malformed file: file, line, column ("Invalid data format: …")
    │   │   └── FormatDetectionError   no known format matches the file's content
    │   ├── NoDataError           nothing stored for the requested symbol / kind / range
    │   └── StoreError            the data home is unusable (locked, corrupt, unwritable)
    ├── ConfigError               a bad argument or setting (unknown timeframe, bad option value)
    ├── StrategyError             user strategy code failed (later issues)
    └── UpdateError               the update client refused or failed an update (later issues)
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "BacktestrError",
    "ConfigError",
    "DataError",
    "DataFormatError",
    "FormatDetectionError",
    "NoDataError",
    "StoreError",
    "StrategyError",
    "UpdateError",
    "did_you_mean",
]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ``" Did you mean 'x'?"`` for the closest choice, or ``""`` when none is close."""
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f" Did you mean '{matches[0]}'?" if matches else ""


class BacktestrError(Exception):
    """Base class of every error BackTestr raises on purpose."""


class DataError(BacktestrError):
    """Market data could not be read, stored or found."""


class DataFormatError(DataError):
    """A data file is malformed.

    The message always begins with ``Invalid data format:`` and names the file and, when known,
    the line (1-based, as an editor shows it) and the column.

    Parameters
    ----------
    path
        The file being read.
    problem
        What is wrong, e.g. ``"high 1.0841 is below low 1.0850"``.
    line
        1-based line number in the (decompressed) file, when the problem is on one line.
    column
        Name of the column involved, when known.
    hint
        How to fix it or how to import anyway.
    """

    def __init__(
        self,
        path: str | Path,
        problem: str,
        *,
        line: int | None = None,
        column: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.path = str(path)
        self.problem = problem
        self.line = line
        self.column = column
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        where = Path(self.path).name
        if self.line is not None:
            where += f" line {self.line}"
        if self.column is not None:
            where += f", column '{self.column}'"
        text = f"Invalid data format: {where}: {self.problem}"
        if self.hint:
            text += f". {self.hint}"
        return text


class FormatDetectionError(DataFormatError):
    """No known format matches the file's content."""


class NoDataError(DataError):
    """Nothing is stored for the requested symbol, kind or range."""


class StoreError(DataError):
    """The data home cannot be used (locked by another process, corrupt, not writable)."""


class ConfigError(BacktestrError):
    """A bad argument or setting: names it, says what is allowed, suggests the closest."""


class StrategyError(BacktestrError):
    """User strategy code failed; reported with the line in the user's own file.

    ``path`` and ``line`` (1-based) locate the failing line of the strategy when known.
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.line = line


class UpdateError(BacktestrError):
    """The update client refused or could not apply an update."""
