import numpy as np
import pytest

from backtestr.errors import ConfigError
from backtestr.report import plot_bars, save_figure
from tests.helpers import make_bars


def test_plot_bars_draws_candles_and_the_spread_panel(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bars = make_bars(np.arange(50, dtype=np.int64) * 3_600_000_000_000, close=1.1)
    plain = plot_bars(bars, title="EURUSD H1")
    assert len(plain.axes) == 1  # no spread known: price panel only
    with_spread = type(bars)(**{**bars.columns(), "spread_avg": np.full(50, 0.00012)})
    figure = plot_bars(with_spread, pip_size=0.0001, last=20)
    assert len(figure.axes) == 2
    assert figure.axes[1].get_ylabel() == "Spread (pips)"
    path = save_figure(figure, tmp_path / "bars.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_bars_refuses_nothing_to_draw() -> None:
    with pytest.raises(ConfigError, match="empty"):
        plot_bars(make_bars([]))
