"""The self-contained HTML report: statistics table, equity chart and trade list in one file.

Nothing is fetched from the network: styles are inline, the chart is a base64 PNG. The statistics
are also embedded as JSON (``<script type="application/json" id="statistics">``, the
``Statistics.to_dict()`` form) so tools can read the exact numbers back.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import tempfile
from pathlib import Path

import pandas as pd

from backtestr.report._plots import plot_equity
from backtestr.stats import Statistics

__all__ = ["render_html_report", "write_html_report"]

MAX_TRADE_ROWS = 1_000

# (field, label, kind) in reading order; kinds pick the formatting in _format
_ROWS: tuple[tuple[str, str, str], ...] = (
    ("start", "Start", "time"),
    ("end", "End", "time"),
    ("duration", "Duration", "timedelta"),
    ("exposure_pct", "Exposure", "pct"),
    ("initial_cash", "Initial cash", "money"),
    ("final_equity", "Final equity", "money"),
    ("peak_equity", "Peak equity", "money"),
    ("total_return_pct", "Total return", "pct"),
    ("return_ann_pct", "Annualised return", "pct"),
    ("cagr_pct", "CAGR", "pct"),
    ("volatility_ann_pct", "Annualised volatility", "pct"),
    ("sharpe_ratio", "Sharpe ratio", "ratio"),
    ("sortino_ratio", "Sortino ratio", "ratio"),
    ("calmar_ratio", "Calmar ratio", "ratio"),
    ("max_drawdown_pct", "Max. drawdown", "pct"),
    ("avg_drawdown_pct", "Avg. drawdown", "pct"),
    ("max_drawdown_duration", "Max. drawdown duration", "timedelta"),
    ("avg_drawdown_duration", "Avg. drawdown duration", "timedelta"),
    ("total_trades", "Trades", "int"),
    ("win_rate", "Win rate", "fraction"),
    ("best_trade_pct", "Best trade", "pct"),
    ("worst_trade_pct", "Worst trade", "pct"),
    ("avg_trade_pct", "Avg. trade", "pct"),
    ("max_trade_duration", "Max. trade duration", "timedelta"),
    ("avg_trade_duration", "Avg. trade duration", "timedelta"),
    ("profit_factor", "Profit factor", "ratio"),
    ("expectancy", "Expectancy (money)", "money"),
    ("expectancy_pct", "Expectancy (return)", "pct"),
    ("avg_win", "Avg. win", "money"),
    ("avg_loss", "Avg. loss", "money"),
    ("sqn", "SQN", "ratio"),
    ("commissions_paid", "Commissions paid", "money"),
    ("swaps_paid", "Swaps paid", "money"),
    ("periods_per_year", "Periods per year", "number"),
)

_TRADE_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("symbol", "Symbol", "text"),
    ("side", "Side", "text"),
    ("size_lots", "Lots", "number"),
    ("entry_time", "Entry time", "time"),
    ("entry_price", "Entry price", "price"),
    ("exit_time", "Exit time", "time"),
    ("exit_price", "Exit price", "price"),
    ("pnl", "P&L", "money"),
    ("pnl_pips", "Pips", "number"),
    ("return_pct", "Return", "pct"),
    ("commission", "Commission", "money"),
    ("swap", "Swap", "money"),
    ("duration", "Duration", "timedelta"),
)

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem; color: #222; }
h1 { font-size: 1.5rem; margin-bottom: 0.2rem; }
.period { color: #666; margin-top: 0; }
.layout { display: flex; gap: 2rem; align-items: flex-start; flex-wrap: wrap; }
table { border-collapse: collapse; font-size: 0.9rem; }
th, td { padding: 0.25rem 0.6rem; border-bottom: 1px solid #e4e4e4; }
th { text-align: left; font-weight: 600; }
td.value, td.number { text-align: right; font-variant-numeric: tabular-nums; }
img.chart { max-width: 100%; height: auto; border: 1px solid #e4e4e4; }
.negative { color: #b03a2e; }
.note { color: #666; font-size: 0.85rem; }
"""


def render_html_report(
    statistics: Statistics,
    equity: pd.Series,
    trades: pd.DataFrame,
    *,
    title: str = "Backtest report",
) -> str:
    """Return the report as an HTML document (see :func:`write_html_report`)."""
    figure = plot_equity(equity, drawdown=True, trades=trades)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": "BackTestr"})
    chart = base64.b64encode(buffer.getvalue()).decode("ascii")
    statistics_json = json.dumps(statistics.to_dict(), allow_nan=False)
    # "</script>" inside the JSON would end the script element early
    statistics_json = statistics_json.replace("<", "\\u003c")
    period = f"{_format(statistics.start, 'time')} → {_format(statistics.end, 'time')}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="period">{html.escape(period)}</p>',
        '<div class="layout">',
        _statistics_table(statistics),
        f'<img class="chart" alt="Equity and drawdown" src="data:image/png;base64,{chart}">',
        "</div>",
        _trades_table(trades),
        f'<script type="application/json" id="statistics">{statistics_json}</script>',
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def write_html_report(
    path: str | Path,
    statistics: Statistics,
    equity: pd.Series,
    trades: pd.DataFrame,
    *,
    title: str = "Backtest report",
) -> Path:
    """Write a self-contained HTML report: statistics, equity/drawdown chart and trades.

    Parameters
    ----------
    path
        Target file, usually ``something.html``; written atomically (temporary file + rename).
    statistics
        From ``backtestr.stats.compute_statistics``.
    equity
        The equity curve the statistics were computed from.
    trades
        The trade list (``backtestr.stats.TRADE_COLUMNS``); the first 1 000 trades are listed.
    title
        Page title and heading.

    Returns
    -------
    Path
        The written file.
    """
    target = Path(path)
    document = render_html_report(statistics, equity, trades, title=title)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w",
        encoding="utf-8",
        dir=target.parent,
        prefix=f".{target.name}.",
        suffix=".tmp",
        delete=False,
    ) as handle:
        handle.write(document)
        temporary = Path(handle.name)
    temporary.replace(target)
    return target


def _statistics_table(statistics: Statistics) -> str:
    rows = []
    for field, label, kind in _ROWS:
        value = getattr(statistics, field)
        css = "value negative" if _is_negative(value) else "value"
        rows.append(
            f'<tr data-key="{field}"><th>{html.escape(label)}</th>'
            f'<td class="{css}">{html.escape(_format(value, kind))}</td></tr>'
        )
    return '<table class="statistics">\n' + "\n".join(rows) + "\n</table>"


def _trades_table(trades: pd.DataFrame) -> str:
    if len(trades) == 0:
        return '<h2>Trades</h2>\n<p class="note">No trades.</p>'
    shown = trades.iloc[:MAX_TRADE_ROWS]
    header = "".join(f"<th>{html.escape(label)}</th>" for _, label, _ in _TRADE_FIELDS)
    body = []
    for number, row in enumerate(shown.itertuples(index=False), start=1):
        cells = [f'<td class="number">{number}</td>']
        for field, _, kind in _TRADE_FIELDS:
            value = getattr(row, field)
            css = "number" if kind not in ("text", "time") else "text"
            if _is_negative(value):
                css += " negative"
            cells.append(f'<td class="{css}">{html.escape(_format(value, kind))}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    note = ""
    if len(trades) > MAX_TRADE_ROWS:
        note = f'<p class="note">First {MAX_TRADE_ROWS:,} of {len(trades):,} trades.</p>'
    return (
        f"<h2>Trades</h2>\n{note}\n"
        f'<table class="trades">\n<tr><th>#</th>{header}</tr>\n' + "\n".join(body) + "\n</table>"
    )


def _is_negative(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value < 0


def _format(value: object, kind: str) -> str:
    """Format one value for people; undefined values as an em dash, infinities as ∞."""
    if value is None or value is pd.NaT:
        return "—"
    if kind == "text":
        return str(value)
    if kind == "time":
        stamp = pd.Timestamp(value)  # type: ignore[arg-type]
        return stamp.tz_convert("UTC").strftime("%Y-%m-%d %H:%M UTC")
    if kind == "timedelta":
        # averages carry nanoseconds nobody reads
        return str(pd.Timedelta(value).round("s"))  # type: ignore[arg-type]
    number = float(value)  # type: ignore[arg-type]
    if math.isnan(number):
        return "—"
    if math.isinf(number):
        return "∞" if number > 0 else "−∞"
    if kind == "int":
        return f"{int(number):,}"
    if kind == "pct":
        return f"{number:,.2f} %"
    if kind == "fraction":
        return f"{number * 100:,.2f} %"
    if kind == "ratio":
        return f"{number:,.3f}"
    if kind == "price":
        return f"{number:,.5f}".rstrip("0").rstrip(".")
    if kind == "money":
        return f"{number:,.2f}"
    return f"{number:,.4g}" if abs(number) < 1e6 else f"{number:,.0f}"
