"""A book's price extremes: what the broker trusts to skip scanning for unreachable levels."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from backtestr.engine.book import Extremes
from backtestr.engine.market import QuotePath


def path_of(bid: np.ndarray, spread: np.ndarray) -> QuotePath:
    n = len(bid)
    return QuotePath(np.arange(n, dtype=np.int64), bid, bid + spread, np.ones(n, dtype=np.bool_))


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 3 * Extremes.BLOCK + 7),
    seed=st.integers(0, 2**32 - 1),
)
def test_extremes_are_the_lowest_and_highest_prices_from_each_block_on(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    bid = 1.1 + np.cumsum(rng.normal(0, 0.0005, n))
    spread = rng.uniform(0.0, 0.0003, n)
    path = path_of(bid, spread)
    extremes = Extremes(path)
    blocks = -(-n // Extremes.BLOCK)
    assert len(extremes.min_bid) == blocks
    for block in range(blocks):
        start = block * Extremes.BLOCK
        assert extremes.min_bid[block] == path.bid[start:].min()
        assert extremes.max_bid[block] == path.bid[start:].max()
        assert extremes.min_ask[block] == path.ask[start:].min()
        assert extremes.max_ask[block] == path.ask[start:].max()


def test_a_stop_beyond_every_later_price_is_unreachable() -> None:
    bid = np.r_[np.full(Extremes.BLOCK, 1.20), np.full(Extremes.BLOCK, 1.10)]
    extremes = Extremes(path_of(bid, np.full(len(bid), 0.0001)))
    # a sell stop at 1.15 is reached in the second block, never after it
    assert not extremes.stop_unreachable(0, False, 1.15)
    assert not extremes.stop_unreachable(Extremes.BLOCK, False, 1.15)
    assert extremes.stop_unreachable(Extremes.BLOCK, False, 1.05)
    # a buy stop at 1.15 is traded only in the first block
    assert not extremes.stop_unreachable(0, True, 1.15)
    assert extremes.stop_unreachable(Extremes.BLOCK, True, 1.15)
    assert extremes.stop_unreachable(2 * Extremes.BLOCK, True, 0.0)  # past the end
