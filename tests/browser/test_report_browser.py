"""The HTML report in a real browser: headless Chromium (Debian's package) through Playwright.

Run alone with `uv run pytest -m browser`. The report is opened from a file URL with the
network disabled; it must log no console errors, request nothing over the network, draw every
chart with a non-zero size, and give a non-blank screenshot.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qtc.api.data import LakeRef
from qtc.api.run import backtest, report
from qtc.lake import build_demo_lake
from tests.conftest import REPO

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def demo_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lake = tmp_path_factory.mktemp("browser") / "lake"
    build_demo_lake(lake, seed=11, n_symbols=60, years=6)
    return lake


@pytest.fixture(scope="module", params=["run", "validation"])
def report_file(
    request: pytest.FixtureRequest, demo_lake: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """qtc's report of a backtest, and of a validation (with the factor tear sheet)."""
    root = tmp_path_factory.mktemp(request.param)
    lake = LakeRef(demo_lake, "--lake")
    if request.param == "validation":
        from qtc.api.research import validate, validate_request

        found = validate(
            validate_request(
                path=str(REPO / "strategies" / "momentum_us.toml"),
                overrides=("data.start=2007-01-02", "data.end=2010-12-30"),
            ),
            lake=lake,
            out=root / "validations",
            report=True,
        )
        assert found.report is not None
        assert "factor" in found.report.read_text().lower()
        return found.report
    outcome = backtest(
        str(REPO / "strategies" / "sector_neutral.toml"),
        lake=lake,
        overrides=["data.start=2006-06-01", "data.end=2010-12-30"],
        out=root / "runs",
    )
    return report(outcome.run_dir)


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)")
def test_report_in_headless_chromium(report_file: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(report_file.resolve().as_uri(), wait_until="load")
        charts = page.locator("svg")
        assert charts.count() >= 6
        sizes = [charts.nth(i).bounding_box() for i in range(charts.count())]
        shot = tmp_path / "report.png"
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert errors == []
    assert all(url.startswith(("file:", "data:", "about:")) for url in requests), requests
    assert all(box is not None and box["width"] > 0 and box["height"] > 0 for box in sizes)
    _assert_not_blank(shot)


def _assert_not_blank(png: Path) -> None:
    """The screenshot has many distinct colours (text, charts), not one flat fill."""
    from matplotlib.image import imread

    image = imread(png)
    flat = image.reshape(-1, image.shape[-1])[::97]
    distinct = {tuple((px * 255).astype(int)) for px in flat}
    assert len(distinct) > 50, len(distinct)
