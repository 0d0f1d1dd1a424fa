"""The compiled timestamp parser and the vectorised zone conversion."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtestr.data.sources._timestamps import (
    LAYOUTS,
    TIME_OF_DAY,
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


def test_athens_wall_clock_converts_like_pandas_across_both_dst_switches() -> None:
    local = pd.date_range("2019-03-30", "2019-11-01", freq="7min").as_unit("ns")
    # pandas: first occurrence for repeated times; skipped times moved by the gap (timedelta)
    expected = local.tz_localize(
        "Europe/Athens", ambiguous=np.ones(len(local), bool), nonexistent=pd.Timedelta("1h")
    ).tz_convert("UTC")
    got = local_to_utc(local.asi8.copy(), Zone("Europe/Athens", iana="Europe/Athens"))
    np.testing.assert_array_equal(got, expected.asi8)


def test_fixed_offset_zone_subtracts_the_offset() -> None:
    local = np.array([ns("2020-01-01 17:00:00")], dtype=np.int64)
    assert local_to_utc(local, Zone.fixed("EST", -5))[0] == ns("2020-01-01 22:00:00")
