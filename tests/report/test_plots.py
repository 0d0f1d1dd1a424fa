"""plot_equity and save_figure: off-screen figures written as valid PNG and SVG files."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

from backtestr.errors import ConfigError
from backtestr.report import plot_equity, save_figure

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_equity_and_drawdown_panels_share_the_time_axis(equity: pd.Series) -> None:
    figure = plot_equity(equity)
    top, bottom = figure.axes
    assert top.get_ylabel() == "Equity"
    assert bottom.get_ylabel() == "Drawdown %"
    line = top.get_lines()[0]
    assert list(line.get_ydata()) == pytest.approx(list(equity.to_numpy()))
    # the drawdown panel is drawn below zero, down to the deepest drawdown
    depth = bottom.get_lines()[0].get_ydata()
    peak = equity.cummax()
    assert min(depth) == pytest.approx(-((1 - equity / peak).max()) * 100)
    assert max(depth) == 0.0


def test_without_drawdown_there_is_one_panel(equity: pd.Series) -> None:
    assert len(plot_equity(equity, drawdown=False, title="Run 7").axes) == 1


def test_trade_entries_are_marked_by_side(equity: pd.Series, trades: pd.DataFrame) -> None:
    top = plot_equity(equity, trades=trades).axes[0]
    labels = [collection.get_label() for collection in top.collections]
    assert "Long entry" in labels
    assert "Short entry" in labels
    long_entries = top.collections[labels.index("Long entry")].get_offsets()
    assert len(long_entries) == 2
    assert long_entries[0][1] == pytest.approx(equity.iloc[10])


def test_plotting_does_not_touch_pyplot_or_the_backend() -> None:
    backend = matplotlib.get_backend()
    index = pd.date_range("2024-01-01", periods=2, freq="D", tz="UTC")
    plot_equity(pd.Series([1.0, 2.0], index=index))
    assert matplotlib.get_backend() == backend


def test_a_single_point_and_an_empty_curve(tmp_path: Path) -> None:
    index = pd.DatetimeIndex(["2024-01-01"], tz="UTC")
    save_figure(plot_equity(pd.Series([5.0], index=index)), tmp_path / "one.png")
    assert (tmp_path / "one.png").read_bytes().startswith(PNG_SIGNATURE)
    with pytest.raises(ConfigError, match="empty"):
        plot_equity(pd.Series([], dtype=float, index=pd.DatetimeIndex([], tz="UTC")))


def test_save_figure_writes_png_and_svg(tmp_path: Path, equity: pd.Series) -> None:
    figure = plot_equity(equity)
    png = save_figure(figure, tmp_path / "out" / "equity.png")
    svg = save_figure(figure, tmp_path / "equity.SVG")
    assert png.read_bytes().startswith(PNG_SIGNATURE)
    assert png.stat().st_size > 10_000
    root = ElementTree.parse(svg).getroot()
    assert root.tag.endswith("svg")
    assert sorted(path.name for path in tmp_path.rglob("*")) == ["equity.SVG", "equity.png", "out"]


def test_save_figure_refuses_other_formats(tmp_path: Path, equity: pd.Series) -> None:
    with pytest.raises(ConfigError, match=r"\.png or \.svg"):
        save_figure(plot_equity(equity), tmp_path / "equity.jpg")
    assert list(tmp_path.iterdir()) == []


def test_the_same_figure_gives_the_same_bytes(tmp_path: Path, equity: pd.Series) -> None:
    first = save_figure(plot_equity(equity), tmp_path / "a.svg").read_bytes()
    second = save_figure(plot_equity(equity), tmp_path / "b.svg").read_bytes()
    assert first == second


def test_long_curves_are_thinned_but_keep_every_peak_and_trough() -> None:
    rng = np.random.default_rng(3)
    values = 1_000.0 + np.cumsum(rng.normal(0.0, 1.0, 60_000))
    values[12_345] = values.max() + 50.0  # a one-minute spike must still show
    index = pd.date_range("2024-01-01", periods=len(values), freq="min", tz="UTC")
    curve = pd.Series(values, index=index)
    top, bottom = plot_equity(curve).axes
    drawn = np.asarray(top.get_lines()[0].get_ydata())
    assert len(drawn) < 10_000
    assert drawn.max() == values.max()
    assert drawn.min() == values.min()
    depth = np.asarray(bottom.get_lines()[0].get_ydata())
    assert depth.min() == pytest.approx(-(1 - values / np.maximum.accumulate(values)).max() * 100)
    times = np.asarray(top.get_lines()[0].get_xdata())
    assert (np.diff(times.astype("datetime64[ns]").astype(np.int64)) > 0).all()
