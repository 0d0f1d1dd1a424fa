"""Timestamp text → int64 ns, compiled: one flexible template parser over Arrow string buffers.

A *layout* fixes the date order and separator (``2019-02-04``, ``04.02.2019``, ``20190204``,
``2019.02.04``); the time part (``HH:MM[:SS[.f…]]`` or compact ``HHMMSS[f…]``) and an optional
zone (``Z``, ``+02:00``, ``-0500``) are recognised per value. Naive values are wall-clock times of a
zone, converted to UTC vectorised (:func:`local_to_utc`) with daylight saving handled.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from numba import njit

from backtestr.model.arrays import I64

__all__ = [
    "LAYOUTS",
    "DateLayout",
    "WallClock",
    "Zone",
    "local_to_utc",
    "parse_epoch",
    "parse_timestamps",
]

U8 = npt.NDArray[np.uint8]
NS_PER_SECOND = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_SECOND

# date orders understood by the compiled parser
_YMD = 0
_DMY = 1
_COMPACT = 2  # YYYYMMDD
_TIME_ONLY = 3  # HH:MM[:SS[.fff]] alone (MetaTrader's separate <TIME> column)


@dataclass(frozen=True, slots=True)
class DateLayout:
    """How the date part of a timestamp is written; ``pattern`` is shown to users in errors."""

    name: str
    order: int
    separator: int  # byte value, 0 for none
    pattern: str


LAYOUTS: tuple[DateLayout, ...] = (
    DateLayout("iso", _YMD, ord("-"), "YYYY-MM-DD[ HH:MM[:SS[.fff]]][Z|±HH:MM]"),
    DateLayout("ymd-dot", _YMD, ord("."), "YYYY.MM.DD[ HH:MM[:SS[.fff]]]"),
    DateLayout("ymd-slash", _YMD, ord("/"), "YYYY/MM/DD[ HH:MM[:SS[.fff]]]"),
    DateLayout("dmy-dot", _DMY, ord("."), "DD.MM.YYYY[ HH:MM[:SS[.fff]]]"),
    DateLayout("dmy-slash", _DMY, ord("/"), "DD/MM/YYYY[ HH:MM[:SS[.fff]]]"),
    DateLayout("compact", _COMPACT, 0, "YYYYMMDD[ HHMMSS[fff]]"),
)
TIME_OF_DAY = DateLayout("time", _TIME_ONLY, 0, "HH:MM[:SS[.fff]]")


@njit(cache=True)
def _days_from_civil(y: int, m: int, d: int) -> int:  # pragma: no cover - compiled
    # Howard Hinnant's algorithm: proleptic Gregorian date -> days since 1970-01-01
    y -= 1 if m <= 2 else 0
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    mp = m - 3 if m > 2 else m + 9
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


@njit(cache=True)
def _digits(data: npt.NDArray[np.uint8], p: int, e: int, count: int) -> int:  # pragma: no cover
    """Value of exactly ``count`` ASCII digits at ``p``, or -1."""
    if p + count > e:
        return -1
    v = 0
    for k in range(p, p + count):
        c = data[k] - 48
        if c < 0 or c > 9:
            return -1
        v = v * 10 + c
    return v


@njit(cache=True)
def _month_days(y: int, m: int) -> int:  # pragma: no cover - compiled
    if m == 2:
        leap = (y % 4 == 0 and y % 100 != 0) or y % 400 == 0
        return 29 if leap else 28
    if m in (4, 6, 9, 11):
        return 30
    return 31


@njit(cache=True)
def _parse_one(data, s, e, order, sep):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Parse ``data[s:e]``; returns (ns, status) with status 0 naive, 1 zoned, -1 invalid."""
    while s < e and data[s] == 32:
        s += 1
    while e > s and data[e - 1] == 32:
        e -= 1
    p = s
    days = 0
    if order != _TIME_ONLY:
        if order == _YMD:
            y = _digits(data, p, e, 4)
            if y < 0 or p + 4 >= e or data[p + 4] != sep:
                return 0, -1
            m = _digits(data, p + 5, e, 2)
            if m < 0 or p + 7 >= e or data[p + 7] != sep:
                return 0, -1
            d = _digits(data, p + 8, e, 2)
            p += 10
        elif order == _DMY:
            d = _digits(data, p, e, 2)
            if d < 0 or p + 2 >= e or data[p + 2] != sep:
                return 0, -1
            m = _digits(data, p + 3, e, 2)
            if m < 0 or p + 5 >= e or data[p + 5] != sep:
                return 0, -1
            y = _digits(data, p + 6, e, 4)
            p += 10
        else:
            y = _digits(data, p, e, 4)
            m = _digits(data, p + 4, e, 2)
            d = _digits(data, p + 6, e, 2)
            p += 8
        if y < 0 or m < 1 or m > 12 or d < 1 or d > _month_days(y, m):
            return 0, -1
        days = _days_from_civil(y, m, d)
        if p == e:
            return days * 86_400_000_000_000, 0
        c = data[p]
        if c != 32 and c != 84:  # ' ' or 'T'
            return 0, -1
        p += 1
    hh = _digits(data, p, e, 2)
    if hh < 0 or hh > 23:
        return 0, -1
    p += 2
    colon = p < e and data[p] == 58
    if colon:
        p += 1
    mm = _digits(data, p, e, 2)
    if mm < 0 or mm > 59:
        return 0, -1
    p += 2
    ss = 0
    if colon:
        if p < e and data[p] == 58:
            ss = _digits(data, p + 1, e, 2)
            p += 3
    else:
        if p + 1 < e and 48 <= data[p] <= 57:
            ss = _digits(data, p, e, 2)
            p += 2
    if ss < 0 or ss > 59:
        return 0, -1
    frac = 0
    scale = 1_000_000_000
    explicit = p < e and (data[p] == 46 or data[p] == 44)  # '.' or ','
    if explicit or (not colon and p < e and 48 <= data[p] <= 57):
        if explicit:
            p += 1
        count = 0
        while p < e and 48 <= data[p] <= 57:
            if count >= 9:
                return 0, -1
            frac = frac * 10 + (data[p] - 48)
            scale //= 10
            count += 1
            p += 1
        if count == 0:
            return 0, -1
        frac *= scale
    ns = (days * 86_400 + hh * 3600 + mm * 60 + ss) * 1_000_000_000 + frac
    if p == e:
        return ns, 0
    c = data[p]
    if c == 90 and p + 1 == e:  # 'Z'
        return ns, 1
    if c != 43 and c != 45:  # '+' '-'
        return 0, -1
    sign = 1 if c == 43 else -1
    oh = _digits(data, p + 1, e, 2)
    p += 3
    om = 0
    if p < e:
        if data[p] == 58:
            p += 1
        om = _digits(data, p, e, 2)
        p += 2
    if oh < 0 or oh > 23 or om < 0 or om > 59 or p != e:
        return 0, -1
    return ns - sign * (oh * 3600 + om * 60) * 1_000_000_000, 1


@njit(cache=True)
def _parse_column(data, offsets, order, sep, out):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Fill ``out``; return (first invalid row or -1, first row whose zone-ness differs or -1,
    whether row 0 carried a zone)."""
    n = out.shape[0]
    zoned0 = -1
    mixed = -1
    for i in range(n):
        v, status = _parse_one(data, offsets[i], offsets[i + 1], order, sep)
        if status < 0:
            return i, mixed, zoned0 == 1
        if zoned0 < 0:
            zoned0 = status
        elif status != zoned0 and mixed < 0:
            mixed = i
        out[i] = v
    return -1, mixed, zoned0 == 1


@njit(cache=True)
def _parse_epoch_column(data, offsets, multiplier, out):  # type: ignore[no-untyped-def]  # pragma: no cover
    n = out.shape[0]
    for i in range(n):
        s = offsets[i]
        e = offsets[i + 1]
        while s < e and data[s] == 32:
            s += 1
        while e > s and data[e - 1] == 32:
            e -= 1
        if s == e or e - s > 19:
            return i
        v = 0
        frac = 0
        scale = multiplier
        seen_dot = False
        for k in range(s, e):
            c = data[k]
            if c == 46 and not seen_dot:
                seen_dot = True
                continue
            c -= 48
            if c < 0 or c > 9:
                return i
            if seen_dot:
                scale //= 10
                frac += c * scale
            else:
                v = v * 10 + c
        out[i] = v * multiplier + frac
    return -1


def _buffers(column: pa.Array | pa.ChunkedArray) -> tuple[U8, I64]:
    """Data bytes and row offsets of an Arrow string array (any chunking, any slice offset)."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    array = array.cast(pa.large_string()) if array.type != pa.large_string() else array
    _, offsets_buffer, data_buffer = array.buffers()
    n = len(array)
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[array.offset : array.offset + n + 1]
    if data_buffer is None:
        return np.zeros(1, dtype=np.uint8), offsets
    return np.frombuffer(data_buffer, dtype=np.uint8), offsets


@dataclass(frozen=True, slots=True)
class ParsedTimes:
    """Result of parsing one column: values, first bad row (-1), first mixed-zone row (-1)."""

    ns: I64
    bad_row: int
    mixed_row: int
    zoned: bool


def parse_timestamps(column: pa.Array | pa.ChunkedArray, layout: DateLayout) -> ParsedTimes:
    """Parse an Arrow string column with ``layout``; naive values stay wall-clock ns."""
    data, offsets = _buffers(column)
    out = np.empty(len(offsets) - 1, dtype=np.int64)
    bad, mixed, zoned = _parse_column(data, offsets, layout.order, layout.separator, out)
    return ParsedTimes(out, int(bad), int(mixed), bool(zoned))


def epoch_multiplier(first_value: str) -> int:
    """Unit of an epoch timestamp from its magnitude: s, ms, µs or ns since 1970 (as ns factor)."""
    digits = len(first_value.strip().split(".")[0].lstrip("-"))
    if digits <= 11:
        return NS_PER_SECOND
    if digits <= 14:
        return 1_000_000
    if digits <= 17:
        return 1_000
    return 1


def parse_epoch(column: pa.Array | pa.ChunkedArray, multiplier: int) -> tuple[I64, int]:
    """Parse epoch numbers (with optional fraction) into ns; returns (values, first bad row)."""
    data, offsets = _buffers(column)
    out = np.empty(len(offsets) - 1, dtype=np.int64)
    bad = _parse_epoch_column(data, offsets, multiplier, out)
    return out, int(bad)


@dataclass(frozen=True, slots=True)
class Zone:
    """The zone naive timestamps are written in: a fixed offset or an IANA zone with DST."""

    label: str
    fixed_offset_ns: int | None = None
    iana: str | None = None

    @classmethod
    def utc(cls) -> Zone:
        return cls("UTC", fixed_offset_ns=0)

    @classmethod
    def fixed(cls, label: str, hours: int) -> Zone:
        return cls(label, fixed_offset_ns=hours * 3600 * NS_PER_SECOND)


def _offset_ns(zone: ZoneInfo, ts_s: int) -> int:
    offset = dt.datetime.fromtimestamp(ts_s, zone).utcoffset()
    return 0 if offset is None else int(offset.total_seconds()) * NS_PER_SECOND


def _transitions(zone: ZoneInfo, start_s: int, end_s: int) -> tuple[I64, I64]:
    """UTC instants where the offset changes in [start, end] (first entry = start) and offsets."""
    day = 86_400
    instants = [start_s]
    offsets = [_offset_ns(zone, start_s)]
    t = start_s
    while t < end_s:
        nxt = min(t + day, end_s)
        off = _offset_ns(zone, nxt)
        if off != offsets[-1]:
            lo, hi = t, nxt  # offset(lo) == previous, offset(hi) == new: bisect to the second
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset_ns(zone, mid) == offsets[-1]:
                    lo = mid
                else:
                    hi = mid
            instants.append(hi)
            offsets.append(off)
        t = nxt
    return np.asarray(instants, dtype=np.int64) * NS_PER_SECOND, np.asarray(offsets, np.int64)


class WallClock:
    """Converts a file's naive wall-clock times to UTC ns, chunk after chunk, in file order.

    Times repeated when the clocks go back (autumn) are resolved by the file's order: a row takes
    the first occurrence until the times step back inside the repeated span, and the second
    occurrence from there until the span is left, so an ordered file stays ordered in UTC. With
    ``ties_repeat`` (bar files, whose timestamps are unique) a repeated timestamp counts as a
    step back too; ticks may share a timestamp, so for them only a strict step back does. The
    state carries across chunks. Times skipped when the clocks go forward (spring) do not exist:
    ``fail(row, problem)`` is called for the first one.
    """

    def __init__(self, zone: Zone, *, ties_repeat: bool = False) -> None:
        self.zone = zone
        self.ties_repeat = ties_repeat
        self._last_local: int | None = None
        self._last_window = _NO_WINDOW  # transition instant of the previous row's repeated span
        self._last_second = False  # the previous row took the second occurrence

    def to_utc(self, local_ns: I64, fail: Callable[[int, str], NoReturn] | None = None) -> I64:
        """UTC ns of ``local_ns``, the next rows of the file."""
        zone = self.zone
        if zone.fixed_offset_ns is not None:
            return local_ns - zone.fixed_offset_ns if zone.fixed_offset_ns else local_ns
        n = len(local_ns)
        if n == 0:
            return local_ns
        info = ZoneInfo(zone.iana or "UTC")
        low, high = int(local_ns.min()), int(local_ns.max())
        if self._last_local is not None:
            low, high = min(low, self._last_local), max(high, self._last_local)
        instants, offsets = _transitions(
            info, low // NS_PER_SECOND - 2 * 86_400, high // NS_PER_SECOND + 2 * 86_400
        )
        local_starts = instants + offsets
        local_starts[0] = np.iinfo(np.int64).min
        index = np.searchsorted(local_starts, local_ns, side="right") - 1
        utc = local_ns - offsets[index]
        if len(instants) == 1:
            self._remember(local_ns, np.full(n, _NO_WINDOW), False)
            return utc
        following = np.minimum(index + 1, len(instants) - 1)
        skipped = (index + 1 < len(instants)) & (local_ns >= instants[following] + offsets[index])
        if skipped.any():
            row = int(np.argmax(skipped))
            k = int(following[row])
            problem = (
                f"{_text(int(local_ns[row]))} does not exist in {zone.iana}: the clocks jumped "
                f"from {_text(int(instants[k] + offsets[k - 1]))} to "
                f"{_text(int(instants[k] + offsets[k]))}"
            )
            if fail is not None:
                fail(row, problem)
            raise ValueError(problem)
        previous = np.maximum(index - 1, 0)
        repeated = (index > 0) & (local_ns < instants[index] + offsets[previous])
        if not repeated.any():
            self._remember(local_ns, np.full(n, _NO_WINDOW), False)
            return utc
        window = np.where(repeated, instants[index], _NO_WINDOW)
        before_window = np.concatenate(([self._last_window], window[:-1]))
        before_local = np.concatenate(([self._last_local or 0], local_ns[:-1]))
        same_span = repeated & (window == before_window)
        if self.ties_repeat:
            back = same_span & (local_ns <= before_local)
        else:
            back = same_span & (local_ns < before_local)
        back[0] |= bool(same_span[0]) and self._last_second
        rows = np.arange(n)
        last_back = np.maximum.accumulate(np.where(back, rows, -1))
        last_start = np.maximum.accumulate(np.where(repeated & ~same_span, rows, -1))
        second = repeated & (last_back > last_start)
        utc = np.where(repeated & ~second, local_ns - offsets[previous], utc)
        self._remember(local_ns, window, bool(second[-1]))
        return utc

    def _remember(self, local_ns: I64, window: I64, second: bool) -> None:
        self._last_local = int(local_ns[-1])
        self._last_window = int(window[-1])
        self._last_second = second


_NO_WINDOW = np.iinfo(np.int64).min


def _text(ns: int) -> str:
    text = str(np.datetime64(ns, "ns")).replace("T", " ")
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return text[:-3] if text.endswith(":00") and text.count(":") == 2 else text


def local_to_utc(local_ns: I64, zone: Zone) -> I64:
    """Convert wall-clock ns of ``zone`` to UTC ns, vectorised, as one ordered run of rows.

    See :class:`WallClock` for repeated times; a time that does not exist raises ValueError.
    """
    return WallClock(zone).to_utc(local_ns)
