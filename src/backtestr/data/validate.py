"""Validation of market data, chunk by chunk, vectorised, with exact line numbers.

Every check works on columnar numpy arrays of one chunk and reports the first offending row as a
:class:`~backtestr.errors.DataFormatError` naming the file, the 1-based line (or the Parquet row),
the column and what is wrong. State that spans chunks (the previous timestamp, the previous bar,
gap detection) lives in small trackers so that problems across chunk boundaries are caught too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import numpy as np
import numpy.typing as npt
from numba import njit

from backtestr.errors import DataFormatError
from backtestr.model.arrays import F64, I64
from backtestr.model.instrument import FX_CURRENCIES, is_fx_symbol

__all__ = [
    "GapFinder",
    "Location",
    "OrderTracker",
    "check_bars",
    "check_positive",
    "check_price_level",
    "check_symbol_in_name",
    "check_symbol_values",
    "check_volume",
    "dedupe_bars",
    "format_ns",
]

NS_PER_MINUTE = 60 * 1_000_000_000
NS_PER_HOUR = 60 * NS_PER_MINUTE
NS_PER_DAY = 24 * NS_PER_HOUR
_WEEK_NS = 7 * NS_PER_DAY
# 1970-01-01 was a Thursday; the FX weekend we allow runs Fri 20:00 UTC -> Sun 23:00 UTC, which
# covers the 17:00 New York close and open in both winter and summer time.
_WEEKEND_START = (1 * NS_PER_DAY) + 20 * NS_PER_HOUR  # Friday 20:00, offset from a Thursday 00:00
_WEEKEND_END = (3 * NS_PER_DAY) + 23 * NS_PER_HOUR  # Sunday 23:00
MAX_GAPS = 10_000


@dataclass(frozen=True, slots=True)
class Location:
    """Where the rows of one chunk come from: file, line of each row, display name per role."""

    path: Path
    first_line: int
    columns: dict[str, str]
    explicit_lines: I64 | None = None
    unit: str = "line"  # "row" for Parquet (no lines)

    def line(self, row: int) -> int:
        if self.explicit_lines is not None:
            return int(self.explicit_lines[row])
        return self.first_line + row

    def fail(self, row: int, role: str | None, problem: str, hint: str | None = None) -> NoReturn:
        column = self.columns.get(role, role) if role else None
        if self.unit == "line":
            raise DataFormatError(self.path, problem, line=self.line(row), column=column, hint=hint)
        raise DataFormatError(self.path, problem, row=self.line(row), column=column, hint=hint)


def _first(mask: npt.NDArray[np.bool_]) -> int:
    return int(np.argmax(mask)) if mask.any() else -1


@njit(cache=True, nogil=True)
def _first_outside(values, low, allow_low):  # type: ignore[no-untyped-def]  # pragma: no cover
    """First index not in (low, inf) — or [low, inf) with ``allow_low`` — else -1; NaN is out.

    The first loop has no early exit so that it vectorises; the slow search runs only on a hit.
    """
    bad = False
    for i in range(values.shape[0]):
        v = values[i]
        bad |= (v < low) | (v == np.inf) | (v != v) | ((v == low) & (not allow_low))
    if not bad:
        return -1
    for i in range(values.shape[0]):
        v = values[i]
        if v < low or v == np.inf or v != v or (v == low and not allow_low):
            return i
    return -1


@njit(cache=True, nogil=True)
def _first_step_back(ts):  # type: ignore[no-untyped-def]  # pragma: no cover
    back = False
    for i in range(1, ts.shape[0]):  # vectorisable scan first, the search only on a hit
        back |= ts[i] < ts[i - 1]
    if not back:
        return -1
    for i in range(1, ts.shape[0]):
        if ts[i] < ts[i - 1]:
            return i - 1
    return -1


@njit(cache=True, nogil=True)
def _long_steps(ts, threshold):  # type: ignore[no-untyped-def]  # pragma: no cover
    count = 0
    for i in range(1, ts.shape[0]):
        if ts[i] - ts[i - 1] > threshold:
            count += 1
    out = np.empty(count, dtype=np.int64)
    k = 0
    for i in range(1, ts.shape[0]):
        if ts[i] - ts[i - 1] > threshold:
            out[k] = i - 1
            k += 1
    return out


def _describe(value: float) -> str:
    if np.isnan(value):
        return "is empty or NaN"
    if np.isinf(value):
        return f"is {value}"
    return f"{value:g} is zero or negative" if value <= 0 else f"{value:g}"


def check_positive(values: F64, role: str, where: Location) -> None:
    """Prices must be finite and above zero."""
    bad = int(_first_outside(values, 0.0, False))
    if bad >= 0:
        where.fail(
            bad,
            role,
            f"{where.columns.get(role, role)} {_describe(float(values[bad]))}",
            hint="Prices must be positive numbers; fix or remove the line",
        )


def check_volume(values: F64, role: str, where: Location) -> None:
    """Volumes must be finite and not negative (missing volume is an error, write 0)."""
    bad = int(_first_outside(values, 0.0, True))
    if bad >= 0:
        value = float(values[bad])
        text = "is empty or NaN" if np.isnan(value) else f"{value:g} is negative or infinite"
        where.fail(
            bad,
            role,
            f"{where.columns.get(role, role)} {text}",
            hint="Volumes must be numbers ≥ 0",
        )


def check_bars(
    open_: F64, high: F64, low: F64, close: F64, where: Location, prefix: str = ""
) -> None:
    """OHLC consistency: positive prices, ``low ≤ high``, open and close within [low, high]."""
    for role, values in (("open", open_), ("high", high), ("low", low), ("close", close)):
        check_positive(values, prefix + role, where)
    bad = _first(high < low)
    if bad >= 0:
        where.fail(
            bad,
            prefix + "high",
            f"high {high[bad]:g} is below low {low[bad]:g}",
            hint="Check the column order (open, high, low, close) or fix the bar",
        )
    for role, values in (("open", open_), ("close", close)):
        bad = _first((values > high) | (values < low))
        if bad >= 0:
            where.fail(
                bad,
                prefix + role,
                f"{role} {values[bad]:g} is outside the bar's range "
                f"[low {low[bad]:g}, high {high[bad]:g}]",
                hint="Check the column order (open, high, low, close) or fix the bar",
            )


@dataclass(slots=True)
class OrderTracker:
    """Checks that timestamps never go backwards, within and across chunks."""

    last_ns: int | None = None
    last_line: int = 0

    def check(self, ts: I64, where: Location) -> None:
        if len(ts) == 0:
            return
        if self.last_ns is not None and ts[0] < self.last_ns:
            where.fail(
                0,
                "time",
                f"timestamp {format_ns(int(ts[0]))} UTC goes back in time (the previous "
                f"{where.unit}, {self.last_line}, is at {format_ns(self.last_ns)} UTC)",
                hint="Sort the file by time",
            )
        back = int(_first_step_back(ts))
        if back >= 0:
            where.fail(
                back + 1,
                "time",
                f"timestamp {format_ns(int(ts[back + 1]))} UTC goes back in time (the previous "
                f"{where.unit}, {where.line(back)}, is at {format_ns(int(ts[back]))} UTC)",
                hint="Sort the file by time",
            )
        self.last_ns = int(ts[-1])
        self.last_line = where.line(len(ts) - 1)


@dataclass(slots=True)
class _PreviousBar:
    ts_ns: int
    values: tuple[float, ...]
    line: int


@dataclass(slots=True)
class BarDeduper:
    """Identical bars sharing a timestamp are dropped and counted; conflicting ones are errors."""

    previous: _PreviousBar | None = None
    dropped: int = 0

    def keep_mask(
        self, ts: I64, columns: list[F64], where: Location
    ) -> npt.NDArray[np.bool_] | None:
        """Mask of rows to keep (``None`` when all are kept). Timestamps must be sorted."""
        n = len(ts)
        if n == 0:
            return None
        same = np.zeros(n, dtype=np.bool_)
        same[1:] = ts[1:] == ts[:-1]
        first_same = self.previous is not None and int(ts[0]) == self.previous.ts_ns
        same[0] = first_same
        keep: npt.NDArray[np.bool_] | None = None
        if same.any():
            rows = np.flatnonzero(same)
            stacked = np.stack(columns) if columns else np.empty((0, n))
            for row in rows:  # duplicates are rare: a Python loop over them is fine
                if row == 0 and self.previous is not None:
                    other, other_line = self.previous.values, self.previous.line
                else:
                    other = tuple(float(x) for x in stacked[:, row - 1])
                    other_line = where.line(int(row) - 1)
                mine = tuple(float(x) for x in stacked[:, row])
                if not _same_values(mine, other):
                    where.fail(
                        int(row),
                        "time",
                        f"two different bars share timestamp {format_ns(int(ts[row]))} UTC "
                        f"({where.unit}s {other_line} and {where.line(int(row))})",
                        hint="Remove one of the two bars",
                    )
            keep = ~same
            self.dropped += int(same.sum())
        last = n - 1
        self.previous = _PreviousBar(
            int(ts[last]), tuple(float(c[last]) for c in columns), where.line(last)
        )
        return keep


def _same_values(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return all(x == y or (np.isnan(x) and np.isnan(y)) for x, y in zip(a, b, strict=True))


def dedupe_bars(
    ts: I64, columns: list[F64], where: Location, deduper: BarDeduper
) -> npt.NDArray[np.bool_] | None:
    """Functional face of :class:`BarDeduper` (kept for symmetry with the other checks)."""
    return deduper.keep_mask(ts, columns, where)


def _weekend_overlap(start: int, end: int) -> int:
    """Nanoseconds of [start, end) that fall inside FX weekends (Fri 20:00 → Sun 23:00 UTC)."""
    week0 = (start // _WEEK_NS) * _WEEK_NS  # a Thursday 00:00 UTC
    total = 0
    origin = week0 - _WEEK_NS
    while origin < end:
        a = max(start, origin + _WEEKEND_START)
        b = min(end, origin + _WEEKEND_END)
        if b > a:
            total += b - a
        origin += _WEEK_NS
    return total


@dataclass(slots=True)
class GapFinder:
    """Finds silences longer than ``threshold_ns`` not explained by the FX weekend.

    A silence between two consecutive timestamps counts as a gap when the part of it outside the
    weekend window (Friday 20:00 → Sunday 23:00 UTC) is longer than the threshold. At most
    ``MAX_GAPS`` gaps are kept, so memory stays bounded.
    """

    threshold_ns: int
    last_ns: int | None = None
    gaps: list[tuple[int, int]] = field(default_factory=list)

    def feed(self, ts: I64) -> None:
        if len(ts) == 0:
            return
        steps = [(self.last_ns, int(ts[0]))] if self.last_ns is not None else []
        steps += [(int(ts[i]), int(ts[i + 1])) for i in _long_steps(ts, self.threshold_ns)]
        for start, end in steps:
            if end - start - _weekend_overlap(start, end) > self.threshold_ns:
                if len(self.gaps) >= MAX_GAPS:
                    break
                self.gaps.append((start, end))
        self.last_ns = int(ts[-1])


def format_ns(ns: int) -> str:
    """UTC text for messages, e.g. ``2019-02-04 00:00:00.994``."""
    text = str(np.datetime64(int(ns), "ns")).replace("T", " ")
    return text.rstrip("0").rstrip(".") if "." in text else text


_UNIT_PRICED = frozenset({"EUR", "USD", "GBP", "CHF", "AUD", "NZD", "CAD"})


def _fx_tokens(name: str) -> list[str]:
    words = re.findall(r"[A-Za-z]+", name)
    return [
        w.upper()
        for w in words
        if len(w) == 6 and w[:3].upper() in FX_CURRENCIES and w[3:].upper() in FX_CURRENCIES
    ]


def check_symbol_in_name(path: Path, symbol: str) -> None:
    """Reject a file whose name names another FX pair (``GBPUSD_M1.csv`` imported as EURUSD)."""
    tokens = _fx_tokens(path.name)
    wanted = re.sub(r"[^A-Z0-9]", "", symbol.upper())
    if tokens and wanted not in tokens:
        raise DataFormatError(
            path,
            f"the file name says {tokens[0]} but the symbol is {symbol}",
            hint=f"Import it with --symbol {tokens[0]}, or rename the file if the name is wrong",
        )


def check_symbol_values(values: list[str], symbol: str, where: Location, rows: list[int]) -> None:
    """A symbol column must name the symbol (a broker suffix such as ``EURUSDm`` is accepted)."""
    wanted = re.sub(r"[^A-Z0-9]", "", symbol.upper())
    for value, row in zip(values, rows, strict=True):
        got = re.sub(r"[^A-Z0-9]", "", value.upper())
        if got and not (got.startswith(wanted) or wanted.startswith(got)):
            where.fail(
                row,
                "symbol",
                f"the file holds {value.strip()} but the symbol is {symbol}",
                hint=f"Import it with --symbol {value.strip()}",
            )


def check_price_level(prices: F64, symbol: str, where: Location, role: str) -> None:
    """Catch an obviously wrong pair by price magnitude; only for pairs whose range is certain.

    JPY-quoted pairs of the majors trade well above 20; pairs of the majors among themselves
    (EURUSD, GBPUSD, AUDNZD …) well below 20. Anything else is not checked.
    """
    head = prices[:10_000]  # the level of the first rows is enough
    finite = head[np.isfinite(head)]
    if len(finite) == 0 or not is_fx_symbol(symbol.upper()):
        return
    base, quote = symbol.upper()[:3], symbol.upper()[3:]
    level = float(np.median(finite))
    if base in _UNIT_PRICED and quote == "JPY" and level < 20:
        problem = f"prices around {level:g} look like a non-JPY pair, but the symbol is {symbol}"
    elif base in _UNIT_PRICED and quote in _UNIT_PRICED and level > 20:
        problem = f"prices around {level:g} look like a JPY pair, but the symbol is {symbol}"
    else:
        return
    where.fail(0, role, problem, hint="Check --symbol")
