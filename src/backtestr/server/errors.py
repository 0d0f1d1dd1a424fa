"""Domain errors → HTTP status and JSON body, in one place (STYLE.md rule 9)."""

from __future__ import annotations

from pathlib import Path

from backtestr.engine import RunCancelledError
from backtestr.errors import (
    BacktestrError,
    ConfigError,
    DataFormatError,
    NoDataError,
    StoreError,
    StrategyError,
)

__all__ = ["ErrorBody", "error_response"]

ErrorBody = dict[str, str | int | None]


def error_response(error: BacktestrError) -> tuple[int, ErrorBody]:
    """The HTTP status and the JSON body that report ``error`` to the browser.

    The body always has ``error`` (the exception's class name) and ``message`` (its full text);
    data-format errors add ``file`` (the name only, never a server path), ``line`` and ``column``.
    """
    body: ErrorBody = {"error": type(error).__name__, "message": str(error)}
    if isinstance(error, DataFormatError):
        body.update(file=Path(error.path).name, line=error.line, column=error.column)
        return 422, body
    if isinstance(error, StrategyError):
        # the line is in the user's own code: the editor marks it
        body.update(file=None if error.path is None else Path(error.path).name, line=error.line)
        return 422, body
    if isinstance(error, RunCancelledError):
        return 409, body
    if isinstance(error, NoDataError):
        return 404, body
    if isinstance(error, ConfigError):
        return 400, body
    if isinstance(error, StoreError):
        return 503, body
    return 500, body
