"""``backtestr.optimize``: sweeps on stored data, saved as they run, resumed by running again."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import backtestr
from backtestr.data.store import Store
from backtestr.errors import ConfigError
from backtestr.strategy.samples import MOVING_AVERAGE_CROSS
from tests.optimize.optimize_builders import stored_home

PARAMS = {"fast": "5:20:5", "slow": [30, 40]}
OPTIONS = {"symbol": "EURUSD", "params": PARAMS, "objective": "total_return_pct"}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return stored_home(tmp_path_factory.mktemp("optimize-api"))


@pytest.fixture(scope="module")
def strategy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("strategy") / "cross.py"
    path.write_text(MOVING_AVERAGE_CROSS)
    return path


def test_optimize_returns_ranked_frame_and_saves_sweep_and_best_run(
    home: Path, strategy: Path, tmp_path: Path
) -> None:
    own = tmp_path / "home"
    shutil.copytree(home, own)
    seen: list[tuple[int, int]] = []
    frame = backtestr.optimize(
        strategy, home=own, executor="local", workers=2, progress=lambda d, t: seen.append((d, t)),
        constraints=["fast < slow"], **OPTIONS,  # type: ignore[arg-type]
    )  # fmt: skip
    assert len(frame) == 8
    assert frame["total_return_pct"].is_monotonic_decreasing
    assert {"fast", "slow", "sharpe_ratio", "objective", "key"} <= set(frame.columns)
    assert seen[-1] == (8, 8)
    with Store.open(own) as store:
        row, records = store.load_sweep(frame.attrs["sweep_id"])
        manifest, _ = store.load_run(frame.attrs["best_run_id"])
    assert row.trials == 8
    assert {r.key for r in records} == set(frame["key"])
    assert row.spec["space"]["params"] == ["fast=5,10,15,20", "slow=30,40"]
    best = frame.iloc[0]
    assert manifest["parameters"] == {"fast": best["fast"], "slow": best["slow"]}
    assert manifest["stats"]["total_return_pct"] == best["total_return_pct"]


def test_bad_inputs_fail_before_any_run(home: Path, strategy: Path) -> None:
    with pytest.raises(ConfigError, match="Did you mean 'sharpe_ratio'"):
        backtestr.optimize(strategy, symbol="EURUSD", params=PARAMS, objective="sharp_ratio",
                           home=home)  # fmt: skip
    with pytest.raises(ConfigError, match="Unknown executor 'pool'"):
        backtestr.optimize(strategy, symbol="EURUSD", params=PARAMS, executor="pool", home=home)
    with pytest.raises(ConfigError, match="needs --executor dask"):
        backtestr.optimize(strategy, symbol="EURUSD", params=PARAMS, cluster="tcp://x:1",
                           home=home)  # fmt: skip
    with pytest.raises(ConfigError, match="must be a mapping"):
        backtestr.optimize(strategy, symbol="EURUSD", params="fast=1:2", home=home)


CHILD = """
import sys
import backtestr
backtestr.optimize(
    sys.argv[2], home=sys.argv[1], symbol="EURUSD", params={"fast": "5:20:5", "slow": [30, 40]},
    objective="total_return_pct", executor="serial",
    progress=lambda done, total: print(done, flush=True),
)
print("finished", flush=True)
"""


@pytest.mark.slow
def test_a_killed_sweep_resumes_where_it_stopped(
    home: Path, strategy: Path, tmp_path: Path
) -> None:
    killed, fresh = tmp_path / "killed", tmp_path / "fresh"
    shutil.copytree(home, killed)
    shutil.copytree(home, fresh)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(killed), str(strategy)], stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert child.stdout is not None
    lines = [child.stdout.readline().strip() for _ in range(4)]  # "0", then 3 trials done
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    assert lines == ["0", "1", "2", "3"]
    with Store.open(killed) as store:
        (sweep,) = store.list_sweeps()
        stored = sweep.trials
    # the first result is written at once, the next ones within a second (the recorder's
    # window): a kill loses only results of the last second, and the rest is resumed
    assert 1 <= stored < 8

    resumed = backtestr.optimize(strategy, home=killed, executor="serial", **OPTIONS)  # type: ignore[arg-type]
    assert resumed.attrs["sweep_id"] == sweep.sweep_id
    assert resumed.attrs["skipped"] == stored
    uninterrupted = backtestr.optimize(strategy, home=fresh, executor="serial", **OPTIONS)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(resumed, uninterrupted)
    again = backtestr.optimize(strategy, home=killed, executor="serial", **OPTIONS)  # type: ignore[arg-type]
    assert again.attrs["skipped"] == 8
    assert again.attrs["best_run_id"] == resumed.attrs["best_run_id"]  # saved once


def test_a_bayesian_sweep_resumes_from_its_stored_trials(
    home: Path, strategy: Path, tmp_path: Path
) -> None:
    own = tmp_path / "home"
    shutil.copytree(home, own)
    options = {**OPTIONS, "params": {"fast": "5:30:5", "slow": "30:60:10"}}
    first = backtestr.optimize(strategy, home=own, executor="serial", method="bayes", trials=5,
                               seed=3, **options)  # type: ignore[arg-type]  # fmt: skip
    again = backtestr.optimize(strategy, home=own, executor="serial", method="bayes", trials=5,
                               seed=3, **options)  # type: ignore[arg-type]  # fmt: skip
    assert len(first) == 5
    assert again.attrs["skipped"] == 5
    pd.testing.assert_frame_equal(first, again)
