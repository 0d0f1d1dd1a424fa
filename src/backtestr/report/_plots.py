"""Result plots with matplotlib, drawn off-screen (no pyplot, no display, no global state)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import matplotlib
import numpy as np
import numpy.typing as npt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from backtestr.errors import ConfigError
from backtestr.stats import drawdown as drawdown_of

__all__ = ["plot_equity", "save_figure"]

_EQUITY_COLOR = "#1f5fa8"
_DRAWDOWN_COLOR = "#c0392b"
_LONG_COLOR = "#1e8449"
_SHORT_COLOR = "#c0392b"
_FORMATS = {".png": "png", ".svg": "svg"}
_BUCKETS = 2_000  # ~ twice the pixel width of the figure


def plot_equity(
    equity: pd.Series,
    drawdown: bool = True,
    trades: pd.DataFrame | None = None,
    *,
    title: str | None = None,
) -> Figure:
    """Draw the equity curve, optionally above its drawdown and with trade markers.

    Parameters
    ----------
    equity
        Account equity on a tz-aware DatetimeIndex (as given to ``compute_statistics``).
    drawdown
        Add a lower panel with the drawdown from the running peak, in percent below zero.
    trades
        A trade list (``backtestr.stats.TRADE_COLUMNS``): entries are marked with triangles
        (up for long, green; down for short, red) and exits with dots, on the equity line.
    title
        Text above the figure.

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to pyplot: save it with :func:`save_figure` or show it in Jupyter.

    Examples
    --------
    >>> index = pd.date_range("2024-01-01", periods=3, freq="D", tz="UTC")
    >>> figure = plot_equity(pd.Series([100.0, 95.0, 110.0], index=index))
    >>> len(figure.axes)
    2
    """
    if len(equity) == 0:
        raise ConfigError("Cannot plot an empty equity curve.")
    figure = Figure(figsize=(11, 6.5 if drawdown else 4.5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    if drawdown:
        top, bottom = figure.subplots(
            2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]}, squeeze=True
        )
    else:
        top, bottom = figure.subplots(1, 1), None
    times = _naive_utc(pd.DatetimeIndex(equity.index))
    values = equity.to_numpy(dtype=np.float64)
    shown = _envelope(values)

    top.plot(times[shown], values[shown], color=_EQUITY_COLOR, linewidth=1.2, label="Equity")
    top.set_ylabel("Equity")
    top.grid(alpha=0.3)
    if trades is not None and len(trades):
        _mark_trades(top, equity, trades)
    top.legend(loc="upper left", frameon=False)
    if title:
        top.set_title(title)

    if bottom is not None:
        depth = -drawdown_of(equity).to_numpy() * 100.0
        kept = _envelope(depth)
        depth_times, depth = times[kept], depth[kept]
        bottom.fill_between(depth_times, depth, 0.0, color=_DRAWDOWN_COLOR, alpha=0.35, linewidth=0)
        bottom.plot(depth_times, depth, color=_DRAWDOWN_COLOR, linewidth=0.8)
        bottom.set_ylabel("Drawdown %")
        bottom.grid(alpha=0.3)
        bottom.set_xlabel("Time (UTC)")
    else:
        top.set_xlabel("Time (UTC)")
    return figure


def _envelope(values: npt.NDArray[np.float64]) -> npt.NDArray[np.intp]:
    """Indices of the points worth drawing: all of a short series; of a long one, the lowest
    and highest point of each of ``_BUCKETS`` time buckets (plus both ends), in time order.

    A million-point line draws no differently at screen resolution from its per-pixel extremes,
    so peaks and troughs — and with them the drawdowns — stay exact while drawing is fast.
    """
    count = len(values)
    if count <= 4 * _BUCKETS:
        return np.arange(count)
    width = -(-count // _BUCKETS)
    padded = np.concatenate((values, np.full(_BUCKETS * width - count, values[-1])))
    rows = padded.reshape(_BUCKETS, width)
    starts = np.arange(_BUCKETS) * width
    chosen = np.concatenate(
        (starts + rows.argmin(axis=1), starts + rows.argmax(axis=1), [0, count - 1])
    )
    return np.unique(np.minimum(chosen, count - 1))


def _naive_utc(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    # matplotlib's date axis would localise tz-aware times to its own rc timezone
    return index.tz_convert("UTC").tz_localize(None) if index.tz is not None else index


def _mark_trades(axes: Axes, equity: pd.Series, trades: pd.DataFrame) -> None:
    curve = pd.Series(equity.to_numpy(dtype=np.float64), index=pd.DatetimeIndex(equity.index))
    for side, marker, color, label in (
        ("long", "^", _LONG_COLOR, "Long entry"),
        ("short", "v", _SHORT_COLOR, "Short entry"),
    ):
        chosen = trades[trades["side"] == side]
        if len(chosen) == 0:
            continue
        entries = pd.DatetimeIndex(chosen["entry_time"])
        exits = pd.DatetimeIndex(chosen["exit_time"])
        axes.scatter(
            _naive_utc(entries),
            _equity_at(curve, entries),
            marker=marker,
            s=36,
            color=color,
            label=label,
            zorder=3,
        )
        axes.scatter(
            _naive_utc(exits),
            _equity_at(curve, exits),
            marker="o",
            s=14,
            facecolors="none",
            edgecolors=color,
            zorder=3,
        )


def _equity_at(curve: pd.Series, times: pd.DatetimeIndex) -> npt.NDArray[np.float64]:
    """Equity at the last point at or before each time (the first point for earlier times)."""
    stamps = pd.DatetimeIndex(curve.index).as_unit("ns").asi8
    positions = np.searchsorted(stamps, times.tz_convert("UTC").as_unit("ns").asi8, side="right")
    values = curve.to_numpy(dtype=np.float64)
    result: npt.NDArray[np.float64] = values[np.clip(positions - 1, 0, len(values) - 1)]
    return result


def save_figure(figure: Figure, path: str | Path) -> Path:
    """Write a figure as PNG or SVG (chosen by the file's suffix), atomically.

    The image is written to a temporary file in the same folder and renamed, so a reader never
    sees half a file.

    Raises
    ------
    ConfigError
        When the suffix is neither ``.png`` nor ``.svg``.
    """
    target = Path(path)
    image_format = _FORMATS.get(target.suffix.lower())
    if image_format is None:
        raise ConfigError(f"Cannot save a figure as '{target.name}': use a .png or .svg file name.")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp", delete=False
    ) as handle:
        temporary = Path(handle.name)
        try:
            # a fixed salt makes SVG element ids, and so the file, reproducible
            with matplotlib.rc_context({"svg.hashsalt": "backtestr"}):
                figure.savefig(handle, format=image_format, metadata=_metadata(image_format))
        except BaseException:
            handle.close()
            temporary.unlink(missing_ok=True)
            raise
    temporary.replace(target)
    return target


def _metadata(image_format: str) -> dict[str, str | None]:
    # no creation date: the same run gives the same bytes
    if image_format == "svg":
        return {"Date": None}
    return {"Software": "BackTestr"}
