"""Replay: a backtest stepped bar by bar at the pace the trader chooses, over a WebSocket.

The browser sends ``start`` (what to replay), then ``play``, ``pause``, ``step``, ``speed``
(bars per second), ``jump`` (to any time: back rebuilds the session, see
:class:`ReplaySession`), ``order`` (units: positive buys, negative sells;
optional ``stop_loss_pips`` / ``take_profit_pips``) and ``stop``. The server sends ``ready``,
``history`` (the bars before the starting point), then per bar ``bar``, ``equity`` and, as they
happen, ``order`` / ``fill`` / ``position`` events and ``exits`` (the open trades' stop-loss /
take-profit levels, whenever they change), and ``finished`` with the saved run's id
and statistics. A bar is sent only once the engine has closed it, so no future bar reaches the
browser before its time.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, Field, ValidationError

from backtestr.engine import (
    BarClosed,
    EngineEvent,
    EquityUpdated,
    OrderCancelled,
    OrderFilled,
    OrderPlaced,
    OrderStatus,
    OrderType,
    PositionChanged,
)
from backtestr.errors import BacktestrError, ConfigError
from backtestr.server.errors import error_response
from backtestr.server.payloads import JsonObject
from backtestr.server.routes_data import parse_utc_time
from backtestr.server.store_access import StoreAccess
from backtestr.strategy import Backtest, load_strategy
from backtestr.strategy.stored import RunSpec, backtest_from_store, save_run_result

__all__ = ["ReplaySession", "ReplayStart", "replay_router"]

BARE_MARKET = "def handle_data(context, data):\n    pass\n"
SPEEDS = (1, 2, 5, 10, 50, 100, 500)
_NS_PER_SECOND = 1_000_000_000
_EXIT_TAGS = ("stop_loss", "take_profit", "trailing_stop")


class ReplayStart(BaseModel):
    """The first message: what to replay, from when, with which strategy (none: the bare
    market, traded by hand)."""

    symbol: str = Field(min_length=1, max_length=40)
    timeframe: str = "M1"
    start: str | None = None  # the first bar to reveal; the bars before it come as history
    end: str | None = None
    source: str | None = Field(default=None, max_length=1_000_000)
    cash: float = Field(default=100_000.0, gt=0)
    leverage: float | None = Field(default=None, gt=0)
    commission: str = "0"
    speed: float = Field(default=1.0, gt=0, le=1000)
    history: int = Field(default=200, ge=0, le=5_000)  # bars shown before the first step


class ReplaySession:
    """One backtest, advanced one bar at a time; collects the browser's messages per step.

    Hand orders are remembered with the step they were placed at, so that a jump back can
    rebuild the session: a new backtest on the same data runs quietly to the target, placing
    the hand orders made before it at their steps; those made at or after it are discarded
    (the strategy and the engine are deterministic, so everything before the target happens
    exactly as it did).
    """

    def __init__(self, backtest: Backtest, symbol: str) -> None:
        self.backtest = backtest
        self.symbol = symbol
        self.bars = backtest.market.feeds[symbol].bars
        self._outbox: list[JsonObject] = []
        self._hand_orders: list[tuple[int, float, dict[str, Any]]] = []
        self._exits_sent: list[JsonObject] = []
        self._subscription: Callable[[], None] | None = backtest.subscribe(self._on_event)

    def unsubscribe(self) -> None:
        if self._subscription is not None:
            self._subscription()
            self._subscription = None

    @property
    def finished(self) -> bool:
        return self.backtest.finished

    @property
    def total_bars(self) -> int:
        return self.backtest.engine.n_steps

    @property
    def position(self) -> int:
        return self.backtest.engine.next_step

    def reveal_until(self, ts_ns: int | None, history: int) -> JsonObject:
        """Step silently to the first bar opening at or after ``ts_ns`` (without it: through
        ``history`` bars); the last ``history`` of the bars passed become the ``history``."""
        stop = history if ts_ns is None else self._index_of(ts_ns)
        self._quietly(lambda: self.backtest.step(self._clamp(stop)))
        self._outbox.clear()
        return self._history(history)

    def jump(self, ts_ns: int, history: int) -> list[JsonObject]:
        """Move to the bar opening at ``ts_ns``: the new ``history``, the fills so far (the
        chart's marks), the position, its exit levels and the equity, then ``jumped``.

        Forward, the strategy trades on the way. Back, the session is rebuilt up to the target
        (see the class docstring); ``jumped`` says how many hand orders were discarded.
        """
        backwards = ts_ns <= self._last_open_ns()
        discarded = 0
        if backwards:
            discarded = self._rewind(self._clamp(self._index_of(ts_ns)))
        else:
            self._quietly(lambda: self.backtest.run_until(ts_ns))
        self._outbox.clear()
        jumped = {"type": "jumped", "time": ts_ns // _NS_PER_SECOND, "backwards": backwards,
                  "discarded_orders": discarded}  # fmt: skip
        return [self._history(history), *self._state(), jumped]

    def _rewind(self, stop: int) -> int:
        """Rebuild the session at step ``stop``; the number of hand orders discarded."""
        old = self.backtest
        kept = [entry for entry in self._hand_orders if entry[0] < stop]
        discarded = len(self._hand_orders) - len(kept)
        self.unsubscribe()
        self.backtest = Backtest(old.source, old.market, old.settings, old.params)
        self._hand_orders = []

        def replay_hand_orders() -> None:
            for step, units, kwargs in kept:
                self.backtest.step(step - self.backtest.engine.next_step)
                self._place(units, kwargs)
            self.backtest.step(stop - self.backtest.engine.next_step)

        try:
            self._quietly(replay_hand_orders)
        finally:
            self._subscription = self.backtest.subscribe(self._on_event)
        return discarded

    def _quietly(self, advance: Callable[[], None]) -> None:
        """Run ``advance`` without observing each bar (the engine's fast path); nothing of what
        it passes is sent, so no skipped bar reaches the browser."""
        subscribed = self._subscription is not None
        self.unsubscribe()
        try:
            advance()
        finally:
            if subscribed:
                self._subscription = self.backtest.subscribe(self._on_event)

    def _state(self) -> list[JsonObject]:
        """Fills so far, the position, its exit levels and the equity: what the page shows
        besides the bars, rebuilt after a jump."""
        engine = self.backtest.engine
        fills: list[JsonObject] = [
            {
                "type": "fill",
                "time": order.filled_ns // _NS_PER_SECOND,
                "order_id": order.id,
                "symbol": order.symbol,
                "units": order.units,
                "price": order.fill_price,
                "commission": order.commission,
            }
            for order in engine.broker.orders
            if order.status is OrderStatus.FILLED and order.filled_ns is not None
        ]
        held = engine.position(self.symbol)
        position = {"type": "position", "time": self._last_open_ns() // _NS_PER_SECOND,
                    "symbol": self.symbol, "units": held.units,
                    "average_price": held.average_price if held.units else 0.0}  # fmt: skip
        equity = {"type": "equity", "time": self._last_open_ns() // _NS_PER_SECOND,
                  "equity": engine.equity, "balance": engine.balance}  # fmt: skip
        self._exits_sent = self._exit_levels()
        exits = {"type": "exits", "time": self._last_open_ns() // _NS_PER_SECOND,
                 "exits": self._exits_sent}  # fmt: skip
        return [*fills, position, exits, equity]

    def _exit_levels(self) -> list[JsonObject]:
        """The stop-loss / take-profit / trailing-stop levels now working for open trades."""
        levels: list[tuple[str, float]] = []
        for order in self.backtest.engine.broker.pending.values():
            if order.closes_trade is None or order.symbol != self.symbol:
                continue
            if order.type is OrderType.TRAILING_STOP:
                price = order.level
            elif order.type is OrderType.STOP:
                price = order.stop_price
            else:
                price = order.limit_price
            if order.tag in _EXIT_TAGS and math.isfinite(price):
                levels.append((order.tag, price))
        return [{"kind": kind, "price": price} for kind, price in sorted(levels)]

    def _history(self, count: int) -> JsonObject:
        done = int(np.searchsorted(self.bars.ts_ns, self._last_open_ns(), side="right"))
        return {"type": "history", **self._bars_payload(max(0, done - count), done)}

    def step(self) -> list[JsonObject]:
        """Advance one bar; the messages it produced (bar, equity, fills …)."""
        if not self.finished:
            self.backtest.step(1)
        return self._drain()

    def order(self, units: float, **kwargs: Any) -> list[JsonObject]:
        """A market order by hand, as the strategy would place it (fills on the next bar)."""
        self._place(units, kwargs)
        return self._drain()

    def _place(self, units: float, kwargs: dict[str, Any]) -> None:
        step = self.backtest.engine.next_step
        self.backtest.submit_order(self.symbol, units, **kwargs)
        self._hand_orders.append((step, units, dict(kwargs)))

    def _index_of(self, ts_ns: int) -> int:
        return int(np.searchsorted(self.backtest.engine.clock.open_ns, ts_ns, side="left"))

    def _clamp(self, stop: int) -> int:
        # never past the last bar: reaching it would finish (and save) the replay
        return max(0, min(stop, self.total_bars - 1))

    def _last_open_ns(self) -> int:
        step = self.backtest.engine.next_step - 1
        return int(self.backtest.engine.clock.open_ns[max(step, 0)]) if step >= 0 else -1

    def _drain(self) -> list[JsonObject]:
        out, self._outbox = self._outbox, []
        levels = self._exit_levels()
        if levels != self._exits_sent:
            self._exits_sent = levels
            out.append({"type": "exits", "time": self._last_open_ns() // _NS_PER_SECOND,
                        "exits": levels})  # fmt: skip
        return out

    def _bars_payload(self, start: int, stop: int) -> dict[str, list[float]]:
        bars = self.bars
        return {
            "time": (bars.ts_ns[start:stop] // _NS_PER_SECOND).tolist(),
            "open": bars.open[start:stop].tolist(),
            "high": bars.high[start:stop].tolist(),
            "low": bars.low[start:stop].tolist(),
            "close": bars.close[start:stop].tolist(),
            "volume": bars.volume[start:stop].tolist(),
        }

    def _on_event(self, event: EngineEvent) -> None:
        seconds = event.ts_ns // _NS_PER_SECOND
        if isinstance(event, BarClosed):
            index = int(np.searchsorted(self.bars.ts_ns, event.ts_ns))
            if index < len(self.bars) and int(self.bars.ts_ns[index]) == event.ts_ns:
                payload = self._bars_payload(index, index + 1)
                bar = {key: value[0] for key, value in payload.items()}
                self._outbox.append({"type": "bar", "step": event.step, **bar})
        elif isinstance(event, EquityUpdated):
            self._outbox.append(
                {
                    "type": "equity",
                    "time": seconds,
                    "equity": event.equity,
                    "balance": event.balance,
                }
            )
        elif isinstance(event, OrderFilled):
            self._outbox.append(
                {"type": "fill", "time": seconds, "order_id": event.order_id,
                 "symbol": event.symbol, "units": event.units, "price": event.price,
                 "commission": event.commission}
            )  # fmt: skip
        elif isinstance(event, OrderPlaced):
            self._outbox.append(
                {"type": "order", "time": seconds, "order_id": event.order_id,
                 "symbol": event.symbol, "units": event.units, "order_type": event.order_type}
            )  # fmt: skip
        elif isinstance(event, OrderCancelled):
            self._outbox.append(
                {"type": "cancelled", "time": seconds, "order_id": event.order_id,
                 "status": event.status, "reason": event.reason}
            )  # fmt: skip
        elif isinstance(event, PositionChanged):
            self._outbox.append(
                {"type": "position", "time": seconds, "symbol": event.symbol,
                 "units": event.units, "average_price": event.average_price}
            )  # fmt: skip


def open_replay(access: StoreAccess, start: ReplayStart) -> tuple[ReplaySession, JsonObject]:
    """Load the data and the strategy, reveal the history; the session and its first message."""
    source = load_strategy(start.source or BARE_MARKET)
    spec = RunSpec(
        symbol=start.symbol.strip().upper(),
        timeframe=start.timeframe,
        end_ns=None if not start.end else parse_utc_time(start.end),
        cash=start.cash,
        leverage=start.leverage,
        commission=start.commission,
    )
    backtest = backtest_from_store(access.use, source, spec)
    session = ReplaySession(backtest, spec.symbol)
    first_ns = None if not start.start else parse_utc_time(start.start)
    history = session.reveal_until(first_ns, start.history)
    return session, history


def finish_replay(access: StoreAccess, session: ReplaySession) -> JsonObject:
    """Run whatever is left and save the session as a run, with its statistics."""
    session.unsubscribe()
    result = session.backtest.run()
    with access.use() as store:
        run_id = save_run_result(store, result, "replay")
    return {"type": "finished", "run_id": run_id, "stats": result.stats.to_dict()}


def replay_router() -> APIRouter:
    router = APIRouter()

    @router.websocket("/api/replay")
    async def replay(socket: WebSocket) -> None:
        await socket.accept()
        access: StoreAccess = socket.app.state.store
        try:
            start = ReplayStart.model_validate(await socket.receive_json())
            session, history = await asyncio.to_thread(open_replay, access, start)
        except (BacktestrError, ValidationError) as error:
            await _send_error(socket, error)
            await socket.close()
            return
        except WebSocketDisconnect:
            return
        await socket.send_json(
            {"type": "ready", "symbol": session.symbol, "timeframe": start.timeframe,
             "bars": session.total_bars, "position": session.position, "speeds": list(SPEEDS)}
        )  # fmt: skip
        await socket.send_json(history)
        with contextlib.suppress(WebSocketDisconnect):
            await _drive(socket, access, session, start.speed)

    return router


async def _drive(
    socket: WebSocket, access: StoreAccess, session: ReplaySession, speed: float
) -> None:
    """The pacing loop: a bar every 1/speed seconds while playing; commands in between."""
    inbox: asyncio.Queue[JsonObject | None] = asyncio.Queue()

    async def receive() -> None:
        try:
            while True:
                await inbox.put(await socket.receive_json())
        except (WebSocketDisconnect, RuntimeError, ValueError):
            await inbox.put(None)

    reader = asyncio.create_task(receive())
    playing = False
    due = time.monotonic()
    try:
        while True:
            timeout = max(0.0, due - time.monotonic()) if playing else None
            try:
                message = await asyncio.wait_for(inbox.get(), timeout)
            except TimeoutError:
                message = {"type": "tick"}
            if message is None:
                return
            kind = message.get("type")
            try:
                if kind in ("tick", "step"):
                    await _send_all(socket, await asyncio.to_thread(session.step))
                    if kind == "tick":
                        due = max(due + 1.0 / speed, time.monotonic() - 0.5)
                    if session.finished:
                        playing = False
                        await socket.send_json(
                            await asyncio.to_thread(finish_replay, access, session)
                        )
                        return
                elif kind == "play":
                    playing, due = True, time.monotonic()
                elif kind == "pause":
                    playing = False
                elif kind == "speed":
                    speed = _speed(message.get("speed"))
                    due = min(due, time.monotonic() + 1.0 / speed)  # faster takes effect now
                elif kind == "order":
                    units = _number(message.get("units"), "units")
                    exits = {
                        name: _number(message[name], name)
                        for name in ("stop_loss_pips", "take_profit_pips")
                        if message.get(name) is not None
                    }
                    placed = await asyncio.to_thread(session.order, units, **exits)
                    await _send_all(socket, placed)
                elif kind == "jump":
                    to = message.get("to")
                    if not isinstance(to, str):
                        raise ConfigError(
                            "Say where to jump: an ISO time such as 2019-02-05T10:00."
                        )
                    ts_ns = parse_utc_time(to)
                    await _send_all(socket, await asyncio.to_thread(session.jump, ts_ns, 200))
                    if session.finished:
                        await socket.send_json(
                            await asyncio.to_thread(finish_replay, access, session)
                        )
                        return
                elif kind == "stop":
                    await socket.send_json(await asyncio.to_thread(finish_replay, access, session))
                    return
                else:
                    raise ConfigError(f"Unknown replay command '{kind}'.")
                if kind != "tick":  # the bars tell the position while playing
                    await socket.send_json({"type": "state", "playing": playing, "speed": speed,
                                            "position": session.position})  # fmt: skip
            except BacktestrError as error:
                playing = False
                await _send_error(socket, error)
    finally:
        reader.cancel()
        session.unsubscribe()


async def _send_all(socket: WebSocket, messages: list[JsonObject]) -> None:
    for message in messages:
        await socket.send_json(message)


async def _send_error(socket: WebSocket, error: BacktestrError | ValidationError) -> None:
    if isinstance(error, ValidationError):
        body: dict[str, object] = {"error": "ConfigError", "message": f"Invalid replay: {error}"}
    else:
        body = dict(error_response(error)[1])
    await socket.send_json({"type": "error", **body})


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"The replay command needs a number for '{name}'.")
    return float(value)


def _speed(value: object) -> float:
    speed = _number(value, "speed")
    if not 0 < speed <= 1000:
        raise ConfigError("The replay speed is in bars per second, between 0 and 1000.")
    return speed
