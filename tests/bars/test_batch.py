import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtestr.bars import aggregate_bars, aggregate_ticks, bar_open_times
from backtestr.errors import ConfigError, DataError
from backtestr.model import BarArrays, PriceSide, TickArrays, Timeframe, TradingDay
from tests.bars.bars_builders import (
    HOUR,
    MINUTE,
    assert_bars_close,
    make_ticks,
    reference_bars,
    tick_streams,
    utc_ns,
)

FX = TradingDay.fx()
ALL = [Timeframe.parse(n) for n in ("M1", "M5", "H1", "H4", "D1", "W1", "MN1")]


def ticks_at(*moments: str, bids: list[float] | None = None) -> TickArrays:
    ts = np.array([utc_ns(m) for m in moments], dtype=np.int64)
    bid = np.array(bids if bids is not None else [1.0 + i / 100 for i in range(len(ts))])
    return TickArrays(ts, bid, bid + 0.0002, np.ones(len(ts)), np.full(len(ts), 2.0))


def test_ticks_make_ohlc_volume_count_and_spread_per_bar() -> None:
    ticks = ticks_at(
        "2019-02-04 10:00:05", "2019-02-04 10:00:30", "2019-02-04 10:00:59", "2019-02-04 10:02:00",
        bids=[1.2, 1.5, 1.1, 1.3],
    )  # fmt: skip
    spread = np.array([1, 3, 2, 4]) * 1e-4
    ticks = TickArrays(
        ticks.ts_ns, ticks.bid, ticks.bid + spread, ticks.bid_volume, ticks.ask_volume
    )
    bars = aggregate_ticks(ticks, ["M1"])[Timeframe.parse("M1")]
    assert bars.ts_ns.tolist() == [utc_ns("2019-02-04 10:00"), utc_ns("2019-02-04 10:02")]
    assert bars.open.tolist() == [1.2, 1.3]
    assert bars.high.tolist() == [1.5, 1.3]
    assert bars.low.tolist() == [1.1, 1.3]
    assert bars.close.tolist() == [1.1, 1.3]
    assert bars.volume.tolist() == [3.0, 1.0]
    assert bars.tick_count.tolist() == [3, 1]
    np.testing.assert_allclose(bars.spread_min, [1e-4, 4e-4])
    np.testing.assert_allclose(bars.spread_avg, [2e-4, 4e-4])
    np.testing.assert_allclose(bars.spread_max, [3e-4, 4e-4])


def test_no_bar_is_made_for_a_weekend_without_ticks() -> None:
    ticks = ticks_at("2019-02-08 21:58", "2019-02-10 22:01")  # Friday close, Sunday open
    bars = aggregate_ticks(ticks, ["H1", "D1"])
    assert len(bars[Timeframe.parse("H1")]) == 2
    assert bars[Timeframe.parse("D1")].ts_ns.tolist() == [
        utc_ns("2019-02-07 22:00"),
        utc_ns("2019-02-10 22:00"),
    ]


def test_d1_bars_open_at_22_utc_before_the_march_dst_switch_and_21_after() -> None:
    ticks = ticks_at("2019-03-07 23:00", "2019-03-08 12:00", "2019-03-10 21:05", "2019-03-11 22:00")
    d1 = aggregate_ticks(ticks, ["D1"])[Timeframe.parse("D1")]
    hours = [(t // HOUR) % 24 for t in d1.ts_ns.tolist()]
    assert hours == [22, 21, 21]
    assert d1.tick_count.tolist() == [2, 1, 1]


def test_sunday_open_starts_the_weekly_bar() -> None:
    ticks = ticks_at("2019-02-01 21:00", "2019-02-03 22:00", "2019-02-05 09:00")
    w1 = aggregate_ticks(ticks, ["W1"])[Timeframe.parse("W1")]
    assert w1.ts_ns.tolist() == [utc_ns("2019-01-27 22:00"), utc_ns("2019-02-03 22:00")]
    assert w1.tick_count.tolist() == [1, 2]


@pytest.mark.parametrize("side", list(PriceSide))
def test_side_chooses_price_and_volume(side: PriceSide) -> None:
    ticks = make_ticks(3, 200, utc_ns("2019-03-08 20:00"))
    bars = aggregate_ticks(ticks, ["M5"], side=side)[Timeframe.parse("M5")]
    expected = reference_bars(ticks, Timeframe.parse("M5"), side, FX)
    np.testing.assert_array_equal(bars.close, expected["close"].to_numpy())
    np.testing.assert_allclose(bars.volume, expected["volume"].to_numpy(), rtol=1e-12)


def test_empty_ticks_give_empty_bars() -> None:
    bars = aggregate_ticks(TickArrays.empty(), ["M1", "D1"])
    assert all(len(b) == 0 for b in bars.values())


def test_ticks_out_of_order_are_rejected() -> None:
    ticks = ticks_at("2019-02-04 10:00", "2019-02-04 09:00", "2019-02-04 11:00")
    with pytest.raises(DataError, match="not in time order: row 1"):
        aggregate_ticks(ticks, ["M1", "D1"])


def test_target_must_be_a_whole_multiple_of_the_source() -> None:
    with pytest.raises(ConfigError, match="M7 is not a whole multiple"):
        aggregate_bars(BarArrays.empty(), "M5", "M7")
    with pytest.raises(ConfigError, match="H1 is not a whole multiple of H4"):
        aggregate_bars(BarArrays.empty(), "H4", "H1")


def test_h4_bars_cannot_make_fx_days_but_can_make_utc_days() -> None:
    ticks = make_ticks(1, 300, utc_ns("2019-02-04 00:00"), sparse=True)
    h4 = aggregate_ticks(ticks, ["H4"])[Timeframe.parse("H4")]
    with pytest.raises(ConfigError, match="inside a H4 bar"):
        aggregate_bars(h4, "H4", "D1", trading_day=FX)
    utc = TradingDay.utc_midnight()
    direct = aggregate_ticks(ticks, ["D1"], trading_day=utc)[Timeframe.parse("D1")]
    assert_bars_close(aggregate_bars(h4, "H4", "D1", trading_day=utc), direct)


def test_bars_without_tick_statistics_stay_without_them() -> None:
    ts = np.array([0, MINUTE, 2 * MINUTE], dtype=np.int64)
    m1 = BarArrays.from_ohlc(ts, np.ones(3), np.full(3, 2.0), np.zeros(3), np.ones(3), np.ones(3))
    m5 = aggregate_bars(m1, "M1", "M5")
    assert m5.tick_count.tolist() == [0]
    assert np.isnan(m5.spread_avg).all()
    assert np.isnan(m5.spread_min).all()
    assert m5.volume.tolist() == [3.0]


def test_spread_average_weighs_bars_by_their_tick_counts() -> None:
    ts = np.array([0, MINUTE], dtype=np.int64)
    m1 = BarArrays(
        ts_ns=ts, open=np.ones(2), high=np.ones(2), low=np.ones(2), close=np.ones(2),
        volume=np.ones(2), tick_count=np.array([3, 1]), spread_min=np.array([1.0, 3.0]),
        spread_avg=np.array([2.0, 3.0]), spread_max=np.array([3.0, np.nan]),
    )  # fmt: skip
    m5 = aggregate_bars(m1, "M1", "M5")
    assert m5.spread_avg.tolist() == [(2.0 * 3 + 3.0) / 4]
    assert m5.spread_min.tolist() == [1.0]
    assert m5.spread_max.tolist() == [3.0]
    assert m5.tick_count.tolist() == [4]


@given(ticks=tick_streams(), name=st.sampled_from(["S30", "M1", "M3", "H1", "H4", "D1", "W1"]))
@settings(max_examples=80, deadline=None)
def test_batch_equals_grouping_ticks_by_their_bar_label(ticks: TickArrays, name: str) -> None:
    timeframe = Timeframe.parse(name)
    bars = aggregate_ticks(ticks, [timeframe, "MN1"])[timeframe]
    expected = reference_bars(ticks, timeframe, PriceSide.BID, FX)
    assert bars.ts_ns.tolist() == expected.index.tolist()
    for column in ("open", "high", "low", "close", "tick_count", "spread_min", "spread_max"):
        np.testing.assert_array_equal(getattr(bars, column), expected[column].to_numpy())
    for column in ("volume", "spread_avg"):
        np.testing.assert_allclose(getattr(bars, column), expected[column].to_numpy(), rtol=1e-9)


@given(ticks=tick_streams(), fx=st.booleans())
@settings(max_examples=80, deadline=None)
def test_bars_are_consistent_and_conserve_volume_and_ticks(ticks: TickArrays, fx: bool) -> None:
    day = FX if fx else TradingDay.utc_midnight()
    result = aggregate_ticks(ticks, ALL, trading_day=day)
    for timeframe, bars in result.items():
        assert (bars.low <= np.minimum(bars.open, bars.close)).all()
        assert (bars.high >= np.maximum(bars.open, bars.close)).all()
        assert (np.diff(bars.ts_ns) > 0).all()
        assert (bar_open_times(bars.ts_ns, timeframe, day) == bars.ts_ns).all()
        # every bar holds ticks, and every tick's bar exists: no invented, no missing bars
        tick_labels = np.unique(bar_open_times(ticks.ts_ns, timeframe, day))
        assert bars.ts_ns.tolist() == tick_labels.tolist()
        assert (bars.tick_count > 0).all()
        assert bars.tick_count.sum() == len(ticks)
        np.testing.assert_allclose(bars.volume.sum(), ticks.bid_volume.sum(), rtol=1e-12)


@given(ticks=tick_streams(max_ticks=600), fx=st.booleans())
@settings(max_examples=80, deadline=None)
def test_higher_timeframes_equal_the_aggregate_of_m1_bars(ticks: TickArrays, fx: bool) -> None:
    day = FX if fx else TradingDay.utc_midnight()
    direct = aggregate_ticks(ticks, ALL, trading_day=day)
    m1 = direct[Timeframe.parse("M1")]
    for target in ALL[1:]:
        assert_bars_close(aggregate_bars(m1, "M1", target, trading_day=day), direct[target])


@given(ticks=tick_streams(max_ticks=600))
@settings(max_examples=60, deadline=None)
def test_weeks_and_months_equal_the_aggregate_of_d1_bars(ticks: TickArrays) -> None:
    direct = aggregate_ticks(ticks, ["D1", "W1", "MN1"])
    d1 = direct[Timeframe.parse("D1")]
    for target in ("W1", "MN1"):
        assert_bars_close(aggregate_bars(d1, "D1", target), direct[Timeframe.parse(target)])
