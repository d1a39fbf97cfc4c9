"""Random mutations of valid strategy files never escape as uncaught exceptions.

For every `strategies/*.toml`, hypothesis mutates the file (a) structurally, on
the parsed TOML re-dumped with tomli_w, and (b) as raw text, then loads it with
`load_strategy` and, when that succeeds, compiles it with `compile_strategy`.
The only allowed outcomes are a plan, a `LoadedStrategy` with diagnostics, or a
`StrategyError`; every diagnostic must carry a catalogued code, a message and a
sane location. The same mutations are pushed through `qtc check` (CliRunner),
and random `--set` overrides through `load_strategy`.

The regression tests at the end pin inputs that used to escape as exceptions
(non-finite floats, unbounded `[search]` ranges, unusable `extends` paths).
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import shutil
import tempfile
import tomllib
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from qtc.cli.main import app
from qtc.compile.compiler import compile_strategy
from qtc.errors import CODES, Diagnostic, Severity, StrategyError
from qtc.manifest.document import to_user_tree
from qtc.manifest.factors import FACTOR_KINDS
from qtc.manifest.load import LoadedStrategy, load_strategy
from qtc.manifest.paths import format_path, toml_value
from qtc.manifest.schema_walk import keys_of, model_at, union_variants
from qtc.manifest.strategy import Strategy
from qtc.manifest.variants import leaf_paths, user_tree

ROOT = Path(__file__).resolve().parents[2]
STRATEGIES = ROOT / "strategies"
FILES = sorted(STRATEGIES.glob("*.toml"))
AS_OF = dt.date(2024, 1, 2)

PROPS = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)

Key = str | int
NodePath = tuple[Key, ...]


# --- what the schema knows (for realistic key names and kinds) --------------------------


def _schema_names() -> tuple[list[str], list[str]]:
    """Every TOML key of every manifest model, and every `kind` tag of every union."""
    keys: set[str] = set(keys_of(Strategy))
    kinds: set[str] = set(FACTOR_KINDS)
    for section, info in keys_of(Strategy).items():
        variants = union_variants(info.annotation)
        kinds.update(variants)
        models = list(variants.values())
        sub = None if variants else model_at((section,), {section: {}})
        if sub is not None:
            models.append(sub)
        for model in models:
            keys.update(keys_of(model))
    return sorted(keys), sorted(kinds)


SCHEMA_KEYS, SCHEMA_KINDS = _schema_names()
SECRET_KEYS = ["api_key", "password", "token", "Secret", "private_key", "secret_key_env"]
NASTY_STRINGS = [
    "",
    " ",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "+inf",
    "1e999",
    "-0",
    "0x10",
    "1_000",
    "true",
    "null",
    "None",
    "2024-13-45",
    "2024-02-30",
    "2005-01-01",
    "12:00:00",
    "momentum",
    "sp500",
    "SPY",
    "../base.toml",
    "factors.mom_12_1.lookback",
    "\t",
    "\u00e9\u00e8",
    "\U0001f600",
    "a\nb",
    '"quoted"',
    "\\",
]
NASTY_EXTENDS = [
    "base.toml",
    "momentum_us.toml",
    "momentum_child.toml",
    "missing.toml",
    "",
    ".",
    "..",
    "/",
    "/dev/null",
    "../strategies/base.toml",
    "./base.toml",
    "sub/dir/x.toml",
]

TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=16)
SCALARS = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([0, 1, -1, 2, 21, 252, 2**31, 2**63 - 1, -(2**63), 10**30]),
    st.floats(),
    st.sampled_from([0.0, -0.0, 0.5, 1.0, 1.5, 1e308, -1e308, 5e-324, math.inf, -math.inf]),
    st.just(math.nan),
    st.booleans(),
    TEXT,
    st.sampled_from(NASTY_STRINGS + SCHEMA_KINDS + SCHEMA_KEYS),
    st.dates(),
    st.datetimes(timezones=st.none() | st.just(dt.UTC)),
    st.times(),
)
JUNK = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(SCHEMA_KEYS) | TEXT, inner, max_size=4)
    ),
    max_leaves=10,
)
KEY_NAMES = st.one_of(
    st.sampled_from(SCHEMA_KEYS),
    st.sampled_from(SECRET_KEYS),
    TEXT,
    st.sampled_from(["", " ", "a.b", "factors", "[0]", "kind ", "KIND", "x" * 80]),
)


# --- the contract ------------------------------------------------------------------------


def check_diagnostics(diags: list[Diagnostic], sources: dict[str, str]) -> None:
    """Every diagnostic has a catalogued code, a message and a location inside its file."""
    for d in diags:
        assert isinstance(d, Diagnostic), d
        assert d.code in CODES, d
        assert isinstance(d.message, str) and d.message.strip(), d
        assert d.severity in (Severity.ERROR, Severity.WARNING), d
        d.to_dict()
        loc = d.location
        if loc is None or loc.line <= 0:
            continue
        assert loc.col >= 1, d
        text = sources.get(loc.file)
        if text is not None:
            # A position just past a final newline (end of file) is line count + 1.
            assert loc.line <= text.count("\n") + 1, (d, text.count("\n") + 1)
            line = text.split("\n")[loc.line - 1]
            assert loc.col <= len(line) + 1, (d, line)
            assert loc.col - 1 + loc.length <= len(line) + 1, (d, line)


def check_outcome(loaded: LoadedStrategy) -> str:
    """Assert the load/compile contract for a loaded file; return a label of the outcome."""
    check_diagnostics(loaded.diagnostics, loaded.sources)
    if not loaded.ok:
        assert loaded.errors, "a strategy that is not ok must report an error"
        assert loaded.strategy is None
        return "diagnostics"
    assert loaded.strategy is not None
    assert not loaded.errors
    try:
        plan = compile_strategy(loaded.strategy, as_of=AS_OF, locate=loaded.location_of)
    except StrategyError as exc:
        check_diagnostics(exc.diagnostics, loaded.sources)
        assert any(d.severity is Severity.ERROR for d in exc.diagnostics)
        return "compile error"
    assert plan.fingerprint.startswith("sha256:")
    return "compiled"


def run_file(path: Path) -> str:
    """Load and (if valid) compile a file under the contract."""
    return check_outcome(load_strategy(path))


def workdir(tmp: str) -> Path:
    """A copy of strategies/ in `tmp` (so `extends` between examples resolves)."""
    here = Path(tmp) / "strategies"
    here.mkdir()
    for f in FILES:
        shutil.copyfile(f, here / f.name)
    return here


# --- structural mutations ----------------------------------------------------------------


def _all_nodes(node: Any, prefix: NodePath = ()) -> list[NodePath]:
    """Paths of every value below `node` (tables, arrays and their elements)."""
    if not isinstance(node, dict | list):
        return []
    out: list[NodePath] = []
    items: Any = node.items() if isinstance(node, dict) else enumerate(node)
    for key, child in items:
        out.append((*prefix, key))
        out += _all_nodes(child, (*prefix, key))
    return out


def _get(tree: Any, path: NodePath) -> Any:
    node = tree
    for part in path:
        node = node[part]
    return node


def _tables(tree: dict[str, Any]) -> list[NodePath]:
    """Paths of every table, the root included."""
    return [(), *(p for p in _all_nodes(tree) if isinstance(_get(tree, p), dict))]


def _set(tree: Any, path: NodePath, value: Any) -> None:
    _get(tree, path[:-1])[path[-1]] = value


@st.composite
def typo(draw: st.DrawFn, key: str) -> str:
    """A misspelling of `key`."""
    how = draw(st.sampled_from(["drop", "double", "swap", "upper", "replace", "suffix", "dash"]))
    i = draw(st.integers(0, max(len(key) - 1, 0)))
    if how == "drop" and key:
        return key[:i] + key[i + 1 :]
    if how == "double" and key:
        return key[: i + 1] + key[i:]
    if how == "swap" and len(key) > 1:
        i = min(i, len(key) - 2)
        return key[:i] + key[i + 1] + key[i] + key[i + 2 :]
    if how == "upper":
        return key.upper() if key != key.upper() else key.lower() + "_"
    if how == "replace" and key:
        return key[:i] + draw(st.characters(exclude_categories=("Cs",))) + key[i + 1 :]
    if how == "dash" and "_" in key:
        return key.replace("_", "-")
    return key + draw(st.sampled_from(["s", "_", " ", "2", "x"]))


def _op_delete(tree: dict[str, Any], data: st.DataObject) -> str:
    nodes = _all_nodes(tree)
    if not nodes:
        return "noop"
    path = data.draw(st.sampled_from(nodes))
    del _get(tree, path[:-1])[path[-1]]
    return "delete"


def _op_rename(tree: dict[str, Any], data: st.DataObject) -> str:
    keyed = [p for p in _all_nodes(tree) if isinstance(p[-1], str)]
    if not keyed:
        return "noop"
    path = data.draw(st.sampled_from(keyed))
    parent = _get(tree, path[:-1])
    new = data.draw(typo(str(path[-1])) | st.sampled_from(SCHEMA_KEYS))
    if new in parent:
        return "noop"
    items = [(new if k == path[-1] else k, v) for k, v in parent.items()]
    parent.clear()
    parent.update(items)
    return "rename"


def _op_replace(tree: dict[str, Any], data: st.DataObject) -> str:
    nodes = _all_nodes(tree)
    if not nodes:
        return "noop"
    path = data.draw(st.sampled_from(nodes))
    _set(tree, path, data.draw(JUNK))
    return "replace"


def _op_swap_values(tree: dict[str, Any], data: st.DataObject) -> str:
    nodes = _all_nodes(tree)
    if len(nodes) < 2:
        return "noop"
    a = data.draw(st.sampled_from(nodes))
    b = data.draw(st.sampled_from(nodes))
    if a[: len(b)] == b or b[: len(a)] == a:
        return "noop"
    va, vb = copy.deepcopy(_get(tree, a)), copy.deepcopy(_get(tree, b))
    _set(tree, a, vb)
    _set(tree, b, va)
    return "swap values"


def _op_insert_key(tree: dict[str, Any], data: st.DataObject) -> str:
    table = data.draw(st.sampled_from(_tables(tree)))
    key = data.draw(KEY_NAMES)
    _get(tree, table)[key] = data.draw(JUNK)
    return "insert key"


def _op_insert_table(tree: dict[str, Any], data: st.DataObject) -> str:
    table = data.draw(st.sampled_from(_tables(tree)))
    key = data.draw(KEY_NAMES)
    _get(tree, table)[key] = data.draw(st.dictionaries(KEY_NAMES, JUNK, max_size=4))
    return "insert table"


def _op_move_key(tree: dict[str, Any], data: st.DataObject) -> str:
    keyed = [p for p in _all_nodes(tree) if isinstance(p[-1], str)]
    if not keyed:
        return "noop"
    path = data.draw(st.sampled_from(keyed))
    value = _get(tree, path)
    target = data.draw(st.sampled_from(_tables(tree)))
    if target[: len(path)] == path:
        return "noop"
    del _get(tree, path[:-1])[path[-1]]
    _get(tree, target)[path[-1]] = value
    return "move key"


def _op_kind(tree: dict[str, Any], data: st.DataObject) -> str:
    tables = _tables(tree)
    with_kind = [t for t in tables if "kind" in _get(tree, t)]
    table = data.draw(st.sampled_from(with_kind or tables))
    _get(tree, table)["kind"] = data.draw(
        st.sampled_from(SCHEMA_KINDS) | TEXT | st.sampled_from(NASTY_STRINGS) | SCALARS
    )
    return "kind"


def _op_duplicate_factor(tree: dict[str, Any], data: st.DataObject) -> str:
    factors = tree.get("factors")
    if not isinstance(factors, list) or not factors:
        return "noop"
    twin = copy.deepcopy(data.draw(st.sampled_from(factors)))
    if isinstance(twin, dict) and data.draw(st.booleans()):
        twin["name"] = data.draw(st.sampled_from(["twin", "", "Bad Name", "x" * 60]) | TEXT)
    factors.insert(data.draw(st.integers(0, len(factors))), twin)
    return "duplicate factor"


def _op_empty_array(tree: dict[str, Any], data: st.DataObject) -> str:
    lists = [p for p in _all_nodes(tree) if isinstance(_get(tree, p), list)]
    if lists and data.draw(st.booleans()):
        _set(tree, data.draw(st.sampled_from(lists)), [])
        return "empty array"
    table = data.draw(st.sampled_from(_tables(tree)))
    table_node = _get(tree, table)
    if not table_node:
        return "noop"
    key = data.draw(st.sampled_from(sorted(table_node, key=str)))
    table_node[key] = data.draw(st.sampled_from([[], {}, [[]], [{}], ""]))
    return "empty value"


def _op_nested_junk(tree: dict[str, Any], data: st.DataObject) -> str:
    deep = st.recursive(
        SCALARS,
        lambda inner: (
            st.lists(inner, min_size=1, max_size=3)
            | st.dictionaries(KEY_NAMES, inner, min_size=1, max_size=3)
        ),
        max_leaves=25,
    )
    table = data.draw(st.sampled_from(_tables(tree)))
    _get(tree, table)[data.draw(KEY_NAMES)] = data.draw(deep)
    return "nested junk"


def _op_extends(tree: dict[str, Any], data: st.DataObject) -> str:
    tree["extends"] = data.draw(st.sampled_from(NASTY_EXTENDS) | TEXT | SCALARS)
    return "extends"


def _op_factors_shape(tree: dict[str, Any], data: st.DataObject) -> str:
    """Factors as a table, a scalar, a list of scalars, or a factor without a name."""
    factors = tree.get("factors")
    how = data.draw(st.sampled_from(["table", "scalar", "scalars", "unnamed"]))
    if how == "table" and isinstance(factors, list):
        tree["factors"] = {f"f{i}": f for i, f in enumerate(factors)}
    elif how == "scalar":
        tree["factors"] = data.draw(SCALARS)
    elif how == "scalars":
        tree["factors"] = data.draw(st.lists(SCALARS, max_size=3))
    elif isinstance(factors, list) and factors and isinstance(factors[0], dict):
        factors[0].pop("name", None)
    return f"factors {how}"


EDGE_FLOATS = (
    st.sampled_from(
        [math.nan, math.inf, -math.inf, 0.0, -0.0, 1e-9, 5e-324, 1e308, -1e308, -1.0, 1.0, 1e12]
    )
    | st.floats()
)
EDGE_INTS = (
    st.sampled_from([0, 1, -1, 2, 5, 20, 252, 253, 2520, 2521, 65536, 2**63 - 1]) | st.integers()
)
EDGE_DATES = (
    st.sampled_from(
        [dt.date(1, 1, 1), dt.date(9999, 12, 31), dt.date(2024, 1, 2), dt.date(2024, 1, 3)]
    )
    | st.dates()
)


def _flat(annotation: Any) -> list[Any]:
    """Member types of an annotation (Annotated, unions and containers unwrapped one level)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _flat(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for a in typing.get_args(annotation) for t in _flat(a)]
    return [annotation]


def edge_values(annotation: Any) -> st.SearchStrategy[Any]:
    """Edge-case values that have (roughly) the type a field expects."""
    options: list[st.SearchStrategy[Any]] = []
    for t in _flat(annotation):
        origin = typing.get_origin(t)
        if origin is typing.Literal:
            options.append(st.sampled_from(typing.get_args(t)))
        elif t is bool:
            options.append(st.booleans())
        elif t is int:
            options.append(EDGE_INTS)
        elif t is float:
            options += [EDGE_FLOATS, EDGE_INTS]
        elif t is dt.date:
            options.append(EDGE_DATES)
        elif t is str:
            options.append(st.sampled_from(NASTY_STRINGS) | TEXT)
        elif origin in (tuple, list):
            options.append(st.lists(st.sampled_from(NASTY_STRINGS) | TEXT, max_size=3))
        elif origin is dict:
            options.append(st.dictionaries(TEXT, EDGE_FLOATS, max_size=3))
    return st.one_of(options) if options else JUNK


def _edge_for_value(value: Any) -> st.SearchStrategy[Any]:
    """Edge-case values of the same Python type as `value`."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return EDGE_INTS
    if isinstance(value, float):
        return EDGE_FLOATS
    if isinstance(value, dt.date):
        return EDGE_DATES
    if isinstance(value, str):
        return st.sampled_from(NASTY_STRINGS) | TEXT
    return JUNK


def _model_of(tree: dict[str, Any], path: NodePath) -> Any:
    """The manifest model validating the raw table at `path` (None when unknown)."""
    if not path:
        return Strategy
    node = _get(tree, path)
    if path[0] == "factors" and len(path) == 2 and isinstance(node, dict):
        variants = union_variants(keys_of(Strategy)["factors"].annotation)
        return variants.get(str(node.get("kind")))
    if any(isinstance(p, int) for p in path):
        return None
    user, _ = to_user_tree(tree)
    try:
        return model_at(path, user)
    except TypeError:  # model_at() raises on an unhashable `kind` (a list or table)
        return None


def _op_edge_value(tree: dict[str, Any], data: st.DataObject) -> str:
    """Replace a scalar with an edge value of its own type (nan, inf, 0, huge, year 1)."""
    leaves = [p for p in _all_nodes(tree) if not isinstance(_get(tree, p), dict | list)]
    if not leaves:
        return "noop"
    path = data.draw(st.sampled_from(leaves))
    _set(tree, path, data.draw(_edge_for_value(_get(tree, path))))
    return "edge value"


def _op_known_key(tree: dict[str, Any], data: st.DataObject) -> str:
    """Set a key the table's model knows (often an unset optional one) to an edge value."""
    tables = [t for t in _tables(tree) if _model_of(tree, t) is not None]
    table = data.draw(st.sampled_from(tables))
    fields = keys_of(_model_of(tree, table))
    key = data.draw(st.sampled_from(sorted(fields)))
    _get(tree, table)[key] = data.draw(edge_values(fields[key].annotation))
    return "known key"


def _op_search(tree: dict[str, Any], data: st.DataObject) -> str:
    """Add a `[search]` entry for a real key path with edge candidates or an edge range."""
    user, _ = to_user_tree(tree)
    paths = [format_path(p) for p in leaf_paths(user) if p[0] != "search"] or ["x"]
    key = data.draw(st.sampled_from(paths) | TEXT)
    bound = EDGE_FLOATS | EDGE_INTS
    value = data.draw(
        st.lists(SCALARS, max_size=4)
        | st.fixed_dictionaries({"min": bound, "max": bound, "step": bound})
        | JUNK
    )
    search = tree.setdefault("search", {})
    if not isinstance(search, dict):
        return "noop"
    search[key] = value
    return "search"


OPS: list[Callable[[dict[str, Any], st.DataObject], str]] = [
    _op_edge_value,
    _op_known_key,
    _op_search,
    _op_delete,
    _op_rename,
    _op_replace,
    _op_swap_values,
    _op_insert_key,
    _op_insert_table,
    _op_move_key,
    _op_kind,
    _op_duplicate_factor,
    _op_empty_array,
    _op_nested_junk,
    _op_extends,
    _op_factors_shape,
]


# Mutations that mostly keep the file valid, so that compile_strategy gets to see it.
VALUE_OPS = [_op_edge_value, _op_known_key, _op_search]


def structural_mutant(source: str, data: st.DataObject) -> str:
    """Parse, mutate 1-4 times, and dump again with tomli_w.

    Half the examples use only value-level mutations (edge values of the right type,
    optional keys set, `[search]` entries), which usually still validate and so
    exercise the compiler; the other half use every mutation.
    """
    tree = tomllib.loads(source)
    values_only = data.draw(st.booleans(), label="value-level only")
    ops = VALUE_OPS if values_only else OPS
    for _ in range(data.draw(st.integers(1, 2 if values_only else 4), label="mutations")):
        op = data.draw(st.sampled_from(ops))
        event(op(tree, data))
    return tomli_w.dumps(tree)


# --- text mutations ----------------------------------------------------------------------

TOML_CHARS = "[]{}=\",.#'\n \t0123456789abcdefnotruxyz-_+:TZe\\\r"
SNIPPETS = [
    " = ",
    "=",
    "[data]",
    "[[factors]]",
    "[factors]",
    'kind = "x"',
    "nan",
    "inf",
    "1e999",
    "2024-02-30",
    '"""',
    "'''",
    "{",
    "}",
    "[",
    "]",
    "#",
    "\n[",
    "extends = ",
    "-",
    "0x",
    "\ufeff",
    "\x00",
    "\u2028",
]
CHARS = st.sampled_from(TOML_CHARS) | st.characters(exclude_categories=("Cs",))


def _text_op(text: str, data: st.DataObject) -> str:
    """One random edit of the raw text."""
    lines = text.split("\n")
    how = data.draw(
        st.sampled_from(
            ["delete", "insert", "replace", "snippet", "del line", "dup line", "swap", "truncate"]
        )
    )
    event(f"text {how}")
    pos = data.draw(st.integers(0, len(text)))
    if how == "delete":
        return text[:pos] + text[pos + data.draw(st.integers(1, 4)) :]
    if how == "insert":
        return text[:pos] + data.draw(st.text(CHARS, min_size=1, max_size=4)) + text[pos:]
    if how == "replace":
        return text[:pos] + data.draw(CHARS) + text[pos + 1 :]
    if how == "snippet":
        return text[:pos] + data.draw(st.sampled_from(SNIPPETS)) + text[pos:]
    j = data.draw(st.integers(0, len(lines) - 1))
    if how == "del line":
        return "\n".join(lines[:j] + lines[j + 1 :])
    if how == "dup line":
        k = data.draw(st.integers(0, len(lines)))
        return "\n".join([*lines[:k], lines[j], *lines[k:]])
    if how == "swap":
        k = data.draw(st.integers(0, len(lines) - 1))
        lines[j], lines[k] = lines[k], lines[j]
        return "\n".join(lines)
    return text[:pos]


def text_mutant(source: str, data: st.DataObject) -> str:
    """Apply 1-3 raw text edits."""
    text = source
    for _ in range(data.draw(st.integers(1, 3), label="edits")):
        text = _text_op(text, data)
    return text


def write(path: Path, text: str, data: st.DataObject) -> None:
    """Write the mutant as UTF-8 (sometimes with an invalid byte inserted)."""
    raw = text.encode("utf-8")
    if data.draw(st.integers(0, 30), label="bad byte") == 0:
        at = data.draw(st.integers(0, len(raw)))
        raw = raw[:at] + b"\xff" + raw[at:]
    path.write_bytes(raw)


# --- the properties ----------------------------------------------------------------------

IDS = [f.name for f in FILES]


@pytest.mark.parametrize("original", FILES, ids=IDS)
def test_originals_compile(original: Path) -> None:
    """The unmutated examples satisfy the contract (and compile) - the baseline."""
    assert run_file(original) == "compiled"


@pytest.mark.parametrize("original", FILES, ids=IDS)
@settings(PROPS, max_examples=70)
@given(data=st.data())
def test_structural_mutations_never_crash(original: Path, data: st.DataObject) -> None:
    """Deleting, renaming, retyping and inserting keys only ever yields diagnostics."""
    text = structural_mutant(original.read_text(encoding="utf-8"), data)
    note(text)
    with tempfile.TemporaryDirectory() as tmp:
        path = workdir(tmp) / original.name
        write(path, text, data)
        event(run_file(path))


@pytest.mark.parametrize("original", FILES, ids=IDS)
@settings(PROPS, max_examples=70)
@given(data=st.data())
def test_text_mutations_never_crash(original: Path, data: st.DataObject) -> None:
    """Random character and line edits of the source only ever yield diagnostics."""
    text = text_mutant(original.read_text(encoding="utf-8"), data)
    note(repr(text))
    with tempfile.TemporaryDirectory() as tmp:
        path = workdir(tmp) / original.name
        write(path, text, data)
        event(run_file(path))


PARENTS = [f for f in FILES if isinstance(tomllib.loads(f.read_text()).get("extends"), str)]


@pytest.mark.parametrize("child", PARENTS, ids=[f.name for f in PARENTS])
@settings(PROPS, max_examples=40)
@given(data=st.data())
def test_mutated_parent_never_crashes(child: Path, data: st.DataObject) -> None:
    """A broken `extends` parent is reported through the child, never raised."""
    parent_name = tomllib.loads(child.read_text())["extends"]
    parent_text = (STRATEGIES / parent_name).read_text(encoding="utf-8")
    if data.draw(st.booleans(), label="structural"):
        text = structural_mutant(parent_text, data)
    else:
        text = text_mutant(parent_text, data)
    note(text)
    with tempfile.TemporaryDirectory() as tmp:
        here = workdir(tmp)
        write(here / parent_name, text, data)
        event(run_file(here / child.name))


def _override_strings(strategy: Strategy) -> st.SearchStrategy[str]:
    """`--set` strings: real and misspelled key paths, with junk and real values."""
    paths = [format_path(p) for p in leaf_paths(user_tree(strategy))]
    key = st.sampled_from(paths) | TEXT | st.sampled_from(["", ".", "a..b", '"x', "factors.nope.x"])
    key = key | st.sampled_from(paths).flatmap(lambda p: st.just(p + ".sub") | typo(p))
    value = st.one_of(
        JUNK.map(_toml_or_str),
        TEXT,
        st.sampled_from([*NASTY_STRINGS, "[1, 2", "{ a = 1 }", "1\nfoo = 2", "'x'"]),
    )
    sep = st.sampled_from(["=", " = ", "", "=="])
    return st.tuples(key, sep, value).map(lambda t: f"{t[0]}{t[1]}{t[2]}")


def _toml_or_str(value: Any) -> str:
    """Inline TOML for a junk value, or its str() when it has no inline form."""
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return toml_value(value)


OVERRIDE_FILES = sorted({*FILES[:3], STRATEGIES / "momentum_us.toml"})


@pytest.mark.parametrize("original", OVERRIDE_FILES, ids=[f.name for f in OVERRIDE_FILES])
@settings(PROPS, max_examples=40)
@given(data=st.data())
def test_random_overrides_never_crash(original: Path, data: st.DataObject) -> None:
    """Random `--set key=value` overrides are diagnosed (QTC109 etc.), never raised."""
    base = load_strategy(original)
    assert base.strategy is not None
    overrides = data.draw(st.lists(_override_strings(base.strategy), min_size=1, max_size=3))
    loaded = load_strategy(original, overrides)
    event(check_outcome(loaded))


RUNNER = CliRunner()


@pytest.mark.parametrize("original", FILES, ids=IDS)
@settings(PROPS, max_examples=12)
@given(data=st.data())
def test_cli_check_exit_codes(original: Path, data: st.DataObject) -> None:
    """`qtc check` on a mutant exits 0 or 2 and never lets an exception through."""
    source = original.read_text(encoding="utf-8")
    if data.draw(st.booleans(), label="structural"):
        text = structural_mutant(source, data)
    else:
        text = text_mutant(source, data)
    note(text)
    extra = data.draw(st.sampled_from([[], ["--format", "json"], ["--strict"]]))
    with tempfile.TemporaryDirectory() as tmp:
        path = workdir(tmp) / original.name
        write(path, text, data)
        result = RUNNER.invoke(app, ["check", str(path), "--as-of", "2024-01-02", *extra])
    note(result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code in (0, 2), result.output
    event(f"exit {result.exit_code}")


# --- regressions: inputs that used to escape as exceptions -------------------------------

MOMENTUM = STRATEGIES / "momentum_us.toml"


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    source = MOMENTUM.read_text(encoding="utf-8")
    assert old in source
    path = tmp_path / "momentum_us.toml"
    path.write_text(source.replace(old, new, 1), encoding="utf-8")
    return path


def _diagnosed(path: Path, key_path: str, code: str) -> None:
    """The file is rejected at load time with `code` at `key_path`, under the contract."""
    loaded = load_strategy(path)
    assert check_outcome(loaded) == "diagnostics"
    assert (code, key_path) in {(d.code, d.key_path) for d in loaded.errors}, loaded.errors


@pytest.mark.parametrize(
    ("old", "new", "key_path"),
    [
        ("buffer = 10", "buffer = 10\nmin_score = nan", "selection.min_score"),
        ("vol_63 = -0.25", "vol_63 = inf", "scoring.weights.vol_63"),
        ("min_price = 5.0", "min_price = inf", "universe.min_price"),
        ("slippage_bps = 9.0", "slippage_bps = 9.0\nmin_trade_fee = inf", "costs.min_trade_fee"),
        (
            'execution = "next_close"',
            'execution = "next_close"\nmin_order_value = inf',
            "rebalance.min_order_value",
        ),
        (
            "max_drawdown_pct = 0.35",
            "max_drawdown_pct = 0.35\nmax_order_value = inf",
            "risk.max_order_value",
        ),
        ("min_oos_sharpe = 0.2", "min_oos_sharpe = nan", "validate.min_oos_sharpe"),
    ],
    ids=["min_score", "weight", "min_price", "fee", "min_order", "max_order", "gate"],
)
def test_nonfinite_values_are_diagnosed(tmp_path: Path, old: str, new: str, key_path: str) -> None:
    """TOML `nan`/`inf` used to validate and then crash the fingerprint (ValueError)."""
    _diagnosed(_variant(tmp_path, old, new), key_path, "QTC102")


@pytest.mark.parametrize(
    "space",
    [
        "{ min = 0, max = inf, step = 1 }",
        "{ min = 0, max = nan, step = 1 }",
        "{ min = -inf, max = 1, step = 1 }",
        "{ min = 0, max = 1, step = 5e-324 }",
        "{ min = 1, max = 1e12, step = 1 }",
        "{ min = -1e308, max = 1e308, step = 1e300 }",
    ],
    ids=["max_inf", "max_nan", "min_-inf", "tiny_step", "1e12_values", "span_overflows"],
)
def test_unbounded_search_ranges_are_diagnosed(tmp_path: Path, space: str) -> None:
    """Ranges that used to raise OverflowError/ValueError or expand without bound."""
    path = _variant(tmp_path, '"selection.top_n" = [20, 50, 100]', f'"selection.top_n" = {space}')
    loaded = load_strategy(path)
    assert check_outcome(loaded) == "diagnostics"
    assert any(d.key_path.startswith('search."selection.top_n"') for d in loaded.errors)


@pytest.mark.parametrize(
    "parent", ["a\\u0000b", "a" * 300, "a/" * 3000], ids=["nul", "long", "deep"]
)
def test_unusable_extends_paths_are_diagnosed(tmp_path: Path, parent: str) -> None:
    """`extends` with a NUL byte or an over-long name used to raise ValueError/OSError."""
    new = f'name = "momentum_us"\nextends = "{parent}.toml"'
    _diagnosed(_variant(tmp_path, 'name = "momentum_us"', new), "extends", "QTC107")
