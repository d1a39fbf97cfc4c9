"""Every file in tests/cases/invalid: exit 2, the right code, line and column (snapshots).

Each case's human rendering (with source frame and caret) and its JSON are
snapshot-tested; the expected code is also asserted from tests/cases/invalid/README.md
so a regenerated snapshot cannot silently change what a case means.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from typer.testing import Result

from tests.conftest import AS_OF, REPO

CASES = REPO / "tests" / "cases" / "invalid"
FILES = sorted(p.name for p in CASES.glob("*.toml"))


def _expected_codes() -> dict[str, set[str]]:
    """File -> codes, read from the README table (`| file.toml | QTC101, QTC105 | ... |`)."""
    table: dict[str, set[str]] = {}
    readme = CASES / "README.md"
    for line in readme.read_text().splitlines() if readme.is_file() else []:
        cells = [c.strip().strip("`") for c in line.split("|")]
        if len(cells) > 2 and cells[1].endswith(".toml"):
            table[cells[1]] = set(re.findall(r"QTC\d{3}", cells[2]))
    return table


EXPECTED = _expected_codes()


def _args(name: str) -> list[str]:
    """Lint cases are errors only with --strict."""
    args = ["check", f"tests/cases/invalid/{name}", "--as-of", AS_OF]
    return [*args, "--strict"] if name.startswith("lint_") else args


@pytest.mark.parametrize("name", FILES)
def test_invalid_case_human(qtc: Callable[..., Result], name: str, snapshot: object) -> None:
    result = qtc(*_args(name))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    codes = set(re.findall(r"^(?:error|warning)\[(QTC\d{3})\]", result.stderr, re.M))
    if name in EXPECTED:
        assert EXPECTED[name] <= codes, (name, codes)
    assert result.stderr == snapshot


@pytest.mark.parametrize("name", FILES)
def test_invalid_case_json(qtc: Callable[..., Result], name: str, snapshot: object) -> None:
    result = qtc(*_args(name), "--format", "json")
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    diags = data["files"][0]["diagnostics"]
    assert diags, name
    for diag in diags:
        loc = diag["location"]
        if loc and loc["line"]:
            assert loc["col"] >= 1
    assert data == snapshot


def test_every_case_is_documented() -> None:
    assert set(FILES) <= set(EXPECTED), sorted(set(FILES) - set(EXPECTED))


def test_five_mistakes_reports_five(qtc: Callable[..., Result]) -> None:
    result = qtc("check", "tests/cases/invalid/five_mistakes.toml", "--format", "json")
    diags = json.loads(result.stdout)["files"][0]["diagnostics"]
    errors = [d for d in diags if d["severity"] == "error"]
    assert len(errors) == 5, [d["message"] for d in errors]
    assert len({d["location"]["line"] for d in errors}) == 5


def test_secret_value_never_printed(qtc: Callable[..., Result]) -> None:
    for name in ("secret_in_file.toml", "secret_password.toml"):
        source = (CASES / name).read_text()
        secrets = re.findall(r'=\s*"([^"]*(?:FAKE|fake|hunter)[^"]*)"', source)
        assert secrets, name
        for fmt in ("human", "json"):
            result = qtc("check", f"tests/cases/invalid/{name}", "--format", fmt)
            for secret in secrets:
                assert secret not in result.output


@pytest.mark.parametrize(
    ("name", "parent"),
    [
        ("extends_not_toml.toml", "parents/credentials.netrc"),
        ("extends_parent_syntax.toml", "parents/syntax_password.toml"),
    ],
)
def test_parent_password_never_printed(qtc: Callable[..., Result], name: str, parent: str) -> None:
    assert "hunter2" in (CASES / parent).read_text()
    for fmt in ("human", "json"):
        result = qtc("check", f"tests/cases/invalid/{name}", "--format", fmt, "--as-of", AS_OF)
        assert result.exit_code == 2
        assert "hunter2" not in result.output
        assert "fake_user" not in result.output
