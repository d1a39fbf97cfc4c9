"""The run registry: every backtest, sweep, evolution and validation, findable again.

One DuckDB file per project (`.qtc/registry.duckdb`, or `$QTC_REGISTRY`) lists each
artifact folder with its id, kind, strategy, plan fingerprint, strategy file and git
revision (with a dirty flag), dataset hashes, versions, headline metrics and creation
time. The artifacts on disk are the truth: the registry can always be rebuilt from them
(`scan`), and is rebuilt when it is missing.

* `paths`: where the registry, its inbox and the default artifact roots are.
* `kinds`: the artifact kinds (folder root, document name, id key), one table.
* `record`: a `Record` and how it is read from an artifact folder.
* `source`: the git state of a strategy file and its `extends` parents.
* `inbox`: what commands write after a run: one small JSON file each, no DuckDB.
* `store`: the DuckDB file (schema, short-lived connections, lock retries, clear errors).
* `scan`: records of every artifact folder under the artifact roots.
* `service`: the registry as commands see it (inbox and file merged; persisting).
* `gc`: which folders `qtc runs gc --keep N` deletes, checked, and deleting them.

Commands record a run by writing to the inbox, not to DuckDB: a backtest never waits
for (nor fails on) a registry another process holds, and imports no DuckDB. Reading
commands fold the inbox into the file.
"""
