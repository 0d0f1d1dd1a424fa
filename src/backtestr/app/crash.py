"""Crash reports: uncaught exceptions in any thread and fatal signals, saved locally.

:meth:`CrashReporter.start` installs ``sys.excepthook`` and ``threading.excepthook`` (chaining
to the previous hooks, so tracebacks still print) and points ``faulthandler`` at a log file for
fatal signals (segfault, abort …), where no Python code can run. Each exception becomes a
``crash-<uuid>.json`` written atomically; a fatal-signal log left by a dead process is turned into
one the next time a reporter starts. Paths under the user's home and the user name are scrubbed.
Nothing leaves the machine unless :meth:`CrashReporter.upload_pending` is called with consent,
and a report is deleted only after the server accepted it.
"""

from __future__ import annotations

import contextlib
import faulthandler
import getpass
import json
import logging
import os
import platform
import re
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TextIO

from backtestr.app._files import write_atomic
from backtestr.app.http import HttpClient

__all__ = ["CrashReport", "CrashReporter", "StackFrame", "UploadOutcome", "scrub"]

_log = logging.getLogger(__name__)
_FRAME_LINE = re.compile(r'File "(?P<file>.*)", line (?P<line>\d+) in (?P<function>.*)$')
_FATAL_KINDS = {
    "Segmentation fault": "segmentation_fault",
    "Aborted": "abort",
    "Bus error": "bus_error",
    "Floating-point exception": "floating_point_exception",
    "Illegal instruction": "illegal_instruction",
}


def scrub(text: str, home: Path | None = None, user: str | None = None) -> str:
    """Remove personal data: the home folder becomes ``~``, the user name ``<user>``."""
    home_text = str(home if home is not None else Path.home())
    if home_text not in {"", "/"}:
        text = text.replace(home_text, "~")
    name = user if user is not None else _user_name()
    if len(name) >= 3:  # a two-letter name would scrub ordinary words
        text = re.sub(rf"\b{re.escape(name)}\b", "<user>", text)
    return text


def _user_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no user entry (containers): nothing to scrub
        return ""


@dataclass(frozen=True)
class StackFrame:
    """One frame of a stack, innermost last."""

    function: str
    file: str
    line: int


@dataclass(frozen=True)
class CrashReport:
    """A crash as saved and uploaded (the seed's fields, without any user information)."""

    id: str
    timestamp: str
    version: str
    platform: dict[str, str]
    crash_type: str
    message: str
    backtrace: tuple[StackFrame, ...]
    thread_name: str | None
    system_info: dict[str, int | float | None]

    def to_json(self) -> dict[str, object]:
        """A JSON-ready mapping."""
        data = asdict(self)
        data["backtrace"] = [asdict(frame) for frame in self.backtrace]
        return data


@dataclass(frozen=True)
class UploadOutcome:
    """What :meth:`CrashReporter.upload_pending` did."""

    uploaded: int
    kept: int


def _platform_info() -> dict[str, str]:
    return {
        "os": sys.platform,
        "arch": platform.machine(),
        "version": platform.release(),
        "python": platform.python_version(),
    }


def _system_info(started: float) -> dict[str, int | float | None]:
    total = available = None
    try:
        page = os.sysconf("SC_PAGE_SIZE")
        total = page * os.sysconf("SC_PHYS_PAGES")
        available = page * os.sysconf("SC_AVPHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        pass  # not on this platform: the report just says unknown
    uptime = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    load = None
    if hasattr(os, "getloadavg"):
        try:
            load = os.getloadavg()[0]
        except OSError:
            load = None
    return {
        "total_memory_bytes": total,
        "available_memory_bytes": available,
        "cpu_count": os.cpu_count(),
        "load_average_1m": load,
        "system_uptime_s": uptime,
        "process_uptime_s": round(time.monotonic() - started, 3),
    }


def _owner_alive(log: Path) -> bool:
    """Whether the process that opened ``fatal-<pid>-….log`` still runs (``True`` if unsure)."""
    try:
        pid = int(log.name.split("-")[1])
    except (IndexError, ValueError):
        return False
    if sys.platform == "win32":
        return True  # no cheap liveness probe: keep the empty file, it costs nothing
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, but owned by someone else
    return True


class CrashReporter:
    """Saves crash reports in ``crash_dir`` while started.

    Parameters
    ----------
    crash_dir
        Where reports go (``AppPaths.crash_dir``).
    version
        The app version written into each report.
    home
        The user's home folder to scrub from paths (default: the real one).
    user
        The user name to scrub (default: the login name).
    clock
        Current UTC time, injected for deterministic tests.
    """

    def __init__(
        self,
        crash_dir: Path,
        version: str,
        *,
        home: Path | None = None,
        user: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.crash_dir = crash_dir
        self.version = version
        self.home = home if home is not None else Path.home()
        self.user = user
        self._clock = clock or (lambda: datetime.now(UTC))
        self._started_at = time.monotonic()
        self._previous_excepthook: Callable[..., object] | None = None
        self._previous_threading_hook: Callable[..., object] | None = None
        self._fatal_file: TextIO | None = None

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Install the hooks; turn fatal logs of earlier, dead processes into reports."""
        if self._fatal_file is not None:
            return
        try:
            self.crash_dir.mkdir(parents=True, exist_ok=True)
            self.collect_fatal_logs()
            path = self.crash_dir / f"fatal-{os.getpid()}-{uuid.uuid4().hex[:8]}.log"
            self._fatal_file = path.open("w", encoding="utf-8")
            faulthandler.enable(file=self._fatal_file, all_threads=True)
        except OSError as error:  # degrade quietly: no crash reports rather than no app
            _log.info("crash reporter could not start: %s", error)
        self._previous_excepthook = sys.excepthook
        self._previous_threading_hook = threading.excepthook
        sys.excepthook = self._on_exception
        threading.excepthook = self._on_thread_exception

    def stop(self) -> None:
        """Restore the previous hooks and close (and drop, if empty) the fatal-signal log."""
        if self._previous_excepthook is not None:
            sys.excepthook = self._previous_excepthook
            self._previous_excepthook = None
        if self._previous_threading_hook is not None:
            threading.excepthook = self._previous_threading_hook
            self._previous_threading_hook = None
        if self._fatal_file is not None:
            faulthandler.disable()
            path = Path(self._fatal_file.name)
            self._fatal_file.close()
            self._fatal_file = None
            if path.exists() and path.stat().st_size == 0:
                path.unlink()

    # -- hooks ------------------------------------------------------------------------------

    def _on_exception(
        self,
        kind: type[BaseException],
        value: BaseException,
        trace: TracebackType | None,
    ) -> None:
        if not issubclass(kind, KeyboardInterrupt):  # Ctrl+C is the user's choice, not a crash
            self.record_exception(value, thread_name=threading.current_thread().name)
        if self._previous_excepthook is not None:
            self._previous_excepthook(kind, value, trace)

    def _on_thread_exception(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            name = args.thread.name if args.thread is not None else None
            self.record_exception(args.exc_value, thread_name=name)
        if self._previous_threading_hook is not None:
            self._previous_threading_hook(args)

    # -- reports ----------------------------------------------------------------------------

    def record_exception(self, error: BaseException, *, thread_name: str | None) -> Path | None:
        """Save a report for ``error``; ``None`` if it could not be written."""
        frames = tuple(
            StackFrame(
                function=frame.name,
                file=self._scrub(frame.filename),
                line=frame.lineno or 0,
            )
            for frame in traceback.extract_tb(error.__traceback__)
        )
        message = f"{type(error).__qualname__}: {error}"
        return self._save("exception", message, frames, thread_name)

    def _scrub(self, text: str) -> str:
        return scrub(text, self.home, self.user)

    def _save(
        self,
        crash_type: str,
        message: str,
        frames: tuple[StackFrame, ...],
        thread_name: str | None,
    ) -> Path | None:
        report = CrashReport(
            id=str(uuid.uuid4()),
            timestamp=self._clock().isoformat(),
            version=self.version,
            platform=_platform_info(),
            crash_type=crash_type,
            message=self._scrub(message),
            backtrace=frames,
            thread_name=thread_name,
            system_info=_system_info(self._started_at),
        )
        path = self.crash_dir / f"crash-{report.id}.json"
        try:
            write_atomic(path, json.dumps(report.to_json(), indent=2).encode("utf-8"))
        except OSError as error:
            _log.info("could not save crash report: %s", error)
            return None
        return path

    def collect_fatal_logs(self) -> list[Path]:
        """Turn non-empty fatal-signal logs of other processes into crash reports."""
        own = Path(self._fatal_file.name).name if self._fatal_file is not None else None
        created = []
        for log in sorted(self.crash_dir.glob("fatal-*.log")):
            if log.name == own:
                continue
            text = log.read_text(encoding="utf-8", errors="replace")
            if text.strip():
                saved = self._report_from_fatal_log(text)
                if saved is not None:
                    created.append(saved)
            elif _owner_alive(log):
                continue  # another running BackTestr's log: it must stay where faulthandler writes
            log.unlink(missing_ok=True)
        return created

    def _report_from_fatal_log(self, text: str) -> Path | None:
        lines = text.splitlines()
        first = next((line for line in lines if line.startswith("Fatal Python error")), "")
        kind = "fatal_signal"
        for name, code in _FATAL_KINDS.items():
            if name in first:
                kind = code
        # faulthandler prints the innermost frame first; reports list it last like tracebacks
        frames: list[StackFrame] = []
        thread_name = None
        for line in lines:
            stripped = line.strip()
            if stripped.startswith(("Current thread", "Thread 0x")) and frames:
                break  # only the crashing thread's stack
            if stripped.startswith("Current thread"):
                thread_name = "current"
            match = _FRAME_LINE.search(stripped)
            if match:
                frames.append(
                    StackFrame(
                        match["function"].strip(),
                        self._scrub(match["file"]),
                        int(match["line"]),
                    )
                )
        message = first or "Fatal signal"
        return self._save(kind, message, tuple(reversed(frames)), thread_name)

    def pending(self) -> list[Path]:
        """Saved reports not yet uploaded, oldest first."""
        if not self.crash_dir.is_dir():
            return []
        return sorted(self.crash_dir.glob("crash-*.json"), key=lambda p: p.stat().st_mtime)

    def upload_pending(self, http: HttpClient, url: str, *, consent: bool) -> UploadOutcome:
        """Send pending reports, only with ``consent``; delete each only once it is accepted.

        Reports the server did not accept (or could not receive) stay for a later try.
        """
        reports = self.pending()
        if not consent:
            return UploadOutcome(uploaded=0, kept=len(reports))
        uploaded = 0
        for path in reports:
            try:
                status = http.post(url, path.read_bytes(), "application/json")
            except OSError as error:
                _log.info("crash upload failed: %s", error)
                break  # offline: keep the rest for the next try
            if 200 <= status < 300:
                path.unlink(missing_ok=True)
                uploaded += 1
        return UploadOutcome(uploaded=uploaded, kept=len(reports) - uploaded)
