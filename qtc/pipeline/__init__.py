"""Runs Plans on loaded markets: `market.load_market`, then `runner.run_on_market` dispatches
the stages (one handler each, `handlers.HANDLERS`) in flow order.

Conventions: panels are dense float64 numpy arrays shaped (dates, symbols),
NaN where a symbol has no value; dates are `datetime64[D]`; weights are
fractions of equity; returns are simple (arithmetic) daily returns.
"""
