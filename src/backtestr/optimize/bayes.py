"""Bayesian search with Optuna's TPE sampler, run in deterministic rounds on any executor.

Each round asks the study for parameter sets until it holds ``batch`` sets that need running
(``batch`` defaults to the executor's slots), runs them together, and tells the study their
values in the order they were asked. The sampler is seeded and never sees completion order, so
a seed gives the same search on every run with the same batch size: that is also what makes a
resumed search replay the interrupted one exactly, taking each stored outcome instead of
running it again.

Sets the study proposes that need no run are told at once:

- a set that breaks a constraint is never run. It is told as *pruned* with a positive
  constraint violation (``Trial.set_constraint``): TPE ranks infeasible trials below every
  feasible one, so it learns to leave the infeasible region, where a made-up penalty value
  would distort its model of the objective;
- a set already evaluated (in ``done``, or earlier in this search) is told its known value;
- a set whose objective is undefined (``nan``: no trades) is told as pruned, the worst class.

``trials`` counts distinct parameter sets evaluated; the search also ends when the sampler
keeps proposing only sets it already knows (a small space is exhausted).
"""

from __future__ import annotations

import contextlib
import logging
import math
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, IntDistribution
from optuna.samplers import TPESampler
from optuna.trial import Trial, TrialState

from backtestr.errors import ConfigError
from backtestr.optimize.executors import Executor, ExecutorSession, Task
from backtestr.optimize.space import ParamRange, ParamSpace
from backtestr.optimize.trial import SweepPayload, TrialOutcome, trial_key
from backtestr.strategy.params import ParamValue

__all__ = ["bayes_search"]

# Consecutive proposals of known or infeasible sets after which the space counts as exhausted.
_MAX_STALE_ASKS = 200


@dataclass(frozen=True, slots=True)
class _Dimension:
    """How one parameter is presented to Optuna: numbers by their position in the range (so
    TPE models their order and the values stay exactly the range's), anything else as a
    category."""

    name: str
    values: tuple[ParamValue, ...]
    ordered: bool

    @classmethod
    def of(cls, r: ParamRange) -> _Dimension:
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in r.values)
        return cls(r.name, r.values, numeric)

    def distribution(self) -> BaseDistribution:
        if self.ordered:
            return IntDistribution(0, len(self.values) - 1)
        return CategoricalDistribution(self.values)

    def suggest(self, trial: Trial) -> ParamValue:
        if len(self.values) == 1:
            return self.values[0]
        if self.ordered:
            return self.values[trial.suggest_int(self.name, 0, len(self.values) - 1)]
        # by position: the value comes from the range itself, with its exact type
        return self.values[self.values.index(trial.suggest_categorical(self.name, self.values))]


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    """Optuna logs every trial at INFO and warns about experimental options; a sweep shows its
    own progress, and the user's warning filters (errors in our tests) stay untouched."""
    logger = logging.getLogger("optuna")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            yield
    finally:
        logger.setLevel(level)


def bayes_search(
    payload: SweepPayload,
    space: ParamSpace,
    *,
    trials: int | None,
    seed: int,
    maximize: bool,
    executor: Executor,
    done: Mapping[str, TrialOutcome],
    data_hash: str,
    on_result: Callable[[TrialOutcome], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
    batch: int | None = None,
) -> tuple[list[TrialOutcome], int]:
    """Search ``space`` with TPE; returns the outcomes in the order they were asked and how
    many of them came from ``done``.

    Raises
    ------
    ConfigError
        When ``trials`` is missing or no parameter set satisfies the constraints.
    """
    if trials is None or trials < 1:
        raise ConfigError("--method bayes needs --trials N (N ≥ 1).")
    capacity = sum(1 for _ in space.grid()) if space.grid_size <= 1_000_000 else trials
    if capacity == 0:
        raise ConfigError("No parameter set satisfies the constraints: loosen them.")
    target = min(trials, capacity)
    size = batch or executor.slots
    if size < 1:
        raise ConfigError(f"The batch size of a Bayesian search must be at least 1, got {size}.")
    dimensions = [_Dimension.of(r) for r in space.ranges]
    with _quiet_optuna(), contextlib.ExitStack() as stack:
        study = optuna.create_study(
            direction="maximize" if maximize else "minimize",
            sampler=TPESampler(seed=seed, multivariate=True, constant_liar=True),
        )
        search = _Search(study, space, dimensions, payload, data_hash, done)
        session: ExecutorSession | None = None
        if progress is not None:
            progress(0, target)
        while len(search.results) < target and search.stale < _MAX_STALE_ASKS:
            wanted = min(size, target - len(search.results))
            pending = search.next_round(wanted, target)
            if pending:
                if session is None:
                    session = stack.enter_context(executor.open(payload))
                # a set proposed twice in one round runs once; both trials get its value
                tasks: list[Task] = list({a.key: (a.key, a.params) for a in pending}.values())
                finished: dict[str, TrialOutcome] = {}
                for outcome in session.run(tasks):
                    finished[outcome.key] = outcome
                    if on_result is not None:
                        on_result(outcome)
                    if progress is not None:
                        progress(len(search.results) + len(finished), target)
                for asked in pending:  # in the order asked, whatever order they completed in
                    outcome = search.results.setdefault(asked.key, finished[asked.key])
                    search.tell(asked.trial, outcome)
            elif progress is not None:
                progress(len(search.results), target)
    return list(search.results.values()), search.reused


@dataclass(frozen=True, slots=True)
class _Asked:
    trial: Trial
    key: str
    params: Mapping[str, ParamValue]


class _Search:
    """The study and what it has evaluated so far (by trial key, in the order asked)."""

    def __init__(
        self,
        study: optuna.Study,
        space: ParamSpace,
        dimensions: list[_Dimension],
        payload: SweepPayload,
        data_hash: str,
        done: Mapping[str, TrialOutcome],
    ) -> None:
        self.study = study
        self.space = space
        self.dimensions = dimensions
        self.payload = payload
        self.data_hash = data_hash
        self.done = done
        self.results: dict[str, TrialOutcome] = {}
        self.reused = 0
        self.stale = 0  # consecutive proposals that added nothing

    def next_round(self, wanted: int, target: int) -> list[_Asked]:
        """Ask until ``wanted`` new sets need running (or the target is met from known sets)."""
        pending: list[_Asked] = []
        fresh: set[str] = set()
        while (
            len(fresh) < wanted
            and len(self.results) + len(fresh) < target
            and self.stale < _MAX_STALE_ASKS
        ):
            trial = self.study.ask()
            params = {d.name: d.suggest(trial) for d in self.dimensions}
            violations = [0.0 if c(params) else 1.0 for c in self.space.constraints]
            for index, violation in enumerate(violations):
                trial.set_constraint(f"constraint_{index}", violation)
            if any(violations):
                self.study.tell(trial, state=TrialState.PRUNED)
                self.stale += 1
                continue
            key = trial_key(self.payload, params, self.data_hash)
            known = self.results.get(key)
            if known is None and key in self.done:
                known = self.done[key]
                self.results[key] = known
                self.reused += 1
                self.stale = 0
            elif known is not None or key in fresh:
                self.stale += 1
            else:
                self.stale = 0
                fresh.add(key)
            if known is not None:
                self.tell(trial, known)
            else:
                pending.append(_Asked(trial, key, params))
        return pending

    def tell(self, trial: Trial, outcome: TrialOutcome) -> None:
        if math.isnan(outcome.objective):
            self.study.tell(trial, state=TrialState.PRUNED)
        else:
            self.study.tell(trial, outcome.objective)
