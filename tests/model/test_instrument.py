import pytest

from backtestr.errors import ConfigError
from backtestr.model import Instrument, fx_instrument, normalize_symbol


def test_fx_majors_have_correct_pip_and_contract() -> None:
    eurusd = fx_instrument("EURUSD")
    assert (eurusd.base_currency, eurusd.quote_currency) == ("EUR", "USD")
    assert eurusd.pip_size == 0.0001
    assert eurusd.tick_size == pytest.approx(0.00001)
    assert eurusd.contract_size == 100_000
    assert fx_instrument("usd/jpy").pip_size == 0.01


def test_symbol_normalisation_and_rejection() -> None:
    assert normalize_symbol(" eur/usd ") == "EURUSD"
    with pytest.raises(ConfigError, match="Invalid symbol"):
        normalize_symbol("../etc")


def test_unknown_pair_asks_for_a_specification() -> None:
    with pytest.raises(ConfigError, match="specification"):
        fx_instrument("AAPL")


def test_instrument_rejects_leverage_given_as_margin_rate() -> None:
    with pytest.raises(ConfigError, match="margin_rate"):
        Instrument("XYZ", "XYZ", "USD", pip_size=0.01, tick_size=0.01, margin_rate=30)
