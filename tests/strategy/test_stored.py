"""Runs on stored data, saved as runs: what the web workstation's Run button does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from backtestr.data.store import Store
from backtestr.engine import RunCancelledError
from backtestr.errors import ConfigError
from backtestr.model import Timeframe
from backtestr.strategy import Backtest, load_strategy
from backtestr.strategy.samples import MOVING_AVERAGE_CROSS
from backtestr.strategy.stored import RunSpec, backtest_from_store, run_and_save
from tests.helpers import trending_m1_csv


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "home") as opened:
        opened.import_file(trending_m1_csv(tmp_path / "eurusd.csv", days=1), symbol="EURUSD")
        yield opened


def opener(store: Store) -> tuple[list[int], object]:
    uses: list[int] = []

    @contextmanager
    def open_store() -> Iterator[Store]:
        uses.append(1)
        yield store

    return uses, open_store


def test_a_run_is_saved_with_its_stats_under_a_fresh_id(store: Store) -> None:
    uses, open_store = opener(store)
    spec = RunSpec(symbol="eurusd", timeframe="M5", cash=10_000, commission="3.5/lot")
    source = load_strategy(MOVING_AVERAGE_CROSS)
    first = run_and_save(open_store, source, spec, name="MA cross!")  # type: ignore[arg-type]
    second = run_and_save(open_store, source, spec, name="MA cross!")  # type: ignore[arg-type]
    assert first.run_id.startswith("ma-cross-")
    # same result: the same digest; ids stay unique even within one second of the clock
    assert second.run_id != first.run_id
    assert first.run_id.split("-")[4] == second.run_id.split("-")[4]
    if first.run_id.split("-")[2:4] == second.run_id.split("-")[2:4]:
        assert second.run_id == first.run_id + "-2"
    manifest, tables = store.load_run(first.run_id)
    assert manifest["stats"] == first.result.stats.to_dict()
    assert manifest["settings"]["cash"] == 10_000
    assert len(tables["trades"]) == first.result.stats.total_trades > 0
    assert len(uses) == 4  # load and save, twice: never held while running


def test_the_range_and_settings_come_from_the_spec(store: Store) -> None:
    uses, open_store = opener(store)
    start = 1549238400 * 10**9 + 6 * 3600 * 10**9  # 2019-02-04 06:00 UTC
    spec = RunSpec(symbol="EURUSD", timeframe="H1", start_ns=start, leverage=30)
    backtest = backtest_from_store(open_store, load_strategy(MOVING_AVERAGE_CROSS), spec)  # type: ignore[arg-type]
    assert len(backtest.market.feeds["EURUSD"].bars) == 18
    assert backtest.settings.leverage == 30
    hourly = backtest.market.bar_loader
    assert hourly is not None
    assert len(hourly("EURUSD", Timeframe.parse("H4"))) == 4  # opening from 06:00: 08:00 … 20:00
    assert len(uses) == 2  # the later read went through the store access too


def test_a_cancelled_run_is_not_saved(store: Store) -> None:
    _, open_store = opener(store)

    def cancel_at_once(backtest: Backtest) -> None:
        backtest.cancel()

    with pytest.raises(RunCancelledError):
        run_and_save(
            open_store,  # type: ignore[arg-type]
            load_strategy(MOVING_AVERAGE_CROSS),
            RunSpec(symbol="EURUSD"),
            started=cancel_at_once,
        )
    assert store.list_runs() == []


def test_bad_costs_are_refused_before_anything_runs() -> None:
    with pytest.raises(ConfigError):
        RunSpec(symbol="EURUSD", commission="lots of money").settings()
