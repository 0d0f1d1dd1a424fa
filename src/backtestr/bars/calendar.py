"""Where bars open: epoch-aligned intraday periods and trading-day based D/W/MN periods.

Intraday timeframes (``S``, ``M``, ``H``) are multiples of their length since the Unix epoch in
UTC, so a label is one integer floor. Daily and larger periods follow a :class:`TradingDay`, whose
start moves with the time zone's daylight saving; their open times are computed here in Python
(via :mod:`zoneinfo`) as a sorted array of UTC boundaries that the numba kernels walk with a moving
pointer instead of doing any time-zone work per tick.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from backtestr.model import Timeframe, TimeUnit, TradingDay
from backtestr.model.arrays import I64

__all__ = ["bar_open_times", "period_starts"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MICROSECOND = timedelta(microseconds=1)
_ONE_DAY = timedelta(days=1)


def _utc_date(ts_ns: int) -> date:
    return (_EPOCH + timedelta(microseconds=ts_ns // 1000)).date()


def _day_start_ns(trading_date: date, trading_day: TradingDay, zone: ZoneInfo) -> int:
    """UTC nanoseconds at which the trading day dated ``trading_date`` begins."""
    wall_date = trading_date - _ONE_DAY if trading_day.starts_previous_evening else trading_date
    start = datetime.combine(wall_date, trading_day.start, tzinfo=zone)
    return ((start - _EPOCH) // _ONE_MICROSECOND) * 1000


def _period_key(trading_date: date, timeframe: Timeframe) -> int:
    """An integer that changes exactly when a new period of ``timeframe`` begins."""
    count = timeframe.count
    if timeframe.unit is TimeUnit.DAY:
        return trading_date.toordinal() // count
    if timeframe.unit is TimeUnit.WEEK:
        # ordinal 1 (0001-01-01) is a Monday, so weeks counted from it start on Mondays
        return ((trading_date.toordinal() - 1) // 7) // count
    return (trading_date.year * 12 + trading_date.month - 1) // count


def period_starts(timeframe: Timeframe, trading_day: TradingDay, start_ns: int, end_ns: int) -> I64:
    """Open times of the D/W/MN periods covering ``[start_ns, end_ns]``, plus the next one.

    Parameters
    ----------
    timeframe
        A daily, weekly or monthly timeframe (any count: ``D1``, ``W1``, ``MN1``, ``MN3`` …).
    trading_day
        When trading days start; weeks begin with Monday's trading day, months with the trading
        day dated the 1st.
    start_ns, end_ns
        The UTC range (nanoseconds) to cover.

    Returns
    -------
    I64
        Sorted UTC nanoseconds ``b`` with ``b[0] <= start_ns`` and ``b[-1] > end_ns``: the period
        containing ``t`` is ``[b[i], b[i + 1])`` for ``b[i] <= t < b[i + 1]``.

    Examples
    --------
    >>> from backtestr.model import Timeframe, TradingDay
    >>> b = period_starts(Timeframe.parse("D1"), TradingDay.fx(), 1552003200 * 10**9,
    ...                   1552348800 * 10**9)  # 2019-03-08 .. 2019-03-12 UTC, US DST on 03-10
    >>> [int(x // 10**9 % 86400 // 3600) for x in b]
    [22, 22, 22, 21, 21, 21]
    """
    if timeframe.is_intraday:
        raise ValueError(f"{timeframe} is intraday: its bars align to the epoch, not to days")
    zone = ZoneInfo(trading_day.timezone)
    period_days = {TimeUnit.DAY: 1, TimeUnit.WEEK: 7, TimeUnit.MONTH: 31}[timeframe.unit]
    margin = timedelta(days=period_days * timeframe.count + 2)
    first = _utc_date(start_ns) - margin
    last = _utc_date(end_ns) + margin
    dates = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    keys = [_period_key(d, timeframe) for d in dates]
    starts = [
        _day_start_ns(d, trading_day, zone)
        for i, d in enumerate(dates)
        if i > 0 and keys[i] != keys[i - 1]
    ]
    bounds = np.array(starts, dtype=np.int64)
    lo = int(np.searchsorted(bounds, start_ns, side="right")) - 1
    hi = int(np.searchsorted(bounds, end_ns, side="right")) + 1
    return bounds[max(lo, 0) : hi].copy()


def bar_open_times(ts_ns: I64, timeframe: Timeframe, trading_day: TradingDay) -> I64:
    """The open time (label) of the bar each timestamp falls into.

    Parameters
    ----------
    ts_ns
        UTC nanoseconds, any order.
    timeframe
        Intraday timeframes align to multiples of their length since the epoch; D/W/MN to
        ``trading_day``.
    trading_day
        When trading days start (ignored for intraday timeframes).

    Returns
    -------
    I64
        One label per timestamp; a bar covers ``[label, next label)``.

    Examples
    --------
    >>> import numpy as np
    >>> from backtestr.model import Timeframe, TradingDay
    >>> bar_open_times(np.array([90 * 10**9], dtype=np.int64), Timeframe.parse("M1"),
    ...                TradingDay.fx()).tolist()
    [60000000000]
    """
    ts = np.asarray(ts_ns, dtype=np.int64)
    duration = timeframe.duration_ns
    if timeframe.is_intraday and duration is not None:
        return ts - np.mod(ts, duration)
    if len(ts) == 0:
        return ts.copy()
    bounds = period_starts(timeframe, trading_day, int(ts.min()), int(ts.max()))
    return bounds[np.searchsorted(bounds, ts, side="right") - 1]
