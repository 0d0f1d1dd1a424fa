"""Crash reports from real child processes that crash, and uploads to a real local server."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from backtestr.app.crash import CrashReporter, scrub
from backtestr.app.http import UrllibClient


def _run_child(crash_dir: Path, body: str, home: Path) -> subprocess.CompletedProcess[str]:
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from backtestr.app.crash import CrashReporter
        reporter = CrashReporter(Path({str(crash_dir)!r}), "1.2.3", home=Path({str(home)!r}),
                                 user="alice")
        reporter.start()
        """
    ) + textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )


def _reports(crash_dir: Path) -> list[dict[str, object]]:
    return [json.loads(p.read_text()) for p in sorted(crash_dir.glob("crash-*.json"))]


def test_uncaught_exception_in_the_main_thread_is_saved_scrubbed(tmp_path):
    home = tmp_path / "alice-home"
    child = _run_child(
        tmp_path / "crashes",
        f"raise RuntimeError('cannot open {home}/secret/EURUSD.csv for alice')\n",
        home,
    )
    assert child.returncode != 0
    assert "RuntimeError" in child.stderr  # the previous hook still prints the traceback
    (report,) = _reports(tmp_path / "crashes")
    assert report["crash_type"] == "exception"
    assert report["message"] == "RuntimeError: cannot open ~/secret/EURUSD.csv for <user>"
    assert report["version"] == "1.2.3"
    assert report["thread_name"] == "MainThread"
    assert report["backtrace"]
    system = report["system_info"]
    assert isinstance(system, dict)
    assert system["cpu_count"] >= 1
    assert str(home) not in json.dumps(report)


def test_uncaught_exception_in_another_thread_names_the_thread(tmp_path):
    child = _run_child(
        tmp_path / "crashes",
        """
        import threading
        def work():
            raise ValueError("bad bar")
        t = threading.Thread(target=work, name="loader-7")
        t.start(); t.join()
        """,
        tmp_path,
    )
    assert child.returncode == 0  # a thread crash does not end the process
    (report,) = _reports(tmp_path / "crashes")
    assert report["thread_name"] == "loader-7"
    assert report["message"] == "ValueError: bad bar"
    frames = report["backtrace"]
    assert isinstance(frames, list)
    assert frames[-1]["function"] == "work"


def test_real_segfault_is_reported_at_the_next_start(tmp_path):
    crash_dir = tmp_path / "crashes"
    child = _run_child(crash_dir, "import ctypes\nctypes.string_at(0)\n", tmp_path)
    assert child.returncode != 0
    assert _reports(crash_dir) == []  # no Python runs inside a segfault
    reporter = CrashReporter(crash_dir, "1.2.3")
    reporter.start()
    reporter.stop()
    (report,) = _reports(crash_dir)
    assert report["crash_type"] == "segmentation_fault"
    assert "Segmentation fault" in str(report["message"])
    assert list(crash_dir.glob("fatal-*.log")) == []


def test_stop_restores_the_previous_hooks(tmp_path):
    before_sys, before_thread = sys.excepthook, __import__("threading").excepthook
    reporter = CrashReporter(tmp_path, "1.0.0")
    reporter.start()
    assert sys.excepthook is not before_sys
    reporter.stop()
    assert sys.excepthook is before_sys
    assert __import__("threading").excepthook is before_thread
    assert list(tmp_path.glob("fatal-*.log")) == []


def _saved_reports(tmp_path: Path, count: int) -> CrashReporter:
    reporter = CrashReporter(tmp_path / "crashes", "1.0.0")
    (tmp_path / "crashes").mkdir()
    for number in range(count):
        reporter.record_exception(KeyError(number), thread_name="MainThread")
    return reporter


def test_without_consent_nothing_is_uploaded(tmp_path, local_server):
    reporter = _saved_reports(tmp_path, 2)
    outcome = reporter.upload_pending(UrllibClient(), local_server.url + "crash", consent=False)
    assert (outcome.uploaded, outcome.kept) == (0, 2)
    assert local_server.requests == []


def test_accepted_reports_are_deleted_and_rejected_ones_kept(tmp_path, local_server):
    reporter = _saved_reports(tmp_path, 2)
    local_server.post_status = 503
    outcome = reporter.upload_pending(UrllibClient(), local_server.url + "crash", consent=True)
    assert (outcome.uploaded, outcome.kept) == (0, 2)
    assert len(reporter.pending()) == 2
    local_server.post_status = 200
    outcome = reporter.upload_pending(UrllibClient(), local_server.url + "crash", consent=True)
    assert (outcome.uploaded, outcome.kept) == (2, 0)
    assert reporter.pending() == []
    received = json.loads(local_server.requests[-1][2])
    assert received["message"].startswith("KeyError")


def test_unreachable_upload_server_keeps_reports(tmp_path, dead_url):
    reporter = _saved_reports(tmp_path, 1)
    outcome = reporter.upload_pending(UrllibClient(timeout_s=2), dead_url, consent=True)
    assert (outcome.uploaded, outcome.kept) == (0, 1)


def test_scrub_replaces_home_and_user_name():
    assert scrub("/home/bob/x.py by bob", Path("/home/bob"), "bob") == "~/x.py by <user>"
    assert scrub("bobcat", Path("/home/bob"), "bob") == "bobcat"


def test_ctrl_c_is_not_a_crash(tmp_path):
    child = _run_child(tmp_path / "crashes", "raise KeyboardInterrupt\n", tmp_path)
    assert child.returncode != 0
    assert _reports(tmp_path / "crashes") == []


def test_the_empty_fatal_log_of_a_running_app_is_left_alone(tmp_path):
    crash_dir = tmp_path / "crashes"
    running = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)"], stdin=subprocess.DEVNULL
    )
    try:
        crash_dir.mkdir()
        live_log = crash_dir / f"fatal-{running.pid}-abcd1234.log"
        live_log.write_text("")
        CrashReporter(crash_dir, "1.0.0").collect_fatal_logs()
        assert live_log.exists()
    finally:
        running.kill()
        running.wait()
    CrashReporter(crash_dir, "1.0.0").collect_fatal_logs()
    assert not live_log.exists()
