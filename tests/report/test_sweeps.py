"""Sweep plots: the objective heatmap over two parameters and the parameter-stability view."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backtestr.errors import ConfigError
from backtestr.report import plot_parameter_stability, plot_sweep_heatmap, save_figure

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def results() -> pd.DataFrame:
    rows = [
        {"fast": f, "slow": s, "stop": p, "objective": -((f - 10) ** 2) - (s - 40) ** 2 / 10 + p}
        for f, s, p in itertools.product([5, 10, 15], [30, 40, 50, 60], [1.0, 2.0])
    ]
    rows.append({"fast": 15, "slow": 60, "stop": 3.0, "objective": np.nan})  # no trades
    return pd.DataFrame(rows)


def test_heatmap_takes_the_best_over_other_parameters_and_marks_the_best_cell(
    results: pd.DataFrame, tmp_path: Path
) -> None:
    figure = plot_sweep_heatmap(results, "fast", "slow")
    image = figure.axes[0].get_images()[0].get_array()
    assert image.shape == (4, 3)  # slow rows × fast columns
    assert image[1, 1] == pytest.approx(2.0)  # fast=10, slow=40, best stop=2.0
    assert "best fast=10, slow=40: 2" in figure.axes[0].get_title()
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == ["5", "10", "15"]
    assert len(figure.axes[0].patches) == 1
    path = save_figure(figure, tmp_path / "heat.png")
    assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_heatmap_median_and_minimised_objective(results: pd.DataFrame) -> None:
    median = plot_sweep_heatmap(results, "fast", "slow", aggregate="median")
    assert median.axes[0].get_images()[0].get_array()[1, 1] == pytest.approx(1.5)
    low = plot_sweep_heatmap(results, "fast", "slow", maximize=False)
    assert "best fast=5, slow=60" in low.axes[0].get_title()


def test_stability_shows_median_band_and_best_neighbourhood(results: pd.DataFrame) -> None:
    best = {"fast": 10, "slow": 40, "stop": 2.0}
    figure = plot_parameter_stability(results, ["fast", "slow", "stop"], best=best)
    fast = figure.axes[0]
    median_line, neighbourhood = fast.get_lines()[0], fast.get_lines()[1]
    assert list(median_line.get_xdata()) == [5.0, 10.0, 15.0]
    expected = results.dropna().groupby("fast")["objective"].median().tolist()
    assert list(median_line.get_ydata()) == pytest.approx(expected)
    # the neighbourhood varies fast only: slow=40, stop=2
    assert list(neighbourhood.get_ydata()) == pytest.approx([-23.0, 2.0, -23.0])
    assert len(fast.collections) == 2  # trials and the interquartile band


def test_plots_refuse_what_they_cannot_draw(results: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="no column spread"):
        plot_sweep_heatmap(results, "fast", "spread")
    with pytest.raises(ConfigError, match="two different parameters"):
        plot_sweep_heatmap(results, "fast", "fast")
    with pytest.raises(ConfigError, match="No trial has a defined objective"):
        plot_parameter_stability(results.assign(objective=np.nan), ["fast"])
