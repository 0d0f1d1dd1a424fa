"""Backtests through the API: started as a job, followed to the end, saved as a run; strategy
errors at the user's line; cancellation."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backtestr.strategy.samples import MOVING_AVERAGE_CROSS
from tests.helpers import trending_m1_csv

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

SLOW_LOOP = """\
import time


def handle_data(context, data):
    time.sleep(0.001)
"""


@pytest.fixture
def loaded(client: TestClient, tmp_path: Path) -> TestClient:
    csv = trending_m1_csv(tmp_path / "eurusd.csv", days=2)
    with client.app.state.store.use() as store:  # type: ignore[attr-defined]
        store.import_file(csv, symbol="EURUSD")
    return client


def wait_for(client: TestClient, job_id: str, timeout_s: float = 30.0) -> tuple[int, dict]:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout_s
    while True:
        response = client.get(f"/api/runs/jobs/{job_id}")
        if response.status_code != 202 or time.monotonic() > deadline:
            return response.status_code, response.json()
        time.sleep(0.05)


def test_a_run_is_saved_and_its_stats_returned(loaded: TestClient) -> None:
    started = loaded.post(
        "/api/runs",
        json={
            "source": MOVING_AVERAGE_CROSS,
            "name": "ma cross",
            "symbol": "eurusd",
            "timeframe": "M5",
            "start": "2019-02-04",
            "end": "2019-02-04",
            "cash": 10_000,
            "commission": "3.5/lot",
            "params": {"fast": 5},
        },
    )
    assert started.status_code == 202
    status, body = wait_for(loaded, started.json()["job_id"])
    assert status == 200, body
    assert body["state"] == "completed"
    assert body["stats"]["total_trades"] > 0
    run = loaded.get(f"/api/runs/{body['run_id']}").json()
    assert body["run_id"].startswith("ma-cross-")
    manifest = run["manifest"]
    assert manifest["parameters"] == {"fast": 5, "slow": 20}
    assert manifest["timeframe"] == "M5"
    assert manifest["data"]["EURUSD"]["bars"] == 288  # one day of M5 bars: the end is inclusive
    assert manifest["stats"]["total_trades"] == body["stats"]["total_trades"]
    trades = loaded.get(f"/api/runs/{body['run_id']}/tables/trades").json()
    assert trades["total"] == body["stats"]["total_trades"]

    report = loaded.get(f"/api/runs/{body['run_id']}/report")
    assert report.headers["content-disposition"] == f'attachment; filename="{body["run_id"]}.html"'
    assert report.text.startswith("<!DOCTYPE html>")
    assert 'src="data:image/png;base64,' in report.text  # the chart travels inside the file
    assert "http://" not in report.text.replace("http://www.w3.org", "")  # opens offline


def test_the_progress_stream_ends_with_done(loaded: TestClient) -> None:
    started = loaded.post(
        "/api/runs", json={"source": MOVING_AVERAGE_CROSS, "symbol": "EURUSD", "timeframe": "M1"}
    ).json()
    with loaded.stream("GET", f"/api/runs/jobs/{started['job_id']}/events") as stream:
        text = "".join(stream.iter_text())
    assert text.rstrip().endswith('data: {"state": "completed", "status": 200}')


def test_code_that_does_not_compile_is_refused_at_its_line(loaded: TestClient) -> None:
    source = "def handle_data(context, data):\n    x = (\n"
    response = loaded.post("/api/runs", json={"source": source, "symbol": "EURUSD"})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "StrategyError"
    assert body["line"] == 2
    assert "Syntax error" in body["message"]


def test_a_failure_while_running_names_the_users_line(loaded: TestClient) -> None:
    source = "def handle_data(context, data):\n    pass\n    1 / 0\n"
    job = loaded.post("/api/runs", json={"source": source, "symbol": "EURUSD"}).json()
    status, body = wait_for(loaded, job["job_id"])
    assert status == 422
    assert (body["error"], body["line"], body["state"]) == ("StrategyError", 3, "failed")
    assert "ZeroDivisionError" in body["message"]


def test_unknown_symbol_is_404_from_the_job(loaded: TestClient) -> None:
    job = loaded.post("/api/runs", json={"source": MOVING_AVERAGE_CROSS, "symbol": "GBPJPY"})
    status, body = wait_for(loaded, job.json()["job_id"])
    assert status == 404
    assert "GBPJPY" in body["message"]


def test_a_running_backtest_can_be_cancelled(loaded: TestClient) -> None:
    job = loaded.post("/api/runs", json={"source": SLOW_LOOP, "symbol": "EURUSD"}).json()
    # asked at once, possibly before the data is loaded: the run stops when it starts
    assert loaded.delete(f"/api/runs/jobs/{job['job_id']}").json()["cancelling"] is True
    status, body = wait_for(loaded, job["job_id"], timeout_s=10)
    assert status == 409
    assert body["error"] == "RunCancelledError"
    assert loaded.get("/api/runs").json() == []


def test_checking_a_strategy_returns_its_parameters_or_its_error(client: TestClient) -> None:
    checked = client.post("/api/strategies/check", json={"source": MOVING_AVERAGE_CROSS})
    assert checked.json() == {"ok": True, "parameters": {"fast": 10, "slow": 20}}
    broken = client.post("/api/strategies/check", json={"source": "x = 1\ny = nope\n"})
    assert broken.status_code == 422
    assert broken.json()["line"] == 2
    empty = client.post("/api/strategies/check", json={"source": "x = 1\n"})
    assert empty.status_code == 400
    assert "handle_data" in empty.json()["message"]


def test_unknown_job_is_404(client: TestClient) -> None:
    assert client.get("/api/runs/jobs/nope").status_code == 404
    assert client.delete("/api/runs/jobs/nope").status_code == 404


def test_other_timeframes_are_read_while_the_store_serves_others(loaded: TestClient) -> None:
    # data.history in H1 reads the store during the run: it waits for the store's lock
    source = (
        "def handle_data(context, data):\n"
        "    hourly = data.history(context.symbol, 'close', 3, timeframe='H1')\n"
        "    record(hourly=float(hourly[-1]))\n"
    )
    job = loaded.post(
        "/api/runs", json={"source": source, "symbol": "EURUSD", "timeframe": "M15"}
    ).json()
    for _ in range(5):
        assert loaded.get("/api/bars", params={"symbol": "EURUSD"}).status_code == 200
    status, body = wait_for(loaded, job["job_id"])
    assert status == 200, body
    records = loaded.get(f"/api/runs/{body['run_id']}/tables/records").json()
    assert records["total"] > 0
    assert "hourly" in records["columns"]


def test_a_saved_strategy_can_be_run_by_its_name(loaded: TestClient) -> None:
    saved = loaded.put("/api/strategies/ma cross", json={"source": MOVING_AVERAGE_CROSS})
    assert saved.json() == {"name": "ma cross", "saved": True}
    assert loaded.get("/api/strategies").json() == ["ma cross"]
    assert loaded.get("/api/strategies/ma cross").json()["source"] == MOVING_AVERAGE_CROSS
    job = loaded.post("/api/runs", json={"strategy": "ma cross", "symbol": "EURUSD"}).json()
    status, body = wait_for(loaded, job["job_id"])
    assert status == 200, body
    unknown = loaded.post("/api/runs", json={"strategy": "nope", "symbol": "EURUSD"})
    assert unknown.status_code == 404
    neither = loaded.post("/api/runs", json={"symbol": "EURUSD"})
    assert neither.status_code == 400
    assert loaded.put("/api/strategies/..%2Fx", json={"source": "x"}).status_code in (400, 404)
    assert loaded.delete("/api/strategies/ma cross").json()["deleted"] is True
    assert loaded.get("/api/strategies").json() == []
