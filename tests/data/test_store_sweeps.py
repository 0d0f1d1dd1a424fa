"""Sweeps and their trial results in the catalog."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from backtestr.data.catalog import TrialRecord
from backtestr.data.store import Store
from backtestr.errors import NoDataError


def _record(key: str, objective: float = 1.5) -> TrialRecord:
    return TrialRecord(
        key=key,
        params={"fast": 5, "mode": "a"},
        stats={"sharpe_ratio": objective, "profit_factor": math.nan},
        objective=objective,
        daily_returns=np.array([0.1, -0.2, 1e-17, math.nan]),
        trade_pnls=np.array([3.25, -1.0]),
    )


def test_trial_results_read_back_bit_for_bit(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        assert store.save_sweep("ma-1", {"method": "grid", "space": ["fast=5:10"]})
        assert not store.save_sweep("ma-1", {"method": "grid", "space": ["fast=5:10"]})
        store.save_trial("ma-1", _record("k1"))
        store.save_trial("ma-1", _record("k2", math.nan))
    with Store.open(tmp_path) as store:
        row, records = store.load_sweep("ma-1")
        loaded = store.load_trials(["k2", "unknown"])
    assert row.spec == {"method": "grid", "space": ["fast=5:10"]}
    assert row.trials == 2
    assert [r.key for r in records] == ["k1", "k2"]
    first = records[0]
    assert first.params == {"fast": 5, "mode": "a"}
    assert list(first.stats) == ["sharpe_ratio", "profit_factor"]  # in the order given
    assert first.objective == 1.5
    assert math.isnan(records[1].objective)
    assert math.isnan(first.stats["profit_factor"])
    assert first.daily_returns.tobytes() == _record("k1").daily_returns.tobytes()
    assert first.trade_pnls.tolist() == [3.25, -1.0]
    assert list(loaded) == ["k2"]


def test_a_result_is_stored_once_and_shared_by_sweeps(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        store.save_sweep("a", {})
        store.save_sweep("b", {})
        store.save_trial("a", _record("k1"))
        store.save_trial("b", _record("k1"))
        store.save_trial("b", _record("k1"))  # saving twice is harmless
        assert [s.trials for s in store.list_sweeps()] == [1, 1]
        assert store.catalog._db.execute("SELECT COUNT(*) FROM trials").fetchone() == (1,)


def test_unknown_sweep_suggests_a_known_one(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        store.save_sweep("cross-abc", {})
        with pytest.raises(NoDataError, match="Did you mean 'cross-abc'"):
            store.load_sweep("cross-abd")
