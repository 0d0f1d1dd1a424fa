from pathlib import Path

import pytest

from backtestr.cli import main


def test_demo_imports_sample_ticks_builds_bars_and_draws_a_chart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["--home", str(tmp_path / "home"), "demo", "--weeks", "1", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "Import completed" in out
    for timeframe in ("M1", "M5", "M15", "M30", "H1", "H4", "D1"):
        assert f"│ {timeframe} " in out
    assert (tmp_path / "EURUSD_H1.png").stat().st_size > 10_000
    assert (tmp_path / "home" / "catalog.duckdb").exists()  # a named home is kept
