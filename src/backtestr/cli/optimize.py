"""``backtestr optimize`` (a parameter sweep on stored data) and ``backtestr sweeps`` (the
stored sweeps: list, show)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import pandas as pd
from rich.table import Table

from backtestr.app.paths import resolve_home
from backtestr.cli import cli
from backtestr.cli._account import account_options, account_settings
from backtestr.cli._common import ProgressBars, console, open_store, parse_time
from backtestr.cli.run import stats_table, write_run_report
from backtestr.engine import RunResult
from backtestr.errors import ConfigError
from backtestr.optimize.executors import EXECUTORS, make_executor
from backtestr.optimize.records import outcome_from_record
from backtestr.optimize.robustness import SweepRobustness, assess_sweep
from backtestr.optimize.space import ParamSpace
from backtestr.optimize.sweep import SearchMethod, SweepResult
from backtestr.report import plot_parameter_stability, plot_sweep_heatmap, save_figure
from backtestr.strategy import load_strategy

if TYPE_CHECKING:
    from backtestr.optimize.walkforward_api import StoredWalkForward

# statistics shown next to the parameters in the table of top results
_COLUMNS = ("total_return_pct", "sharpe_ratio", "max_drawdown_pct", "total_trades", "win_rate")


@cli.command("optimize")
@click.argument("strategy_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--symbol", required=True, help="The symbol the strategy trades (context.symbol).")
@click.option("--symbols", multiple=True, help="More symbols to load (other pairs, conversion).")
@click.option("--timeframe", default="M1", show_default=True, help="Bars handle_data runs on.")
@click.option("--from", "start", help="First bar (ISO 8601, UTC), e.g. 2019-02-04.")
@click.option("--to", "end", help="Last day or instant (inclusive), e.g. 2019-02-05.")
@click.option("--param", "params", multiple=True, required=True,
              help="A swept parameter: NAME=START:STOP:STEP (stop included), NAME=A,B,C or "
              "NAME=VALUE. Repeat for each.")  # fmt: skip
@click.option("--constraint", "constraints", multiple=True,
              help='A condition on the parameters, e.g. "fast < slow". Repeatable.')  # fmt: skip
@click.option("--method", type=click.Choice([m.value for m in SearchMethod]), default="grid",
              show_default=True,
              help="Every set, a random sample, or Bayesian (TPE) search.")  # fmt: skip
@click.option("--trials", type=int, help="Sets to try (random and bayes; caps a grid).")
@click.option("--objective", default="sharpe_ratio", show_default=True,
              help="The statistic to rank by.")  # fmt: skip
@click.option("--maximize/--minimize", default=None,
              help="Direction (default: drawdowns and volatility minimised, others "
              "maximised).")  # fmt: skip
@click.option("--executor", type=click.Choice(EXECUTORS), default="local", show_default=True,
              help="Where trials run: a local process pool, this process, or a Dask "
              "cluster.")  # fmt: skip
@click.option("--cluster", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786.")
@click.option("--workers", type=int, help="Worker processes (default: every core).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of random/bayes.")
@account_options
@click.option("--top", type=int, default=10, show_default=True, help="Results to list.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the objective heatmap to this PNG, and beside it the stability view "
              "and the robustness plots (-stability, -dsr, -pbo, -montecarlo).")  # fmt: skip
@click.option("--walk-forward", "walk_forward",
              help="Walk-forward analysis instead of one sweep: train=6M,test=1M[,anchored]"
              "[,step=1M] (units D, W, M, Y).")  # fmt: skip
@click.pass_context
def optimize_command(
    ctx: click.Context,
    /,
    strategy_file: Path,
    symbol: str,
    symbols: tuple[str, ...],
    timeframe: str,
    start: str | None,
    end: str | None,
    params: tuple[str, ...],
    constraints: tuple[str, ...],
    method: str,
    trials: int | None,
    objective: str,
    maximize: bool | None,
    executor: str,
    cluster: str | None,
    workers: int | None,
    seed: int,
    top: int,
    as_json: bool,
    plot: Path | None,
    walk_forward: str | None,
    **account: Any,
) -> None:
    """Sweep STRATEGY_FILE's parameters on stored data; every result is saved within a second of
    completing, so running the same command again resumes. The best set is re-run and saved as
    a run."""
    from backtestr.optimize.api import run_stored_sweep

    if top < 1:
        raise ConfigError(f"--top must be at least 1, got {top}.")
    if plot is not None and not plot.parent.is_dir():
        raise ConfigError(f"Cannot write {plot}: the folder {plot.parent} does not exist.")
    source = load_strategy(strategy_file)
    space = ParamSpace.parse(params, constraints)
    settings = account_settings(**account)
    chosen = make_executor(executor, workers, cluster)
    home = resolve_home(ctx.find_root().obj)
    if walk_forward is not None:
        from backtestr.optimize.walkforward_api import run_stored_walk_forward

        with ProgressBars("Walk-forward", transient=False) as progress:
            analysis = run_stored_walk_forward(
                source, space, settings, walk_forward, home=home, symbols=[symbol, *symbols],
                timeframe=timeframe, start_ns=None if start is None else parse_time(start),
                end_ns=None if end is None else parse_time(end, end=True), method=method,
                trials=trials, objective=objective, maximize=maximize, executor=chosen,
                seed=seed, progress=lambda done, total: progress("trials", done, total),
            )  # fmt: skip
        show_walk_forward(analysis, space.names, objective, as_json, plot)
        return
    with ProgressBars("Optimizing", transient=False) as progress:
        stored = run_stored_sweep(
            source,
            space,
            settings,
            home=home,
            symbols=[symbol, *symbols],
            timeframe=timeframe,
            start_ns=None if start is None else parse_time(start),
            end_ns=None if end is None else parse_time(end, end=True),
            method=method,
            trials=trials,
            objective=objective,
            maximize=maximize,
            executor=chosen,
            seed=seed,
            progress=lambda done, total: progress("trials", done, total),
        )
    frame = stored.frame()
    report: Path | None = None
    if stored.best_run_id is not None and stored.best_run is not None:
        with open_store(ctx) as store:
            folder = store.run_folder(stored.best_run_id)
        report = write_run_report(
            folder, stored.best_run, title=f"{strategy_file.name} on {symbol}: best of sweep"
        )
    robustness = assess_sweep(
        stored.result,
        initial_equity=settings.cash,
        periods_per_year=_periods_per_year(stored.best_run),
        seed=seed,
    )
    plots = write_plots(frame, space.names, stored.result, plot) if plot is not None else []
    if plot is not None:
        plots += robustness.plots(plot)
    if as_json:
        payload = {
            "sweep_id": stored.sweep_id,
            "trials": len(frame),
            "reused": stored.result.skipped,
            "objective": objective,
            "maximize": stored.result.maximize,
            "best_run_id": stored.best_run_id,
            "report": None if report is None else str(report),
            "plots": [str(p) for p in plots],
            "robustness": robustness.to_dict(),
            "top": _records(frame.head(top)),
        }
        click.echo(json.dumps(payload, indent=2, allow_nan=False))
        return
    console.print(top_table(frame, space.names, stored.result, top))
    console.print(robustness_table(robustness))
    console.print(
        f"Saved sweep [bold]{stored.sweep_id}[/bold] ({len(frame)} trials, "
        f"{stored.result.skipped} already stored) in {home / 'catalog.duckdb'}"
    )
    if stored.best_run_id is None:
        console.print(f"No trial has a defined {objective}: no best run to save.")
    else:
        console.print(
            f"Best parameters re-run and saved as run [bold]{stored.best_run_id}[/bold] "
            f"(backtestr runs show {stored.best_run_id})"
        )
        console.print(f"Report: {report}")
    for path in plots:
        console.print(f"Plot: {path}")


def _periods_per_year(run: RunResult | None) -> float:
    """Trading days per year in the data (FX trades about 260, shares 252)."""
    if run is None or len(run.equity) < 2:
        return 252.0
    index = pd.DatetimeIndex(run.equity.index)
    days = index.floor("D").nunique()
    years = (index[-1] - index[0]).total_seconds() / (365.25 * 86_400)
    return float(days / years) if years > 0 and days > 1 else 252.0


def robustness_table(robustness: SweepRobustness) -> Table:
    """The overfitting statistics of the best trial, with how to read them."""
    table = Table(title="How far to trust the best trial")
    table.add_column("statistic")
    table.add_column("value", justify="right")
    table.add_column("reading")
    dsr, pbo, mc = robustness.deflated_sharpe, robustness.overfitting, robustness.monte_carlo
    if dsr is not None:
        table.add_row(
            "deflated Sharpe ratio", _cell(dsr.deflated_sharpe_ratio),
            "probability the best Sharpe ratio beats the best of as many luck-only trials",
        )  # fmt: skip
    if pbo is not None:
        table.add_row(
            "probability of backtest overfitting", _cell(pbo.pbo),
            f"share of {pbo.n_combinations:,} CSCV splits where the in-sample best is below "
            "the out-of-sample median",
        )  # fmt: skip
    if mc is not None:
        q = mc.quantiles
        table.add_row(
            "Monte Carlo final return % (5/50/95)",
            " / ".join(_cell(v) for v in q["final_return_pct"]),
            f"{len(mc.simulations):,} bootstrap resamples of the best run's {mc.n_trades} trades",
        )
        table.add_row(
            "Monte Carlo max drawdown % (5/50/95)",
            " / ".join(_cell(v) for v in q["max_drawdown_pct"]), "same resamples",
        )  # fmt: skip
    for note in robustness.notes:
        table.add_row("-", "-", note)
    return table


def show_walk_forward(
    analysis: StoredWalkForward,
    names: list[str],
    objective: str,
    as_json: bool,
    plot: Path | None,
) -> None:
    """Print (or JSON) the windows and the out-of-sample statistics; plot when asked."""
    result = analysis.result
    written: list[Path] = []
    if plot is not None:
        result.plot(plot)
        written.append(plot)
    if as_json:
        payload = {
            "walk_forward_id": analysis.sweep_id,
            "windows": json.loads(result.windows.to_json(orient="records", date_format="iso")),
            "out_of_sample": result.stats.to_dict(),
            "efficiency": None if math.isnan(result.efficiency) else result.efficiency,
            "reused": result.trials_skipped,
            "plots": [str(p) for p in written],
        }
        click.echo(json.dumps(payload, indent=2, allow_nan=False))
        return
    windows = result.windows
    table = Table(title=f"Walk-forward: {len(windows)} windows, ranked by {objective}")
    columns = ["test_start", "test_end", *names, "is_objective", "oos_objective"]
    for column in columns:
        table.add_column(column, justify="right")
    for _, row in windows.iterrows():
        table.add_row(*(_cell(_plain(row.get(c))) for c in columns))
    console.print(table)
    console.print(stats_table(result.stats.to_dict(), title="out of sample (chained windows)"))
    console.print(
        f"Walk-forward efficiency {_cell(result.efficiency)}; {result.trials_skipped} trials "
        f"reused; saved as [bold]{analysis.sweep_id}[/bold] (backtestr sweeps show "
        f"{analysis.sweep_id})"
    )
    for path in written:
        console.print(f"Plot: {path}")


def _plain(value: object) -> object:
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M")
    return value


def write_plots(
    frame: pd.DataFrame, names: list[str], result: SweepResult, path: Path
) -> list[Path]:
    """The heatmap of the first two parameters that vary, at ``path``, and the stability view
    beside it (``<stem>-stability.png``); with one varying parameter only the latter."""
    varying = [n for n in names if frame[n].nunique() > 1] or names
    best = dict(result.best.params) if frame["objective"].notna().any() else None
    # the statistic's own column (same values as "objective") names the axes and colour bar
    objective = result.objective if result.objective in frame else "objective"
    written = []
    stability = path
    if len(varying) >= 2:
        heatmap = plot_sweep_heatmap(
            frame, varying[0], varying[1], objective=objective, maximize=result.maximize
        )
        written.append(save_figure(heatmap, path))
        stability = path.with_name(f"{path.stem}-stability{path.suffix or '.png'}")
    figure = plot_parameter_stability(frame, varying, best=best, objective=objective)
    written.append(save_figure(figure, stability))
    return written


def top_table(frame: pd.DataFrame, names: list[str], result: SweepResult, top: int) -> Table:
    direction = "highest" if result.maximize else "lowest"
    table = Table(title=f"Top {min(top, len(frame))} of {len(frame)} by {result.objective} "
                  f"({direction} first)")  # fmt: skip
    columns = [*names, result.objective, *(c for c in _COLUMNS if c != result.objective)]
    for column in ["#", *columns]:
        table.add_column(column, justify="right")
    for rank, (_, row) in enumerate(frame.head(top).iterrows(), start=1):
        table.add_row(str(rank), *(_cell(row.get(c)) for c in columns))
    return table


def _cell(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:,.4f}" if abs(value) < 10 else f"{value:,.2f}"
    return "-" if value is None else str(value)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    rows = json.loads(frame.drop(columns=["key"]).to_json(orient="records"))
    return [dict(row) for row in rows]


@cli.group()
def sweeps() -> None:
    """Stored parameter sweeps: list, show."""


@sweeps.command("list")
@click.pass_context
def sweeps_list(ctx: click.Context) -> None:
    """List the stored sweeps, newest last."""
    with open_store(ctx) as store:
        rows = store.list_sweeps()
    table = Table(title="Stored sweeps")
    for column in ("sweep id", "created (UTC)", "strategy", "symbols", "timeframe", "method",
                   "objective", "trials"):  # fmt: skip
        table.add_column(column)
    for row in rows:
        spec = row.spec
        table.add_row(
            row.sweep_id,
            row.created_at_iso,
            str(spec.get("strategy", {}).get("filename", "?")),
            ",".join(spec.get("symbols", [])),
            str(spec.get("timeframe", "?")),
            str(spec.get("method", "?")),
            str(spec.get("objective", "?")),
            str(row.trials),
        )
    console.print(table)


@sweeps.command("show")
@click.argument("sweep_id")
@click.option("--top", type=int, default=10, show_default=True, help="Results to list.")
@click.option("--json", "as_json", is_flag=True, help="Print the spec and results as JSON.")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the objective heatmap to this PNG (and a -stability.png "
              "beside it).")  # fmt: skip
@click.pass_context
def sweeps_show(
    ctx: click.Context, sweep_id: str, top: int, as_json: bool, plot: Path | None
) -> None:
    """Show a stored sweep: what it swept and its best results."""
    with open_store(ctx) as store:
        row, records = store.load_sweep(sweep_id)
    spec = row.spec
    objective = str(spec.get("objective", "sharpe_ratio"))
    result = SweepResult(
        [outcome_from_record(r, objective) for r in records],
        objective,
        bool(spec.get("maximize", True)),
    )
    frame = result.frame()
    names = [text.partition("=")[0] for text in spec.get("space", {}).get("params", [])]
    if as_json:
        payload = {
            "sweep_id": row.sweep_id,
            "created": row.created_at_iso,
            "spec": spec,
            "trials": len(frame),
            "top": _records(frame.head(top)) if len(frame) else [],
        }
        click.echo(json.dumps(payload, indent=2, allow_nan=False))
        return
    strategy = spec.get("strategy", {}).get("filename", "?")
    console.print(
        f"[bold]{row.sweep_id}[/bold]  {strategy} on {', '.join(spec.get('symbols', []))} "
        f"{spec.get('timeframe')}  method {spec.get('method')}  created {row.created_at_iso}"
    )
    console.print("parameters: " + " ".join(spec.get("space", {}).get("params", [])))
    if spec.get("space", {}).get("constraints"):
        console.print("constraints: " + "; ".join(spec["space"]["constraints"]))
    if not len(frame):
        console.print("No trial is stored yet.")
        return
    console.print(top_table(frame, names, result, top))
    if frame["objective"].notna().any():
        console.print(stats_table(dict(result.best.stats), title="best trial"))
    if plot is not None:
        for path in write_plots(frame, names, result, plot):
            console.print(f"Plot: {path}")
