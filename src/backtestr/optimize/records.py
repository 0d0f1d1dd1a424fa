"""Sweeps in the catalog: what identifies a sweep, and trial outcomes as the store's plain
records (the data layer knows nothing of the optimizer's types)."""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from backtestr.data.catalog import TrialRecord
from backtestr.data.store import Store
from backtestr.errors import StoreError
from backtestr.optimize.space import ParamSpace
from backtestr.optimize.trial import SweepPayload, TrialOutcome

__all__ = ["SweepRecorder", "outcome_from_record", "record_from_outcome", "sweep_id", "sweep_spec"]


def record_from_outcome(outcome: TrialOutcome) -> TrialRecord:
    return TrialRecord(
        key=outcome.key,
        params=dict(outcome.params),
        stats=dict(outcome.stats),
        objective=outcome.objective,
        daily_returns=outcome.daily_returns,
        trade_pnls=outcome.trade_pnls,
    )


def outcome_from_record(record: TrialRecord, objective: str) -> TrialOutcome:
    """The outcome a record stores, ranked by ``objective`` (any statistic: results are shared
    between sweeps of other objectives)."""
    value = record.stats.get(objective)
    return TrialOutcome(
        key=record.key,
        params=record.params,
        stats=record.stats,
        objective=float(value) if isinstance(value, int | float) else math.nan,
        daily_returns=np.asarray(record.daily_returns, dtype=np.float64),
        trade_pnls=np.asarray(record.trade_pnls, dtype=np.float64),
    )


def sweep_spec(
    payload: SweepPayload,
    space: ParamSpace,
    *,
    method: str,
    trials: int | None,
    seed: int,
    maximize: bool,
    start_ns: int | None,
    end_ns: int | None,
    data_hash: str,
) -> dict[str, Any]:
    """Everything that decides a sweep's results, JSON-ready: the same command gives the same
    spec, hence the same sweep id, and resumes."""
    return {
        "strategy": {
            "filename": Path(payload.source.filename).name,
            "sha256": payload.source.sha256,
        },
        "symbols": payload.market.symbols,
        "timeframe": payload.market.timeframe.name,
        "range": {"start_ns": start_ns, "end_ns": end_ns},
        "data_sha256": data_hash,
        "settings": payload.settings.to_dict(),
        "space": {
            "params": [f"{r.name}={','.join(str(v) for v in r.values)}" for r in space.ranges],
            "constraints": [c.text for c in space.constraints],
        },
        "method": method,
        "trials": trials,
        "seed": seed,
        "objective": payload.objective,
        "maximize": maximize,
    }


def sweep_id(spec: Mapping[str, Any]) -> str:
    """``<strategy file stem>-<hash of the spec>``: readable, and stable for the same sweep."""
    text = json.dumps(spec, sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    stem = Path(str(spec["strategy"]["filename"])).stem.lower()
    cleaned = "".join(c if c.isalnum() else "-" for c in stem).strip("-")[:40]
    return f"{cleaned or 'sweep'}-{digest}"


class SweepRecorder:
    """Saves each outcome of a sweep the moment it arrives, in one catalog transaction.

    The home is opened for each save and closed right after, so that the store is not held
    (locked) while trials run: another BackTestr process can read the home meanwhile. A save
    that finds the home busy waits for it (up to ``patience_s``).
    """

    def __init__(self, home: Path, sweep: str, patience_s: float = 30.0) -> None:
        self.home = home
        self.sweep = sweep
        self.saved = 0
        self.patience_s = patience_s

    def __call__(self, outcome: TrialOutcome) -> None:
        record = record_from_outcome(outcome)
        deadline = time.monotonic() + self.patience_s
        pause = 0.05
        while True:
            try:
                with Store.open(self.home) as store:
                    store.save_trial(self.sweep, record)
                break
            except StoreError as error:
                # another BackTestr command may hold the home for a moment (sweeps list…)
                if "in use" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(pause)
                pause = min(pause * 2, 1.0)
        self.saved += 1


def load_done(
    store: Store, sweep: str, keys: Sequence[str], objective: str
) -> dict[str, TrialOutcome]:
    """Outcomes already stored: this sweep's own (a Bayesian search replays them) and any
    other sweep's result among ``keys``."""
    _, own = store.load_sweep(sweep)
    records = {r.key: r for r in own}
    records.update(store.load_trials([k for k in keys if k not in records]))
    return {key: outcome_from_record(r, objective) for key, r in records.items()}
