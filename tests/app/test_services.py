"""Life-cycle services start and stop together and degrade quietly."""

from __future__ import annotations

import sys
import threading
import time

from backtestr.app.http import UrllibClient
from backtestr.app.layout import AppPaths
from backtestr.app.services import LifeCycle
from backtestr.app.settings import Settings, UpdateConfig


def test_services_start_and_stop_without_a_network(tmp_path, dead_url, local_server):
    paths = AppPaths(tmp_path / "home")
    settings = Settings(update=UpdateConfig(server_url=dead_url), telemetry_consent=False)
    before = sys.excepthook
    with LifeCycle.from_settings(
        paths, UrllibClient(timeout_s=1), settings=settings, env={}
    ) as services:
        assert sys.excepthook is not before  # crash reporter installed
        assert services.telemetry is not None
        services.telemetry.track_screen_view("chart")
        assert services.update_service is not None
        deadline = time.monotonic() + 10
        while services.update_service.last_error is None and time.monotonic() < deadline:
            time.sleep(0.01)
    assert sys.excepthook is before
    assert services.update_service.last_error is not None  # the check failed, quietly
    assert local_server.requests == []
    assert not any(t.name.startswith("backtestr-") for t in threading.enumerate())


def test_unreadable_settings_fall_back_to_defaults(tmp_path):
    paths = AppPaths(tmp_path / "home")
    paths.home.mkdir(parents=True)
    paths.settings_file.write_text("{broken")
    services = LifeCycle.from_settings(paths, UrllibClient(), check_updates=False, env={})
    assert services.update_service is None
    assert services.telemetry is not None
    assert not services.telemetry.enabled
