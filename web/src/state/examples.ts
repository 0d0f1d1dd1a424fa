// Strategies to start from. The first is the seed's moving-average crossover, written against the
// zipline-style face (initialize / handle_data / order_target_percent), its lengths as PARAMETERS.

export interface StrategyExample {
  name: string;
  code: string;
}

export const EXAMPLES: readonly StrategyExample[] = [
  {
    name: "Moving-average crossover",
    code: `# Moving-average cross: long while the fast average of closes is above the slow one.
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
`,
  },
  {
    name: "Breakout of the previous day's range",
    code: `def initialize(context):
    context.lookback = 24  # bars


def handle_data(context, data):
    highs = data.history(context.symbol, "high", context.lookback)
    lows = data.history(context.symbol, "low", context.lookback)
    price = data.current(context.symbol, "close")
    holding = context.portfolio.positions[context.symbol]

    if price > highs.max() and not holding:
        order_target_percent(context.symbol, 1.0)
    elif price < lows.min() and holding:
        order_target_percent(context.symbol, 0.0)
`,
  },
];
