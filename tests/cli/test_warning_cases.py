"""Files in tests/cases/warnings: compile (exit 0, even with --strict) with one warning."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from typer.testing import Result

from tests.conftest import AS_OF

CASES = {"unused_factor.toml": ("QTC208", 24), "cap_not_invested.toml": ("QTC209", 32)}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("strict", [False, True])
def test_warning_case(qtc: Callable[..., Result], name: str, strict: bool) -> None:
    args = ["check", f"tests/cases/warnings/{name}", "--as-of", AS_OF, "--format", "json"]
    result = qtc(*args, *(["--strict"] if strict else []))
    assert result.exit_code == 0, result.output
    (diag,) = json.loads(result.stdout)["files"][0]["diagnostics"]
    code, line = CASES[name]
    assert (diag["code"], diag["severity"], diag["location"]["line"]) == (code, "warning", line)
