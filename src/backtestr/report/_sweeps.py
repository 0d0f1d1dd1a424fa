"""Plots of a parameter sweep, from its results table (one row per trial: a column per
parameter and an objective column), so that this package needs nothing of the optimizer.

- :func:`plot_sweep_heatmap`: the objective over two parameters, each cell aggregating the
  trials that share those two values (the best or the median over the other parameters).
- :func:`plot_parameter_stability`: for each parameter, how the objective moves with its value:
  the median and interquartile band over every other parameter, and the best set's
  neighbourhood (only this parameter varied). A robust choice sits on a plateau, not a spike.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from backtestr.errors import ConfigError

__all__ = ["plot_parameter_stability", "plot_sweep_heatmap"]

_AGGREGATES = ("max", "median")
_LINE = "#1f5fa8"
_BEST = "#c0392b"


def _check(frame: pd.DataFrame, columns: Sequence[str], objective: str) -> pd.DataFrame:
    missing = [c for c in (*columns, objective) if c not in frame.columns]
    if missing:
        raise ConfigError(
            f"The sweep results have no column {', '.join(missing)}; "
            f"columns: {', '.join(map(str, frame.columns))}."
        )
    defined = frame[frame[objective].notna()]
    if defined.empty:
        raise ConfigError(f"No trial has a defined {objective}: nothing to plot.")
    return defined


def plot_sweep_heatmap(
    frame: pd.DataFrame,
    x: str,
    y: str,
    *,
    objective: str = "objective",
    aggregate: str = "max",
    maximize: bool = True,
    title: str | None = None,
) -> Figure:
    """The objective over parameters ``x`` and ``y``; the best cell is outlined and labelled.

    Parameters
    ----------
    frame
        Sweep results: columns ``x``, ``y`` and ``objective`` (other columns are ignored).
    aggregate
        How the trials of one cell (different values of the other parameters) are combined:
        ``max`` (the best, or the smallest when not ``maximize``) or ``median``.
    maximize
        Whether larger objective values are better (colours: brighter is better).

    Examples
    --------
    >>> results = pd.DataFrame(
    ...     {"fast": [5, 5, 10], "slow": [20, 30, 30], "objective": [1.0, 2.0, 0.5]}
    ... )
    >>> figure = plot_sweep_heatmap(results, "fast", "slow")
    >>> len(figure.axes)  # the map and its colour bar
    2
    """
    if aggregate not in _AGGREGATES:
        raise ConfigError(f"Unknown aggregate '{aggregate}': use max or median.")
    if x == y:
        raise ConfigError(f"A heatmap needs two different parameters, got {x} twice.")
    defined = _check(frame, (x, y), objective)
    how: Literal["median", "max", "min"] = (
        "median" if aggregate == "median" else ("max" if maximize else "min")
    )
    table = defined.pivot_table(index=y, columns=x, values=objective, aggfunc=how).sort_index()
    table = table.reindex(sorted(table.columns), axis=1)
    values = table.to_numpy(dtype=np.float64)

    size = (max(6.0, 0.6 * values.shape[1] + 3), max(4.5, 0.45 * values.shape[0] + 2))
    figure = Figure(figsize=size, dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    image = axes.imshow(
        np.ma.masked_invalid(values),
        origin="lower",
        aspect="auto",
        cmap="viridis" if maximize else "viridis_r",
        interpolation="nearest",
    )
    figure.colorbar(
        image,
        ax=axes,
        label=f"{objective} ({'best' if how != 'median' else 'median'} over other parameters)",
    )
    axes.set_xticks(range(len(table.columns)), [_label(v) for v in table.columns], rotation=45)
    axes.set_yticks(range(len(table.index)), [_label(v) for v in table.index])
    axes.set_xlabel(x)
    axes.set_ylabel(y)
    finite = np.isfinite(values)
    flat = np.nanargmax(values) if maximize else np.nanargmin(values)
    row, column = (int(i) for i in np.unravel_index(flat, values.shape))
    if values.size <= 400:  # small enough to print every value legibly
        for i, j in zip(*np.nonzero(finite), strict=True):
            axes.text(j, i, f"{values[i, j]:.3g}", ha="center", va="center", fontsize=7,
                      color="white")  # fmt: skip
    axes.add_patch(
        Rectangle((column - 0.5, row - 0.5), 1, 1, fill=False, edgecolor=_BEST, linewidth=2.5)
    )
    best_text = (
        f"best {x}={_label(list(table.columns)[column])}, {y}={_label(list(table.index)[row])}: "
        f"{values[row, column]:.4g}"
    )
    axes.set_title(title or f"{objective} over {x} × {y}\n{best_text}")
    return figure


def plot_parameter_stability(
    frame: pd.DataFrame,
    params: Sequence[str],
    *,
    objective: str = "objective",
    best: Mapping[str, object] | None = None,
    title: str | None = None,
) -> Figure:
    """One panel per parameter: the objective against the parameter's value.

    Each panel shows every trial (dots), the median and the interquartile band over the other
    parameters, and, when ``best`` (the best set's parameters) is given, its neighbourhood:
    the trials equal to ``best`` except in this parameter, with the best value marked.

    Examples
    --------
    >>> results = pd.DataFrame(
    ...     {"fast": [5, 5, 10], "slow": [20, 30, 30], "objective": [1.0, 2.0, 0.5]}
    ... )
    >>> len(plot_parameter_stability(results, ["fast", "slow"]).axes)
    2
    """
    if not params:
        raise ConfigError("Name at least one parameter to plot.")
    defined = _check(frame, params, objective)
    columns = min(3, len(params))
    rows = math.ceil(len(params) / columns)
    figure = Figure(figsize=(4.6 * columns, 3.6 * rows), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    grid = figure.subplots(rows, columns, squeeze=False)
    for index, name in enumerate(params):
        axes = grid[index // columns][index % columns]
        others = [p for p in params if p != name]
        _stability_panel(axes, defined, name, others, objective, best)
    for index in range(len(params), rows * columns):
        grid[index // columns][index % columns].set_visible(False)
    figure.suptitle(title or f"Parameter stability of {objective}")
    return figure


def _stability_panel(
    axes: Axes,
    frame: pd.DataFrame,
    name: str,
    others: Sequence[str],
    objective: str,
    best: Mapping[str, object] | None,
) -> None:
    values = sorted(frame[name].unique(), key=_sort_key)
    positions = {v: i for i, v in enumerate(values)}
    numeric = all(
        isinstance(v, int | float | np.number) and not isinstance(v, bool) for v in values
    )

    def where(value: object) -> float:
        return float(value) if numeric else float(positions[value])  # type: ignore[arg-type]

    grouped = frame.groupby(name)[objective]
    xs = np.array([where(v) for v in values])
    median = np.array([grouped.get_group(v).median() for v in values])
    low = np.array([grouped.get_group(v).quantile(0.25) for v in values])
    high = np.array([grouped.get_group(v).quantile(0.75) for v in values])
    axes.scatter([where(v) for v in frame[name]], frame[objective], s=8, color="#999999",
                 alpha=0.5, label="trials")  # fmt: skip
    axes.fill_between(xs, low, high, color=_LINE, alpha=0.2, label="interquartile range")
    axes.plot(xs, median, color=_LINE, marker="o", markersize=3, label="median")
    if best is not None and name in best:
        near = frame
        for other in others:
            if other in best:
                near = near[near[other] == best[other]]
        near = near.sort_values(name, key=lambda s: s.map(_sort_key))
        if len(near):
            axes.plot([where(v) for v in near[name]], near[objective], color=_BEST,
                      marker="s", markersize=3, label="best set's neighbourhood")  # fmt: skip
        if best[name] in positions:
            axes.axvline(where(best[name]), color=_BEST, linestyle="--", linewidth=1)
    if not numeric:
        axes.set_xticks(range(len(values)), [_label(v) for v in values])
    axes.set_xlabel(name)
    axes.set_ylabel(objective)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7)


def _sort_key(value: object) -> tuple[int, float, str]:
    if isinstance(value, int | float | np.number) and not isinstance(value, bool):
        return (0, float(value), "")
    return (1, 0.0, str(value))


def _label(value: object) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:g}"
    return str(value)
