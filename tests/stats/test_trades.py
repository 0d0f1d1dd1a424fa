"""The trade list contract: columns, empty list, validation messages."""

from __future__ import annotations

import pandas as pd
import pytest

from backtestr.errors import ConfigError
from backtestr.stats import TRADE_COLUMNS, empty_trades, validate_trades
from tests.stats.stats_builders import trade_list


def test_empty_trades_has_the_contract_columns_and_dtypes() -> None:
    trades = empty_trades()
    assert tuple(trades.columns) == TRADE_COLUMNS
    assert len(trades) == 0
    assert isinstance(trades["entry_time"].dtype, pd.DatetimeTZDtype)
    assert trades["pnl"].dtype == "float64"
    assert trades["duration"].dtype.kind == "m"
    validate_trades(trades)


def test_extra_columns_are_allowed() -> None:
    trades = trade_list([1.0, -2.0]).assign(tag="breakout")
    validate_trades(trades)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.drop(columns=["pnl", "swap"]), "lacks the column.*swap, pnl"),
        (lambda t: t.assign(side=["buy", "long"]), "'long' or 'short', got buy"),
        (lambda t: t.assign(pnl=[float("nan"), 1.0]), "'pnl' holds a NaN"),
        (
            lambda t: t.assign(entry_time=t["entry_time"].dt.tz_localize(None)),
            "'entry_time' must hold tz-aware",
        ),
    ],
)
def test_a_broken_trade_list_is_refused_with_what_is_wrong(change, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match=message):
        validate_trades(change(trade_list([1.0, -2.0])))
