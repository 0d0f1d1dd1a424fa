"""Statistics: JSON-safe dict form with stable snake_case keys, and its round trip."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtestr.errors import ConfigError
from backtestr.stats import Statistics, compute_statistics, empty_trades
from tests.stats.stats_builders import equity_curve, trade_list

CLI_KEYS = {
    "total_return_pct",
    "total_trades",
    "win_rate",
    "profit_factor",
    "sharpe_ratio",
    "max_drawdown_pct",
    "final_equity",
}


def _sample() -> Statistics:
    return compute_statistics(
        equity_curve([10_000.0, 10_200.0, 9_900.0, 10_400.0], freq="D"),
        trade_list([150.0, 250.0], hold="5h"),
        initial_cash=10_000.0,
    )


def test_keys_are_the_field_names_in_snake_case_and_include_what_the_cli_needs() -> None:
    data = _sample().to_dict()
    assert list(data) == [field.name for field in dataclasses.fields(Statistics)]
    assert set(data) >= CLI_KEYS
    assert all(key == key.lower() and " " not in key for key in data)


def test_times_and_durations_are_iso_8601() -> None:
    data = _sample().to_dict()
    assert data["start"] == "2024-01-01T00:00:00+00:00"
    assert data["duration"] == "P3DT0H0M0S"
    assert data["max_trade_duration"] == "P0DT5H0M0S"


def test_json_is_strict_with_nan_as_null_and_infinity_as_a_string() -> None:
    stats = _sample()  # two winners: profit factor is infinite, avg_loss undefined
    text = json.dumps(stats.to_dict(), allow_nan=False)
    data = json.loads(text)
    assert data["profit_factor"] == "Infinity"
    assert data["avg_loss"] is None
    assert data["win_rate"] == 1.0


def test_from_dict_restores_an_equal_value_through_json() -> None:
    for stats in (
        _sample(),
        compute_statistics(equity_curve([5.0]), empty_trades(), initial_cash=5.0),
    ):
        again = Statistics.from_dict(json.loads(json.dumps(stats.to_dict(), allow_nan=False)))
        assert again.same_as(stats)
        assert again.start.tz is not None


def test_same_as_sees_a_difference() -> None:
    stats = _sample()
    assert not stats.same_as(dataclasses.replace(stats, sqn=stats.sqn + 1))
    assert not stats.same_as(dataclasses.replace(stats, avg_loss=1.0))


def test_from_dict_names_unknown_missing_and_bad_fields() -> None:
    data = _sample().to_dict()
    with pytest.raises(ConfigError, match="Did you mean 'sharpe_ratio'"):
        Statistics.from_dict({**data, "sharp_ratio": 1.0})
    without = {key: value for key, value in data.items() if key != "win_rate"}
    with pytest.raises(ConfigError, match="missing: win_rate"):
        Statistics.from_dict(without)
    with pytest.raises(ConfigError, match="'total_trades'"):
        Statistics.from_dict({**data, "total_trades": 2.5})
    with pytest.raises(ConfigError, match="'sqn'"):
        Statistics.from_dict({**data, "sqn": "lots"})
    with pytest.raises(ConfigError, match="'start'"):
        Statistics.from_dict({**data, "start": "2024-01-01T00:00:00"})


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.floats(1.0, 1e6, allow_nan=False), min_size=1, max_size=40),
    pnls=st.lists(st.floats(-1e3, 1e3, allow_nan=False), max_size=10),
)
def test_any_statistics_round_trip_through_strict_json(
    values: list[float], pnls: list[float]
) -> None:
    stats = compute_statistics(
        equity_curve(values, freq="h"), trade_list(pnls), initial_cash=float(values[0])
    )
    text = json.dumps(stats.to_dict(), allow_nan=False)
    assert Statistics.from_dict(json.loads(text)).same_as(stats)
    for value in stats.to_dict().values():
        assert value is None or isinstance(value, str | int) or math.isfinite(value)
    assert not np.isnan(stats.total_return_pct)
    assert isinstance(stats.duration, pd.Timedelta)


def test_to_series_lists_every_field_with_its_value() -> None:
    stats = _sample()
    series = stats.to_series()
    assert list(series.index) == [field.name for field in dataclasses.fields(Statistics)]
    assert series["total_trades"] == 2
    assert series["start"] == stats.start
