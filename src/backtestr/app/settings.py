"""User settings of the life-cycle services: typed, frozen, validated once when read.

Stored as JSON in the data home (``AppPaths.settings_file``). Unknown or mistyped fields are
refused with a :class:`~backtestr.errors.ConfigError` that names the field and the closest known
one; a missing file means the defaults, in which every consent is off.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from backtestr.app._files import write_atomic
from backtestr.app.version import ReleaseChannel
from backtestr.errors import ConfigError, did_you_mean

__all__ = ["DEFAULT_UPDATE_URL", "Settings", "UpdateConfig", "load_settings", "save_settings"]

DEFAULT_UPDATE_URL = "https://updates.backtestr.dev/"
DEFAULT_TELEMETRY_URL = "https://telemetry.backtestr.dev/v1/events"
DEFAULT_CRASH_URL = "https://telemetry.backtestr.dev/v1/crashes"

_Scalar = bool | int | float | str | None


@dataclass(frozen=True)
class UpdateConfig:
    """How the update client behaves.

    Parameters
    ----------
    check_interval_hours
        Hours between background checks (> 0).
    auto_download
        Download (and verify) an available update in the background.
    auto_install
        Also install it; off by default so that nothing changes under a running backtest.
    channel
        Release channel followed: ``stable`` also accepts nothing else, ``beta`` accepts beta and
        stable, and so on.
    server_url
        Base URL of the update repository (``metadata/`` and ``targets/`` below it).
    """

    check_interval_hours: float = 24.0
    auto_download: bool = True
    auto_install: bool = False
    channel: ReleaseChannel = ReleaseChannel.STABLE
    server_url: str = DEFAULT_UPDATE_URL

    def __post_init__(self) -> None:
        if not self.check_interval_hours > 0:
            raise ConfigError(
                f"update.check_interval_hours must be > 0, got {self.check_interval_hours}"
            )
        if not self.server_url.startswith(("http://", "https://")):
            raise ConfigError(f"update.server_url must be an http(s) URL, got {self.server_url!r}")


@dataclass(frozen=True)
class Settings:
    """All user settings of the life-cycle services.

    ``None`` for a consent means the user was not asked yet, which counts as *no*.
    """

    update: UpdateConfig = field(default_factory=UpdateConfig)
    telemetry_consent: bool | None = None
    telemetry_url: str = DEFAULT_TELEMETRY_URL
    crash_upload_consent: bool | None = None
    crash_upload_url: str = DEFAULT_CRASH_URL

    def to_json(self) -> dict[str, object]:
        """A JSON-ready mapping; :func:`settings_from_json` reads it back unchanged."""
        update = {f.name: getattr(self.update, f.name) for f in dataclasses.fields(UpdateConfig)}
        update["channel"] = self.update.channel.value
        return {
            "update": update,
            "telemetry_consent": self.telemetry_consent,
            "telemetry_url": self.telemetry_url,
            "crash_upload_consent": self.crash_upload_consent,
            "crash_upload_url": self.crash_upload_url,
        }

    def with_value(self, key: str, text: str) -> Settings:
        """A copy with the dotted ``key`` (``update.channel``) set from command-line ``text``."""
        data = self.to_json()
        head, _, tail = key.partition(".")
        if tail:
            section = data.get(head)
            if not isinstance(section, dict):
                raise ConfigError(f"Unknown setting {key!r}." + did_you_mean(key, _all_keys()))
            section[tail] = _parse_text(text)
        else:
            data[head] = _parse_text(text)
        return settings_from_json(data)


def _all_keys() -> list[str]:
    keys = [f"update.{f.name}" for f in dataclasses.fields(UpdateConfig)]
    return keys + [f.name for f in dataclasses.fields(Settings) if f.name != "update"]


def _parse_text(text: str) -> _Scalar:
    lowered = text.strip().lower()
    if lowered in {"true", "yes", "on"}:
        return True
    if lowered in {"false", "no", "off"}:
        return False
    if lowered in {"null", "none", "unset"}:
        return None
    try:
        return float(text) if "." in text else int(text)
    except ValueError:
        return text


def _check_type(name: str, value: object, expected: tuple[type, ...]) -> None:
    # bool is an int subclass: a boolean where a number is expected is a mistake, not a 1
    ok = not (isinstance(value, bool) and bool not in expected) and isinstance(value, expected)
    if not ok:
        allowed = " or ".join("null" if t is type(None) else t.__name__ for t in expected)
        raise ConfigError(f"Setting {name!r} must be {allowed}, got {value!r}")


def _reject_unknown(where: str, data: dict[str, object], known: list[str]) -> None:
    for name in data:
        if name not in known:
            raise ConfigError(
                f"Unknown setting '{where}{name}'; known: {', '.join(known)}."
                + did_you_mean(name, known)
            )


def settings_from_json(data: object) -> Settings:
    """Validate a parsed JSON document into :class:`Settings` (``ConfigError`` when invalid)."""
    if not isinstance(data, dict):
        raise ConfigError("Settings must be a JSON object")
    top = cast(dict[str, object], data)
    _reject_unknown("", top, [f.name for f in dataclasses.fields(Settings)])
    update_data = top.get("update", {})
    if not isinstance(update_data, dict):
        raise ConfigError("Setting 'update' must be an object")
    update_raw = cast(dict[str, object], update_data)
    _reject_unknown("update.", update_raw, [f.name for f in dataclasses.fields(UpdateConfig)])
    defaults = UpdateConfig()
    interval = update_raw.get("check_interval_hours", defaults.check_interval_hours)
    _check_type("update.check_interval_hours", interval, (int, float))
    flags: dict[str, bool] = {}
    for name in ("auto_download", "auto_install"):
        value = update_raw.get(name, getattr(defaults, name))
        _check_type(f"update.{name}", value, (bool,))
        flags[name] = bool(value)
    channel = update_raw.get("channel", defaults.channel.value)
    _check_type("update.channel", channel, (str,))
    server_url = update_raw.get("server_url", defaults.server_url)
    _check_type("update.server_url", server_url, (str,))
    update = UpdateConfig(
        check_interval_hours=float(cast(float, interval)),
        auto_download=flags["auto_download"],
        auto_install=flags["auto_install"],
        channel=ReleaseChannel.parse(cast(str, channel)),
        server_url=cast(str, server_url),
    )
    base = Settings()
    values: dict[str, object] = {}
    for name in ("telemetry_consent", "crash_upload_consent"):
        value = top.get(name, getattr(base, name))
        _check_type(name, value, (bool, type(None)))
        values[name] = value
    for name in ("telemetry_url", "crash_upload_url"):
        value = top.get(name, getattr(base, name))
        _check_type(name, value, (str,))
        values[name] = value
    return Settings(
        update=update,
        telemetry_consent=cast(bool | None, values["telemetry_consent"]),
        telemetry_url=cast(str, values["telemetry_url"]),
        crash_upload_consent=cast(bool | None, values["crash_upload_consent"]),
        crash_upload_url=cast(str, values["crash_upload_url"]),
    )


def load_settings(path: Path) -> Settings:
    """Read the settings file; the defaults when it does not exist."""
    if not path.exists():
        return Settings()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ConfigError(
            f"Cannot read settings {path}: {error}. Fix or delete the file to start from defaults."
        ) from error
    return settings_from_json(data)


def save_settings(path: Path, settings: Settings) -> None:
    """Write the settings atomically (readers never see half a file)."""
    text = json.dumps(settings.to_json(), indent=2, sort_keys=True) + "\n"
    write_atomic(path, text.encode("utf-8"))
