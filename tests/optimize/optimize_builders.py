"""A small market and payload for sweep tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from backtestr.engine import EngineSettings
from backtestr.optimize import SweepPayload
from backtestr.strategy.loader import load_strategy
from backtestr.strategy.samples import MOVING_AVERAGE_CROSS
from tests.engine.helpers import bars_from_closes, market


def wavy_closes(n: int = 3_000, seed: int = 7) -> np.ndarray:
    """A random walk with slow waves, so that moving-average crosses trade and differ."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 1.10 + 0.004 * np.sin(t / 90) + np.cumsum(rng.normal(0, 0.0002, n))


def ma_payload(n: int = 3_000, objective: str = "sharpe_ratio") -> SweepPayload:
    return SweepPayload(
        load_strategy(MOVING_AVERAGE_CROSS),
        market(bars_from_closes(wavy_closes(n))),
        EngineSettings(cash=10_000.0, leverage=30.0),
        objective=objective,
    )


def stored_home(folder: Path, weeks: int = 1) -> Path:
    """A data home holding a week of synthetic EURUSD ticks (M1 bars are built from them)."""
    from backtestr.cli.demo import write_ticks_csv
    from backtestr.data.sample import sample_ticks
    from backtestr.data.store import Store

    csv = folder / "EURUSD_ticks.csv"
    write_ticks_csv(sample_ticks(weeks=weeks, ticks_per_second=0.1, seed=3), csv)
    home = folder / "home"
    with Store.open(home) as store:
        store.import_file(csv, symbol="EURUSD")
    return home
