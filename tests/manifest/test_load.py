"""The loader: composition (extends, --set), origins, secrets and all-at-once diagnostics."""

from __future__ import annotations

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
