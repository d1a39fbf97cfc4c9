"""Sentences shared by the text and markdown renderers: sides, plan, overlap, run windows."""

from __future__ import annotations

from qtc.review import fmt
from qtc.review.model import Comparison, Overlap, Results, Side, overlap_summary


def side_text(side: Side | None) -> str:
    """`LABEL (plan FP12)` or `(none)`."""
    if side is None:
        return "(none)"
    return f"{side.label} (plan {fmt.short(side.fingerprint)})"


def unchanged_text(comp: Comparison) -> str:
    """The sentence for a comparison that changed nothing."""
    fp = fmt.short(comp.plan.fingerprint_b) if comp.plan else fmt.MISSING
    return f"no change: both sides resolve to the same strategy and plan ({fp})"


def plan_title(comp: Comparison) -> str:
    """`plan a -> b` (or `plan unchanged (fp)`)."""
    if comp.plan is None:
        return "plan: -"
    a, b = fmt.short(comp.plan.fingerprint_a), fmt.short(comp.plan.fingerprint_b)
    if comp.plan.same:
        return f"plan unchanged ({a})"
    return f"plan {a} -> {b}: {len(comp.plan.changes)} parameter(s) differ"


def results_title(res: Results) -> str:
    """The runs and their windows."""
    a, b = res.run_a, res.run_b
    window = f"{a.start} .. {a.end}"
    if (a.start, a.end) != (b.start, b.end):
        window = f"A {a.start} .. {a.end}, B {b.start} .. {b.end}"
    return f"results: runs {fmt.short(a.run_id)} (A) and {fmt.short(b.run_id)} (B), {window}"


def overlap_text(res: Results) -> str:
    """One sentence on holdings overlap."""
    s = overlap_summary(res.overlaps)
    extra = ""
    if res.only_a or res.only_b:
        extra = (
            f"; rebalances with targets on one side only: A {len(res.only_a)}, B {len(res.only_b)}"
        )
    if not s["rebalances"]:
        return "holdings overlap: no rebalance with targets on both sides" + extra
    return (
        f"holdings overlap over {s['rebalances']} rebalances: shared weight mean "
        f"{s['mean_shared_weight']:.1%}, lowest {s['lowest_shared_weight']:.1%} "
        f"({s['lowest_date']}), last {s['last_shared_weight']:.1%}; Jaccard mean "
        f"{s['mean_jaccard']:.2f}, last {s['last_jaccard']:.2f}{extra}"
    )


def last_text(res: Results) -> str:
    """The heading of the last-rebalance table."""
    when = res.last_a if res.last_a == res.last_b else f"A {res.last_a}, B {res.last_b}"
    n = len(res.last_changes)
    return f"last rebalance ({when}): {n} symbol(s) with a different target weight"


def lowest(overlaps: list[Overlap], n: int) -> list[Overlap]:
    """The `n` rebalances with the lowest shared weight, by date."""
    picked = sorted(overlaps, key=lambda o: (o.shared_weight, o.date))[:n]
    return sorted(picked, key=lambda o: o.date)


def upper(text: str) -> str:
    """The text with its first letter upper case (the rest untouched)."""
    return text[:1].upper() + text[1:]
