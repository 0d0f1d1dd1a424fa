"""Saved runs through the API: whatever saved them, they can be listed, read and deleted."""

from __future__ import annotations

import pandas as pd
from fastapi.testclient import TestClient


def save_run(client: TestClient, run_id: str) -> None:
    trades = pd.DataFrame(
        {
            "entry_time": pd.to_datetime(["2019-02-04T10:00:00Z", "2019-02-04T12:30:00Z"]),
            "size": [10_000.0, -5_000.0],
            "pnl": [12.5, float("nan")],
        }
    )
    with client.app.state.store.use() as store:  # type: ignore[attr-defined]
        store.save_run(run_id, {"symbol": "EURUSD", "cash": 10_000}, {"trades": trades})


def test_saved_runs_are_listed_read_and_deleted(client: TestClient) -> None:
    save_run(client, "ma-cross-1")
    listed = client.get("/api/runs").json()
    assert [(run["run_id"], run["manifest"]["symbol"]) for run in listed] == [
        ("ma-cross-1", "EURUSD")
    ]
    assert listed[0]["created"].endswith("Z")

    run = client.get("/api/runs/ma-cross-1").json()
    assert run["tables"] == {"trades": {"rows": 2, "columns": ["entry_time", "size", "pnl"]}}

    table = client.get("/api/runs/ma-cross-1/tables/trades", params={"offset": 1}).json()
    assert (table["total"], table["offset"]) == (2, 1)
    assert table["data"] == {
        "entry_time": ["2019-02-04T12:30:00.000Z"],
        "size": [-5000.0],
        "pnl": [None],
    }

    assert client.delete("/api/runs/ma-cross-1").status_code == 200
    assert client.get("/api/runs").json() == []


def test_unknown_runs_and_tables_are_404_with_suggestions(client: TestClient) -> None:
    save_run(client, "ma-cross-1")
    missing = client.get("/api/runs/ma-cross-2")
    assert missing.status_code == 404
    assert "Did you mean 'ma-cross-1'" in missing.json()["message"]
    table = client.get("/api/runs/ma-cross-1/tables/equity")
    assert table.status_code == 404
    assert "it has: trades" in table.json()["message"]
