"""The diff as GitHub-flavoured markdown, sized for a pull-request comment.

One `###` section per strategy: the changed keys (old -> new, with origins), the plan's
changed parameters and fingerprints, the headline metrics side by side with deltas, a
yearly equity and drawdown table (folded), the holdings overlap and the target weights
that differ on the last rebalance (the largest `MAX_WEIGHTS`).
"""

from __future__ import annotations

from qtc.review import fmt, summary
from qtc.review.model import UNCHANGED, Comparison, Report, Results

MAX_WEIGHTS = 15
"""Rows of the last-rebalance table (the rest are counted)."""


def render(report: Report) -> str:
    """The whole report as markdown."""
    lines = [f"## {report.title}", ""]
    lines += [f"> {note}" for note in report.notes]
    if report.notes:
        lines.append("")
    for comp in report.comparisons:
        lines += comparison(comp)
    return "\n".join(lines).rstrip() + "\n"


def comparison(comp: Comparison) -> list[str]:
    """One strategy's section."""
    lines = [f"### {code(comp.title)} ({comp.status})", ""]
    lines += [
        f"- **A** {code(summary.side_text(comp.a))}",
        f"- **B** {code(summary.side_text(comp.b))}",
        "",
    ]
    lines += [f"> **warning:** {w}" for w in comp.warnings]
    lines += [f"> {n}" for n in comp.notes]
    if comp.warnings or comp.notes:
        lines.append("")
    if comp.status == UNCHANGED:
        return [*lines, summary.unchanged_text(comp), ""]
    lines += _values(comp) + _plan(comp)
    if comp.results is not None:
        lines += results(comp.results)
    return lines


def _values(comp: Comparison) -> list[str]:
    """Layer (a)."""
    if not comp.values:
        return ["**Strategy:** no resolved value changed", ""]
    rows = [
        [
            code(v.key),
            code(fmt.or_absent(v.old)),
            code(fmt.or_absent(v.new)),
            v.old_from,
            v.new_from,
        ]
        for v in comp.values
    ]
    head = f"**Strategy:** {len(comp.values)} resolved value(s) changed"
    return [head, "", *table(["key", "A", "B", "A from", "B from"], rows), ""]


def _plan(comp: Comparison) -> list[str]:
    """Layer (b)."""
    if comp.plan is None:
        return []
    title = f"**{summary.upper(summary.plan_title(comp))}**"
    if comp.plan.same:
        return [title, ""]
    rows = [
        [c.stage, code(c.key or "(stage)"), code(fmt.or_absent(c.old)), code(fmt.or_absent(c.new))]
        for c in comp.plan.changes
    ]
    return [title, "", *table(["stage", "parameter", "A", "B"], rows), ""]


def results(res: Results) -> list[str]:
    """Layer (c)."""
    lines = [f"**{summary.upper(summary.results_title(res))}**", ""]
    rows = [[m.label, fmt.value(m.a, m.unit), fmt.value(m.b, m.unit), fmt.delta(m.delta, m.unit)]
            for m in res.metrics]  # fmt: skip
    lines += [*table(["metric", "A", "B", "B - A"], rows), ""]
    lines += ["<details><summary>Equity and drawdown by year</summary>", ""]
    years = [
        [str(y.year), fmt.value(y.return_a, "pct"), fmt.value(y.return_b, "pct"),
         fmt.value(y.drawdown_a, "pct"), fmt.value(y.drawdown_b, "pct")]
        for y in res.years
    ]  # fmt: skip
    lines += [*table(["year", "return A", "return B", "worst DD A", "worst DD B"], years), ""]
    lines += ["</details>", "", summary.upper(summary.overlap_text(res)), ""]
    return lines + _last(res)


def _last(res: Results) -> list[str]:
    """The target weights that differ on the last rebalance."""
    lines = [f"**{summary.upper(summary.last_text(res))}**", ""]
    if not res.last_changes:
        return lines
    rows = [[code(w.symbol), fmt.weight(w.a), fmt.weight(w.b), fmt.delta(w.delta, "pct")]
            for w in res.last_changes[:MAX_WEIGHTS]]  # fmt: skip
    lines += table(["symbol", "A", "B", "B - A"], rows)
    more = len(res.last_changes) - MAX_WEIGHTS
    return [*lines, *(["", f"... and {more} more"] if more > 0 else []), ""]


def table(head: list[str], rows: list[list[str]]) -> list[str]:
    """A markdown table (cells escaped)."""
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return out


def cell(text: str) -> str:
    """A table cell: pipes escaped, newlines as spaces."""
    return text.replace("|", "\\|").replace("\n", " ")


def code(text: str) -> str:
    """Inline code that survives backticks in the text."""
    fence = "``" if "`" in text else "`"
    pad = " " if "`" in text else ""
    return f"{fence}{pad}{text}{pad}{fence}"
