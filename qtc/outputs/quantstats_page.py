"""quantstats' own HTML tear sheet of a run, made to work offline (`qtc report --style quantstats`).

quantstats writes its layout from the run's daily returns and benchmark (see
`qtc.outputs.report.write_quantstats`). Its page points outside itself: a favicon from
qtpylib.io, a link to quantstats.io, and, in every matplotlib SVG, an XML prolog, a DTD
and RDF metadata naming web addresses. `offline` removes each of them, so the file opens
with no network and refers to nothing outside itself: a link keeps its text, a
stylesheet or script from elsewhere is dropped, and any other attribute or CSS `url()`
that still names another origin is emptied. The charts are inline SVG already.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

PAGE_NAME = "quantstats.html"
"""The default file name, beside qtc's `report.html` in the run folder."""

REMOTE = r"""(?:[a-z][a-z0-9+.-]*:)?//"""
"""A reference to another origin: `https://x`, `http://x` or protocol-relative `//x`."""

_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"<\?xml[^>]*\?>", re.I), ""),
    (re.compile(r"<!DOCTYPE\s+svg[^>]*>", re.I), ""),
    (re.compile(r"<metadata\b.*?</metadata>", re.I | re.S), ""),
    (re.compile(rf"""<link\b[^>]*\bhref\s*=\s*["']?\s*{REMOTE}[^>]*>""", re.I), ""),
    (re.compile(rf"""<script\b[^>]*\bsrc\s*=\s*["']?\s*{REMOTE}[^>]*>\s*</script>""", re.I), ""),
    (re.compile(rf"""<a\b[^>]*\bhref\s*=\s*["']?\s*{REMOTE}[^>]*>(.*?)</a>""", re.I | re.S), r"\1"),
    (re.compile(r"""@import\b[^;\n]*;?""", re.I), ""),
    (re.compile(r"""\sonload\s*=\s*"[^"]*"|\sonload\s*=\s*'[^']*'""", re.I), ""),
)
"""(pattern, replacement) applied in order."""

_ATTRIBUTE = re.compile(
    rf"""\b(src|href|xlink:href|action|poster|srcset|data)\s*=\s*(["']?)\s*{REMOTE}[^"'\s>]*\2""",
    re.I,
)
_CSS_URL = re.compile(rf"""url\(\s*["']?\s*{REMOTE}[^)]*\)""", re.I)


def offline(html: str) -> str:
    """The page with every reference to another origin removed (see the module docstring)."""
    for pattern, replacement in _RULES:
        html = pattern.sub(replacement, html)
    html = _ATTRIBUTE.sub(lambda m: f'{m.group(1)}=""', html)
    return _CSS_URL.sub("none", html)


def write_page(run_dir: Path, out: Path | None = None, *, benchmark: Any = None) -> Path:
    """Write quantstats' tear sheet of a run, offline, atomically.

    Args:
        run_dir: The run folder.
        out: Output file; default `<run_dir>/quantstats.html`.
        benchmark: Another benchmark series (`qtc.outputs.report.BenchmarkOverride`).

    Returns:
        The path written.

    Raises:
        QtcError: If quantstats fails.
    """
    from qtc.atomic import refuse_special, write_text_atomic
    from qtc.outputs.report import write_quantstats

    target = Path(out) if out is not None else Path(run_dir) / PAGE_NAME
    refuse_special(target)
    raw = target.with_name(f".{target.name}.raw-{os.getpid()}")
    try:
        write_quantstats(Path(run_dir), raw, benchmark=benchmark)
        write_text_atomic(target, offline(raw.read_text(encoding="utf-8")))
    finally:
        raw.unlink(missing_ok=True)
    return target
