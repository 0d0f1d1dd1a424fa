"""Months of synthetic hourly bars, and a strategy that reports the latest price it could see."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from backtestr.bars import aggregate_bars
from backtestr.engine import EngineSettings, MarketData
from backtestr.model import BarArrays, Timeframe
from backtestr.optimize import SweepPayload, freeze_market
from backtestr.strategy.loader import load_strategy
from backtestr.strategy.samples import MOVING_AVERAGE_CROSS
from tests.engine.helpers import bars_from_closes, market
from tests.optimize.optimize_builders import wavy_closes

HOUR_NS = 3_600 * 10**9
START = pd.Timestamp("2023-01-01", tz="UTC")

# What every run of SPY_STRATEGY saw: (first decision time, latest decision time, highest bid
# and highest close of any timeframe), appended when the run ends. In-process executors only.
SEEN: list[tuple[int, int, float]] = []

SPY_STRATEGY = """\
import numpy as np
from tests.optimize import walkforward_builders as spy

PARAMETERS = {"p": 1}


def initialize(context):
    context.first = None
    context.last = None
    context.highest = 0.0


def handle_data(context, data):
    now = data.current_dt.value
    context.first = now if context.first is None else context.first
    context.last = now
    seen = [
        data.current(context.symbol, "bid"),
        float(data.history(context.symbol, "close", 1)[-1]),
        *np.asarray(data.history(context.symbol, "high", 3, timeframe="H4")),
        *np.asarray(data.history(context.symbol, "high", 1, timeframe="D1")),
    ]
    context.highest = max([context.highest] + [float(v) for v in seen if v == v])  # no NaN


def analyze(context, result):
    spy.SEEN.append((context.first, context.last, context.highest))
"""


def hourly_market(months: int = 24, seed: int = 7, rising: bool = False) -> MarketData:
    """H1 bars from 2023-01-01 for ``months`` months, every hour (no weekend gap), with every
    coarser timeframe preloaded. ``rising``: closes grow with time (price = a clock)."""
    end = START + pd.DateOffset(months=months)
    n = int((end - START) / pd.Timedelta(hours=1))
    closes = 1.0 + np.arange(n) * 1e-6 if rising else wavy_closes(n, seed)
    bars = bars_from_closes(closes, start_ns=int(START.value), step_ns=HOUR_NS)
    plain = market(bars, timeframe="H1")

    def coarser(symbol: str, timeframe: Timeframe) -> BarArrays:  # as the store would
        return aggregate_bars(bars, "H1", timeframe)

    return freeze_market(dataclasses.replace(plain, bar_loader=coarser))


def hourly_payload(
    months: int = 24, objective: str = "sharpe_ratio", **settings: object
) -> SweepPayload:
    return SweepPayload(
        load_strategy(MOVING_AVERAGE_CROSS),
        hourly_market(months),
        EngineSettings(cash=10_000.0, leverage=30.0, **settings),  # type: ignore[arg-type]
        objective=objective,
    )


def spy_payload(months: int = 8) -> SweepPayload:
    return SweepPayload(
        load_strategy(SPY_STRATEGY),
        hourly_market(months, rising=True),
        EngineSettings(cash=10_000.0),
        objective="total_return_pct",
    )
