"""compute_statistics: definitions, edge cases and invariants."""

from __future__ import annotations

import math
from datetime import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from backtestr.errors import ConfigError
from backtestr.model import TradingDay
from backtestr.stats import compute_statistics, empty_trades
from tests.stats.stats_builders import equity_curve, trade_list

returns_lists = st.lists(st.floats(-0.2, 0.2, allow_nan=False), min_size=1, max_size=60)
pnl_lists = st.lists(
    st.floats(-500, 500, allow_nan=False).filter(lambda value: abs(value) > 1e-6),
    min_size=0,
    max_size=30,
)


def _curve_from(steps: list[float], cash: float = 10_000.0, freq: str = "D") -> pd.Series:
    return equity_curve(cash * np.cumprod(np.r_[1.0, 1.0 + np.asarray(steps)]), freq=freq)


def test_total_return_is_measured_from_initial_cash() -> None:
    stats = compute_statistics(
        equity_curve([1_000.0, 1_100.0, 1_150.0]), empty_trades(), initial_cash=1_000.0
    )
    assert stats.total_return_pct == pytest.approx(15.0)
    assert stats.final_equity == 1_150.0
    assert stats.peak_equity == 1_150.0


def test_drawdown_is_a_positive_percentage_with_its_duration() -> None:
    stats = compute_statistics(
        equity_curve([100.0, 120.0, 90.0, 108.0, 125.0, 100.0]), empty_trades(), initial_cash=100
    )
    assert stats.max_drawdown_pct == pytest.approx(25.0)  # 120 -> 90
    assert stats.avg_drawdown_pct == pytest.approx((25.0 + 20.0) / 2)  # and 125 -> 100, open
    assert stats.max_drawdown_duration == pd.Timedelta(days=3)  # day 1 peak, day 4 recovered
    assert stats.avg_drawdown_duration == pd.Timedelta(days=2)  # (3 + 1) / 2


def test_a_flat_curve_has_no_drawdown_no_volatility_and_undefined_ratios() -> None:
    stats = compute_statistics(equity_curve([500.0] * 10), empty_trades(), initial_cash=500.0)
    assert stats.total_return_pct == 0.0
    assert stats.max_drawdown_pct == 0.0
    assert stats.max_drawdown_duration == pd.Timedelta(0)
    assert stats.volatility_ann_pct == 0.0
    assert math.isnan(stats.sharpe_ratio)
    assert math.isnan(stats.sortino_ratio)
    assert math.isnan(stats.calmar_ratio)
    assert stats.exposure_pct == 0.0


def test_a_single_point_gives_nan_annualised_figures_without_crashing() -> None:
    stats = compute_statistics(equity_curve([100.0]), empty_trades(), initial_cash=100.0)
    assert stats.duration == pd.Timedelta(0)
    assert math.isnan(stats.cagr_pct)
    assert math.isnan(stats.return_ann_pct)
    assert math.isnan(stats.volatility_ann_pct)
    assert math.isnan(stats.sharpe_ratio)


def test_no_trades_leaves_trade_figures_undefined() -> None:
    stats = compute_statistics(equity_curve([100.0, 101.0]), empty_trades(), initial_cash=100.0)
    assert stats.total_trades == 0
    for name in ("win_rate", "best_trade_pct", "avg_trade_pct", "expectancy", "sqn", "avg_win"):
        assert math.isnan(getattr(stats, name)), name
    assert math.isnan(stats.profit_factor)
    assert stats.max_trade_duration is None
    assert stats.avg_trade_duration is None
    assert stats.commissions_paid == 0.0


def test_profit_factor_is_infinite_without_losses_and_zero_without_wins() -> None:
    curve = equity_curve([100.0, 101.0, 102.0])
    winners = compute_statistics(curve, trade_list([5.0, 7.0]), initial_cash=100.0)
    losers = compute_statistics(curve, trade_list([-5.0, -7.0]), initial_cash=100.0)
    assert winners.profit_factor == math.inf
    assert winners.win_rate == 1.0
    assert math.isnan(winners.avg_loss)
    assert losers.profit_factor == 0.0
    assert losers.win_rate == 0.0
    assert losers.avg_loss == pytest.approx(-6.0)


def test_trade_figures_follow_their_definitions() -> None:
    trades = trade_list([300.0, -100.0, 200.0, -100.0], notional=10_000.0, hold="36h")
    stats = compute_statistics(equity_curve([10_000.0] * 5), trades, initial_cash=10_000.0)
    assert stats.total_trades == 4
    assert stats.win_rate == 0.5
    assert stats.profit_factor == pytest.approx(500.0 / 200.0)
    assert stats.expectancy == pytest.approx(75.0)
    assert stats.expectancy_pct == pytest.approx(0.75)
    assert stats.avg_win == pytest.approx(250.0)
    assert stats.avg_loss == pytest.approx(-100.0)
    assert stats.best_trade_pct == pytest.approx(3.0)
    assert stats.worst_trade_pct == pytest.approx(-1.0)
    growth = np.prod([1.03, 0.99, 1.02, 0.99]) ** 0.25
    assert stats.avg_trade_pct == pytest.approx((growth - 1) * 100)
    pnl = np.array([300.0, -100.0, 200.0, -100.0])
    assert stats.sqn == pytest.approx(2 * pnl.mean() / pnl.std(ddof=1))
    assert stats.max_trade_duration == pd.Timedelta(hours=36)


def test_costs_default_to_the_trade_columns_and_swap_credits_are_negative() -> None:
    trades = trade_list([10.0, 20.0], commission=3.0, swap=-1.5)
    curve = equity_curve([100.0, 130.0])
    summed = compute_statistics(curve, trades, initial_cash=100.0)
    assert summed.commissions_paid == pytest.approx(6.0)
    assert summed.swaps_paid == pytest.approx(-3.0)
    given_totals = compute_statistics(
        curve, trades, initial_cash=100.0, commissions_paid=9.0, swaps_paid=2.0
    )
    assert (given_totals.commissions_paid, given_totals.swaps_paid) == (9.0, 2.0)


def test_exposure_comes_from_in_market_or_from_the_trade_times() -> None:
    curve = equity_curve([100.0] * 10)
    flags = pd.Series([False, True, True, True, False, False, False, False, False, False])
    stated = compute_statistics(curve, empty_trades(), initial_cash=100.0, in_market=flags)
    assert stated.exposure_pct == pytest.approx(30.0)
    # a trade entered on day 1 and exited on day 3 covers points 1, 2 and 3 (both ends held)
    trades = trade_list([1.0], start="2024-01-02", hold="2D")
    derived = compute_statistics(curve, trades, initial_cash=100.0)
    assert derived.exposure_pct == pytest.approx(30.0)


def test_cagr_uses_calendar_years_and_a_wiped_out_account_is_minus_100() -> None:
    two_years = pd.Series(
        [100.0, 121.0], index=pd.DatetimeIndex(["2020-01-01", "2021-12-31 12:00"], tz="UTC")
    )
    stats = compute_statistics(two_years, empty_trades(), initial_cash=100.0)
    assert stats.cagr_pct == pytest.approx(10.0)
    ruined = compute_statistics(equity_curve([100.0, 50.0, -5.0]), empty_trades(), initial_cash=100)
    assert ruined.cagr_pct == -100.0
    assert ruined.max_drawdown_pct == pytest.approx(105.0)


def test_periods_per_year_is_inferred_and_can_be_given() -> None:
    weekdays = equity_curve(np.linspace(100, 110, 40), freq="B")
    all_days = equity_curve(np.linspace(100, 110, 40), freq="D")
    weekly = equity_curve(np.linspace(100, 110, 40), freq="W")
    assert compute_statistics(weekdays, empty_trades(), initial_cash=100).periods_per_year == 252
    assert compute_statistics(all_days, empty_trades(), initial_cash=100).periods_per_year == 365
    assert compute_statistics(weekly, empty_trades(), initial_cash=100).periods_per_year == 52
    given_factor = compute_statistics(
        weekdays, empty_trades(), initial_cash=100, periods_per_year=260
    )
    assert given_factor.periods_per_year == 260
    assert (
        given_factor.return_ann_pct
        > compute_statistics(weekdays, empty_trades(), initial_cash=100).return_ann_pct
    )


def test_fx_trading_days_put_sunday_evening_into_monday_and_annualise_by_260() -> None:
    # hourly FX equity over two weeks: the market opens Sunday 22:00 UTC (17:00 New York)
    hours = pd.date_range("2024-01-07 22:00", "2024-01-19 21:00", freq="h", tz="UTC")
    hours = hours[(hours.day_of_week < 5) | ((hours.day_of_week == 6) & (hours.hour >= 22))]
    curve = pd.Series(np.linspace(10_000, 10_500, len(hours)), index=hours)
    utc_days = compute_statistics(curve, empty_trades(), initial_cash=10_000)
    fx_days = compute_statistics(
        curve, empty_trades(), initial_cash=10_000, trading_day=TradingDay.fx()
    )
    assert utc_days.periods_per_year == 252
    assert fx_days.periods_per_year == 260
    london = TradingDay(time(8, 0), "Europe/London")
    assert (
        compute_statistics(
            curve, empty_trades(), initial_cash=1e4, trading_day=london
        ).periods_per_year
        == 252
    )


@pytest.mark.parametrize(
    ("equity", "problem"),
    [
        (pd.Series([], dtype=float, index=pd.DatetimeIndex([], tz="UTC")), "empty"),
        (pd.Series([1.0, 2.0], index=pd.date_range("2024-01-01", periods=2)), "tz-aware"),
        (pd.Series([1.0, 2.0], index=[0, 1]), "tz-aware"),
        (
            pd.Series([1.0, 2.0], index=pd.DatetimeIndex(["2024-01-02", "2024-01-01"], tz="UTC")),
            "increasing",
        ),
        (equity_curve([1.0, math.nan]), "NaN"),
    ],
)
def test_bad_equity_is_refused_with_a_clear_message(equity: pd.Series, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        compute_statistics(equity, empty_trades(), initial_cash=1.0)


def test_bad_arguments_are_refused() -> None:
    curve = equity_curve([1.0, 2.0])
    with pytest.raises(ConfigError, match="initial_cash"):
        compute_statistics(curve, empty_trades(), initial_cash=0.0)
    with pytest.raises(ConfigError, match="periods_per_year"):
        compute_statistics(curve, empty_trades(), initial_cash=1.0, periods_per_year=0)
    with pytest.raises(ConfigError, match="in_market"):
        compute_statistics(curve, empty_trades(), initial_cash=1.0, in_market=pd.Series([True]))
    with pytest.raises(ConfigError, match="lacks the column"):
        compute_statistics(curve, pd.DataFrame({"pnl": [1.0]}), initial_cash=1.0)


def test_non_utc_equity_is_reported_in_utc() -> None:
    index = pd.date_range("2024-01-01 09:00", periods=3, freq="D", tz="Europe/Berlin")
    stats = compute_statistics(
        pd.Series([1.0, 2.0, 3.0], index=index), empty_trades(), initial_cash=1
    )
    assert str(stats.start.tz) == "UTC"
    assert stats.start.hour == 8


@settings(max_examples=60, deadline=None)
@given(steps=returns_lists)
def test_drawdown_is_between_0_and_100_percent_and_return_matches_equity(
    steps: list[float],
) -> None:
    # weekly points: a daily -20 % compounds to a CAGR below what a float can hold
    curve = _curve_from(steps, freq="W")
    stats = compute_statistics(curve, empty_trades(), initial_cash=10_000.0)
    assert 0.0 <= stats.max_drawdown_pct <= 100.0
    assert 0.0 <= stats.avg_drawdown_pct <= stats.max_drawdown_pct
    assert stats.max_drawdown_duration <= stats.duration
    assert stats.peak_equity >= stats.final_equity
    assert stats.total_return_pct == pytest.approx((curve.iloc[-1] / 10_000.0 - 1) * 100)
    # CAGR compounds to the total return over the run's length in years
    years = stats.duration / pd.Timedelta(days=365.25)
    assert (1 + stats.cagr_pct / 100) ** years == pytest.approx(1 + stats.total_return_pct / 100)


@settings(max_examples=60, deadline=None)
@given(steps=returns_lists, scale=st.floats(0.01, 1e6))
@example(steps=[-0.16086184939429726] * 2, scale=0.01)  # constant returns, rounding differs
def test_ratios_do_not_change_when_equity_is_scaled(steps: list[float], scale: float) -> None:
    curve = _curve_from(steps)
    base = compute_statistics(curve, empty_trades(), initial_cash=10_000.0)
    scaled = compute_statistics(curve * scale, empty_trades(), initial_cash=10_000.0 * scale)
    for name in (
        "total_return_pct",
        "cagr_pct",
        "volatility_ann_pct",
        "sharpe_ratio",
        "sortino_ratio",
        "calmar_ratio",
        "max_drawdown_pct",
    ):
        mine, theirs = getattr(base, name), getattr(scaled, name)
        assert mine == pytest.approx(theirs, rel=1e-6, abs=1e-9, nan_ok=True), name
    assert base.max_drawdown_duration == scaled.max_drawdown_duration


@settings(max_examples=60, deadline=None)
@given(pnls=pnl_lists)
def test_trade_figures_agree_with_the_trade_list(pnls: list[float]) -> None:
    trades = trade_list(pnls, commission=0.5, swap=0.25)
    curve = equity_curve(10_000 + np.cumsum(np.r_[0.0, pnls]))
    stats = compute_statistics(curve, trades, initial_cash=10_000.0)
    assert stats.total_trades == len(pnls)
    # net P&L of the closed trades is what the account gained: equity = cash + sum(pnl)
    assert stats.final_equity - 10_000.0 == pytest.approx(sum(pnls), abs=1e-6)
    assert trades["pnl"].to_numpy() == pytest.approx(
        (trades["gross_pnl"] - trades["commission"] - trades["swap"]).to_numpy()
    )
    if pnls:
        assert 0.0 <= stats.win_rate <= 1.0
        assert stats.expectancy * len(pnls) == pytest.approx(sum(pnls), abs=1e-6)
        assert stats.worst_trade_pct <= stats.avg_trade_pct <= stats.best_trade_pct
        assert stats.profit_factor >= 0.0
        assert (stats.profit_factor > 1) == (sum(pnls) > 0) or math.isclose(
            sum(pnls), 0, abs_tol=1e-6
        )
        assert stats.commissions_paid == pytest.approx(0.5 * len(pnls))
    else:
        assert math.isnan(stats.win_rate)


@pytest.mark.parametrize(
    "values",
    [[100.0, 50.0, 0.0, 0.0, 0.0], [100.0, -10.0, 5.0, 0.0], [0.0, 0.0, 10.0], [1.0, 1e300, 1.0]],
)
def test_wiped_out_or_extreme_accounts_do_not_crash_or_warn(values: list[float]) -> None:
    stats = compute_statistics(equity_curve(values), empty_trades(), initial_cash=100.0)
    assert stats.final_equity == values[-1]
    assert stats.max_drawdown_pct >= 0.0


def test_monthly_data_is_annualised_by_12_even_with_30_day_spacing() -> None:
    index = pd.date_range("2020-01-01", periods=40, freq="30D", tz="UTC")
    curve = pd.Series(np.linspace(100, 140, 40), index=index)
    assert compute_statistics(curve, empty_trades(), initial_cash=100).periods_per_year == 12
