"""Candlestick charts of bars (matplotlib, off-screen), with the spread below when known."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from backtestr.errors import ConfigError
from backtestr.model import BarArrays

__all__ = ["plot_bars"]

_UP = "#1e8449"
_DOWN = "#c0392b"
_SPREAD = "#7f8c8d"


def plot_bars(
    bars: BarArrays,
    *,
    title: str | None = None,
    last: int = 250,
    pip_size: float | None = None,
) -> Figure:
    """Draw the last ``last`` bars as candles; add the average spread when bars carry it.

    Bars are placed side by side (weekends and other gaps take no room, as on a trading
    chart); the time axis is labelled with each bar's UTC open time.

    Parameters
    ----------
    bars
        The bars to draw.
    title
        Text above the chart.
    last
        How many of the most recent bars to draw.
    pip_size
        When given, the spread panel is in pips; otherwise in price units.
    """
    if len(bars) == 0:
        raise ConfigError("Cannot plot an empty series of bars.")
    shown = bars.slice(max(0, len(bars) - last), len(bars))
    has_spread = bool(np.isfinite(shown.spread_avg).any())
    figure = Figure(figsize=(11, 6.5 if has_spread else 5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    if has_spread:
        top, bottom = figure.subplots(
            2, 1, sharex=True, gridspec_kw={"height_ratios": [4, 1]}, squeeze=True
        )
    else:
        top, bottom = figure.subplots(1, 1), None
    x = np.arange(len(shown))
    rising = shown.close >= shown.open
    colors = np.where(rising, _UP, _DOWN)
    top.vlines(x, shown.low, shown.high, colors=colors, linewidth=0.8)
    body_low = np.minimum(shown.open, shown.close)
    body_height = np.abs(shown.close - shown.open)
    # a doji still gets a visible body
    body_height = np.maximum(body_height, (shown.high.max() - shown.low.min()) * 0.001)
    top.bar(x, body_height, bottom=body_low, width=0.7, color=colors, linewidth=0)
    top.set_ylabel("Price")
    top.grid(alpha=0.3)
    if title:
        top.set_title(title)
    if bottom is not None:
        scale = 1.0 / pip_size if pip_size else 1.0
        bottom.fill_between(x, shown.spread_avg * scale, color=_SPREAD, alpha=0.5, step="mid")
        bottom.set_ylabel("Spread (pips)" if pip_size else "Spread")
        bottom.grid(alpha=0.3)
    axis = bottom if bottom is not None else top
    ticks = np.linspace(0, len(shown) - 1, num=min(8, len(shown))).astype(int)
    labels = pd.to_datetime(shown.ts_ns[ticks], utc=True).strftime("%Y-%m-%d\n%H:%M")
    axis.set_xticks(ticks, labels)
    axis.set_xlim(-1, len(shown))
    return figure
