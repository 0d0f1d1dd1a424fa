"""Saved strategies: named files that never escape their folder, saved only when they load."""

from __future__ import annotations

from pathlib import Path

import pytest

from backtestr.errors import ConfigError, NoDataError, StrategyError
from backtestr.strategy.library import StrategyLibrary
from backtestr.strategy.samples import MOVING_AVERAGE_CROSS


def test_saved_strategies_are_listed_read_replaced_and_deleted(tmp_path: Path) -> None:
    library = StrategyLibrary(tmp_path / "strategies")
    assert library.names() == []
    library.save("MA cross", MOVING_AVERAGE_CROSS)
    library.save("breakout_2", "def handle_data(context, data):\n    pass\n")
    assert library.names() == ["MA cross", "breakout_2"]
    assert library.load("MA cross").source == MOVING_AVERAGE_CROSS
    library.save("MA cross", "def handle_data(context, data):\n    return\n")
    assert "return" in library.load("MA cross").source
    library.delete("breakout_2")
    assert library.names() == ["MA cross"]
    assert sorted(p.name for p in (tmp_path / "strategies").iterdir()) == ["MA cross.py"]


@pytest.mark.parametrize("name", ["../evil", "a/b", ".hidden", "", "x" * 65, "a\\b", "ok.py"])
def test_names_that_could_be_paths_are_refused(tmp_path: Path, name: str) -> None:
    library = StrategyLibrary(tmp_path / "strategies")
    with pytest.raises(ConfigError, match="cannot name a strategy"):
        library.save(name, MOVING_AVERAGE_CROSS)
    assert not (tmp_path / "strategies").exists()


def test_code_that_does_not_load_is_not_saved(tmp_path: Path) -> None:
    library = StrategyLibrary(tmp_path / "strategies")
    with pytest.raises(StrategyError) as failed:
        library.save("broken", "def handle_data(context, data):\n    x = (\n")
    assert failed.value.line == 2
    assert library.names() == []


def test_an_unknown_name_says_what_is_saved(tmp_path: Path) -> None:
    library = StrategyLibrary(tmp_path / "strategies")
    library.save("mine", MOVING_AVERAGE_CROSS)
    with pytest.raises(NoDataError, match="Saved: mine"):
        library.load("yours")
