"""A compiled single-pass tokenizer for plain delimited lines: the fast path of the CSV reader.

It handles what real market-data files hold — unquoted fields, decimal numbers, empty fields,
LF or CRLF — and gives up (returns the failing row) on anything else: quotes, exponents, ``nan``,
long mantissas, blank lines, a wrong field count, a bad timestamp. The caller then re-reads the
block with Arrow, which handles the general case and the precise diagnostics, so the fast path
never decides what is an error. Numbers are exact: a mantissa below 2**53 divided by a power of
ten up to 1e22 is correctly rounded, as ``strtod`` would do.

The kernel runs single-threaded and releases the GIL, so the caller may overlap it with other
work (decompression, writing the previous chunk).
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt
from numba import njit

from backtestr.data.sources._timestamps import _parse_one
from backtestr.model.arrays import I64

__all__ = [
    "KIND_CLOCK",
    "KIND_DATE",
    "KIND_NUMBER",
    "KIND_SKIP",
    "KIND_TIME",
    "count_lines",
    "parse_block",
]

KIND_SKIP = 0
KIND_TIME = 1
KIND_NUMBER = 2
KIND_DATE = 3  # date part of a split date/time (MetaTrader)
KIND_CLOCK = 4  # time-of-day part

_POW10 = np.array([10.0**k for k in range(23)])
_HEAD_BYTES = 64 << 10
_MIN_PIECE = 1 << 20


@njit(cache=True, nogil=True)
def _count_lines(data, start, end):  # type: ignore[no-untyped-def]  # pragma: no cover
    count = 0
    for k in range(start, end):
        count += data[k] == 10  # branch-free, so LLVM vectorises it
    if end > start and data[end - 1] != 10:
        count += 1
    return count


@njit(cache=True, nogil=True)
def _parse_segment(  # type: ignore[no-untyped-def]  # pragma: no cover
    data, start, end, delimiter, kinds, order, separator, ts_out, values_out, row0, limit, pow10
):
    """Parse lines in ``data[start:end]`` into rows ``row0 … limit - 1``, in one pass.

    Returns (rows parsed, failed row, -2 when out of room, or -1, zoned flag: -1 none yet,
    0 naive, 1 zoned).
    """
    ncols = kinds.shape[0]
    row = row0
    p = start
    zoned = -1
    while p < end:
        if row >= limit:
            return row - row0, -2, zoned
        number = 0
        clock = 0
        ts = 0
        for column in range(ncols):
            kind = kinds[column]
            s = p
            if kind == 2:  # a decimal number, parsed while scanning
                negative = False
                if p < end and (data[p] == 45 or data[p] == 43):
                    negative = data[p] == 45
                    p += 1
                mantissa = 0
                digits = 0
                fraction = 0
                dot = False
                any_digit = False
                while p < end:
                    c = data[p]
                    if c == delimiter or c == 10 or c == 13:
                        break
                    if c == 46 and not dot:
                        dot = True
                    else:
                        d = c - 48
                        if d < 0 or d > 9:
                            return row - row0, row, zoned
                        any_digit = True
                        if digits > 0 or d != 0:
                            digits += 1
                        mantissa = mantissa * 10 + d
                        if dot:
                            fraction += 1
                    p += 1
                if p == s:
                    values_out[number, row] = np.nan  # empty field: a missing value
                else:
                    if not any_digit or digits > 15 or fraction > 22:
                        return row - row0, row, zoned
                    value = mantissa / pow10[fraction]
                    values_out[number, row] = -value if negative else value
                number += 1
            else:
                while p < end:
                    c = data[p]
                    if c == delimiter or c == 10 or c == 13:
                        break
                    if c == 34:  # a quote: leave it to Arrow
                        return row - row0, row, zoned
                    p += 1
                if kind == 1 or kind == 3:
                    v, status = _parse_one(data, s, p, order, separator)
                    if status < 0 or p == s:
                        return row - row0, row, zoned
                    if zoned < 0:
                        zoned = status
                    elif status != zoned:
                        return row - row0, row, zoned
                    ts = v
                elif kind == 4:
                    v, status = _parse_one(data, s, p, 3, 0)
                    if status != 0:
                        return row - row0, row, zoned
                    clock = v
            # the field must end as the layout says: a delimiter, or the end of the line
            if column < ncols - 1:
                if p >= end or data[p] != delimiter:
                    return row - row0, row, zoned
                p += 1
            else:
                if p < end and data[p] == 13:
                    p += 1
                if p < end:
                    if data[p] != 10:
                        return row - row0, row, zoned
                    p += 1
        ts_out[row] = ts + clock
        row += 1
    return row - row0, -1, zoned


def count_lines(data: npt.NDArray[np.uint8]) -> int:
    """Physical lines in a block (a last line without a line end counts)."""
    return int(_count_lines(data, 0, len(data)))


def parse_block(
    data: npt.NDArray[np.uint8],
    delimiter: int,
    kinds: npt.NDArray[np.int8],
    order: int,
    separator: int,
    numeric: int,
    threads: int = 1,
) -> tuple[list[tuple[I64, npt.NDArray[np.float64]]], bool, int, list[int]] | None:
    """Parse a whole block of lines; ``None`` when the fast path cannot handle it.

    Returns ([(wall-clock or UTC ns, numeric values [column, row]) per piece of consecutive
    lines], zoned, line count, the byte offset where each piece ends). The output
    is sized from the line length of the block's head (no counting pass); if that estimate is too
    small, the lines are counted and the block parsed again. With ``threads`` > 1 a large block
    is cut at line ends into that many pieces parsed in parallel (the kernel releases the GIL).
    """
    n = len(data)
    if n == 0:
        return None
    cuts = [0]
    for k in range(1, threads if n >= threads * _MIN_PIECE else 1):
        at = k * n // threads
        ends = np.flatnonzero(data[at : at + _MIN_PIECE] == 10)
        if len(ends):
            cuts.append(at + int(ends[0]) + 1)
    cuts.append(n)
    pieces = [(a, b) for a, b in itertools.pairwise(cuts) if b > a]
    head = data[:_HEAD_BYTES]
    per_line = len(head) / max(1, int(np.count_nonzero(head == 10)))
    capacities = [int((b - a) / per_line * 1.25) + 64 for a, b in pieces]
    layout = (delimiter, kinds, order, separator)
    for attempt in range(2):
        ts, values, firsts, results = _parse_pieces(data, pieces, capacities, layout, numeric)
        if any(failed == -2 for _, failed, _ in results) and attempt == 0:
            capacities = [int(_count_lines(data, a, b)) for a, b in pieces]
            continue
        zones = {zoned for _, _, zoned in results if zoned >= 0}
        if any(failed != -1 for _, failed, _ in results) or len(zones) > 1:
            return None
        out = [
            (ts[first : first + parsed], values[:, first : first + parsed])
            for (parsed, _, _), first in zip(results, firsts, strict=True)
        ]
        piece_ends = [int(b) for _, b in pieces]
        return out, zones == {1}, sum(parsed for parsed, _, _ in results), piece_ends
    return None


def _parse_pieces(
    data: npt.NDArray[np.uint8],
    pieces: list[tuple[int, int]],
    capacities: list[int],
    layout: tuple[int, npt.NDArray[np.int8], int, int],
    numeric: int,
) -> tuple[I64, npt.NDArray[np.float64], list[int], list[tuple[int, int, int]]]:
    delimiter, kinds, order, separator = layout
    total = sum(capacities)
    ts = np.empty(total, dtype=np.int64)
    values = np.empty((numeric, total), dtype=np.float64)
    firsts = [sum(capacities[:i]) for i in range(len(pieces))]

    def run(i: int) -> tuple[int, int, int]:
        a, b = pieces[i]
        rows, failed, zoned = _parse_segment(
            data, a, b, delimiter, kinds, order, separator, ts, values,
            firsts[i], firsts[i] + capacities[i], _POW10,
        )  # fmt: skip
        return int(rows), int(failed), int(zoned)

    results = list(_pool().map(run, range(len(pieces)))) if len(pieces) > 1 else [run(0)]
    return ts, values, firsts, results


_POOL: list[ThreadPoolExecutor] = []


def _pool() -> ThreadPoolExecutor:
    """Created on first use, so importing the module starts no threads."""
    if not _POOL:
        _POOL.append(ThreadPoolExecutor(max_workers=4, thread_name_prefix="backtestr-csv"))
    return _POOL[0]
