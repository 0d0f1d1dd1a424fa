"""``backtestr run`` and ``backtestr runs``: a strategy file on stored data, saved and shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backtestr.cli import EXIT_CONFIG_ERROR, main
from backtestr.cli.demo import write_ticks_csv
from backtestr.data.sample import sample_ticks
from backtestr.strategy.samples import MOVING_AVERAGE_CROSS

REQUIRED = (
    "total_return_pct",
    "total_trades",
    "win_rate",
    "profit_factor",
    "sharpe_ratio",
    "max_drawdown_pct",
    "final_equity",
)


def cli(home: Path, *args: str) -> int:
    try:
        main(["--home", str(home), *args])
    except SystemExit as stop:
        return int(stop.code or 0)
    return 0


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("run-cli")
    csv = folder / "EURUSD_ticks.csv"
    write_ticks_csv(sample_ticks(weeks=1, ticks_per_second=0.1, seed=3), csv)
    assert cli(folder / "home", "data", "import", str(csv), "--symbol", "EURUSD") == 0
    return folder / "home"


@pytest.fixture
def strategy(tmp_path: Path) -> Path:
    path = tmp_path / "cross.py"
    path.write_text(MOVING_AVERAGE_CROSS)
    return path


def test_run_prints_json_stats_and_saves_the_run(
    home: Path, strategy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    code = cli(
        home, "run", str(strategy), "--symbol", "EURUSD", "--commission", "3.5/lot",
        "--leverage", "30", "--param", "fast=8", "--json",
    )  # fmt: skip
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    for key in REQUIRED:
        assert key in payload
    assert 0.0 <= payload["win_rate"] <= 1.0
    assert payload["total_trades"] > 5
    assert Path(payload["saved_to"]).is_dir()
    assert cli(home, "runs", "show", payload["run_id"], "--json") == 0
    manifest = json.loads(capsys.readouterr().out)
    assert manifest["parameters"] == {"fast": 8, "slow": 20}
    assert manifest["settings"]["commission"] == "3.5/lot"
    assert manifest["stats"]["final_equity"] == payload["final_equity"]
    assert manifest["data"]["EURUSD"]["sha256"]


def test_rerunning_gives_the_same_numbers(
    home: Path, strategy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = []
    for _ in range(2):
        capsys.readouterr()
        assert (
            cli(home, "run", str(strategy), "--symbol", "EURUSD", "--mode", "ticks", "--json") == 0
        )
        payload = json.loads(capsys.readouterr().out)
        report = Path(payload["report"]).read_text(encoding="utf-8")
        assert "data:image/png;base64" in report  # the equity chart, embedded
        assert "Sharpe ratio" in report
        where = ("run_id", "saved_to", "report")  # locations, not results
        results.append({k: v for k, v in payload.items() if k not in where})
    assert results[0] == results[1]


def test_runs_list_and_export(
    home: Path, strategy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(home, "run", str(strategy), "--symbol", "EURUSD", "--json") == 0
    run_id = json.loads(capsys.readouterr().out)["run_id"]
    assert cli(home, "runs", "list") == 0
    assert "cross.py" in capsys.readouterr().out
    out = tmp_path / "export"
    assert cli(home, "runs", "export", run_id, "--out", str(out)) == 0
    assert {p.name for p in out.iterdir()} >= {
        "manifest.json", "equity.csv", "trades.csv", "orders.csv",
    }  # fmt: skip


def test_unknown_parameter_is_a_config_error_with_a_suggestion(
    home: Path, strategy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli(home, "run", str(strategy), "--symbol", "EURUSD", "--param", "fsat=3")
    assert code == EXIT_CONFIG_ERROR
    assert "Did you mean 'fast'" in capsys.readouterr().err


def test_strategy_error_names_the_line(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("def handle_data(context, data):\n    undefined_name + 1\n")
    code = cli(home, "run", str(broken), "--symbol", "EURUSD")
    assert code != 0
    err = capsys.readouterr().err
    assert "line 2" in err
    assert "NameError" in err


def test_report_writes_a_self_contained_html_file(
    home: Path, strategy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(home, "run", str(strategy), "--symbol", "EURUSD", "--json") == 0
    run_id = json.loads(capsys.readouterr().out)["run_id"]
    out = tmp_path / "report.html"
    assert cli(home, "report", run_id, "--out", str(out)) == 0
    page = out.read_text(encoding="utf-8")
    assert "data:image/png;base64" in page
    assert "http://" not in page  # opens offline
    assert "https://" not in page
    assert cli(home, "report", "no-such-run", "--out", str(out)) == 3
