"""The returns matrix of a sweep: one column of period returns per trial, on shared periods."""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import pandas as pd

from backtestr.errors import ConfigError
from backtestr.model import TradingDay
from backtestr.stats._returns import period_returns

__all__ = ["trial_returns_matrix"]


def trial_returns_matrix(
    equity_curves: Mapping[Hashable, pd.Series], trading_day: TradingDay | None = None
) -> pd.DataFrame:
    """Align the period returns of several runs into the ``T × N`` matrix the robustness
    statistics take (``probability_of_backtest_overfitting``, ``deflated_sharpe_from_returns``).

    Each curve is cut into periods as ``compute_statistics`` does (:func:`period_returns`, so a
    trial's Sharpe ratio here is on the same periods as its statistics). A period one run has and
    another lacks is a period that run was flat: its return is 0.0.

    Parameters
    ----------
    equity_curves
        Equity of each trial on a tz-aware DatetimeIndex, keyed by a trial label (a run id, a
        parameter tuple); the keys become the columns, in the mapping's order.
    trading_day
        Where a day starts, for daily periods (as given to ``compute_statistics``).

    Examples
    --------
    >>> index = pd.date_range("2024-01-01 12:00", periods=3, freq="D", tz="UTC")
    >>> matrix = trial_returns_matrix({
    ...     "fast=5": pd.Series([100.0, 110.0, 99.0], index=index),
    ...     "fast=9": pd.Series([100.0, 100.0, 105.0], index=index),
    ... })
    >>> matrix.round(4).to_numpy().tolist()
    [[0.1, 0.0], [-0.1, 0.05]]
    """
    if not equity_curves:
        raise ConfigError("No equity curves given: pass one equity Series per trial of the sweep.")
    columns = {}
    for label, equity in equity_curves.items():
        if not isinstance(equity, pd.Series) or not isinstance(equity.index, pd.DatetimeIndex):
            raise ConfigError(
                f"The equity of trial {label!r} must be a pandas Series on a DatetimeIndex, got "
                f"{type(equity).__name__}."
            )
        columns[label] = period_returns(equity, trading_day)
    matrix = pd.concat(columns, axis=1, sort=True).fillna(0.0)
    matrix.index.name = "period"
    return matrix
