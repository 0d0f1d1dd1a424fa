"""``backtestr version``, ``paths``, ``self-test``, ``settings`` and ``telemetry`` commands."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from backtestr.cli import cli, main


def _run(home, *args: str, env: dict[str, str] | None = None):
    main_env = {"DO_NOT_TRACK": ""} | (env or {})
    result = CliRunner().invoke(cli, ["--home", str(home), *args], env=main_env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


@pytest.fixture(autouse=True)
def _commands() -> None:
    from backtestr.cli import _register_commands

    _register_commands()


def test_version_json_has_every_field(tmp_path):
    data = json.loads(_run(tmp_path, "version", "--json").output)
    assert set(data) == {"version", "build_number", "commit", "build_date", "channel", "display"}
    assert data["display"].startswith(data["version"] + " (build ")


def test_version_prints_the_display_line(tmp_path):
    first = _run(tmp_path, "version").output.splitlines()[0]
    assert first.startswith("BackTestr ")
    assert " (build " in first


def test_paths_lists_every_location_under_the_home(tmp_path):
    data = json.loads(_run(tmp_path, "paths", "--json").output)
    assert data["home"] == str(tmp_path.resolve())
    for name in ("settings", "cache", "crash_reports", "versions", "telemetry"):
        assert data[name].startswith(str(tmp_path.resolve()))


def test_self_test_passes(tmp_path):
    result = _run(tmp_path, "self-test")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert [line.split()[:2] for line in lines[:3]] == [
        ["ok", "modules"],
        ["ok", "numpy"],
        ["ok", "jit"],
    ]
    assert lines[-1].startswith("self-test ok")


def test_telemetry_is_off_until_turned_on(tmp_path):
    assert _run(tmp_path, "telemetry", "status").output.strip() == "off"
    _run(tmp_path, "telemetry", "on")
    assert _run(tmp_path, "telemetry", "status").output.strip() == "on"
    on_but_dnt = _run(tmp_path, "telemetry", "status", env={"DO_NOT_TRACK": "1"})
    assert on_but_dnt.output.strip() == "off"
    _run(tmp_path, "telemetry", "off")
    assert _run(tmp_path, "telemetry", "status").output.strip() == "off"


def test_telemetry_show_prints_local_metrics(tmp_path):
    assert json.loads(_run(tmp_path, "telemetry", "show").output) == {}


def test_settings_set_then_show(tmp_path):
    _run(tmp_path, "settings", "set", "update.channel", "beta")
    data = json.loads(_run(tmp_path, "settings", "show").output)
    assert data["update"]["channel"] == "beta"


def test_bad_setting_is_a_one_line_error_with_a_suggestion(tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--home", str(tmp_path), "settings", "set", "update.chanel", "beta"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "Did you mean 'channel'?" in err


def test_crash_upload_without_consent_says_how_to_allow_it(tmp_path):
    output = _run(tmp_path, "crashes", "upload").output
    assert "crash_upload_consent true" in output
