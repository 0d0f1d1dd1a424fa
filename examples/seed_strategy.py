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
