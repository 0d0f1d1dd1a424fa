"""The sweep driver: which parameter sets to try, in what order, on which executor; what is
already done; and the ranking of what came back.

Pure of storage: results already known come in through ``done`` and each new outcome goes out
through ``on_result`` as soon as it completes (the caller saves it), so a sweep stopped at any
point loses nothing already computed and a re-run skips it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

import pandas as pd

from backtestr.errors import ConfigError
from backtestr.optimize.executors import Executor, SerialExecutor, Task
from backtestr.optimize.space import ParamSpace
from backtestr.optimize.trial import SweepPayload, TrialOutcome, trial_key
from backtestr.strategy.params import ParamValue, resolve_params

__all__ = ["LOWER_IS_BETTER", "SearchMethod", "SweepResult", "run_sweep"]

# statistics where a smaller value is the better one; every other objective is maximised
LOWER_IS_BETTER = frozenset(
    {"max_drawdown_pct", "avg_drawdown_pct", "max_drawdown_duration", "volatility_ann_pct"}
)

SweepProgress = Callable[[int, int], None]


class SearchMethod(Enum):
    GRID = "grid"
    RANDOM = "random"
    BAYES = "bayes"

    @classmethod
    def parse(cls, text: str | SearchMethod) -> SearchMethod:
        if isinstance(text, SearchMethod):
            return text
        try:
            return cls(text.lower())
        except ValueError:
            raise ConfigError(
                f"Unknown search method '{text}': use grid, random or bayes."
            ) from None


@dataclass(frozen=True, slots=True, eq=False)
class SweepResult:
    """Every trial of a sweep, in the order they were planned, and the objective they rank by."""

    outcomes: Sequence[TrialOutcome]
    objective: str
    maximize: bool
    skipped: int = 0  # trials found already done (not run again)

    def ranked(self) -> list[TrialOutcome]:
        """Best first; trials whose objective is undefined (nan) last, in planned order."""

        def rank(item: tuple[int, TrialOutcome]) -> tuple[bool, float, int]:
            index, outcome = item
            value = outcome.objective
            undefined = math.isnan(value)
            return (undefined, 0.0 if undefined else (-value if self.maximize else value), index)

        return [outcome for _, outcome in sorted(enumerate(self.outcomes), key=rank)]

    @property
    def best(self) -> TrialOutcome:
        ranked = self.ranked()
        if not ranked or math.isnan(ranked[0].objective):
            raise ConfigError(
                f"No trial has a defined {self.objective} (no trades?): widen the ranges or "
                "pick another --objective."
            )
        return ranked[0]

    def frame(self) -> pd.DataFrame:
        """One row per trial, best first: the parameters, then every statistic."""
        rows = [
            {**dict(o.params), **dict(o.stats), "objective": o.objective, "key": o.key}
            for o in self.ranked()
        ]
        return pd.DataFrame(rows)


def objective_direction(objective: str, maximize: bool | None) -> bool:
    """Whether ``objective`` is maximised: as asked, else unless it is in LOWER_IS_BETTER."""
    return maximize if maximize is not None else objective not in LOWER_IS_BETTER


def plan(
    space: ParamSpace, method: SearchMethod, trials: int | None, seed: int
) -> list[dict[str, ParamValue]]:
    """The parameter sets a grid or random search tries, in order."""
    if method is SearchMethod.GRID:
        sets = list(space.grid())
        return sets if trials is None else sets[:trials]
    if method is SearchMethod.RANDOM:
        if trials is None or trials < 1:
            raise ConfigError("--method random needs --trials N (N ≥ 1).")
        return space.sample(trials, seed)
    raise ConfigError(f"plan() does not plan {method.value} searches")


def run_sweep(
    payload: SweepPayload,
    space: ParamSpace,
    *,
    method: str | SearchMethod = SearchMethod.GRID,
    trials: int | None = None,
    seed: int = 0,
    maximize: bool | None = None,
    executor: Executor | None = None,
    done: Mapping[str, TrialOutcome] | None = None,
    on_result: Callable[[TrialOutcome], None] | None = None,
    progress: SweepProgress | None = None,
) -> SweepResult:
    """Run the strategy of ``payload`` over ``space``.

    Parameters
    ----------
    method
        ``grid`` (every allowed set, ``trials`` caps it), ``random`` (``trials`` distinct sets,
        reproducible with ``seed``) or ``bayes`` (Optuna's TPE, ``trials`` sets).
    maximize
        Direction of ``payload.objective``; by default smaller is better only for drawdown- and
        volatility-like statistics (:data:`LOWER_IS_BETTER`).
    done
        Outcomes already computed, by trial key: not run again, included in the result.
    on_result
        Called with each new outcome as soon as it completes (e.g. to save it).
    progress
        Called with ``(trials finished, trials planned)``.

    Raises
    ------
    ConfigError
        On a parameter the strategy does not declare, or an empty space after constraints.
    StrategyError
        When the strategy fails for some parameter set (the message names the set).
    """
    search = SearchMethod.parse(method)
    for r in space.ranges:  # fail on unknown names/types before any work
        resolve_params(payload.source.parameters, {r.name: r.values[0]})
    go_up = objective_direction(payload.objective, maximize)
    executor = executor or SerialExecutor()
    known = dict(done or {})
    data_hash = payload.data_hash
    if search is SearchMethod.BAYES:
        from backtestr.optimize.bayes import bayes_search  # imports Optuna: only when asked

        found, reused = bayes_search(
            payload,
            space,
            trials=trials,
            seed=seed,
            maximize=go_up,
            executor=executor,
            done=known,
            data_hash=data_hash,
            on_result=on_result,
            progress=progress,
        )
        return SweepResult(found, payload.objective, go_up, reused)
    sets = plan(space, search, trials, seed)
    if not sets:
        raise ConfigError("No parameter set satisfies the constraints: loosen them.")
    keyed = [(trial_key(payload, params, data_hash), params) for params in sets]
    results: dict[str, TrialOutcome] = {key: known[key] for key, _ in keyed if key in known}
    todo: list[Task] = [(key, params) for key, params in dict(keyed).items() if key not in results]
    skipped = len(results)
    total = len(keyed)
    if progress is not None:
        progress(len(results), total)
    if todo:
        with executor.open(payload) as session:
            for outcome in session.run(todo):
                results[outcome.key] = outcome
                if on_result is not None:
                    on_result(outcome)
                if progress is not None:
                    progress(len(results), total)
    outcomes = [results[key] for key in dict(keyed)]
    return SweepResult(outcomes, payload.objective, go_up, skipped)


def chunks(items: Sequence[Task], size: int) -> Iterator[Sequence[Task]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
