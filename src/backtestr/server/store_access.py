"""One open store per server, used by one request or job at a time.

DuckDB locks the catalog for the process that opened it, and one connection must not be used
from two threads at once: the server opens the store once, for its whole life, and serialises
every use of it through :meth:`StoreAccess.use`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from backtestr.data.store import Store
from backtestr.errors import NoDataError
from backtestr.model import BarArrays, PriceSide, Timeframe

__all__ = ["LatestBars", "StoreAccess", "latest_bars"]


class StoreAccess:
    """The server's store and the lock that serialises its use."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()

    @property
    def home(self) -> Path:
        return self._store.home

    @contextmanager
    def use(self) -> Iterator[Store]:
        with self._lock:
            yield self._store

    def close(self) -> None:
        with self._lock:
            self._store.close()


class LatestBars:
    """The newest ``limit`` bars before a time, and whether older ones exist."""

    def __init__(self, bars: BarArrays, has_more: bool) -> None:
        self.bars = bars
        self.has_more = has_more


def latest_bars(
    store: Store,
    symbol: str,
    timeframe: Timeframe,
    side: PriceSide,
    *,
    start_ns: int | None,
    end_ns: int | None,
    limit: int,
) -> LatestBars:
    """The newest ``limit`` bars with open time in ``[start_ns, end_ns)``.

    Without ``start_ns`` the window grows backwards from ``end_ns`` until it holds ``limit`` bars
    or reaches the first stored data, so a chart page costs the bars it shows, not the whole
    history (the chart pages further back with ``end_ns`` = its first bar's time).
    """
    datasets = store.datasets(symbol)
    if not datasets:
        store.instrument(symbol)  # raises the helpful "no data stored for …" error
        raise NoDataError(f"No data is stored for {symbol}.")  # pragma: no cover
    data_first = min(row.first_ns for row in datasets)
    data_end = max(row.last_ns for row in datasets) + 1
    stop = data_end if end_ns is None else min(end_ns, data_end)
    if start_ns is not None:
        bars = store.bars(symbol, timeframe, side=side, start_ns=start_ns, end_ns=stop)
    else:
        span = (timeframe.duration_ns or 31 * 86_400 * 10**9) * limit * 2
        while True:
            begin = stop - span
            bars = store.bars(symbol, timeframe, side=side, start_ns=begin, end_ns=stop)
            if len(bars) >= limit or begin <= data_first:
                break
            span *= 4
    if len(bars) > limit:
        bars = bars.slice(len(bars) - limit, len(bars))
    has_more = len(bars) > 0 and int(bars.ts_ns[0]) > data_first
    return LatestBars(bars, has_more)
