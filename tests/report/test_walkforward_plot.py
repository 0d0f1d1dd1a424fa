"""plot_walk_forward: chained equity with the test windows shaded, the window layout, and the
objective in and out of sample per window."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backtestr.errors import ConfigError
from backtestr.report import plot_walk_forward, save_figure


@pytest.fixture
def windows() -> pd.DataFrame:
    months = pd.date_range("2024-01-01", periods=6, freq="MS", tz="UTC")
    return pd.DataFrame(
        {
            "train_start": months[:3],
            "train_end": months[2:5],
            "test_start": months[2:5],
            "test_end": months[3:6],
            "is_objective": [1.5, 2.0, 0.8],
            "oos_objective": [0.4, -0.3, 1.1],
        }
    )


@pytest.fixture
def chained(windows: pd.DataFrame) -> pd.Series:
    index = pd.date_range(windows["test_start"].iloc[0], windows["test_end"].iloc[-1],
                          freq="h", inclusive="left")  # fmt: skip
    steps = np.random.default_rng(3).normal(0.0, 0.001, len(index))
    return pd.Series(10_000.0 * np.cumprod(1.0 + steps), index=index)


def test_three_panels_show_equity_windows_and_objectives(
    chained: pd.Series, windows: pd.DataFrame
) -> None:
    figure = plot_walk_forward(chained, windows, objective="sharpe_ratio", title="train=2M")
    top, layout, scores = figure.axes
    assert top.get_lines()[0].get_ydata() == pytest.approx(chained.to_numpy())
    assert len(top.patches) == 3  # one shaded span per test window
    assert top.get_title() == "Walk-forward train=2M"
    bars = [p.get_width() for p in layout.patches]
    assert len(bars) == 6  # a train and a test bar per window
    assert scores.get_ylabel() == "sharpe_ratio"
    heights = [p.get_height() for p in scores.patches]
    assert heights == [1.5, 2.0, 0.8, 0.4, -0.3, 1.1]
    assert [t.get_text() for t in scores.get_xticklabels()] == ["2024-03", "2024-04", "2024-05"]


def test_it_saves_as_png_and_svg(chained: pd.Series, windows: pd.DataFrame, tmp_path: Path) -> None:
    figure = plot_walk_forward(chained, windows)
    assert save_figure(figure, tmp_path / "wf.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    ElementTree.parse(save_figure(figure, tmp_path / "wf.svg"))


def test_nothing_to_plot_is_an_error(chained: pd.Series, windows: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="empty"):
        plot_walk_forward(chained.iloc[:0], windows)
    with pytest.raises(ConfigError, match="missing columns: oos_objective"):
        plot_walk_forward(chained, windows.drop(columns="oos_objective"))
