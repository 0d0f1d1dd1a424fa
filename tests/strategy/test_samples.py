"""The example files a new user starts from are the strategies the package ships and runs."""

from backtestr.strategy.samples import MOVING_AVERAGE_CROSS, SEED_STRATEGY
from tests.helpers import REPO


def test_examples_are_the_shipped_strategies() -> None:
    examples = REPO / "examples"
    assert (examples / "seed_strategy.py").read_text(encoding="utf-8") == SEED_STRATEGY
    assert (examples / "sma_cross.py").read_text(encoding="utf-8") == MOVING_AVERAGE_CROSS
