"""Fingerprints: sha256 over canonical JSON of what changes results.

Canonical JSON: keys sorted, no whitespace, UTF-8, floats in Python's
shortest round-trip form (`repr`), dates as ISO strings. The algorithm name is
stored with the digest (`sha256:<hex>`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

ALGORITHM = "sha256"


def canonical_json(data: Any) -> str:
    """Serialize JSON-ready data canonically (sorted keys, compact, no NaN)."""
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def fingerprint(data: Any) -> str:
    """Return `sha256:<hex>` of the canonical JSON of `data`."""
    digest = hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()
    return f"{ALGORITHM}:{digest}"


def short(fp: str, n: int = 12) -> str:
    """The first `n` hex digits of a fingerprint (for run folder names)."""
    return fp.split(":", 1)[-1][:n]
