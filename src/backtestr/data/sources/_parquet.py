"""Parquet sources: the same column names as the CSV formats, streamed by record batch."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from backtestr.data.sources._csv import RawChunk, symbol_rows, to_utc
from backtestr.data.sources._detect import CsvPlan, data_kind, header_roles, side_from_name
from backtestr.data.sources._formats import FORMATS
from backtestr.data.sources._timestamps import (
    LAYOUTS,
    WallClock,
    Zone,
    epoch_multiplier,
    parse_epoch,
    parse_timestamps,
)
from backtestr.data.validate import Location
from backtestr.errors import DataFormatError, FormatDetectionError
from backtestr.model.arrays import I64, DataKind, PriceSide

__all__ = ["plan_parquet", "read_parquet_chunks"]


def _open(path: Path) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as error:
        raise DataFormatError(
            path, f"the Parquet file is corrupt or truncated ({error})", hint="Write it again"
        ) from error


def plan_parquet(
    path: Path, *, forced: str | None, tz: str | None, side: PriceSide | None
) -> CsvPlan:
    """Map the Parquet schema's column names to roles (same vocabulary as CSV headers)."""
    names = list(_open(path).schema_arrow.names)
    roles = header_roles(path, names, 0)
    if "clock" in roles:
        raise FormatDetectionError(
            path,
            "separate date and time columns are not supported in Parquet",
            hint="Store one timestamp column",
        )
    kind, bidask = data_kind(path, roles, names, 0)
    name = "parquet-ticks" if kind is DataKind.TICKS else "parquet-bars"
    if forced is not None and forced != name:
        raise FormatDetectionError(
            path,
            f"the file looks like {name}, not {forced}",
            hint=f"Drop --format, or use --format {name}",
        )
    plain_side = None
    if kind is DataKind.BARS and not bidask:
        plain_side = side or side_from_name(path) or PriceSide.BID
    return CsvPlan(
        format=FORMATS[name],
        delimiter="",
        skip_lines=0,
        column_names=tuple(names),
        roles=roles,
        time_layout=None,
        epoch_multiplier=None,
        zone=Zone(tz, iana=tz) if tz else Zone.utc(),
        side=plain_side,
        bidask=bidask,
        numeric=tuple(i for r, i in roles.items() if r not in ("time", "date", "clock", "symbol")),
    )


def read_parquet_chunks(
    path: Path, plan: CsvPlan, chunk_rows: int, total_bytes: int
) -> Iterator[RawChunk]:
    """Yield row batches; ``Location`` counts 1-based rows (Parquet has no lines)."""
    file = _open(path)
    columns = {role: plan.column_names[index] for role, index in plan.roles.items()}
    wanted = list(dict.fromkeys(columns.values()))
    total_rows = max(1, file.metadata.num_rows)
    row = 0
    clock = WallClock(plan.zone, ties_repeat=plan.format.kind is DataKind.BARS)
    try:
        for batch in file.iter_batches(batch_size=chunk_rows, columns=wanted):
            where = Location(path, row + 1, columns, unit="row")
            table = pa.Table.from_batches([batch])
            ts = _timestamps(table[columns["time"]], clock, where)
            values = {
                role: _floats(table[name], role, where)
                for role, name in columns.items()
                if role not in ("time", "symbol")
            }
            symbols = symbol_rows(table[columns["symbol"]]) if "symbol" in columns else []
            row += batch.num_rows
            yield RawChunk(ts, values, symbols, where, total_bytes * row // total_rows)
    except (pa.ArrowException, OSError) as error:
        raise DataFormatError(
            path, f"the Parquet file could not be read ({error})", hint="Write it again"
        ) from error


def _floats(column: pa.ChunkedArray, role: str, where: Location) -> np.ndarray:
    if not (pa.types.is_floating(column.type) or pa.types.is_integer(column.type)):
        raise DataFormatError(
            where.path,
            f"column has type {column.type}, expected numbers",
            column=where.columns.get(role, role),
            hint="Store prices and volumes as float64",
        )
    return np.asarray(column.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)


def _timestamps(column: pa.ChunkedArray, clock: WallClock, where: Location) -> I64:
    kind = column.type
    if column.null_count:
        row = int(np.argmax(column.is_null().to_numpy(zero_copy_only=False)))
        where.fail(row, "time", "the timestamp is empty", hint="Fill or remove the row")
    if pa.types.is_timestamp(kind):
        values = column.cast(pa.timestamp("ns", kind.tz)).cast(pa.int64()).to_numpy()
        return values if kind.tz else to_utc(clock, values, where, "time")
    if pa.types.is_date(kind):
        values = column.cast(pa.timestamp("ns")).cast(pa.int64()).to_numpy()
        return to_utc(clock, values, where, "time")
    if pa.types.is_integer(kind):
        raw: I64 = np.asarray(column.cast(pa.int64()).to_numpy(), dtype=np.int64)
        unit = epoch_multiplier(str(int(raw[0]))) if len(raw) else 1
        return raw * unit
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        sample = column.slice(0, 200)
        for layout in LAYOUTS:
            if parse_timestamps(sample, layout).bad_row < 0:
                parsed = parse_timestamps(column, layout)
                if parsed.bad_row >= 0:
                    where.fail(
                        parsed.bad_row,
                        "time",
                        f"cannot parse timestamp '{column[parsed.bad_row].as_py()}' "
                        f"(expected {layout.pattern})",
                    )
                return parsed.ns if parsed.zoned else to_utc(clock, parsed.ns, where, "time")
        first = str(sample[0].as_py()) if len(sample) else ""
        ns, bad = parse_epoch(column, epoch_multiplier(first))
        if bad < 0:
            return ns
        where.fail(bad, "time", f"cannot parse timestamp '{column[bad].as_py()}'")
    raise DataFormatError(
        where.path,
        f"the time column has type {kind}, expected a timestamp, an integer epoch or text",
        column=where.columns.get("time"),
        hint="Store the time as timestamp[ns, UTC]",
    )
