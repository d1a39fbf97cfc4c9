"""The diff as plain text for a terminal (`--format human`): aligned columns, no markup.

The same sections as the markdown, with the yearly table inline and, for the holdings
overlap, the `LOWEST` rebalances with the least shared weight.
"""

from __future__ import annotations

from qtc.review import fmt, summary
from qtc.review.model import UNCHANGED, Comparison, Report, Results

MAX_WEIGHTS = 15
LOWEST = 3


def render(report: Report) -> list[str]:
    """The whole report as lines."""
    lines = [report.title, *(f"note: {n}" for n in report.notes)]
    for comp in report.comparisons:
        lines += ["", *comparison(comp)]
    return lines


def comparison(comp: Comparison) -> list[str]:
    """One strategy's section."""
    lines = [f"== {comp.title} ({comp.status})", f"A  {summary.side_text(comp.a)}",
             f"B  {summary.side_text(comp.b)}"]  # fmt: skip
    lines += [f"warning: {w}" for w in comp.warnings] + [f"note: {n}" for n in comp.notes]
    if comp.status == UNCHANGED:
        return [*lines, summary.unchanged_text(comp)]
    lines += ["", *_values(comp), "", *_plan(comp)]
    if comp.results is not None:
        lines += ["", *results(comp.results)]
    return lines


def _values(comp: Comparison) -> list[str]:
    """Layer (a)."""
    if not comp.values:
        return ["strategy: no resolved value changed"]
    rows = [[v.key, fmt.or_absent(v.old), fmt.or_absent(v.new), v.old_from, v.new_from]
            for v in comp.values]  # fmt: skip
    head = f"strategy: {len(comp.values)} resolved value(s) changed"
    return [head, *columns(["key", "A", "B", "A from", "B from"], rows)]


def _plan(comp: Comparison) -> list[str]:
    """Layer (b)."""
    if comp.plan is None or comp.plan.same:
        return [summary.plan_title(comp)]
    rows = [[c.stage, c.key or "(stage)", fmt.or_absent(c.old), fmt.or_absent(c.new)]
            for c in comp.plan.changes]  # fmt: skip
    return [summary.plan_title(comp), *columns(["stage", "parameter", "A", "B"], rows)]


def results(res: Results) -> list[str]:
    """Layer (c)."""
    metrics = [[m.label, fmt.value(m.a, m.unit), fmt.value(m.b, m.unit), fmt.delta(m.delta, m.unit)]
               for m in res.metrics]  # fmt: skip
    years = [
        [str(y.year), fmt.value(y.return_a, "pct"), fmt.value(y.return_b, "pct"),
         fmt.value(y.drawdown_a, "pct"), fmt.value(y.drawdown_b, "pct")]
        for y in res.years
    ]  # fmt: skip
    lines = [summary.results_title(res), *columns(["metric", "A", "B", "B - A"], metrics), ""]
    lines += ["equity and drawdown by year"]
    lines += columns(["year", "return A", "return B", "worst DD A", "worst DD B"], years)
    lines += ["", summary.overlap_text(res)]
    low = summary.lowest(res.overlaps, LOWEST)
    if low and low[0].shared_weight < 1.0:
        rows = [[o.date, str(o.names_a), str(o.names_b), str(o.common), f"{o.jaccard:.2f}",
                 f"{o.shared_weight:.1%}"] for o in low]  # fmt: skip
        lines += columns(["lowest", "names A", "names B", "common", "Jaccard", "shared"], rows)
    return [*lines, "", *_last(res)]


def _last(res: Results) -> list[str]:
    """The target weights that differ on the last rebalance."""
    lines = [summary.last_text(res)]
    rows = [[w.symbol, fmt.weight(w.a), fmt.weight(w.b), fmt.delta(w.delta, "pct")]
            for w in res.last_changes[:MAX_WEIGHTS]]  # fmt: skip
    if rows:
        lines += columns(["symbol", "A", "B", "B - A"], rows)
    more = len(res.last_changes) - MAX_WEIGHTS
    return [*lines, *([f"... and {more} more"] if more > 0 else [])]


def columns(head: list[str], rows: list[list[str]]) -> list[str]:
    """Rows aligned in columns under a header, indented by two spaces."""
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]

    def line(cells: list[str]) -> str:
        return "  " + "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return [line(head), line(["-" * w for w in widths]), *(line(r) for r in rows)]
