"""Runs Plans on loaded markets (`market.load_market`, then `runner.run_on_market`).

The runner dispatches the stages in flow order, one handler each (`handlers.HANDLERS`).

Conventions: panels are dense float64 numpy arrays shaped (dates, symbols),
NaN where a symbol has no value; dates are `datetime64[D]`; weights are
fractions of equity; returns are simple (arithmetic) daily returns.
"""
