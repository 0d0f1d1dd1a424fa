"""Helpers shared by the command modules: opening the store, parsing times, formatting."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import click
import pandas as pd
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from backtestr.app.paths import resolve_home
from backtestr.data.store import Store
from backtestr.errors import ConfigError

# Wide enough for every table row when the output is a pipe or a file (rich would assume 80
# columns and cut times short with "…"); a terminal keeps its own width, COLUMNS still wins.
_PIPE_WIDTH = 200


def _console(*, stderr: bool) -> Console:
    made = Console(stderr=stderr)
    if not made.is_terminal and "COLUMNS" not in os.environ:
        made.width = _PIPE_WIDTH
    return made


console = _console(stderr=False)
error_console = _console(stderr=True)


@contextmanager
def open_store(ctx: click.Context) -> Iterator[Store]:
    """The store of the home chosen by ``--home`` / ``BACKTESTR_HOME`` / the platform default."""
    home_option: str | None = ctx.find_root().obj
    store = Store.open(resolve_home(home_option))
    try:
        yield store
    finally:
        store.close()


def parse_time(text: str, *, end: bool = False) -> int:
    """Parse an ISO-8601 date or time (UTC unless it carries an offset) to int64 nanoseconds.

    With ``end=True`` a bound is made exclusive the way people mean it: a bare date covers the
    whole day (``--to 2019-02-05`` ends at 2019-02-06 00:00), a full time includes that instant.
    """
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError) as error:
        raise ConfigError(
            f"Cannot read the time '{text}': use ISO-8601, e.g. 2019-02-04 or 2019-02-04T13:30."
        ) from error
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    value = int(stamp.value)
    if end:
        is_bare_date = len(text.strip()) <= 10
        value += int(timedelta(days=1).total_seconds() * 1e9) if is_bare_date else 1
    return value


def iso(ts_ns: int | None) -> str:
    """UTC time as ISO-8601 with as much precision as the value has."""
    if ts_ns is None:
        return "-"
    stamp = pd.Timestamp(ts_ns, tz="UTC")
    if stamp.nanosecond == 0 and stamp.microsecond % 1000 == 0:
        text = stamp.strftime("%Y-%m-%dT%H:%M:%S")
        if stamp.microsecond:
            text += f".{stamp.microsecond // 1000:03d}"
        return text + "Z"
    return stamp.isoformat().replace("+00:00", "Z")


def now_utc() -> datetime:
    return datetime.now(UTC)


class ProgressBars:
    """A rich progress display driven by ``(phase, done, total)`` callbacks."""

    def __init__(self, description: str, *, transient: bool = True) -> None:
        self.description = description
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=error_console,
            transient=transient,
            # off a terminal a progress bar is noise: rich would still print a blank line to
            # stderr, ahead of the error message scripts look for
            disable=not error_console.is_terminal,
        )
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> ProgressBars:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)

    def __call__(self, phase: str, done: int, total: int) -> None:
        if phase == "read":
            detail = f"{done / 1e6:,.1f}/{total / 1e6:,.1f} MB"
        else:
            detail = f"{done}/{total} {PHASE_UNITS.get(phase, 'steps')}"
        if phase not in self.tasks:
            self.tasks[phase] = self.progress.add_task(
                f"{self.description}: {phase}", total=total, detail=detail
            )
        self.progress.update(self.tasks[phase], completed=done, total=total, detail=detail)


PHASE_UNITS = {"store": "partitions", "bars": "timeframes", "trials": "trials"}
