"""The compiled timestamp parser and the vectorised zone conversion."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtestr.data.sources._timestamps import (
    LAYOUTS,
    TIME_OF_DAY,
    WallClock,
    Zone,
    local_to_utc,
    parse_epoch,
    parse_timestamps,
)
from tests.data.sources.source_files import ns

LAYOUT = {layout.name: layout for layout in LAYOUTS}


def parse(values: list[str], layout: str) -> list[int]:
    result = parse_timestamps(pa.array(values), LAYOUT[layout])
    assert result.bad_row == -1
    return [int(v) for v in result.ns]


@pytest.mark.parametrize(
    ("text", "layout", "expected"),
    [
        ("2019-02-04 00:00:00.994", "iso", "2019-02-04 00:00:00.994"),
        ("2019-02-04T00:00:00Z", "iso", "2019-02-04 00:00:00"),
        ("2019-02-04", "iso", "2019-02-04 00:00:00"),
        ("2019-02-04 01:02", "iso", "2019-02-04 01:02:00"),
        ("2013-01-01 22:00:00.295000+00:00", "iso", "2013-01-01 22:00:00.295"),
        ("2013-01-01 22:00:00-05:00", "iso", "2013-01-02 03:00:00"),
        ("2013-01-01 22:00:00.123456789+0130", "iso", "2013-01-01 20:30:00.123456789"),
        ("20200101 170000065", "compact", "2020-01-01 17:00:00.065"),
        ("20200101 170000", "compact", "2020-01-01 17:00:00"),
        ("20070330 00:00", "compact", "2007-03-30 00:00:00"),
        ("01.01.2017 22:00:00.000", "dmy-dot", "2017-01-01 22:00:00"),
        ("29.02.2016", "dmy-dot", "2016-02-29 00:00:00"),
        ("2019.02.04 13:45", "ymd-dot", "2019-02-04 13:45:00"),
        ("2019/02/04 13:45:01", "ymd-slash", "2019-02-04 13:45:01"),
    ],
)
def test_layouts_parse_to_utc_ns(text: str, layout: str, expected: str) -> None:
    assert parse([text], layout) == [ns(expected)]


@pytest.mark.parametrize(
    ("text", "layout"),
    [
        ("2019-13-01", "iso"),
        ("2019-02-30", "iso"),
        ("2019-02-04 24:00:00", "iso"),
        ("2019-02-04 23:60", "iso"),
        ("2019-02-04 23:59:59.1234567890", "iso"),
        ("2019-02-04x", "iso"),
        ("29.02.2017", "dmy-dot"),
        ("", "iso"),
        ("2019-02-04 10:00+25:00", "iso"),
    ],
)
def test_invalid_values_report_their_row(text: str, layout: str) -> None:
    valid = {"iso": "2019-02-04", "dmy-dot": "04.02.2019"}[layout]
    result = parse_timestamps(pa.array([valid, text]), LAYOUT[layout])
    assert result.bad_row == 1


def test_rows_mixing_zoned_and_naive_values_are_flagged() -> None:
    result = parse_timestamps(
        pa.array(["2019-02-04 00:00Z", "2019-02-05 00:00", "2019-02-06 00:00Z"]), LAYOUT["iso"]
    )
    assert (result.bad_row, result.mixed_row, result.zoned) == (-1, 1, True)


def test_time_of_day_column_parses_alone() -> None:
    result = parse_timestamps(pa.array(["00:00", "12:34:56.789"]), TIME_OF_DAY)
    assert list(result.ns) == [0, ((12 * 60 + 34) * 60 + 56) * 10**9 + 789 * 10**6]


@pytest.mark.parametrize(
    ("text", "multiplier", "expected"),
    [
        ("1549238400", 10**9, "2019-02-04"),
        ("1549238400994", 10**6, "2019-02-04 00:00:00.994"),
        ("1549238400.5", 10**9, "2019-02-04 00:00:00.5"),
        ("1549238400994000000", 1, "2019-02-04 00:00:00.994"),
    ],
)
def test_epoch_values_scale_by_unit(text: str, multiplier: int, expected: str) -> None:
    values, bad = parse_epoch(pa.array([text]), multiplier)
    assert (bad, int(values[0])) == (-1, ns(expected))


def test_sliced_arrow_arrays_parse_from_their_offset() -> None:
    array = pa.array(["2019-02-04", "2019-02-05", "2019-02-06"]).slice(1)
    assert list(parse_timestamps(array, LAYOUT["iso"]).ns) == [ns("2019-02-05"), ns("2019-02-06")]


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2099, 12, 31)),
    st.sampled_from(["iso", "dmy-dot", "compact", "ymd-dot"]),
)
def test_any_datetime_round_trips_through_every_layout(moment: dt.datetime, layout: str) -> None:
    ms = moment.microsecond // 1000
    clock = f"{moment:%H%M%S}{ms:03d}" if layout == "compact" else f"{moment:%H:%M:%S}.{ms:03d}"
    date = {
        "iso": f"{moment:%Y-%m-%d}",
        "dmy-dot": f"{moment:%d.%m.%Y}",
        "compact": f"{moment:%Y%m%d}",
        "ymd-dot": f"{moment:%Y.%m.%d}",
    }[layout]
    expected = pd.Timestamp(moment.replace(microsecond=ms * 1000)).value
    assert parse([f"{date} {clock}"], layout) == [expected]


ATHENS = Zone("Europe/Athens", iana="Europe/Athens")


def athens_wall_clock(utc: pd.DatetimeIndex) -> np.ndarray:
    """What an Athens clock showed at each UTC instant, as naive ns."""
    return np.asarray(utc.tz_convert("Europe/Athens").tz_localize(None).asi8, dtype=np.int64)


def test_athens_wall_clock_of_an_ordered_series_converts_back_across_both_dst_switches() -> None:
    utc = pd.date_range("2019-03-30", "2019-11-01", freq="7min", tz="UTC").as_unit("ns")
    got = local_to_utc(athens_wall_clock(utc), ATHENS)
    np.testing.assert_array_equal(got, utc.asi8)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(min_value=1, max_value=3000), max_size=6),
    st.sampled_from(["5s", "97s", "13min"]),
)
def test_repeated_hour_is_resolved_by_order_whatever_the_chunking(
    cuts: list[int], step: str
) -> None:
    # 2019-10-27 00:00 UTC: Athens clocks go back from 04:00 EEST to 03:00 EET
    utc = pd.date_range("2019-10-26 22:00", "2019-10-27 02:00", freq=step, tz="UTC").as_unit("ns")
    local = athens_wall_clock(utc)
    clock = WallClock(ATHENS)
    bounds = [0, *sorted(c for c in cuts if c < len(local)), len(local)]
    parts = [clock.to_utc(local[a:b]) for a, b in itertools.pairwise(bounds)]
    np.testing.assert_array_equal(np.concatenate(parts), utc.asi8)


def test_ticks_sharing_a_time_in_the_repeated_hour_stay_on_its_first_pass() -> None:
    local = np.array(
        [ns(t) for t in ("2019-10-27 03:30", "2019-10-27 03:30", "2019-10-27 03:31")], np.int64
    )
    got = local_to_utc(local, ATHENS)
    expected = [ns("2019-10-27 00:30"), ns("2019-10-27 00:30"), ns("2019-10-27 00:31")]
    assert list(got) == expected


def test_hourly_bars_repeating_the_hour_take_its_second_occurrence_across_chunks() -> None:
    hours = ["2019-10-27 02:00", "2019-10-27 03:00", "2019-10-27 03:00", "2019-10-27 04:00"]
    local = np.array([ns(h) for h in hours], dtype=np.int64)
    clock = WallClock(ATHENS, ties_repeat=True)
    got = [*clock.to_utc(local[:2]), *clock.to_utc(local[2:])]
    assert got == [ns(f"2019-10-2{d}") for d in ("6 23:00", "7 00:00", "7 01:00", "7 02:00")]


def test_a_time_the_spring_switch_skips_does_not_exist() -> None:
    local = np.array([ns("2019-03-31 02:59"), ns("2019-03-31 03:30")], dtype=np.int64)
    with pytest.raises(
        ValueError,
        match=r"^2019-03-31 03:30 does not exist in Europe/Athens: the clocks jumped from "
        r"2019-03-31 03:00 to 2019-03-31 04:00$",
    ):
        local_to_utc(local, ATHENS)


def test_fixed_offset_zone_subtracts_the_offset() -> None:
    local = np.array([ns("2020-01-01 17:00:00")], dtype=np.int64)
    assert local_to_utc(local, Zone.fixed("EST", -5))[0] == ns("2020-01-01 22:00:00")
