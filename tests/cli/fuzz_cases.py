"""Generated bad input for every command: the cases of the property-based CLI harness.

`test_fuzz_cli.py` draws argument lists from `COMMANDS` with hypothesis and runs each in
process against a `Sandbox` (a small demo lake, a backtest run, an order plan, an audit log,
a state folder, and damaged copies of each). `benchmarks/reliability.py` draws many more
from the same generators to count outcomes for docs/RELIABILITY.md.

Every case must end with exit code 0, 1 or 2, no traceback, parseable JSON when
`--format json` was asked, and (for exit 2, the user's input was wrong) no file created or
changed anywhere in the sandbox.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from tests.conftest import REPO

STRATEGY = REPO / "strategies" / "momentum_us.toml"
"""The example strategy; the harness runs a copy of it inside the sandbox, never this file."""
WINDOW = ["--set", "data.start=2009-06-01", "--set", "data.end=2010-12-30"]
"""A short window: each backtest in the harness takes a fraction of a second."""

BAD_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=12,
)
"""Any text a shell can pass (a NUL byte cannot be part of an argument)."""

BAD_NUMBERS = st.sampled_from(
    ["-1", "-5", "0", "1e400", "-1e400", "nan", "inf", "abc", "", "1.5", "99999999999999999999"]
)
BAD_DATES = st.sampled_from(
    ["2023-02-30", "2023-13-45", "yesterday", "0000-01-01", "9999-12-31", "2023-1-1", "",
     "1990-01-01", "2030-01-01", "2010-06-30"]
)  # fmt: skip
FORMATS = st.sampled_from([[], ["--format", "json"], ["--format", "xml"]])


@dataclass
class Sandbox:
    """The files a command may be pointed at, all under one temporary folder.

    Attributes:
        root: The folder; every check of "nothing changed" walks it.
        lake: A small demo lake.
        run: A backtest run folder (run.json + Parquet files).
        plan: A signed order plan (paper broker) made by `rebalance --dry-run`.
        log: An audit log of an executed plan.
        fifo: A named pipe.
        regular: A regular file that is not a qtc file.
        link: A symlink to `regular`.
        strategy: A copy of the example strategy (the one the commands are given).
    """

    root: Path
    lake: Path
    run: Path
    plan: Path
    log: Path
    fifo: Path
    regular: Path
    link: Path
    strategy: Path

    def paths(self) -> st.SearchStrategy[str]:
        """Paths of every kind: missing, folders, special files, qtc files of other kinds."""
        return st.sampled_from(
            [
                str(self.root / "missing" / "x"),
                str(self.root),
                str(self.fifo),
                str(self.regular),
                str(self.link),
                str(self.regular / "below"),
                "/dev/null",
                str(self.lake),
                str(self.run),
                str(self.plan),
                str(self.log),
                str(self.strategy),
            ]
        )


def snapshot(root: Path) -> dict[str, str]:
    """Every entry under `root` with its kind and content hash (what "changed" means)."""
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            out[rel] = "link:" + os.readlink(path)
        elif path.is_fifo():
            out[rel] = "fifo"
        elif path.is_dir():
            out[rel] = "dir"
        else:
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def damaged_copy(src: Path, dst: Path, data: st.DataObject, name: str) -> Path:
    """A copy of the file or folder `src` with one file truncated, garbled or emptied."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.copytree(src, dst)
        files = sorted(p for p in dst.rglob("*") if p.is_file())
        target = data.draw(st.sampled_from(files), label=f"{name} file")
    else:
        shutil.copy2(src, dst)
        target = dst
    raw = target.read_bytes()
    how = data.draw(st.sampled_from(["truncate", "garble", "empty", "json"]), label=name)
    if how == "truncate":
        target.write_bytes(raw[: data.draw(st.integers(0, max(len(raw) - 1, 0)))])
    elif how == "garble":
        at = data.draw(st.integers(0, max(len(raw) - 1, 0)))
        junk = data.draw(st.binary(min_size=1, max_size=8))
        target.write_bytes(raw[:at] + junk + raw[at + len(junk) :])
    elif how == "empty":
        target.write_bytes(b"")
    else:
        target.write_text(json.dumps(data.draw(st.sampled_from([[], {}, None, 1, "x"]))))
    return dst


def set_values(data: st.DataObject, keys: list[str]) -> list[str]:
    """One to three `--set` arguments: real keys with bad values, or bad keys."""
    out = []
    for _ in range(data.draw(st.integers(1, 3), label="sets")):
        key = data.draw(st.one_of(st.sampled_from(keys), BAD_TEXT), label="key")
        value = data.draw(st.one_of(BAD_NUMBERS, BAD_DATES, BAD_TEXT), label="value")
        form = data.draw(st.sampled_from(["kv", "k", "v"]), label="form")
        out += ["--set", {"kv": f"{key}={value}", "k": key, "v": f"={value}"}[form]]
    return out


Builder = Callable[[Sandbox, st.DataObject, list[str]], list[str]]


def _check(box: Sandbox, data: st.DataObject, keys: list[str]) -> list[str]:
    which = data.draw(st.sampled_from(["file", "set", "as_of", "damaged"]))
    if which == "damaged":
        bad = damaged_copy(box.strategy, box.root / "case" / "bad.toml", data, "toml")
        return ["check", str(bad), *data.draw(FORMATS)]
    if which == "file":
        return ["check", data.draw(box.paths()), *data.draw(FORMATS)]
    extra = set_values(data, keys) if which == "set" else ["--as-of", data.draw(BAD_DATES)]
    return ["check", str(box.strategy), *extra, *data.draw(FORMATS)]


def _compile(box: Sandbox, data: st.DataObject, keys: list[str]) -> list[str]:
    mode = data.draw(st.sampled_from([["--explain"], ["--json"], ["--resolved"], []]))
    return ["compile", str(box.strategy), *mode, *set_values(data, keys), *data.draw(FORMATS)]


def _schema(box: Sandbox, data: st.DataObject, keys: list[str]) -> list[str]:
    return [
        "schema",
        "--out",
        data.draw(box.paths()),
        *data.draw(st.sampled_from([[], ["--check"]])),
    ]


def _backtest(box: Sandbox, data: st.DataObject, keys: list[str]) -> list[str]:
    which = data.draw(st.sampled_from(["set", "as_of", "out", "lake", "damaged_lake"]))
    lake, out = str(box.lake), str(box.root / "runs")
    extra: list[str] = []
    if which == "set":
        extra = set_values(data, keys)
    elif which == "as_of":
        extra = ["--as-of", data.draw(BAD_DATES)]
    elif which == "out":
        out = data.draw(box.paths())
    elif which == "lake":
        lake = data.draw(box.paths())
    else:
        lake = str(damaged_copy(box.lake, box.root / "case" / "lake", data, "lake"))
    base = ["backtest", str(box.strategy), "--lake", lake, "--out", out, *WINDOW]
    return [*base, *extra, *data.draw(FORMATS)]


def _report(box: Sandbox, data: st.DataObject, keys: list[str]) -> list[str]:
    which = data.draw(st.sampled_from(["run", "out", "benchmark", "damaged_run"]))
    run, extra = str(box.run), []
    if which == "run":
        run = data.draw(box.paths())
    elif which == "out":
        extra = ["--out", data.draw(box.paths())]
    elif which == "benchmark":
        extra = ["--benchmark", data.draw(BAD_TEXT), "--lake", str(box.lake)]
    else:
        run = str(damaged_copy(box.run, box.root / "case" / "run", data, "run"))
    return ["report", run, *extra, *data.draw(FORMATS)]


def _data(box: Sandbox, data: st.DataObject, keys: list[str]) -> list[str]:
    which = data.draw(st.sampled_from(["info", "check", "query", "ingest", "damaged", "demo"]))
    lake = str(box.lake)
    if which == "damaged":
        lake = str(damaged_copy(box.lake, box.root / "case" / "lake", data, "lake"))
        which = data.draw(st.sampled_from(["info", "check", "query"]))
    fmt = data.draw(FORMATS)
    if which == "query":
        sql = data.draw(
            st.one_of(
                BAD_TEXT,
                st.sampled_from(
                    [
                        "SELECT count(*) FROM prices",
                        f"COPY (SELECT 1) TO '{box.lake}/prices.parquet'",
                        "ATTACH 'x.db' AS x",
                        "CREATE TABLE t AS SELECT 1",
                        "INSTALL httpfs",
                        "SELECT 1; DROP VIEW prices",
                        "SELECT * FROM read_csv('/etc/passwd')",
                    ]
                ),
            )
        )
        limit = data.draw(st.one_of(st.just([]), BAD_NUMBERS.map(lambda n: ["--limit", n])))
        return ["data", "query", sql, "--lake", lake, *limit, *fmt]
    if which == "ingest":
        src = data.draw(box.paths())
        mode = data.draw(
            st.one_of(
                st.sampled_from([[], ["--mode", "bogus"], ["--dataset", "nope"]]),
                BAD_NUMBERS.map(lambda n: ["--fundamentals-lag-days", n]),
            )
        )
        return ["data", "ingest", src, "--lake", str(box.root / "newlake"), *mode, *fmt]
    if which == "demo":
        return ["data", "demo", "--seed", data.draw(BAD_NUMBERS.filter(lambda n: n != "0")), *fmt]
    limit = ["--limit", data.draw(BAD_NUMBERS)] if which == "check" else []
    return ["data", which, "--lake", lake, *limit, *fmt]


def _rebalance(box: Sandbox, data: st.DataObject, keys: list[str]) -> list[str]:
    which = data.draw(
        st.sampled_from(["set", "as_of", "broker", "timeout", "apply", "damaged_plan", "out"])
    )
    base = ["rebalance", str(box.strategy), "--lake", str(box.lake), "--as-of", "2010-06-30"]
    tail = ["--out", str(box.root / "orders"), "--dry-run"]
    fmt = data.draw(FORMATS)
    if which == "set":
        return [*base, *tail, *set_values(data, keys), *fmt]
    if which == "as_of":
        return [*base[:4], "--as-of", data.draw(BAD_DATES), *tail, *fmt]
    if which == "broker":
        return [*base, *tail, "--broker", data.draw(st.one_of(BAD_TEXT, st.just("ibkr"))), *fmt]
    if which == "timeout":
        return [*base, *tail, "--timeout", data.draw(BAD_NUMBERS), *fmt]
    if which == "out":
        return [*base, "--dry-run", "--out", data.draw(box.paths()), *fmt]
    plan = (
        str(box.plan)
        if which == "apply"
        else str(damaged_copy(box.plan, box.root / "case" / "plan.json", data, "plan"))
    )
    return ["rebalance", "--apply", plan, "--dry-run", *fmt]


def _live_tools(box: Sandbox, data: st.DataObject, keys: list[str]) -> list[str]:
    which = data.draw(st.sampled_from(["positions", "kill", "reconcile", "audit", "damaged_log"]))
    fmt = data.draw(FORMATS)
    broker = data.draw(st.one_of(st.sampled_from(["paper", "mock", "ibkr", ""]), BAD_TEXT))
    account = ["--account", data.draw(st.one_of(BAD_TEXT, st.just("../../etc")))]
    if which == "positions":
        return ["positions", "--broker", broker, *account, *fmt]
    if which == "kill":
        flatten = data.draw(st.sampled_from([[], ["--flatten"]]))  # asked: the input says no
        return ["kill", "--broker", broker, *account, *flatten, "--lake", str(box.lake), *fmt]
    if which == "reconcile":
        extra = data.draw(st.one_of(st.just(set_values(data, keys)), BAD_DATES.map(
            lambda d: ["--as-of", d])))  # fmt: skip
        return ["reconcile", str(box.strategy), "--lake", str(box.lake), "--broker", "paper",
                *extra, *fmt]  # fmt: skip
    log = (
        str(box.log)
        if which == "audit"
        else str(damaged_copy(box.log, box.root / "case" / "log.jsonl", data, "log"))
    )
    return ["audit", data.draw(st.sampled_from(["show", "verify"])), log, *fmt]


def _sweep(box: Sandbox, data: st.DataObject, keys: list[str]) -> list[str]:
    which = data.draw(st.sampled_from(["grid", "where", "objective", "numbers", "set", "resume"]))
    key = data.draw(st.one_of(st.sampled_from(keys), BAD_TEXT))
    values = data.draw(st.one_of(st.just("10"), BAD_TEXT))
    extra: list[str] = ["--grid", f"{key}={values}"]
    if which == "where":
        extra = ["--grid", "selection.top_n=10", "--where", data.draw(BAD_TEXT)]
    elif which == "objective":
        extra = ["--grid", "selection.top_n=10", "--objective", data.draw(BAD_TEXT)]
    elif which == "numbers":
        option = data.draw(st.sampled_from(["--jobs", "--sample", "--top", "--max-variants"]))
        extra = ["--grid", "selection.top_n=10,20", option, data.draw(BAD_TEXT)]
    elif which == "set":
        extra = ["--grid", "selection.top_n=10", *set_values(data, keys)]
    elif which == "resume":
        extra = ["--resume", data.draw(BAD_TEXT)]
    base = ["sweep", str(box.strategy), "--lake", str(box.lake), "--out", str(box.root / "sw")]
    return [*base, *WINDOW, "--jobs", "1", *extra, *data.draw(FORMATS)]


def _validate(box: Sandbox, data: st.DataObject, keys: list[str]) -> list[str]:
    which = data.draw(st.sampled_from(["horizons", "numbers", "objective", "set", "out"]))
    extra: list[str] = ["--horizons", "5"]
    if which == "horizons":
        bad = st.sampled_from(["0", "300", "1,,5", "5,x", "1e3", "-1", "²", ""])
        extra = ["--horizons", data.draw(st.one_of(bad, BAD_TEXT))]
    elif which == "numbers":
        option = data.draw(st.sampled_from(["--quantiles", "--folds", "--jobs"]))
        extra += [option, data.draw(BAD_NUMBERS)]
    elif which == "objective":
        extra += ["--reselect", "--objective", data.draw(BAD_TEXT)]  # refused before any run
    elif which == "set":
        extra += set_values(data, keys)
    elif which == "out":
        extra += ["--every-day"]
        base = ["validate", str(box.strategy), "--lake", str(box.lake), *WINDOW]
        return [*base, *extra, "--out", data.draw(box.paths()), *data.draw(FORMATS)]
    base = ["validate", str(box.strategy), "--lake", str(box.lake), "--out", str(box.root / "va")]
    return [*base, *WINDOW, *extra, *data.draw(FORMATS)]


def _evolve(box: Sandbox, data: st.DataObject, keys: list[str]) -> list[str]:
    which = data.draw(
        st.sampled_from(
            ["sampler", "numbers", "holdout", "fraction", "objective", "where", "set", "resume"]
        )
    )
    extra: list[str] = []
    if which == "sampler":
        extra = ["--sampler", data.draw(st.one_of(st.sampled_from(["tpe", "cmaes"]), BAD_TEXT))]
    elif which == "numbers":
        option = data.draw(st.sampled_from(["--trials", "--population", "--top", "--jobs"]))
        extra = [option, data.draw(BAD_NUMBERS)]
    elif which == "holdout":
        extra = ["--holdout", data.draw(st.one_of(BAD_DATES, BAD_TEXT))]
    elif which == "fraction":
        extra = ["--holdout-fraction", data.draw(BAD_NUMBERS)]
    elif which in ("objective", "where"):
        extra = [f"--{which}", data.draw(st.one_of(st.sampled_from(["sharpe", "min:cagr"]),
                                                   BAD_TEXT))]  # fmt: skip
    elif which == "set":
        extra = set_values(data, keys)
    elif which == "resume":
        extra = ["--resume", data.draw(BAD_TEXT)]
    base = ["evolve", str(box.strategy), "--lake", str(box.lake), "--out", str(box.root / "ev")]
    small = ["--trials", "2", "--population", "2", "--jobs", "1"]
    return [*base, *WINDOW, *small, *extra, *data.draw(FORMATS)]


def _runs(box: Sandbox, data: st.DataObject, keys: list[str]) -> list[str]:
    which = data.draw(st.sampled_from(["list", "show", "gc", "rebuild"]))
    fmt = data.draw(FORMATS)
    if which == "list":
        option = data.draw(st.sampled_from(["--strategy", "--since", "--kind"]))
        value = data.draw(BAD_DATES if option == "--since" else BAD_TEXT)
        return ["runs", "list", option, value, *fmt]
    if which == "show":
        ident = data.draw(st.one_of(BAD_TEXT, box.paths(), st.just(box.run.name[:6])))
        return ["runs", "show", ident, *fmt]
    if which == "gc":  # never --yes: the input answers no, so nothing is ever deleted
        return ["runs", "gc", "--keep", data.draw(BAD_NUMBERS), *fmt]
    return ["runs", "rebuild", "--root", data.draw(box.paths()), *fmt]


def _diff(box: Sandbox, data: st.DataObject, keys: list[str]) -> list[str]:
    which = data.draw(st.sampled_from(["sides", "set", "format", "out", "git"]))
    tail = ["--lake", str(box.lake), "--runs", str(box.root / "diffruns")]
    sides = st.one_of(
        st.sampled_from([str(box.strategy), str(box.run), "HEAD:strategy.toml", "nope:x.toml"]),
        box.paths(),
        BAD_TEXT,
    )
    run = str(box.run)
    if which == "sides":
        extra = [data.draw(sides, label="a"), data.draw(sides, label="b"), "--no-run"]
    elif which == "set":
        extra = [str(box.strategy), str(box.strategy), "--no-run", *set_values(data, keys)]
    elif which == "format":
        chosen = data.draw(st.sampled_from(["json", "markdown", "html", "xml", ""]))
        extra = [run, run, "--format", chosen]
    elif which == "out":
        target = data.draw(st.one_of(box.paths(), BAD_TEXT.map(lambda t: t + ".md")))
        extra = [run, run, "--out", target]
    else:
        extra = ["--git", data.draw(BAD_TEXT)]
    return ["diff", *extra, *tail, *data.draw(FORMATS)]


COMMANDS: dict[str, Builder] = {
    "check": _check,
    "compile": _compile,
    "schema": _schema,
    "backtest": _backtest,
    "report": _report,
    "data": _data,
    "rebalance": _rebalance,
    "live_tools": _live_tools,
    "sweep": _sweep,
    "validate": _validate,
    "evolve": _evolve,
    "runs": _runs,
    "diff": _diff,
}
"""Each command family and the generator of its argument lists."""

TEMP_MARKERS = (".tmp", ".lake-", ".old-")
"""Name parts of qtc's temporary files and folders: none may survive a command."""


def problems(
    argv: list[str], result: Any, before: dict[str, str], after: dict[str, str]
) -> list[str]:
    """What is wrong with one command's outcome (empty when it behaved)."""
    out: list[str] = []
    code = result.exit_code
    text = result.output
    if code not in (0, 1, 2):
        out.append(f"exit code {code}")
    for marker in ("Traceback", "errors.pydantic.dev", "internal error"):
        if marker in text:
            out.append(f"output contains {marker!r}")
    if "--format" in argv and argv[argv.index("--format") + 1] == "json" and code in (0, 1, 2):
        try:
            json.loads(result.stdout)
        except ValueError:
            out.append("--format json but stdout is not JSON")
    left = [p for p in after if p not in before and any(m in p for m in TEMP_MARKERS)]
    if left:
        out.append(f"temporary files left: {left[:3]}")
    if code == 2 and before != after:
        changed = sorted(set(before.items()) ^ set(after.items()))
        out.append(f"exit 2 but files changed: {[p for p, _ in changed][:5]}")
    return out
