"""Typed, frozen, validated settings stored as JSON."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backtestr.app.settings import (
    Settings,
    UpdateConfig,
    load_settings,
    save_settings,
    settings_from_json,
)
from backtestr.app.version import ReleaseChannel
from backtestr.errors import ConfigError


def test_missing_file_gives_defaults_with_every_consent_off(tmp_path):
    settings = load_settings(tmp_path / "settings.json")
    assert settings == Settings()
    assert settings.telemetry_consent is None
    assert settings.crash_upload_consent is None
    assert settings.update.check_interval_hours == 24
    assert settings.update.auto_download
    assert not settings.update.auto_install


def test_settings_round_trip_through_the_file(tmp_path):
    path = tmp_path / "settings.json"
    settings = Settings(
        update=UpdateConfig(channel=ReleaseChannel.BETA, server_url="http://127.0.0.1:1/"),
        telemetry_consent=True,
    )
    save_settings(path, settings)
    assert load_settings(path) == settings


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().telemetry_consent = True  # type: ignore[misc]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"telemetry": True}, "Unknown setting 'telemetry'"),
        ({"update": {"chanel": "beta"}}, "Did you mean 'channel'"),
        ({"update": {"auto_install": "yes"}}, "must be bool"),
        ({"update": {"check_interval_hours": 0}}, "must be > 0"),
        ({"update": {"check_interval_hours": True}}, "must be int or float"),
        ({"update": {"server_url": "ftp://x"}}, "http"),
        ({"telemetry_consent": 1}, "must be bool or null"),
        ([], "JSON object"),
    ],
)
def test_invalid_settings_are_refused_with_a_clear_message(document, message):
    with pytest.raises(ConfigError, match=message):
        settings_from_json(document)


def test_unreadable_file_says_how_to_recover(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text("{oops")
    with pytest.raises(ConfigError, match="Fix or delete the file"):
        load_settings(path)


def test_with_value_parses_command_line_text():
    settings = Settings().with_value("update.auto_install", "true")
    settings = settings.with_value("update.check_interval_hours", "6")
    settings = settings.with_value("crash_upload_consent", "yes")
    assert settings.update.auto_install
    assert settings.update.check_interval_hours == 6
    assert settings.crash_upload_consent is True
    assert json.loads(json.dumps(settings.to_json()))["update"]["channel"] == "stable"


_urls = st.sampled_from(["http://127.0.0.1:8080/", "https://updates.example.org/repo/"])


@given(
    interval=st.floats(min_value=0.01, max_value=1e4, allow_nan=False),
    flags=st.tuples(st.booleans(), st.booleans()),
    channel=st.sampled_from(list(ReleaseChannel)),
    url=_urls,
    consents=st.tuples(*(st.sampled_from([None, True, False]),) * 2),
)
def test_any_valid_settings_round_trip_through_json(interval, flags, channel, url, consents):
    settings = Settings(
        update=UpdateConfig(interval, flags[0], flags[1], channel, url),
        telemetry_consent=consents[0],
        crash_upload_consent=consents[1],
    )
    assert settings_from_json(json.loads(json.dumps(settings.to_json()))) == settings
