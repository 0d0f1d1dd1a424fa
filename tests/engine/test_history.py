"""History windows: cheap reductions equal numpy's, and the window behaves as an array."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtestr.engine.history import MAX_CACHED_WINDOW, Series, Window


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.floats(0.5, 2.0), min_size=1, max_size=80),
    n=st.integers(1, 30),
    data=st.data(),
)
def test_window_reductions_equal_numpy_on_the_same_bars(
    values: list[float], n: int, data: st.DataObject
) -> None:
    series = Series(np.asarray(values))
    end = data.draw(st.integers(0, len(values)))
    window = Window(series, end, n)
    array = np.asarray(window)
    assert len(array) == n
    for name in ("mean", "sum", "min", "max", "std"):
        expected = getattr(np, name)(array)
        got = getattr(window, name)()
        if np.isnan(expected):
            assert np.isnan(got), name
        else:
            assert got == pytest.approx(expected, rel=1e-12, abs=1e-12), name


def test_window_reaching_before_the_data_is_nan_padded() -> None:
    window = Window(Series(np.array([1.0, 2.0, 3.0])), 2, 4)
    assert np.isnan(np.asarray(window)[:2]).all()
    assert np.isnan(window.mean())
    assert window[-1] == 2.0
    assert np.isnan(window[0])


def test_window_behaves_as_a_read_only_numpy_array() -> None:
    series = Series(np.arange(10, dtype=np.float64))
    window = Window(series, 6, 3)  # values 3, 4, 5
    assert window[-1] == 5.0
    assert window[0] == 3.0
    assert list(window) == [3.0, 4.0, 5.0]
    np.testing.assert_array_equal(window * 2, [6.0, 8.0, 10.0])
    np.testing.assert_array_equal(1 + window, [4.0, 5.0, 6.0])
    np.testing.assert_array_equal(window[1:], [4.0, 5.0])
    assert window.shape == (3,)
    assert window.argmax() == 2
    assert np.median(window) == 4.0
    assert window.mean(axis=0) == 4.0
    with pytest.raises(ValueError, match="read-only"):
        np.asarray(window)[0] = 1.0
    with pytest.raises(IndexError):
        window[3]


def test_long_windows_are_reduced_without_a_cache() -> None:
    values = np.linspace(1.0, 2.0, 2000)
    window = Window(Series(values), 1500, MAX_CACHED_WINDOW + 100)
    assert window.mean() == pytest.approx(values[1500 - MAX_CACHED_WINDOW - 100 : 1500].mean())


def test_reductions_read_as_plain_python_floats() -> None:
    # the strategy compares them with Python numbers on every bar: no numpy scalars
    window = Window(Series(np.array([1.0, 2.0, 3.0, 4.0])), 4, 2)
    assert type(window.mean()) is float
    assert type(window[-1]) is float
    assert window.mean() == 3.5
