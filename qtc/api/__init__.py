"""qtc as a library: the functions every CLI command calls, one thin module per area.

* `qtc.api.strategy`: check, compile, explain, resolved values, the schema.
* `qtc.api.data`: find, ingest, inspect and query the lake.
* `qtc.api.run`: backtest and report.
* `qtc.api.live`: rebalance, positions, reconcile, kill.
* `qtc.api.audit`: read and verify the live audit log.
* `qtc.api.registry`: the run registry (`qtc runs`), and recording runs.
* `qtc.api.diff` (with `diff_sides`): what a strategy change does (`qtc diff`).
* `qtc.api.secrets`: redact credentials from echoed source lines.

Commands parse options, call one function here and render its result. Nothing
here prints; problems are raised as `QtcError`s or returned as diagnostics.
Heavy libraries are imported inside functions, so importing a module here
stays cheap (`qtc --help`).
"""
