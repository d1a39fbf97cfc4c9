"""Runs a Plan: one module per stage, in flow order, dispatched by `runner.run_plan`.

Conventions: panels are dense float64 numpy arrays shaped (dates, symbols),
NaN where a symbol has no value; dates are `datetime64[D]`; weights are
fractions of equity; returns are simple (arithmetic) daily returns.
"""
