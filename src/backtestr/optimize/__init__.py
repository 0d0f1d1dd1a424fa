"""Parameter sweeps (grid, random, Bayesian), walk-forward analysis and their executors.

The core (:mod:`space`, :mod:`trial`, :mod:`sweep`) is pure; executors decide where trials run
(this process, a local process pool, a Dask cluster). The package itself is callable:
``backtestr.optimize(strategy, symbol=…, params=…)`` is :func:`backtestr.optimize.api.optimize`.

The names below are imported on first use (PEP 562): a pool worker imports
:mod:`backtestr.optimize.executors`, and with it this package, and must not pay for the store
and DuckDB, which only the sweeps on stored data (:mod:`api`, :mod:`walkforward_api`) need.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from backtestr.optimize.executors import Executor, ExecutorSession, SerialExecutor
    from backtestr.optimize.pool import LocalPoolExecutor
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

# public name -> the module (of this package) that defines it
_HOMES = {
    **dict.fromkeys(["Executor", "ExecutorSession", "SerialExecutor"], "executors"),
    "LocalPoolExecutor": "pool",
    **dict.fromkeys(["Constraint", "ParamRange", "ParamSpace"], "space"),
    **dict.fromkeys(["SearchMethod", "SweepResult", "run_sweep"], "sweep"),
    **dict.fromkeys(
        ["SweepPayload", "TrialOutcome", "freeze_market", "run_trial", "trial_key"], "trial"
    ),
    **dict.fromkeys(["WalkForwardResult", "WindowRun", "run_walk_forward"], "walkforward"),
    "walk_forward": "walkforward_api",
    **dict.fromkeys(["WalkForwardSpec", "Window"], "windows"),
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module '{__name__}' has no attribute '{name}'")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # later look-ups do not come here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


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
