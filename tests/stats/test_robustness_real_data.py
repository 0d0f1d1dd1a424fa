"""The robustness statistics on a real sweep: 90 moving-average crossovers on 12 years of EURUSD.

Choosing the best crossover on OANDA hourly bars (2007-2018) is the textbook overfit: no
parameter set keeps an edge out of sample. The statistics must say so, in their own terms.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from backtestr.model import TradingDay
from backtestr.stats import (
    deflated_sharpe_from_returns,
    probability_of_backtest_overfitting,
    trial_returns_matrix,
)
from tests.helpers import real_file

pytestmark = pytest.mark.realdata

H1_FILE = "lean_eurusd/converted/EURUSD_OANDA_H1_bidask_2007-2018_UTC.csv.gz"


@pytest.fixture(scope="module")
def crossover_sweep() -> pd.DataFrame:
    bars = pd.read_csv(real_file(H1_FILE), usecols=["timestamp_utc", "bid_close"])
    index = pd.DatetimeIndex(pd.to_datetime(bars["timestamp_utc"])).tz_localize("UTC")
    close = bars["bid_close"].to_numpy()
    prices = pd.Series(close)
    curves = {}
    for fast in range(5, 55, 5):
        for slow in range(20, 220, 20):
            if fast >= slow:
                continue
            signal = np.sign(prices.rolling(fast).mean() - prices.rolling(slow).mean())
            position = np.r_[0.0, signal.fillna(0.0).to_numpy()[:-1]]  # held from the next bar
            pnl = position * np.diff(close, prepend=close[0]) * 100_000.0  # one lot, no costs
            curves[(fast, slow)] = pd.Series(100_000.0 + np.cumsum(pnl), index=index)
    return trial_returns_matrix(curves, TradingDay.fx())


def test_the_sweep_is_a_matrix_of_fx_trading_days(crossover_sweep: pd.DataFrame) -> None:
    periods, trials = crossover_sweep.shape
    assert trials == 90
    assert periods == pytest.approx(12 * 260, rel=0.02)


def test_picking_the_best_crossover_is_more_likely_overfit_than_not(
    crossover_sweep: pd.DataFrame,
) -> None:
    result = probability_of_backtest_overfitting(crossover_sweep, n_splits=16)
    assert result.pbo > 0.5
    # a better in-sample Sharpe ratio promised a worse out-of-sample one
    assert result.degradation_slope < 0.0
    assert np.median(result.out_of_sample) < np.median(result.in_sample)


def test_the_best_crossover_is_not_significant_once_deflated(
    crossover_sweep: pd.DataFrame,
) -> None:
    result = deflated_sharpe_from_returns(crossover_sweep, periods_per_year=260.0)
    # measured against 0 it looks like skill; against the best of 90 lucky trials it is not
    assert result.deflated_sharpe_ratio < 0.95
    assert result.deflated_sharpe_ratio < result.probabilistic_sharpe_ratio
    assert result.expected_max_sharpe_annualised > 0.0
