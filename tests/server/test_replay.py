"""Replay over the WebSocket: history first, then one bar per step and never a bar ahead, hand
orders filled through the engine, the session saved as a run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from tests.helpers import trending_m1_csv
from tests.server.conftest import PORT, TOKEN

REPLAY = f"ws://127.0.0.1:{PORT}/api/replay"
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.fixture
def loaded(client: TestClient, tmp_path: Path) -> TestClient:
    csv = trending_m1_csv(tmp_path / "eurusd.csv", days=1)
    with client.app.state.store.use() as store:  # type: ignore[attr-defined]
        store.import_file(csv, symbol="EURUSD")
    return client


def until(socket: WebSocketTestSession, kind: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Messages up to the first of ``kind``: that message and those before it."""
    seen: list[dict[str, Any]] = []
    while True:
        message = socket.receive_json()
        if message["type"] == kind:
            return message, seen
        assert message["type"] != "error", message
        seen.append(message)


def test_replay_reveals_history_then_one_bar_per_step(loaded: TestClient) -> None:
    with loaded.websocket_connect(REPLAY) as socket:
        socket.send_json(
            {"symbol": "EURUSD", "timeframe": "M15", "start": "2019-02-04T05:00Z", "history": 4}
        )
        ready, _ = until(socket, "ready")
        assert ready["bars"] == 96
        history, _ = until(socket, "history")
        assert len(history["time"]) == 4  # the last 4 of the 20 bars before the start
        assert history["time"][-1] == 1549255500  # 2019-02-04T04:45Z
        socket.send_json({"type": "step"})
        bar, _ = until(socket, "bar")
        assert bar["time"] == 1549256400  # 05:00, the next bar and not one further
        equity, _ = until(socket, "equity")
        assert equity["equity"] == pytest.approx(100_000.0)
        state, _ = until(socket, "state")
        assert state == {"type": "state", "playing": False, "speed": 1.0, "position": 21}


def test_a_hand_order_fills_on_the_next_bar(loaded: TestClient) -> None:
    with loaded.websocket_connect(REPLAY) as socket:
        socket.send_json({"symbol": "EURUSD", "timeframe": "M5", "history": 10})
        until(socket, "history")
        socket.send_json({"type": "order", "units": 10_000})
        placed, _ = until(socket, "order")
        assert placed["units"] == 10_000
        socket.send_json({"type": "step"})
        fill, _ = until(socket, "fill")
        assert fill["units"] == 10_000
        assert fill["price"] > 1.1
        position, _ = until(socket, "position")
        assert position["units"] == 10_000
        socket.send_json({"type": "stop"})
        finished, _ = until(socket, "finished")
        assert finished["stats"]["total_trades"] == 1  # closed at the end of the run
    runs = loaded.get("/api/runs").json()
    assert [run["run_id"] for run in runs] == [finished["run_id"]]


def test_playing_streams_bars_at_the_speed_asked(loaded: TestClient) -> None:
    with loaded.websocket_connect(REPLAY) as socket:
        socket.send_json({"symbol": "EURUSD", "timeframe": "M15", "history": 0, "speed": 100})
        until(socket, "history")
        socket.send_json({"type": "play"})
        times = [until(socket, "bar")[0]["time"] for _ in range(5)]
        assert times == sorted(times)
        assert len(set(times)) == 5
        socket.send_json({"type": "speed", "speed": 1000})
        finished, _ = until(socket, "finished")  # the last of 96 bars, then the saved run
        assert finished["run_id"].startswith("replay-")


def test_strategy_errors_and_bad_commands_come_back_as_messages(loaded: TestClient) -> None:
    with loaded.websocket_connect(REPLAY) as socket:
        socket.send_json({"symbol": "EURUSD", "source": "def handle_data(c, d):\n    1/0\n"})
        error = socket.receive_json()
        assert (error["type"], error["error"], error["line"]) == ("error", "StrategyError", 2)
    with loaded.websocket_connect(REPLAY) as socket:
        socket.send_json({"symbol": "EURUSD", "history": 1})
        until(socket, "history")
        socket.send_json({"type": "speed", "speed": "fast"})
        error, _ = until(socket, "error")
        assert "number" in error["message"]


def test_the_socket_needs_the_token_and_our_origin(anonymous: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as refused, anonymous.websocket_connect(REPLAY):
        pass
    assert refused.value.code == 4401
    with (
        pytest.raises(WebSocketDisconnect) as foreign,
        anonymous.websocket_connect(
            REPLAY,
            headers={"X-Backtestr-Token": TOKEN, "Origin": "http://evil.example"},
        ),
    ):
        pass
    assert foreign.value.code == 4403


def test_a_hand_order_with_a_stop_loss_is_closed_by_it(loaded: TestClient) -> None:
    with loaded.websocket_connect(REPLAY) as socket:
        socket.send_json({"symbol": "EURUSD", "timeframe": "M1", "history": 10})
        until(socket, "history")
        # the series falls for its first 90 minutes: a 1-pip stop closes the long soon
        socket.send_json({"type": "order", "units": 10_000, "stop_loss_pips": 1})
        socket.send_json({"type": "speed", "speed": 1000})
        socket.send_json({"type": "play"})
        fills = []
        while len(fills) < 2:
            message, _ = until(socket, "fill")
            fills.append(message)
        assert [fill["units"] for fill in fills] == [10_000, -10_000]
        assert fills[1]["price"] < fills[0]["price"]


def test_jumping_forward_trades_on_the_way_and_shows_the_new_history(loaded: TestClient) -> None:
    with loaded.websocket_connect(REPLAY) as socket:
        socket.send_json({"symbol": "EURUSD", "timeframe": "M15", "history": 8})
        until(socket, "history")
        socket.send_json({"type": "order", "units": 10_000})
        socket.send_json({"type": "jump", "to": "2019-02-04T12:00Z"})
        history, _ = until(socket, "history")
        assert history["time"][-1] == 1549281600 - 900  # 11:45, the last bar before 12:00
        fill, _ = until(socket, "fill")
        assert fill["units"] == 10_000
        equity, _ = until(socket, "equity")
        assert equity["time"] == 1549281600 - 900
        jumped, skipped = until(socket, "jumped")
        assert jumped["backwards"] is False
        assert not [m for m in skipped if m["type"] == "bar"]  # skipped bars are never sent


def test_jumping_back_rebuilds_the_session_and_discards_later_hand_orders(
    loaded: TestClient,
) -> None:
    with loaded.websocket_connect(REPLAY) as socket:
        socket.send_json({"symbol": "EURUSD", "timeframe": "M15", "history": 8})
        until(socket, "history")  # 8 bars shown: the next is 02:00
        socket.send_json({"type": "order", "units": 10_000})  # placed at 02:00, fills then
        socket.send_json({"type": "jump", "to": "2019-02-04T06:00Z"})
        until(socket, "jumped")
        socket.send_json({"type": "order", "units": -5_000})  # placed at 06:00
        socket.send_json({"type": "jump", "to": "2019-02-04T12:00Z"})
        _, forward = until(socket, "jumped")
        assert [m["units"] for m in forward if m["type"] == "fill"] == [10_000, -5_000]

        socket.send_json({"type": "jump", "to": "2019-02-04T04:00Z"})
        history, _ = until(socket, "history")
        assert history["time"][-1] == 1549252800 - 900  # 03:45: back before 04:00
        assert len(history["time"]) == 16  # every bar before 04:00 (a jump shows up to 200)
        jumped, state = until(socket, "jumped")
        assert jumped == {"type": "jumped", "time": 1549252800, "backwards": True,
                          "discarded_orders": 1}  # fmt: skip
        # the order placed before the target stays (its fill is re-sent for the chart), the one
        # placed after it is gone, and so is its effect on the position
        assert [m["units"] for m in state if m["type"] == "fill"] == [10_000]
        position = next(m for m in state if m["type"] == "position")
        assert position["units"] == 10_000
        socket.send_json({"type": "step"})
        bar, _ = until(socket, "bar")
        assert bar["time"] == 1549252800  # the replay goes on from the target
        socket.send_json({"type": "stop"})
        finished, _ = until(socket, "finished")
        assert finished["stats"]["total_trades"] == 1  # the long, closed at the end


def test_open_exit_levels_are_sent_and_cleared_when_the_position_closes(
    loaded: TestClient,
) -> None:
    with loaded.websocket_connect(REPLAY) as socket:
        socket.send_json({"symbol": "EURUSD", "timeframe": "M1", "history": 10})
        until(socket, "history")
        socket.send_json(
            {"type": "order", "units": 10_000, "stop_loss_pips": 5, "take_profit_pips": 30}
        )
        socket.send_json({"type": "step"})
        fill, _ = until(socket, "fill")
        exits, _ = until(socket, "exits")
        assert [level["kind"] for level in exits["exits"]] == ["stop_loss", "take_profit"]
        stop_loss, take_profit = (level["price"] for level in exits["exits"])
        assert stop_loss == pytest.approx(fill["price"] - 0.0005)
        assert take_profit == pytest.approx(fill["price"] + 0.0030)
        socket.send_json({"type": "speed", "speed": 1000})
        socket.send_json({"type": "play"})
        closed, _ = until(socket, "exits")  # the falling series hits the stop: no levels left
        assert closed["exits"] == []
