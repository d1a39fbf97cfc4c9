"""The plan fingerprint: what it ignores and what it must notice.

Invariance: for every `strategies/*.toml`, rewriting the file with keys and
tables shuffled (tomli_w, and a random-style emitter: headers, inline tables,
dotted keys, number spellings), with extra whitespace and comments, with
another `name`/`description`, with other `[broker]`, `[validate]` and
`[search]` sections, or split into an `extends` chain with the same merged
values, compiles to the same `plan.fingerprint`.

Sensitivity: changing any result-affecting leaf of the resolved strategy to
another valid value changes the fingerprint; `as_of` matters exactly when
`data.end` is unset.

Round trip: `Plan.from_json(plan.to_json())` is the plan, byte for byte, and a
plan whose stages were edited is refused with a `UserError`.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import re
import shutil
import tempfile
import tomllib
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from qtc.compile.compiler import compile_strategy
from qtc.compile.plan import Plan
from qtc.errors import StrategyError, UserError
from qtc.manifest.base import field_example
from qtc.manifest.document import from_user_tree
from qtc.manifest.load import LoadedStrategy, load_strategy
from qtc.manifest.paths import UserPath, format_path
from qtc.manifest.schema_walk import field_at, keys_of, union_variants
from qtc.manifest.strategy import Strategy
from qtc.manifest.variants import leaf_paths, user_tree, with_values

ROOT = Path(__file__).resolve().parents[2]
STRATEGIES = ROOT / "strategies"
FILES = sorted(STRATEGIES.glob("*.toml"))
IDS = [f.name for f in FILES]
AS_OF = dt.date(2024, 1, 2)

# Top-level keys that do not change backtest results (and so stay out of the fingerprint).
NOT_RESULT = frozenset({"name", "description", "extends", "broker", "validate", "search", "schema"})
# Keys inside result-affecting sections that only live trading reads.
LIVE_ONLY: frozenset[tuple[str, ...]] = frozenset({("rebalance", "max_signal_age_days")})

PROPS = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@functools.cache
def baseline(path: Path) -> tuple[LoadedStrategy, Plan]:
    """The example as written, loaded and compiled at AS_OF."""
    loaded = load_strategy(path)
    assert loaded.ok and loaded.strategy is not None, loaded.diagnostics
    return loaded, compile_strategy(loaded.strategy, as_of=AS_OF, locate=loaded.location_of)


def compile_file(path: Path) -> Plan:
    """Load and compile a rewritten file; it must be valid."""
    loaded = load_strategy(path)
    assert loaded.ok and loaded.strategy is not None, [str(d) for d in loaded.diagnostics]
    try:
        return compile_strategy(loaded.strategy, as_of=AS_OF, locate=loaded.location_of)
    except StrategyError as exc:
        pytest.fail(f"rewritten file does not compile: {exc.diagnostics}")


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of strategies/ where rewritten files are compiled (`extends` resolves)."""
    here = tmp_path_factory.mktemp("fingerprint") / "strategies"
    here.mkdir()
    for f in FILES:
        shutil.copyfile(f, here / f.name)
    return here


def fingerprint_of(work: Path, original: Path, text: str) -> str:
    """Write `text` next to the examples and return its plan fingerprint."""
    path = work / f"{original.stem}.variant.toml"
    path.write_bytes(text.encode("utf-8"))
    return compile_file(path).fingerprint


def raw(original: Path) -> dict[str, Any]:
    return tomllib.loads(original.read_text(encoding="utf-8"))


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        node = node[part]
    return node


# --- (a) keys and tables shuffled, in many TOML spellings ---------------------------------


def shuffled(node: Any, data: st.DataObject) -> Any:
    """The same tree with every table's keys permuted (array order kept: it is semantic)."""
    if isinstance(node, dict):
        keys = data.draw(st.permutations(list(node)))
        return {k: shuffled(node[k], data) for k in keys}
    if isinstance(node, list):
        return [shuffled(v, data) for v in node]
    return node


_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(key: str) -> str:
    return key if _BARE.match(key) else tomli_w.dumps({key: 0}).split(" = ")[0]


class Emitter:
    """Write a tree as TOML with randomly chosen (but equivalent) spellings.

    Tables become `[headers]`, inline tables or dotted keys; arrays of tables become
    `[[headers]]` or inline arrays; numbers get underscores, signs, hex and exponent
    forms; strings become literal or basic strings; arrays span one or many lines.
    """

    def __init__(self, data: st.DataObject) -> None:
        self.data = data
        self.sections: list[tuple[str, list[str], tuple[str, int] | None]] = []

    def draw(self, strategy: st.SearchStrategy[Any]) -> Any:
        return self.data.draw(strategy)

    def dumps(self, tree: dict[str, Any]) -> str:
        root = self.body(tree, (), headers_allowed=True)
        order = self.draw(st.permutations(range(len(self.sections))))
        # Entries of one array of tables must keep their relative order.
        aot = [i for i in order if self.sections[i][2] is not None]
        aot_sorted = iter(sorted(aot, key=lambda i: self.sections[i][2] or ("", 0)))
        order = [next(aot_sorted) if self.sections[i][2] is not None else i for i in order]
        out = [*root, ""]
        for i in order:
            header, lines, _ = self.sections[i]
            out += [header, *lines, ""]
        return "\n".join(out)

    def body(
        self, node: dict[str, Any], path: tuple[str, ...], *, headers_allowed: bool
    ) -> list[str]:
        lines: list[str] = []
        for key, value in node.items():
            here = (*path, key)
            if isinstance(value, dict):
                styles = ["inline", "dotted"] + (["header"] if headers_allowed else [])
                style = self.draw(st.sampled_from(styles)) if value else "inline"
                if style == "header":
                    header = "[" + ".".join(_key(k) for k in here) + "]"
                    sub = self.body(value, here, headers_allowed=True)
                    self.sections.append((header, sub, None))
                elif style == "dotted":
                    for line in self.body(value, (), headers_allowed=False):
                        lines.append(f"{_key(key)}.{line}")
                else:
                    lines.append(f"{_key(key)} = {self.inline(value)}")
            elif (
                headers_allowed
                and isinstance(value, list)
                and value
                and all(isinstance(v, dict) for v in value)
                and self.draw(st.booleans())
            ):
                header = "[[" + ".".join(_key(k) for k in here) + "]]"
                for i, item in enumerate(value):
                    sub = self.body(item, (), headers_allowed=False)
                    self.sections.append((header, sub, (header, i)))
            else:
                lines.append(f"{_key(key)} = {self.inline(value)}")
        return lines

    def inline(self, value: Any) -> str:
        if isinstance(value, dict):
            if not value:
                return "{}"
            inner = ", ".join(f"{_key(k)} = {self.inline(v)}" for k, v in value.items())
            return self.draw(st.sampled_from(["{ %s }", "{%s}"])) % inner
        if isinstance(value, list):
            items = [self.inline(v) for v in value]
            if items and self.draw(st.booleans()):
                return "[\n" + "".join(f"  {item},\n" for item in items) + "]"
            return "[" + ", ".join(items) + "]"
        return self.scalar(value)

    def scalar(self, value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            forms = [str(value), f"{value:_d}"]
            if value >= 0:
                forms += [f"+{value}", hex(value), oct(value), bin(value)]
            return self.draw(st.sampled_from(forms))
        if isinstance(value, float):
            forms = [repr(value), f"{value:.17e}", f"{value:.17g}"]
            if value.is_integer() and abs(value) < 1e15:
                forms.append(str(int(value)))
            return self.draw(st.sampled_from(forms))
        if isinstance(value, str):
            forms = [tomli_w.dumps({"v": value})[4:-1]]
            if "'" not in value and "\n" not in value and value.isprintable():
                forms.append(f"'{value}'")
            return self.draw(st.sampled_from(forms))
        if isinstance(value, dt.date):
            return value.isoformat()
        raise AssertionError(f"cannot emit {value!r}")


@pytest.mark.parametrize("original", FILES, ids=IDS)
@settings(PROPS, max_examples=25)
@given(data=st.data())
def test_shuffled_keys_and_spellings_keep_the_fingerprint(
    work: Path, original: Path, data: st.DataObject
) -> None:
    """Key order, table order and TOML spelling (headers/inline/dotted) are not semantic."""
    tree = raw(original)
    mixed = shuffled(tree, data)
    if data.draw(st.booleans(), label="tomli_w"):
        text = tomli_w.dumps(mixed)
    else:
        text = Emitter(data).dumps(mixed)
    note(text)
    assert tomllib.loads(text) == tree  # the rewrite itself is faithful
    assert fingerprint_of(work, original, text) == baseline(original)[1].fingerprint


# --- (b) whitespace and comments ----------------------------------------------------------

COMMENT = st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=20)
BLANK = st.sampled_from(["", " ", "\t", "   \t "])
_ASSIGN = re.compile(r"^(\s*)([A-Za-z0-9_.\"' -]+?)(\s*=\s*)(.*)$")


@st.composite
def decorated_line(draw: st.DrawFn, line: str) -> list[str]:
    """A line with random indentation, `=` spacing and trailing comment, plus lines before it."""
    before = draw(st.lists(BLANK | COMMENT.map(lambda c: "#" + c), max_size=2))
    new = line
    match = _ASSIGN.match(new)
    if match and draw(st.booleans()):
        eq = draw(st.sampled_from(["=", " = ", "\t=\t", "  =  ", " =", "= "]))
        new = match.group(1) + match.group(2) + eq + match.group(4)
    if draw(st.booleans()):
        new = draw(BLANK) + new
    if draw(st.booleans()) and not any(q in line for q in "\"'"):  # never inside strings
        for old, choices in ((", ", [",", ",\t", ",   "]), ("{ ", ["{", "{  "]), (" }", ["}"])):
            new = new.replace(old, draw(st.sampled_from(choices)))
    if new.strip() and draw(st.booleans()):
        new += draw(BLANK) + draw(st.sampled_from(["", " "])) + "#" + draw(COMMENT)
    elif draw(st.booleans()):
        new += draw(BLANK)
    return [*before, new]


def _parses_to(groups: list[list[str]], tree: dict[str, Any]) -> bool:
    try:
        return tomllib.loads("\n".join(line for group in groups for line in group)) == tree
    except tomllib.TOMLDecodeError:
        return False


@pytest.mark.parametrize("original", FILES, ids=IDS)
@settings(PROPS, max_examples=20)
@given(data=st.data())
def test_whitespace_and_comments_keep_the_fingerprint(
    work: Path, original: Path, data: st.DataObject
) -> None:
    """Blank lines, comments, indentation, spacing and CRLF line ends are not semantic."""
    source = original.read_text(encoding="utf-8")
    tree = tomllib.loads(source)
    lines = source.split("\n")
    decorated = [data.draw(decorated_line(line)) for line in lines]
    groups = decorated
    if not _parses_to(groups, tree):
        # Slow path: keep only the edits that leave every value as it was.
        groups = [[line] for line in lines]
        for i, line in enumerate(lines):
            groups[i] = decorated[i]
            if not _parses_to(groups, tree):
                groups[i] = [line]
    lines = [line for group in groups for line in group]
    newline = data.draw(st.sampled_from(["\n", "\r\n"]), label="line end")
    text = newline.join(lines) + data.draw(st.sampled_from(["", "\n", "\n\n# end"]))
    note(text)
    assert tomllib.loads(text) == tree
    assert fingerprint_of(work, original, text) == baseline(original)[1].fingerprint


# --- (c) name and description, (d) broker, validate and search ---------------------------

NAMES = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", fullmatch=True)
DESCRIPTIONS = st.text(st.characters(exclude_categories=("Cs",)), max_size=80)


@pytest.mark.parametrize("original", FILES, ids=IDS)
@settings(PROPS, max_examples=15)
@given(data=st.data())
def test_name_and_description_do_not_matter(
    work: Path, original: Path, data: st.DataObject
) -> None:
    tree = raw(original)
    tree["name"] = data.draw(NAMES)
    if data.draw(st.booleans()):
        tree["description"] = data.draw(DESCRIPTIONS)
    else:
        tree.pop("description", None)
    text = tomli_w.dumps(tree)
    note(text)
    assert fingerprint_of(work, original, text) == baseline(original)[1].fingerprint


ENV_NAMES = st.from_regex(r"[A-Z_][A-Z0-9_]{0,20}", fullmatch=True)
BROKERS = st.one_of(
    st.just({"kind": "mock"}),
    st.fixed_dictionaries(
        {"kind": st.just("paper")},
        optional={
            "account": st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True),
            "initial_cash": st.floats(1.0, 1e9),
        },
    ),
    st.fixed_dictionaries(
        {"kind": st.just("alpaca")},
        optional={"paper": st.booleans(), "key_id_env": ENV_NAMES, "secret_key_env": ENV_NAMES},
    ),
    st.fixed_dictionaries(
        {"kind": st.just("ibkr")},
        optional={
            "host": st.sampled_from(["127.0.0.1", "localhost", "gw.example"]),
            "port": st.integers(1, 65535),
            "client_id": st.integers(0, 2**31),
            "account": st.from_regex(r"DU[0-9]{7}", fullmatch=True),
        },
    ),
)
GATES = st.fixed_dictionaries(
    {},
    optional={
        "min_rank_ic": st.floats(-1, 1),
        "min_icir": st.floats(-10, 10),
        "min_oos_sharpe": st.floats(-5, 5),
        "min_quantile_spread": st.floats(-1, 1),
        "max_turnover": st.floats(1e-6, 10),
        "horizon_days": st.integers(1, 252),
        "n_quantiles": st.integers(2, 20),
        "n_splits": st.integers(2, 50),
    },
)


@functools.cache
def search_options(original: Path) -> dict[str, list[Any]]:
    """Searchable key paths of an example -> candidate values that validate there."""
    strategy = baseline(original)[0].strategy
    assert strategy is not None
    tree = user_tree(strategy)
    out: dict[str, list[Any]] = {}
    for path in eligible_paths(tree):
        value = _get(tree, path)
        if field_at(path, tree) is None or not isinstance(value, bool | int | float | str):
            continue
        valid = [value]
        for change in alternatives(strategy, tree, path):
            if list(change) != [path] or not isinstance(change[path], bool | int | float | str):
                continue
            if with_values(strategy, change)[0] is not None:
                valid.append(change[path])
        out[format_path(path)] = valid
    return out


@st.composite
def search_spaces(draw: st.DrawFn, original: Path) -> dict[str, Any]:
    """A valid `[search]` table for an example."""
    options = search_options(original)
    keys = draw(st.lists(st.sampled_from(sorted(options)), unique=True, max_size=4))
    space: dict[str, Any] = {}
    for key in keys:
        values = options[key]
        first = values[0]
        numeric = isinstance(first, int | float) and not isinstance(first, bool)
        if numeric and draw(st.booleans()):
            space[key] = {"min": first, "max": first, "step": draw(st.sampled_from([1, 0.5, 21]))}
        else:
            space[key] = draw(st.lists(st.sampled_from(values), min_size=1, max_size=4))
    return space


@pytest.mark.parametrize("original", FILES, ids=IDS)
@settings(PROPS, max_examples=20)
@given(data=st.data())
def test_broker_validate_and_search_do_not_matter(
    work: Path, original: Path, data: st.DataObject
) -> None:
    tree = raw(original)
    sections = data.draw(
        st.lists(st.sampled_from(["broker", "validate", "search"]), min_size=1, unique=True)
    )
    for section in sections:
        if data.draw(st.integers(0, 4), label=f"drop {section}") == 0:
            tree.pop(section, None)
        elif section == "broker":
            tree["broker"] = data.draw(BROKERS)
        elif section == "validate":
            tree["validate"] = data.draw(GATES)
        else:
            tree["search"] = data.draw(search_spaces(original))
    text = tomli_w.dumps(tree)
    note(text)
    assert fingerprint_of(work, original, text) == baseline(original)[1].fingerprint


# --- (e) extends: the same values split over a chain of files -----------------------------

DECOYS = st.one_of(st.integers(-5, 5), st.text(max_size=5), st.booleans(), st.just([1, 2]))


def _put(tree: dict[str, Any], path: UserPath, value: Any) -> None:
    node = tree
    for part in path[:-1]:
        node = node.setdefault(str(part), {})
    node[str(path[-1])] = copy.deepcopy(value)


@st.composite
def extends_chain(draw: st.DrawFn, flat: dict[str, Any]) -> list[dict[str, Any]]:
    """Split a flat user tree over 2-3 files (root first) whose merge gives it back.

    Every leaf is written in one file (its owner); files before the owner may hold a
    decoy that the owner overrides (not for `kind`, whose change would replace the
    table). Factors keep their order: a factor is introduced (by name) no later than
    any factor after it.
    """
    levels = draw(st.integers(2, 3), label="files")
    factors = list(flat.get("factors", {}))
    owner: dict[UserPath, int] = {}
    placed: dict[UserPath, set[int]] = {}
    for path in leaf_paths(flat):
        if path[0] == "factors" and path[-1] == "name":
            continue
        own = draw(st.integers(0, levels - 1))
        owner[path] = own
        placed[path] = {own}
        for lower in range(own):
            if draw(st.integers(0, 3)) == 0 and not isinstance(_get(flat, path), dict):
                placed[path].add(lower)
    seen = {
        f: min(lv for p, lvs in placed.items() if p[:2] == ("factors", f) for lv in lvs)
        for f in factors
    }
    first: dict[str, int] = {}
    for i, f in enumerate(factors):  # suffix minimum keeps introduction order monotonic
        first[f] = min(seen[g] for g in factors[i:])
    files: list[dict[str, Any]] = [{} for _ in range(levels)]
    for f in factors:
        present = {first[f]} | {
            lv for p, lvs in placed.items() if p[:2] == ("factors", f) for lv in lvs
        }
        for level in sorted(present):
            files[level].setdefault("factors", {})[f] = {"name": flat["factors"][f]["name"]}
    for path, where in placed.items():
        value = _get(flat, path)
        for level in where:
            decoy = level != owner[path] and path[-1] != "kind"
            _put(files[level], path, draw(DECOYS) if decoy else value)
    return files


@pytest.mark.parametrize("original", FILES, ids=IDS)
@settings(PROPS, max_examples=25)
@given(data=st.data())
def test_extends_split_keeps_the_fingerprint(original: Path, data: st.DataObject) -> None:
    """A strategy split into parent/child files with the same merged values compiles the same."""
    loaded, plan = baseline(original)
    flat = copy.deepcopy(loaded.tree)
    flat.pop("extends", None)
    chain = data.draw(extends_chain(flat))
    with tempfile.TemporaryDirectory() as tmp:
        for level, tree in enumerate(chain):
            doc = from_user_tree(tree)
            if level:
                doc = {"extends": f"split{level - 1}.toml", **doc}
            text = tomli_w.dumps(doc)
            note(f"--- split{level}.toml\n{text}")
            (Path(tmp) / f"split{level}.toml").write_text(text, encoding="utf-8")
        child = load_strategy(Path(tmp) / f"split{len(chain) - 1}.toml")
        assert child.ok and child.strategy is not None, [str(d) for d in child.diagnostics]
        assert loaded.strategy is not None
        assert child.strategy.model_dump(exclude={"extends"}) == loaded.strategy.model_dump(
            exclude={"extends"}
        )
        split = compile_strategy(child.strategy, as_of=AS_OF, locate=child.location_of)
    assert split.fingerprint == plan.fingerprint


# --- sensitivity: every result-affecting value ---------------------------------------------


def eligible_paths(tree: dict[str, Any]) -> list[UserPath]:
    """Leaf paths of the resolved strategy whose values affect results."""
    return [p for p in leaf_paths(tree) if p[0] not in NOT_RESULT and p not in LIVE_ONLY]


def _flat(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _flat(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for a in typing.get_args(annotation) for t in _flat(a)]
    return [annotation]


def _kind_variants(path: UserPath) -> dict[str, Any]:
    """kind -> model for the union table at `path` (a section or a factor)."""
    return union_variants(keys_of(Strategy)[str(path[0])].annotation)


def _other_kind_tables(tree: dict[str, Any], table: UserPath) -> Iterator[dict[UserPath, Any]]:
    """The table switched to each other kind, keeping the keys the new kind shares."""
    old = _get(tree, table)
    for kind, model in _kind_variants(table).items():
        if kind == old["kind"]:
            continue
        fields = keys_of(model)
        new = {k: v for k, v in old.items() if k in fields}
        new["kind"] = kind
        for key, info in fields.items():
            if key not in new and info.is_required():
                new[key] = field_example(info)
        yield {table: new}


def _dates(value: str) -> list[str]:
    day = dt.date.fromisoformat(value)
    shifts = [1, -1, 365, -365]
    return [(day + dt.timedelta(days=s)).isoformat() for s in shifts]


# `selection.top_n` and `selection.quantile` exclude each other: setting one unsets the other.
EXCLUSIVE: dict[UserPath, UserPath] = {
    ("selection", "quantile"): ("selection", "top_n"),
    ("selection", "top_n"): ("selection", "quantile"),
}


def _search_without(tree: dict[str, Any], *prefixes: str) -> dict[str, Any]:
    """The `[search]` table minus keys under `prefixes` (they would no longer validate)."""
    return {k: v for k, v in tree["search"].items() if not k.startswith(prefixes)}


def alternatives(
    strategy: Strategy, tree: dict[str, Any], path: UserPath
) -> Iterator[dict[UserPath, Any]]:
    """Candidate changes (key path -> new value) that set `path` to another value.

    Not all of them validate; the caller tries them in order. A change that would
    break another key carries the companion edit that keeps the strategy valid:
    a factor rename renames its scoring weight and search keys, a `kind` switch keeps
    the shared keys and drops search keys of the table, and top_n/quantile unset each
    other. `[search]` is not fingerprinted, so those companions cannot mask a change.
    """
    value = _get(tree, path)
    ref = field_at(path, tree)
    types_ = _flat(ref.info.annotation) if ref else [type(value)]
    if path[-1] == "kind" and ref is not None:
        table = path[:-1]
        for change in _other_kind_tables(tree, table):
            yield {**change, ("search",): _search_without(tree, format_path(table) + ".")}
        return
    if path[0] == "factors" and path[-1] == "name":
        yield _renamed_factor(tree, str(value), f"{value}_x")
        return
    companions: dict[UserPath, Any] = {}
    partner = EXCLUSIVE.get(path)
    if partner is not None and _get(tree, partner) is not None:
        companions = {partner: None, ("search",): _search_without(tree, format_path(partner))}
    for option in _options(strategy, tree, path, value, types_, ref):
        if option != value or type(option) is not type(value):
            yield {path: option, **(companions if option is not None else {})}


def _renamed_factor(tree: dict[str, Any], old: str, new: str) -> dict[UserPath, Any]:
    """Rename a factor and everything that refers to it by name."""
    changes: dict[UserPath, Any] = {("factors", old, "name"): new}
    weights = tree["scoring"]["weights"]
    if weights:
        changes[("scoring", "weights")] = {new if k == old else k: v for k, v in weights.items()}
    prefix = f"factors.{old}."
    changes[("search",)] = {
        (f"factors.{new}.{k[len(prefix) :]}" if k.startswith(prefix) else k): v
        for k, v in tree["search"].items()
    }
    return changes


def _options(
    strategy: Strategy,
    tree: dict[str, Any],
    path: UserPath,
    value: Any,
    types_: list[Any],
    ref: Any,
) -> list[Any]:
    """Other values for one leaf: literals, flips, nudges, shifted dates, examples."""
    options: list[Any] = []
    for t in types_:
        if typing.get_origin(t) is typing.Literal:
            options += [v for v in typing.get_args(t) if v != value]
    options += _by_value(strategy, tree, path, value, types_)
    if ref is not None:
        default = ref.info.default
        options += [field_example(ref.info)]
        options += [default if isinstance(default, int | float | str | bool) else None]
        if value is None:
            options += [1, 0.5, 0.1, 100.0]
        elif type(None) in types_:
            options.append(None)
    return options


def _by_value(
    strategy: Strategy, tree: dict[str, Any], path: UserPath, value: Any, types_: list[Any]
) -> list[Any]:
    """Other values derived from the current one (flips, nudges, shifted dates)."""
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [value + 1, value - 1, round(value * 1.1), value * 2, value // 2, 1, 0]
    if isinstance(value, float):
        nudged = [value * 1.1, value * 0.9, value + 0.01, value - 0.01, value + 1, value / 2]
        return [*nudged, value - 1, 0.0, 1.0]
    if isinstance(value, str):
        return _dates(value) if dt.date in types_ else [value + "x", "x", "QQQ"]
    if isinstance(value, list):
        return [[*value, "ZZZZ"], value[:-1], ["AAPL"]]
    if isinstance(value, dict) and path == ("scoring", "weights"):
        return [{strategy.factor_names()[0]: 2.0} if strategy.factors else {"x": 1.0}]
    if value is None and dt.date in types_:
        start = tree["data"]["start"]
        return [d for d in _dates(start) if d != start]
    return []


def _tries(
    strategy: Strategy, tree: dict[str, Any], path: UserPath
) -> Iterator[tuple[dict[UserPath, Any], Plan]]:
    """Changes of `path` that validate and compile, with their plans."""
    for change in alternatives(strategy, tree, path):
        varied, _ = with_values(strategy, change)
        if varied is None or user_tree(varied) == tree:
            continue
        try:
            yield change, compile_strategy(varied, as_of=AS_OF)
        except StrategyError:
            continue


@pytest.mark.parametrize("original", FILES, ids=IDS)
def test_every_result_affecting_value_changes_the_fingerprint(original: Path) -> None:
    loaded, plan = baseline(original)
    strategy = loaded.strategy
    assert strategy is not None
    tree = user_tree(strategy)
    eligible = eligible_paths(tree)
    tested: list[str] = []
    skipped: list[str] = []
    for path in eligible:
        tries = 0
        for change, varied in _tries(strategy, tree, path):
            assert varied.fingerprint != plan.fingerprint, (
                f"{original.name}: changing {format_path(path)} "
                f"({_get(tree, path)!r} -> {change}) left the fingerprint unchanged"
            )
            tries += 1
            if tries == 3:
                break
        (tested if tries else skipped).append(format_path(path))
    assert len(tested) >= 0.8 * len(eligible), (
        f"only {len(tested)} of {len(eligible)} paths testable; skipped: {skipped}"
    )


def test_sensitivity_covers_the_stage_sections() -> None:
    """Guard: the eligible paths of the examples reach every result-affecting section."""
    sections: set[str] = set()
    for original in FILES:
        strategy = baseline(original)[0].strategy
        assert strategy is not None
        sections |= {str(p[0]) for p in eligible_paths(user_tree(strategy))}
    expected = {str(k) for k in keys_of(Strategy)} - NOT_RESULT
    assert sections == expected


# --- as_of ----------------------------------------------------------------------------------


@pytest.mark.parametrize("original", FILES, ids=IDS)
@settings(PROPS, max_examples=10)
@given(data=st.data())
def test_as_of_matters_only_when_end_is_unset(original: Path, data: st.DataObject) -> None:
    strategy = baseline(original)[0].strategy
    assert strategy is not None
    after = st.dates(strategy.data.start + dt.timedelta(days=1), dt.date(2100, 12, 31))
    a, b = data.draw(st.lists(after, min_size=2, max_size=2, unique=True))
    if strategy.data.end is not None:
        fixed = [compile_strategy(strategy, as_of=d).fingerprint for d in (a, b)]
        assert fixed[0] == fixed[1]
        open_ended, _ = with_values(strategy, {"data.end": None})
    else:
        open_ended = strategy
    assert open_ended is not None
    moving = [compile_strategy(open_ended, as_of=d).fingerprint for d in (a, b)]
    assert moving[0] != moving[1]


# --- JSON round trip ---------------------------------------------------------------------------


def _plans(original: Path) -> list[Plan]:
    """The example's plan and the plan with data.end unset."""
    loaded, plan = baseline(original)
    assert loaded.strategy is not None
    open_ended, _ = with_values(loaded.strategy, {"data.end": None})
    assert open_ended is not None
    return [plan, compile_strategy(open_ended, as_of=AS_OF)]


@pytest.mark.parametrize("original", FILES, ids=IDS)
def test_plan_json_round_trip_is_exact(original: Path) -> None:
    for plan in _plans(original):
        text = plan.to_json()
        back = Plan.from_json(text)
        assert back == plan
        assert back.to_json() == text
        assert back.fingerprint == plan.fingerprint


def _json_leaves(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _json_leaves(v, (*prefix, k))]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _json_leaves(v, (*prefix, i))]
    return [prefix]


def _edited(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        try:
            return (dt.date.fromisoformat(value) + dt.timedelta(days=1)).isoformat()
        except ValueError:
            return value + "x"
    return 1


@pytest.mark.parametrize("original", FILES, ids=IDS)
@settings(PROPS, max_examples=20)
@given(data=st.data())
def test_plan_with_edited_stage_is_refused(original: Path, data: st.DataObject) -> None:
    plan = baseline(original)[1]
    doc = json.loads(plan.to_json())
    path = data.draw(st.sampled_from(_json_leaves(doc["stages"])))
    node = doc["stages"]
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = _edited(node[path[-1]])
    note(f"stages{list(path)} = {node[path[-1]]!r}")
    text = json.dumps(doc, indent=2)
    with pytest.raises(UserError) as caught:
        Plan.from_json(text)
    try:
        Plan.model_validate_json(text)
    except ValueError:
        return  # refused as "not a qtc plan": the edit broke the schema
    assert "fingerprint does not match" in caught.value.message


@pytest.mark.parametrize("original", FILES[:1], ids=IDS[:1])
def test_plan_metadata_is_outside_the_fingerprint(original: Path) -> None:
    """Name and description are not fingerprinted, so editing them is not refused."""
    plan = baseline(original)[1]
    doc = json.loads(plan.to_json())
    doc["strategy_name"] = "renamed"
    doc["description"] = "edited"
    back = Plan.from_json(json.dumps(doc))
    assert back.fingerprint == plan.fingerprint
    assert back.strategy_name == "renamed"
