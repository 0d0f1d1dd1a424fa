"""Steps mapped onto bars and quotes (engine.step_map), against the vectorised definitions."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from backtestr.engine.step_map import bar_marks, quote_step_ends
from backtestr.model import BarArrays


def _sorted_times(draw: st.DrawFn, size: int, unique: bool) -> np.ndarray:
    values = draw(st.lists(st.integers(0, 60), min_size=size, max_size=size, unique=unique))
    return np.sort(np.asarray(values, dtype=np.int64))


@settings(max_examples=150, deadline=None)
@given(st.data(), st.integers(0, 50), st.integers(0, 30))
def test_quote_step_ends_is_searchsorted_left(data: st.DataObject, quotes: int, steps: int) -> None:
    quote_ns = _sorted_times(data.draw, quotes, unique=False)
    close_ns = _sorted_times(data.draw, steps, unique=True)
    expected = np.searchsorted(quote_ns, close_ns, side="left")
    assert quote_step_ends(quote_ns, close_ns).tolist() == expected.tolist()


def _ffill(values: np.ndarray) -> np.ndarray:
    """Forward fill, then the first value back over leading NaNs (all NaN stays NaN)."""
    mask = np.isnan(values)
    if not mask.any() or mask.all():
        return values
    index = np.where(~mask, np.arange(len(values)), 0)
    out = values[np.maximum.accumulate(index)]
    out[: int(np.argmax(~mask))] = values[int(np.argmax(~mask))]
    return out


maybe_missing = st.one_of(st.floats(0.5, 2.0), st.just(np.nan))


@settings(max_examples=150, deadline=None)
@given(st.data(), st.integers(1, 40), st.integers(1, 40))
def test_bar_marks_match_the_vectorised_mapping(
    data: st.DataObject, bar_count: int, step_count: int
) -> None:
    bar_ns = _sorted_times(data.draw, min(bar_count, 61), unique=True)
    step_ns = _sorted_times(data.draw, step_count, unique=True)
    n = len(bar_ns)
    close = np.asarray(data.draw(st.lists(maybe_missing, min_size=n, max_size=n)))
    spread = np.asarray(
        data.draw(st.lists(st.one_of(st.floats(0.0, 0.01), st.just(np.inf), st.just(np.nan)),
                           min_size=n, max_size=n))
    )  # fmt: skip
    bars = BarArrays.from_ohlc(bar_ns, close, close, close, close, np.ones(n))
    bars = BarArrays(**{**bars.columns(), "spread_avg": spread})

    index = np.searchsorted(bar_ns, step_ns, side="right") - 1
    safe = np.maximum(index, 0)
    clean = spread.copy()
    clean[~np.isfinite(clean)] = 0.0002
    bid = close[safe].copy()
    ask = bid + clean[safe]
    bid[index < 0] = np.nan
    ask[index < 0] = np.nan

    marks = bar_marks(bars, step_ns, 0.0002)

    assert marks.ends.tolist() == (index + 1).tolist()
    assert marks.fresh.tolist() == (bar_ns[safe] == step_ns).tolist()
    for got, expected in ((marks.bid, _ffill(bid)), (marks.ask, _ffill(ask))):
        assert np.array_equal(got, expected, equal_nan=True)
        assert np.array_equal(
            np.nan_to_num(got).view(np.int64), np.nan_to_num(expected).view(np.int64)
        )
