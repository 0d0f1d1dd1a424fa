"""The report of a saved run, rebuilt from what the store keeps (manifest + tables)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from backtestr.errors import NoDataError
from backtestr.report._html import render_html_report
from backtestr.stats import Statistics, empty_trades

__all__ = ["render_saved_run_report"]


def render_saved_run_report(
    run_id: str, manifest: Mapping[str, Any], tables: Mapping[str, pd.DataFrame]
) -> str:
    """One self-contained HTML page (stats, equity and drawdown, trades) for a saved run.

    Raises
    ------
    NoDataError
        When the saved run has no statistics or no equity curve.
    """
    if "stats" not in manifest or "equity" not in tables:
        raise NoDataError(f"Run {run_id} has no statistics or equity curve to report.")
    equity_table = tables["equity"]
    equity = equity_table.set_index(equity_table.columns[0])["equity"]
    return render_html_report(
        Statistics.from_dict(manifest["stats"]),
        equity,
        tables.get("trades", empty_trades()),
        title=f"Backtest {run_id}",
    )
