"""The server loads the compiled bar kernels in the background as it starts."""

from __future__ import annotations

from fastapi.testclient import TestClient

from backtestr.server.warmup import WARM_TIMEFRAMES, warm_bar_kernels


def test_warming_builds_intraday_and_trading_day_bars() -> None:
    built = warm_bar_kernels()
    assert tuple(built) == WARM_TIMEFRAMES
    assert built["H1"] == 72  # three whole days of minutes
    assert 3 <= built["D1"] <= 4  # FX days start at 17:00 New York: a partial day at each end


def test_the_server_warms_up_as_it_starts(client: TestClient) -> None:
    thread = client.app.state.warm_up  # type: ignore[attr-defined]
    assert thread.name == "backtestr-warm-up"
    assert thread.daemon
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert client.get("/api/datasets").status_code == 200
