"""A typed-class strategy: channel breakout in lots, with a stop-loss and a trailing stop.

Run it: ``backtestr run examples/breakout_class.py --symbol EURUSD --param lookback=120``.
"""

from typing import ClassVar

from backtestr import Strategy


class Breakout(Strategy):
    PARAMETERS: ClassVar[dict[str, float | int]] = {
        "lookback": 60,
        "stop_pips": 15.0,
        "trail_pips": 10.0,
        "lots": 1.0,
    }

    def on_bar(self) -> None:
        p = self.params
        if self.portfolio.positions[self.symbol] or self.get_open_orders(self.symbol):
            return
        # the channel of the bars before this one, and this bar's close
        highs = self.data.history(self.symbol, "high", p.lookback + 1)[:-1]
        lows = self.data.history(self.symbol, "low", p.lookback + 1)[:-1]
        close = self.data.current(self.symbol, "close")
        exits = {"stop_loss_pips": p.stop_pips, "trailing_stop_pips": p.trail_pips}
        if close > highs.max():
            self.order(self.symbol, lots=p.lots, **exits)
        elif close < lows.min():
            self.order(self.symbol, lots=-p.lots, **exits)
