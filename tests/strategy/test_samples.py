"""The example files a new user starts from are the strategies the package ships and runs."""

from backtestr.strategy.samples import MOVING_AVERAGE_CROSS, SEED_STRATEGY
from tests.helpers import REPO


def test_examples_are_the_shipped_strategies() -> None:
    examples = REPO / "examples"
    assert (examples / "seed_strategy.py").read_text(encoding="utf-8") == SEED_STRATEGY
    assert (examples / "sma_cross.py").read_text(encoding="utf-8") == MOVING_AVERAGE_CROSS


def test_the_web_editor_offers_the_shipped_crossover_verbatim() -> None:
    # the frontend bundles its examples (it must work before any request); keep them in step
    source = (REPO / "web" / "src" / "state" / "examples.ts").read_text(encoding="utf-8")
    after_name = source.split('name: "Moving-average crossover"', 1)[1]
    code = after_name.split("code: `", 1)[1].split("`", 1)[0]
    assert "${" not in code
    assert "\\" not in code
    assert code == MOVING_AVERAGE_CROSS
