"""Tests for qtc.manifest.locate: key paths of TOML source mapped to positions."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from qtc.manifest.locate import KeyLocation, KeyPath, Span, locate_keys

EXAMPLE = """\
schema = 1
name = "x"  # comment

[data]
start = "2005-01-01"
a.b."c d" = 3

[[factors]]
name = "mom"
kind = "momentum"

[[factors]]
name = "vol"
params = { window = 63, inner = { x = 1 } }
list = [1,
  2, [3, 4]]

[search]
"factors.mom.lookback" = [126, 189]
'selection.top_n' = { min = 10, max = 50, step = 10 }
"""

STRATEGIES = Path(__file__).resolve().parents[2] / "strategies"


def _locate(source: str) -> dict[KeyPath, KeyLocation]:
    """Check `source` is valid TOML, then locate its keys.

    Args:
        source: TOML text.

    Returns:
        The locations by key path.
    """
    tomllib.loads(source)
    return locate_keys(source)


def _text(source: str, span: Span) -> str:
    """Return the source text a span covers.

    Args:
        source: The source the span points into.
        span: The span.

    Returns:
        The covered text.
    """
    line = source.split("\n")[span.line - 1]
    return line[span.col - 1 : span.col - 1 + span.length]


def _unquote(text: str) -> str:
    """Decode a key's text, removing quotes and escapes if it is quoted.

    Args:
        text: The key text as written.

    Returns:
        The key name.
    """
    if text[:1] in ('"', "'"):
        return str(tomllib.loads(f"k = {text}")["k"])
    return text


def _paths(value: Any, path: KeyPath = ()) -> Iterator[tuple[KeyPath, Any]]:
    """Yield every nested path of a parsed TOML value with the value there.

    Args:
        value: A parsed TOML value.
        path: The path of `value` itself.

    Yields:
        (path, value) for every key and array element below `value`.
    """
    if isinstance(value, dict | list):
        children: Any = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in children:
            yield (*path, key), child
            yield from _paths(child, (*path, key))


# --- the reference example -----------------------------------------------------------

EXPECTED: dict[KeyPath, tuple[tuple[int, int, int], tuple[int, int, int]]] = {
    ("schema",): ((1, 1, 6), (1, 10, 1)),
    ("name",): ((2, 1, 4), (2, 8, 3)),
    ("data",): ((4, 2, 4), (4, 2, 4)),
    ("data", "start"): ((5, 1, 5), (5, 9, 12)),
    ("data", "a"): ((6, 1, 1), (6, 1, 1)),
    ("data", "a", "b"): ((6, 3, 1), (6, 3, 1)),
    ("data", "a", "b", "c d"): ((6, 5, 5), (6, 13, 1)),
    ("factors",): ((8, 3, 7), (8, 3, 7)),
    ("factors", 0): ((8, 3, 7), (8, 3, 7)),
    ("factors", 0, "name"): ((9, 1, 4), (9, 8, 5)),
    ("factors", 0, "kind"): ((10, 1, 4), (10, 8, 10)),
    ("factors", 1): ((12, 3, 7), (12, 3, 7)),
    ("factors", 1, "name"): ((13, 1, 4), (13, 8, 5)),
    ("factors", 1, "params"): ((14, 1, 6), (14, 10, 34)),
    ("factors", 1, "params", "window"): ((14, 12, 6), (14, 21, 2)),
    ("factors", 1, "params", "inner"): ((14, 25, 5), (14, 33, 9)),
    ("factors", 1, "params", "inner", "x"): ((14, 35, 1), (14, 39, 1)),
    ("factors", 1, "list"): ((15, 1, 4), (15, 8, 3)),
    ("factors", 1, "list", 0): ((15, 9, 1), (15, 9, 1)),
    ("factors", 1, "list", 1): ((16, 3, 1), (16, 3, 1)),
    ("factors", 1, "list", 2): ((16, 6, 6), (16, 6, 6)),
    ("factors", 1, "list", 2, 0): ((16, 7, 1), (16, 7, 1)),
    ("factors", 1, "list", 2, 1): ((16, 10, 1), (16, 10, 1)),
    ("search",): ((18, 2, 6), (18, 2, 6)),
    ("search", "factors.mom.lookback"): ((19, 1, 22), (19, 26, 10)),
    ("search", "factors.mom.lookback", 0): ((19, 27, 3), (19, 27, 3)),
    ("search", "factors.mom.lookback", 1): ((19, 32, 3), (19, 32, 3)),
    ("search", "selection.top_n"): ((20, 1, 17), (20, 21, 33)),
    ("search", "selection.top_n", "min"): ((20, 23, 3), (20, 29, 2)),
    ("search", "selection.top_n", "step"): ((20, 43, 4), (20, 50, 2)),
}


@pytest.mark.parametrize("path", list(EXPECTED))
def test_example_exact_spans(path: KeyPath) -> None:
    """Every hand-derived key and value span of the example matches."""
    key, value = EXPECTED[path]
    assert locate_keys(EXAMPLE)[path] == KeyLocation(Span(*key), Span(*value))


def test_example_locates_every_parsed_path() -> None:
    """Each path of the parsed example is located, and nothing else is."""
    parsed = tomllib.loads(EXAMPLE)
    assert set(locate_keys(EXAMPLE)) == {path for path, _ in _paths(parsed)}


def test_example_span_texts() -> None:
    """Spans cut the expected text out of the example."""
    found = locate_keys(EXAMPLE)
    assert _text(EXAMPLE, found[("data", "a", "b", "c d")].key) == '"c d"'
    assert _text(EXAMPLE, found[("factors", 1, "params")].value).endswith("} }")
    assert _text(EXAMPLE, found[("factors", 1, "list")].value) == "[1,"
    assert _text(EXAMPLE, found[("search", "selection.top_n")].key) == "'selection.top_n'"


# --- tricky cases ---------------------------------------------------------------------


def test_dotted_header_creates_parent_tables() -> None:
    """`[a.b]` creates both ("a",) and ("a", "b"), pointing at their segments."""
    found = _locate("[a.b]\nx = 1\n")
    assert found[("a",)].key == Span(1, 2, 1)
    assert found[("a", "b")].key == Span(1, 4, 1)
    assert found[("a", "b", "x")].value == Span(2, 5, 1)


def test_nested_arrays_of_tables_follow_toml_semantics() -> None:
    """Sub-array indices restart when the parent array of tables gets a new element."""
    source = """\
[[fruits]]
name = "apple"

[fruits.physical]
color = "red"

[[fruits.varieties]]
name = "red delicious"

[[fruits.varieties]]
name = "granny smith"

[[fruits]]
name = "banana"

[[fruits.varieties]]
name = "plantain"
"""
    found = _locate(source)
    assert set(found) == {path for path, _ in _paths(tomllib.loads(source))}
    assert found[("fruits", 0, "physical", "color")].key.line == 5
    assert found[("fruits", 0, "varieties", 0, "name")].key.line == 8
    assert found[("fruits", 0, "varieties", 1)].key == Span(10, 10, 9)
    assert found[("fruits", 0, "varieties", 1, "name")].key.line == 11
    assert found[("fruits", 1, "name")].key.line == 14
    assert found[("fruits", 1, "varieties", 0, "name")].value == Span(17, 8, 10)
    assert found[("fruits", 0, "varieties")].key == Span(7, 10, 9)
    assert found[("fruits",)].key == Span(1, 3, 6)


def test_quoted_keys_with_escapes_and_literal_keys() -> None:
    """Quoted keys are decoded; their spans include the quotes."""
    source = '"a\\"b" = 1\n\'x.y\' = 2\n"\\u00e9" . \'z z\' = 3\n'
    found = _locate(source)
    assert found[('a"b',)].key == Span(1, 1, 6)
    assert found[("x.y",)].key == Span(2, 1, 5)
    assert found[("é",)].key == Span(3, 1, 8)
    assert found[("é", "z z")].key == Span(3, 12, 5)


def test_multiline_strings_hide_toml_syntax() -> None:
    """Keys, headers, comments and quotes inside multi-line strings are not keys."""
    source = '''\
s = """
a = 1 # not a comment
[not.a.table]
"quoted" "" = 'x'
"""
t = \'\'\'
x = [ '' # ]
\'\'\'
v = """a\\"""b"""
w = """x""""
u = 3
'''
    found = _locate(source)
    assert set(found) == {("s",), ("t",), ("v",), ("w",), ("u",)}
    assert found[("s",)].value == Span(1, 5, 3)
    assert found[("v",)].value == Span(9, 5, 12)
    assert found[("w",)].value == Span(10, 5, 8)
    assert found[("u",)] == KeyLocation(Span(11, 1, 1), Span(11, 5, 1))


def test_single_line_strings_with_special_characters() -> None:
    """`#`, `,`, `]` and escaped quotes inside strings do not end the value."""
    source = 'a = ["x#,]\\"", \'y#]\', "z"]  # c\nb = 1\n'
    found = _locate(source)
    assert found[("a", 0)].value == Span(1, 6, 8)
    assert found[("a", 1)].value == Span(1, 16, 5)
    assert found[("a", 2)].value == Span(1, 23, 3)
    assert found[("b",)].key == Span(2, 1, 1)


def test_comments_inside_multiline_arrays() -> None:
    """Comments and blank lines between array elements are skipped."""
    source = "x = [  # first\n  1,  # one\n\n  # nothing here, ] [\n  2,  # trailing comma\n]\n"
    found = _locate(source)
    assert found[("x",)].value == Span(1, 5, 10)
    assert found[("x", 0)].value == Span(2, 3, 1)
    assert found[("x", 1)].value == Span(5, 3, 1)
    assert ("x", 2) not in found


def test_whitespace_around_dots() -> None:
    """Spaces and tabs around dots in keys and headers are allowed."""
    found = _locate("[ t . u ]\na . b\t=\t1\n")
    assert found[("t", "u")].key == Span(1, 7, 1)
    assert found[("t", "u", "a")].key == Span(2, 1, 1)
    assert found[("t", "u", "a", "b")] == KeyLocation(Span(2, 5, 1), Span(2, 9, 1))


def test_crlf_line_endings() -> None:
    """CRLF endings count as one line break and are not part of any span."""
    source = 'a = "x"\r\n[t]\r\nb = [1,\r\n  2]\r\n'
    found = _locate(source)
    assert found[("a",)].value == Span(1, 5, 3)
    assert found[("t",)].key == Span(2, 2, 1)
    assert found[("t", "b")].value == Span(3, 5, 3)
    assert found[("t", "b", 1)].value == Span(4, 3, 1)


def test_tabs_count_as_one_column() -> None:
    """A tab is one code point, so one column."""
    found = _locate("\tkey\t=\t1\n")
    assert found[("key",)] == KeyLocation(Span(1, 2, 3), Span(1, 8, 1))


def test_bare_scalar_tokens() -> None:
    """Numbers, booleans, special floats and dates are located whole."""
    source = (
        "d = 1979-05-27 07:32:00Z\n"
        "a = [1979-05-27 07:32:00, nan, -inf, true, 0x1F, 1_000, 6.02e+23, 07:32:00]\n"
        "e = 1979-05-27\n"
        "f = +inf # c\n"
    )
    found = _locate(source)
    assert found[("d",)].value == Span(1, 5, 20)
    texts = [_text(source, found[("a", i)].value) for i in range(8)]
    assert texts == [
        "1979-05-27 07:32:00",
        "nan",
        "-inf",
        "true",
        "0x1F",
        "1_000",
        "6.02e+23",
        "07:32:00",
    ]
    assert found[("e",)].value == Span(3, 5, 10)
    assert found[("f",)].value == Span(4, 5, 4)


def test_nested_trailing_and_empty_containers() -> None:
    """Nested arrays, trailing commas and empty arrays or inline tables."""
    source = "a = [[1, [2,],], [], {}, { },]\nb = {}\nc = []\nd = { e = [], f = {} }\n"
    found = _locate(source)
    assert set(found) == {path for path, _ in _paths(tomllib.loads(source))}
    assert found[("a", 0, 1, 0)].value == Span(1, 11, 1)
    assert found[("a", 1)].value == Span(1, 18, 2)
    assert found[("a", 3)].value == Span(1, 26, 3)
    assert found[("b",)].value == Span(2, 5, 2)
    assert found[("d", "f")].value == Span(4, 19, 2)


def test_columns_count_code_points() -> None:
    """Non-ASCII characters count as one column each."""
    found = _locate('t = { a = "日本語", b = 2 }\n')
    assert found[("t", "b")].key == Span(1, 18, 1)
    assert found[("t", "a")].value == Span(1, 11, 5)


def test_explicit_header_wins_over_implied_table() -> None:
    """An explicit header replaces the position of a table only implied earlier."""
    found = _locate("[a.b]\nx = 1\n[a]\ny = 2\n")
    assert found[("a",)].key == Span(3, 2, 1)


def test_first_written_place_wins() -> None:
    """A table implied by several dotted keys points at the first."""
    found = _locate("p.q = 1\np.r = 2\n")
    assert found[("p",)].key == Span(1, 1, 1)


def test_empty_document() -> None:
    """An empty or comment-only document has no keys."""
    assert locate_keys("") == {}
    assert _locate("# only a comment\n\n") == {}


# --- properties -----------------------------------------------------------------------

_ALPHABET = st.sampled_from(list("ab Z_-.0\"'#=[]{},\n\t\\é日"))
_TEXT = st.text(_ALPHABET, max_size=8) | st.text(max_size=6)
_SCALARS = st.integers(-(2**63), 2**63 - 1) | st.booleans() | _TEXT
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=12,
)
_DOCUMENTS = st.dictionaries(_TEXT, _VALUES, max_size=5)


def _check_scalar(text: str, value: object) -> None:
    """Assert the text at a value span is how `value` would be written.

    Args:
        text: Text cut out of the source at the value span.
        value: The parsed scalar.
    """
    if isinstance(value, str) and text.startswith('"""'):
        return  # multi-line string: only its first line is spanned
    assert text[:1] in ('"', "'") if isinstance(value, str) else text[:1] not in ('"', "'")
    assert tomllib.loads(f"v = {text}")["v"] == value


@settings(max_examples=300, deadline=None)
@given(document=_DOCUMENTS, multiline=st.booleans())
def test_every_path_of_dumped_documents_is_located(
    document: dict[str, Any], multiline: bool
) -> None:
    """For any document tomli_w writes, every path is located with its key and value."""
    source = tomli_w.dumps(document, multiline_strings=multiline)
    found = locate_keys(source)
    for path, value in _paths(tomllib.loads(source)):
        assert path in found, (path, source)
        location = found[path]
        if isinstance(path[-1], str):
            assert _unquote(_text(source, location.key)) == path[-1]
        if not isinstance(value, dict | list):
            _check_scalar(_text(source, location.value), value)
        if isinstance(value, bool | int):
            assert _text(source, location.value) == (str(value).lower())


def test_strategy_files_are_fully_located() -> None:
    """Every leaf of every shipped strategy manifest is located."""
    files = sorted(STRATEGIES.glob("*.toml")) if STRATEGIES.is_dir() else []
    if not files:
        pytest.skip("no strategies/*.toml files")
    for file in files:
        source = file.read_text(encoding="utf-8")
        found = locate_keys(source)
        missing = [path for path, _ in _paths(tomllib.loads(source)) if path not in found]
        assert not missing, (file.name, missing)
