"""What a strategy change does, for review: `qtc diff A B` and `qtc diff --git BASE`.

* `model`: the report as data (sides, value and plan changes, results).
* `values`: layer (a), the resolved strategy's keys, old -> new, with their origins.
* `plan_diff`: layer (b), the stage parameters that differ, and both fingerprints.
* `results`: layer (c), two run folders compared (metrics, years, overlap, last targets).
* `revision`: a strategy file at a git revision, written to a temp folder with the
  parents it `extends` (read with `git show`, no checkout).
* `changed`: the strategy files a change since a git revision touches.
* `markdown`, `html`, `svg`: the report for a pull request and as one offline page.

Running the backtests is the facade's job (`qtc.api.diff`); this package compares
what it is given and renders it.
"""
