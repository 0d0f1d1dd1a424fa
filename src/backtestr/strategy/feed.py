"""The store as a source of :class:`MarketData`: bars of the strategy timeframe, the finer
bars or ticks the modelling mode needs, and any other timeframe on demand."""

from __future__ import annotations

from collections.abc import Sequence

from backtestr.data.store import Store
from backtestr.engine import MarketData, ModellingMode, SymbolFeed
from backtestr.errors import NoDataError
from backtestr.model import BarArrays, PriceSide, Timeframe

__all__ = ["market_from_store"]

M1 = Timeframe.parse("M1")


def market_from_store(
    store: Store,
    symbols: Sequence[str],
    timeframe: str | Timeframe = "M1",
    *,
    start_ns: int | None = None,
    end_ns: int | None = None,
    mode: str | ModellingMode = ModellingMode.OHLC,
) -> MarketData:
    """Load ``symbols`` for a run (the first is the run's ``context.symbol``).

    Raises
    ------
    NoDataError
        When a symbol is not stored, has no bars in the range, or (``ticks`` mode) no ticks.
    """
    tf = Timeframe.parse(timeframe)
    modelling = ModellingMode.parse(mode)
    feeds: dict[str, SymbolFeed] = {}
    for raw in symbols:
        symbol = raw.upper()
        instrument = store.instrument(symbol)
        bars = store.bars(symbol, tf, side=PriceSide.BID, start_ns=start_ns, end_ns=end_ns)
        if len(bars) == 0:
            raise NoDataError(f"No {tf} bars of {symbol} in the chosen range.")
        ticks = None
        execution: BarArrays | None = None
        execution_tf: Timeframe | None = None
        if modelling is ModellingMode.TICKS:
            ticks = store.ticks(symbol, start_ns, _end_of(bars, tf))
        elif modelling is ModellingMode.OHLC and tf != M1:
            try:
                execution = store.bars(
                    symbol, M1, side=PriceSide.BID, start_ns=int(bars.ts_ns[0]),
                    end_ns=_end_of(bars, tf),
                )  # fmt: skip
                execution_tf = M1
            except NoDataError:
                execution = None  # only coarser data stored: model on the strategy bars
        feeds[symbol] = SymbolFeed(instrument, bars, ticks, execution, execution_tf)

    def load(symbol: str, other: Timeframe) -> BarArrays:
        return store.bars(symbol, other, side=PriceSide.BID, start_ns=start_ns, end_ns=end_ns)

    return MarketData(tf, feeds, bar_loader=load)


def _end_of(bars: BarArrays, timeframe: Timeframe) -> int:
    duration = timeframe.duration_ns or 31 * 86_400 * 10**9
    return int(bars.ts_ns[-1]) + duration
