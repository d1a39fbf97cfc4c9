"""The loader: composition (extends, --set), origins, secrets and all-at-once diagnostics."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qtc.errors import Location
from qtc.manifest.load import load_strategy
from qtc.manifest.sizing import EqualSizing, InverseVolSizing

MINIMAL = """\
schema = 1
name = "mini"

[data]
start = 2010-01-04
end = 2015-12-31

[[factors]]
name = "mom"
kind = "momentum"
"""


def write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text)
    return path


def test_minimal_strategy_gets_documented_defaults(tmp_path: Path) -> None:
    loaded = load_strategy(write(tmp_path, "s.toml", MINIMAL))
    assert loaded.ok, loaded.diagnostics
    s = loaded.strategy
    assert s is not None
    assert s.factors[0].kind == "momentum"
    assert (s.factors[0].lookback, s.factors[0].skip) == (252, 21)
    assert isinstance(s.sizing, EqualSizing)
    assert s.rebalance.execution == "next_close"
    assert s.costs.commission_bps == 1.0


def test_extends_deep_merges_and_factors_merge_by_name(tmp_path: Path) -> None:
    write(tmp_path, "base.toml", MINIMAL + '\n[sizing]\nkind = "inverse_vol"\nlookback = 40\n')
    child = write(
        tmp_path,
        "child.toml",
        'extends = "base.toml"\nname = "child"\n\n[sizing]\nmax_weight = 0.1\n\n'
        '[[factors]]\nname = "mom"\nkind = "momentum"\nlookback = 126\n\n'
        '[[factors]]\nname = "vol"\nkind = "volatility"\n',
    )
    loaded = load_strategy(child)
    assert loaded.ok, loaded.diagnostics
    s = loaded.strategy
    assert s is not None and isinstance(s.sizing, InverseVolSizing)
    assert (s.sizing.lookback, s.sizing.max_weight) == (40, 0.1)
    assert [f.name for f in s.factors] == ["mom", "vol"]
    assert s.factors[0].lookback == 126
    assert s.name == "child"
    # origins: inherited value points into the parent, overridden one into the child
    parent_origin = loaded.origins[("sizing", "lookback")]
    assert parent_origin.file.endswith("base.toml") and parent_origin.where is not None
    assert parent_origin.where.key.line == 14  # 10 lines + blank + [sizing] + kind
    assert loaded.origins[("factors", "mom", "lookback")].file == str(child)


def test_child_kind_change_replaces_table(tmp_path: Path) -> None:
    write(tmp_path, "base.toml", MINIMAL + '\n[sizing]\nkind = "inverse_vol"\nlookback = 40\n')
    child = write(tmp_path, "c.toml", 'extends = "base.toml"\n[sizing]\nkind = "equal"\n')
    loaded = load_strategy(child)
    assert loaded.ok, loaded.diagnostics
    assert isinstance(loaded.strategy.sizing, EqualSizing)  # type: ignore[union-attr]


def test_extends_cycle_is_reported_once(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", MINIMAL.replace('name = "mini"', 'name = "a"\nextends = "b.toml"'))
    write(tmp_path, "b.toml", 'extends = "a.toml"\n')
    loaded = load_strategy(tmp_path / "a.toml")
    codes = [d.code for d in loaded.diagnostics]
    assert codes == ["QTC108"]
    assert "a.toml -> b.toml -> a.toml" in loaded.diagnostics[0].message


def test_extends_missing_parent(tmp_path: Path) -> None:
    path = write(tmp_path, "c.toml", 'extends = "nope.toml"\n' + MINIMAL)
    loaded = load_strategy(path)
    (diag,) = loaded.diagnostics
    assert diag.code == "QTC107"
    assert diag.location == Location(str(path), 1, 11, 11)


def test_set_overrides_are_typed_and_last(tmp_path: Path) -> None:
    path = write(tmp_path, "s.toml", MINIMAL)
    loaded = load_strategy(
        path,
        [
            "factors.mom.lookback=126",
            "data.end=2014-06-30",
            'universe={kind="symbols", symbols=["AAPL","MSFT"]}',
            "selection.top_n=1",
        ],
    )
    assert loaded.ok, loaded.diagnostics
    s = loaded.strategy
    assert s is not None
    assert s.factors[0].lookback == 126
    assert str(s.data.end) == "2014-06-30"
    assert s.universe.kind == "symbols"
    assert s.selection.top_n == 1
    assert loaded.origins[("universe", "symbols")].file == "--set"


def test_all_problems_in_one_pass(tmp_path: Path) -> None:
    text = MINIMAL.replace("lookback", "x") + (
        'lookback = -1\n\n[sizing]\nkind = "hrpp"\n\n[costs]\ncommision_bps = 2\n\n'
        '[selection]\ntop_n = "ten"\n\n[broker]\nkind = "alpaca"\npassword = "hunter2"\n'
    )
    loaded = load_strategy(write(tmp_path, "s.toml", text))
    codes = sorted(d.code for d in loaded.diagnostics)
    assert codes == ["QTC101", "QTC102", "QTC103", "QTC104", "QTC106"]
    by_code = {d.code: d for d in loaded.diagnostics}
    assert by_code["QTC101"].hint == "did you mean `costs.commission_bps`?"
    assert by_code["QTC104"].hint == 'did you mean "hrp"?'
    assert by_code["QTC102"].key_path == "factors.mom.lookback"
    assert by_code["QTC102"].location is not None and by_code["QTC102"].location.line == 11
    assert "hunter2" not in repr(loaded.diagnostics)


def test_strict_types(tmp_path: Path) -> None:
    loaded = load_strategy(
        write(tmp_path, "s.toml", MINIMAL + '\n[broker]\nkind = "alpaca"\npaper = "yes"\n')
    )
    assert [d.code for d in loaded.diagnostics] == ["QTC103"]
    assert loaded.diagnostics[0].expected.startswith("true or false")


def test_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    loaded = load_strategy(write(tmp_path, "s.toml", MINIMAL + 'bad = "unclosed\n'))
    (diag,) = loaded.diagnostics
    assert diag.code == "QTC001"
    assert diag.location is not None and diag.location.line == 11


@pytest.mark.parametrize(
    "key", ["api_key", "secret", "password", "token", "ALPACA_SECRET_KEY", "private_key"]
)
def test_secret_keys_rejected_anywhere(tmp_path: Path, key: str) -> None:
    loaded = load_strategy(write(tmp_path, "s.toml", MINIMAL + f'{key} = "x"\n'))
    assert [d.code for d in loaded.diagnostics] == ["QTC106"]


def test_env_variable_names_are_not_secrets(tmp_path: Path) -> None:
    text = MINIMAL + '\n[broker]\nkind = "alpaca"\nsecret_key_env = "MY_SECRET"\n'
    assert load_strategy(write(tmp_path, "s.toml", text)).ok


def test_extends_must_name_a_toml_file(tmp_path: Path) -> None:
    write(tmp_path, "credentials", "machine h login bob password hunter2\n")
    path = write(tmp_path, "c.toml", 'extends = "credentials"\n' + MINIMAL)
    loaded = load_strategy(path)
    (diag,) = loaded.diagnostics
    assert (diag.code, diag.key_path) == ("QTC114", "extends")
    assert diag.location == Location(str(path), 1, 11, 13)
    assert list(loaded.sources) == [str(path)]  # the parent was never read


@pytest.mark.parametrize("parent", ["base.TOML", "sub/base.toml"])
def test_extends_suffix_is_case_insensitive_and_relative(tmp_path: Path, parent: str) -> None:
    (tmp_path / "sub").mkdir()
    write(tmp_path, parent, MINIMAL)
    path = write(tmp_path, "c.toml", f'extends = "{parent}"\n' + MINIMAL)
    assert load_strategy(path).ok


def test_extends_a_directory_named_toml(tmp_path: Path) -> None:
    (tmp_path / "dir.toml").mkdir()
    loaded = load_strategy(write(tmp_path, "c.toml", 'extends = "dir.toml"\n' + MINIMAL))
    (diag,) = loaded.diagnostics
    assert diag.code == "QTC002"
    assert diag.message.endswith("dir.toml: is a directory, not a strategy file")


def test_byte_order_mark_and_crlf_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.replace("\n", "\r\n").encode())
    loaded = load_strategy(path)
    assert loaded.ok, loaded.diagnostics
    assert loaded.sources[str(path)] == MINIMAL


def test_file_larger_than_a_megabyte_is_not_read(tmp_path: Path) -> None:
    path = write(tmp_path, "s.toml", MINIMAL + "#" * 1_000_000 + "\n")
    (diag,) = load_strategy(path).diagnostics
    assert diag.code == "QTC002"
    assert "over 1,000,000 bytes" in diag.message


def test_named_pipe_is_refused_without_waiting(tmp_path: Path) -> None:
    path = tmp_path / "fifo.toml"
    os.mkfifo(path)
    (diag,) = load_strategy(path).diagnostics
    assert diag.code == "QTC002"
    assert "not a regular file" in diag.message


@pytest.mark.parametrize(
    ("text", "key_path", "line"),
    [
        ("x = " + "[" * 17 + "]" * 17 + "\n" + MINIMAL, "x[0][0][0]…", 1),
        (MINIMAL + "[" + ".".join("a" * 17) + "]\n", "a.a.a.a…", 11),
        ("x = " + "[" * 5000 + "]" * 5000 + "\n" + MINIMAL, "", 0),
        (MINIMAL + "[" + ".".join("a" * 3000) + "]\n", "", 0),
    ],
    ids=["array_17", "header_17", "array_5000", "header_3000"],
)
def test_nesting_deeper_than_any_key_is_refused(
    tmp_path: Path, text: str, key_path: str, line: int
) -> None:
    (diag,) = load_strategy(write(tmp_path, "s.toml", text)).diagnostics
    assert (diag.code, diag.key_path) == ("QTC003", key_path)
    assert diag.location is not None and diag.location.line == line


def test_sixteen_levels_are_still_read_and_validated(tmp_path: Path) -> None:
    text = "x = " + "[" * 15 + "]" * 15 + "\n" + MINIMAL
    assert [d.code for d in load_strategy(write(tmp_path, "s.toml", text)).diagnostics] == [
        "QTC101"
    ]


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ("extends=base.toml", "`extends` is read before overrides apply"),
        (".".join("a" * 17) + "=1", "the key path has 17 parts"),
        ("x=" + "[" * 5000 + "]" * 5000, "nested more than 16 levels deep"),
        ("x=" + "[" * 17 + "]" * 17, "nested more than 16 levels deep"),
        ("selection.top_n=3\nselection.buffer=2", "the value spans several lines"),
        ("selection.", "expected key.path=value"),
        ("selection.=3", "empty key in key path"),
        ("selection..top_n=3", "empty key in key path"),
        ("data.start.api_key=FAKESECRET", "`data.start` is a value, not a table"),
    ],
)
def test_malformed_overrides(tmp_path: Path, override: str, reason: str) -> None:
    loaded = load_strategy(write(tmp_path, "s.toml", MINIMAL), [override])
    (diag,) = loaded.diagnostics
    assert diag.code == "QTC109"
    assert diag.location == Location("--set")
    assert diag.message.endswith(reason) or reason in diag.message
    assert "FAKESECRET" not in diag.message
    assert "\n" not in diag.message
    assert len(diag.message) < 250


@pytest.mark.parametrize(
    ("override", "key_path"),
    [
        ("data.benchmark=☃", "data.benchmark"),
        ('data.benchmark="S P Y"', "data.benchmark"),
        ('universe={kind="symbols", symbols=["AAPL", ""]}', "universe.symbols[1]"),
        ('universe={kind="all", exclude=["GE", "\\u0000"]}', "universe.exclude[1]"),
    ],
)
def test_symbols_are_printable_ascii_without_spaces(
    tmp_path: Path, override: str, key_path: str
) -> None:
    (diag,) = load_strategy(write(tmp_path, "s.toml", MINIMAL), [override]).diagnostics
    assert (diag.code, diag.key_path) == ("QTC109", key_path)
    assert "must be a symbol: 1 to 32 printable ASCII characters, no spaces" in diag.message


@pytest.mark.parametrize("value", ["0", "86400", "1e-320", "true", "20100104"])
@pytest.mark.parametrize("key", ["data.start", "data.end", "data.history_start"])
def test_a_number_is_not_a_date(tmp_path: Path, key: str, value: str) -> None:
    (diag,) = load_strategy(write(tmp_path, "s.toml", MINIMAL), [f"{key}={value}"]).diagnostics
    assert (diag.code, diag.key_path) == ("QTC109", key)
    assert "invalid date: a date is written YYYY-MM-DD, not as " in diag.message
