"""``backtestr.run``: one call from data and strategy to a result."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from backtestr.engine import (
    EngineSettings,
    MarketData,
    ModellingMode,
    PositionMode,
    RunResult,
    SymbolFeed,
    parse_commission,
    parse_slippage,
)
from backtestr.engine.costs import CommissionModel, SlippageModel
from backtestr.errors import ConfigError
from backtestr.model import BarArrays, Instrument, Timeframe, fx_instrument
from backtestr.strategy.backtest import Backtest, Progress
from backtestr.strategy.base import Strategy
from backtestr.strategy.loader import StrategySource

__all__ = ["engine_settings", "market_from_bars", "run", "utc_ns"]


def market_from_bars(
    bars: Mapping[str, BarArrays],
    timeframe: str | Timeframe = "M1",
    instruments: Mapping[str, Instrument] | None = None,
) -> MarketData:
    """MarketData from bid bars per symbol (FX defaults for instruments not given)."""
    tf = Timeframe.parse(timeframe)
    specs = dict(instruments or {})
    feeds = {
        symbol: SymbolFeed(specs.get(symbol) or fx_instrument(symbol), symbol_bars)
        for symbol, symbol_bars in bars.items()
    }
    return MarketData(tf, feeds)


def run(
    strategy: str | Path | type[Strategy] | StrategySource,
    data: MarketData | None = None,
    *,
    symbol: str | None = None,
    symbols: Sequence[str] = (),
    timeframe: str = "M1",
    start: str | None = None,
    end: str | None = None,
    home: str | Path | None = None,
    cash: float = 100_000.0,
    currency: str = "USD",
    leverage: float | None = None,
    commission: str | CommissionModel | None = None,
    slippage: str | SlippageModel | None = None,
    spread_pips: float = 0.0,
    mode: str | ModellingMode = ModellingMode.OHLC,
    trade_on_close: bool = False,
    hedging: bool = False,
    close_at_end: bool = True,
    params: Mapping[str, object] | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Backtest ``strategy`` on ``data`` and return its result.

    Parameters
    ----------
    strategy
        A ``.py`` file, code text, or a :class:`Strategy` subclass.
    data
        The market to run on (see :func:`market_from_bars`); when ``None`` it is read from the
        store in ``home`` (default: ``BACKTESTR_HOME`` or the platform's data folder) for
        ``symbol`` (plus ``symbols``), ``timeframe`` and the range ``start``/``end`` (ISO 8601,
        UTC; ``end`` exclusive).
    commission
        A model or text such as ``"3.5/lot"``, ``"35/m"``, ``"0.1%"``, ``"2/trade"``.
    slippage
        A model or pips (``"0.5"``).
    params
        Overrides of the strategy's ``PARAMETERS``.
    """
    if data is None:
        data = _market_from_home(home, symbol, symbols, timeframe, start, end, mode, currency)
    settings = engine_settings(
        cash=cash, currency=currency, leverage=leverage, commission=commission,
        slippage=slippage, spread_pips=spread_pips, mode=mode, trade_on_close=trade_on_close,
        hedging=hedging, close_at_end=close_at_end,
    )  # fmt: skip
    return Backtest(strategy, data, settings, params).run(progress)


def engine_settings(
    *,
    cash: float = 100_000.0,
    currency: str = "USD",
    leverage: float | None = None,
    commission: str | CommissionModel | None = None,
    slippage: str | SlippageModel | None = None,
    spread_pips: float = 0.0,
    mode: str | ModellingMode = ModellingMode.OHLC,
    trade_on_close: bool = False,
    hedging: bool = False,
    close_at_end: bool = True,
) -> EngineSettings:
    """Engine settings from the keyword arguments of :func:`run` (texts parsed; raises
    ``ConfigError`` on bad ones)."""
    return EngineSettings(
        cash=cash,
        currency=currency.upper(),
        leverage=leverage,
        mode=ModellingMode.parse(mode),
        trade_on_close=trade_on_close,
        position_mode=PositionMode.HEDGING if hedging else PositionMode.NETTING,
        commission=(parse_commission(commission) if isinstance(commission, str) else commission)
        or parse_commission("0"),
        slippage=(parse_slippage(slippage) if isinstance(slippage, str) else slippage)
        or parse_slippage("0"),
        spread_pips=spread_pips,
        close_at_end=close_at_end,
    )


def _market_from_home(
    home: str | Path | None,
    symbol: str | None,
    symbols: Sequence[str],
    timeframe: str,
    start: str | None,
    end: str | None,
    mode: str | ModellingMode,
    currency: str,
) -> MarketData:
    from backtestr.app.paths import resolve_home
    from backtestr.data.store import Store
    from backtestr.strategy.feed import market_from_store

    wanted = [s for s in ([symbol] if symbol else []) + list(symbols) if s]
    if not wanted:
        raise ConfigError("Say which symbol to trade: run(..., symbol='EURUSD') or pass data=.")
    with Store.open(resolve_home(home)) as store:
        return market_from_store(
            store,
            list(dict.fromkeys(s.upper() for s in wanted)),
            timeframe,
            start_ns=utc_ns(start),
            end_ns=utc_ns(end),
            mode=mode,
            currency=currency,
        )


def utc_ns(text: str | None) -> int | None:
    """An ISO 8601 time (UTC when it names no zone) as int64 nanoseconds; ``None`` stays."""
    if text is None:
        return None
    stamp = pd.Timestamp(text)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return int(stamp.value)
