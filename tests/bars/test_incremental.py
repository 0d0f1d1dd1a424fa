import itertools

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtestr.bars import MultiTimeframeBars, aggregate_bars, aggregate_ticks, bar_open_times
from backtestr.bars import kernels as kn
from backtestr.errors import ConfigError, DataError
from backtestr.model import BarArrays, PriceSide, TickArrays, Timeframe, TradingDay
from tests.bars.bars_builders import MINUTE, assert_bars_equal, make_ticks, tick_streams, utc_ns

NAMES = ["M1", "M5", "H1", "H4", "D1", "W1", "MN1"]
FX = TradingDay.fx()


def closed_and_forming(engine: MultiTimeframeBars, timeframe: Timeframe) -> BarArrays:
    return BarArrays.concat([engine.closed(timeframe), engine.forming(timeframe)])


def cut_points(draw_fractions: list[float], n: int) -> list[int]:
    return sorted({0, n, *(int(f * n) for f in draw_fractions)})


@given(
    ticks=tick_streams(),
    fractions=st.lists(st.floats(0, 1), max_size=8),
    side=st.sampled_from(list(PriceSide)),
    history=st.sampled_from([None, 1, 3, 10_000]),
)
@settings(max_examples=100, deadline=None)
def test_incremental_blocks_give_the_batch_bars(
    ticks: TickArrays, fractions: list[float], side: PriceSide, history: int | None
) -> None:
    engine = MultiTimeframeBars(NAMES, side=side, history=history)
    cuts = cut_points(fractions, len(ticks))
    closed_at: dict[Timeframe, list[int]] = {tf: [] for tf in engine.timeframes}
    for start, stop in itertools.pairwise(cuts):
        closes = engine.update(ticks.slice(start, stop))
        for timeframe in engine.timeframes:
            closed_at[timeframe] += (closes.tick_index[timeframe] + start).tolist()
    batch = aggregate_ticks(ticks, NAMES, side=side)
    for timeframe, expected in batch.items():
        # before the flush: closed bars + forming bar are the batch bars (ring keeps the newest)
        got = closed_and_forming(engine, timeframe)
        tail = expected.slice(len(expected) - len(got), len(expected))
        assert_bars_equal(got, tail)
        assert engine.closed_count(timeframe) == len(expected) - 1
        # each bar closed on the first tick that belongs to a later bar
        labels = bar_open_times(ticks.ts_ns, timeframe, FX)
        firsts = np.flatnonzero(np.diff(labels) != 0) + 1
        assert closed_at[timeframe] == firsts.tolist()
    engine.flush()
    for timeframe, expected in batch.items():
        kept = engine.closed(timeframe)
        assert_bars_equal(kept, expected.slice(len(expected) - len(kept), len(expected)))


@given(
    ticks=tick_streams(),
    fractions=st.lists(st.floats(0, 1), max_size=6),
    waits=st.lists(st.floats(0, 1), min_size=6, max_size=6),
    stop_on=st.sets(st.sampled_from(NAMES)),
)
@settings(max_examples=50, deadline=None)
def test_pauses_and_close_until_between_blocks_do_not_change_the_bars(
    ticks: TickArrays, fractions: list[float], waits: list[float], stop_on: set[str]
) -> None:
    engine = MultiTimeframeBars(NAMES, history=None)
    cuts = cut_points(fractions, len(ticks))
    for block, (start, stop) in enumerate(itertools.pairwise(cuts)):
        index = start
        while index < stop:
            index, _ = engine.advance(ticks, index, stop, stop_on=stop_on)
        if stop < len(ticks):
            # time passes with no data up to somewhere before the next tick
            gap = int(ticks.ts_ns[stop]) - int(ticks.ts_ns[stop - 1])
            engine.close_until(int(ticks.ts_ns[stop - 1]) + int(gap * waits[block]))
    engine.flush()
    for timeframe, expected in aggregate_ticks(ticks, NAMES).items():
        assert_bars_equal(engine.closed(timeframe), expected)


@given(ticks=tick_streams(max_ticks=150))
@settings(max_examples=60, deadline=None)
def test_tick_by_tick_updates_give_the_batch_bars(ticks: TickArrays) -> None:
    engine = MultiTimeframeBars(NAMES, history=None)
    for i in range(len(ticks)):
        engine.update_tick(
            int(ticks.ts_ns[i]), ticks.bid[i], ticks.ask[i], ticks.bid_volume[i],
            ticks.ask_volume[i],
        )  # fmt: skip
    engine.flush()
    for timeframe, expected in aggregate_ticks(ticks, NAMES).items():
        assert_bars_equal(engine.closed(timeframe), expected)


@given(
    ticks=tick_streams(max_ticks=600),
    fractions=st.lists(st.floats(0, 1), max_size=5),
    stop_on=st.sets(st.sampled_from(NAMES[1:])),
)
@settings(max_examples=60, deadline=None)
def test_engine_fed_m1_bars_gives_the_batch_aggregate(
    ticks: TickArrays, fractions: list[float], stop_on: set[str]
) -> None:
    m1 = aggregate_ticks(ticks, ["M1"])[Timeframe.parse("M1")]
    engine = MultiTimeframeBars(NAMES[1:], source="M1", history=None)
    cuts = cut_points(fractions, len(m1))
    for start, stop in itertools.pairwise(cuts):
        index = start
        while index < stop:
            index, closes = engine.advance_bars(m1, index, stop, stop_on=stop_on)
            if index < stop:
                # paused on a close of a stop_on timeframe, before bar `index` was fed
                assert set(closes.timeframes) & {Timeframe.parse(n) for n in stop_on}
                assert engine.closed_count(closes.timeframes[0]) > 0
    engine.flush()
    for name in NAMES[1:]:
        assert_bars_equal(engine.closed(name), aggregate_bars(m1, "M1", name))


def test_advance_pauses_at_each_close_before_feeding_the_closing_tick() -> None:
    ticks = make_ticks(5, 500, utc_ns("2019-02-04 10:00"))
    engine = MultiTimeframeBars(["M1", "M5"], history=100)
    labels = bar_open_times(ticks.ts_ns, Timeframe.parse("M5"), FX)
    expected_pauses = (np.flatnonzero(np.diff(labels)) + 1).tolist()
    pauses = []
    index = 0
    while index < len(ticks):
        index, closes = engine.advance(ticks, index, stop_on=["M5"])
        if index < len(ticks):
            pauses.append(index)
            assert closes.count("M5") == 1
            # the closed bar ends at or before the pausing tick, which is not in any bar yet
            closed = engine.closed("M5", last=1)
            assert closed.ts_ns[0] + 5 * MINUTE <= ticks.ts_ns[index]
            assert len(engine.forming("M5")) == 0
    assert pauses == expected_pauses
    engine.flush()
    assert_bars_equal(engine.closed("M5"), aggregate_ticks(ticks, ["M5"])[Timeframe.parse("M5")])


def test_close_until_closes_due_bars_and_keeps_the_rest_forming() -> None:
    engine = MultiTimeframeBars(["M1", "H1"])
    engine.update_tick(utc_ns("2019-02-04 10:00"), 1.0, 1.1)
    engine.update_tick(utc_ns("2019-02-04 10:00") + 30 * 10**9, 1.2, 1.3)
    assert engine.close_until(utc_ns("2019-02-04 10:00") + 59 * 10**9) == ()
    assert engine.close_until(utc_ns("2019-02-04 10:01")) == (Timeframe.parse("M1"),)
    assert engine.closed("M1").close.tolist() == [1.2]
    assert len(engine.forming("M1")) == 0
    assert engine.forming("H1").close.tolist() == [1.2]
    with pytest.raises(DataError, match="older"):
        engine.update_tick(utc_ns("2019-02-04 10:00") + 45 * 10**9, 1.0, 1.1)
    assert engine.flush() == (Timeframe.parse("H1"),)
    assert engine.closed("H1").tick_count.tolist() == [2]


def test_history_keeps_the_newest_bars_as_contiguous_views() -> None:
    ticks = make_ticks(9, 2000, utc_ns("2019-02-04 10:00"))
    engine = MultiTimeframeBars(["M1"], history=7)
    engine.update(ticks)
    everything = aggregate_ticks(ticks, ["M1"])[Timeframe.parse("M1")]
    kept = engine.closed("M1")
    assert len(kept) == 7
    assert kept.close.flags["C_CONTIGUOUS"]
    assert_bars_equal(kept, everything.slice(len(everything) - 8, len(everything) - 1))
    assert len(engine.closed("M1", last=3)) == 3


def test_engine_rejects_bad_configuration() -> None:
    with pytest.raises(ConfigError, match="history"):
        MultiTimeframeBars(["M1"], history=0)
    with pytest.raises(ConfigError, match="not a whole multiple"):
        MultiTimeframeBars(["M5", "M7"], source="M5")
    engine = MultiTimeframeBars(["M1"])
    with pytest.raises(ConfigError, match="not built by this engine"):
        engine.closed("H1")
    with pytest.raises(ConfigError, match="update_bars"):
        MultiTimeframeBars(["H1"], source="M1").update(TickArrays.empty())
    h4 = aggregate_ticks(make_ticks(2, 50, utc_ns("2019-02-04 00:00")), ["H4"])
    with pytest.raises(ConfigError, match="inside a H4 bar"):
        MultiTimeframeBars(["D1"], source="H4").update_bars(h4[Timeframe.parse("H4")])


@numba.njit(cache=True)
def _numba_loop(
    state: kn.BarState, side: int, k: int, ts: np.ndarray, bid: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    masks = np.zeros(len(ts), dtype=np.int64)
    closes = np.full(len(ts), np.nan)
    for i in range(len(ts)):
        masks[i] = kn.update_tick(state, side, ts[i], bid[i], bid[i] + 1e-4, 1.0, 1.0)
        if masks[i] >> k & 1:
            closes[i] = state.ring_values[kn.R_CLOSE, kn.newest_position(state, k)]
    return masks, closes


@numba.njit(cache=True)
def _numba_split_loop(
    state: kn.BarState, side: int, k: int, ts: np.ndarray, bid: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    masks = np.zeros(len(ts), dtype=np.int64)
    closes = np.full(len(ts), np.nan)
    g, run = state.globals, state.run
    for i in range(len(ts)):
        if ts[i] >= g[kn.MIN_END]:
            masks[i] = kn.close_due(state, ts[i])
        kn.add_tick(g, run, side, ts[i], bid[i], bid[i] + 1e-4, 1.0, 1.0)
        if masks[i] >> k & 1:
            closes[i] = state.ring_values[kn.R_CLOSE, kn.newest_position(state, k)]
    return masks, closes


@pytest.mark.parametrize("loop", [_numba_loop, _numba_split_loop])
def test_a_numba_loop_can_drive_the_tick_kernels(loop: numba.core.dispatcher.Dispatcher) -> None:
    ticks = make_ticks(11, 400, utc_ns("2019-03-08 20:00"), sparse=True)
    ticks = TickArrays(ticks.ts_ns, ticks.bid, ticks.bid + 1e-4, np.ones(400), np.ones(400))
    engine = MultiTimeframeBars(["M5", "D1"], history=50)
    engine.prepare(int(ticks.ts_ns[0]), int(ticks.ts_ns[-1]))
    k = engine.index("D1")
    masks, closes = loop(engine.state, engine.side_code, k, ticks.ts_ns, ticks.bid)
    d1 = bar_open_times(ticks.ts_ns, Timeframe.parse("D1"), FX)
    expected_d1 = np.concatenate([[False], np.diff(d1) != 0])
    assert ((masks >> k & 1) == expected_d1).all()
    batch = aggregate_ticks(ticks, ["M5", "D1"])[Timeframe.parse("D1")]
    assert closes[~np.isnan(closes)].tolist() == batch.close[:-1].tolist()
    engine.flush()
    kept = engine.closed("D1")
    assert_bars_equal(kept, batch.slice(len(batch) - len(kept), len(batch)))
