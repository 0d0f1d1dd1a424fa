"""Drawdown depth per point and drawdown periods."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtestr.stats import drawdown, drawdown_periods
from tests.stats.stats_builders import equity_curve


def test_drawdown_is_the_fall_from_the_running_peak() -> None:
    depth = drawdown(equity_curve([100.0, 80.0, 120.0, 90.0, 130.0]))
    assert depth.to_numpy() == pytest.approx([0.0, 0.2, 0.0, 0.25, 0.0])


def test_periods_run_from_peak_to_recovery_or_to_the_end() -> None:
    curve = equity_curve([100.0, 90.0, 95.0, 100.0, 100.0, 99.0])
    periods = drawdown_periods(curve)
    assert len(periods) == 2
    assert list(periods.start) == [curve.index[0], curve.index[4]]
    assert list(periods.end) == [curve.index[3], curve.index[5]]
    assert periods.recovered.tolist() == [True, False]
    assert periods.depth == pytest.approx([0.1, 0.01])
    assert list(periods.durations) == [pd.Timedelta(days=3), pd.Timedelta(days=1)]


def test_a_rising_curve_has_no_drawdown_period() -> None:
    periods = drawdown_periods(equity_curve([1.0, 2.0, 2.0, 3.0]))
    assert len(periods) == 0
    assert len(periods.durations) == 0


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(1.0, 1e4, allow_nan=False), min_size=1, max_size=80))
def test_periods_cover_exactly_the_points_under_water(values: list[float]) -> None:
    curve = equity_curve(values)
    depth = drawdown(curve).to_numpy()
    periods = drawdown_periods(curve)
    covered = np.zeros(len(values), dtype=bool)
    for start, end, worst in zip(periods.start, periods.end, periods.depth, strict=True):
        inside = (curve.index > start) & (curve.index <= end)
        covered |= inside & (depth > 0)
        assert worst == depth[inside].max()
        assert depth[curve.index.get_loc(start)] == 0.0
    assert (covered == (depth > 0)).all()
    assert ((depth >= 0) & (depth <= 1)).all()


def _reference_periods(values: np.ndarray) -> tuple[np.ndarray, ...]:
    """The straightforward vectorised form: running peak, runs of points under water."""
    peak = np.maximum.accumulate(values)
    depth = np.zeros(len(values))
    positive = peak > 0
    depth[positive] = 1.0 - values[positive] / peak[positive]
    under = depth > 0
    edges = np.diff(np.concatenate(([0], under.astype(np.int8), [0])))
    first = np.flatnonzero(edges == 1)
    after = np.flatnonzero(edges == -1)
    worst = np.maximum.reduceat(depth, first) if len(first) else np.zeros(0)
    return depth, first - 1, np.where(after < len(values), after, len(values) - 1), worst


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(-50.0, 1e4, allow_nan=False),
            st.sampled_from([0.0, -0.0, 100.0, float("nan")]),
        ),
        min_size=1,
        max_size=60,
    )
)
def test_depths_and_periods_match_the_vectorised_computation_bit_for_bit(
    values: list[float],
) -> None:
    curve = equity_curve(values)
    depth, peak_at, end_at, worst = _reference_periods(curve.to_numpy())
    assert np.array_equal(drawdown(curve).to_numpy().view(np.int64), depth.view(np.int64))
    periods = drawdown_periods(curve)
    assert list(periods.start) == list(curve.index[peak_at])
    assert list(periods.end) == list(curve.index[end_at])
    assert np.array_equal(periods.depth.view(np.int64), worst.view(np.int64))
