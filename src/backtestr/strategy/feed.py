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
    currency: str | None = None,
) -> MarketData:
    """Load ``symbols`` for a run (the first is the run's ``context.symbol``).

    With the account ``currency`` given, a pair that converts a symbol's P&L into it (e.g.
    GBPUSD for EURGBP in a USD account) is loaded too when it is stored and not listed.

    Raises
    ------
    NoDataError
        When a symbol is not stored, has no bars in the range, or (``ticks`` mode) no ticks.
    """
    tf = Timeframe.parse(timeframe)
    modelling = ModellingMode.parse(mode)
    feeds: dict[str, SymbolFeed] = {}
    wanted = [s.upper() for s in symbols]
    if currency is not None:
        wanted += _conversion_pairs(store, wanted, currency.upper())
    for raw in wanted:
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


def _conversion_pairs(store: Store, symbols: list[str], currency: str) -> list[str]:
    stored = set(store.symbols())
    extra: list[str] = []
    for symbol in symbols:
        quote = store.instrument(symbol).quote_currency
        if quote == currency:
            continue
        for pair in (quote + currency, currency + quote):
            if pair in symbols or pair in extra:
                break
            if pair in stored:
                extra.append(pair)
                break
    return extra
