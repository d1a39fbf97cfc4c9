"""Human output of `qtc validate`: the signals, the IC decay, the walk-forward and the gates."""

from __future__ import annotations

from typing import Any

from qtc.cli import console

STATUS_STYLE = {"PASS": "green", "FAIL": "bold red", "NOT EVALUABLE": "yellow"}


def render(outcome: Any) -> None:
    """Print a validation outcome."""
    doc = outcome.document
    console.diagnostics(outcome.diagnostics, {})
    for text in doc.get("warnings", []):
        console.warn(text)
    console.line(_headline(doc))
    _signals(doc)
    _decay(doc)
    _quantiles(doc)
    _walk(doc["walk_forward"])
    _gates(doc)
    console.line(f"wrote {outcome.folder}", style="green")
    if outcome.report:
        console.line(f"wrote {outcome.report}", style="green")


def _headline(doc: dict[str, Any]) -> str:
    """One line: what was studied."""
    dates, settings = doc["signal_dates"], doc["settings"]
    kind = "trading days" if dates["every_day"] else "rebalance dates"
    trade = "the next close" if dates["execution_lag"] else "the same close"
    horizons = ", ".join(str(h) for h in settings["horizons"])
    return (
        f"validation {doc['validation_id']} of {doc['strategy']}: {dates['count']} {kind} "
        f"{dates['first']}..{dates['last']} (traded at {trade}); horizons {horizons} "
        f"trading days, {settings['n_quantiles']} quantiles"
    )


def _signals(doc: dict[str, Any]) -> None:
    """The signal tables at the gate horizon: IC, then quantiles and stability."""
    h = doc["settings"]["gate_horizon"]
    ic_rows, stable_rows = [], []
    for s in doc["signals"]:
        at = next(x for x in s["horizons"] if x["horizon"] == h)
        rank, ic = at["rank_ic"], at["ic"]
        ic_rows.append(
            [
                s["name"],
                _num(s["weight"], 2),
                _num(rank["mean"], 4),
                _num(rank["icir"], 3),
                _num(rank["t_stat"], 2),
                _pct(rank["hit_rate"], 0),
                _num(ic["mean"], 4),
            ]
        )
        stable_rows.append(
            [
                s["name"],
                _pct(at["spread"], 2),
                _pct(s["top_turnover"], 0),
                _num(s["autocorrelation"], 2),
                _pct(s["coverage"]["mean"], 0),
            ]
        )
    columns = ["signal", "weight", "rank IC", "ICIR", "t-stat", "hit rate", "IC"]
    console.table(f"information coefficients, {h}-day forward returns", columns, ic_rows)
    columns = ["signal", "top-bottom spread", "top turnover", "rank autocorr", "coverage"]
    console.table("quantiles and stability", columns, stable_rows)


def _decay(doc: dict[str, Any]) -> None:
    """Mean rank IC of each signal at every horizon."""
    horizons = doc["settings"]["horizons"]
    rows = [
        [s["name"], *[_num(x["rank_ic"]["mean"], 4) for x in s["horizons"]]] for s in doc["signals"]
    ]
    console.table("rank IC decay", ["signal", *[f"{h}d" for h in horizons]], rows)


def _quantiles(doc: dict[str, Any]) -> None:
    """The score's mean forward return per quantile at the gate horizon."""
    h = doc["settings"]["gate_horizon"]
    at = next(x for x in doc["signals"][0]["horizons"] if x["horizon"] == h)
    cells = " · ".join(f"Q{i} {_pct(v, 2)}" for i, v in enumerate(at["quantile_means"], start=1))
    console.line(f"score quantiles over {h} days: {cells} (spread {_pct(at['spread'], 2)})")


def _walk(w: dict[str, Any]) -> None:
    """The fold table, the parameters chosen per fold and the stitched out-of-sample line."""
    if w["reselect"]:
        how = f"re-selected by {w['objective']} among {w['candidates']} variants"
    else:
        how = "the strategy as written"
    rows = [
        [
            str(f["fold"]),
            f"{f['train'][0]}..{f['train'][1]}",
            f"{f['test'][0]}..{f['test'][1]}",
            _num(f["in_sample"]["sharpe"], 2),
            _num(f["out_of_sample"]["sharpe"], 2),
        ]
        for f in w["table"]
    ]
    columns = ["fold", "train", "test", "IS Sharpe", "OOS Sharpe"]
    console.table(f"walk-forward: {w['folds']} folds, {w['scheme']}, {how}", columns, rows)
    if w["reselect"]:
        for f in w["table"]:
            console.line(f"- fold {f['fold']} chose trial {f['trial']}: {_params(f['params'])}")
    oos, ins = w["out_of_sample"], w["in_sample"]
    console.line(
        f"out of sample {oos['start']}..{oos['end']}: Sharpe {_num(oos['sharpe'], 2)}, "
        f"CAGR {_pct(oos['cagr'], 2)}, max DD {_pct(oos['max_drawdown'], 2)}; in sample "
        f"Sharpe {_num(ins['sharpe'], 2)}; efficiency {_num(w['efficiency'], 2)}"
    )


def _gates(doc: dict[str, Any]) -> None:
    """The gate table, the reasons of gates not evaluable, and the verdict."""
    gates = doc["gates"]
    if not gates:
        console.line("no [validate] gate is set: nothing to pass or fail")
        return
    rows = [
        [g["gate"], g["what"], _num(g["value"], 4), f"{g['op']} {g['threshold']:g}", g["status"]]
        for g in gates
    ]
    console.table("gates", ["gate", "figure", "value", "threshold", "status"], rows)
    for g in gates:
        if g["reason"]:
            console.line(f"- {g['gate']} not evaluable: {g['reason']}")
    counts = {s: sum(g["status"] == s for g in gates) for s in STATUS_STYLE}
    verdict = "PASS" if doc["passed"] else "FAIL (exit 1)"
    console.line(
        f"{counts['PASS']} passed, {counts['FAIL']} failed, {counts['NOT EVALUABLE']} not "
        f"evaluable: {verdict}",
        style=STATUS_STYLE["PASS" if doc["passed"] else "FAIL"],
    )


def _params(params: dict[str, Any]) -> str:
    """Chosen parameters, `key=value` joined (— when fixed)."""
    return ", ".join(f"{k}={v}" for k, v in params.items()) or "—"


def _num(value: Any, digits: int) -> str:
    """A number cell."""
    return "—" if value is None else f"{value:.{digits}f}"


def _pct(value: Any, digits: int) -> str:
    """A percentage cell."""
    return "—" if value is None else f"{value:.{digits}%}"
