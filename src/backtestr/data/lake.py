"""The lake: Parquet files, one per symbol × kind × side × period, written atomically.

Layout under ``<home>/lake``::

    EURUSD/ticks/quote/2019/2019-02.<id>.parquet     ticks, one file a month
    EURUSD/M1/bid/2019.<id>.parquet                  bars, one file a year

Every write goes to a fresh, never-reused file name (``<id>`` is random), so a file that a catalog
row names is never modified in place: an import writes new files, commits the catalog, then
deletes the files it replaced.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from backtestr.model import BarArrays, TickArrays

__all__ = [
    "BAR_SCHEMA",
    "TICK_SCHEMA",
    "arrays_to_table",
    "file_sha256",
    "partition_file_name",
    "period_keys",
    "read_bar_file",
    "read_bar_files",
    "read_tick_file",
    "read_tick_files",
    "write_table",
    "write_table_atomically",
]

ArraysT = TypeVar("ArraysT", TickArrays, BarArrays)

_TS = pa.timestamp("ns", tz="UTC")
TICK_SCHEMA = pa.schema(
    [
        ("ts", _TS),
        ("bid", pa.float64()),
        ("ask", pa.float64()),
        ("bid_volume", pa.float64()),
        ("ask_volume", pa.float64()),
    ]
)
BAR_SCHEMA = pa.schema(
    [
        ("ts", _TS),
        ("open", pa.float64()),
        ("high", pa.float64()),
        ("low", pa.float64()),
        ("close", pa.float64()),
        ("volume", pa.float64()),
        ("tick_count", pa.int64()),
        ("spread_min", pa.float64()),
        ("spread_avg", pa.float64()),
        ("spread_max", pa.float64()),
    ]
)
# Sorted int64 timestamps compress to almost nothing with delta encoding; zstd level 1 keeps
# writing fast (the import must sustain millions of rows a second).
_WRITE_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 1,
    "use_dictionary": False,
    "column_encoding": {"ts": "DELTA_BINARY_PACKED"},
    "write_statistics": ["ts"],
}
# Rows per row group: about five weeks of M1 bars. A reader of a time range (a chart page, a
# replay's start) decodes only the row groups whose ``ts`` statistics overlap it, not the year.
ROW_GROUP_ROWS = 50_000


def arrays_to_table(data: TickArrays | BarArrays) -> pa.Table:
    """Wrap column arrays as an Arrow table (zero-copy for the float columns)."""
    schema = TICK_SCHEMA if isinstance(data, TickArrays) else BAR_SCHEMA
    columns: list[pa.Array] = []
    for field in fields(data):
        values = getattr(data, field.name)
        if field.name == "ts_ns":
            columns.append(pa.array(values.view("datetime64[ns]"), type=pa.timestamp("ns")))
        else:
            columns.append(pa.array(values))
    table = pa.Table.from_arrays(columns, names=schema.names)
    return table.cast(schema)


def _read(
    paths: list[Path],
    schema: pa.Schema,
    kind: type[ArraysT],
    start_ns: int | None = None,
    end_ns: int | None = None,
) -> ArraysT:
    """The files' rows end to end, or (with bounds) at least those with ``start_ns <= ts <
    end_ns``: the row groups that may hold them, chosen by their ``ts`` statistics; the caller
    clips. The files are joined as Arrow tables and turned into arrays once, not copied twice."""
    tables: list[pa.Table] = []
    for path in paths:
        if start_ns is None and end_ns is None:
            tables.append(pq.read_table(path, schema=schema))
            continue
        parquet = pq.ParquetFile(path)
        groups = _row_groups_between(parquet.metadata, start_ns, end_ns)
        tables.append(parquet.read_row_groups(groups).cast(schema))
    table = pa.concat_tables(tables) if tables else schema.empty_table()
    columns: dict[str, np.ndarray[Any, Any]] = {}
    for field in fields(kind):
        name = "ts" if field.name == "ts_ns" else field.name
        values = table.column(name).to_numpy()
        dtype = np.int64 if name in ("ts", "tick_count") else np.float64
        columns[field.name] = np.ascontiguousarray(
            values.view(np.int64) if name == "ts" else values, dtype=dtype
        )
    return kind(**columns)


def _row_groups_between(
    metadata: pq.FileMetaData, start_ns: int | None, end_ns: int | None
) -> list[int]:
    ts_column = metadata.schema.to_arrow_schema().get_field_index("ts")
    chosen = []
    for index in range(metadata.num_row_groups):
        stats = metadata.row_group(index).column(ts_column).statistics
        if stats is None or not stats.has_min_max:
            chosen.append(index)  # no statistics (a foreign writer): read it to be safe
            continue
        # the raw values are the int64 nanoseconds (``min``/``max`` would round to microseconds)
        first, last = int(stats.min_raw), int(stats.max_raw)
        if (start_ns is None or last >= start_ns) and (end_ns is None or first < end_ns):
            chosen.append(index)
    return chosen


def read_tick_file(
    path: Path, start_ns: int | None = None, end_ns: int | None = None
) -> TickArrays:
    return _read([path], TICK_SCHEMA, TickArrays, start_ns, end_ns)


def read_bar_file(path: Path, start_ns: int | None = None, end_ns: int | None = None) -> BarArrays:
    return _read([path], BAR_SCHEMA, BarArrays, start_ns, end_ns)


def read_tick_files(
    paths: list[Path], start_ns: int | None = None, end_ns: int | None = None
) -> TickArrays:
    """Several partitions (in time order) as one block; bounds as in :func:`read_tick_file`."""
    return _read(paths, TICK_SCHEMA, TickArrays, start_ns, end_ns)


def read_bar_files(
    paths: list[Path], start_ns: int | None = None, end_ns: int | None = None
) -> BarArrays:
    """Several partitions (in time order) as one block; bounds as in :func:`read_bar_file`."""
    return _read(paths, BAR_SCHEMA, BarArrays, start_ns, end_ns)


def open_writer(path: Path, schema: pa.Schema) -> pq.ParquetWriter:
    """A streaming writer for a staging file (row groups appended chunk by chunk, with
    :func:`write_table`)."""
    return pq.ParquetWriter(str(path), schema, **_WRITE_OPTIONS)


def write_table(writer: pq.ParquetWriter, table: pa.Table) -> None:
    """Append ``table`` to a staging file in row groups of :data:`ROW_GROUP_ROWS`."""
    writer.write_table(table, row_group_size=ROW_GROUP_ROWS)


def write_table_atomically(table: pa.Table, path: Path) -> None:
    """Write ``table`` to ``path`` so that ``path`` either does not exist or is complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        pq.write_table(table, str(temporary), row_group_size=ROW_GROUP_ROWS, **_WRITE_OPTIONS)
        _fsync(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def move_atomically(source: Path, target: Path) -> None:
    """Move a finished staging file into the lake (same filesystem: a rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    _fsync(source)
    os.replace(source, target)


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def period_keys(ts_ns: np.ndarray[Any, Any], *, monthly: bool) -> np.ndarray[Any, Any]:
    """Partition key per timestamp: the UTC month (ticks) or year (bars) as datetime64."""
    unit = "M" if monthly else "Y"
    return ts_ns.view("datetime64[ns]").astype(f"datetime64[{unit}]")


def period_name(key: np.datetime64) -> str:
    return str(key)


def partition_file_name(symbol: str, kind: str, side: str, period: str) -> str:
    """Relative lake path of a new partition file (a fresh random id every call)."""
    year = period[:4]
    folder = f"{symbol}/{kind}/{side}"
    unique = uuid.uuid4().hex[:12]
    if len(period) > 4:
        return f"{folder}/{year}/{period}.{unique}.parquet"
    return f"{folder}/{period}.{unique}.parquet"
