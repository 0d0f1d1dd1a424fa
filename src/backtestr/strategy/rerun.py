"""Re-running a saved run from its manifest alone, and checking that nothing changed.

A manifest records everything a run depends on (strategy source, parameters, engine settings,
symbols, timeframe, and each symbol's data range and content hash). :func:`rerun_saved` runs it
again on the store's data and compares the new result with the saved one, bit for bit.
"""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from backtestr.data.store import Store
from backtestr.engine import (
    EngineSettings,
    ModellingMode,
    PositionMode,
    RunResult,
    parse_commission,
    parse_slippage,
)
from backtestr.errors import ConfigError
from backtestr.strategy.backtest import Backtest
from backtestr.strategy.feed import market_from_store
from backtestr.strategy.loader import load_strategy

__all__ = ["Rerun", "rerun_saved", "settings_from_dict"]


@dataclass(frozen=True, slots=True, eq=False)
class Rerun:
    """The new result and what differs from the saved one (empty: bit-identical)."""

    run_id: str
    result: RunResult
    differences: list[str]

    @property
    def identical(self) -> bool:
        return not self.differences


def settings_from_dict(values: Mapping[str, Any]) -> EngineSettings:
    """The inverse of :meth:`EngineSettings.to_dict` (as written in a run manifest)."""
    try:
        return EngineSettings(
            cash=float(values["cash"]),
            currency=str(values["currency"]),
            leverage=None if values.get("leverage") is None else float(values["leverage"]),
            mode=ModellingMode.parse(str(values["mode"])),
            trade_on_close=bool(values["trade_on_close"]),
            position_mode=PositionMode(values["position_mode"]),
            commission=parse_commission(str(values["commission"])),
            slippage=parse_slippage(str(values["slippage"])),
            spread_pips=float(values["spread_pips"]),
            margin_call_pct=float(values["margin_call_pct"]),
            stop_out_pct=float(values["stop_out_pct"]),
            close_at_end=bool(values["close_at_end"]),
        )
    except (KeyError, ValueError) as error:
        raise ConfigError(
            f"The run's settings cannot be read back ({error!r}): it was saved by another version."
        ) from error


def rerun_saved(store: Store, run_id: str) -> Rerun:
    """Run ``run_id`` again from its manifest on the stored data and compare.

    Raises
    ------
    NoDataError
        When the run is unknown or its data is no longer stored.
    """
    manifest, tables = store.load_run(run_id)
    strategy = manifest["strategy"]
    source = dataclasses.replace(load_strategy(strategy["source"]), filename=strategy["filename"])
    settings = settings_from_dict(manifest["settings"])
    symbols: list[str] = list(manifest["symbols"])
    data: dict[str, dict[str, Any]] = manifest["data"]
    primary = data[symbols[0]]
    market = market_from_store(
        store,
        symbols,
        manifest["timeframe"],
        start_ns=int(primary["first_bar_ns"]),
        end_ns=int(primary["last_bar_ns"]) + 1,
        mode=settings.mode,
        currency=settings.currency,
    )
    result = Backtest(source, market, settings, manifest["parameters"]).run()
    return Rerun(run_id, result, _differences(manifest, tables, result))


def _differences(
    manifest: Mapping[str, Any], tables: Mapping[str, pd.DataFrame], result: RunResult
) -> list[str]:
    found: list[str] = []
    for symbol, saved in manifest["data"].items():
        now = result.manifest["data"].get(symbol)
        if now != saved:
            found.append(f"the stored data of {symbol} changed since the run ({saved} → {now})")
    for name in ("parameters", "settings"):
        if _canonical(result.manifest[name]) != _canonical(manifest[name]):
            found.append(f"{name}: saved {manifest[name]}, now {result.manifest[name]}")
    saved_stats, stats = manifest.get("stats", {}), result.stats.to_dict()
    for key in sorted(set(saved_stats) | set(stats)):
        if _canonical(saved_stats.get(key)) != _canonical(stats.get(key)):
            found.append(f"statistic {key}: saved {saved_stats.get(key)}, now {stats.get(key)}")
    for name, table in result.tables().items():
        saved_table = tables.get(name)
        if saved_table is None or not _round_trip(table).equals(saved_table):
            found.append(f"the {name} table differs")
    return found


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _round_trip(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` as it reads back from the Parquet file a saved run keeps it in."""
    buffer = io.BytesIO()
    table.to_parquet(buffer)
    buffer.seek(0)
    return pd.read_parquet(buffer)
