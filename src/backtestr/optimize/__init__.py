"""Parameter sweeps (grid, random, Bayesian), walk-forward analysis and their executors.

The core (:mod:`space`, :mod:`trial`, :mod:`sweep`) is pure; executors decide where trials run
(this process, a local process pool, a Dask cluster). The package itself is callable:
``backtestr.optimize(strategy, symbol=…, params=…)`` is :func:`backtestr.optimize.api.optimize`.
"""

import sys
import types
from typing import Any

from backtestr.optimize.executors import (
    Executor,
    ExecutorSession,
    LocalPoolExecutor,
    SerialExecutor,
)
from backtestr.optimize.space import Constraint, ParamRange, ParamSpace
from backtestr.optimize.sweep import SearchMethod, SweepResult, run_sweep
from backtestr.optimize.trial import (
    SweepPayload,
    TrialOutcome,
    freeze_market,
    run_trial,
    trial_key,
)
from backtestr.optimize.walkforward import WalkForwardResult, WindowRun, run_walk_forward
from backtestr.optimize.walkforward_api import walk_forward
from backtestr.optimize.windows import WalkForwardSpec, Window

__all__ = [
    "Constraint",
    "Executor",
    "ExecutorSession",
    "LocalPoolExecutor",
    "ParamRange",
    "ParamSpace",
    "SearchMethod",
    "SerialExecutor",
    "SweepPayload",
    "SweepResult",
    "TrialOutcome",
    "WalkForwardResult",
    "WalkForwardSpec",
    "Window",
    "WindowRun",
    "freeze_market",
    "run_sweep",
    "run_trial",
    "run_walk_forward",
    "trial_key",
    "walk_forward",
]


class _CallablePackage(types.ModuleType):
    """``backtestr.optimize(...)`` runs :func:`backtestr.optimize.api.optimize`."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from backtestr.optimize.api import optimize

        return optimize(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
