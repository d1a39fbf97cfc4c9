"""The search space of a sweep: key paths in the user's terms and their candidates.

A space comes from `--grid KEY=V1,V2,...` options, a `--grid-file` TOML table
(`"factors.mom.lookback" = [126, 252]` or `{ min, max, step }`), or the strategy's
own `[search]` section. Every key and candidate is checked against the strategy
before anything runs: an unknown key is QTC204 (with did-you-mean), a candidate
that does not fit its field QTC205, the same codes a `[search]` section gets.
"""

from __future__ import annotations

import difflib
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qtc.errors import Diagnostic, Location, StrategyError, UserError
from qtc.manifest.overrides import parse_value
from qtc.manifest.paths import format_path, parse_path
from qtc.manifest.schema_walk import field_at
from qtc.manifest.search import SearchRange
from qtc.manifest.strategy import Strategy
from qtc.manifest.variants import candidate_problems, leaf_paths, user_tree

GRID = "--grid"
NOT_SEARCHABLE = ("search", "validate", "name", "description", "extends", "schema")


@dataclass(frozen=True)
class Space:
    """Key path -> candidate values, in the order the user gave them.

    Attributes:
        keys: Key paths (`factors.mom_12_1.lookback`).
        candidates: One list of candidates per key.
        source: Where it came from (`--grid`, the grid file, `[search]`).
    """

    keys: tuple[str, ...]
    candidates: tuple[tuple[Any, ...], ...]
    source: str

    @property
    def size(self) -> int:
        """How many variants the full grid has."""
        total = 1
        for values in self.candidates:
            total *= len(values)
        return total

    def as_dict(self) -> dict[str, list[Any]]:
        """The space as JSON-ready data."""
        return {k: list(v) for k, v in zip(self.keys, self.candidates, strict=True)}

    def variant(self, index: int) -> dict[str, Any]:
        """The `index`-th variant of the full grid (row-major: the last key varies fastest)."""
        out: dict[str, Any] = {}
        for key, values in zip(reversed(self.keys), reversed(self.candidates), strict=True):
            index, at = divmod(index, len(values))
            out[key] = values[at]
        return {k: out[k] for k in self.keys}

    def indices(self, sample: int | None, seed: int) -> list[int]:
        """Grid indices to run: all of them, or `sample` drawn without replacement (sorted)."""
        if sample is None or sample >= self.size:
            return list(range(self.size))
        return sorted(random.Random(seed).sample(range(self.size), sample))

    def variants(self, indices: Sequence[int]) -> Iterator[dict[str, Any]]:
        """The variants at `indices`."""
        for index in indices:
            yield self.variant(index)


def from_grid_options(options: Sequence[str]) -> Space:
    """A space from `--grid KEY=V1,V2,...` options (values typed like `--set`).

    Raises:
        UserError: For a malformed option, a repeated key or an empty candidate list.
    """
    keys: list[str] = []
    values: list[tuple[Any, ...]] = []
    for text in options:
        key, sep, raw = text.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UserError(
                f"bad --grid {text!r}: expected KEY=V1,V2,...",
                hint="for example --grid selection.top_n=20,50,100",
            )
        if key in keys:
            raise UserError(f"--grid key {key!r} is given twice", hint="list every value once")
        parts = [p for p in (s.strip() for s in _split(raw)) if p]
        if not parts:
            raise UserError(f"--grid {key} has no values", hint="give at least one value")
        keys.append(key)
        values.append(tuple(parse_value(p) for p in parts))
    return Space(tuple(keys), tuple(values), GRID)


def from_grid_file(path: Path) -> Space:
    """A space from a TOML file of `key = [candidates]` or `key = { min, max, step }`.

    Raises:
        UserError: If the file cannot be read, is not TOML, or an entry has the wrong shape.
    """
    doc = _read_grid_file(path)
    table = doc.get("search", doc)
    keys: list[str] = []
    values: list[tuple[Any, ...]] = []
    for key, entry in _flatten(table):
        keys.append(key)
        values.append(_entry_candidates(path, key, entry))
    if not keys:
        raise UserError(f"{path}: the grid file has no keys", hint='write `"key" = [v1, v2]`')
    return Space(tuple(keys), tuple(values), str(path))


def from_strategy(strategy: Strategy) -> Space:
    """The strategy's `[search]` space (already checked when the strategy compiled).

    Raises:
        UserError: If a key is a log-scale range, which has no finite list of candidates.
    """
    try:
        found = strategy.search.candidates()
    except ValueError as exc:
        raise _unsweepable(str(exc), "[search]") from None
    return Space(tuple(found), tuple(tuple(v) for v in found.values()), "[search]")


def _unsweepable(key: str, source: str) -> UserError:
    """A log-scale range in a sweep: say what a sweep can take instead."""
    return UserError(
        f"{source}: {key} is a log-scale range, which a sweep cannot enumerate",
        hint=f"give --grid {key}=V1,V2,... or a stepped range {{ min, max, step }} "
        "(or search it with `qtc evolve`)",
    )


def check_space(strategy: Strategy, space: Space) -> None:
    """Check every key and candidate of `space` against the strategy, all at once.

    Raises:
        StrategyError: QTC204 for unknown keys (with did-you-mean), QTC205 for candidates
            that do not validate, QTC212 for an empty space.
    """
    tree = user_tree(strategy)
    known = [format_path(p) for p in leaf_paths(tree) if p[0] not in NOT_SEARCHABLE]
    found: list[Diagnostic] = []
    if not space.keys:
        found.append(_diag("QTC212", space.source, "the search space is empty", ""))
    others = dict(zip(space.keys, space.candidates, strict=True))
    for key, values in others.items():
        found += _check_key(strategy, tree, known, space.source, key, values, others)
    if found:
        raise StrategyError(found)


def _check_key(
    strategy: Strategy,
    tree: dict[str, Any],
    known: list[str],
    source: str,
    key: str,
    values: Sequence[Any],
    others: Mapping[str, Sequence[Any]],
) -> list[Diagnostic]:
    """QTC204/QTC205 for one key of the space (candidates checked with `candidate_problems`)."""
    try:
        path = parse_path(key)
    except ValueError as exc:
        return [_diag("QTC204", source, f"bad search key {key!r}: {exc}", key)]
    if path[0] in NOT_SEARCHABLE or field_at(path, tree) is None:
        near = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        message = f'search key "{key}" is not a parameter of this strategy'
        hint = f'did you mean "{near[0]}"?' if near else "see `qtc compile FILE --explain`"
        return [_diag("QTC204", source, message, key, hint=hint)]
    for value in values:
        problems = candidate_problems(strategy, key, value, others, label=source)
        if problems:
            message = f"search candidate {value!r} for {key}: {problems[0].message}"
            hint = "every candidate must be a valid value of its key"
            return [_diag("QTC205", source, message, key, hint=hint, expected=problems[0].expected)]
    return []


def _diag(
    code: str, source: str, message: str, key: str, *, hint: str = "", expected: str = ""
) -> Diagnostic:
    """A diagnostic located at the space's source."""
    return Diagnostic(
        code=code,
        message=message,
        location=Location(source),
        key_path=key,
        expected=expected or "a key path such as `selection.top_n` or `factors.<name>.lookback`",
        hint=hint,
    )


def _read_grid_file(path: Path) -> dict[str, Any]:
    """The TOML document of a grid file.

    Raises:
        UserError: If it cannot be read or is not TOML.
    """
    import tomllib

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "is not UTF-8 text"
        raise UserError(f"{path}: {reason}", hint="check the --grid-file path") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: not valid TOML: {exc}", hint="fix the grid file") from None


def _split(raw: str) -> list[str]:
    """Split `V1,V2,...` on commas outside brackets and quotes (lists stay one value)."""
    parts: list[str] = []
    depth, quote, current = 0, "", ""
    for char in raw:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += char
    parts.append(current)
    return parts


def _flatten(table: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(key path, entry) pairs: nested tables are paths unless they are ranges."""
    for key, entry in table.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(entry, dict) and not {"min", "max"} & set(entry):
            yield from _flatten(entry, path)
        else:
            yield path, entry


def _entry_candidates(path: Path, key: str, entry: Any) -> tuple[Any, ...]:
    """Candidates of one grid-file entry."""
    if isinstance(entry, list) and entry:
        return tuple(entry)
    if isinstance(entry, dict):
        try:
            span = SearchRange.model_validate(entry)
        except ValueError as exc:
            raise UserError(
                f"{path}: bad range for {key}: {exc}".splitlines()[0],
                hint="a range is { min = A, max = B, step = S } with max >= min, step > 0",
            ) from None
        if not span.enumerable:
            raise _unsweepable(key, str(path))
        return tuple(span.values())
    raise UserError(
        f"{path}: {key} must be a non-empty list of candidates or a {{ min, max, step }} range",
        hint='for example "selection.top_n" = [20, 50, 100]',
    )
