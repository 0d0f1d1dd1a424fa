"""``backtestr run`` (backtest a strategy file on stored data) and ``backtestr runs`` (the saved
runs: list, show, export)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from backtestr.cli import EXIT_OTHER_ERROR, cli
from backtestr.cli._account import account_options, account_settings
from backtestr.cli._common import ProgressBars, console, open_store, parse_time
from backtestr.engine import RunResult
from backtestr.errors import ConfigError
from backtestr.report import (
    plot_equity,
    render_saved_run_report,
    save_figure,
    write_html_report,
)
from backtestr.strategy import Backtest, load_strategy, parse_param_overrides
from backtestr.strategy.feed import market_from_store
from backtestr.strategy.stored import save_run_result

# The headline figures, in this order, in the table and at the top of --json.
HEADLINE = (
    "total_return_pct",
    "cagr_pct",
    "sharpe_ratio",
    "sortino_ratio",
    "calmar_ratio",
    "max_drawdown_pct",
    "max_drawdown_duration",
    "total_trades",
    "win_rate",
    "profit_factor",
    "expectancy",
    "avg_win",
    "avg_loss",
    "best_trade_pct",
    "worst_trade_pct",
    "exposure_pct",
    "sqn",
    "commissions_paid",
    "swaps_paid",
    "final_equity",
)


@cli.command("run")
@click.argument("strategy_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--symbol", required=True, help="The symbol the strategy trades (context.symbol).")
@click.option(
    "--symbols",
    multiple=True,
    help="More symbols to load (data.history of other pairs, cross-rate conversion).",
)
@click.option("--timeframe", default="M1", show_default=True, help="Bars handle_data runs on.")
@click.option("--from", "start", help="First bar (ISO 8601, UTC), e.g. 2019-02-04.")
@click.option("--to", "end", help="Last day or instant (inclusive), e.g. 2019-02-05.")
@account_options
@click.option("--param", "params", multiple=True, help="Override a PARAMETERS entry: NAME=VALUE.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def run_command(
    ctx: click.Context,
    strategy_file: Path,
    symbol: str,
    symbols: tuple[str, ...],
    timeframe: str,
    start: str | None,
    end: str | None,
    cash: float,
    currency: str,
    leverage: float | None,
    commission: str,
    slippage: str,
    spread_pips: float,
    mode: str,
    trade_on_close: bool,
    hedging: bool,
    params: tuple[str, ...],
    as_json: bool,
) -> None:
    """Backtest STRATEGY_FILE on stored data and save the run."""
    source = load_strategy(strategy_file)
    settings = account_settings(
        cash=cash, currency=currency, leverage=leverage, commission=commission,
        slippage=slippage, spread_pips=spread_pips, mode=mode, trade_on_close=trade_on_close,
        hedging=hedging,
    )  # fmt: skip
    wanted = list(dict.fromkeys(s.upper() for s in (symbol, *symbols)))
    with open_store(ctx) as store:
        market = market_from_store(
            store,
            wanted,
            timeframe,
            start_ns=None if start is None else parse_time(start),
            end_ns=None if end is None else parse_time(end, end=True),
            mode=settings.mode,
            currency=settings.currency,
        )
        backtest = Backtest(source, market, settings, parse_param_overrides(params))
        if as_json:
            result = backtest.run()
        else:
            with ProgressBars("Backtesting") as progress:
                result = backtest.run(lambda done, total: progress("run", done, total))
        run_id = save_run_result(store, result, strategy_file.stem)
        folder = store.run_folder(run_id)
    report = write_run_report(folder, result, title=f"{strategy_file.name} on {symbol}")
    if as_json:
        payload = {
            "run_id": run_id,
            "saved_to": str(folder),
            "report": str(report),
            **result.stats.to_dict(),
        }
        click.echo(json.dumps(payload, indent=2, allow_nan=False))
        return
    console.print(stats_table(result.stats.to_dict(), title=f"{strategy_file.name} on {symbol}"))
    console.print(f"Saved run [bold]{run_id}[/bold] in {folder}")
    console.print(f"Report (statistics, equity and drawdown chart, trades): {report}")


def write_run_report(folder: Path, result: RunResult, *, title: str) -> Path:
    """A self-contained HTML report (equity and drawdown chart, statistics, trades) and the
    equity chart as PNG, next to the saved run."""
    equity = result.equity["equity"]
    save_figure(plot_equity(equity, trades=result.trades, title=title), folder / "equity.png")
    return write_html_report(
        folder / "report.html", result.stats, equity, result.trades, title=title
    )


def _format(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:,.4f}" if abs(value) < 10 else f"{value:,.2f}"
    return "-" if value is None else str(value)


def stats_table(stats: dict[str, Any], title: str) -> Table:
    table = Table(title=title)
    table.add_column("statistic")
    table.add_column("value", justify="right")
    for name in HEADLINE:
        if name in stats:
            table.add_row(name, _format(stats[name]))
    return table


@cli.group()
def runs() -> None:
    """Saved backtest runs: list, show, export, rerun."""


@runs.command("list")
@click.pass_context
def runs_list(ctx: click.Context) -> None:
    """List the saved runs, newest last."""
    with open_store(ctx) as store:
        rows = store.list_runs()
    table = Table(title="Saved runs")
    for column in ("run id", "created (UTC)", "strategy", "symbols", "return %", "trades"):
        table.add_column(column)
    for row in rows:
        manifest = row.manifest
        stats = manifest.get("stats", {})
        table.add_row(
            row.run_id,
            row.created_at_iso,
            Path(str(manifest.get("strategy", {}).get("filename", "?"))).name,
            ",".join(manifest.get("symbols", [])),
            _format(stats.get("total_return_pct")),
            _format(stats.get("total_trades")),
        )
    console.print(table)


@runs.command("show")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest and stats as JSON.")
@click.pass_context
def runs_show(ctx: click.Context, run_id: str, as_json: bool) -> None:
    """Show a saved run: its settings, parameters, data and statistics."""
    with open_store(ctx) as store:
        manifest, tables = store.load_run(run_id)
    if as_json:
        click.echo(json.dumps(manifest, indent=2))
        return
    settings = manifest.get("settings", {})
    console.print(f"[bold]{run_id}[/bold]  strategy {manifest.get('strategy', {}).get('filename')}")
    console.print(f"parameters: {manifest.get('parameters')}")
    console.print(
        f"symbols: {', '.join(manifest.get('symbols', []))}  timeframe: {manifest.get('timeframe')}"
    )
    console.print("settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()))
    console.print(stats_table(manifest.get("stats", {}), title="statistics"))
    trades = tables.get("trades")
    if trades is not None:
        console.print(f"{len(trades)} trades; tables: {', '.join(sorted(tables))}")


@runs.command("rerun")
@click.argument("run_id")
@click.pass_context
def runs_rerun(ctx: click.Context, run_id: str) -> None:
    """Run a saved run again from its manifest (strategy source, parameters, settings, data
    range) and check that the result is bit-identical; exits with 1 when it is not."""
    from backtestr.strategy.rerun import rerun_saved

    with open_store(ctx) as store, ProgressBars("Re-running"):
        rerun = rerun_saved(store, run_id)
    console.print(stats_table(rerun.result.stats.to_dict(), title=f"{run_id}, re-run"))
    if rerun.identical:
        console.print(f"[green]Bit-identical[/green]: the re-run of {run_id} equals the saved run.")
        return
    console.print(f"[red]Different[/red]: the re-run of {run_id} does not equal the saved run:")
    for difference in rerun.differences:
        console.print(f"  - {difference}")
    sys.exit(EXIT_OTHER_ERROR)  # main() runs click outside standalone mode: ctx.exit is lost


@cli.command("report")
@click.argument("run_id")
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The HTML file to write.")  # fmt: skip
@click.pass_context
def report_command(ctx: click.Context, run_id: str, out: Path) -> None:
    """Write a saved run as one self-contained HTML file (opens offline)."""
    with open_store(ctx) as store:
        manifest, tables = store.load_run(run_id)
    page = render_saved_run_report(run_id, manifest, tables)
    if not out.parent.is_dir():
        raise ConfigError(f"Cannot write {out}: the folder {out.parent} does not exist.")
    temporary = out.with_name(f".{out.name}.tmp")
    temporary.write_text(page, encoding="utf-8")
    temporary.replace(out)
    console.print(f"Wrote the report of {run_id} to {out}")


@runs.command("export")
@click.argument("run_id")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write into (created).")  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv",
              show_default=True)  # fmt: skip
@click.pass_context
def runs_export(ctx: click.Context, run_id: str, out: Path, fmt: str) -> None:
    """Write a saved run's manifest (JSON) and tables (CSV or Parquet) to a folder."""
    with open_store(ctx) as store:
        manifest, tables = store.load_run(run_id)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"Cannot create {out}: {error.strerror}") from error
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    for name, table in tables.items():
        if fmt == "csv":
            table.to_csv(out / f"{name}.csv", index=False)
        else:
            table.to_parquet(out / f"{name}.parquet")
    console.print(f"Exported {run_id} to {out} ({len(tables)} tables + manifest.json)")
