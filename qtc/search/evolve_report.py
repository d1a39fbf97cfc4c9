"""An evolution's results as data: evolve.json, the winners' TOML files, the holdout table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qtc.search.evolve import Evolution
from qtc.search.evolve_results import Row


def counts(found: Sequence[Row], ranked: int) -> dict[str, int]:
    """Trials by status, ranked trials and generations."""
    out = {"trials": len(found), "ok": 0, "failed": 0, "duplicate": 0}
    for row in found:
        out[row.status] = out.get(row.status, 0) + 1
    out["ranked"] = ranked
    out["generations"] = len({row.generation for row in found})
    return out


def entry(evolution: Evolution, rank: int, row: Row, file: str | None) -> dict[str, Any]:
    """One winner in evolve.json."""
    return {
        "rank": rank,
        "trial": row.number,
        "generation": row.generation,
        "variant": row.variant,
        "params": row.values,
        "objectives": {o.metric: row.metrics.get(o.metric) for o in evolution.objectives},
        "file": file,
    }


def winner_files(
    evolution: Evolution,
    winners: Sequence[Row],
    ranked: int,
    family_trials: int,
    bias: dict[str, Any],
    holdout: dict[int, dict[str, Any]],
) -> list[tuple[str, str]]:
    """(file name, TOML text) of each winner, on the user's window, with how it was found."""
    from qtc.manifest.variants import with_values
    from qtc.search.strategy_toml import file_name, strategy_toml

    out: list[tuple[str, str]] = []
    for rank, row in enumerate(winners, start=1):
        strategy, _ = with_values(evolution.original, row.values, label="[search]")
        if strategy is None:
            continue  # it compiled on the in-sample window; the full window is the user's
        header = _header(evolution, rank, row, len(winners), ranked, family_trials, bias)
        header += _holdout_lines(evolution, holdout.get(row.number))
        out.append((file_name(rank, len(winners), row.variant), strategy_toml(strategy, header)))
    return out


def _header(
    evolution: Evolution,
    rank: int,
    row: Row,
    members: int,
    ranked: int,
    family_trials: int,
    bias: dict[str, Any],
) -> list[str]:
    """The comment lines saying how a winner was found."""
    request = evolution.request
    figures = ", ".join(f"{o.metric} = {row.metrics.get(o.metric)!r}" for o in evolution.objectives)
    if len(evolution.objectives) > 1:
        labels = ", ".join(o.label for o in evolution.objectives)
        place = f"Pareto front member {rank} of {members} ({labels}) among {ranked} ranked trials"
    else:
        place = f"rank {rank} of {ranked} ranked trials by {evolution.objectives[0].label}"
    dsr = bias.get("deflated_sharpe")
    return [
        f"# Written by `qtc evolve` (evolution {evolution.evolve_id}, {request.sampler} sampler, "
        f"seed {request.seed}, population {request.population}): {place}.",
        f"# {figures}.",
        f"# Trial {row.number} (generation {row.generation}), variant {row.variant}; the family "
        f"has {family_trials} trials in the ledger.",
        "# Deflated Sharpe of the evolution's best trial: "
        + (f"{dsr:.4f}." if dsr is not None else "n/a."),
        "# Parameters: " + ", ".join(f"{k} = {v!r}" for k, v in row.values.items()),
    ]


def _holdout_lines(evolution: Evolution, figures: dict[str, Any] | None) -> list[str]:
    """In-sample and out-of-sample Sharpe of a winner (with a holdout)."""
    if evolution.holdout is None or figures is None:
        return []
    split = evolution.holdout.as_dict()
    inside = figures["in_sample"].get("sharpe")
    outside = figures["out_of_sample"].get("sharpe")
    return [
        f"# Searched on {split['in_sample']} only: in-sample Sharpe {_fmt(inside)}; "
        f"held-out {split['out_of_sample']}: Sharpe {_fmt(outside)}."
    ]


def _fmt(value: Any) -> str:
    """A Sharpe ratio for a comment."""
    return "n/a" if value is None else f"{value:.3f}"


def document(
    evolution: Evolution,
    *,
    status: str,
    found: Sequence[Row],
    ranked: int,
    winners: Sequence[dict[str, Any]],
    best: Row | None,
    family_trials: int,
    bias: dict[str, Any],
    holdout: list[dict[str, Any]],
    versions: dict[str, str],
) -> dict[str, Any]:
    """evolve.json."""
    from qtc.search.evolve_files import SCHEMA_VERSION

    request = evolution.request
    several = len(evolution.objectives) > 1
    return {
        "schema_version": SCHEMA_VERSION,
        "evolve_id": evolution.evolve_id,
        "status": status,
        "strategy": evolution.strategy_name,
        "family": evolution.family,
        "family_trials": family_trials,
        "base_fingerprint": evolution.base_plan.fingerprint,
        "as_of": evolution.as_of.isoformat(),
        "request": request.as_dict(),
        "sampler": {
            "name": request.sampler,
            "seed": request.seed,
            "population": request.population,
        },
        "space": evolution.space.as_dict(),
        "objectives": [{"metric": o.metric, "maximize": o.maximize} for o in evolution.objectives],
        "filters": [f.text for f in evolution.filters],
        "counts": counts(found, ranked),
        "best": _best(evolution, best, winners),
        "top": [] if several else list(winners),
        "pareto": list(winners) if several else [],
        "holdout": (
            {**evolution.holdout.as_dict(), "winners": holdout} if evolution.holdout else None
        ),
        "bias": bias,
        "dataset_hashes": evolution.dataset_hashes,
        "versions": versions,
    }


def _best(
    evolution: Evolution, best: Row | None, winners: Sequence[dict[str, Any]]
) -> dict[str, Any] | None:
    """The best trial by the first objective (with its file when it was written)."""
    if best is None:
        return None
    file = next((w["file"] for w in winners if w["trial"] == best.number), None)
    return entry(evolution, 1, best, file)


def start_document(evolution: Evolution) -> dict[str, Any]:
    """The first evolve.json of a new evolution (what `--resume` needs)."""
    from qtc.search.evolve_files import SCHEMA_VERSION

    return {
        "schema_version": SCHEMA_VERSION,
        "evolve_id": evolution.evolve_id,
        "status": "running",
        "strategy": evolution.strategy_name,
        "request": evolution.request.as_dict(),
    }
