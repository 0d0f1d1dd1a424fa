"""Usage analytics: strictly opt-in, anonymous, batched, and never in the way.

Nothing is sent unless the user said yes (``Settings.telemetry_consent is True``) *and*
``DO_NOT_TRACK`` is not set. Without consent not one byte leaves the machine, but local metrics
(counts per event kind and feature, backtest durations) are still kept so the user can see them
with ``backtestr telemetry show``.

Events are of the seed's five kinds and carry only whitelisted properties of safe shapes: short
identifiers and numbers, never file paths, symbols of the user's data, strategy code or free
text. The id sent is a salted hash of a random install id; rotating it draws a new salt, so old
and new events cannot be linked. Events are batched (50, or every 5 minutes) and sent by a
background thread; batches that cannot be sent wait in an on-disk outbox.
"""

from __future__ import annotations

import enum
import hashlib
import json
import logging
import os
import platform
import re
import secrets
import sys
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from backtestr.app._files import write_atomic
from backtestr.app.http import HttpClient

__all__ = [
    "EventKind",
    "Telemetry",
    "TelemetryEvent",
    "consent_question_pending",
    "do_not_track",
    "telemetry_enabled",
]

_log = logging.getLogger(__name__)
_SAFE_TEXT = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_MAX_OUTBOX_FILES = 200


class EventKind(enum.Enum):
    """The kinds of usage events."""

    SCREEN_VIEW = "screen_view"
    FEATURE_USAGE = "feature_usage"
    BACKTEST_COMPLETION = "backtest_completion"
    ERROR = "error"
    PERFORMANCE_METRIC = "performance_metric"


# kind → property → type allowed; anything else is dropped before it is even queued
_ALLOWED: dict[EventKind, dict[str, type]] = {
    EventKind.SCREEN_VIEW: {"screen_name": str},
    EventKind.FEATURE_USAGE: {"feature_name": str, "duration_ms": int},
    EventKind.BACKTEST_COMPLETION: {"duration_ms": int, "timeframe": str, "trades_count": int},
    EventKind.ERROR: {"error_type": str},
    EventKind.PERFORMANCE_METRIC: {"metric_name": str, "value": float, "unit": str},
}

Property = str | int | float


def do_not_track(env: Mapping[str, str] | None = None) -> bool:
    """Whether ``DO_NOT_TRACK`` asks for no tracking (any value but empty, ``0`` or ``false``)."""
    value = (os.environ if env is None else env).get("DO_NOT_TRACK", "").strip().lower()
    return value not in {"", "0", "false", "no"}


def telemetry_enabled(consent: bool | None, env: Mapping[str, str] | None = None) -> bool:
    """Sending is allowed only with an explicit yes and without ``DO_NOT_TRACK``."""
    return consent is True and not do_not_track(env)


def consent_question_pending(consent: bool | None, env: Mapping[str, str] | None = None) -> bool:
    """Whether the UI should ask the first-run question (never asked, and not ``DO_NOT_TRACK``).

    The answer is stored with ``Settings.telemetry_consent``; until then telemetry stays off.
    """
    return consent is None and not do_not_track(env)


@dataclass(frozen=True)
class TelemetryEvent:
    """One anonymous usage event as sent."""

    event_id: str
    kind: EventKind
    timestamp: str
    anonymous_id: str
    session_id: str
    properties: tuple[tuple[str, Property], ...]

    def to_json(self) -> dict[str, object]:
        """A JSON-ready mapping."""
        return {
            "event_id": self.event_id,
            "event_type": self.kind.value,
            "timestamp": self.timestamp,
            "anonymous_id": self.anonymous_id,
            "session_id": self.session_id,
            "properties": dict(self.properties),
        }


def _clean(kind: EventKind, properties: Mapping[str, Property]) -> dict[str, Property] | None:
    allowed = _ALLOWED[kind]
    clean: dict[str, Property] = {}
    for name, value in properties.items():
        expected = allowed.get(name)
        if expected is None or isinstance(value, bool):
            return None
        if expected is str and not (isinstance(value, str) and _SAFE_TEXT.match(value)):
            return None
        if expected is int and not isinstance(value, int):
            return None
        if expected is float and not isinstance(value, int | float):
            return None
        clean[name] = float(value) if expected is float else value
    return clean


class Telemetry:
    """Collects usage events; sends them only when enabled.

    Parameters
    ----------
    directory
        Where local metrics, the anonymous identity and the outbox live.
    consent
        The user's answer (``None``: not asked, which means no).
    http
        The only way to the network.
    url
        Where batches are posted.
    version
        App version sent with each batch.
    env
        Environment to read ``DO_NOT_TRACK`` from.
    batch_size, flush_interval_s
        A batch is sent when this many events wait, or this many seconds have passed.
    clock
        Current UTC time (event timestamps), injected for tests.
    """

    def __init__(
        self,
        directory: Path,
        *,
        consent: bool | None,
        http: HttpClient,
        url: str,
        version: str,
        env: Mapping[str, str] | None = None,
        batch_size: int = 50,
        flush_interval_s: float = 300.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.directory = directory
        self.enabled = telemetry_enabled(consent, env)
        self._http = http
        self._url = url
        self._version = version
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self._clock = clock or (lambda: datetime.now(UTC))
        self._queue: list[TelemetryEvent] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._session_id = uuid.uuid4().hex
        self._anonymous_id: str | None = None
        self._metrics = self._load_metrics()

    # -- files ------------------------------------------------------------------------------

    @property
    def metrics_file(self) -> Path:
        """Local usage metrics, never sent."""
        return self.directory / "local-metrics.json"

    @property
    def outbox_dir(self) -> Path:
        """Consented batches waiting for the network."""
        return self.directory / "outbox"

    def _load_metrics(self) -> dict[str, dict[str, float]]:
        try:
            data = json.loads(self.metrics_file.read_text(encoding="utf-8"))
            return {
                str(k): {str(n): float(v) for n, v in d.items()}
                for k, d in data.items()
                if isinstance(d, dict)
            }
        except (OSError, ValueError, AttributeError):
            return {}

    def _save_metrics(self) -> None:
        try:
            with self._lock:
                text = json.dumps(self._metrics, indent=2, sort_keys=True)
            write_atomic(self.metrics_file, text.encode("utf-8"))
        except OSError as error:
            _log.info("could not save local metrics: %s", error)

    def anonymous_id(self) -> str:
        """Salted hash of the random install id (created on first use, only when enabled)."""
        if self._anonymous_id is not None:
            return self._anonymous_id
        path = self.directory / "identity.json"
        try:
            identity = json.loads(path.read_text(encoding="utf-8"))
            self._anonymous_id = str(identity["anonymous_id"])
        except (OSError, ValueError, KeyError, TypeError):
            self._anonymous_id = self.rotate_id()
        return self._anonymous_id

    def rotate_id(self) -> str:
        """Draw a new salt: later events cannot be linked to earlier ones."""
        install_id = secrets.token_hex(16)
        salt = secrets.token_hex(16)
        anonymous = hashlib.sha256((salt + install_id).encode()).hexdigest()[:32]
        data = {"anonymous_id": anonymous, "created": self._clock().isoformat()}
        write_atomic(self.directory / "identity.json", json.dumps(data).encode())
        self._anonymous_id = anonymous
        return anonymous

    def local_metrics(self) -> dict[str, dict[str, float]]:
        """What was counted on this machine (always available, never sent)."""
        with self._lock:
            return {kind: dict(values) for kind, values in self._metrics.items()}

    # -- tracking ---------------------------------------------------------------------------

    def track(self, kind: EventKind, properties: Mapping[str, Property]) -> bool:
        """Record an event; ``False`` when it was dropped for carrying unsafe properties."""
        clean = _clean(kind, properties)
        if clean is None:
            _log.debug("dropped %s event with properties %s", kind.value, sorted(properties))
            return False
        with self._lock:
            counts = self._metrics.setdefault(kind.value, {})
            counts["count"] = counts.get("count", 0.0) + 1
            for name in ("screen_name", "feature_name", "metric_name", "error_type"):
                if name in clean:
                    key = str(clean[name])
                    counts[key] = counts.get(key, 0.0) + 1
            if "duration_ms" in clean:
                counts["total_duration_ms"] = counts.get("total_duration_ms", 0.0) + float(
                    clean["duration_ms"]
                )
        if not self.enabled:
            return True
        event = TelemetryEvent(
            event_id=uuid.uuid4().hex,
            kind=kind,
            timestamp=self._clock().isoformat(),
            anonymous_id=self.anonymous_id(),
            session_id=self._session_id,
            properties=tuple(sorted(clean.items())),
        )
        with self._lock:
            self._queue.append(event)
            full = len(self._queue) >= self.batch_size
            batch: list[TelemetryEvent] = []
            if full and self._thread is None:
                # no sender running: park the batch on disk rather than grow memory or block
                batch, self._queue = self._queue, []
        if batch:
            self._to_outbox(batch)
        elif full:
            self._wake.set()
        return True

    def track_screen_view(self, screen_name: str) -> bool:
        """A screen of the UI was shown."""
        return self.track(EventKind.SCREEN_VIEW, {"screen_name": screen_name})

    def track_feature_usage(self, feature_name: str, duration_ms: int | None = None) -> bool:
        """A feature was used (optionally for how long)."""
        properties: dict[str, Property] = {"feature_name": feature_name}
        if duration_ms is not None:
            properties["duration_ms"] = duration_ms
        return self.track(EventKind.FEATURE_USAGE, properties)

    def track_backtest_completion(
        self, duration_ms: int, timeframe: str, trades_count: int
    ) -> bool:
        """A backtest finished (no symbol: that would describe the user's own data)."""
        return self.track(
            EventKind.BACKTEST_COMPLETION,
            {"duration_ms": duration_ms, "timeframe": timeframe, "trades_count": trades_count},
        )

    def track_error(self, error_type: str) -> bool:
        """An error of this class happened (no message: messages can hold paths)."""
        return self.track(EventKind.ERROR, {"error_type": error_type})

    def track_performance_metric(self, metric_name: str, value: float, unit: str) -> bool:
        """A measured figure, e.g. ``startup_time`` in ``ms``."""
        return self.track(
            EventKind.PERFORMANCE_METRIC, {"metric_name": metric_name, "value": value, "unit": unit}
        )

    # -- sending ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the background sender (only when enabled)."""
        if not self.enabled or self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="backtestr-telemetry", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Send (or keep on disk) what is queued, stop the sender, save local metrics."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        self.flush()
        self._save_metrics()

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self.flush_interval_s)
            self._wake.clear()
            if not self._stopping.is_set():
                self.flush()

    def flush(self) -> int:
        """Send the outbox and the queue now; return the number of events sent."""
        if not self.enabled:
            with self._lock:
                self._queue.clear()  # belt and braces: nothing queues while disabled
            return 0
        with self._lock:
            batch, self._queue = self._queue, []
        if batch:
            self._to_outbox(batch)
        sent = 0
        for path in (
            sorted(self.outbox_dir.glob("batch-*.json")) if self.outbox_dir.is_dir() else []
        ):
            try:
                status = self._http.post(self._url, path.read_bytes(), "application/json")
            except OSError as error:
                _log.info("telemetry offline, keeping %s: %s", path.name, error)
                break
            if not 200 <= status < 300:
                break
            sent += len(json.loads(path.read_text(encoding="utf-8"))["events"])
            path.unlink(missing_ok=True)
        return sent

    def _to_outbox(self, batch: list[TelemetryEvent]) -> None:
        payload = {
            "batch_id": uuid.uuid4().hex,
            "sent_at": self._clock().isoformat(),
            "app_version": self._version,
            "platform": f"{sys.platform}-{platform.machine()}",
            "events": [event.to_json() for event in batch],
        }
        try:
            self.outbox_dir.mkdir(parents=True, exist_ok=True)
            existing = sorted(self.outbox_dir.glob("batch-*.json"))
            for old in existing[: max(len(existing) - _MAX_OUTBOX_FILES + 1, 0)]:
                old.unlink(missing_ok=True)  # bounded: drop the oldest rather than fill the disk
            name = f"batch-{self._clock().strftime('%Y%m%dT%H%M%S%f')}-{payload['batch_id']}.json"
            write_atomic(self.outbox_dir / name, json.dumps(payload).encode("utf-8"))
        except OSError as error:
            _log.info("could not keep telemetry batch: %s", error)
