"""What the strategy sees: ``data`` (point-in-time bars), ``context``, portfolio and account.

Everything here reads the engine at the current step; nothing can see a bar that has not
closed. The objects are built once per run and read live state, so per-bar access costs a few
attribute lookups (``handle_data`` is the hottest code in a backtest).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from sys import getrefcount
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from backtestr.engine import Engine, Position, Window
from backtestr.engine.views import elements
from backtestr.errors import ConfigError
from backtestr.model import Timeframe
from backtestr.model.arrays import F64
from backtestr.strategy.params import Params

__all__ = [
    "Account",
    "BarData",
    "Context",
    "Indicator",
    "Portfolio",
    "Positions",
    "crosses",
    "missing_attribute_hint",
    "wake_steps",
]


class BarData:
    """zipline's ``data``: current values and history windows of closed bars only."""

    __slots__ = ("_always", "_engine", "_fresh", "_windows")

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        # the window last handed out per (asset, field, bar count[, timeframe])
        self._windows: dict[tuple[Any, ...], Window] = {}
        fresh = {symbol: engine.fresh(symbol) for symbol in engine.symbols}
        self._always = frozenset(s for s, flags in fresh.items() if flags is None)
        self._fresh = {s: flags for s, flags in fresh.items() if flags is not None}

    def history(
        self,
        assets: str,
        fields: str,
        bar_count: int,
        timeframe: str | Timeframe | None = None,
    ) -> Window:
        """The last ``bar_count`` closed bars of ``fields`` (``open``, ``high``, ``low``,
        ``close``, ``volume``, ``price``) of ``assets``, as a numpy-like :class:`Window`.

        ``timeframe`` picks another timeframe than the strategy's (e.g. ``"H1"``); its bars
        count only once closed. Windows that reach before the data start are NaN-padded.
        """
        key = (
            (assets, fields, bar_count)
            if timeframe is None
            else (assets, fields, bar_count, timeframe)
        )
        window = self._windows.get(key)
        # Reuse last bar's window when nobody else holds it (only the cache, this frame and
        # getrefcount's argument refer to it): history().mean() then allocates nothing. A
        # window the strategy kept is never changed under it: it gets a new one.
        if window is not None and getrefcount(window) == 3:
            window._end = window._ends[self._engine.step]  # type: ignore[index]
            return window
        return self._new_window(key, assets, fields, bar_count, timeframe)

    def _new_window(
        self,
        key: tuple[Any, ...],
        assets: str,
        fields: str,
        bar_count: int,
        timeframe: str | Timeframe | None,
    ) -> Window:
        engine = self._engine
        tf = engine.timeframe if timeframe is None else Timeframe.parse(timeframe)
        engine._check_symbol(assets)
        series = engine.series(assets, fields, tf)
        ends = engine.ends(assets, tf)
        window = self._windows[key] = Window(series, ends[engine.step], bar_count, ends)
        return window

    def current(self, assets: str, fields: str) -> float:
        """The value of the last closed bar; ``bid``/``ask`` give the current quotes."""
        if fields in ("bid", "ask"):
            return self._engine.price(assets, buy=fields == "ask")
        window = self.history(assets, fields, 1)
        return float(window[-1])

    def can_trade(self, assets: str) -> bool:
        """True when the symbol is loaded and has a bar at the current step."""
        if assets in self._always:
            return True
        fresh = self._fresh.get(assets)
        return False if fresh is None else fresh[self._engine.step]

    def is_stale(self, assets: str) -> bool:
        """True when the symbol's last bar is older than the current step."""
        self._engine._check_symbol(assets)
        return not self.can_trade(assets)

    @property
    def current_dt(self) -> pd.Timestamp:
        return pd.Timestamp(self._engine.now_ns, tz="UTC")


class Positions(dict[str, Position]):
    """Positions by symbol; a symbol never traded reads as a flat (falsy) position."""

    def __missing__(self, key: str) -> Position:
        return Position(key, 1.0)


class Portfolio:
    """zipline's ``context.portfolio``, in the account currency."""

    __slots__ = ("_engine", "positions")

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.positions = Positions({symbol: engine.position(symbol) for symbol in engine.symbols})

    @property
    def starting_cash(self) -> float:
        return self._engine.settings.cash

    @property
    def cash(self) -> float:
        """The balance: realised P&L, commissions and swaps included."""
        return self._engine.balance

    @property
    def equity(self) -> float:
        """Balance plus open P&L at the current bar's close."""
        return self._engine.equity

    @property
    def portfolio_value(self) -> float:
        return self._engine.equity

    @property
    def pnl(self) -> float:
        return self._engine.equity - self._engine.settings.cash

    @property
    def returns(self) -> float:
        """Total return so far as a fraction (0.05 = +5 %)."""
        return self.pnl / self._engine.settings.cash


class Account:
    """``context.account``: leverage and margin."""

    __slots__ = ("_engine",)

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def leverage(self) -> float:
        """Gross notional of open trades over equity."""
        broker = self._engine.broker
        notional = sum(
            abs(t.units)
            * self._engine.price(t.symbol, buy=t.units < 0)
            * self._engine.rate(t.symbol)
            for t in broker.open_trades.values()
        )
        equity = self._engine.equity
        return notional / equity if equity > 0 else math.inf

    @property
    def balance(self) -> float:
        return self._engine.balance

    @property
    def equity(self) -> float:
        return self._engine.equity

    @property
    def margin(self) -> float:
        """Margin held by open trades."""
        return self._engine.broker.used_margin()

    @property
    def free_margin(self) -> float:
        return self._engine.equity - self._engine.broker.used_margin()

    @property
    def margin_level_pct(self) -> float:
        used = self._engine.broker.used_margin()
        return self._engine.equity / used * 100.0 if used > 0 else math.inf


class Context:
    """The strategy's notebook: ``symbol``, ``portfolio``, ``account``, ``params``, and any
    attribute the strategy sets on it."""

    symbol: str
    portfolio: Portfolio
    account: Account
    params: Params

    # No ``__getattr__`` hook here: defining one makes every attribute read of the context
    # several times slower (the interpreter cannot specialise it), and ``handle_data`` reads
    # ``context.*`` on every bar. The hint for a missing attribute is added where strategy
    # errors are reported instead (:func:`missing_attribute_hint`).
    def __init__(self, symbol: str, portfolio: Portfolio, account: Account, params: Params) -> None:
        self.symbol = symbol
        self.portfolio = portfolio
        self.account = account
        self.params = params


def missing_attribute_hint(error: BaseException) -> str | None:
    """How to fix reading an attribute the strategy never set on ``context``, else ``None``."""
    if isinstance(error, AttributeError) and isinstance(error.obj, Context):
        name = error.name
        return (
            f"context has no attribute '{name}': set it first (e.g. in initialize: "
            f"context.{name} = ...)."
        )
    return None


class Indicator:
    """A series computed once over all bars and read without look-ahead.

    ``ind[-1]`` is the value at the last closed bar, ``ind[-2]`` the one before; ``ind.values``
    the values so far.
    """

    __slots__ = ("_ends", "_engine", "_list", "values_all")

    def __init__(self, values: F64, ends: Sequence[int], engine: Engine) -> None:
        self.values_all = values
        self._list: Sequence[float] = elements(values)
        self._ends = ends
        self._engine = engine

    def __getitem__(self, key: int) -> float:
        end = self._ends[self._engine.step]
        if key < 0:
            index = end + key
            if index < 0:
                return math.nan
            return self._list[index]
        if key >= end:
            raise IndexError(f"bar {key} has not closed yet")
        return self._list[key]

    @property
    def values(self) -> F64:
        view = self.values_all[: self._ends[self._engine.step]].view()
        view.flags.writeable = False
        return view

    def __array__(self, dtype: Any = None, copy: Any = None) -> F64:
        values = self.values
        return values if dtype is None else values.astype(dtype)

    def __len__(self) -> int:
        return self._ends[self._engine.step]

    def __float__(self) -> float:
        return self[-1]

    def __repr__(self) -> str:
        return f"Indicator(last={self[-1]!r})"


def compute_indicator(
    engine: Engine,
    func: Callable[..., Any],
    fields: tuple[str, ...],
    symbol: str,
    timeframe: Timeframe | None,
    kwargs: dict[str, Any],
) -> Indicator:
    """Run ``func`` over whole series once; refuse it if it looks ahead.

    The check recomputes ``func`` on the first half of the data: a causal indicator gives the
    same values there, one that peeks at later bars (a centred average, a ``shift(-1)``) does not.
    """
    tf = timeframe or engine.timeframe
    arrays = [engine.series(symbol, f, tf).values for f in fields]
    values = np.asarray(func(*arrays, **kwargs), dtype=np.float64)
    if values.shape != arrays[0].shape:
        raise ConfigError(
            f"Indicator {getattr(func, '__name__', func)!r} returned shape {values.shape}; "
            f"it must return one value per bar ({arrays[0].shape[0]})."
        )
    half = len(arrays[0]) // 2
    if half > 0:
        head = np.asarray(func(*[a[:half] for a in arrays], **kwargs), dtype=np.float64)
        if not np.allclose(head, values[:half], rtol=1e-9, atol=0.0, equal_nan=True):
            raise ConfigError(
                f"Indicator {getattr(func, '__name__', func)!r} looks ahead: its values change "
                "when later bars are removed. Use only past and current bars."
            )
    return Indicator(values, engine.ends(symbol, tf), engine)


def crosses(a: Indicator, b: Indicator | float) -> Indicator:
    """1.0 on the bars where ``a > b`` or ``a < b`` changes (a cross either way, or the first
    bar both are defined), else 0.0: the bars on which a crossover strategy can act.

    ``b`` is another indicator of the same bars or a constant level. Bar ``i`` compares bars
    ``i`` and ``i - 1`` only, so the result looks no further ahead than ``a`` and ``b``.
    """
    if isinstance(b, Indicator):
        if b._ends is not a._ends and not np.array_equal(
            _ends_array(b._ends), _ends_array(a._ends)
        ):
            raise ConfigError("crosses() needs two indicators of the same symbol and timeframe.")
        level: F64 | float = b.values_all
    else:
        level = float(b)
    values = a.values_all
    side = np.where(values > level, 1, np.where(values < level, -1, 0))
    changed = side != np.r_[0, side[:-1]]
    return Indicator(changed.astype(np.float64), a._ends, a._engine)


def wake_steps(signal: Indicator, n_steps: int) -> npt.NDArray[np.int64]:
    """The steps at which ``signal`` reads true (non-zero, not NaN) for the first time: the
    steps where a new bar of the signal closes with a true value."""
    ends = _ends_array(signal._ends)[:n_steps]
    values = signal.values_all
    if len(values) == 0:  # no bar of the signal at all
        return np.zeros(0, dtype=np.int64)
    fresh = ends > np.r_[0, ends[:-1]]
    last = np.maximum(ends - 1, 0)
    true = (values != 0) & ~np.isnan(values)
    return np.flatnonzero(fresh & true[last]).astype(np.int64)


def _ends_array(ends: Sequence[int]) -> npt.NDArray[np.int64]:
    """Per-step bar counts as an array (a ``range`` for the clock's own bars, see
    :meth:`Engine.ends`)."""
    if isinstance(ends, range):
        return np.arange(ends.start, ends.stop, ends.step, dtype=np.int64)
    return np.asarray(ends, dtype=np.int64)
