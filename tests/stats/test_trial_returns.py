"""trial_returns_matrix: a sweep's equity curves become one aligned matrix of period returns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from backtestr.errors import ConfigError
from backtestr.stats import (
    period_returns,
    probability_of_backtest_overfitting,
    trial_returns_matrix,
)


def _hourly_equity(seed: int, days: int = 60) -> pd.Series:
    index = pd.date_range("2024-01-01", periods=days * 24, freq="h", tz="UTC")
    steps = np.random.default_rng(seed).normal(0.0, 0.001, len(index))
    return pd.Series(10_000.0 * np.cumprod(1.0 + steps), index=index)


def test_columns_are_the_period_returns_of_each_trial() -> None:
    curves = {("fast", 5): _hourly_equity(1), ("fast", 9): _hourly_equity(2)}
    matrix = trial_returns_matrix(curves)
    assert list(matrix.columns) == [("fast", 5), ("fast", 9)]
    assert len(matrix) == 59  # daily periods: 60 days give 59 returns
    pd.testing.assert_series_equal(
        matrix[("fast", 5)], period_returns(curves[("fast", 5)]), check_names=False
    )
    result = probability_of_backtest_overfitting(matrix, n_splits=4)
    assert result.n_observations == 56


def test_a_period_missing_from_one_trial_is_a_flat_period() -> None:
    full = _hourly_equity(3, days=10)
    shorter = full.iloc[: 24 * 6]
    matrix = trial_returns_matrix({"full": full, "shorter": shorter})
    assert len(matrix) == 9
    assert (matrix["shorter"].iloc[5:] == 0.0).all()
    assert matrix.index.is_monotonic_increasing


@pytest.mark.parametrize(
    ("curves", "message"),
    [
        ({}, "No equity curves"),
        ({"a": [1.0, 2.0]}, "trial 'a'"),
        ({"b": pd.Series([1.0, 2.0])}, "DatetimeIndex"),
    ],
)
def test_bad_curves_are_named(curves: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        trial_returns_matrix(curves)  # type: ignore[arg-type]
