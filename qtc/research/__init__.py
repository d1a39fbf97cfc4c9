"""Signal research on compiled plans: `qtc validate` (IC, quantile spreads, walk-forward, gates).

Registered as a layer now (above `outputs` and `pipeline`, beside `live` and `search`);
the command comes with its issue; until then this package is empty.
"""
