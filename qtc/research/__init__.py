"""Signal research on compiled plans: `qtc validate` (IC, quantile spreads, walk-forward, gates).

Sits above `search` (walk-forward re-selection runs the sweep's core) and below `api`. One
module per job, in the order a validation runs them:

* `request` (options and settings), `checks` (coded input errors), `validate` (the steps),
  `measure` (one market, one backtest, every statistic);
* `signals` (the factors and score on the signal dates), `forward` (forward and
  holding-period returns), `ranks` (cross-sectional ranks and correlations), `quantiles`,
  `ic`, `stability`, `correlation`, `factor_stats` and `study` (every signal measured);
* `folds` (nanobook's time-series split), `walkforward`, `reselect` (the `[search]`
  candidates through `qtc.search`), `family_bias` (PBO and deflated Sharpe from the trial
  ledger), `gates`;
* `result`, `document` (validate.json and the Parquet tables; the layout and IO are in
  `qtc.outputs.validation_files`) and `report_files` (`--report`).
"""
