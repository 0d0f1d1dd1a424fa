"""backtestr.walk_forward: from a strategy and stored (or given) data to a walk-forward result;
and a walk-forward on years of real EURUSD hourly bars."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import backtestr
from backtestr.data.store import Store
from backtestr.engine import EngineSettings
from backtestr.errors import ConfigError
from backtestr.model import BarArrays, fx_instrument
from backtestr.optimize import ParamSpace, SweepPayload, run_walk_forward
from backtestr.strategy.loader import load_strategy
from backtestr.strategy.samples import MOVING_AVERAGE_CROSS
from tests.helpers import real_file
from tests.optimize.optimize_builders import wavy_closes
from tests.optimize.walkforward_builders import hourly_market

PARAMS = {"fast": "5:15:5", "slow": [30, 60]}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("walkforward")
    index = pd.date_range("2023-01-01", periods=24 * 240, freq="h", tz="UTC")
    closes = wavy_closes(len(index), seed=11)
    opens = np.r_[closes[0], closes[:-1]]
    frame = pd.DataFrame(
        {
            "timestamp": index.strftime("%Y-%m-%d %H:%M"),
            "open": opens,
            "high": np.maximum(opens, closes) + 0.0001,
            "low": np.minimum(opens, closes) - 0.0001,
            "close": closes,
            "volume": 1,
        }
    )
    csv = folder / "EURUSD_H1.csv"
    frame.to_csv(csv, index=False, float_format="%.5f")
    with Store.open(folder / "home") as store:
        store.import_file(csv, symbol="EURUSD")
    return folder / "home"


def test_walk_forward_on_stored_data(home: Path, tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    result = backtestr.walk_forward(
        MOVING_AVERAGE_CROSS,
        symbol="EURUSD",
        timeframe="H1",
        home=home,
        walk_forward="train=3M,test=1M",
        params=PARAMS,
        constraints=["fast < slow"],
        executor="serial",
        cash=10_000.0,
        leverage=30.0,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert list(result.windows["test_start"].dt.strftime("%Y-%m")) == [
        "2023-04", "2023-05", "2023-06", "2023-07", "2023-08"
    ]  # fmt: skip
    assert calls[-1] == (30, 30)
    assert result.equity.iloc[0] == pytest.approx(10_000.0)
    assert result.stats.final_equity == pytest.approx(result.equity.iloc[-1])
    assert set(result.windows["slow"]) <= {30, 60}
    result.plot(tmp_path / "wf.svg")
    assert (tmp_path / "wf.svg").stat().st_size > 0


def test_the_api_equals_the_core_on_the_same_data() -> None:
    market = hourly_market(9)
    by_api = backtestr.walk_forward(
        MOVING_AVERAGE_CROSS,
        data=market,
        walk_forward="train=3M,test=2M,anchored",
        params=["fast=5:15:5", "slow=30,60"],
        executor="serial",
        cash=10_000.0,
        objective="total_return_pct",
    )
    settings = EngineSettings(cash=10_000.0)
    payload = SweepPayload(
        load_strategy(MOVING_AVERAGE_CROSS), market, settings, objective="total_return_pct"
    )
    by_core = run_walk_forward(
        payload, ParamSpace.parse(["fast=5:15:5", "slow=30,60"]), "train=3M,test=2M,anchored"
    )
    assert by_api.equity.equals(by_core.equity)
    assert by_api.windows.equals(by_core.windows)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"executor": "dusk"}, "Did you mean 'dask'"),
        ({"cluster": "tcp://127.0.0.1:8786"}, "needs --executor dask"),
        ({"walk_forward": "train=6M"}, "lacks test="),
        ({"params": {"fats": "1:3"}}, "Did you mean 'fast'"),
    ],
)
def test_bad_arguments_are_named(changes: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {
        "data": hourly_market(4),
        "walk_forward": "train=2M,test=1M",
        "params": PARAMS,
        "executor": "serial",
    }
    with pytest.raises(ConfigError, match=message):
        backtestr.walk_forward(MOVING_AVERAGE_CROSS, **{**arguments, **changes})  # type: ignore[arg-type]


def test_a_symbol_is_needed_without_data(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Say which symbol"):
        backtestr.walk_forward(
            MOVING_AVERAGE_CROSS, home=tmp_path, walk_forward="train=2M,test=1M", params=PARAMS
        )


@pytest.mark.realdata
def test_walk_forward_on_four_years_of_real_eurusd_hours() -> None:
    path = real_file("lean_eurusd/converted/EURUSD_OANDA_H1_bidask_2007-2018_UTC.csv.gz")
    frame = pd.read_csv(path)
    stamps = pd.DatetimeIndex(pd.to_datetime(frame["timestamp_utc"])).tz_localize("UTC")
    chosen = (stamps >= "2015-01-01") & (stamps < "2019-01-01")
    rows, ts = frame[chosen], stamps[chosen]
    bars = BarArrays.from_ohlc(
        ts.as_unit("ns").asi8.astype(np.int64),
        *(rows[f"bid_{c}"].to_numpy(dtype=np.float64) for c in ("open", "high", "low", "close")),
    )
    market = backtestr.market_from_bars({"EURUSD": bars}, "H1", {"EURUSD": fx_instrument("EURUSD")})
    result = backtestr.walk_forward(
        MOVING_AVERAGE_CROSS,
        data=market,
        walk_forward="train=1Y,test=6M",
        params={"fast": [10, 20], "slow": [50, 100]},
        executor="serial",
        cash=10_000.0,
        spread_pips=1.0,
    )
    assert len(result.windows) == 6
    assert result.windows["test_start"].iloc[0] == pd.Timestamp("2016-01-01", tz="UTC")
    # the chained account ends where the windows' out-of-sample returns compound to
    growth = np.prod(1 + result.windows["oos_total_return_pct"].to_numpy() / 100)
    assert result.equity.iloc[-1] == pytest.approx(10_000.0 * growth, rel=1e-9)
    assert result.stats.total_trades == result.windows["oos_total_trades"].sum()
