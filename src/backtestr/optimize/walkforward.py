"""Walk-forward analysis: optimise on each training window, trade the winner on the test window
that follows, and judge the strategy by the chained out-of-sample results only.

For each :class:`~backtestr.optimize.windows.Window` the driver

1. runs a sweep (:func:`~backtestr.optimize.sweep.run_sweep`) on the training part of the data
   only (:func:`~backtestr.engine.slice_market`: no bar at or after the training end is visible),
2. takes the best parameter set, and runs it on the test part,
3. chains the test runs into one out-of-sample equity curve and computes its statistics.

**Chaining.** Every test run starts flat with the initial cash and closes what is still open at
its last bar (``close_at_end``, forced on for test runs): the trader re-optimises at each window
end and starts the next window flat. The curve of window ``k`` is scaled by the equity reached at
the end of window ``k - 1`` over the initial cash, i.e. the windows' returns are compounded, and
the curve starts at the initial cash. Money columns of the test trades (size, P&L, costs) are
scaled by the same factor, so they add up to the chained curve; prices, pips and percentages are
unchanged.

**Warm-up.** A test run sees no bar before its window (that is what makes the windows
independent): indicators warm up inside it, as in the training runs.

**Data shipping.** The whole market goes to the executor once; each window's trials carry only
the window (``ExecutorSession.run(tasks, window=...)``) and are cut in the worker.

**Resuming.** Trial keys include the hash of the window's data, so ``done`` may hold the trials
of every window (e.g. all trials stored for this strategy) and each window skips its own.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from backtestr.engine import MarketData, RunResult, slice_market
from backtestr.engine.market import bar_close_times
from backtestr.errors import ConfigError, NoDataError
from backtestr.optimize.executors import Executor, ExecutorSession, SerialExecutor, Task
from backtestr.optimize.space import ParamSpace
from backtestr.optimize.sweep import SearchMethod, SweepProgress, SweepResult, run_sweep
from backtestr.optimize.trial import SweepPayload, TrialOutcome
from backtestr.optimize.windows import WalkForwardSpec, Window
from backtestr.stats import Statistics, compute_statistics, empty_trades
from backtestr.strategy.backtest import Backtest

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["WalkForwardResult", "WindowRun", "run_walk_forward"]

# statistics shown per window, in sample (the best training trial) and out of sample
WINDOW_STATS = (
    "total_return_pct",
    "return_ann_pct",
    "sharpe_ratio",
    "max_drawdown_pct",
    "total_trades",
    "win_rate",
)
# money columns of a trade list, scaled when chaining windows
_MONEY_COLUMNS = ("size_units", "size_lots", "gross_pnl", "commission", "swap", "pnl")


@dataclass(frozen=True, slots=True, eq=False)
class WindowRun:
    """One window: its training sweep, the parameters chosen and their test run.

    ``best`` is ``None`` when no training trial had a defined objective (no trades …): the
    window's test period is then spent out of the market and ``test`` is ``None``.
    """

    window: Window
    sweep: SweepResult
    best: TrialOutcome | None
    test: RunResult | None


@dataclass(frozen=True, eq=False)
class WalkForwardResult:
    """The outcome of a walk-forward analysis.

    Attributes
    ----------
    windows
        One row per window: dates, the chosen parameters, ``is_objective`` / ``oos_objective``,
        ``is_*`` and ``oos_*`` statistics and the window's ``efficiency``.
    equity
        The chained out-of-sample equity (starts at the initial cash).
    trades
        The out-of-sample trades, money columns scaled to the chained account.
    stats
        Statistics of ``equity`` and ``trades``.
    efficiency
        Walk-forward efficiency: the annualised return of ``equity`` over the mean annualised
        return of the best training trials (``nan`` when that mean is not positive). Around 1 or
        more: the optimisation carried over; near 0 or negative: it was fitting noise.
    runs
        Per window: the training sweep, the best trial and the test run.
    skipped_windows
        Windows left out because their training or test part holds no whole bar (a gap in the
        data), with the reason.
    trials_skipped
        Trials found already done (``done``) and not run again.
    """

    spec: WalkForwardSpec
    objective: str
    maximize: bool
    windows: pd.DataFrame
    equity: pd.Series
    trades: pd.DataFrame
    stats: Statistics
    efficiency: float
    runs: tuple[WindowRun, ...]
    skipped_windows: tuple[str, ...] = ()
    trials_skipped: int = 0

    def plot(self, path: str | Path | None = None, *, title: str | None = None) -> Figure:
        """The chained out-of-sample equity with the windows shaded, above the in-sample and
        out-of-sample objective of each window; saved as PNG/SVG when ``path`` is given.

        Returns the matplotlib ``Figure`` (shown inline in Jupyter).
        """
        from backtestr.report import plot_walk_forward, save_figure

        figure = plot_walk_forward(
            self.equity, self.windows, objective=self.objective, title=title or str(self.spec)
        )
        if path is not None:
            save_figure(figure, path)
        return figure


def run_walk_forward(
    payload: SweepPayload,
    space: ParamSpace,
    spec: WalkForwardSpec | str,
    *,
    method: str | SearchMethod = SearchMethod.GRID,
    trials: int | None = None,
    seed: int = 0,
    maximize: bool | None = None,
    executor: Executor | None = None,
    done: Mapping[str, TrialOutcome] | None = None,
    on_result: Callable[[TrialOutcome], None] | None = None,
    progress: SweepProgress | None = None,
) -> WalkForwardResult:
    """Walk-forward analysis of ``payload``'s strategy over ``space`` (see the module docstring).

    Parameters
    ----------
    spec
        The windows, e.g. ``"train=6M,test=1M"`` or ``"train=1Y,test=3M,anchored"``.
    method, trials, seed, maximize, done, on_result
        As for :func:`~backtestr.optimize.sweep.run_sweep`, applied to every window's sweep.
    executor
        Where trials run; one session (the data shipped once) serves every window.
    progress
        Called with ``(trials finished, trials planned)`` over all windows.

    Raises
    ------
    ConfigError
        On a bad ``spec``, data too short for one window, or a bad space (as ``run_sweep``).
    StrategyError
        When the strategy fails (the message names the parameter set).
    """
    walk = WalkForwardSpec.parse(spec) if isinstance(spec, str) else spec
    whole = dataclasses.replace(payload, window=None)
    start_ns, end_ns = _data_range(whole.market)
    windows = walk.windows(start_ns, end_ns)
    executor = executor or SerialExecutor()
    counter = _Progress(progress, len(windows))
    runs: list[WindowRun] = []
    skipped: list[str] = []
    trials_skipped = 0
    with executor.open(whole) as session:
        shared = _SharedSession(executor, session, whole)
        for window in windows:
            train = whole.in_window(window.train_start_ns, window.train_end_ns)
            test = whole.in_window(window.test_start_ns, window.test_end_ns)
            try:
                train.trial_market  # noqa: B018 - fail on an empty part before any work
                test_market = test.trial_market
            except NoDataError as error:
                skipped.append(f"{window.label}: {error}")
                counter.skip_window()
                continue
            sweep = run_sweep(
                train,
                space,
                method=method,
                trials=trials,
                seed=seed,
                maximize=maximize,
                executor=shared,
                done=done,
                on_result=on_result,
                progress=counter.window(),
            )
            trials_skipped += sweep.skipped
            best = _best_or_none(sweep)
            test_run = None if best is None else _test_run(whole, test_market, best)
            runs.append(WindowRun(window, sweep, best, test_run))
    if not runs:
        raise ConfigError(
            "Every walk-forward window falls in a gap of the data: " + "; ".join(skipped)
        )
    return _assemble(walk, whole, space, runs, tuple(skipped), trials_skipped)


def _data_range(market: MarketData) -> tuple[int, int]:
    """From the first bar's open to the last bar's close, over every symbol."""
    first = min(int(feed.bars.ts_ns[0]) for feed in market.feeds.values())
    last = max(
        int(bar_close_times(feed.bars, market.timeframe)[-1]) for feed in market.feeds.values()
    )
    return first, last


def _best_or_none(sweep: SweepResult) -> TrialOutcome | None:
    ranked = sweep.ranked()
    if not ranked or math.isnan(ranked[0].objective):
        return None
    return ranked[0]


def _test_run(whole: SweepPayload, market: MarketData, best: TrialOutcome) -> RunResult:
    # close_at_end: the next window starts flat, so nothing is left open at a window end
    settings = dataclasses.replace(whole.settings, close_at_end=True)
    return Backtest(whole.source, market, settings, best.params).run()


class _SharedSession(Executor):
    """An executor whose sessions are windows of one session opened on the whole payload."""

    def __init__(self, executor: Executor, session: ExecutorSession, whole: SweepPayload) -> None:
        self._executor = executor
        self._session = session
        self._whole = whole
        self.name = executor.name

    @property
    def slots(self) -> int:
        return self._executor.slots

    def open(self, payload: SweepPayload) -> ExecutorSession:
        if payload.market is not self._whole.market or payload.window is None:
            raise ConfigError("A walk-forward session runs windows of its own payload only.")
        return _WindowSession(self._session, payload.window)


class _WindowSession(ExecutorSession):
    def __init__(self, session: ExecutorSession, window: tuple[int, int]) -> None:
        self._session = session
        self._window = window

    def run(
        self, tasks: Sequence[Task], window: tuple[int, int] | None = None
    ) -> Iterator[TrialOutcome]:
        return self._session.run(tasks, window or self._window)

    def close(self) -> None:
        pass  # the walk-forward closes the shared session at its end


class _Progress:
    """Turns each window's ``(done, planned)`` into counts over the whole walk-forward."""

    def __init__(self, report: SweepProgress | None, windows: int) -> None:
        self._report = report
        self._windows = windows
        self._finished = 0  # trials of the windows already done

    def window(self) -> SweepProgress | None:
        if self._report is None:
            return None
        report = self._report
        base = self._finished

        def update(done: int, planned: int) -> None:
            self._finished = base + done
            report(base + done, max(base + done, planned * self._windows))

        return update

    def skip_window(self) -> None:
        self._windows -= 1


def _assemble(
    spec: WalkForwardSpec,
    whole: SweepPayload,
    space: ParamSpace,
    runs: list[WindowRun],
    skipped: tuple[str, ...],
    trials_skipped: int,
) -> WalkForwardResult:
    cash = whole.settings.cash
    level = cash
    curves: list[pd.Series] = []
    trade_lists: list[pd.DataFrame] = []
    rows: list[dict[str, object]] = []
    for run in runs:
        scale = level / cash
        if run.test is None:  # no parameter set to trade: out of the market
            index = _test_index(whole, run.window)
            curve = pd.Series(level, index=index, dtype=np.float64)
        else:
            curve = run.test.equity["equity"] * scale
            trades = run.test.trades.copy()
            for column in _MONEY_COLUMNS:
                trades[column] = trades[column] * scale
            trade_lists.append(trades)
        curves.append(curve)
        level = float(curve.iloc[-1])
        rows.append(_window_row(run, space))
    equity = pd.concat(curves)
    equity.name = "equity"
    trades = pd.concat(trade_lists, ignore_index=True) if trade_lists else empty_trades()
    if trades.empty:
        trades = empty_trades()
    first = next(iter(whole.market.feeds.values())).instrument
    stats = compute_statistics(
        equity,
        trades,
        initial_cash=cash,
        trading_day=first.trading_day,
    )
    windows = pd.DataFrame(rows)
    in_sample = windows["is_return_ann_pct"].astype(float)
    mean_is = float(in_sample.mean()) if in_sample.notna().any() else math.nan
    efficiency = _efficiency(stats.return_ann_pct, mean_is)
    maximize = runs[0].sweep.maximize
    return WalkForwardResult(
        spec=spec,
        objective=whole.objective,
        maximize=maximize,
        windows=windows,
        equity=equity,
        trades=trades,
        stats=stats,
        efficiency=efficiency,
        runs=tuple(runs),
        skipped_windows=skipped,
        trials_skipped=trials_skipped,
    )


def _test_index(whole: SweepPayload, window: Window) -> pd.DatetimeIndex:
    market = slice_market(whole.market, window.test_start_ns, window.test_end_ns)
    opens = np.unique(np.concatenate([feed.bars.ts_ns for feed in market.feeds.values()]))
    index = pd.DatetimeIndex(opens.view("datetime64[ns]")).tz_localize("UTC")
    index.name = "time"
    return index


def _window_row(run: WindowRun, space: ParamSpace) -> dict[str, object]:
    row: dict[str, object] = {"window": run.window.index, **run.window.times()}
    best = run.best
    for name in space.names:
        row[name] = None if best is None else best.params.get(name)
    row["is_objective"] = math.nan if best is None else best.objective
    test_stats = {} if run.test is None else run.test.stats.to_dict()
    objective = run.sweep.objective
    value = test_stats.get(objective)
    if run.test is None:
        value = 0.0 if objective == "total_return_pct" else math.nan
    row["oos_objective"] = float(value) if isinstance(value, int | float) else math.nan
    for name in WINDOW_STATS:
        row[f"is_{name}"] = _number(None if best is None else best.stats.get(name))
        row[f"oos_{name}"] = _number(test_stats.get(name))
    row["efficiency"] = _efficiency(
        float(row["oos_return_ann_pct"]),  # type: ignore[arg-type]
        float(row["is_return_ann_pct"]),  # type: ignore[arg-type]
    )
    return row


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) else math.nan


def _efficiency(out_of_sample: float, in_sample: float) -> float:
    """OOS over IS annualised return; undefined unless the in-sample return is positive (a ratio
    to a loss, or to nothing, says nothing about how much of a gain carried over)."""
    if not in_sample > 0 or math.isnan(out_of_sample):
        return math.nan
    return out_of_sample / in_sample
