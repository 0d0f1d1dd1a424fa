"""Plots of the robustness statistics: overfitting (CSCV), deflated Sharpe, Monte Carlo trades.

Drawn off-screen like every BackTestr figure (no pyplot): save with ``save_figure``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from backtestr.report._plots import _DRAWDOWN_COLOR, _EQUITY_COLOR
from backtestr.stats import BacktestOverfitting, DeflatedSharpe, TradeMonteCarlo

__all__ = ["plot_deflated_sharpe", "plot_monte_carlo", "plot_pbo"]

_NEUTRAL_COLOR = "#7f8c8d"
_OBSERVED_COLOR = "#222222"
_BINS = 40


def plot_pbo(result: BacktestOverfitting, *, title: str | None = None) -> Figure:
    """Draw the CSCV outcome: the logit histogram with the PBO, and in- vs out-of-sample.

    The left panel is the distribution of the logits of the in-sample best trial's
    out-of-sample rank: mass at or left of 0 (red) is overfitting, its share is the PBO. The
    right panel plots, per combination, the selected trial's out-of-sample against its
    in-sample metric with the least-squares line: a negative slope is performance degradation.

    Parameters
    ----------
    result
        From ``backtestr.stats.probability_of_backtest_overfitting``.
    title
        Text above the figure.

    Examples
    --------
    >>> from backtestr.stats import probability_of_backtest_overfitting
    >>> noise = np.random.default_rng(0).normal(0.0, 0.01, size=(200, 5))
    >>> figure = plot_pbo(probability_of_backtest_overfitting(noise, n_splits=8))
    >>> [axes.get_xlabel() for axes in figure.axes]
    ['Logit of the out-of-sample rank', 'In-sample sharpe_ratio']
    """
    figure = _figure(2, title)
    logit_axes, scatter_axes = figure.axes

    bins = _bins(result.logits)
    overfit = result.logits <= 0.0
    logit_axes.hist(
        [result.logits[overfit], result.logits[~overfit]],
        bins=bins,
        stacked=True,
        color=[_DRAWDOWN_COLOR, _EQUITY_COLOR],
        label=["In-sample best ranks at or below the median", "Above the median"],
    )
    logit_axes.axvline(0.0, color=_OBSERVED_COLOR, linewidth=1.0)
    logit_axes.set_xlabel("Logit of the out-of-sample rank")
    logit_axes.set_ylabel("Combinations")
    logit_axes.set_title(
        f"PBO = {result.pbo:.1%}  ({result.n_combinations:,} combinations, "
        f"{result.n_trials} trials, S = {result.n_splits})",
        fontsize=10,
    )
    logit_axes.legend(loc="upper left", frameon=False, fontsize=8)
    logit_axes.grid(alpha=0.3)

    finite = np.isfinite(result.in_sample) & np.isfinite(result.out_of_sample)
    in_sample, out_of_sample = result.in_sample[finite], result.out_of_sample[finite]
    scatter_axes.scatter(
        in_sample, out_of_sample, s=6, alpha=0.35, color=_EQUITY_COLOR, linewidths=0
    )
    scatter_axes.axhline(0.0, color=_NEUTRAL_COLOR, linewidth=0.8)
    slope = result.degradation_slope
    if np.isfinite(slope):
        xs = np.array([in_sample.min(), in_sample.max()])
        intercept = out_of_sample.mean() - slope * in_sample.mean()
        scatter_axes.plot(
            xs, intercept + slope * xs, color=_DRAWDOWN_COLOR, linewidth=1.2, label="Fit"
        )
    scatter_axes.set_xlabel(f"In-sample {result.metric}")
    scatter_axes.set_ylabel(f"Out-of-sample {result.metric}")
    scatter_axes.set_title(
        f"Slope {slope:.2f}, P(out-of-sample < 0) = {result.probability_of_loss:.1%}", fontsize=10
    )
    scatter_axes.grid(alpha=0.3)
    return figure


def plot_deflated_sharpe(result: DeflatedSharpe, *, title: str | None = None) -> Figure:
    """Draw the trials' Sharpe ratios against the best that luck alone would give.

    A histogram of every trial's Sharpe ratio with the expected maximum of as many skill-less
    trials (dashed) and the selected trial's Sharpe ratio (solid). Annualised when the result
    knows its ``periods_per_year``, per period otherwise.

    Examples
    --------
    >>> from backtestr.stats import deflated_sharpe_from_returns
    >>> returns = np.random.default_rng(0).normal(0.0003, 0.01, size=(500, 30))
    >>> figure = plot_deflated_sharpe(deflated_sharpe_from_returns(returns, periods_per_year=252))
    >>> figure.axes[0].get_xlabel()
    'Sharpe ratio (annualised)'
    """
    figure = _figure(1, title)
    (axes,) = figure.axes
    scale = 1.0 if result.periods_per_year is None else float(np.sqrt(result.periods_per_year))
    unit = "per period" if result.periods_per_year is None else "annualised"
    trials = result.trial_sharpe_ratios * scale
    axes.hist(trials, bins=_bins(trials), color=_EQUITY_COLOR, alpha=0.75, label="Trials")
    axes.axvline(
        result.expected_max_sharpe * scale,
        color=_DRAWDOWN_COLOR,
        linestyle="--",
        linewidth=1.4,
        label=f"Expected best of {result.n_trials} without skill",
    )
    axes.axvline(
        result.sharpe_ratio * scale,
        color=_OBSERVED_COLOR,
        linewidth=1.4,
        label=f"Selected trial {result.selected}",
    )
    axes.set_xlabel(f"Sharpe ratio ({unit})")
    axes.set_ylabel("Trials")
    axes.set_title(
        f"Deflated Sharpe ratio {result.deflated_sharpe_ratio:.3f} "
        f"(probabilistic {result.probabilistic_sharpe_ratio:.3f}, "
        f"{result.n_observations} periods)",
        fontsize=10,
    )
    axes.legend(loc="upper left", frameon=False, fontsize=8)
    axes.grid(alpha=0.3)
    return figure


def plot_monte_carlo(result: TradeMonteCarlo, *, title: str | None = None) -> Figure:
    """Draw the distributions of final return and maximum drawdown over resampled sequences.

    Each panel marks the quantiles of the result (dashed) and the value of the trades in their
    actual order (solid). After a shuffle every sequence ends at the same return, so the return
    panel is a single bar: only the path, and so the drawdown, depends on the order.

    Examples
    --------
    >>> from backtestr.stats import monte_carlo_trades
    >>> result = monte_carlo_trades([120.0, -80.0, 40.0, -30.0, 90.0], 10_000.0, n_sims=100)
    >>> [axes.get_xlabel() for axes in plot_monte_carlo(result).axes]
    ['Final return %', 'Max drawdown %']
    """
    figure = _figure(2, title)
    return_axes, drawdown_axes = figure.axes
    panels = (
        (return_axes, "final_return_pct", "Final return %", result.observed_final_return_pct),
        (drawdown_axes, "max_drawdown_pct", "Max drawdown %", result.observed_max_drawdown_pct),
    )
    for axes, column, label, observed in panels:
        values = _collapse_rounding(result.simulations[column].to_numpy(dtype=np.float64))
        color = _EQUITY_COLOR if column == "final_return_pct" else _DRAWDOWN_COLOR
        axes.hist(values, bins=_bins(values), color=color, alpha=0.75)
        levels = result.quantiles.index.to_numpy(dtype=np.float64)
        for level, value in zip(levels, result.quantiles[column].to_numpy(np.float64), strict=True):
            axes.axvline(
                value,
                color=_NEUTRAL_COLOR,
                linestyle="--",
                linewidth=1.0,
                label=f"{level * 100:g} % quantile: {value:.2f}",
            )
        axes.axvline(
            observed, color=_OBSERVED_COLOR, linewidth=1.4, label=f"As traded: {observed:.2f}"
        )
        axes.set_xlabel(label)
        axes.set_ylabel("Simulations")
        axes.legend(loc="upper right", frameon=False, fontsize=8)
        axes.grid(alpha=0.3)
    return_axes.set_title(
        f"{len(result.simulations):,} {result.method} simulations of {result.n_trades} trades",
        fontsize=10,
    )
    drawdown_axes.set_title(f"Ruin in {result.ruin_probability:.1%} of them", fontsize=10)
    return figure


def _figure(panels: int, title: str | None) -> Figure:
    figure = Figure(figsize=(5.5 * panels, 4.5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    for index in range(panels):
        figure.add_subplot(1, panels, index + 1)  # reached through figure.axes, in panel order
    if title:
        figure.suptitle(title)
    return figure


def _bins(values: npt.NDArray[np.float64]) -> int:
    """Enough bins to show the shape, never more than distinct values (logits are discrete)."""
    distinct = len(np.unique(values[np.isfinite(values)]))
    return max(1, min(_BINS, distinct))


def _collapse_rounding(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """One value for a distribution that differs only by rounding (shuffled trades summed in
    another order end within 1e-11 of each other), so it draws as the single bar it is."""
    if len(values) and np.ptp(values) <= 1e-9 * max(1.0, float(np.abs(values).max())):
        return np.full_like(values, float(np.median(values)))
    return values
