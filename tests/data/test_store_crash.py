"""A process killed at any moment of an import leaves the store in the old or the new state."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from backtestr.cli.demo import write_ticks_csv
from backtestr.data.sample import sample_ticks
from backtestr.data.store import Store

CHILD = """
import sys
from backtestr.data.store import Store
store = Store.open(sys.argv[1])
print("importing", flush=True)
store.import_file(sys.argv[2], symbol="EURUSD")
store.close()
print("done", flush=True)
"""


def _state(home: Path) -> tuple[list[tuple[object, ...]], np.ndarray]:
    with Store.open(home) as store:
        datasets = [(d.kind, d.rows, d.first_ns, d.last_ns) for d in store.datasets()]
        lake = store.home / "lake"
        files = {p.relative_to(lake).as_posix() for p in lake.rglob("*") if p.is_file()}
        assert files == store.catalog.referenced_paths(), "lake and catalog disagree"
        ticks = store.ticks("EURUSD").bid
    return datasets, ticks


@pytest.mark.slow
def test_killing_an_import_never_leaves_a_mix(tmp_path: Path) -> None:
    first = sample_ticks(weeks=1, seed=1, ticks_per_second=0.5)
    second = sample_ticks(
        weeks=1, seed=2, ticks_per_second=0.5
    )  # same weeks, other prices: overlaps everything
    base_csv, new_csv = tmp_path / "base.csv", tmp_path / "new.csv"
    write_ticks_csv(first, base_csv)
    write_ticks_csv(second, new_csv)

    reference_old, reference_new = tmp_path / "old", tmp_path / "new"
    for home, files in ((reference_old, [base_csv]), (reference_new, [base_csv, new_csv])):
        with Store.open(home) as store:
            for path in files:
                store.import_file(path, symbol="EURUSD")
    old_state, new_state = _state(reference_old), _state(reference_new)

    outcomes = set()
    for attempt, delay in enumerate([0.0, 0.1, 0.25, 0.5, 0.9]):
        home = tmp_path / f"home-{attempt}"
        with Store.open(home) as store:
            store.import_file(base_csv, symbol="EURUSD")
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(home), str(new_csv)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "importing"
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        datasets, bids = _state(home)
        if datasets == old_state[0]:
            np.testing.assert_array_equal(bids, old_state[1])
            outcomes.add("old")
        else:
            assert datasets == new_state[0]
            np.testing.assert_array_equal(bids, new_state[1])
            outcomes.add("new")
        with Store.open(home) as store:  # and the store still works afterwards
            store.import_file(new_csv, symbol="EURUSD")
        assert _state(home)[0] == new_state[0]
    assert "old" in outcomes  # at least one kill landed mid-import
