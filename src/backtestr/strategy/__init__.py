"""The user-facing strategy API: the typed :class:`Strategy` class, the zipline-style function
face, loading strategy code, and running it (:class:`Backtest`, :func:`run`)."""

from backtestr.strategy.api import (
    Account,
    BarData,
    Context,
    Indicator,
    Portfolio,
    Positions,
    crosses,
)
from backtestr.strategy.backtest import Backtest, RunHandle, data_fingerprint
from backtestr.strategy.base import Strategy
from backtestr.strategy.loader import StrategySource, load_strategy
from backtestr.strategy.params import Params, parse_param_overrides, resolve_params
from backtestr.strategy.run import market_from_bars, run
from backtestr.strategy.schedule import date_rules, time_rules

__all__ = [
    "Account",
    "Backtest",
    "BarData",
    "Context",
    "Indicator",
    "Params",
    "Portfolio",
    "Positions",
    "RunHandle",
    "Strategy",
    "StrategySource",
    "crosses",
    "data_fingerprint",
    "date_rules",
    "load_strategy",
    "market_from_bars",
    "parse_param_overrides",
    "resolve_params",
    "run",
    "time_rules",
]
