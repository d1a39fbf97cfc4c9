"""A registry record, and how one is read from an artifact folder.

A record is what `qtc runs list|show` prints about one artifact folder. It is read from
the folder's document (`run.json`, `sweep.json`, ...) and its volatile `meta.json`
(creation time, strategy file, git commit). Documents of kinds whose format qtc does not
write yet (evolve, validate) are read by the keys a qtc artifact uses everywhere
(`strategy`, `dataset_hashes`, `versions`, `metrics`, `status`).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from qtc.registry.kinds import Kind

HEADLINE = ("total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown", "calmar")
"""The strategy metrics of a backtest a record keeps (with `turnover` from the activity)."""


@dataclass(frozen=True)
class Record:
    """One artifact folder in the registry.

    Attributes:
        folder: The folder, absolute.
        run_id: The id its document gives (a backtest's `sha256:...` run id, a sweep id).
        kind: `backtest`, `sweep`, `evolve` or `validate`.
        strategy: The strategy name.
        fingerprint: The plan fingerprint (a sweep's: its base plan's), if known.
        status: `complete`, or what the document says (`interrupted`).
        created_at: When it was written, UTC, `YYYY-MM-DDTHH:MM:SSZ`.
        strategy_file: The strategy file as the command was given it, if known.
        git_revision: The commit `HEAD` named in the file's repository when it ran.
        git_path: The file's path in that repository.
        git_dirty: Whether the file (or an `extends` parent) differed from that commit;
            None when unknown (a record rebuilt from the folder).
        window_start: First day of a backtest's window.
        window_end: Last day of a backtest's window.
        metrics: Headline metrics (name -> number or None).
        dataset_hashes: Lake dataset -> sha256.
        versions: Package -> version.
    """

    folder: str
    run_id: str
    kind: str
    strategy: str
    fingerprint: str | None = None
    status: str = "complete"
    created_at: str = "1970-01-01T00:00:00Z"
    strategy_file: str | None = None
    git_revision: str | None = None
    git_path: str | None = None
    git_dirty: bool | None = None
    window_start: str | None = None
    window_end: str | None = None
    metrics: dict[str, float | None] = field(default_factory=dict)
    dataset_hashes: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def short_id(self) -> str:
        """The folder name (a backtest's first 12 hex digits of its run id)."""
        return Path(self.folder).name

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {**asdict(self), "short_id": self.short_id}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Record:
        """Read `to_dict` output back (unknown keys ignored).

        Raises:
            ValueError: If a required field is missing or mistyped.
        """
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for key in ("folder", "run_id", "kind", "strategy"):
            if not isinstance(known.get(key), str) or not known[key]:
                raise ValueError(f"no `{key}`")
        return cls(**known)

    def with_source(self, source: dict[str, Any]) -> Record:
        """The record with the strategy file and git fields set from `source`."""
        return replace(self, **{k: v for k, v in source.items() if k in SOURCE_FIELDS})


SOURCE_FIELDS = ("strategy_file", "git_revision", "git_path", "git_dirty")


def read_folder(folder: Path, kind: Kind) -> Record:
    """The record of one artifact folder.

    Raises:
        ValueError: If its document is missing, not JSON or not a qtc artifact of `kind`.
    """
    doc = _json(folder / kind.document)
    if not isinstance(doc, dict):
        raise ValueError(f"{kind.document} is not a JSON object")
    meta = _meta(folder)
    rid = next((doc[k] for k in kind.id_keys if isinstance(doc.get(k), str)), folder.name)
    record = Record(
        folder=str(folder.resolve()),
        run_id=rid,
        kind=kind.name,
        strategy=_strategy_name(doc, folder),
        fingerprint=_text(doc.get("plan_fingerprint") or doc.get("base_fingerprint")),
        status=_text(doc.get("status")) or "complete",
        created_at=_created(meta, folder / kind.document),
        strategy_file=_text(meta.get("strategy_file")) or _request_path(doc),
        git_revision=_text(meta.get("git_commit")),
        metrics=_metrics(kind.name, doc),
        dataset_hashes=_str_map(doc.get("dataset_hashes")),
        versions=_str_map(doc.get("versions")),
    )
    window = _table(doc, "window")
    return replace(
        record, window_start=_text(window.get("start")), window_end=_text(window.get("end"))
    )


def _json(path: Path) -> Any:
    """The JSON content of a regular file (ValueError when unreadable; a FIFO is not read)."""
    if not path.is_file():
        raise ValueError(f"no {path.name}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read {path.name}: {exc.__class__.__name__}") from None


def _meta(folder: Path) -> dict[str, Any]:
    """meta.json, or {} when absent or damaged (it is volatile, never required)."""
    try:
        data = _json(folder / "meta.json")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _strategy_name(doc: dict[str, Any], folder: Path) -> str:
    """The strategy's name: the document's `strategy` (a name or the resolved strategy)."""
    value = doc.get("strategy")
    if isinstance(value, dict):
        value = value.get("name")
    return value if isinstance(value, str) and value else folder.parent.name


def _request_path(doc: dict[str, Any]) -> str | None:
    """A search's strategy file, from its saved request."""
    request = doc.get("request")
    return _text(request.get("path")) if isinstance(request, dict) else None


def _created(meta: dict[str, Any], document: Path) -> str:
    """Creation time from meta.json (`created_at`, `finished_at`), else the document's mtime."""
    for key in ("created_at", "finished_at"):
        stamp = parse_time(meta.get(key))
        if stamp is not None:
            return format_time(stamp)
    mtime = dt.datetime.fromtimestamp(document.stat().st_mtime, dt.UTC)
    return format_time(mtime)


def parse_time(value: Any) -> dt.datetime | None:
    """An ISO timestamp as an aware UTC datetime (None when it is not one)."""
    if not isinstance(value, str):
        return None
    try:
        stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp.replace(tzinfo=dt.UTC) if stamp.tzinfo is None else stamp.astimezone(dt.UTC)


def format_time(stamp: dt.datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SSZ`."""
    return stamp.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _metrics(kind: str, doc: dict[str, Any]) -> dict[str, float | None]:
    """The headline metrics of a document."""
    metrics = _table(doc, "metrics")
    if kind == "backtest":
        strat = _table(metrics, "strategy")
        activity = _table(metrics, "activity")
        out = {k: _number(strat.get(k)) for k in HEADLINE}
        return {**out, "turnover": _number(activity.get("turnover"))}
    if kind in ("sweep", "evolve"):
        return _search_metrics(doc)
    return {k: _number(v) for k, v in metrics.items() if _number(v) is not None}


def _search_metrics(doc: dict[str, Any]) -> dict[str, float | None]:
    """A search's counts (variants or trials, ranked) and its winner's objective values."""
    counts = _table(doc, "counts")
    out: dict[str, float | None] = {
        k: _number(counts.get(k)) for k in ("variants", "trials", "ranked") if k in counts
    }
    objective = _table(doc, "objective")
    top = doc.get("top") if isinstance(doc.get("top"), list) else []
    if top and isinstance(top[0], dict) and isinstance(objective.get("metric"), str):
        out[f"best_{objective['metric']}"] = _number(top[0].get("objective"))
    best = _table(doc, "best")
    values = _table(best, "objectives")
    out.update({f"best_{k}": _number(v) for k, v in values.items()})
    return out


def _table(doc: dict[str, Any], key: str) -> dict[str, Any]:
    """A JSON object under `key`, or {} when absent or not an object."""
    value = doc.get(key)
    return value if isinstance(value, dict) else {}


def _number(value: Any) -> float | None:
    """A finite number as float, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _text(value: Any) -> str | None:
    """A non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def _str_map(value: Any) -> dict[str, str]:
    """A {str: str} mapping (other entries dropped)."""
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, str)}
