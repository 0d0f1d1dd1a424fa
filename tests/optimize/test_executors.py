"""make_executor, and the callable ``backtestr.optimize`` package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import backtestr
from backtestr.data.store import Store
from backtestr.errors import ConfigError
from backtestr.optimize import LocalPoolExecutor, SerialExecutor, run_trial
from backtestr.optimize.executors import make_executor
from backtestr.optimize.records import SweepRecorder
from tests.optimize.optimize_builders import ma_payload


def test_names_make_their_executors() -> None:
    assert isinstance(make_executor("serial"), SerialExecutor)
    pool = make_executor("local", workers=3)
    assert isinstance(pool, LocalPoolExecutor)
    assert pool.slots == 3
    given = SerialExecutor()
    assert make_executor(given) is given


@pytest.mark.parametrize(
    ("name", "workers", "cluster", "message"),
    [
        ("locale", None, None, "Did you mean 'local'"),
        ("local", 0, None, "at least 1"),
        ("serial", 2, None, "one trial at a time"),
        ("local", None, "tcp://127.0.0.1:8786", "needs --executor dask"),
    ],
)
def test_bad_executor_options_are_config_errors(
    name: str, workers: int | None, cluster: str | None, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        make_executor(name, workers, cluster)


def test_dask_without_its_module_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "backtestr.optimize.dask", None)  # as if not shipped
    with pytest.raises(ConfigError, match="no Dask executor"):
        make_executor("dask")


def test_dask_without_distributed_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "backtestr.optimize.dask", raising=False)
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    with pytest.raises(ConfigError, match="'distributed' is not installed"):
        make_executor("dask")


def test_optimize_package_is_callable_and_its_modules_importable() -> None:
    import backtestr.optimize.space as space_module

    assert callable(backtestr.optimize)
    assert backtestr.optimize.ParamSpace is space_module.ParamSpace
    with pytest.raises(ConfigError, match="Strategy file not found"):
        backtestr.optimize("missing.py", symbol="EURUSD", params={"fast": "1:2"})


HOLDER = """
import sys, time
from backtestr.data.store import Store
store = Store.open(sys.argv[1])
print("held", flush=True)
time.sleep(1.0)
store.close()
"""


def test_recorder_waits_while_another_process_holds_the_home(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        store.save_sweep("s", {})
    outcome = run_trial(ma_payload(n=300), {"fast": 5, "slow": 10})
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    SweepRecorder(tmp_path, "s")(outcome)
    assert holder.wait() == 0  # the save happened after the holder let go
    holder.stdout.close()
    with Store.open(tmp_path) as store:
        _, records = store.load_sweep("s")
    assert [r.key for r in records] == [outcome.key]
