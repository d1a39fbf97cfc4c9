"""The diff as one self-contained HTML page: inline CSS and SVG, no script, no request.

The same sections as the markdown, plus the equity and drawdown overlay (`svg.overlay`)
and the holdings overlap of every compared rebalance.
"""

from __future__ import annotations

from html import escape

from qtc.review import fmt, summary, svg
from qtc.review.model import UNCHANGED, Comparison, Report, Results

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px auto;
max-width:1000px;padding:0 16px;color:#222}
h1{font-size:20px}h2{font-size:17px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}
h3{font-size:15px;margin-bottom:6px}table{border-collapse:collapse;margin:6px 0 12px}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f5f5f5}td.n{text-align:right;font-variant-numeric:tabular-nums}
code{font:12px ui-monospace,Menlo,Consolas,monospace;background:#f3f3f3;padding:1px 3px}
.warn{background:#fff4e5;border-left:4px solid #e69500;padding:6px 10px}
.note{color:#555}svg{max-width:100%;height:auto}
"""


CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
"""No request of any kind: the page is complete as it is (as qtc's report)."""


def render(report: Report) -> str:
    """The whole page."""
    body = [f"<h1>{escape(report.title)}</h1>"]
    body += [f'<p class="note">{escape(n)}</p>' for n in report.notes]
    for comp in report.comparisons:
        body += comparison(comp)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>{escape(report.title)}</title><style>{STYLE}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def comparison(comp: Comparison) -> list[str]:
    """One strategy's section."""
    out = [f"<h2>{escape(comp.title)} ({escape(comp.status)})</h2>"]
    out.append(
        "<p><b>A</b> " + _code(summary.side_text(comp.a)) + "<br><b>B</b> "
        + _code(summary.side_text(comp.b)) + "</p>"
    )  # fmt: skip
    out += [f'<p class="warn">warning: {escape(w)}</p>' for w in comp.warnings]
    out += [f'<p class="note">{escape(n)}</p>' for n in comp.notes]
    if comp.status == UNCHANGED:
        return [*out, f"<p>{escape(summary.unchanged_text(comp))}</p>"]
    out += _values(comp) + _plan(comp)
    if comp.results is not None:
        out += results(comp.results)
    return out


def _values(comp: Comparison) -> list[str]:
    """Layer (a)."""
    if not comp.values:
        return ["<h3>Strategy: no resolved value changed</h3>"]
    rows = [[_code(v.key), _code(fmt.or_absent(v.old)), _code(fmt.or_absent(v.new)),
             escape(v.old_from), escape(v.new_from)] for v in comp.values]  # fmt: skip
    head = f"<h3>Strategy: {len(comp.values)} resolved value(s) changed</h3>"
    return [head, table(["key", "A", "B", "A from", "B from"], rows)]


def _plan(comp: Comparison) -> list[str]:
    """Layer (b)."""
    if comp.plan is None:
        return []
    head = f"<h3>{escape(summary.upper(summary.plan_title(comp)))}</h3>"
    if comp.plan.same:
        return [head]
    rows = [[escape(c.stage), _code(c.key or "(stage)"), _code(fmt.or_absent(c.old)),
             _code(fmt.or_absent(c.new))] for c in comp.plan.changes]  # fmt: skip
    return [head, table(["stage", "parameter", "A", "B"], rows)]


def results(res: Results) -> list[str]:
    """Layer (c)."""
    out = [f"<h3>{escape(summary.upper(summary.results_title(res)))}</h3>"]
    rows = [[escape(m.label), _num(fmt.value(m.a, m.unit)), _num(fmt.value(m.b, m.unit)),
             _num(fmt.delta(m.delta, m.unit))] for m in res.metrics]  # fmt: skip
    out.append(table(["metric", "A", "B", "B - A"], rows))
    if res.series is not None:
        out += ["<h3>Equity (growth of 1) and drawdown</h3>", svg.overlay(res.series)]
    years = [[str(y.year), _num(fmt.value(y.return_a, "pct")), _num(fmt.value(y.return_b, "pct")),
              _num(fmt.value(y.drawdown_a, "pct")), _num(fmt.value(y.drawdown_b, "pct"))]
             for y in res.years]  # fmt: skip
    out += ["<h3>By year</h3>", table(["year", "return A", "return B", "worst DD A",
                                       "worst DD B"], years)]  # fmt: skip
    out.append(f"<h3>{escape(summary.upper(summary.overlap_text(res)))}</h3>")
    overlaps = [[o.date, _num(str(o.names_a)), _num(str(o.names_b)), _num(str(o.common)),
                 _num(f"{o.jaccard:.2f}"), _num(f"{o.shared_weight:.1%}")]
                for o in res.overlaps]  # fmt: skip
    out.append(
        _folded(
            "every rebalance",
            table(
                ["signal date", "names A", "names B", "common", "Jaccard", "shared weight"],
                overlaps,
            ),
        )
    )
    return out + _last(res)


def _last(res: Results) -> list[str]:
    """The target weights that differ on the last rebalance (all of them)."""
    out = [f"<h3>{escape(summary.upper(summary.last_text(res)))}</h3>"]
    rows = [[_code(w.symbol), _num(fmt.weight(w.a)), _num(fmt.weight(w.b)),
             _num(fmt.delta(w.delta, "pct"))] for w in res.last_changes]  # fmt: skip
    return [*out, table(["symbol", "A", "B", "B - A"], rows)] if rows else out


def table(head: list[str], rows: list[list[str]]) -> str:
    """An HTML table; cells are already escaped HTML."""
    top = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(_td(c) for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{top}</tr></thead><tbody>{body}</tbody></table>"


def _td(cell: str) -> str:
    """A cell; numbers (marked by `_num`) are right-aligned."""
    if cell.startswith("\x00"):
        return f'<td class="n">{escape(cell[1:])}</td>'
    return f"<td>{cell}</td>"


def _num(text: str) -> str:
    """Mark a number cell (escaped when rendered)."""
    return "\x00" + text


def _code(text: str) -> str:
    """Escaped inline code."""
    return f"<code>{escape(text)}</code>"


def _folded(summary_text: str, inner: str) -> str:
    """A `<details>` block."""
    return f"<details><summary>{escape(summary_text)}</summary>{inner}</details>"
