"""Opt-in usage analytics, checked against a real local HTTP server."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from backtestr.app.http import UrllibClient
from backtestr.app.telemetry import (
    EventKind,
    Telemetry,
    consent_question_pending,
    do_not_track,
    telemetry_enabled,
)


def _telemetry(
    tmp_path: Path, url: str, *, consent: bool | None, env: dict[str, str] | None = None, **kw
) -> Telemetry:
    return Telemetry(
        tmp_path / "telemetry",
        consent=consent,
        http=UrllibClient(timeout_s=2),
        url=url + "events",
        version="1.0.0",
        env=env or {},
        **kw,
    )


def _use_everything(telemetry: Telemetry) -> None:
    telemetry.track_screen_view("chart")
    telemetry.track_feature_usage("optimizer", duration_ms=1200)
    telemetry.track_backtest_completion(duration_ms=800, timeframe="H1", trades_count=42)
    telemetry.track_error("DataFormatError")
    telemetry.track_performance_metric("startup_time", 350.0, "ms")


@pytest.mark.parametrize("consent", [None, False])
def test_without_consent_not_a_single_byte_is_sent(tmp_path, local_server, consent):
    telemetry = _telemetry(tmp_path, local_server.url, consent=consent, batch_size=1)
    telemetry.start()
    for _ in range(60):
        _use_everything(telemetry)
    telemetry.flush()
    telemetry.stop()
    assert local_server.requests == []
    assert local_server.bytes_received == 0
    assert not (tmp_path / "telemetry" / "outbox").exists()
    assert not (tmp_path / "telemetry" / "identity.json").exists()


def test_do_not_track_wins_over_consent(tmp_path, local_server):
    telemetry = _telemetry(tmp_path, local_server.url, consent=True, env={"DO_NOT_TRACK": "1"})
    telemetry.start()
    _use_everything(telemetry)
    telemetry.stop()
    assert local_server.requests == []


def test_local_metrics_are_kept_without_consent(tmp_path, local_server):
    telemetry = _telemetry(tmp_path, local_server.url, consent=False)
    _use_everything(telemetry)
    telemetry.track_screen_view("chart")
    telemetry.stop()
    again = _telemetry(tmp_path, local_server.url, consent=False)
    metrics = again.local_metrics()
    assert metrics["screen_view"] == {"count": 2.0, "chart": 2.0}
    assert metrics["backtest_completion"]["total_duration_ms"] == 800.0


def test_with_consent_a_full_batch_is_sent_by_the_background_worker(tmp_path, local_server):
    telemetry = _telemetry(tmp_path, local_server.url, consent=True, batch_size=5)
    telemetry.start()
    _use_everything(telemetry)  # five events: one full batch
    deadline = time.monotonic() + 10
    while not local_server.requests and time.monotonic() < deadline:
        time.sleep(0.02)
    telemetry.stop()
    method, path, body = local_server.requests[0]
    assert (method, path) == ("POST", "/events")
    batch = json.loads(body)
    kinds = [e["event_type"] for e in batch["events"]]
    assert kinds == [k.value for k in EventKind]
    assert len({e["anonymous_id"] for e in batch["events"]}) == 1


def test_a_partial_batch_is_sent_after_the_flush_interval(tmp_path, local_server):
    telemetry = _telemetry(
        tmp_path, local_server.url, consent=True, batch_size=50, flush_interval_s=0.1
    )
    telemetry.start()
    telemetry.track_screen_view("chart")
    deadline = time.monotonic() + 10
    while not local_server.requests and time.monotonic() < deadline:
        time.sleep(0.02)
    sent_before_stop = len(local_server.requests)
    telemetry.stop()
    assert sent_before_stop == 1


def test_events_carry_no_personal_data(tmp_path, local_server):
    telemetry = _telemetry(tmp_path, local_server.url, consent=True)
    assert not telemetry.track_screen_view("/home/alice/strategies/secret.py")
    assert not telemetry.track(EventKind.BACKTEST_COMPLETION, {"symbol": "EURUSD"})
    assert not telemetry.track_error("RuntimeError: cannot open C:\\Users\\alice")
    assert telemetry.track_screen_view("chart")
    telemetry.stop()
    (request,) = local_server.requests
    text = request[2].decode()
    assert "alice" not in text
    assert "EURUSD" not in text
    event = json.loads(text)["events"][0]
    assert set(event) == {
        "event_id",
        "event_type",
        "timestamp",
        "anonymous_id",
        "session_id",
        "properties",
    }


def test_offline_batches_wait_on_disk_and_go_out_later(tmp_path, local_server, dead_url):
    offline = _telemetry(tmp_path, dead_url, consent=True)
    offline.track_screen_view("chart")
    offline.stop()
    assert len(list((tmp_path / "telemetry" / "outbox").glob("batch-*.json"))) == 1
    online = _telemetry(tmp_path, local_server.url, consent=True)
    assert online.flush() == 1
    assert list((tmp_path / "telemetry" / "outbox").glob("batch-*.json")) == []


def test_rotating_the_id_unlinks_future_events(tmp_path, local_server):
    telemetry = _telemetry(tmp_path, local_server.url, consent=True)
    first = telemetry.anonymous_id()
    assert telemetry.anonymous_id() == first
    assert telemetry.rotate_id() != first
    assert len(first) == 32


def test_do_not_track_values():
    assert do_not_track({"DO_NOT_TRACK": "1"})
    assert do_not_track({"DO_NOT_TRACK": "true"})
    assert not do_not_track({"DO_NOT_TRACK": "0"})
    assert not do_not_track({})
    assert not telemetry_enabled(None, {})
    assert telemetry_enabled(True, {})


def test_first_run_question_is_asked_once_and_never_under_do_not_track():
    assert consent_question_pending(None, {})
    assert not consent_question_pending(False, {})
    assert not consent_question_pending(True, {})
    assert not consent_question_pending(None, {"DO_NOT_TRACK": "1"})


def test_without_a_running_sender_full_batches_wait_on_disk(tmp_path, local_server):
    telemetry = _telemetry(tmp_path, local_server.url, consent=True, batch_size=5)
    for _ in range(3):
        _use_everything(telemetry)  # five events each
    assert len(list((tmp_path / "telemetry" / "outbox").glob("batch-*.json"))) == 3
    assert local_server.requests == []
    assert telemetry.flush() == 15
