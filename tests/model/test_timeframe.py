import pytest

from backtestr.errors import ConfigError
from backtestr.model import Timeframe, TimeUnit, TradingDay


@pytest.mark.parametrize(
    ("text", "unit", "count"),
    [
        ("M1", TimeUnit.MINUTE, 1),
        ("h4", TimeUnit.HOUR, 4),
        ("MN1", TimeUnit.MONTH, 1),
        ("S30", TimeUnit.SECOND, 30),
        (" d1 ", TimeUnit.DAY, 1),
        ("W1", TimeUnit.WEEK, 1),
    ],
)
def test_parse_accepts_metatrader_names_and_multiples(
    text: str, unit: TimeUnit, count: int
) -> None:
    timeframe = Timeframe.parse(text)
    assert (timeframe.unit, timeframe.count) == (unit, count)
    assert Timeframe.parse(timeframe.name) == timeframe


@pytest.mark.parametrize("text", ["", "M0", "X5", "M", "5M", "H1.5"])
def test_parse_rejects_nonsense_with_the_allowed_forms(text: str) -> None:
    with pytest.raises(ConfigError, match="Unknown timeframe"):
        Timeframe.parse(text)


def test_timeframes_sort_by_length() -> None:
    names = ["MN1", "M5", "H1", "S30", "D1", "W1", "M1", "H4"]
    ordered = sorted(Timeframe.parse(n) for n in names)
    assert [t.name for t in ordered] == ["S30", "M1", "M5", "H1", "H4", "D1", "W1", "MN1"]


def test_divides_follows_bar_containment() -> None:
    m5, h1, m7, d1, w1, mn1 = (Timeframe.parse(n) for n in ["M5", "H1", "M7", "D1", "W1", "MN1"])
    assert m5.divides(h1)
    assert not m7.divides(h1)
    assert h1.divides(d1)
    assert d1.divides(w1)
    assert d1.divides(mn1)
    assert not w1.divides(mn1)
    assert not m7.divides(d1)


def test_trading_day_rejects_unknown_zone() -> None:
    with pytest.raises(ConfigError, match="Unknown time zone"):
        TradingDay(TradingDay.fx().start, "Mars/Olympus")
