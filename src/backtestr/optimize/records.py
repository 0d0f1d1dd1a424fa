"""Sweeps in the catalog: what identifies a sweep, and trial outcomes as the store's plain
records (the data layer knows nothing of the optimizer's types)."""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

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
    """Saves a sweep's outcomes in the catalog as they arrive, a batch per catalog transaction.

    An outcome is written at most ``window_s`` after it arrives: one arriving ``window_s`` or
    more after the last write is written at once (with any still waiting); one arriving sooner
    waits in memory for the next write, which a timer makes ``window_s`` after the last one if
    no outcome does it first. :meth:`close` (or leaving a ``with`` block, also on an error or
    Ctrl-C) writes what is left. So a sweep that ends in any way but being killed outright
    saves everything it computed, and one killed (SIGKILL, power loss) loses at most the last
    ``window_s`` of results; running it again resumes after what was written.

    Why batches: each write opens the home, commits and closes it again (so that the store is
    not held, locked, while trials run and another BackTestr process can read the home
    meanwhile), tens of milliseconds of CPU that a sweep on every core takes from its trials
    and, with the local pool, from the trial this process runs in a thread (the GIL). A write
    that finds the home busy waits for it (up to ``patience_s``).
    """

    def __init__(
        self,
        home: Path,
        sweep: str,
        patience_s: float = 30.0,
        *,
        window_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.home = home
        self.sweep = sweep
        self.saved = 0
        self.writes = 0
        self.patience_s = patience_s
        self.window_s = window_s
        self._clock = clock
        self._waiting: list[TrialRecord] = []
        self._written_at = -math.inf
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._failure: BaseException | None = None  # a timed write's error, raised by the next call

    def __call__(self, outcome: TrialOutcome) -> None:
        record = record_from_outcome(outcome)
        with self._lock:
            self._raise_failure()
            self._waiting.append(record)
            wait_s = self._written_at + self.window_s - self._clock()
            if wait_s <= 0:
                self._write()
            elif self._timer is None:
                self._timer = threading.Timer(wait_s, self._timed_write)
                self._timer.daemon = True  # close() writes what it would have
                self._timer.start()

    def flush(self) -> None:
        """Write the outcomes still waiting, now."""
        with self._lock:
            self._failure = None  # what a timed write failed to write is written here
            self._write()

    def close(self) -> None:
        """Write what is left (idempotent)."""
        self.flush()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def waiting(self) -> int:
        """Outcomes received and not written yet."""
        return len(self._waiting)

    def _timed_write(self) -> None:
        with self._lock:
            try:
                self._write()
            except BaseException as error:  # raised in the sweep's thread at the next call
                self._failure = error

    def _raise_failure(self) -> None:
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure

    def _write(self) -> None:
        """Write the waiting outcomes in one transaction; call holding the lock."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._waiting:
            return
        deadline = time.monotonic() + self.patience_s
        pause = 0.05
        while True:
            try:
                with Store.open(self.home) as store:
                    store.save_trials(self.sweep, self._waiting)
                break
            except StoreError as error:
                # another BackTestr command may hold the home for a moment (sweeps list…)
                if "in use" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(pause)
                pause = min(pause * 2, 1.0)
        self.saved += len(self._waiting)
        self.writes += 1
        self._waiting = []
        self._written_at = self._clock()


def load_done(
    store: Store, sweep: str, keys: Sequence[str], objective: str
) -> dict[str, TrialOutcome]:
    """Outcomes already stored: this sweep's own (a Bayesian search replays them) and any
    other sweep's result among ``keys``."""
    _, own = store.load_sweep(sweep)
    records = {r.key: r for r in own}
    records.update(store.load_trials([k for k in keys if k not in records]))
    return {key: outcome_from_record(r, objective) for key, r in records.items()}
