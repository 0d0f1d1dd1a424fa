"""Data routes of the web server against a real temporary home: import, list, bars, remove."""

from __future__ import annotations

import time

import pandas as pd
import pytest
from fastapi.testclient import TestClient

HEADER = "timestamp,bid,ask,bid_volume,ask_volume\n"


def ticks_csv(minutes: int = 180) -> bytes:
    start = pd.Timestamp("2019-02-04", tz="UTC")
    rows = [
        f"{start + pd.Timedelta(minutes=m, seconds=30):%Y-%m-%d %H:%M:%S}.000,"
        f"{1.1000 + m * 0.0001:.4f},{1.1002 + m * 0.0001:.4f},1,1\n"
        for m in range(minutes)
    ]
    return (HEADER + "".join(rows)).encode()


BAD_BARS = b"timestamp,open,high,low,close\n2019-02-04 00:00,1.0850,1.0841,1.0850,1.0845\n"


def start_import(client: TestClient, name: str, content: bytes, **fields: str) -> dict[str, object]:
    response = client.post(
        "/api/imports",
        files={"file": (name, content, "text/csv")},
        data={"symbol": "EURUSD", **fields},
    )
    assert response.status_code == 202, response.text
    body: dict[str, object] = response.json()
    return body


def wait_for(client: TestClient, job_id: object) -> tuple[int, dict[str, object]]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        response = client.get(f"/api/imports/{job_id}")
        if response.status_code != 202:
            return response.status_code, response.json()
        time.sleep(0.02)
    raise AssertionError("import did not finish")


def test_formats_and_timeframes_are_listed(client: TestClient) -> None:
    formats = client.get("/api/formats").json()
    names = [item["name"] for item in formats]
    assert "generic-ticks" in names
    assert all({"name", "kind", "description"} <= set(item) for item in formats)
    assert client.get("/api/timeframes").json()[:2] == ["M1", "M5"]


def test_import_then_list_bars_and_remove(client: TestClient) -> None:
    job = start_import(client, "EURUSD.csv", ticks_csv())
    status, result = wait_for(client, job["job_id"])
    assert status == 200
    assert result["state"] == "completed"
    summary = result["summary"]
    assert isinstance(summary, dict)
    assert (summary["rows_read"], summary["kind"], summary["source"]) == (
        180,
        "ticks",
        "EURUSD.csv",
    )
    assert (summary["first"], summary["last"]) == ("2019-02-04T00:00:30Z", "2019-02-04T02:59:30Z")

    assert client.get("/api/datasets").json() == [
        {
            "symbol": "EURUSD",
            "kind": "ticks",
            "side": "quote",
            "rows": 180,
            "first": "2019-02-04T00:00:30Z",
            "last": "2019-02-04T02:59:30Z",
            "partitions": 1,
        }
    ]

    bars = client.get("/api/bars", params={"symbol": "eurusd", "timeframe": "H1"}).json()
    epoch = int(pd.Timestamp("2019-02-04", tz="UTC").timestamp())
    assert bars["time"] == [epoch, epoch + 3600, epoch + 7200]
    assert bars["count"] == 3
    assert bars["open"][0] == pytest.approx(1.1000)
    assert bars["close"][-1] == pytest.approx(1.1000 + 179 * 0.0001)
    assert bars["has_more"] is False

    removed = client.delete("/api/datasets/EURUSD")
    assert removed.status_code == 200
    assert removed.json()["partitions_removed"] >= 1
    assert client.get("/api/datasets").json() == []
    # the uploaded copy is gone too
    assert not list((client.app.state.store.home / "staging").iterdir())  # type: ignore[attr-defined]


def test_bars_page_backwards_from_a_time(client: TestClient) -> None:
    wait_for(client, start_import(client, "EURUSD.csv", ticks_csv())["job_id"])
    newest = client.get("/api/bars", params={"symbol": "EURUSD", "timeframe": "M1", "limit": 50})
    page = newest.json()
    assert page["count"] == 50
    assert page["has_more"] is True
    older = client.get(
        "/api/bars",
        params={"symbol": "EURUSD", "timeframe": "M1", "limit": 1000, "to": page["time"][0]},
    ).json()
    assert older["count"] == 130
    assert older["has_more"] is False
    assert older["time"][-1] == page["time"][0] - 60
    ranged = client.get(
        "/api/bars",
        params={
            "symbol": "EURUSD",
            "timeframe": "M15",
            "from": "2019-02-04T01:00:00Z",
            "to": "2019-02-04T02:00:00Z",
        },
    ).json()
    assert ranged["count"] == 4


def test_a_malformed_file_is_a_422_with_file_and_line(client: TestClient) -> None:
    job = start_import(client, "EURUSD.csv", BAD_BARS)
    status, body = wait_for(client, job["job_id"])
    assert status == 422
    assert body["error"] == "DataFormatError"
    assert (body["file"], body["line"], body["column"]) == ("EURUSD.csv", 2, "high")
    assert isinstance(body["message"], str)
    assert body["message"].startswith("Invalid data format: EURUSD.csv line 2")
    assert "high 1.0841 is below low 1.085" in body["message"]
    assert client.get("/api/datasets").json() == []


def test_progress_streams_as_server_sent_events(client: TestClient) -> None:
    job = start_import(client, "EURUSD.csv", ticks_csv())
    with client.stream("GET", f"/api/imports/{job['job_id']}/events") as stream:
        text = "".join(stream.iter_text())
    events = [block for block in text.split("\n\n") if block]
    assert events[-1].startswith("event: done")
    assert '"status": 200' in events[-1]
    assert all(event.startswith("event: progress") for event in events[:-1])


def test_a_client_file_name_never_becomes_a_server_path(client: TestClient) -> None:
    job = start_import(client, "../../etc/EURUSD.csv", ticks_csv(3))
    status, result = wait_for(client, job["job_id"])
    assert status == 200
    summary = result["summary"]
    assert isinstance(summary, dict)
    assert summary["source"] == "EURUSD.csv"


@pytest.mark.parametrize(
    ("path", "params", "status", "text"),
    [
        ("/api/bars", {"symbol": "GBPUSD"}, 404, "No data is stored for GBPUSD"),
        ("/api/bars", {"symbol": "EURUSD", "timeframe": "M0"}, 400, "Unknown timeframe 'M0'"),
        ("/api/bars", {"symbol": "EURUSD", "to": "yesterday-ish"}, 400, "Cannot read the time"),
        ("/api/bars", {"symbol": "EURUSD", "limit": "0"}, 400, "limit"),
        ("/api/imports/nope", {}, 404, "No import job has id nope"),
    ],
)
def test_domain_errors_become_4xx_json(
    client: TestClient, path: str, params: dict[str, str], status: int, text: str
) -> None:
    wait_for(client, start_import(client, "EURUSD.csv", ticks_csv(3))["job_id"])
    response = client.get(path, params=params)
    assert response.status_code == status
    assert text in response.json()["message"]


def test_removing_an_unknown_symbol_is_404(client: TestClient) -> None:
    response = client.delete("/api/datasets/USDJPY")
    assert response.status_code == 404
    assert response.json()["error"] == "NoDataError"


def test_an_unknown_format_is_refused_before_importing(client: TestClient) -> None:
    response = client.post(
        "/api/imports",
        files={"file": ("EURUSD.csv", ticks_csv(3), "text/csv")},
        data={"symbol": "EURUSD", "format": "excel"},
    )
    assert response.status_code == 400
    assert "Unknown format 'excel'" in response.json()["message"]


def test_the_store_is_held_only_while_the_app_runs(settings: object) -> None:
    from backtestr.data.store import Store
    from backtestr.server import ServerSettings, create_app
    from tests.server.conftest import BASE_URL

    assert isinstance(settings, ServerSettings)
    app = create_app(settings)  # building the app opens nothing
    assert not settings.home.exists()
    with TestClient(app, base_url=BASE_URL):
        assert (settings.home / "catalog.duckdb").exists()
    Store.open(settings.home).close()  # the lock was released on shutdown


def test_the_format_is_detected_from_a_sample(client: TestClient) -> None:
    sample = b"timestamp,open,high,low,close\n" + b"".join(
        f"2019-02-04 00:{minute:02d},1.1,1.2,1.0,1.15\n".encode() for minute in range(30)
    )
    response = client.post(
        "/api/formats/detect",
        files={"sample": ("EURUSD_ask.csv", sample, "text/csv")},
        data={"symbol": "EURUSD"},
    )
    assert response.status_code == 200, response.text
    assert response.json() | {"description": ""} == {
        "format": "generic-bars",
        "kind": "bars",
        "description": "",
        "side": "ask",
        "timeframe": "M1",
    }
    assert not list((client.app.state.store.home / "staging").iterdir())  # type: ignore[attr-defined]


def test_an_unrecognisable_sample_is_a_422(client: TestClient) -> None:
    response = client.post(
        "/api/formats/detect",
        files={"sample": ("notes.csv", b"hello,world\nfoo,bar\n", "text/csv")},
    )
    assert response.status_code == 422
    assert response.json()["message"].startswith("Invalid data format: notes.csv")
