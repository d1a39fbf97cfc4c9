"""CLI commands end to end through Typer's runner; human and JSON output snapshot-tested.

Regenerate snapshots with `uv run pytest --snapshot-update` (never edit them by hand).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from tests.conftest import AS_OF, REPO

EXAMPLES = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "strategies").glob("*.toml"))


def test_help_lists_every_command(qtc: Callable[..., Result], snapshot: object) -> None:
    result = qtc("--help")
    assert result.exit_code == 0
    for name in ("check", "compile", "schema", "backtest", "rebalance", "report", "data"):
        assert name in result.stdout
    assert result.stdout == snapshot


@pytest.mark.parametrize("argv", [["--help"], [], ["--version"], ["-x"]])
def test_top_level_listing_prints_what_the_whole_app_prints(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`qtc --help` is served by commands without parameters; the output must not change."""
    import typer.main
    from typer.testing import CliRunner

    from qtc.cli.main import app, app_for

    monkeypatch.delenv("_QTC_COMPLETE", raising=False)
    listing = app_for(argv)
    assert listing is not app
    lean = CliRunner().invoke(listing, argv)
    full = CliRunner().invoke(app, argv)
    assert (lean.exit_code, lean.output) == (full.exit_code, full.output)
    group = typer.main.get_command(listing)
    assert group.commands["backtest"].params == []  # type: ignore[attr-defined]
    assert group.commands["data"].commands["ingest"].params == []  # type: ignore[attr-defined]
    monkeypatch.setenv("_QTC_COMPLETE", "bash_complete")
    assert app_for(argv) is app  # shell completion needs every parameter


def test_version(qtc: Callable[..., Result]) -> None:
    result = qtc("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("qtc ")


def test_check_all_examples_ok(qtc: Callable[..., Result], snapshot: object) -> None:
    result = qtc("check", *EXAMPLES, "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    assert f"{len(EXAMPLES)} of {len(EXAMPLES)} strategy files ok" in result.stdout
    assert result.stdout == snapshot


def test_check_all_examples_json(qtc: Callable[..., Result], snapshot: object) -> None:
    result = qtc("check", *EXAMPLES, "--as-of", AS_OF, "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [f["path"] for f in data["files"]] == EXAMPLES
    assert all(f["ok"] and f["fingerprint"].startswith("sha256:") for f in data["files"])
    assert data == snapshot


def test_check_unknown_key_points_at_key(qtc: Callable[..., Result]) -> None:
    result = qtc("check", "tests/cases/invalid/unknown_key.toml", "--as-of", AS_OF)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    frame = next(i for i, line in enumerate(lines) if "max_weigth = " in line)
    key_col = lines[frame].index("max_weigth")
    caret = lines[frame + 1]
    assert caret.index("^") == key_col
    assert caret.count("^") == len("max_weigth")
    assert "did you mean `sizing.max_weight`?" in result.stderr


def test_check_mixed_files_exit_2(qtc: Callable[..., Result]) -> None:
    result = qtc(
        "check",
        "strategies/momentum_us.toml",
        "tests/cases/invalid/unknown_key.toml",
        "--as-of",
        AS_OF,
    )
    assert result.exit_code == 2
    assert "1 of 2 strategy files ok" in result.stdout


def test_check_missing_file(qtc: Callable[..., Result], snapshot: object) -> None:
    result = qtc("check", "strategies/does_not_exist.toml", "--as-of", AS_OF)
    assert result.exit_code == 2
    assert "QTC002" in result.stderr
    assert result.stderr == snapshot


@pytest.mark.parametrize(
    "override",
    [
        "sizing.max_weigth=0.1",
        "factors.nope.lookback=3",
        "selection.top_n=abc",
        "=3",
        "selection.top_n",
        "data.start=2005-02-30",
    ],
)
def test_bad_set_override(qtc: Callable[..., Result], override: str, snapshot: object) -> None:
    result = qtc("check", "strategies/momentum_us.toml", "--set", override, "--as-of", AS_OF)
    assert result.exit_code == 2
    assert "QTC109" in result.stderr
    assert "--set" in result.stderr
    assert result.stderr == snapshot


def test_set_is_typed_like_the_schema(qtc: Callable[..., Result]) -> None:
    result = qtc(
        "compile",
        "strategies/momentum_us.toml",
        "--resolved",
        "--format",
        "json",
        "--set",
        "selection.top_n=30",
        "--set",
        "factors.mom_12_1.lookback=189",
        "--set",
        "sizing.kind=equal",
        "--as-of",
        AS_OF,
    )
    assert result.exit_code == 0, result.output
    rows = {r["key_path"]: r for r in json.loads(result.stdout)}
    assert rows["selection.top_n"] == {
        "key_path": "selection.top_n",
        "value": "30",
        "origin": "--set selection.top_n=30",
    }
    assert rows["factors.mom_12_1.lookback"]["value"] == "189"
    assert rows["sizing.kind"]["value"] == '"equal"'
    assert "sizing.lookback" not in rows  # the kind changed, so the inverse_vol keys went


def test_compile_tree(qtc: Callable[..., Result], snapshot: object) -> None:
    result = qtc("compile", "strategies/momentum_us.toml", "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    assert result.stdout == snapshot


def test_compile_explain(qtc: Callable[..., Result], snapshot: object) -> None:
    result = qtc("compile", "strategies/momentum_us.toml", "--explain", "--as-of", AS_OF)
    assert result.exit_code == 0
    assert "requires:" in result.stdout and "produces:" in result.stdout
    assert result.stdout == snapshot


def test_compile_json_round_trips(qtc: Callable[..., Result], snapshot: object) -> None:
    from qtc.compile.plan import Plan

    result = qtc("compile", "strategies/momentum_us.toml", "--json", "--as-of", AS_OF)
    assert result.exit_code == 0
    plan = Plan.from_json(result.stdout)
    assert plan.to_json() + "\n" == result.stdout or json.loads(plan.to_json()) == json.loads(
        result.stdout
    )
    assert json.loads(result.stdout) == snapshot


def test_compile_resolved(qtc: Callable[..., Result], snapshot: object) -> None:
    result = qtc("compile", "strategies/momentum_us.toml", "--resolved", "--as-of", AS_OF)
    assert result.exit_code == 0
    assert "strategies/momentum_us.toml:" in result.stdout
    assert "default" in result.stdout
    assert result.stdout == snapshot


def test_compile_error_json(qtc: Callable[..., Result], snapshot: object) -> None:
    result = qtc(
        "compile", "tests/cases/invalid/unknown_key.toml", "--format", "json", "--as-of", AS_OF
    )
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert data["diagnostics"][0]["code"] == "QTC101"
    assert data == snapshot


def test_schema_check_passes(qtc: Callable[..., Result]) -> None:
    result = qtc("schema", "--check")
    assert result.exit_code == 0, result.output


def test_schema_check_detects_drift(qtc: Callable[..., Result], tmp_path: Path) -> None:
    stale = tmp_path / "strategy.v1.json"
    stale.write_text("{}\n")
    result = qtc("schema", "--check", "--out", str(stale))
    assert result.exit_code == 1
    assert "uv run qtc schema" in result.stdout


def test_schema_write(qtc: Callable[..., Result], tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    result = qtc("schema", "--out", str(out))
    assert result.exit_code == 0
    assert out.read_text() == (REPO / "schemas" / "strategy.v1.json").read_text()


def test_bad_as_of_is_usage_error(qtc: Callable[..., Result]) -> None:
    result = qtc("check", "strategies/momentum_us.toml", "--as-of", "yesterday")
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output


MALFORMED_SETS = {
    "extends": "extends=base.toml",
    "deep_key": ".".join(["a"] * 3000) + "=1",
    "deep_value": "x=" + "[" * 5000 + "]" * 5000,
    "two_lines": "selection.top_n=30\nselection.buffer=5",
    "secret_value": "broker.kind.api_key=FAKESECRET",
    "unicode_symbol": "data.benchmark=\u2603",
    "spaced_symbol": 'universe.exclude=["GE", "BRK B"]',
    "trailing_dot": "selection.top_n.=3",
    "empty_key": "=",
    "blank": "  =  ",
}


@pytest.mark.parametrize("name", sorted(MALFORMED_SETS))
def test_malformed_set_override(qtc: Callable[..., Result], name: str, snapshot: object) -> None:
    override = MALFORMED_SETS[name]
    for command in ("check", "compile"):
        result = qtc(command, "strategies/momentum_us.toml", "--set", override, "--as-of", AS_OF)
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        assert re.findall(r"^error\[(QTC\d{3})\]", result.stderr, re.M) == ["QTC109"]
        assert "FAKESECRET" not in result.output
    assert result.stderr == snapshot
    result = qtc("check", "strategies/momentum_us.toml", "--set", override, "--format", "json")
    assert result.exit_code == 2
    (diag,) = json.loads(result.stdout)["files"][0]["diagnostics"]
    assert (diag["code"], diag["location"]["file"]) == ("QTC109", "--set")
    assert "FAKESECRET" not in result.stdout


def test_set_making_every_weight_zero(qtc: Callable[..., Result]) -> None:
    zero = ["--set", "scoring.weights.mom_12_1=0", "--set", "scoring.weights.vol_63=0.0"]
    result = qtc("check", "strategies/momentum_us.toml", *zero, "--format", "json")
    assert result.exit_code == 2
    diags = json.loads(result.stdout)["files"][0]["diagnostics"]
    assert [(d["code"], d["key_path"], d["location"]["file"]) for d in diags] == [
        ("QTC210", "scoring.weights", "--set")
    ]
    one = qtc("check", "strategies/momentum_us.toml", *zero[:2], "--as-of", AS_OF)
    assert one.exit_code == 0, one.output


def _deep_array(path: Path) -> None:
    path.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")


def _deep_header(path: Path) -> None:
    path.write_text("[" + ".".join(["a"] * 3000) + "]\n")


def _big(path: Path) -> None:
    path.write_text("#" * 1_000_001 + "\n")


def _fifo(path: Path) -> None:
    os.mkfifo(path)


@pytest.mark.parametrize(
    ("make", "code", "words"),
    [
        (_deep_array, "QTC003", "nested more than 16 levels deep"),
        (_deep_header, "QTC003", "nested more than 16 levels deep"),
        (_big, "QTC002", "is over 1,000,000 bytes"),
        (_fifo, "QTC002", "is not a regular file"),
    ],
    ids=["deep_array", "deep_header", "big", "fifo"],
)
def test_files_that_are_not_strategies(
    qtc: Callable[..., Result], tmp_path: Path, make: Callable[[Path], None], code: str, words: str
) -> None:
    path = tmp_path / "s.toml"
    make(path)
    for command in ("check", "compile"):
        result = qtc(command, str(path), "--as-of", AS_OF)
        assert result.exit_code == 2
        assert "Traceback" not in result.output
        assert re.findall(r"^error\[(QTC\d{3})\]", result.stderr, re.M) == [code]
        assert words in result.stderr


def _flat(text: str) -> str:
    """Tree output without its guides and line breaks: what the labels say."""
    return re.sub(r"[\s│├└─]+", " ", text).strip()


@pytest.mark.parametrize("width", [80, 60])
@pytest.mark.parametrize("example", EXAMPLES)
def test_explain_tree_wraps_instead_of_cutting(
    qtc: Callable[..., Result], monkeypatch: pytest.MonkeyPatch, width: int, example: str
) -> None:
    args = ("compile", example, "--explain", "--as-of", AS_OF)
    monkeypatch.setattr("qtc.cli.console.PLAIN_WIDTH", 1000)
    wide = qtc(*args).stdout
    monkeypatch.setattr("qtc.cli.console.PLAIN_WIDTH", width)
    narrow = qtc(*args).stdout
    assert max(len(line) for line in narrow.splitlines()) <= width
    assert len(narrow.splitlines()) > len(wide.splitlines())
    assert _flat(narrow) == _flat(wide)
    assert "scale gross exposure by the regime overlay." in _flat(narrow)
