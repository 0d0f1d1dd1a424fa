"""Statistics of a buy-and-hold EURUSD account on 12 years of real OANDA hourly bars."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from backtestr.model import TradingDay
from backtestr.stats import compute_statistics, empty_trades, period_returns

pytestmark = pytest.mark.realdata

H1_FILE = "lean_eurusd/converted/EURUSD_OANDA_H1_bidask_2007-2018_UTC.csv.gz"


def _real_data() -> Path:
    configured = os.environ.get("BACKTESTR_REAL_DATA")
    root = (
        Path(configured)
        if configured
        else Path(__file__).parents[2] / ".." / "shared" / "data" / "real"
    )
    if not (root / H1_FILE).exists():
        pytest.skip(f"real data not found at {root} (set BACKTESTR_REAL_DATA)")
    return root


@pytest.fixture(scope="module")
def buy_and_hold() -> pd.Series:
    bars = pd.read_csv(_real_data() / H1_FILE, usecols=["timestamp_utc", "bid_close"])
    index = pd.DatetimeIndex(pd.to_datetime(bars["timestamp_utc"])).tz_localize("UTC")
    close = bars["bid_close"].to_numpy()
    # 100 000 USD buying 100 000 USD worth of EUR at the first close, no leverage
    units = 100_000.0 / close[0]
    return pd.Series(100_000.0 + units * (close - close[0]), index=index)


def test_fx_trading_days_give_five_daily_returns_a_week(buy_and_hold: pd.Series) -> None:
    utc_days = period_returns(buy_and_hold)
    fx_days = period_returns(buy_and_hold, TradingDay.fx())
    years = (buy_and_hold.index[-1] - buy_and_hold.index[0]) / pd.Timedelta(days=365.25)
    # cut at midnight UTC, the Sunday-evening open adds a sixth, stub "day" to each week
    assert len(utc_days) / years > 300
    assert len(fx_days) / years == pytest.approx(260, abs=8)
    assert (fx_days.index.day_of_week < 5).all()


def test_buy_and_hold_statistics_show_the_2008_to_2017_euro_decline(
    buy_and_hold: pd.Series,
) -> None:
    stats = compute_statistics(
        buy_and_hold, empty_trades(), initial_cash=100_000.0, trading_day=TradingDay.fx()
    )
    assert stats.periods_per_year == 260
    # EURUSD peaked near 1.60 in July 2008 and bottomed near 1.035 in January 2017; the account
    # never got back to its 2008 high before the data ends in 2018
    assert stats.peak_equity == buy_and_hold.max()
    assert buy_and_hold.idxmax().year == 2008
    # 75 800 EUR bought at 1.319: units * (1.60 - 1.035) / (100 000 + units * (1.60 - 1.319))
    assert 33.0 < stats.max_drawdown_pct < 38.0
    assert stats.final_equity < 100_000.0
    assert stats.max_drawdown_duration > pd.Timedelta(days=365 * 10)
    assert stats.total_return_pct == pytest.approx((buy_and_hold.iloc[-1] / 100_000.0 - 1) * 100)
    assert 5.0 < stats.volatility_ann_pct < 15.0  # EURUSD's long-run volatility is about 8-10 %
    assert -1.0 < stats.sharpe_ratio < 1.0
