"""Import one market-data file into the store, atomically.

The file is parsed and validated in chunks (bounded memory) into staging Parquet files. Only when
the whole file has been read without error are the staged partitions merged with what is stored,
moved into the lake under fresh names, and committed to the catalog in one transaction. An error
or a killed process at any point leaves the store exactly as it was; leftovers are collected the
next time the store is opened.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from backtestr.data import lake
from backtestr.data.catalog import Catalog, ImportRecord, PartitionRow
from backtestr.data.instruments import default_instrument, instrument_from_dict, instrument_to_dict
from backtestr.data.merge import merge_bars, merge_ticks
from backtestr.data.sources import CrossedQuotes, open_market_file
from backtestr.errors import DataFormatError
from backtestr.model import BarArrays, DataKind, Instrument, PriceSide, TickArrays, Timeframe

__all__ = ["ImportSummary", "ProgressCallback", "import_files"]

ProgressCallback = Callable[[str, int, int], None]
"""Called as ``(phase, done, total)``; phases are ``read`` (bytes) and ``store`` (partitions)."""


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What an import did: rows, range, problems found and fixed, and what changed."""

    import_id: str
    source: str
    symbol: str
    format: str
    kind: str
    sides: tuple[str, ...]
    rows_read: int
    rows_kept: int
    rows_added: int
    rows_replaced: int
    duplicates_dropped: int
    crossed_quotes: int
    crossed_action: str
    first_ns: int | None
    last_ns: int | None
    gaps: tuple[tuple[int, int], ...] = field(default=())
    partitions_written: int = 0

    @property
    def unchanged(self) -> bool:
        """True when the store already held exactly this data."""
        return self.partitions_written == 0


@dataclass
class _Staged:
    side: str
    period: str
    path: Path
    writer: pq.ParquetWriter | None
    rows: int = 0
    first_ns: int = 0
    last_ns: int = 0


class _StagingWriters:
    """Streams validated chunks into one staging file per (side, period).

    Parquet encoding runs on one background thread (pyarrow releases the GIL) while the reader
    parses the next chunk; at most one chunk waits, so memory stays bounded. One thread keeps the
    writes of each file in order.
    """

    def __init__(self, folder: Path, *, ticks: bool) -> None:
        self.folder = folder
        self.ticks = ticks
        self.files: dict[tuple[str, str], _Staged] = {}
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="staging-writer")
        self._pending: Future[None] | None = None

    def append(self, side: str, data: TickArrays | BarArrays) -> None:
        if len(data) == 0:
            return
        keys = lake.period_keys(data.ts_ns, monthly=self.ticks)
        # chunks are chronological, so each period is one contiguous run of rows
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        stops = np.r_[starts[1:], len(keys)]
        for start, stop in zip(starts, stops, strict=True):
            period = lake.period_name(keys[start])
            staged = self._file(side, period)
            part = data.slice(int(start), int(stop))
            if staged.rows == 0:
                staged.first_ns = int(part.ts_ns[0])
            staged.last_ns = int(part.ts_ns[-1])
            staged.rows += len(part)
            self._submit(staged.path, lake.arrays_to_table(part), staged)

    def _submit(self, path: Path, table: pa.Table, staged: _Staged) -> None:
        self._wait()
        writer = staged.writer
        if writer is None:  # pragma: no cover - chronological chunks never reopen a period
            raise AssertionError(f"a closed staging file received rows: {path}")
        self._pending = self._executor.submit(lake.write_table, writer, table)

    def _wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()  # re-raises a write error here, in the importing thread

    def _file(self, side: str, period: str) -> _Staged:
        key = (side, period)
        if key not in self.files:
            # an earlier period of this side is finished: close it to bound open files
            self._wait()
            for (other_side, _), staged in self.files.items():
                if other_side == side and staged.writer is not None:
                    staged.writer.close()
                    staged.writer = None
            path = self.folder / f"{side}-{period}.parquet"
            schema = lake.TICK_SCHEMA if self.ticks else lake.BAR_SCHEMA
            self.files[key] = _Staged(side, period, path, lake.open_writer(path, schema))
        return self.files[key]

    def close(self) -> None:
        try:
            self._wait()
        finally:
            self._executor.shutdown(wait=True)
            for staged in self.files.values():
                if staged.writer is not None:
                    staged.writer.close()
                    staged.writer = None


def resolve_instrument(catalog: Catalog, symbol: str, given: Instrument | None) -> Instrument:
    """The instrument to record: the one given, else the stored one, else the FX default."""
    if given is not None:
        return given
    stored = catalog.instrument_spec(symbol)
    if stored is not None:
        return instrument_from_dict(stored)
    return default_instrument(symbol)


@dataclass
class _Partition:
    """The current content of one partition during an import: stored, staged or merged."""

    stored: PartitionRow | None  # what the catalog says now (None: a new partition)
    path: Path  # where the current content is (the lake file, or a staging file)
    rows: int
    first_ns: int
    last_ns: int

    @property
    def changed(self) -> bool:
        return self.stored is None or self.path.name != Path(self.stored.path).name


def import_files(
    home: Path,
    catalog: Catalog,
    paths: list[Path],
    *,
    symbol: str,
    format: str | None = None,
    tz: str | None = None,
    crossed: CrossedQuotes = CrossedQuotes.REJECT,
    side: PriceSide | None = None,
    timeframe: Timeframe | None = None,
    instrument: Instrument | None = None,
    on_progress: ProgressCallback | None = None,
) -> list[ImportSummary]:
    """Parse, validate and store several files as one change: all of them or none.

    Later files win over earlier ones where they overlap (see :mod:`backtestr.data.merge`).
    """
    spec = resolve_instrument(catalog, symbol, instrument)
    batch_id = uuid.uuid4().hex
    staging = home / "staging" / batch_id
    staging.mkdir(parents=True)
    moved: list[Path] = []
    current: dict[tuple[str, str, str], _Partition] = {}
    summaries: list[ImportSummary] = []
    records: list[ImportRecord] = []
    try:
        for index, path in enumerate(paths):
            folder = staging / f"{index:04d}"
            folder.mkdir()
            summary, record = _stage_file(
                home,
                catalog,
                path,
                folder,
                current,
                symbol=symbol,
                format=format,
                tz=tz,
                crossed=crossed,
                side=side,
                timeframe=timeframe,
                on_progress=on_progress,
            )
            summaries.append(summary)
            records.append(record)
        changed = [(key, part) for key, part in sorted(current.items()) if part.changed]
        removed = [part.stored for _, part in changed if part.stored is not None]
        added: list[PartitionRow] = []
        for (kind, price_side, period), part in changed:
            row = PartitionRow(
                symbol=symbol,
                kind=kind,
                side=price_side,
                period=period,
                path=lake.partition_file_name(symbol, kind, price_side, period),
                rows=part.rows,
                first_ns=part.first_ns,
                last_ns=part.last_ns,
                sha256=lake.file_sha256(part.path),
            )
            target = home / "lake" / row.path
            lake.move_atomically(part.path, target)
            moved.append(target)
            added.append(row)
        with catalog.transaction():
            catalog.replace_partitions(removed, added)
            catalog.put_instrument_spec(symbol, instrument_to_dict(spec))
            for record in records:
                catalog.add_import(record)
    except BaseException:
        for target in moved:  # not committed: these files must not outlive the failure
            target.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for row in removed:  # committed: the replaced files are garbage now
        (home / "lake" / row.path).unlink(missing_ok=True)
    return summaries


def _check_given_timeframe(path: Path, given: Timeframe, detected: Timeframe | None) -> None:
    """Refuse a ``--timeframe`` that the bars' own spacing contradicts (M1 bars called H1)."""
    if detected is None or detected.duration_ns is None or given.duration_ns is None:
        return
    if detected.duration_ns < given.duration_ns:
        raise DataFormatError(
            path,
            f"the bars are {detected} apart, closer than the timeframe {given} given for them",
            hint=f"Import them as --timeframe {detected}, or leave --timeframe out",
        )


def _stage_file(
    home: Path,
    catalog: Catalog,
    path: Path,
    folder: Path,
    current: dict[tuple[str, str, str], _Partition],
    *,
    symbol: str,
    format: str | None,
    tz: str | None,
    crossed: CrossedQuotes,
    side: PriceSide | None,
    timeframe: Timeframe | None,
    on_progress: ProgressCallback | None,
) -> tuple[ImportSummary, ImportRecord]:
    """Read one file into staging and merge it into ``current``; nothing is committed."""
    with open_market_file(
        path, symbol=symbol, format=format, tz=tz, crossed=crossed, side=side
    ) as (reader):
        ticks = reader.format.kind is DataKind.TICKS
        writers = _StagingWriters(folder, ticks=ticks)
        total = reader.total_bytes

        def read_progress(done: int) -> None:
            if on_progress is not None:
                on_progress("read", done, total)

        try:
            for chunk in reader.chunks(read_progress):
                if isinstance(chunk, TickArrays):
                    writers.append("quote", chunk)
                else:
                    for bar_side, bars in chunk.items():
                        writers.append(bar_side.value, bars)
        finally:
            writers.close()
        stats = reader.stats
        format_name = reader.format.name
        detected = reader.timeframe
    if ticks:
        kind = "ticks"
    elif timeframe is not None:
        _check_given_timeframe(path, timeframe, detected)
        kind = timeframe.name
    elif detected is not None:
        kind = detected.name
    else:
        raise DataFormatError(
            path,
            "cannot tell the bars' timeframe: the file has fewer than two bars",
            hint="Give it with --timeframe (e.g. --timeframe M1)",
        )

    stored = {
        (row.kind, row.side, row.period): row
        for row in catalog.partitions(symbol=symbol, kind=kind)
    }
    rows_added = rows_replaced = 0
    written = 0
    for done, ((price_side, period), staged) in enumerate(sorted(writers.files.items()), 1):
        if on_progress is not None:
            on_progress("store", done, len(writers.files))
        key = (kind, price_side, period)
        if key not in current and key in stored:
            row = stored[key]
            current[key] = _Partition(
                row, home / "lake" / row.path, row.rows, row.first_ns, row.last_ns
            )
        before = current.get(key)
        if before is None:
            current[key] = _Partition(
                None, staged.path, staged.rows, staged.first_ns, staged.last_ns
            )
            rows_added += staged.rows
            written += 1
            continue
        merged_data: TickArrays | BarArrays
        if ticks:
            outcome_t = merge_ticks(
                lake.read_tick_file(before.path), lake.read_tick_file(staged.path)
            )
            changed, merged_data = outcome_t.changed, outcome_t.merged
            rows_added += outcome_t.rows_added
            rows_replaced += outcome_t.rows_replaced
        else:
            outcome_b = merge_bars(lake.read_bar_file(before.path), lake.read_bar_file(staged.path))
            changed, merged_data = outcome_b.changed, outcome_b.merged
            rows_added += outcome_b.rows_added
            rows_replaced += outcome_b.rows_replaced
        if not changed:
            continue
        merged_path = folder / f"merged-{price_side}-{period}.parquet"
        lake.write_table_atomically(lake.arrays_to_table(merged_data), merged_path)
        current[key] = _Partition(
            before.stored,
            merged_path,
            len(merged_data),
            int(merged_data.ts_ns[0]),
            int(merged_data.ts_ns[-1]),
        )
        written += 1

    sides = tuple(sorted({s for s, _ in writers.files}))
    summary = ImportSummary(
        import_id=folder.parent.name + "-" + folder.name,
        source=str(path),
        symbol=symbol,
        format=format_name,
        kind=kind,
        sides=sides,
        rows_read=stats.rows_read,
        rows_kept=stats.rows_kept,
        rows_added=rows_added,
        rows_replaced=rows_replaced,
        duplicates_dropped=stats.duplicate_rows_dropped,
        crossed_quotes=stats.crossed_quotes,
        crossed_action=crossed.value,
        first_ns=stats.first_ts_ns,
        last_ns=stats.last_ts_ns,
        gaps=tuple(stats.gaps),
        partitions_written=written,
    )
    record = ImportRecord(
        import_id=summary.import_id,
        imported_at_iso=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        source=str(path),
        format=format_name,
        symbol=symbol,
        kind=kind,
        sides=",".join(sides),
        rows_read=stats.rows_read,
        rows_stored=rows_added,
        rows_replaced=rows_replaced,
        duplicates_dropped=stats.duplicate_rows_dropped,
        first_ns=stats.first_ts_ns,
        last_ns=stats.last_ts_ns,
        details={
            "crossed_quotes": stats.crossed_quotes,
            "crossed_action": crossed.value,
            "gaps": len(stats.gaps),
            "timezone": tz,
        },
    )
    return summary, record
