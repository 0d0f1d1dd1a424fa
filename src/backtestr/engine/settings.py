"""Typed, frozen settings of one backtest run, validated once when created."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from backtestr.engine.costs import CommissionModel, FixedSlippage, NoCommission, SlippageModel
from backtestr.engine.orders import PositionMode
from backtestr.errors import ConfigError

__all__ = ["EngineSettings", "ModellingMode"]


class ModellingMode(enum.Enum):
    """How prices move between two strategy decisions (as MetaTrader's tester).

    ``TICKS``: every real tick. ``OHLC``: four synthetic ticks per execution bar (open, nearer
    extreme, farther extreme, close). ``OPEN``: only the opening price of each strategy bar.
    """

    TICKS = "ticks"
    OHLC = "ohlc"
    OPEN = "open"

    @classmethod
    def parse(cls, text: str | ModellingMode) -> ModellingMode:
        if isinstance(text, ModellingMode):
            return text
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise ConfigError(
                f"Unknown modelling mode '{text}': use ticks, ohlc or open."
            ) from None


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """Everything about a run that is not market data or strategy code.

    Parameters
    ----------
    cash
        Initial balance in ``currency``.
    currency
        Account currency; P&L of other quote currencies is converted through loaded cross rates.
    leverage
        Account leverage (margin = notional / leverage). ``None`` uses each instrument's
        ``margin_rate``.
    mode
        Price modelling between decisions.
    trade_on_close
        Market orders fill at the close of the bar they were decided on instead of the next
        quote (backtesting.py's ``trade_on_close``).
    position_mode
        Netting (default) or hedging.
    commission, slippage
        Cost models (per fill).
    spread_pips
        Spread assumed where the bar data carries none (bid bars without spread statistics).
    margin_call_pct
        Below this margin level (equity / used margin, %) orders that add exposure are rejected.
    stop_out_pct
        At or below this margin level every position is closed at market.
    close_at_end
        Close the positions still open at the end at the last quote, so that every trade appears
        in the trade list and sum of trade P&L equals final balance − initial cash.
    """

    cash: float = 100_000.0
    currency: str = "USD"
    leverage: float | None = None
    mode: ModellingMode = ModellingMode.OHLC
    trade_on_close: bool = False
    position_mode: PositionMode = PositionMode.NETTING
    commission: CommissionModel = field(default_factory=NoCommission)
    slippage: SlippageModel = field(default_factory=FixedSlippage)
    spread_pips: float = 0.0
    margin_call_pct: float = 100.0
    stop_out_pct: float = 50.0
    close_at_end: bool = True

    def __post_init__(self) -> None:
        if not self.cash > 0:
            raise ConfigError(f"cash must be positive, got {self.cash!r}")
        if self.leverage is not None and not self.leverage >= 1:
            raise ConfigError(
                f"leverage must be at least 1 (e.g. 30 for 30:1), got {self.leverage}"
            )
        if len(self.currency) != 3 or not self.currency.isalpha():
            raise ConfigError(
                f"currency must be a three-letter code such as USD, got {self.currency!r}"
            )
        if self.spread_pips < 0:
            raise ConfigError(f"spread_pips must be zero or positive, got {self.spread_pips}")
        if not 0 <= self.stop_out_pct <= self.margin_call_pct:
            raise ConfigError(
                f"stop_out_pct ({self.stop_out_pct}) must be between 0 and margin_call_pct "
                f"({self.margin_call_pct})"
            )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (stable snake_case keys) for the run manifest."""
        return {
            "cash": self.cash,
            "currency": self.currency,
            "leverage": self.leverage,
            "mode": self.mode.value,
            "trade_on_close": self.trade_on_close,
            "position_mode": self.position_mode.value,
            "commission": self.commission.describe(),
            "slippage": self.slippage.describe(),
            "spread_pips": self.spread_pips,
            "margin_call_pct": self.margin_call_pct,
            "stop_out_pct": self.stop_out_pct,
            "close_at_end": self.close_at_end,
        }
