"""The store as a feed: strategy bars, execution bars, ticks, conversion pairs, the run API."""

from __future__ import annotations

from pathlib import Path

import pytest

import backtestr
from backtestr.cli.demo import write_ticks_csv
from backtestr.data.sample import sample_ticks
from backtestr.data.store import Store
from backtestr.engine import ModellingMode
from backtestr.errors import NoDataError
from backtestr.strategy.feed import market_from_store
from tests.engine.helpers import SEED_STRATEGY


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("feed")
    with Store.open(folder / "home") as store:
        for symbol, price, seed in (("EURGBP", 0.8600, 1), ("GBPUSD", 1.2700, 2)):
            csv = folder / f"{symbol}.csv"
            ticks = sample_ticks(weeks=1, ticks_per_second=0.1, start_price=price, seed=seed)
            write_ticks_csv(ticks, csv)
            store.import_file(csv, symbol=symbol)
    return folder / "home"


def test_the_conversion_pair_is_loaded_for_the_account_currency(home: Path) -> None:
    with Store.open(home) as store:
        market = market_from_store(store, ["EURGBP"], "M5", currency="USD")
    assert market.symbols == ["EURGBP", "GBPUSD"]
    assert market.timeframe.name == "M5"
    # ohlc mode models M5 decisions on M1 paths
    feed = market.feeds["EURGBP"]
    assert feed.execution_timeframe is not None
    assert feed.execution_timeframe.name == "M1"
    assert feed.execution_bars is not None
    assert len(feed.execution_bars) > 4 * len(feed.bars)


def test_ticks_mode_loads_the_ticks(home: Path) -> None:
    with Store.open(home) as store:
        market = market_from_store(store, ["GBPUSD"], "M1", mode=ModellingMode.TICKS)
    ticks = market.feeds["GBPUSD"].ticks
    assert ticks is not None
    assert len(ticks) > len(market.feeds["GBPUSD"].bars)


def test_unknown_symbol_is_a_data_error(home: Path) -> None:
    with Store.open(home) as store, pytest.raises(NoDataError, match="EURGBP"):
        market_from_store(store, ["EURGPB"], "M1")


def test_library_run_reads_the_store_and_converts_cross_pnl(home: Path) -> None:
    result = backtestr.run(
        SEED_STRATEGY, symbol="EURGBP", timeframe="M5", home=home, commission="3.5/lot"
    )
    assert result.manifest["symbols"] == ["EURGBP", "GBPUSD"]
    trades = result.trades
    assert len(trades) > 3
    # GBP P&L converted at GBPUSD near 1.27: gross USD P&L per pip of 1 lot is about 12.7
    moved = trades[trades["pnl_pips"].abs() >= 1.0]
    per_pip = moved["gross_pnl"] / moved["pnl_pips"] / moved["size_lots"]
    assert len(per_pip) > 0
    assert per_pip.between(11.0, 14.5).all()
    assert trades["pnl"].sum() == pytest.approx(result.final_equity - 100_000, abs=1e-6)
