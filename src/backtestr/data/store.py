"""The store: a Parquet lake plus a DuckDB catalog under one data home.

>>> from backtestr.data.store import Store
>>> with Store.open(home) as store:                                    # doctest: +SKIP
...     store.import_file("EURUSD_ticks.csv", symbol="EURUSD")
...     h1 = store.bars("EURUSD", "H1")                                 # BarArrays

Layout of a home::

    catalog.duckdb     instruments, partitions (which lake files exist), imports, runs,
                       sweeps and their trial results
    lake/              Parquet partitions (see :mod:`backtestr.data.lake`)
    runs/<run_id>/     saved backtest results (manifest.json + one Parquet file per table)
    staging/           work in progress of an import; always safe to delete

Only one process may hold a home open at a time (the catalog is locked while open).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import numpy as np
import pandas as pd

from backtestr.data import lake
from backtestr.data.catalog import (
    Catalog,
    DatasetRow,
    ImportRecord,
    PartitionRow,
    RunRow,
    SweepRow,
    TrialRecord,
)
from backtestr.data.importer import ImportSummary, ProgressCallback, import_files
from backtestr.data.instruments import instrument_from_dict
from backtestr.data.sources import CrossedQuotes
from backtestr.errors import ConfigError, NoDataError, StoreError, did_you_mean
from backtestr.model import (
    BarArrays,
    Instrument,
    PriceSide,
    TickArrays,
    Timeframe,
    TradingDay,
    normalize_symbol,
)

__all__ = ["BarPage", "BarSource", "Store"]

ArraysT = TypeVar("ArraysT", TickArrays, BarArrays)
_RUN_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True, slots=True)
class BarSource:
    """Which stored data a bar request is built from."""

    kind: str  # 'ticks' or a timeframe name
    side: str


@dataclass(frozen=True, slots=True, eq=False)
class BarPage:
    """A page of bars for a chart: the newest ``limit`` bars before a time, and whether older
    bars are stored (the chart asks for the page before ``bars.ts_ns[0]`` next)."""

    bars: BarArrays
    has_more: bool


@dataclass(frozen=True, slots=True)
class _BarPlan:
    """What a bar request reads, worked out once: the sources, finest first, and their files."""

    frame: Timeframe
    side: PriceSide
    trading_day: TradingDay
    sources: list[tuple[BarSource, list[PartitionRow]]]


class Store:
    """A data home opened for use. Create with :meth:`open`; use as a context manager."""

    def __init__(self, home: Path, catalog: Catalog) -> None:
        self.home = home
        self.catalog = catalog

    @classmethod
    def open(cls, home: str | Path) -> Store:
        """Open (creating if needed) the data home, and collect leftovers of interrupted work.

        Raises
        ------
        StoreError
            When the home cannot be created or another process holds it.
        """
        root = Path(home).expanduser().resolve()
        try:
            for folder in ("lake", "runs", "staging"):
                (root / folder).mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(
                f"Cannot create the data home {root}: {error.strerror}. "
                "Choose another folder with --home or BACKTESTR_HOME."
            ) from error
        store = cls(root, Catalog.open(root / "catalog.duckdb"))
        store._collect_garbage()
        return store

    def close(self) -> None:
        self.catalog.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _collect_garbage(self) -> None:
        """Delete what an interrupted import or run left behind (we hold the catalog lock)."""
        for leftover in (self.home / "staging").iterdir():
            shutil.rmtree(leftover, ignore_errors=True) if leftover.is_dir() else leftover.unlink()
        referenced = self.catalog.referenced_paths()
        lake_root = self.home / "lake"
        for path in lake_root.rglob("*"):
            if path.is_file() and path.relative_to(lake_root).as_posix() not in referenced:
                path.unlink()
        known_runs = {row.run_id for row in self.catalog.runs()}
        for folder in (self.home / "runs").iterdir():
            if folder.name not in known_runs:
                shutil.rmtree(folder, ignore_errors=True)

    # ---- import and catalogue ----------------------------------------------------------------

    def import_file(
        self,
        path: str | Path,
        *,
        symbol: str,
        format: str | None = None,
        tz: str | None = None,
        crossed: CrossedQuotes | str = CrossedQuotes.REJECT,
        side: PriceSide | str | None = None,
        timeframe: Timeframe | str | None = None,
        instrument: Instrument | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> ImportSummary:
        """Parse, validate and store a market-data file; all or nothing.

        Parameters
        ----------
        path
            A CSV (plain, ``.gz`` or single-file ``.zip``) or Parquet file.
        symbol
            What the file holds, e.g. ``"EURUSD"``. Non-FX symbols need ``instrument``.
        format
            Override format detection (see ``backtestr.data.sources.FORMATS``).
        tz
            IANA time zone of naive timestamps, overriding the format's default.
        crossed
            What to do with ticks whose bid is above the ask: reject (default), keep, drop,
            repair.
        side
            For bar files: whether the bars are bid (default), ask or mid prices.
        timeframe
            For bar files: their timeframe, when it cannot be told from the timestamps.
        instrument
            Specification to record for the symbol (defaults: FX pairs built in).

        Raises
        ------
        DataFormatError
            The file is malformed; nothing was stored.
        """
        return self.import_files(
            [path],
            symbol=symbol,
            format=format,
            tz=tz,
            crossed=crossed,
            side=side,
            timeframe=timeframe,
            instrument=instrument,
            on_progress=on_progress,
        )[0]

    def import_files(
        self,
        paths: Sequence[str | Path],
        *,
        symbol: str,
        format: str | None = None,
        tz: str | None = None,
        crossed: CrossedQuotes | str = CrossedQuotes.REJECT,
        side: PriceSide | str | None = None,
        timeframe: Timeframe | str | None = None,
        instrument: Instrument | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> list[ImportSummary]:
        """Import several files as one change (all or none); later files win on overlap.

        Takes the same options as :meth:`import_file`.
        """
        crossed_policy = _parse_crossed(crossed)
        price_side = None if side is None else PriceSide.parse(side)
        frame = None if timeframe is None else Timeframe.parse(timeframe)
        sources = [Path(path).expanduser() for path in paths]
        if not sources:
            raise ConfigError("No file to import: give at least one path.")
        for source in sources:
            if not source.is_file():
                raise ConfigError(f"No such file: {source}")
        return import_files(
            self.home,
            self.catalog,
            sources,
            symbol=normalize_symbol(symbol),
            format=format,
            tz=tz,
            crossed=crossed_policy,
            side=price_side,
            timeframe=frame,
            instrument=instrument,
            on_progress=on_progress,
        )

    def datasets(self, symbol: str | None = None) -> list[DatasetRow]:
        """What is stored: one row per symbol × kind × side."""
        return self.catalog.datasets(None if symbol is None else normalize_symbol(symbol))

    def symbols(self) -> list[str]:
        return sorted({row.symbol for row in self.catalog.datasets()})

    def imports(self, symbol: str | None = None) -> list[ImportRecord]:
        return self.catalog.imports(None if symbol is None else normalize_symbol(symbol))

    def instrument(self, symbol: str) -> Instrument:
        """The recorded specification of a stored symbol."""
        name = self._known_symbol(symbol)
        spec = self.catalog.instrument_spec(name)
        if spec is None:  # pragma: no cover - every import records its instrument
            raise NoDataError(f"No instrument specification is stored for {name}.")
        return instrument_from_dict(spec)

    def remove(self, symbol: str, kind: str | None = None) -> list[PartitionRow]:
        """Delete a symbol's data (all kinds, or one kind such as ``ticks`` or ``M1``)."""
        name = self._known_symbol(symbol)
        with self.catalog.transaction():
            removed = self.catalog.remove_symbol(name, kind)
        if not removed:
            kinds = sorted({row.kind for row in self.datasets(name)})
            raise NoDataError(
                f"No {kind} data is stored for {name}; it has: {', '.join(kinds)}."
                + did_you_mean(kind or "", kinds)
            )
        for row in removed:
            (self.home / "lake" / row.path).unlink(missing_ok=True)
        return removed

    def _known_symbol(self, symbol: str) -> str:
        name = normalize_symbol(symbol)
        known = self.symbols()
        if name not in known:
            stored = ", ".join(known) if known else "nothing yet (import with `data import`)"
            raise NoDataError(
                f"No data is stored for {name}. Stored: {stored}." + did_you_mean(name, known)
            )
        return name

    # ---- reading -----------------------------------------------------------------------------

    def ticks(
        self, symbol: str, start_ns: int | None = None, end_ns: int | None = None
    ) -> TickArrays:
        """Stored ticks with ``start_ns <= ts < end_ns`` (either bound optional)."""
        name = self._known_symbol(symbol)
        rows = self.catalog.partitions(symbol=name, kind="ticks", side="quote")
        if not rows:
            raise NoDataError(f"No ticks are stored for {name} (only bars).")
        parts = [
            lake.read_tick_file(self.home / "lake" / row.path)
            for row in _overlapping(rows, start_ns, end_ns)
        ]
        return _clip(TickArrays.concat(parts), start_ns, end_ns)

    def bar_sources(self, symbol: str, timeframe: Timeframe, side: PriceSide) -> list[BarSource]:
        """Every stored dataset that can build ``timeframe`` bars of ``side``, finest first.

        Raises
        ------
        NoDataError
            When nothing stored can build them (e.g. only H1 bars stored and M15 requested).
        """
        name = self._known_symbol(symbol)
        datasets = self.catalog.datasets(name)
        sources = [BarSource("ticks", "quote")] if any(r.kind == "ticks" for r in datasets) else []
        candidates = sorted(
            (Timeframe.parse(row.kind), row.side)
            for row in datasets
            if row.kind != "ticks"
            and row.side == side.value
            and Timeframe.parse(row.kind).divides(timeframe)
        )
        misaligned: list[str] = []
        for frame, stored_side in candidates:
            problem = None if frame == timeframe else self._misalignment(name, frame, stored_side)
            if problem is None:
                sources.append(BarSource(frame.name, stored_side))
            else:
                misaligned.append(problem)
        if not sources:
            have = ", ".join(f"{row.kind} {row.side}" for row in datasets)
            raise NoDataError(
                f"Cannot build {timeframe} {side.value} bars of {name}: stored data is {have}, "
                f"and {timeframe} bars need ticks or {side.value} bars of a timeframe that "
                f"divides {timeframe}"
                + (f" ({'; '.join(misaligned)})" if misaligned else "")
                + ". Import finer data (H1 or lower, or ticks) to build them."
            )
        return sources

    def _misalignment(self, symbol: str, frame: Timeframe, side: str) -> str | None:
        """Why stored daily-or-larger bars cannot be grouped further, or ``None`` if they can.

        A vendor's D1 bars cut at 00:00 UTC do not follow an FX trading day that starts at
        17:00 New York; grouping them into weeks or months would mix days. (Intraday bars are
        aligned to the epoch by every vendor; daily data is small, so this check is cheap.)
        """
        if frame.is_intraday:
            return None
        from backtestr.bars import bar_open_times

        trading_day = self.instrument(symbol).trading_day
        rows = self.catalog.partitions(symbol=symbol, kind=frame.name, side=side)
        stored = BarArrays.concat([lake.read_bar_file(self.home / "lake" / r.path) for r in rows])
        labels = bar_open_times(stored.ts_ns, frame, trading_day)
        wrong = np.flatnonzero(labels != stored.ts_ns)
        if not len(wrong):
            return None
        at = pd.Timestamp(int(stored.ts_ns[wrong[0]]), tz="UTC")
        expected = pd.Timestamp(int(labels[wrong[0]]), tz="UTC")
        return (
            f"the stored {frame} bars do not follow its trading day ({trading_day}): the bar "
            f"at {at:%Y-%m-%d %H:%M} UTC would open at {expected:%Y-%m-%d %H:%M} UTC"
        )

    def bar_source(self, symbol: str, timeframe: Timeframe, side: PriceSide) -> BarSource:
        """The finest stored data that can build ``timeframe`` bars of ``side``."""
        return self.bar_sources(symbol, timeframe, side)[0]

    def bars(
        self,
        symbol: str,
        timeframe: Timeframe | str,
        *,
        side: PriceSide | str = PriceSide.BID,
        start_ns: int | None = None,
        end_ns: int | None = None,
    ) -> BarArrays:
        """Bars of any timeframe, built from the finest stored data (ticks or lower bars).

        Bars are returned whose open time is in ``[start_ns, end_ns)``; they are complete (the
        data around the edges is read too). Stored bars of exactly the requested timeframe are
        returned as stored. Where the stored datasets cover different periods (ticks for one
        month, H1 bars for years), each period is built from the finest data that covers it.
        Only the row groups of the lake files that overlap the range are read.
        """
        return self._read_bars(self._bar_plan(symbol, timeframe, side), start_ns, end_ns)

    def latest_bars(
        self,
        symbol: str,
        timeframe: Timeframe | str,
        *,
        side: PriceSide | str = PriceSide.BID,
        start_ns: int | None = None,
        end_ns: int | None = None,
        limit: int = 5_000,
    ) -> BarPage:
        """The newest ``limit`` bars with open time in ``[start_ns, end_ns)``: a chart's page.

        Without ``start_ns`` the window grows backwards from ``end_ns`` until it holds ``limit``
        bars or reaches the first stored data, so a page costs the bars it shows, not the whole
        history: a page ten years back reads a few row groups of one file. The chart asks for
        older history with ``end_ns`` = the first bar's open time of the page it has.

        Examples
        --------
        >>> page = store.latest_bars("EURUSD", "M1", limit=2_000)        # doctest: +SKIP
        >>> first = int(page.bars.ts_ns[0])                               # doctest: +SKIP
        >>> older = store.latest_bars("EURUSD", "M1", end_ns=first)       # doctest: +SKIP
        """
        if limit < 1:
            raise ConfigError(f"A page holds at least one bar; got limit={limit}.")
        plan = self._bar_plan(symbol, timeframe, side)
        rows = [row for _, partitions in plan.sources for row in partitions]
        if not rows:  # pragma: no cover - a source exists only with stored partitions
            return BarPage(BarArrays.empty(), False)
        data_first = min(row.first_ns for row in rows)
        data_end = max(row.last_ns for row in rows) + 1
        stop = data_end if end_ns is None else min(end_ns, data_end)
        if start_ns is not None:
            bars = self._read_bars(plan, start_ns, stop)
        else:
            bars = self._read_back(plan, stop, limit, data_first)
        if len(bars) > limit:
            bars = bars.slice(len(bars) - limit, len(bars))
        return BarPage(bars, len(bars) > 0 and int(bars.ts_ns[0]) > data_first)

    def _read_back(self, plan: _BarPlan, stop: int, limit: int, data_first: int) -> BarArrays:
        """At least ``limit`` bars opening before ``stop`` (fewer when the data starts later),
        read in windows going back in time. Each window reads only what the bars before it did
        not cover, so a window that fell short (weekends, holidays, gaps) costs what is missing,
        not a re-read of everything: a page of daily bars reads about the year it shows."""
        # five trading days a week: a window half again as long as the bars asked for
        span = (plan.frame.duration_ns or 31 * 86_400 * 10**9) * limit * 3 // 2
        pieces: list[BarArrays] = []
        found = 0
        end = stop
        while True:
            begin = end - span
            piece = self._read_bars(plan, begin, end)
            pieces.append(piece)
            found += len(piece)
            if found >= limit or begin <= data_first:
                break
            # the rest at the density just seen, with a margin; a window without data: 4x back
            density = len(piece) / span
            wanted = (limit - found) * 5 // 4 + 1
            span = int(wanted / density) if density > 0 else span * 4
            end = begin
        pieces.reverse()
        return pieces[0] if len(pieces) == 1 else BarArrays.concat(pieces)

    def _bar_plan(self, symbol: str, timeframe: Timeframe | str, side: PriceSide | str) -> _BarPlan:
        frame = Timeframe.parse(timeframe)
        price_side = PriceSide.parse(side)
        name = self._known_symbol(symbol)
        sources = [
            (source, self.catalog.partitions(symbol=name, kind=source.kind, side=source.side))
            for source in self.bar_sources(name, frame, price_side)
        ]
        return _BarPlan(frame, price_side, self.instrument(name).trading_day, sources)

    def _read_bars(self, plan: _BarPlan, start_ns: int | None, end_ns: int | None) -> BarArrays:
        frame = plan.frame
        # read a margin around the range so that the edge bars are whole
        margin = (frame.duration_ns or 62 * 86_400 * 10**9) * 2
        read_start = None if start_ns is None else start_ns - margin
        read_end = None if end_ns is None else end_ns + margin
        pieces: list[BarArrays] = []
        covered: list[tuple[int, int]] = []  # [first, last] spans of finer data already used
        for source, partitions in plan.sources:
            rows = _overlapping(partitions, read_start, read_end)
            if not rows:
                continue
            built = self._build_bars(source, rows, plan, read_start, read_end)
            pieces.append(_outside(built, frame, covered) if covered else built)
            covered.extend((row.first_ns, row.last_ns) for row in rows)
        if not pieces:
            return BarArrays.empty()
        if len(pieces) == 1:
            bars = pieces[0]
        else:
            joined = BarArrays.concat(pieces)
            bars = joined.take(np.argsort(joined.ts_ns, kind="stable"))
        return _clip(bars, start_ns, end_ns)

    def _build_bars(
        self,
        source: BarSource,
        rows: list[PartitionRow],
        plan: _BarPlan,
        read_start: int | None,
        read_end: int | None,
    ) -> BarArrays:
        from backtestr.bars import aggregate_bars, aggregate_ticks

        frame, trading_day = plan.frame, plan.trading_day
        if source.kind == "ticks":
            paths = [self.home / "lake" / row.path for row in rows]
            ticks = lake.read_tick_files(paths, read_start, read_end)
            return aggregate_ticks(ticks, [frame], side=plan.side, trading_day=trading_day)[frame]
        stored = lake.read_bar_files(
            [self.home / "lake" / row.path for row in rows], read_start, read_end
        )
        source_frame = Timeframe.parse(source.kind)
        if source_frame == frame:
            return stored
        return aggregate_bars(stored, source_frame, frame, trading_day=trading_day)

    # ---- runs --------------------------------------------------------------------------------

    def save_run(
        self, run_id: str, manifest: dict[str, Any], tables: dict[str, pd.DataFrame]
    ) -> Path:
        """Save a backtest's manifest and result tables atomically; returns the run folder."""
        _check_run_id(run_id)
        if self.catalog.runs(run_id):
            raise ConfigError(f"A run with id {run_id} already exists.")
        folder = self.home / "runs" / run_id
        temporary = self.home / "staging" / f"run-{uuid.uuid4().hex}"
        temporary.mkdir(parents=True)
        try:
            for name, table in tables.items():
                _check_run_id(name)
                table.to_parquet(temporary / f"{name}.parquet")
            (temporary / "manifest.json").write_text(
                json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8"
            )
            os.replace(temporary, folder)
            created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            with self.catalog.transaction():
                self.catalog.add_run(run_id, created, f"runs/{run_id}", manifest)
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
            if not self.catalog.runs(run_id):
                shutil.rmtree(folder, ignore_errors=True)
            raise
        return folder

    def list_runs(self) -> list[RunRow]:
        return self.catalog.runs()

    def load_run(self, run_id: str) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
        """The manifest and the result tables of a saved run."""
        rows = self.catalog.runs(run_id)
        if not rows:
            known = [row.run_id for row in self.catalog.runs()]
            raise NoDataError(f"No saved run has id {run_id}." + did_you_mean(run_id, known))
        folder = self.home / rows[0].path
        tables = {path.stem: pd.read_parquet(path) for path in sorted(folder.glob("*.parquet"))}
        return rows[0].manifest, tables

    def run_folder(self, run_id: str) -> Path:
        """Where a saved run's files are."""
        rows = self.catalog.runs(run_id)
        if not rows:
            self.load_run(run_id)  # raises the helpful unknown-run error
        return self.home / rows[0].path

    def delete_run(self, run_id: str) -> None:
        self.load_run(run_id)  # raises a helpful error when unknown
        with self.catalog.transaction():
            self.catalog.delete_run(run_id)
        shutil.rmtree(self.home / "runs" / run_id, ignore_errors=True)

    # ---- sweeps ------------------------------------------------------------------------------

    def save_sweep(self, sweep_id: str, spec: dict[str, Any]) -> bool:
        """Record a sweep (its spec as JSON-ready values) unless known; returns whether new."""
        _check_run_id(sweep_id)
        with self.catalog.transaction():
            return self.catalog.add_sweep(sweep_id, _now_iso(), spec)

    def save_trial(self, sweep_id: str, record: TrialRecord) -> None:
        """Record one trial result of a sweep, atomically (all of it or nothing)."""
        self.save_trials(sweep_id, [record])

    def save_trials(self, sweep_id: str, records: Sequence[TrialRecord]) -> None:
        """Record trial results of a sweep in one transaction (all of them or none), in order."""
        created = _now_iso()
        with self.catalog.transaction():
            for record in records:
                self.catalog.add_trial(sweep_id, created, record)

    def load_trials(self, keys: Sequence[str]) -> dict[str, TrialRecord]:
        """The stored results among ``keys`` (by any sweep: a result depends on its key only)."""
        return self.catalog.trials(keys)

    def list_sweeps(self) -> list[SweepRow]:
        return self.catalog.sweeps()

    def load_sweep(self, sweep_id: str) -> tuple[SweepRow, list[TrialRecord]]:
        """A sweep's spec and its results in the order they completed."""
        rows = self.catalog.sweeps(sweep_id)
        if not rows:
            known = [row.sweep_id for row in self.catalog.sweeps()]
            raise NoDataError(f"No sweep has id {sweep_id}." + did_you_mean(sweep_id, known))
        return rows[0], self.catalog.sweep_trials(sweep_id)


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_crossed(value: CrossedQuotes | str) -> CrossedQuotes:
    if isinstance(value, CrossedQuotes):
        return value
    try:
        return CrossedQuotes(value.strip().lower())
    except ValueError:
        choices = [c.value for c in CrossedQuotes]
        raise ConfigError(
            f"Unknown crossed-quote policy '{value}': use one of {', '.join(choices)}."
            + did_you_mean(value, choices)
        ) from None


def _check_run_id(name: str) -> None:
    if not name or not set(name.lower()) <= _RUN_ID_CHARS:
        raise ConfigError(f"Invalid name '{name}': use letters, digits, '-' and '_' only.")


def _overlapping(
    rows: list[PartitionRow], start_ns: int | None, end_ns: int | None
) -> list[PartitionRow]:
    return [
        row
        for row in rows
        if (start_ns is None or row.last_ns >= start_ns)
        and (end_ns is None or row.first_ns < end_ns)
    ]


def _outside(bars: BarArrays, frame: Timeframe, covered: list[tuple[int, int]]) -> BarArrays:
    """The bars whose period touches none of the ``covered`` spans (built from finer data)."""
    if len(bars) == 0:
        return bars
    # a bar ends at the next bar's open or after its duration, whichever is first (a month has
    # no fixed duration: 31 days bounds it)
    length = frame.duration_ns or 31 * 86_400 * 10**9
    ends = bars.ts_ns + length
    ends[:-1] = np.minimum(ends[:-1], bars.ts_ns[1:])
    keep = np.ones(len(bars), dtype=bool)
    for first, last in covered:
        keep &= (ends <= first) | (bars.ts_ns > last)
    return bars.take(keep)


def _clip(data: ArraysT, start_ns: int | None, end_ns: int | None) -> ArraysT:
    lo = 0 if start_ns is None else int(np.searchsorted(data.ts_ns, start_ns, side="left"))
    hi = len(data) if end_ns is None else int(np.searchsorted(data.ts_ns, end_ns, side="left"))
    return data.slice(lo, hi)
