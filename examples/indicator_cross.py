# Moving-average cross on precomputed indicators: the averages are computed once over the whole
# series (checked for look-ahead) and read per bar; handle_data runs only where they cross.
import numpy as np

PARAMETERS = {"fast": 10, "slow": 20}


def sma(close, n):
    out = np.full(len(close), np.nan)
    sums = np.cumsum(np.r_[0.0, close])
    out[n - 1 :] = (sums[n:] - sums[:-n]) / n
    return out


def initialize(context):
    context.fast = indicator(sma, "close", n=context.params.fast)
    context.slow = indicator(sma, "close", n=context.params.slow)
    # handle_data can only act where the averages cross: skip every other bar
    wake_on(crosses(context.fast, context.slow))


def handle_data(context, data):
    fast, slow = context.fast[-1], context.slow[-1]
    if fast > slow and not context.portfolio.positions[context.symbol]:
        order_target_percent(context.symbol, 1.0)
    elif fast < slow and context.portfolio.positions[context.symbol]:
        order_target_percent(context.symbol, 0.0)
