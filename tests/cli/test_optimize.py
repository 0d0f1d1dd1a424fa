"""``backtestr optimize``, ``backtestr sweeps`` and ``backtestr runs rerun``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backtestr.cli import EXIT_CONFIG_ERROR, main
from backtestr.data.store import Store
from backtestr.strategy.samples import MOVING_AVERAGE_CROSS
from tests.optimize.optimize_builders import stored_home

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SWEEP = ("--symbol", "EURUSD", "--param", "fast=5:15:5", "--param", "slow=30,40",
         "--constraint", "fast < slow", "--objective", "total_return_pct")  # fmt: skip


def cli(home: Path, *args: str) -> int:
    try:
        main(["--home", str(home), *args])
    except SystemExit as stop:
        return int(stop.code or 0)
    return 0


@pytest.fixture(scope="module")
def strategy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("strategy") / "cross.py"
    path.write_text(MOVING_AVERAGE_CROSS)
    return path


@pytest.fixture(scope="module")
def swept(
    tmp_path_factory: pytest.TempPathFactory, strategy: Path
) -> tuple[Path, dict[str, object]]:
    """A home with one finished sweep (run once for the module), and its --json output."""
    folder = tmp_path_factory.mktemp("optimize-cli")
    home = stored_home(folder)
    capture = folder / "out.json"
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = cli(home, "optimize", str(strategy), *SWEEP, "--workers", "2", "--json",
                   "--plot", str(folder / "sweep.png"))  # fmt: skip
    assert code == 0
    capture.write_text(buffer.getvalue())
    return home, json.loads(buffer.getvalue())


def test_optimize_json_lists_best_first_and_saves_sweep_run_and_plots(
    swept: tuple[Path, dict[str, object]],
) -> None:
    home, payload = swept
    top = payload["top"]
    assert isinstance(top, list)
    assert len(top) == 6
    returns = [row["total_return_pct"] for row in top]
    assert returns == sorted(returns, reverse=True)
    assert payload["reused"] == 0
    heatmap, stability, *robust = (Path(p) for p in payload["plots"])  # type: ignore[attr-defined]
    assert heatmap.read_bytes().startswith(PNG_SIGNATURE)
    assert stability.name == "sweep-stability.png"
    assert [p.name for p in robust] == ["sweep-dsr.png", "sweep-montecarlo.png"]
    assert all(p.read_bytes().startswith(PNG_SIGNATURE) for p in robust)
    with Store.open(home) as store:
        manifest, _ = store.load_run(str(payload["best_run_id"]))
        (sweep,) = store.list_sweeps()
    assert manifest["parameters"] == {"fast": top[0]["fast"], "slow": top[0]["slow"]}
    assert sweep.sweep_id == payload["sweep_id"]
    assert Path(str(payload["report"])).is_file()


def test_same_command_again_reuses_every_stored_trial(
    swept: tuple[Path, dict[str, object]], strategy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home, first = swept
    capsys.readouterr()
    assert cli(home, "optimize", str(strategy), *SWEEP, "--executor", "serial", "--json") == 0
    again = json.loads(capsys.readouterr().out)
    assert again["sweep_id"] == first["sweep_id"]
    assert again["reused"] == 6
    assert again["top"] == first["top"]
    assert again["best_run_id"] == first["best_run_id"]  # the best run is saved once


def test_sweeps_list_and_show(
    swept: tuple[Path, dict[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    home, payload = swept
    capsys.readouterr()
    assert cli(home, "sweeps", "list") == 0
    assert str(payload["sweep_id"]) in capsys.readouterr().out
    assert cli(home, "sweeps", "show", str(payload["sweep_id"]), "--json", "--top", "2") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["trials"] == 6
    assert shown["spec"]["space"]["constraints"] == ["fast < slow"]
    assert shown["top"] == payload["top"][:2]  # type: ignore[index]
    assert cli(home, "sweeps", "show", "nope") == 3
    assert "No sweep has id nope" in capsys.readouterr().err


def test_rerun_of_the_best_run_is_bit_identical_and_a_tampered_one_is_not(
    swept: tuple[Path, dict[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    home, payload = swept
    run_id = str(payload["best_run_id"])
    capsys.readouterr()
    assert cli(home, "runs", "rerun", run_id) == 0
    assert "Bit-identical" in capsys.readouterr().out
    with Store.open(home) as store:
        manifest, tables = store.load_run(run_id)
        manifest["stats"]["total_trades"] += 1
        store.save_run("tampered", manifest, tables)
    assert cli(home, "runs", "rerun", "tampered") == 1
    out = capsys.readouterr().out
    assert "statistic total_trades" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--param", "fats=1:3"), "Did you mean 'fast'"),
        (("--param", "fast=5:1"), "below start"),
        (("--param", "fast=5:10", "--method", "random"), "needs --trials"),
        (("--param", "fast=5:10", "--cluster", "tcp://127.0.0.1:1"), "needs --executor dask"),
        (("--param", "fast=5:10", "--workers", "0"), "at least 1"),
        (("--param", "fast=5:10", "--objective", "sharp"), "Unknown objective"),
        (
            ("--param", "fast=5:10", "--param", "slow=30", "--constraint", "fast < slo"),
            "Did you mean 'slow'",
        ),
    ],
)
def test_bad_input_is_a_config_error(
    swept: tuple[Path, dict[str, object]],
    strategy: Path,
    args: tuple[str, ...],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    home, _ = swept
    capsys.readouterr()
    assert cli(home, "optimize", str(strategy), "--symbol", "EURUSD", *args) == EXIT_CONFIG_ERROR
    assert message in capsys.readouterr().err


def test_optimize_judges_the_best_trial(swept: tuple[Path, dict[str, object]]) -> None:
    robustness = swept[1]["robustness"]
    assert isinstance(robustness, dict)
    assert 0.0 <= robustness["deflated_sharpe_ratio"] <= 1.0
    low, mid, high = (robustness[f"mc_max_drawdown_pct_p{q}"] for q in ("05", "50", "95"))
    assert low <= mid <= high
    # one week of data is too short to split into CSCV blocks: said, not hidden
    assert robustness["probability_of_backtest_overfitting"] is None
    assert any("PBO needs at least 10 days" in note for note in robustness["notes"])


def test_optimize_walk_forward_prints_windows_and_resumes(
    tmp_path: Path, strategy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = stored_home(tmp_path, weeks=2)
    args = ("optimize", str(strategy), "--symbol", "EURUSD", "--param", "fast=5,10",
            "--param", "slow=30", "--objective", "total_return_pct", "--executor", "serial",
            "--walk-forward", "train=3D,test=2D", "--json",
            "--plot", str(tmp_path / "wf.png"))  # fmt: skip
    assert cli(home, *args) == 0
    first = json.loads(capsys.readouterr().out)
    assert len(first["windows"]) >= 2
    assert first["reused"] == 0
    assert {"fast", "slow", "oos_objective"} <= set(first["windows"][0])
    assert "total_return_pct" in first["out_of_sample"]
    assert (tmp_path / "wf.png").read_bytes().startswith(PNG_SIGNATURE)
    assert cli(home, *args) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["reused"] == 2 * len(first["windows"])
    assert again["windows"] == first["windows"]
    assert again["walk_forward_id"] == first["walk_forward_id"]


def test_optimize_walk_forward_too_short_is_a_clear_error(
    tmp_path: Path, strategy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = stored_home(tmp_path)
    code = cli(home, "optimize", str(strategy), "--symbol", "EURUSD", "--param", "fast=5,10",
               "--executor", "serial", "--walk-forward", "train=6M,test=1M")  # fmt: skip
    assert code == EXIT_CONFIG_ERROR
    assert "needs 6 months of training" in capsys.readouterr().err


def test_optimize_on_a_local_dask_cluster_matches_the_pool(
    tmp_path: Path,
    strategy: Path,
    swept: tuple[Path, dict[str, object]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    home = stored_home(tmp_path)
    code = cli(home, "optimize", str(strategy), *SWEEP, "--executor", "dask", "--workers", "1",
               "--json")  # fmt: skip
    assert code == 0
    on_dask = json.loads(capsys.readouterr().out)
    assert on_dask["top"] == swept[1]["top"]
    assert on_dask["robustness"] == swept[1]["robustness"]
