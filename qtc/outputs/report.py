"""The HTML tear sheet of a run: read the artifact, compute, draw, render one file.

`render_report(run_dir)` returns the full HTML; `write_report(run_dir)` writes it
atomically to `run_dir/report.html` (and, with `quantstats=True`, quantstats' own tear
sheet next to it as `quantstats.html`, linked from the report).

* **Only the artifact** is read (run.json, meta.json, equity.parquet and what was held:
  holdings.parquet, exposure.parquet, sectors.parquet, the last book of weights.parquet):
  nothing is re-run and the lake is not opened (a `BenchmarkOverride` is read from the
  lake by the caller).
* **Self-contained, offline:** inline CSS, inline SVG charts (`qtc.outputs.charts`, drawn
  by hand with numpy and strings, `qtc.outputs.svg`: no matplotlib), one tiny inline
  script (the copy button); no URL of any kind is requested.
* **Deterministic:** rendering the same artifact twice gives byte-identical HTML. The only
  volatile value is the run's creation time from meta.json, in the footer element
  `id="volatile"` (tests mask it).
* **Cached:** the charts, the plan tree and the highlighted strategy, most of the time of a
  render, are kept in `run_dir/.cache/report/` by the hash of their inputs and of the code,
  and the compiled templates in qtc's cache folder (`qtc.outputs.report_cache`); a render
  that finds them imports neither the compiler nor pygments, and gives the same bytes.
  No render imports matplotlib (only `write_quantstats`, for quantstats' own page).
* **Factors:** a run that `qtc validate --report` wrote inside its validation folder
  also shows the validation's factor tear sheet (`qtc.outputs.report_factors`); every
  other run renders as it always did.
* Templates are jinja2 files in the repository's `templates/report/` (`base.html.j2`
  includes one partial per section), loaded with autoescape and `StrictUndefined`. An
  installed wheel needs them shipped as `qtc/_templates` (hatch `force-include`
  "templates" = "qtc/_templates"), the second place looked in.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtc.errors import QtcError, UserError
from qtc.outputs.report_data import BenchmarkOverride, ReportData, load_report_data

if TYPE_CHECKING:
    from jinja2 import BytecodeCache, Environment

    from qtc.outputs.report_cache import ReportCache

REPORT_NAME = "report.html"
QUANTSTATS_NAME = "quantstats.html"
TEMPLATE_DIRS = (
    Path(__file__).resolve().parents[2] / "templates",  # the repository's templates/
    Path(__file__).resolve().parents[1] / "_templates",  # a wheel's copy (force-include)
)
"""Where the templates are looked for, in order (`report/base.html.j2` must be inside)."""
MISSING = "—"


def render_report(
    run_dir: Path,
    *,
    quantstats_link: str | None = None,
    benchmark: BenchmarkOverride | None = None,
    cache: bool = True,
) -> str:
    """Render the HTML report of a run folder.

    Args:
        run_dir: The run folder (`runs/<strategy>/<run id>`).
        quantstats_link: Relative link to quantstats' tear sheet, shown in the header.
        benchmark: Another benchmark series to compare with (default: the run's own).
        cache: Reuse (and keep) the charts, plan tree and highlighted strategy in
            `run_dir/.cache/report` (`qtc.outputs.report_cache`); the HTML is the same
            either way.

    Returns:
        The full HTML document.

    Raises:
        UserError: If the folder is not a readable run artifact.
    """
    from qtc.outputs.report_cache import ReportCache

    store = ReportCache.for_run(Path(run_dir)) if cache else ReportCache(None)
    html = _render(Path(run_dir), store, quantstats_link=quantstats_link, benchmark=benchmark)
    store.flush()
    return html


def _render(
    run_dir: Path,
    cache: ReportCache,
    *,
    quantstats_link: str | None,
    benchmark: BenchmarkOverride | None,
) -> str:
    """The HTML of the report (new cache entries are left pending in `cache`)."""
    from qtc.outputs.report_factors import factor_section

    data = load_report_data(run_dir, benchmark, cache)
    context = build_context(data, quantstats_link=quantstats_link, cache=cache)
    context["factors"] = factor_section(run_dir, data.run_id, cache)
    template = environment(cache.templates()).get_template("report/base.html.j2")
    html: str = template.render(**context)
    return html


def write_report(
    run_dir: Path,
    out: Path | None = None,
    *,
    quantstats: bool = False,
    benchmark: BenchmarkOverride | None = None,
    cache: bool = True,
) -> Path:
    """Render the report and write it atomically.

    Args:
        run_dir: The run folder.
        out: Output file (default: `run_dir/report.html`).
        quantstats: Also write quantstats' own tear sheet as `quantstats.html` next to
            the report (from equity.parquet's strategy and benchmark returns) and link it.
        benchmark: Another benchmark series (as in `render_report`; also used by the
            quantstats tear sheet).
        cache: Use the run's report cache (as in `render_report`).

    Returns:
        The path of the written report.
    """
    from qtc.atomic import write_text_atomic
    from qtc.outputs.report_cache import ReportCache

    run_dir = Path(run_dir)
    target = Path(out) if out is not None else run_dir / REPORT_NAME
    store = ReportCache.for_run(run_dir) if cache else ReportCache(None)
    link = QUANTSTATS_NAME if quantstats else None
    html = _render(run_dir, store, quantstats_link=link, benchmark=benchmark)
    if quantstats:
        write_quantstats(run_dir, target.parent / QUANTSTATS_NAME, benchmark=benchmark)
    write_text_atomic(target, html)
    store.flush()
    return target


def write_quantstats(
    run_dir: Path, out: Path, *, benchmark: BenchmarkOverride | None = None
) -> Path:
    """Write quantstats' full HTML tear sheet of a run (its own file; it may use CDNs).

    Returns are the run's daily simple returns from equity.parquet (first date dropped),
    the benchmark's from its first priced date, gaps forward-filled (qtc's convention);
    rf = 0 (the artifact has no risk-free series; quantstats' Sharpe is then rf = 0).

    Raises:
        QtcError: If quantstats fails.
    """
    import logging
    import warnings

    import matplotlib

    from qtc.atomic import write_text_atomic

    returns, bench, title = quantstats_inputs(run_dir, benchmark)
    import quantstats as qs

    tmp = out.parent / f".{out.name}.qs.tmp"
    out.parent.mkdir(parents=True, exist_ok=True)
    fonts = logging.getLogger("matplotlib.font_manager")
    level = fonts.level
    try:
        with warnings.catch_warnings(), matplotlib.rc_context():
            warnings.simplefilter("ignore")
            fonts.setLevel(logging.ERROR)  # quantstats asks for Arial, which may be absent
            qs.reports.html(  # type: ignore[no-untyped-call]
                returns,
                benchmark=bench,
                output=str(tmp),
                title=title,
                benchmark_title=str(bench.name),
                strategy_title=str(returns.name),
            )
        write_text_atomic(out, tmp.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, IndexError, ZeroDivisionError) as exc:
        raise QtcError(f"quantstats could not write its tear sheet: {exc}") from None
    finally:
        fonts.setLevel(level)
        tmp.unlink(missing_ok=True)
    return out


def quantstats_inputs(
    run_dir: Path, benchmark: BenchmarkOverride | None = None
) -> tuple[Any, Any, str]:
    """(strategy returns, benchmark returns, title) as pandas Series for quantstats."""
    import importlib

    import numpy as np

    from qtc.outputs.artifacts import read_run
    from qtc.outputs.report_data import align_close, fill_benchmark, read_table

    pd: Any = importlib.import_module("pandas")  # no type stubs
    run = read_run(run_dir)
    eq = read_table(run_dir, "equity.parquet")
    days = eq["date"].to_numpy().astype("datetime64[D]")
    dates = pd.DatetimeIndex(days.astype("datetime64[ns]"))
    equity = eq["equity"].to_numpy().astype(np.float64)
    name = str(run["strategy"].get("name", "strategy"))
    symbol = str(run["strategy"].get("data", {}).get("benchmark", "benchmark"))
    close = eq["benchmark"].to_numpy().astype(np.float64)
    if benchmark is not None:
        symbol, close = benchmark.symbol, align_close(benchmark, days)
    returns = pd.Series(equity[1:] / equity[:-1] - 1.0, index=dates[1:], name=name)
    filled, first = fill_benchmark(close)
    if first is None or first >= filled.size - 1:
        raise UserError(f"{run_dir}: the benchmark {symbol} has no prices; quantstats needs them")
    bench = pd.Series(
        filled[first + 1 :] / filled[first:-1] - 1.0, index=dates[first + 1 :], name=symbol
    )
    return returns, bench, f"{name} (qtc run {str(run['run_id'])[7:19]})"


# ---------------------------------------------------------------------------- templates


def environment(bytecode_cache: BytecodeCache | None = None) -> Environment:
    """The jinja2 environment: repo `templates/`, autoescape, StrictUndefined, filters.

    Args:
        bytecode_cache: Where compiled templates are kept (`ReportCache.templates`).
    """
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    found = [d for d in TEMPLATE_DIRS if (d / "report" / "base.html.j2").is_file()]
    if not found:
        raise QtcError(
            f"report templates not found in {' or '.join(str(d) for d in TEMPLATE_DIRS)}",
            hint="the templates/ folder must sit beside the qtc package",
        )
    env = Environment(
        loader=FileSystemLoader(str(found[0])),
        bytecode_cache=bytecode_cache,
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        pct=fmt_pct, num=fmt_num, usd=fmt_usd, fmt=fmt_value, signed_pct=fmt_signed_pct
    )
    return env


def fmt_pct(value: Any, decimals: int = 2) -> str:
    """0.0867 -> "8.67%"; None/NaN -> "—"."""
    if not _is_number(value):
        return MISSING
    return f"{float(value) * 100:.{decimals}f}%"


def fmt_signed_pct(value: Any, decimals: int = 2) -> str:
    """0.0867 -> "+8.67%" (contributions)."""
    if not _is_number(value):
        return MISSING
    return f"{float(value) * 100:+.{decimals}f}%"


def fmt_num(value: Any, decimals: int = 2) -> str:
    """0.4612 -> "0.46"; None/NaN -> "—"."""
    if not _is_number(value):
        return MISSING
    return f"{float(value):.{decimals}f}"


def fmt_usd(value: Any) -> str:
    """332200.9 -> "$332,201"."""
    if not _is_number(value):
        return MISSING
    return f"${float(value):,.0f}"


def fmt_value(value: Any, kind: str) -> str:
    """Format a figure by kind: pct, num, num1, usd, int."""
    if kind == "pct":
        return fmt_pct(value)
    if kind == "usd":
        return fmt_usd(value)
    if kind == "int":
        return MISSING if not _is_number(value) else f"{int(value):,}"
    if kind == "num1":
        return fmt_num(value, 1)
    return fmt_num(value)


def _is_number(value: Any) -> bool:
    """True for a finite int or float (not bool)."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


# ---------------------------------------------------------------------------- context


def build_context(
    data: ReportData, *, quantstats_link: str | None = None, cache: ReportCache | None = None
) -> dict[str, Any]:
    """Everything the templates use: the data, the charts (SVG) and the highlighted TOML."""
    from markupsafe import Markup

    code_html, code_css = cached_highlight(data.strategy_toml, cache)
    drawn = draw_charts(data, cache)
    charts = {name: Markup(svg) if svg else None for name, svg in drawn.items()}
    return {
        "d": data,
        "charts": charts,
        "code_html": Markup(code_html),
        "code_css": Markup(code_css),
        "quantstats_link": quantstats_link,
        "short_id": data.run_id.split(":", 1)[-1][:12],
        "rolling_windows": {"6m": 126, "12m": 252},
        "benchmark_overridden": data.benchmark_overridden,
        "factors": None,
    }


def draw_charts(data: ReportData, cache: ReportCache | None = None) -> dict[str, str | None]:
    """Every chart of the report as an SVG string (None when there is nothing to draw)."""
    from qtc.outputs import charts
    from qtc.outputs.report_cache import ReportCache

    draw = (cache or ReportCache(None)).chart
    s = data.series
    name, bench = data.strategy_name, data.benchmark_symbol
    roll = s.rolling
    troughs = [(d.rank, d.trough) for d in data.drawdowns]

    def lines(stat: str) -> list[tuple[str, Any, str, bool]]:
        return [
            (f"{name} 6m", roll[f"strategy_{stat}_6m"], charts.STRATEGY_COLOR, False),
            (f"{name} 12m", roll[f"strategy_{stat}_12m"], charts.STRATEGY_COLOR, True),
            (f"{bench} 6m", roll[f"benchmark_{stat}_6m"], charts.BENCHMARK_COLOR, False),
            (f"{bench} 12m", roll[f"benchmark_{stat}_12m"], charts.BENCHMARK_COLOR, True),
        ]

    return {
        "equity": draw(
            charts.equity_chart,
            s.dates,
            s.equity,
            s.bench_equity,
            strategy_label=name,
            benchmark_label=f"{bench} (same starting value)",
            exits=s.drawdown_exit_dates,
        ),
        "drawdown": draw(
            charts.underwater_chart,
            s.dates,
            s.drawdown,
            s.bench_drawdown,
            strategy_label=name,
            benchmark_label=bench,
            troughs=troughs,
        ),
        "monthly": draw(charts.monthly_heatmap, data.monthly_years, data.monthly),
        "annual": draw(
            charts.annual_chart,
            [a.label.split(" ")[0] + ("*" if a.partial else "") for a in data.annual],
            [a.strategy for a in data.annual],
            [a.benchmark for a in data.annual],
            strategy_label=name,
            benchmark_label=bench,
        ),
        "sharpe": draw(
            charts.rolling_chart,
            s.return_dates,
            lines("sharpe"),
            chart_id="chart-rolling-sharpe",
            title="Rolling Sharpe ratio, 6 and 12 months (rf = 0)",
            ylabel="Sharpe (annualized, rf = 0)",
            percent=False,
        ),
        "volatility": draw(
            charts.rolling_chart,
            s.return_dates,
            lines("vol"),
            chart_id="chart-rolling-vol",
            title="Rolling volatility, 6 and 12 months (annualized, %)",
            ylabel="volatility (annualized, %)",
            percent=True,
        ),
        "activity": draw(
            charts.activity_chart, s.dates, s.exposure, s.holdings, s.month_ends, s.turnover_month
        ),
        "sectors": draw(charts.sector_chart, s.month_ends, s.sector_names, s.sector_weights),
    }


def cached_highlight(text: str, cache: ReportCache | None = None) -> tuple[str, str]:
    """`highlight_toml(text)`, through the report cache (pygments' import is slow)."""
    if cache is None:
        return highlight_toml(text)
    found = cache.text("highlight_toml", text, lambda: json.dumps(highlight_toml(text)))
    html, css = json.loads(found or '["", ""]')
    return str(html), str(css)


def highlight_toml(text: str) -> tuple[str, str]:
    """(HTML, CSS) of the TOML highlighted by pygments; a plain escaped <pre> without it."""
    try:
        from pygments import highlight  # type: ignore[import-untyped]
        from pygments.formatters import HtmlFormatter  # type: ignore[import-untyped]
        from pygments.lexers import TOMLLexer  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - pygments comes with rich
        from markupsafe import escape

        return f'<div class="hl"><pre id="strategy-toml">{escape(text)}</pre></div>', ""
    formatter = HtmlFormatter(cssclass="hl", style="friendly", wrapcode=True)
    html: str = highlight(text, TOMLLexer(), formatter)
    css: str = formatter.get_style_defs(".hl")
    return html, css


__all__ = [
    "QUANTSTATS_NAME",
    "REPORT_NAME",
    "BenchmarkOverride",
    "render_report",
    "write_quantstats",
    "write_report",
]
