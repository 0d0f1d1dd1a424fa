import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtestr.bars import bar_open_times, period_starts
from backtestr.model import Timeframe, TradingDay
from tests.bars.bars_builders import DAY, HOUR, MINUTE, utc_ns

FX = TradingDay.fx()
UTC_DAYS = TradingDay.utc_midnight()


def labels(timeframe: str, *moments: str, day: TradingDay = FX) -> list[int]:
    ts = np.array([utc_ns(m) for m in moments], dtype=np.int64)
    return bar_open_times(ts, Timeframe.parse(timeframe), day).tolist()


def test_fx_day_opens_at_22_utc_before_us_dst_and_21_utc_after() -> None:
    # US DST started Sunday 2019-03-10: 17:00 New York is 22:00 UTC before, 21:00 UTC after
    assert labels("D1", "2019-03-08 12:00", "2019-03-08 22:30") == [
        utc_ns("2019-03-07 22:00"),
        utc_ns("2019-03-08 22:00"),
    ]
    assert labels("D1", "2019-03-10 21:30", "2019-03-11 20:59", "2019-03-11 21:00") == [
        utc_ns("2019-03-10 21:00"),
        utc_ns("2019-03-10 21:00"),
        utc_ns("2019-03-11 21:00"),
    ]


def test_fx_day_returns_to_22_utc_when_us_dst_ends() -> None:
    # US DST ended Sunday 2019-11-03
    # (the Sunday-dated day, Saturday 17:00 to Sunday 17:00, normally has no data)
    assert labels("D1", "2019-11-01 21:30", "2019-11-03 21:30", "2019-11-03 22:00") == [
        utc_ns("2019-11-01 21:00"),
        utc_ns("2019-11-02 21:00"),
        utc_ns("2019-11-03 22:00"),
    ]


def test_fx_week_opens_sunday_17_new_york() -> None:
    sunday_open = utc_ns("2019-02-03 22:00")  # Sunday 17:00 EST
    assert (
        labels("W1", "2019-02-03 22:00", "2019-02-06 12:00", "2019-02-08 21:59")
        == [sunday_open] * 3
    )
    assert labels("W1", "2019-02-03 21:59") == [utc_ns("2019-01-27 22:00")]
    # in summer time the week opens an hour earlier in UTC
    assert labels("W1", "2019-07-10 00:00") == [utc_ns("2019-07-07 21:00")]


def test_fx_month_opens_with_the_trading_day_dated_the_first() -> None:
    # 1 March 2019's trading day starts 28 February 17:00 New York
    assert labels("MN1", "2019-02-28 21:59", "2019-02-28 22:00", "2019-03-31 20:59") == [
        utc_ns("2019-01-31 22:00"),
        utc_ns("2019-02-28 22:00"),
        utc_ns("2019-02-28 22:00"),
    ]
    # across the year end, and a month that starts in summer time
    assert labels("MN1", "2019-12-31 22:00", "2019-07-01 00:00") == [
        utc_ns("2019-12-31 22:00"),
        utc_ns("2019-06-30 21:00"),
    ]


def test_utc_midnight_days_and_monday_weeks() -> None:
    assert labels("D1", "2019-03-10 23:59", day=UTC_DAYS) == [utc_ns("2019-03-10 00:00")]
    assert labels("W1", "2019-02-10 23:00", "2019-02-11 00:00", day=UTC_DAYS) == [
        utc_ns("2019-02-04 00:00"),
        utc_ns("2019-02-11 00:00"),
    ]
    assert labels("MN3", "2019-05-17 10:00", day=UTC_DAYS) == [utc_ns("2019-04-01 00:00")]


def test_intraday_bars_align_to_epoch_multiples() -> None:
    assert labels("M1", "2019-03-10 21:00") == [utc_ns("2019-03-10 21:00")]
    assert labels("H4", "2019-03-10 21:59") == [utc_ns("2019-03-10 20:00")]
    ts = np.array([-1, 0, 29 * 10**9], dtype=np.int64)
    assert bar_open_times(ts, Timeframe.parse("S30"), FX).tolist() == [-30 * 10**9, 0, 0]


def test_period_starts_rejects_intraday_timeframes() -> None:
    with pytest.raises(ValueError, match="intraday"):
        period_starts(Timeframe.parse("H1"), FX, 0, DAY)


@given(
    ts=st.lists(st.integers(utc_ns("2018-01-01 00:00"), utc_ns("2022-01-01 00:00")), max_size=50),
    name=st.sampled_from(["M1", "M3", "H1", "H4", "D1", "W1", "MN1", "D2", "W2", "MN3"]),
    fx=st.booleans(),
)
@settings(max_examples=60, deadline=None)
def test_each_timestamp_lies_in_its_bar_and_labels_are_period_starts(
    ts: list[int], name: str, fx: bool
) -> None:
    timeframe = Timeframe.parse(name)
    day = FX if fx else UTC_DAYS
    stamps = np.array(ts, dtype=np.int64)
    result = bar_open_times(stamps, timeframe, day)
    assert (result <= stamps).all()
    # a label is its own label, and the next bar starts after the timestamp
    assert (bar_open_times(result, timeframe, day) == result).all()
    if len(stamps) and not timeframe.is_intraday:
        bounds = period_starts(timeframe, day, int(stamps.min()), int(stamps.max()))
        following = bounds[np.searchsorted(bounds, result, side="right")]
        assert (following > stamps).all()
        lengths = np.diff(bounds)
        nominal = {"D": DAY, "W": 7 * DAY, "MN": 28 * DAY}[timeframe.unit.value]
        assert (lengths >= nominal * timeframe.count - HOUR).all()
        assert (bounds % (15 * MINUTE) == 0).all()
