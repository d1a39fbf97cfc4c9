"""`qtc validate --report`: the run and its report with the factor tear sheet, offline."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from tests.research.conftest import SHORT_WINDOW, STRATEGY

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FACTOR_CHARTS = (
    "chart-factor-ic",
    "chart-factor-decay",
    "chart-factor-quantiles",
    "chart-factor-cumulative",
)


@pytest.fixture(scope="module")
def validated(tmp_path_factory: pytest.TempPathFactory, demo_lake: Path) -> Path:
    """A validation written with --report (in process, through the library)."""
    from qtc.api.data import LakeRef
    from qtc.api.research import validate, validate_request
    from tests.conftest import REPO

    out = tmp_path_factory.mktemp("validate_report") / "va"
    window = tuple(SHORT_WINDOW[1::2])
    request = validate_request(path=str(REPO / STRATEGY), overrides=window, jobs=1)
    outcome = validate(request, lake=LakeRef(demo_lake, "--lake"), out=out, report=True)
    assert outcome.report is not None
    return outcome.folder


def test_the_report_has_the_factor_tear_sheet(validated: Path) -> None:
    html = (validated / "report.html").read_text()
    assert '<section id="factors">' in html and '<a href="#factors">Factors</a>' in html
    for chart in FACTOR_CHARTS:
        assert f'id="{chart}"' in html
    assert not re.search(r"(?:src|href)=\"(?:https?:)?//", html)  # nothing from the network
    assert (validated / "run" / "run.json").is_file()


def test_qtc_report_of_the_run_renders_the_same_section(
    qtc: Callable[..., Result], validated: Path, tmp_path: Path
) -> None:
    page = tmp_path / "again.html"
    result = qtc("report", str(validated / "run"), "--out", str(page))
    assert result.exit_code == 0, result.output
    assert page.read_text() == (validated / "report.html").read_text()


def test_a_run_outside_a_validation_has_no_factor_section(validated: Path, tmp_path: Path) -> None:
    from qtc.outputs.report import render_report

    copy = tmp_path / "run"
    shutil.copytree(validated / "run", copy)
    html = render_report(copy)  # its charts come from the run's report cache
    assert 'id="factors"' not in html and "#factors" not in html


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)")
def test_factor_section_in_headless_chromium(validated: Path) -> None:
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto((validated / "report.html").resolve().as_uri(), wait_until="load")
        boxes = [page.locator(f"#{chart}").bounding_box() for chart in FACTOR_CHARTS]
        browser.close()
    assert errors == []
    assert all(url.startswith(("file:", "data:", "about:")) for url in requests), requests
    assert all(box is not None and box["width"] > 0 and box["height"] > 0 for box in boxes)
