"""``backtestr demo``: the whole pipeline on built-in sample data, with nothing but the install.

Generates several weeks of EURUSD-like ticks, writes them as a CSV file, imports that file into a
temporary home (or the one given with ``--home``), builds M1…D1 bars and prints a summary.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import click
import pyarrow as pa
import pyarrow.csv as pacsv
from rich.table import Table

from backtestr.app.paths import resolve_home
from backtestr.cli import cli
from backtestr.cli._common import ProgressBars, console, error_console, iso
from backtestr.cli.data import _print_summary
from backtestr.data.sample import sample_ticks
from backtestr.data.store import Store
from backtestr.model import PriceSide, TickArrays, Timeframe
from backtestr.report import plot_bars, save_figure

DEMO_SYMBOL = "EURUSD"


def _run_moving_average_cross(store: Store, charts: Path) -> None:
    """Backtest the shipped moving-average cross on the sample's M1 bars and print the result."""
    from backtestr.cli.run import stats_table, write_run_report
    from backtestr.engine import EngineSettings, parse_commission
    from backtestr.strategy import Backtest, StrategySource
    from backtestr.strategy.feed import market_from_store
    from backtestr.strategy.samples import MOVING_AVERAGE_CROSS
    from backtestr.strategy.stored import save_run_as

    source = StrategySource(
        MOVING_AVERAGE_CROSS, "<moving-average cross>", {"fast": 10, "slow": 20}
    )
    settings = EngineSettings(cash=100_000.0, leverage=30.0, commission=parse_commission("3.5/lot"))
    market = market_from_store(store, [DEMO_SYMBOL], "M1")
    with ProgressBars("Backtesting the moving-average cross") as progress:
        result = Backtest(source, market, settings).run(
            lambda done, total: progress("run", done, total)
        )
    console.print(
        stats_table(
            result.stats.to_dict(),
            title=f"Moving-average cross 10/20 on {DEMO_SYMBOL} M1 (3.5/lot per side, 1:30)",
        )
    )
    run_id = "demo-moving-average-cross"
    if not any(row.run_id == run_id for row in store.list_runs()):
        save_run_as(store, run_id, result)
        console.print(f"Saved run {run_id}.")
    report = write_run_report(charts, result, title=f"Moving-average cross 10/20 on {DEMO_SYMBOL}")
    console.print(f"Report: {report} (equity chart: {charts / 'equity.png'})")


def write_ticks_csv(ticks: TickArrays, path: Path) -> None:
    """Write ticks as a generic CSV (``timestamp,bid,ask,bid_volume,ask_volume``, ISO UTC)."""
    # written as `2024-01-07 22:00:10.123Z`: ISO-8601 / RFC 3339 with milliseconds
    stamps = pa.array(ticks.ts_ns.view("datetime64[ns]")).cast(pa.timestamp("ms", tz="UTC"))
    table = pa.table(
        {
            "timestamp": stamps,
            "bid": ticks.bid,
            "ask": ticks.ask,
            "bid_volume": ticks.bid_volume,
            "ask_volume": ticks.ask_volume,
        }
    )
    pacsv.write_csv(table, str(path))


@cli.command()
@click.option("--weeks", default=4, show_default=True, help="Weeks of sample ticks to generate.")
@click.option("--seed", default=7, show_default=True, help="Seed of the sample generator.")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="Folder for the charts (default: a new temporary folder).",
)
@click.pass_context
def demo(ctx: click.Context, weeks: int, seed: int, out: str | None) -> None:
    """Run the pipeline on generated sample data (a temporary home unless --home is given)."""
    home_option: str | None = ctx.find_root().obj
    temporary_home = home_option is None
    home = Path(tempfile.mkdtemp(prefix="backtestr-demo-")) if temporary_home else None
    work = Path(tempfile.mkdtemp(prefix="backtestr-demo-files-"))
    try:
        with error_console.status("Generating sample EURUSD ticks…"):
            ticks = sample_ticks(weeks=weeks, seed=seed)
            csv_path = work / "EURUSD_sample_ticks.csv"
            write_ticks_csv(ticks, csv_path)
        console.print(
            f"Generated {len(ticks):,} ticks ({csv_path.stat().st_size / 1e6:,.0f} MB CSV) "
            f"from {iso(int(ticks.ts_ns[0]))} to {iso(int(ticks.ts_ns[-1]))}."
        )
        store_home = home if home is not None else resolve_home(home_option)
        with Store.open(store_home) as store:
            with ProgressBars("Importing sample") as progress:
                summary = store.import_file(csv_path, symbol=DEMO_SYMBOL, on_progress=progress)
            _print_summary(summary)
            timeframes = [Timeframe.parse(n) for n in ("M1", "M5", "M15", "M30", "H1", "H4", "D1")]
            table = Table(title=f"{DEMO_SYMBOL} bid bars built from ticks")
            for column in (
                "timeframe",
                "bars",
                "first open (UTC)",
                "last open (UTC)",
                "last close",
            ):
                table.add_column(column)
            with ProgressBars("Building bars") as progress:
                for done, frame in enumerate(timeframes, start=1):
                    bars = store.bars(DEMO_SYMBOL, frame, side=PriceSide.BID)
                    table.add_row(
                        frame.name,
                        f"{len(bars):,}",
                        iso(int(bars.ts_ns[0])),
                        iso(int(bars.ts_ns[-1])),
                        f"{bars.close[-1]:.5f}",
                    )
                    progress("bars", done, len(timeframes))
            console.print(table)
            charts = Path(out) if out else Path(tempfile.mkdtemp(prefix="backtestr-demo-charts-"))
            charts.mkdir(parents=True, exist_ok=True)
            instrument = store.instrument(DEMO_SYMBOL)
            chart = save_figure(
                plot_bars(
                    store.bars(DEMO_SYMBOL, "H1"),
                    title=f"{DEMO_SYMBOL} H1 (bid) and average spread",
                    pip_size=instrument.pip_size,
                ),
                charts / f"{DEMO_SYMBOL}_H1.png",
            )
            console.print(f"Chart: {chart}")
            _run_moving_average_cross(store, charts)
        where = "a temporary home (deleted now)" if temporary_home else str(store_home)
        console.print(f"Demo finished in {where}.")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if home is not None:
            shutil.rmtree(home, ignore_errors=True)
