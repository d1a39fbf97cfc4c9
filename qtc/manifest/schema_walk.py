"""Walk the manifest models by user path: which model and field a key belongs to.

Used by diagnostics (expected values, did-you-mean) and by the compiler's
checks of `[search]` and `--set` key paths.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal, Union

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from qtc.manifest.base import field_example, field_unit
from qtc.manifest.paths import UserPath, toml_value
from qtc.manifest.strategy import Strategy

FACTORS = "factors"


@dataclass(frozen=True)
class FieldRef:
    """A resolved manifest field: its model, TOML key and pydantic info."""

    model: type[BaseModel]
    key: str
    info: FieldInfo


def keys_of(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """TOML keys of a model (aliases where set) -> field info."""
    return {(info.alias or name): info for name, info in model.model_fields.items()}


def union_variants(annotation: Any) -> dict[str, type[BaseModel]]:
    """For a `kind`-tagged union annotation, map each kind to its model."""
    out: dict[str, type[BaseModel]] = {}
    for arg in _flatten(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel) and "kind" in arg.model_fields:
            for kind in typing.get_args(arg.model_fields["kind"].annotation):
                out[str(kind)] = arg
    return out


def _flatten(annotation: Any) -> list[Any]:
    """Unwrap Annotated / Union / list into their member types."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _flatten(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType, list, tuple):
        return [t for a in typing.get_args(annotation) for t in _flatten(a)]
    return [annotation]


def model_at(path: UserPath, tree: dict[str, Any]) -> type[BaseModel] | None:
    """The model that validates the table at `path` (None if not a table)."""
    model: type[BaseModel] = Strategy
    node: Any = tree
    i = 0
    while i < len(path):
        key = str(path[i])
        info = keys_of(model).get(key)
        if info is None:
            return None
        node = node.get(key) if isinstance(node, dict) else None
        variants = union_variants(info.annotation)
        if key == FACTORS and model is Strategy:
            if i + 1 >= len(path):
                return None
            node = node.get(str(path[i + 1])) if isinstance(node, dict) else None
            i += 1
        if not variants:
            sub = _submodel(info.annotation)
            if sub is None:
                return None
            model = sub
        else:
            kind = node.get("kind") if isinstance(node, dict) else None
            if not isinstance(kind, str) or kind not in variants:
                return None
            model = variants[str(kind)]
        i += 1
    return model


def _submodel(annotation: Any) -> type[BaseModel] | None:
    """The single model type inside an annotation, if any."""
    found = [a for a in _flatten(annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
    return found[0] if len(found) == 1 else None


def field_at(path: UserPath, tree: dict[str, Any]) -> FieldRef | None:
    """The field a leaf key path names, or None when the path is not a known field."""
    if not path:
        return None
    model = model_at(path[:-1], tree)
    if model is None:
        return None
    info = keys_of(model).get(str(path[-1]))
    return FieldRef(model, str(path[-1]), info) if info else None


def describe_type(annotation: Any) -> str:
    """Human name of a field type (`integer`, `one of "a", "b"`, ...)."""
    names: list[str] = []
    for arg in _flatten(annotation):
        if typing.get_origin(arg) is Literal:
            names.append("one of " + ", ".join(toml_value(v) for v in typing.get_args(arg)))
        elif arg is type(None):
            continue
        else:
            names.append(_TYPE_NAMES.get(arg, getattr(arg, "__name__", str(arg))))
    origin = typing.get_origin(annotation)
    if origin in (list, tuple):
        return "array of " + " or ".join(dict.fromkeys(names))
    return " or ".join(dict.fromkeys(names))


_TYPE_NAMES: dict[Any, str] = {
    int: "integer",
    float: "number",
    bool: "true or false",
    str: "string",
    dt.date: "date",
    dict: "table",
}


def expected_for(ref: FieldRef) -> str:
    """The "expected" line for a field: type, unit, bounds and an example."""
    parts = [describe_type(ref.info.annotation)]
    unit = field_unit(ref.info)
    if unit and unit not in ("kind",):
        parts.append(f"({unit})")
    bounds = _bounds(ref.info)
    if bounds:
        parts.append(bounds)
    example = field_example(ref.info)
    text = " ".join(p for p in parts if p)
    if example is not None:
        text += f", e.g. `{ref.key} = {toml_value(example)}`"
    return text


def _bounds(info: FieldInfo) -> str:
    """Render numeric constraints of a field (`> 0`, `<= 1`)."""
    out: list[str] = []
    for meta in info.metadata:
        for attr, sym in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
            value = getattr(meta, attr, None)
            if value is not None:
                out.append(f"{sym} {value}")
    return ", ".join(out)
