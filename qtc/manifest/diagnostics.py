"""Turn pydantic validation errors into diagnostics in the user's terms.

For each error: the union tag is dropped from the location, factor indices
become factor names (`factors.mom_12_1.lookback`), the position comes from the
key origins, a misspelled key is paired with the field it was meant to be
(did-you-mean), and the expected value is described from the field's schema.
"""

from __future__ import annotations

import difflib
from typing import Any

from pydantic_core import ErrorDetails

from qtc.errors import Diagnostic, Location
from qtc.manifest.base import PATTERN_WORDS, FieldProblem
from qtc.manifest.document import FACTORS, Origin
from qtc.manifest.paths import UserPath, format_path, toml_value
from qtc.manifest.schema_walk import (
    expected_for,
    field_at,
    keys_of,
    model_at,
    union_variants,
)
from qtc.manifest.strategy import Strategy

UNION_SECTIONS = ("universe", "sizing", "stops", "regime", "broker")
_FAMILY = {FACTORS: "factor", "stops": "stop"}

_TYPE_CODES = {
    "missing": "QTC105",
    "extra_forbidden": "QTC101",
    "union_tag_invalid": "QTC104",
    "union_tag_not_found": "QTC105",
}
_WRONG_TYPE_SUFFIXES = ("_type", "_parsing", "_from_float", "int_from_float")
_BOUND_WORDS = {
    "greater_than": ("gt", ">"),
    "greater_than_equal": ("ge", ">="),
    "less_than": ("lt", "<"),
    "less_than_equal": ("le", "<="),
}


class Mapper:
    """Maps pydantic errors for one composed strategy."""

    def __init__(self, tree: dict[str, Any], origins: dict[UserPath, Origin], main: str) -> None:
        """Create a mapper.

        Args:
            tree: The composed user tree (factors keyed by name).
            origins: Where each user path was written.
            main: The main strategy file as shown to the user.
        """
        self.tree = tree
        self.origins = origins
        self.main = main
        factors = tree.get(FACTORS)
        self.factor_keys = list(factors) if isinstance(factors, dict) else []

    def map_all(self, errors: list[ErrorDetails]) -> list[Diagnostic]:
        """Map every error; typo pairs (unknown + missing) become one diagnostic."""
        cleaned = [(self.user_path(e["loc"]), e) for e in errors]
        cleaned = self._collapse_search(cleaned)
        missing = {p for p, e in cleaned if e["type"] == "missing"}
        used: set[UserPath] = set()
        out: list[Diagnostic] = []
        for path, err in cleaned:
            if err["type"] == "extra_forbidden":
                out.append(self.unknown_key(path, missing, used))
        for path, err in cleaned:
            if err["type"] != "extra_forbidden" and path not in used:
                out.append(self.one(path, err))
        return out

    def user_path(self, loc: tuple[int | str, ...]) -> UserPath:
        """Pydantic loc -> user path (drop union tags, factor index -> name)."""
        parts = list(loc)
        if parts and parts[0] == FACTORS and len(parts) > 1 and isinstance(parts[1], int):
            idx = parts[1]
            parts[1] = self.factor_keys[idx] if idx < len(self.factor_keys) else f"[{idx}]"
            if len(parts) > 2 and self._is_tag(parts[2], ("factors", parts[1])):
                del parts[2]
        elif (
            parts
            and parts[0] in UNION_SECTIONS
            and len(parts) > 1
            and self._is_tag(parts[1], (str(parts[0]),))
        ):
            del parts[1]
        return tuple(parts)

    def _is_tag(self, part: int | str, table: UserPath) -> bool:
        """True when `part` is the union tag pydantic inserted for the table at `table`."""
        node = self._node(table)
        return isinstance(node, dict) and node.get("kind") == part

    def _node(self, path: UserPath) -> Any:
        """The raw value at a user path in the composed tree (None if absent)."""
        node: Any = self.tree
        for part in path:
            if not isinstance(node, dict):
                return None
            node = node.get(str(part))
        return node

    def _collapse_search(
        self, cleaned: list[tuple[UserPath, ErrorDetails]]
    ) -> list[tuple[UserPath, ErrorDetails]]:
        """Keep one error per `[search]` key: union branches produce several."""
        out: list[tuple[UserPath, ErrorDetails]] = []
        seen: set[UserPath] = set()
        for path, err in cleaned:
            if path[:1] != ("search",) or len(path) < 3:
                out.append((path, err))
                continue
            key_path = path[:2]
            raw = self._node(key_path)
            is_range = isinstance(raw, dict)
            branch = str(path[2])
            if is_range == ("SearchRange" in branch) and key_path not in seen:
                rest = tuple(p for p in path[3:] if not _is_type_label(p))
                fixed = dict(err)
                if not is_range and not isinstance(raw, list):
                    fixed = {**err, "type": "search_shape", "msg": ""}
                seen.add(key_path)
                out.append(((*key_path, *rest), fixed))  # type: ignore[arg-type]
        return out

    def locate(self, path: UserPath, *, key: bool = False) -> Location:
        """Best location for a path: its own origin, else the nearest written ancestor."""
        for n in range(len(path), 0, -1):
            origin = self.origins.get(path[:n])
            if origin is not None:
                exact = n == len(path)
                return origin.key_location() if (key or not exact) else origin.value_location()
        return Location(self.main)

    def unknown_key(
        self, path: UserPath, missing: set[UserPath], used: set[UserPath]
    ) -> Diagnostic:
        """QTC101 for one key the schema does not know, with did-you-mean."""
        parent, key = path[:-1], str(path[-1])
        model = model_at(parent, self.tree)
        known = sorted(keys_of(model), key=lambda k: k != "kind") if model else []
        near = difflib.get_close_matches(key, known, n=1, cutoff=0.7)
        hint = ""
        if near:
            target = (*parent, near[0])
            hint = f"did you mean `{format_path(target)}`?"
            if target in missing:
                used.add(target)
                hint += " (required, missing)"
        else:
            hint = _other_kind(parent, key, self.tree) or _elsewhere(key) or ""
        where = f" in [{format_path(parent)}]" if parent else ""
        return Diagnostic(
            code="QTC101",
            message=f'unknown key "{key}"{where}',
            location=self.locate(path, key=True),
            key_path=format_path(path),
            expected=("known keys: " + ", ".join(known)) if known else "",
            hint=hint,
        )

    def one(self, path: UserPath, err: ErrorDetails) -> Diagnostic:
        """Map any error other than an unknown key."""
        kind = err["type"]
        if kind == "missing":
            return self._missing(path)
        if kind == "union_tag_invalid":
            return self._bad_kind(path, err)
        if kind == "union_tag_not_found":
            return self._missing((*path, "kind"))
        if kind == "search_shape":
            return self._search_shape(path)
        if path == ("schema",):
            return self._schema_version(path)
        if kind == "value_error":
            return self._value_error(path, err)
        if kind.startswith("date") or kind.startswith("datetime"):
            return self._simple(path, "QTC112", f"invalid date: {_ctx_error(err)}")
        if kind.endswith(_WRONG_TYPE_SUFFIXES) or kind in ("model_type", "dict_type", "list_type"):
            return self._simple(path, "QTC103", f"wrong type for `{_leaf(path)}`")
        return self._simple(path, "QTC102", f"invalid value for `{_leaf(path)}`: {_reason(err)}")

    def _simple(self, path: UserPath, code: str, message: str) -> Diagnostic:
        """A diagnostic at a value, with the field's (or, for a list item, its list's) expected."""
        ref = field_at(path, self.tree)
        if ref is None and path and isinstance(path[-1], int):
            ref = field_at(path[:-1], self.tree)
        return Diagnostic(
            code=code,
            message=message,
            location=self.locate(path),
            key_path=format_path(path),
            expected=expected_for(ref) if ref else "",
            hint=self._kind_note(path),
        )

    def _kind_note(self, path: UserPath) -> str:
        """Say which factor kind a factor key belongs to (keys differ by kind)."""
        if len(path) > 2 and path[0] == FACTORS and path[-1] not in ("name", "kind"):
            kind = self._node((*path[:2], "kind"))
            if isinstance(kind, str):
                return f'applies to factor kind "{kind}"'
        return ""

    def _missing(self, path: UserPath) -> Diagnostic:
        """QTC105 for a required key that is absent, pointing at its table."""
        parent = path[:-1]
        ref = field_at(path, self.tree)
        where = f"[{format_path(parent)}]" if parent else "the top level"
        return Diagnostic(
            code="QTC105",
            message=f'missing required key "{path[-1]}" in {where}',
            location=self.locate(parent, key=True) if parent else Location(self.main),
            key_path=format_path(path),
            expected=expected_for(ref) if ref else _kind_expected(parent, self.tree),
            hint=f"add `{path[-1]} = …` to {where}",
        )

    def _bad_kind(self, path: UserPath, err: ErrorDetails) -> Diagnostic:
        """QTC104 for a `kind` that is not one of the union's tags."""
        ctx = err.get("ctx") or {}
        tag = str(ctx.get("tag", ""))
        expected = [t.strip().strip("'") for t in str(ctx.get("expected_tags", "")).split(",")]
        near = difflib.get_close_matches(tag, expected, n=1, cutoff=0.5)
        family = _FAMILY.get(str(path[0]), str(path[0]))
        return Diagnostic(
            code="QTC104",
            message=f'unknown {family} kind "{tag}"',
            location=self.locate((*path, "kind")),
            key_path=format_path((*path, "kind")),
            expected="one of: " + ", ".join(f'"{t}"' for t in expected),
            hint=f'did you mean "{near[0]}"?' if near else "",
        )

    def _value_error(self, path: UserPath, err: ErrorDetails) -> Diagnostic:
        """QTC102 from a model check; `FieldProblem` says which key to blame."""
        exc = (err.get("ctx") or {}).get("error")
        if isinstance(exc, FieldProblem):
            target = (*path, exc.key)
            return Diagnostic(
                code=exc.code,
                message=str(exc),
                location=self.locate(target),
                key_path=format_path(target),
                expected=exc.expected,
            )
        return self._simple(path, "QTC102", _ctx_error(err))

    def _schema_version(self, path: UserPath) -> Diagnostic:
        """QTC111 for a `schema` other than the supported version."""
        return Diagnostic(
            code="QTC111",
            message="unsupported schema version",
            location=self.locate(path),
            key_path="schema",
            expected="`schema = 1` (the only version this qtc reads)",
            hint="upgrade qtc, or write the strategy against schema 1",
        )

    def _search_shape(self, path: UserPath) -> Diagnostic:
        """QTC103 for a `[search]` entry that is neither a list nor a range table."""
        return Diagnostic(
            code="QTC103",
            message=f"wrong type for search key {format_path(path[1:])}",
            location=self.locate(path),
            key_path=format_path(path),
            expected="a list of candidates or a range table, e.g. `[126, 189, 252]` or "
            "`{ min = 126, max = 252, step = 21 }`",
        )


def _is_type_label(part: int | str) -> bool:
    """Pydantic's labels for union branches inside a loc (`list[...]`, `int`, ...)."""
    return isinstance(part, str) and (
        "[" in part or part in ("bool", "int", "float", "str") or "SearchRange" in part
    )


def _leaf(path: UserPath) -> str:
    """The last key of a path, as text (`symbols[5]` for a list item)."""
    if len(path) > 1 and isinstance(path[-1], int):
        return f"{path[-2]}[{path[-1]}]"
    return str(path[-1]) if path else ""


def _ctx_error(err: ErrorDetails) -> str:
    """The message of the exception a validator raised (or pydantic's message)."""
    ctx = err.get("ctx") or {}
    exc = ctx.get("error")
    return str(exc) if exc is not None else err["msg"]


def _reason(err: ErrorDetails) -> str:
    """Short reason for a constraint error: `must be > 0`, `must have at least 1 item`."""
    ctx = err.get("ctx") or {}
    word = _BOUND_WORDS.get(err["type"])
    if word:
        return f"must be {word[1]} {ctx.get(word[0])}"
    if err["type"] == "literal_error":
        return f"expected {ctx.get('expected')}"
    if err["type"] == "string_pattern_mismatch" and ctx.get("pattern") in PATTERN_WORDS:
        return f"must be {PATTERN_WORDS[ctx['pattern']]}"
    msg = err["msg"]
    return msg[0].lower() + msg[1:] if msg else "invalid"


def _other_kind(parent: UserPath, key: str, tree: dict[str, Any]) -> str | None:
    """If `key` belongs to other kinds of the same union, say which."""
    section = parent[0] if parent else None
    if section is None or (section == FACTORS and len(parent) != 2):
        return None
    info = keys_of(Strategy).get(str(section))
    if info is None:
        return None
    annotation = info.annotation
    if section == FACTORS:
        from qtc.manifest.factors import FactorSpec

        annotation = FactorSpec
    kinds = [k for k, model in union_variants(annotation).items() if key in keys_of(model)]
    if not kinds:
        return None
    return f"`{key}` is a key of kind " + ", ".join(f'"{k}"' for k in kinds) + " only"


def _elsewhere(key: str) -> str | None:
    """If `key` is a field of another section, say where it belongs."""
    for section, info in keys_of(Strategy).items():
        variants = union_variants(info.annotation)
        models = list(variants.values()) or []
        sub = model_at((section,), {section: {}}) if not variants else None
        if sub is not None:
            models.append(sub)
        for model in models:
            if key in keys_of(model):
                return f"`{key}` belongs in [{section}]"
    return None


def _kind_expected(parent: UserPath, tree: dict[str, Any]) -> str:
    """Expected line for a missing `kind`."""
    if parent[:1] == (FACTORS,):
        return 'a factor kind, e.g. `kind = "momentum"`'
    return f"a `kind` for [{format_path(parent)}]"


__all__ = ["Mapper", "toml_value"]
