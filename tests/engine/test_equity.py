"""Per-step balance, open P&L and exposure rebuilt from a change log (engine.equity).

Differential: the compiled merge walks must give, bit for bit, what the straightforward
vectorised computation gives (last change at or before each step by a cumulative count, then
``np.where`` over the whole curve).
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from backtestr.engine.equity import add_open_pnl, values_at_steps


def _last_change(steps: np.ndarray, n: int) -> np.ndarray:
    return np.cumsum(np.bincount(steps, minlength=n)[:n]) - 1


def _held(steps: np.ndarray, values: np.ndarray, n: int, before: float) -> np.ndarray:
    return np.append(values, before)[_last_change(steps, n)]


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and np.array_equal(a.view(np.int64), b.view(np.int64))


prices = st.floats(0.5, 200.0, allow_nan=False)
amounts = st.sampled_from([0.0, -0.0, 1_000.0, 25_000.5, 100_000.0, 1e-9])


@st.composite
def change_logs(draw: st.DrawFn) -> tuple[int, np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 60))
    m = draw(st.integers(0, 40))
    steps = np.sort(np.asarray(draw(st.lists(st.integers(0, n), min_size=m, max_size=m))))
    # a change recorded after the last step (the end-of-run close) must not show in the curve
    rows = draw(st.lists(st.tuples(amounts, prices, amounts, prices), min_size=m, max_size=m))
    table = np.asarray(rows, dtype=np.float64).reshape(m, 4).T.copy()
    table[1] *= table[0]  # cost = units * entry price
    table[3] *= table[2]
    return n, steps.astype(np.int64), table


@settings(max_examples=100, deadline=None)
@given(change_logs(), st.floats(-1e6, 1e6, allow_nan=False))
def test_values_at_steps_is_the_last_change_at_or_before_each_step(
    log: tuple[int, np.ndarray, np.ndarray], before: float
) -> None:
    n, steps, table = log
    out = np.empty(n)
    values_at_steps(steps, np.ascontiguousarray(table[1]), before, out)
    assert _same_bits(out, _held(steps, table[1], n, before))


@settings(max_examples=100, deadline=None)
@given(change_logs(), st.data())
def test_open_pnl_matches_the_vectorised_curve_bit_for_bit(
    log: tuple[int, np.ndarray, np.ndarray], data: st.DataObject
) -> None:
    n, steps, table = log
    bid = np.asarray(data.draw(st.lists(prices, min_size=n, max_size=n)))
    spread = np.asarray(data.draw(st.lists(st.floats(0.0, 0.01), min_size=n, max_size=n)))
    ask = bid + spread
    rate = np.asarray(data.draw(st.lists(st.floats(0.005, 2.0), min_size=n, max_size=n)))
    balance = np.asarray(data.draw(st.lists(st.floats(-1e5, 1e6), min_size=n, max_size=n)))
    long_units, long_cost, short_units, short_cost = (_held(steps, row, n, 0.0) for row in table)
    pnl = (long_units * bid - long_cost) + (short_cost - short_units * ask)
    is_open = (long_units != 0) | (short_units != 0)
    expected = balance + np.where(is_open, pnl * rate, 0.0)

    equity = balance.copy()
    exposed = np.zeros(n, dtype=np.bool_)
    rows = [np.ascontiguousarray(row) for row in table]
    add_open_pnl(equity, exposed, steps, *rows, bid, ask, rate)

    assert _same_bits(equity, expected)
    assert exposed.tolist() == is_open.tolist()


def test_a_flat_account_is_its_balance_and_never_exposed() -> None:
    balance = np.array([100.0, -0.0, 50.0])
    equity = balance.copy()
    exposed = np.zeros(3, dtype=np.bool_)
    no_change = np.zeros(0)
    add_open_pnl(
        equity,
        exposed,
        np.zeros(0, dtype=np.int64),
        no_change,
        no_change,
        no_change,
        no_change,
        np.ones(3),
        np.ones(3),
        np.ones(3),
    )
    assert _same_bits(equity, balance + 0.0)
    assert not exposed.any()
