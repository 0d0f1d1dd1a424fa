"""The examples in the stats and report docstrings run and print what they claim."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "backtestr.stats",
    "backtestr.stats._deflated_sharpe",
    "backtestr.stats._drawdown",
    "backtestr.stats._monte_carlo",
    "backtestr.stats._overfitting",
    "backtestr.stats._returns",
    "backtestr.stats._trades",
    "backtestr.stats._trial_returns",
    "backtestr.report._plots",
    "backtestr.report._robustness",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_hold(name: str) -> None:
    module = importlib.import_module(name)
    failures, attempted = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert attempted > 0
    assert failures == 0
