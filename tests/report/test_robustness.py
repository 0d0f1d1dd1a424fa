"""Plots of the robustness statistics render as PNG with the panels, labels and marks they claim."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from backtestr.report import plot_deflated_sharpe, plot_monte_carlo, plot_pbo, save_figure
from backtestr.stats import (
    BacktestOverfitting,
    deflated_sharpe_from_returns,
    monte_carlo_trades,
    probability_of_backtest_overfitting,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def overfitting() -> BacktestOverfitting:
    returns = np.random.default_rng(12).normal(0.0, 0.01, size=(320, 12))
    return probability_of_backtest_overfitting(returns, n_splits=8)


def _png(figure: object, path: Path) -> bytes:
    written = save_figure(figure, path)  # type: ignore[arg-type]
    data = written.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 10_000
    return data


def test_pbo_plot_shows_the_logits_and_the_degradation(
    tmp_path: Path, overfitting: BacktestOverfitting
) -> None:
    figure = plot_pbo(overfitting, title="Sweep 3")
    logits, scatter = figure.axes
    assert logits.get_xlabel() == "Logit of the out-of-sample rank"
    assert logits.get_ylabel() == "Combinations"
    assert f"PBO = {overfitting.pbo:.1%}" in logits.get_title()
    # the bars hold every combination; the red ones, at or left of 0, are the PBO's share
    heights = [patch.get_height() for patch in logits.patches]
    assert sum(heights) == pytest.approx(overfitting.n_combinations)
    assert scatter.get_xlabel() == "In-sample sharpe_ratio"
    assert scatter.get_ylabel() == "Out-of-sample sharpe_ratio"
    points = scatter.collections[0].get_offsets()
    assert len(points) == overfitting.n_combinations
    fit = scatter.get_lines()[-1]
    (x0, x1), (y0, y1) = fit.get_xdata(), fit.get_ydata()
    assert (y1 - y0) / (x1 - x0) == pytest.approx(overfitting.degradation_slope)
    assert figure.get_suptitle() == "Sweep 3"
    _png(figure, tmp_path / "pbo.png")


def test_pbo_plot_of_a_dominant_trial_has_no_overfit_mass(tmp_path: Path) -> None:
    returns = np.random.default_rng(1).normal(0.0, 0.01, size=(160, 4))
    returns[:, 2] = returns.max(axis=1) + 0.01
    figure = plot_pbo(probability_of_backtest_overfitting(returns, n_splits=8))
    assert "PBO = 0.0%" in figure.axes[0].get_title()
    _png(figure, tmp_path / "pbo.png")


def test_deflated_sharpe_plot_marks_luck_and_the_selected_trial(tmp_path: Path) -> None:
    returns = np.random.default_rng(2).normal(0.0002, 0.01, size=(500, 25))
    result = deflated_sharpe_from_returns(returns, periods_per_year=252.0)
    (axes,) = plot_deflated_sharpe(result).axes
    assert axes.get_xlabel() == "Sharpe ratio (annualised)"
    assert axes.get_ylabel() == "Trials"
    expected, selected = (line.get_xdata()[0] for line in axes.get_lines())
    assert expected == pytest.approx(result.expected_max_sharpe_annualised)
    assert selected == pytest.approx(result.sharpe_ratio_annualised)
    assert sum(patch.get_height() for patch in axes.patches) == 25
    assert f"{result.deflated_sharpe_ratio:.3f}" in axes.get_title()
    per_period = plot_deflated_sharpe(deflated_sharpe_from_returns(returns)).axes[0]
    assert per_period.get_xlabel() == "Sharpe ratio (per period)"
    _png(plot_deflated_sharpe(result), tmp_path / "dsr.png")


def test_monte_carlo_plot_marks_quantiles_and_the_traded_order(tmp_path: Path) -> None:
    pnls = np.random.default_rng(3).normal(15.0, 120.0, 150)
    result = monte_carlo_trades(pnls, 10_000.0, n_sims=400, method="bootstrap")
    returns, drawdowns = plot_monte_carlo(result).axes
    assert (returns.get_xlabel(), drawdowns.get_xlabel()) == ("Final return %", "Max drawdown %")
    assert returns.get_ylabel() == drawdowns.get_ylabel() == "Simulations"
    marks = [line.get_xdata()[0] for line in drawdowns.get_lines()]
    assert marks == pytest.approx(
        [*result.quantiles["max_drawdown_pct"].tolist(), result.observed_max_drawdown_pct]
    )
    assert sum(patch.get_height() for patch in drawdowns.patches) == 400
    _png(plot_monte_carlo(result), tmp_path / "monte_carlo.png")


def test_a_shuffle_draws_one_return_bar(tmp_path: Path) -> None:
    pnls = np.random.default_rng(4).normal(10.0, 100.0, 300)
    result = monte_carlo_trades(pnls, 10_000.0, n_sims=200)
    returns = plot_monte_carlo(result).axes[0]
    tall = [patch for patch in returns.patches if patch.get_height() > 0]
    assert len(tall) == 1
    assert tall[0].get_height() == 200
    assert not math.isclose(returns.get_xlim()[0], returns.get_xlim()[1])
    _png(plot_monte_carlo(result), tmp_path / "shuffle.png")
