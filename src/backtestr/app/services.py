"""Start and stop the life-cycle services together, as the app's entry points need them.

``with LifeCycle.from_settings(paths, http) as services:`` installs the crash reporter, starts
the consented telemetry sender and the background update checks, and on exit stops them in
reverse order. Each piece degrades quietly: a service that cannot start is skipped, and nothing
here can make a backtest fail (STYLE.md rule 15).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from types import TracebackType

from backtestr.app.crash import CrashReporter
from backtestr.app.http import HttpClient
from backtestr.app.layout import AppPaths
from backtestr.app.settings import Settings, load_settings
from backtestr.app.telemetry import Telemetry
from backtestr.app.updater import UpdateInfo, Updater, UpdateService
from backtestr.app.version import current_version
from backtestr.errors import BacktestrError

__all__ = ["LifeCycle"]

_log = logging.getLogger(__name__)


class LifeCycle:
    """The crash reporter, telemetry and update service of one running app.

    Parameters
    ----------
    crash_reporter, telemetry, update_service
        The services; any may be ``None`` (not wanted, or could not be set up).
    """

    def __init__(
        self,
        crash_reporter: CrashReporter | None,
        telemetry: Telemetry | None,
        update_service: UpdateService | None,
    ) -> None:
        self.crash_reporter = crash_reporter
        self.telemetry = telemetry
        self.update_service = update_service

    @classmethod
    def from_settings(
        cls,
        paths: AppPaths,
        http: HttpClient,
        *,
        settings: Settings | None = None,
        on_update_available: Callable[[UpdateInfo], None] | None = None,
        check_updates: bool = True,
        env: Mapping[str, str] | None = None,
    ) -> LifeCycle:
        """Build the services the user's settings allow (unreadable settings: the defaults)."""
        if settings is None:
            try:
                settings = load_settings(paths.settings_file)
            except BacktestrError as error:
                _log.info("settings unreadable, using defaults: %s", error)
                settings = Settings()
        version = str(current_version().version)
        crash = CrashReporter(paths.crash_dir, version)
        telemetry = Telemetry(
            paths.telemetry_dir,
            consent=settings.telemetry_consent,
            http=http,
            url=settings.telemetry_url,
            version=version,
            env=os.environ if env is None else env,
        )
        service = None
        if check_updates:
            updater = Updater(paths, settings.update, http)
            service = UpdateService(updater, on_update_available or (lambda info: None))
        return cls(crash, telemetry, service)

    def start(self) -> None:
        """Start every service; one that fails to start is logged and left out."""
        for name, start in (
            ("crash reporter", self.crash_reporter.start if self.crash_reporter else None),
            ("telemetry", self.telemetry.start if self.telemetry else None),
            ("update service", self.update_service.start if self.update_service else None),
        ):
            if start is None:
                continue
            try:
                start()
            except Exception as error:  # degrade quietly, never break the app
                _log.info("%s did not start: %s", name, error)

    def stop(self) -> None:
        """Stop every service, in reverse order of starting."""
        for name, stop in (
            ("update service", self.update_service.stop if self.update_service else None),
            ("telemetry", self.telemetry.stop if self.telemetry else None),
            ("crash reporter", self.crash_reporter.stop if self.crash_reporter else None),
        ):
            if stop is None:
                continue
            try:
                stop()
            except Exception as error:  # degrade quietly, never break the app
                _log.info("%s did not stop cleanly: %s", name, error)

    def __enter__(self) -> LifeCycle:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()
