"""The walk-forward plot: chained out-of-sample equity, the window layout, and in-sample versus
out-of-sample objective per window. Takes plain pandas objects (no optimiser types)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from backtestr.errors import ConfigError
from backtestr.report._plots import _envelope, _naive_utc

__all__ = ["plot_walk_forward"]

_EQUITY_COLOR = "#1f5fa8"
_TRAIN_COLOR = "#9aa5b1"
_TEST_COLOR = "#e67e22"
_IN_SAMPLE_COLOR = "#7f8c8d"
_OUT_OF_SAMPLE_COLOR = "#1f5fa8"
_WINDOW_COLUMNS = ("train_start", "train_end", "test_start", "test_end")


def plot_walk_forward(
    equity: pd.Series,
    windows: pd.DataFrame,
    *,
    objective: str = "objective",
    title: str | None = None,
) -> Figure:
    """Draw a walk-forward analysis.

    Parameters
    ----------
    equity
        The chained out-of-sample equity on a tz-aware DatetimeIndex.
    windows
        One row per window with tz-aware ``train_start``, ``train_end``, ``test_start``,
        ``test_end`` and numeric ``is_objective`` (best training trial) and ``oos_objective``
        (its test run).
    objective
        The objective's name, for the axis label.

    Returns
    -------
    matplotlib.figure.Figure
        Three panels: the equity with the test windows shaded (alternating), the windows'
        training (grey) and test (orange) spans, and the objective in and out of sample per
        window.

    Raises
    ------
    ConfigError
        On an empty equity curve, no windows, or missing columns.
    """
    if len(equity) == 0:
        raise ConfigError("Cannot plot an empty walk-forward equity curve.")
    missing = [c for c in (*_WINDOW_COLUMNS, "is_objective", "oos_objective") if c not in windows]
    if len(windows) == 0 or missing:
        raise ConfigError(
            "Cannot plot a walk-forward without windows"
            + (f" (missing columns: {', '.join(missing)})." if missing else ".")
        )
    figure = Figure(figsize=(11, 8.5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    top, layout, scores = figure.subplots(
        3, 1, gridspec_kw={"height_ratios": [3, 1.2, 1.6]}, squeeze=True
    )
    layout.sharex(top)
    spans = {c: _naive_utc(pd.DatetimeIndex(windows[c])) for c in _WINDOW_COLUMNS}

    times = _naive_utc(pd.DatetimeIndex(equity.index))
    values = equity.to_numpy(dtype=np.float64)
    shown = _envelope(values)
    for k, (start, end) in enumerate(zip(spans["test_start"], spans["test_end"], strict=True)):
        top.axvspan(start, end, color=_TEST_COLOR, alpha=0.10 if k % 2 else 0.20, linewidth=0)
    top.plot(times[shown], values[shown], color=_EQUITY_COLOR, linewidth=1.2,
             label="Out-of-sample equity (chained)")  # fmt: skip
    top.set_ylabel("Equity")
    top.grid(alpha=0.3)
    top.legend(loc="upper left", frameon=False)
    if title:
        top.set_title(f"Walk-forward {title}")

    rows = np.arange(len(windows))
    layout.barh(rows, spans["train_end"] - spans["train_start"], left=spans["train_start"],
                height=0.6, color=_TRAIN_COLOR, label="Train")  # fmt: skip
    layout.barh(rows, spans["test_end"] - spans["test_start"], left=spans["test_start"],
                height=0.6, color=_TEST_COLOR, label="Test")  # fmt: skip
    layout.invert_yaxis()
    layout.set_ylabel("Window")
    layout.set_yticks([])
    layout.legend(loc="lower left", frameon=False, ncols=2)
    layout.set_xlabel("Time (UTC)")

    width = 0.4
    in_sample = windows["is_objective"].to_numpy(dtype=np.float64)
    out_of_sample = windows["oos_objective"].to_numpy(dtype=np.float64)
    scores.bar(rows - width / 2, in_sample, width, color=_IN_SAMPLE_COLOR, label="In sample")
    scores.bar(rows + width / 2, out_of_sample, width, color=_OUT_OF_SAMPLE_COLOR,
               label="Out of sample")  # fmt: skip
    scores.axhline(0.0, color="black", linewidth=0.6)
    scores.set_ylabel(objective)
    scores.set_xticks(rows, [_label(t) for t in pd.DatetimeIndex(windows["test_start"])],
                      rotation=45 if len(rows) > 8 else 0, fontsize=8)  # fmt: skip
    scores.set_xlabel("Test window")
    scores.grid(alpha=0.3, axis="y")
    scores.legend(loc="upper left", frameon=False, ncols=2)
    return figure


def _label(start: pd.Timestamp) -> str:
    return start.strftime("%Y-%m" if start.day == 1 else "%Y-%m-%d")
