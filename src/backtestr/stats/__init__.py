"""Performance statistics and trade analysis of a backtest (pure: no I/O).

The engine hands :func:`compute_statistics` its equity curve and trade list (columns
:data:`TRADE_COLUMNS`) and gets a frozen :class:`Statistics` back, whose ``to_dict()`` is the run's
JSON form. :mod:`backtestr.stats.robustness` judges an optimisation: deflated Sharpe ratio,
probability of backtest overfitting, Monte Carlo resampling of the trades.

Examples
--------
>>> import pandas as pd
>>> index = pd.date_range("2024-01-01", periods=3, freq="D", tz="UTC")
>>> stats = compute_statistics(pd.Series([100.0, 90.0, 110.0], index=index), empty_trades(),
...                            initial_cash=100.0)
>>> round(stats.total_return_pct, 6), round(stats.max_drawdown_pct, 6), stats.total_trades
(10.0, 10.0, 0)
"""

from backtestr.stats._compute import compute_statistics
from backtestr.stats._drawdown import DrawdownPeriods, drawdown, drawdown_periods
from backtestr.stats._returns import geometric_mean, infer_periods_per_year, period_returns
from backtestr.stats._statistics import JsonValue, Statistics
from backtestr.stats._trades import TRADE_COLUMNS, empty_trades, validate_trades
from backtestr.stats.robustness import (
    MONTE_CARLO_METHODS,
    OVERFITTING_METRICS,
    BacktestOverfitting,
    DeflatedSharpe,
    MonteCarloMethod,
    OverfittingMetric,
    TradeMonteCarlo,
    deflated_sharpe_from_returns,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    monte_carlo_trades,
    probabilistic_sharpe_ratio,
    probability_of_backtest_overfitting,
    sharpe_annualised,
    sharpe_per_period,
    trial_returns_matrix,
)

__all__ = [
    "MONTE_CARLO_METHODS",
    "OVERFITTING_METRICS",
    "TRADE_COLUMNS",
    "BacktestOverfitting",
    "DeflatedSharpe",
    "DrawdownPeriods",
    "JsonValue",
    "MonteCarloMethod",
    "OverfittingMetric",
    "Statistics",
    "TradeMonteCarlo",
    "compute_statistics",
    "deflated_sharpe_from_returns",
    "deflated_sharpe_ratio",
    "drawdown",
    "drawdown_periods",
    "empty_trades",
    "expected_max_sharpe",
    "geometric_mean",
    "infer_periods_per_year",
    "monte_carlo_trades",
    "period_returns",
    "probabilistic_sharpe_ratio",
    "probability_of_backtest_overfitting",
    "sharpe_annualised",
    "sharpe_per_period",
    "trial_returns_matrix",
    "validate_trades",
]
