"""Robustness statistics of an optimisation: is the best backtest skill or luck?

- :func:`deflated_sharpe_ratio` (with :func:`probabilistic_sharpe_ratio`,
  :func:`expected_max_sharpe` and :func:`deflated_sharpe_from_returns`): the probability that the
  best of ``N`` trials beats the best Sharpe ratio ``N`` skill-less trials would show by luck.
- :func:`probability_of_backtest_overfitting`: CSCV over the trials' period returns.
- :func:`monte_carlo_trades`: drawdown and return distributions of resampled trade sequences.
- :func:`trial_returns_matrix`: the ``T × N`` period returns of a sweep's equity curves, the input
  of the first two.

All pure functions of arrays (no I/O, no clock); plots live in ``backtestr.report``.
"""

from backtestr.stats._deflated_sharpe import (
    DeflatedSharpe,
    deflated_sharpe_from_returns,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    probabilistic_sharpe_ratio,
    sharpe_annualised,
    sharpe_per_period,
)
from backtestr.stats._monte_carlo import (
    MONTE_CARLO_METHODS,
    MonteCarloMethod,
    TradeMonteCarlo,
    monte_carlo_trades,
)
from backtestr.stats._overfitting import (
    OVERFITTING_METRICS,
    BacktestOverfitting,
    OverfittingMetric,
    probability_of_backtest_overfitting,
)
from backtestr.stats._trial_returns import trial_returns_matrix

__all__ = [
    "MONTE_CARLO_METHODS",
    "OVERFITTING_METRICS",
    "BacktestOverfitting",
    "DeflatedSharpe",
    "MonteCarloMethod",
    "OverfittingMetric",
    "TradeMonteCarlo",
    "deflated_sharpe_from_returns",
    "deflated_sharpe_ratio",
    "expected_max_sharpe",
    "monte_carlo_trades",
    "probabilistic_sharpe_ratio",
    "probability_of_backtest_overfitting",
    "sharpe_annualised",
    "sharpe_per_period",
    "trial_returns_matrix",
]
