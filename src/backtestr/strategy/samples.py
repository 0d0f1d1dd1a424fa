"""Strategies shipped with the package (the demo runs them; ``examples/`` has them as files)."""

__all__ = ["MOVING_AVERAGE_CROSS", "SEED_STRATEGY"]

# The strategy of the seed document, verbatim: it must run unchanged (issue 3).
SEED_STRATEGY = """\
def initialize(context):
    context.ma_short = 10
    context.ma_long = 20

def handle_data(context, data):
    if data.can_trade(context.symbol):
        short_ma = data.history(context.symbol, 'close', context.ma_short).mean()
        long_ma = data.history(context.symbol, 'close', context.ma_long).mean()

        if short_ma > long_ma and not context.portfolio.positions[context.symbol]:
            order_target_percent(context.symbol, 1.0)
        elif short_ma < long_ma and context.portfolio.positions[context.symbol]:
            order_target_percent(context.symbol, 0.0)
"""

MOVING_AVERAGE_CROSS = """\
# Moving-average cross: long while the fast average of closes is above the slow one.
PARAMETERS = {"fast": 10, "slow": 20}


def initialize(context):
    context.ma_short = context.params.fast
    context.ma_long = context.params.slow


def handle_data(context, data):
    if data.can_trade(context.symbol):
        short_ma = data.history(context.symbol, "close", context.ma_short).mean()
        long_ma = data.history(context.symbol, "close", context.ma_long).mean()

        if short_ma > long_ma and not context.portfolio.positions[context.symbol]:
            order_target_percent(context.symbol, 1.0)
        elif short_ma < long_ma and context.portfolio.positions[context.symbol]:
            order_target_percent(context.symbol, 0.0)
"""
