"""Stream a delimited text file in blocks of whole lines and turn each block into numpy columns.

Blocks are cut at line ends by us (not by Arrow), so the first line of every block is known and
row *i* of a block is physical line ``first_line + i``: Arrow is told not to skip blank lines, which
come back as empty rows that we drop while keeping exact line numbers. Arrow parses numbers
(multithreaded); timestamps are read as strings and parsed by the compiled template parser. When
Arrow rejects a block, a precise Python re-scan of that block finds the first bad line and column.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from backtestr.data.sources._detect import CsvPlan, wrong_width
from backtestr.data.sources._fastcsv import (
    KIND_CLOCK,
    KIND_DATE,
    KIND_NUMBER,
    KIND_TIME,
    count_lines,
    parse_block,
)
from backtestr.data.sources._opener import DECOMPRESSION_ERRORS, RawFile, _Stream
from backtestr.data.sources._timestamps import (
    TIME_OF_DAY,
    WallClock,
    parse_epoch,
    parse_timestamps,
)
from backtestr.data.validate import Location
from backtestr.errors import DataFormatError
from backtestr.model.arrays import F64, I64, DataKind

__all__ = ["RawChunk", "read_csv_chunks", "symbol_rows"]

_NUMBER = re.compile(
    r"^\s*([+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(nan|inf|infinity))\s*$", re.IGNORECASE
)
_MAX_LINE_BYTES = 1 << 20
_THREADS = max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True, slots=True)
class RawChunk:
    """One block's rows: UTC timestamps, float columns by role, symbol values, and where."""

    ts_ns: I64
    values: dict[str, F64]
    symbols: list[tuple[str, int]]  # each distinct value of a symbol column, with its first row
    where: Location
    disk_bytes: int  # bytes of the on-disk file consumed so far


def read_csv_chunks(
    path: Path, raw: RawFile, plan: CsvPlan, block_bytes: int
) -> Iterator[RawChunk]:
    """Yield the file's rows block by block (each block ≈ ``block_bytes`` of text).

    A block is read into one reused buffer and completed to the end of its last line, so no
    line is ever split and nothing is copied before Arrow parses it.
    """
    stream = raw.open()
    try:
        line = 1
        consumed = 0
        for _ in range(plan.skip_lines):  # header and leading blank lines
            consumed += len(_read_line(path, stream, line))
            line += 1
        # never more than the file can hold (compressed text rarely shrinks below 1/16)
        expansion = 1 if raw.packaging == "plain" else 16
        block_bytes = max(1 << 10, min(block_bytes, raw.total_bytes * expansion))
        buffer = np.empty(block_bytes + _MAX_LINE_BYTES, dtype=np.uint8)  # not zero-filled
        view = memoryview(buffer)  # type: ignore[arg-type]
        clock = WallClock(plan.zone, ties_repeat=plan.format.kind is DataKind.BARS)
        disk_before = raw.progress(stream, consumed)
        while True:
            n = _fill(path, stream, view[:block_bytes], line)
            if n == 0:
                return
            if buffer[n - 1] != 10:  # complete the last line
                rest = _read_line(path, stream, line)
                buffer[n : n + len(rest)] = np.frombuffer(rest, dtype=np.uint8)
                n += len(rest)
            consumed += n
            block = view[:n]
            if line == 1 and plan.skip_lines == 0 and bytes(block[:3]) == b"\xef\xbb\xbf":
                block = block[3:]
            disk_after = raw.progress(stream, consumed)
            chunks, lines = _convert(path, block, line, plan, clock, (disk_before, disk_after))
            yield from chunks
            line += lines
            disk_before = disk_after
    finally:
        stream.close()


def _fill(path: Path, stream: _Stream, target: memoryview, line: int) -> int:
    """Read until ``target`` is full or the file ends; returns the bytes read."""
    total = 0
    try:
        while total < len(target):
            got = stream.readinto(target[total:])
            if not got:
                break
            total += got
    except DECOMPRESSION_ERRORS as error:
        raise DataFormatError(
            path,
            f"the compressed file is corrupt or truncated ({error})",
            line=line,
            hint="Download or export the file again",
        ) from error
    return total


def _read_line(path: Path, stream: _Stream, line: int) -> bytes:
    try:
        text = stream.readline(_MAX_LINE_BYTES)
    except DECOMPRESSION_ERRORS as error:
        raise DataFormatError(
            path,
            f"the compressed file is corrupt or truncated ({error})",
            line=line,
            hint="Download or export the file again",
        ) from error
    if len(text) >= _MAX_LINE_BYTES and not text.endswith(b"\n"):
        raise DataFormatError(
            path,
            "a line is longer than 1 MB; this is not a CSV file",
            line=line,
            hint="Check the file type",
        )
    return text


def _arrow_read(block: memoryview, plan: CsvPlan) -> pa.Table:
    names = [f"c{i}" for i in range(len(plan.column_names))]
    wanted = sorted(set(plan.roles.values()))
    types = {names[i]: pa.float64() for i in plan.numeric}
    for role in ("time", "date", "clock", "symbol"):
        if role in plan.roles:
            types[names[plan.roles[role]]] = pa.string()
    return pcsv.read_csv(
        pa.py_buffer(block),
        read_options=pcsv.ReadOptions(
            column_names=names,
            use_threads=True,
            block_size=max(1 << 20, min(len(block) // 4 + 1, 16 << 20)),
        ),
        parse_options=pcsv.ParseOptions(delimiter=plan.delimiter, ignore_empty_lines=False),
        convert_options=pcsv.ConvertOptions(
            column_types=types,
            include_columns=[names[i] for i in wanted],
            null_values=[""],
            strings_can_be_null=False,
            quoted_strings_can_be_null=True,
        ),
    )


def _convert(
    path: Path,
    block: memoryview,
    first_line: int,
    plan: CsvPlan,
    clock: WallClock,
    disk: tuple[int, int],
) -> tuple[list[RawChunk], int]:
    """Rows of one block (one or more chunks) and the number of physical lines it spans.

    ``disk`` is the on-disk position before and after the block; each chunk reports the part
    of it that its own lines take, so progress advances as the block's pieces are consumed.
    """
    disk_before, disk_bytes = disk
    columns = {role: plan.column_names[index] for role, index in plan.roles.items()}
    time_role = "date" if "date" in plan.roles else "time"
    fast = _fast_path(block, plan)
    if fast is not None:
        pieces, zoned, lines, ends = fast
        numeric_roles = sorted(
            (index, role)
            for role, index in plan.roles.items()
            if role not in ("time", "date", "clock", "symbol")
        )
        chunks = []
        line = first_line
        size = max(1, len(block))
        for (ts, matrix), end in zip(pieces, ends, strict=True):  # each a run of whole lines
            values = {role: matrix[row] for row, (_, role) in enumerate(numeric_roles)}
            where = Location(path, line, columns)
            utc = ts if zoned else to_utc(clock, ts, where, time_role)
            done = disk_before + (disk_bytes - disk_before) * end // size
            chunks.append(RawChunk(utc, values, [], where, done))
            line += len(ts)
        return chunks, lines
    lines = count_lines(np.frombuffer(block, dtype=np.uint8))
    try:
        table = _arrow_read(block, plan)
    except (pa.ArrowInvalid, pa.ArrowException) as error:
        _diagnose(path, bytes(block), first_line, plan, str(error))
    if table.num_rows != lines:  # a bare CR or a quoted line break: line numbers would drift
        _diagnose(path, bytes(block), first_line, plan, "rows do not match lines")
    names = {role: f"c{index}" for role, index in plan.roles.items()}
    where = Location(path, first_line, columns)
    blank = _blank_rows(table, names[time_role], [names[r] for r in plan.roles if r != time_role])
    if blank is not None:
        keep = ~blank
        if not keep.any():
            return [], lines
        table = table.filter(pa.array(keep))
        where = Location(path, first_line, columns, np.flatnonzero(keep) + first_line)
    ts = _timestamps(table, names, plan, where, clock)
    values = {
        role: table[names[role]].to_numpy()
        for role in plan.roles
        if role not in ("time", "date", "clock", "symbol")
    }
    symbols = symbol_rows(table[names["symbol"]]) if "symbol" in plan.roles else []
    return [RawChunk(ts, values, symbols, where, disk_bytes)], lines


def symbol_rows(column: pa.ChunkedArray) -> list[tuple[str, int]]:
    """Distinct values of a symbol column and the row where each first appears."""
    return [
        (str(value), int(pc.index(column, value).as_py()))
        for value in pc.unique(column).to_pylist()
        if value is not None
    ]


def _fast_path(
    block: memoryview, plan: CsvPlan
) -> tuple[list[tuple[I64, npt.NDArray[np.float64]]], bool, int, list[int]] | None:
    """The compiled tokenizer, for plain files with template timestamps (most files)."""
    if plan.time_layout is None or "symbol" in plan.roles or len(plan.delimiter) != 1:
        return None
    kinds = np.zeros(len(plan.column_names), dtype=np.int8)
    for role, index in plan.roles.items():
        kinds[index] = {"time": KIND_TIME, "date": KIND_DATE, "clock": KIND_CLOCK}.get(
            role, KIND_NUMBER
        )
    data = np.frombuffer(block, dtype=np.uint8)
    return parse_block(
        data,
        ord(plan.delimiter),
        kinds,
        plan.time_layout.order,
        plan.time_layout.separator,
        int((kinds == KIND_NUMBER).sum()),
        threads=_THREADS,
    )


def _blank_rows(table: pa.Table, time_name: str, others: list[str]) -> np.ndarray | None:
    """Mask of rows that were blank lines, or None when there are none (the common case)."""
    if table.num_rows == 0 or pc.min(pc.binary_length(table[time_name])).as_py() > 0:
        return None  # cheap: looks at the offsets only
    lengths = pc.utf8_length(pc.utf8_trim_whitespace(table[time_name]))
    empty = pc.equal(lengths, 0)
    if not pc.any(empty).as_py():
        return None
    mask = empty
    for name in others:
        column = table[name]
        mask = pc.and_(
            mask,
            pc.is_null(column)
            if column.type != pa.string()
            else pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(column)), 0),
        )
    return np.asarray(mask.to_numpy(zero_copy_only=False), dtype=np.bool_)


def to_utc(clock: WallClock, local_ns: I64, where: Location, role: str) -> I64:
    """``clock.to_utc`` reporting a time that does not exist (spring forward) at its line."""

    def fail(row: int, problem: str) -> NoReturn:
        where.fail(
            row,
            role,
            problem,
            hint="Check --tz (the times may be in another zone, or already UTC), or fix the line",
        )

    return clock.to_utc(local_ns, fail)


def _timestamps(
    table: pa.Table, names: dict[str, str], plan: CsvPlan, where: Location, clock: WallClock
) -> I64:
    if plan.time_layout is None:
        ts, bad = parse_epoch(table[names["time"]], plan.epoch_multiplier or 1)
        if bad >= 0:
            _bad_time(table, names["time"], "time", bad, "epoch seconds/ms/µs/ns", where)
        return ts
    role = "date" if "date" in plan.roles else "time"
    parsed = parse_timestamps(table[names[role]], plan.time_layout)
    if parsed.bad_row >= 0:
        _bad_time(table, names[role], role, parsed.bad_row, plan.time_layout.pattern, where)
    if parsed.mixed_row >= 0:
        where.fail(
            parsed.mixed_row,
            role,
            "some timestamps carry a UTC offset and others do not",
            hint="Write all timestamps the same way",
        )
    ts = parsed.ns
    if "clock" in plan.roles:
        time_of_day = parse_timestamps(table[names["clock"]], TIME_OF_DAY)
        if time_of_day.bad_row >= 0:
            _bad_time(
                table, names["clock"], "clock", time_of_day.bad_row, TIME_OF_DAY.pattern, where
            )
        ts = ts + time_of_day.ns
    if not parsed.zoned:
        ts = to_utc(clock, ts, where, role)
    return ts


def _bad_time(
    table: pa.Table, name: str, role: str, row: int, pattern: str, where: Location
) -> NoReturn:
    value = str(table[name][row].as_py())
    where.fail(
        row,
        role,
        f"cannot parse timestamp '{value}' (expected {pattern})"
        if value.strip()
        else "the timestamp is empty",
        hint="Fix or remove the line",
    )


def _diagnose(path: Path, block: bytes, first_line: int, plan: CsvPlan, reason: str) -> NoReturn:
    """Find the first line of ``block`` Arrow could not read and say exactly what is wrong."""
    expected = len(plan.column_names)
    pieces = block.split(b"\n")
    for offset, piece in enumerate(pieces):
        line = first_line + offset
        if offset == len(pieces) - 1 and not piece:
            break
        try:
            text = piece.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError:
            raise DataFormatError(
                path,
                "the line is not UTF-8 text (binary garbage?)",
                line=line,
                hint="Remove the line or export the file again",
            ) from None
        if "\r" in text:
            raise DataFormatError(
                path,
                "a bare carriage return inside the line (mixed line endings)",
                line=line,
                hint="Convert the line endings to LF or CRLF",
            )
        if not text.strip():
            continue
        try:
            fields = next(csv.reader([text], delimiter=plan.delimiter), [])
        except csv.Error as error:
            raise DataFormatError(
                path, f"the line cannot be split ({error})", line=line, hint="Fix the line"
            ) from error
        is_last = offset == len(pieces) - 1 or (
            offset == len(pieces) - 2 and not pieces[-1].strip()
        )
        if len(fields) != expected:
            raise wrong_width(path, fields, text, line, plan.column_names, plan.delimiter, is_last)
        for index in plan.numeric:
            value = fields[index]
            if value.strip() and not _NUMBER.match(value):
                raise DataFormatError(
                    path,
                    f"cannot parse '{value}' as a number",
                    line=line,
                    column=plan.column_names[index],
                    hint="Fix or remove the line",
                )
    raise DataFormatError(
        path,
        f"the data could not be read ({reason})",
        line=first_line,
        hint="Check the lines from here on",
    )
