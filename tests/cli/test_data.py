"""The ``backtestr data`` commands: output, exit codes, and errors rendered for people."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from backtestr.cli import EXIT_CONFIG_ERROR, EXIT_DATA_ERROR, main
from tests.helpers import real_file, write_csv

HEADER = "timestamp,bid,ask,bid_volume,ask_volume\n"


def ticks_csv(path: Path, minutes: int = 120) -> Path:
    rows = []
    for minute in range(minutes):
        stamp = pd.Timestamp("2019-02-04", tz="UTC") + pd.Timedelta(minutes=minute, seconds=30)
        rows.append(f"{stamp:%Y-%m-%d %H:%M:%S}.000,1.1000,1.1002,1,1\n")
    return write_csv(path, HEADER + "".join(rows))


def run(home: Path, *args: str) -> int:
    try:
        main(["--home", str(home), *args])
    except SystemExit as stop:
        return int(stop.code or 0)
    return 0


def test_import_list_info_bars_and_remove(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    source = ticks_csv(tmp_path / "EURUSD.csv")
    assert run(home, "data", "import", str(source), "--symbol", "EURUSD", "--json") == 0
    summary = json.loads(capsys.readouterr().out)[0]
    assert (summary["rows_read"], summary["kind"], summary["first"]) == (
        120,
        "ticks",
        "2019-02-04T00:00:30Z",
    )

    assert run(home, "data", "list", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed == [
        {
            "symbol": "EURUSD",
            "kind": "ticks",
            "side": "quote",
            "rows": 120,
            "first": "2019-02-04T00:00:30Z",
            "last": "2019-02-04T01:59:30Z",
        }
    ]

    assert run(home, "data", "info", "EURUSD", "--json") == 0
    info = json.loads(capsys.readouterr().out)
    assert info["instrument"]["pip_size"] == 0.0001
    assert len(info["imports"]) == 1

    out = tmp_path / "h1.csv"
    assert (
        run(home, "data", "bars", "EURUSD", "-t", "H1", "--to", "2019-02-04", "-o", str(out)) == 0
    )
    exported = pd.read_csv(out)
    assert list(exported.columns) == ["time", "open", "high", "low", "close", "volume"]
    assert exported["time"].tolist() == ["2019-02-04T00:00:00Z", "2019-02-04T01:00:00Z"]

    assert run(home, "data", "remove", "EURUSD", "--yes") == 0
    capsys.readouterr()
    assert run(home, "data", "list", "--json") == 0
    assert json.loads(capsys.readouterr().out) == []


def test_bad_file_exits_non_zero_with_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    bad = write_csv(
        tmp_path / "EURUSD.csv",
        "timestamp,open,high,low,close\n2019-02-04 00:00,1.0850,1.0841,1.0850,1.0845\n",
    )
    assert run(home, "data", "import", str(bad), "--symbol", "EURUSD") == EXIT_DATA_ERROR
    error = capsys.readouterr().err
    assert "Invalid data format: EURUSD.csv line 2" in error
    assert "high 1.0841 is below low 1.085" in error


def test_unknown_timeframe_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    source = ticks_csv(tmp_path / "EURUSD.csv", minutes=3)
    assert run(home, "data", "import", str(source), "-s", "EURUSD") == 0
    code = run(home, "data", "bars", "EURUSD", "-t", "M0", "-o", str(tmp_path / "x.csv"))
    assert code == EXIT_CONFIG_ERROR
    assert "Unknown timeframe 'M0'" in capsys.readouterr().err


def test_export_to_an_unknown_extension_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    source = ticks_csv(tmp_path / "EURUSD.csv", minutes=3)
    assert run(home, "data", "import", str(source), "-s", "EURUSD") == 0
    code = run(home, "data", "bars", "EURUSD", "-t", "M1", "-o", str(tmp_path / "x.xlsx"))
    assert code == EXIT_CONFIG_ERROR
    assert "must end in .csv or .parquet" in capsys.readouterr().err


def test_home_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BACKTESTR_HOME", str(tmp_path / "env-home"))
    main(["data", "list", "--json"])
    assert capsys.readouterr().out.strip() == "[]"
    assert (tmp_path / "env-home" / "catalog.duckdb").exists()


def test_tables_are_not_cut_short_when_output_is_piped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    source = ticks_csv(tmp_path / "EURUSD.csv", minutes=3)
    assert run(home, "data", "import", str(source), "-s", "EURUSD") == 0
    assert "…" not in capsys.readouterr().out
    assert run(home, "data", "list") == 0
    listed = capsys.readouterr().out
    assert "2019-02-04T00:00:30Z" in listed
    assert "2019-02-04T00:02:30Z" in listed
    assert run(home, "data", "info", "EURUSD") == 0
    info = capsys.readouterr().out
    assert "…" not in info
    assert "17:00 America/New_York" in info


def test_bars_for_a_range_without_data_warn_and_say_what_is_stored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    source = ticks_csv(tmp_path / "EURUSD.csv", minutes=3)
    assert run(home, "data", "import", str(source), "-s", "EURUSD") == 0
    capsys.readouterr()
    out = tmp_path / "h1.csv"
    assert (
        run(home, "data", "bars", "EURUSD", "-t", "H1", "--from", "2030-01-01", "-o", str(out)) == 0
    )
    captured = capsys.readouterr()
    assert "Wrote 0 H1 bid bars" in captured.out
    assert "Warning: no H1 bid bars of EURUSD in that range" in captured.err
    assert "ticks quote 2019-02-04T00:00:30Z → 2019-02-04T00:02:30Z" in captured.err
    assert pd.read_csv(out).empty


def test_import_summary_says_where_the_gaps_are(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = real_file("backtesting_py/EURUSD.csv")  # hourly bars with two holiday closures
    assert run(tmp_path / "home", "data", "import", str(source), "-s", "EURUSD") == 0
    out = capsys.readouterr().out
    assert "2 (at: 2017-12-22T21:00:00Z → 2017-12-25T22:00:00Z, " in out
    assert "2017-12-29T21:00:00Z → 2018-01-01T22:00:00Z)" in out


def test_an_internal_error_leaves_a_crash_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from backtestr.data.store import Store

    def broken(self: Store, symbol: str | None = None) -> list[object]:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(Store, "datasets", broken)
    home = tmp_path / "home"
    assert run(home, "data", "list") == 1
    err = capsys.readouterr().err
    assert "internal error" in err
    reports = list(home.rglob("crash-*.json"))
    assert len(reports) == 1
    assert "simulated bug" in reports[0].read_text()


def test_fx_pair_keeps_its_built_in_specification_with_matching_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    source = ticks_csv(tmp_path / "EURUSD.csv", minutes=3)
    assert run(home, "data", "import", str(source), "-s", "EURUSD", "--currency", "USD") == 0
    capsys.readouterr()
    assert run(home, "data", "info", "EURUSD", "--json") == 0
    spec = json.loads(capsys.readouterr().out)["instrument"]
    assert (spec["pip_size"], spec["contract_size"], spec["asset_class"]) == (0.0001, 1e5, "fx")


def test_fx_pair_refuses_options_that_contradict_its_specification(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    source = ticks_csv(tmp_path / "EURUSD.csv", minutes=3)
    code = run(home, "data", "import", str(source), "-s", "EURUSD", "--pip-size", "0.01")
    assert code == EXIT_CONFIG_ERROR
    assert "--pip-size 0.01 (it is 0.0001)" in capsys.readouterr().err
    assert run(home, "data", "list", "--json") == 0
    assert json.loads(capsys.readouterr().out) == []
