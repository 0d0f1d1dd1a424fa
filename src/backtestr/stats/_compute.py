"""compute_statistics: from an equity curve and a trade list to a :class:`Statistics` value."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pandas as pd

from backtestr.errors import ConfigError
from backtestr.model import TradingDay
from backtestr.stats._daily import returns_and_periods_per_year
from backtestr.stats._drawdown import drawdown_periods
from backtestr.stats._returns import geometric_mean
from backtestr.stats._statistics import Statistics
from backtestr.stats._trades import validate_trades

__all__ = ["compute_statistics"]

_DAYS_PER_YEAR = 365.25
_SECONDS_PER_DAY = 86_400.0


def compute_statistics(
    equity: pd.Series,
    trades: pd.DataFrame,
    *,
    initial_cash: float,
    commissions_paid: float | None = None,
    swaps_paid: float | None = None,
    in_market: pd.Series | None = None,
    risk_free_rate: float = 0.0,
    periods_per_year: float | None = None,
    trading_day: TradingDay | None = None,
) -> Statistics:
    """Compute the performance statistics of a backtest.

    The definitions follow backtesting.py 0.6.6 where it is sound, so numbers can be compared with
    the tool traders know; the differences are listed below and checked by the differential test.

    Parameters
    ----------
    equity
        Account equity (balance plus open P&L) at every bar close, on a tz-aware, strictly
        increasing DatetimeIndex (converted to UTC). Its first point should be the starting state.
    trades
        Closed trades, columns :data:`TRADE_COLUMNS` (sign conventions in that constant's module).
    initial_cash
        Starting cash; the base of ``total_return_pct`` and ``cagr_pct``.
    commissions_paid, swaps_paid
        Total costs of the run (including those of a position still open); ``None`` sums the
        trade list's ``commission`` and ``swap`` columns.
    in_market
        Boolean per equity point, True when a position is open; ``None`` derives it from the
        trades (a point is in the market when ``entry_time <= t <= exit_time`` for some trade).
    risk_free_rate
        Annual risk-free rate as a fraction (``0.02`` for 2 %), subtracted in Sharpe and Sortino.
    periods_per_year
        Annualisation factor of the period returns; ``None`` infers it (see
        ``backtestr.stats._returns``: 252 by default, 260 for FX trading days, 365 for markets
        trading at weekends, 52/12/1 for weekly/monthly/yearly data).
    trading_day
        Where a day starts when cutting intraday equity into daily returns; ``None`` uses 00:00
        UTC. Pass ``TradingDay.fx()`` for FX so that Sunday evening belongs to Monday.

    Returns
    -------
    Statistics

    Raises
    ------
    ConfigError
        When ``equity`` is empty, not on a tz-aware increasing DatetimeIndex, or ``trades`` or
        ``in_market`` do not fit.

    Notes
    -----
    Definitions, with ``r`` the period returns, ``g`` their geometric mean and ``P`` the periods
    per year:

    - ``return_ann_pct = ((1 + g)**P - 1) * 100``;
      ``cagr_pct = ((final / initial_cash)**(1 / years) - 1) * 100`` with 365.25-day years
      (``NaN`` for a zero-length run, ``-100`` when the account is wiped out).
    - ``volatility_ann_pct``: the annualised standard deviation of compounded returns,
      ``sqrt((var(r) + (1 + g)**2)**P - (1 + g)**(2P)) * 100`` (``NaN`` with fewer than 2 periods).
    - ``sharpe_ratio = (return_ann_pct - 100 * rf) / volatility_ann_pct``;
      ``sortino_ratio = (return_ann - rf) / (sqrt(mean(min(r, 0)**2)) * sqrt(P))``;
      ``calmar_ratio = return_ann / max_drawdown``.
    - Drawdowns are measured from the running peak; ``max_drawdown_pct`` is positive.
    - ``profit_factor`` is gross profit over gross loss **in money** (backtesting.py divides
      summed trade *returns*, which weights a trade by its inverse notional);
      ``expectancy`` is the mean net P&L per trade in money, ``expectancy_pct`` the mean trade
      return (backtesting.py's "Expectancy [%]"); ``avg_trade_pct`` is the geometric mean.
    - ``sqn = sqrt(n) * mean(pnl) / std(pnl)`` (sample standard deviation).

    Edge cases: a ratio ``x / 0`` is ``inf`` for ``x > 0``, ``-inf`` for ``x < 0`` and ``NaN``
    for ``0 / 0`` (so ``profit_factor`` is ``inf`` without losing trades and ``NaN`` without
    trades); ``sharpe_ratio`` is ``NaN`` when volatility is zero. Without trades ``win_rate``,
    trade returns, ``expectancy``, ``avg_win``/``avg_loss`` and ``sqn`` are ``NaN`` and trade
    durations ``None`` — as backtesting.py, which prints them as blanks. A flat curve has zero
    drawdown, zero volatility and ``NaN`` Sharpe; a single point has ``NaN`` annualised figures.
    """
    curve = _check_equity(equity)
    validate_trades(trades)
    values = curve.to_numpy(dtype=np.float64)
    index = pd.DatetimeIndex(curve.index)
    start, end = index[0], index[-1]
    duration = end - start
    final = float(values[-1])

    if periods_per_year is not None and not periods_per_year > 0:
        raise ConfigError(f"periods_per_year must be positive, got {periods_per_year}.")
    if not initial_cash > 0:
        raise ConfigError(f"initial_cash must be positive, got {initial_cash}.")

    returns, inferred = returns_and_periods_per_year(curve, trading_day)
    if periods_per_year is None:
        periods_per_year = inferred
    # a period return below 1e-12 is the rounding of the equity values, not a gain or a loss
    returns = np.where(np.abs(returns) < 1e-12, 0.0, returns)
    # a wiped-out or absurd curve yields inf/NaN returns: the rules above give defined results
    with np.errstate(all="ignore"):
        gmean = geometric_mean(returns)
        return_ann = _power(1.0 + gmean, periods_per_year) - 1.0
        volatility_ann = _volatility_ann(returns, gmean, periods_per_year)
        downside = math.sqrt(float(np.mean(np.minimum(returns, 0.0) ** 2))) if len(returns) else 0.0

    periods = drawdown_periods(curve)
    max_dd = float(periods.depth.max()) if len(periods) else 0.0
    avg_dd = float(periods.depth.mean()) if len(periods) else 0.0
    dd_durations = periods.durations
    zero = pd.Timedelta(0)

    years = duration / pd.Timedelta(days=_DAYS_PER_YEAR)
    if years <= 0:
        cagr = math.nan
    elif final <= 0:
        cagr = -1.0
    else:
        cagr = _power(final / initial_cash, 1.0 / years) - 1.0

    pnl = trades["pnl"].to_numpy(dtype=np.float64)
    trade_returns = trades["return_pct"].to_numpy(dtype=np.float64)
    trade_durations = pd.TimedeltaIndex(trades["duration"])
    n_trades = len(trades)
    gross_profit = float(pnl[pnl > 0].sum())
    gross_loss = float(-pnl[pnl < 0].sum())

    if commissions_paid is None:
        commissions_paid = float(trades["commission"].sum())
    if swaps_paid is None:
        swaps_paid = float(trades["swap"].sum())

    return Statistics(
        start=start,
        end=end,
        duration=duration,
        exposure_pct=_exposure_pct(index, trades, in_market),
        initial_cash=float(initial_cash),
        final_equity=final,
        peak_equity=float(values.max()),
        total_return_pct=(final / initial_cash - 1.0) * 100.0,
        return_ann_pct=return_ann * 100.0,
        cagr_pct=cagr * 100.0,
        volatility_ann_pct=volatility_ann * 100.0,
        sharpe_ratio=_sharpe(return_ann - risk_free_rate, volatility_ann),
        sortino_ratio=_ratio(return_ann - risk_free_rate, downside * math.sqrt(periods_per_year)),
        calmar_ratio=_ratio(return_ann, max_dd),
        max_drawdown_pct=max_dd * 100.0,
        avg_drawdown_pct=avg_dd * 100.0,
        max_drawdown_duration=dd_durations.max() if len(periods) else zero,
        avg_drawdown_duration=dd_durations.mean() if len(periods) else zero,
        total_trades=n_trades,
        win_rate=float(np.mean(pnl > 0)) if n_trades else math.nan,
        best_trade_pct=float(trade_returns.max()) if n_trades else math.nan,
        worst_trade_pct=float(trade_returns.min()) if n_trades else math.nan,
        avg_trade_pct=geometric_mean(trade_returns / 100.0) * 100.0,
        max_trade_duration=trade_durations.max() if n_trades else None,
        avg_trade_duration=trade_durations.mean() if n_trades else None,
        profit_factor=_ratio(gross_profit, gross_loss),
        expectancy=_mean(pnl),
        expectancy_pct=_mean(trade_returns),
        avg_win=_mean(pnl[pnl > 0]),
        avg_loss=_mean(pnl[pnl < 0]),
        sqn=_sqn(pnl),
        commissions_paid=float(commissions_paid),
        swaps_paid=float(swaps_paid),
        periods_per_year=float(periods_per_year),
    )


def _check_equity(equity: pd.Series) -> pd.Series:
    if not isinstance(equity.index, pd.DatetimeIndex) or equity.index.tz is None:
        raise ConfigError(
            "equity must be indexed by a tz-aware DatetimeIndex (UTC), e.g. "
            "pd.Series(values, index=pd.DatetimeIndex(times, tz='UTC'))."
        )
    if len(equity) == 0:
        raise ConfigError("equity is empty: statistics need at least one equity point.")
    if not equity.index.is_monotonic_increasing or not equity.index.is_unique:
        raise ConfigError("equity's index must be strictly increasing (sorted, no duplicates).")
    values = equity.to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise ConfigError("equity holds a NaN or infinite value.")
    return pd.Series(values, index=equity.index.tz_convert("UTC"), name="equity")


def _exposure_pct(
    index: pd.DatetimeIndex, trades: pd.DataFrame, in_market: pd.Series | None
) -> float:
    if in_market is not None:
        if len(in_market) != len(index):
            raise ConfigError(
                f"in_market has {len(in_market)} points but equity has {len(index)}: "
                "give one flag per equity point."
            )
        return float(np.mean(in_market.to_numpy(dtype=bool))) * 100.0
    # one slot past the end absorbs trades that close (or open) after the last point
    held = np.zeros(len(index) + 1, dtype=np.int64)
    stamps = index.as_unit("ns").asi8
    if len(trades):
        entries = pd.DatetimeIndex(trades["entry_time"]).tz_convert("UTC").as_unit("ns").asi8
        exits = pd.DatetimeIndex(trades["exit_time"]).tz_convert("UTC").as_unit("ns").asi8
        # +1 from the first point at/after entry, -1 after the last point at/before exit
        np.add.at(held, np.searchsorted(stamps, entries, side="left"), 1)
        np.add.at(held, np.searchsorted(stamps, exits, side="right"), -1)
    return float(np.mean(np.cumsum(held)[:-1] > 0)) * 100.0


def _volatility_ann(returns: npt.NDArray[np.float64], gmean: float, periods: float) -> float:
    if len(returns) < 2:
        return math.nan
    # Returns equal to nine significant digits, or within 1e-12 (a return is a ratio of equity
    # values minus one: its absolute rounding error is ~1e-16), are constant: their spread is
    # rounding noise (scaling the same curve gives a variance of 0 or 1e-34 depending on the
    # last bit), and a Sharpe ratio divided by it would be 1e26 or NaN at random.
    spread = float(np.ptp(returns))
    if spread <= max(1e-12, 1e-9 * float(np.max(np.abs(returns)))):
        return 0.0
    variance = float(np.var(returns, ddof=1))
    growth = 1.0 + gmean
    if growth <= 0:  # the account was wiped out: the geometric annualisation has no meaning
        return math.inf
    # (var + g²)^p − g^(2p), written as g^(2p)·expm1(p·log1p(var/g²)) so that a small variance
    # is not lost in the difference of two nearly equal powers
    inside = _power(growth, 2 * periods) * math.expm1(
        min(periods * math.log1p(variance / growth**2), 700.0)
    )
    if math.isnan(inside):
        return math.inf
    return math.sqrt(max(inside, 0.0))


def _power(base: float, exponent: float) -> float:
    """``base ** exponent`` for ``base >= 0``, ``inf`` instead of an OverflowError."""
    if math.isnan(base):
        return math.nan
    try:
        return float(base**exponent)
    except OverflowError:
        return math.inf


def _ratio(numerator: float, denominator: float) -> float:
    if math.isnan(numerator) or math.isnan(denominator):
        return math.nan
    if denominator == 0:
        if numerator == 0:
            return math.nan
        return math.copysign(math.inf, numerator)
    return numerator / denominator


def _sharpe(excess_return: float, volatility: float) -> float:
    if math.isnan(volatility) or volatility == 0:
        return math.nan
    return excess_return / volatility


def _mean(values: npt.NDArray[np.float64]) -> float:
    return float(values.mean()) if len(values) else math.nan


def _sqn(pnl: npt.NDArray[np.float64]) -> float:
    if len(pnl) < 2:
        return math.nan
    spread = float(np.std(pnl, ddof=1))
    if spread == 0:
        return math.nan
    return math.sqrt(len(pnl)) * float(pnl.mean()) / spread
