"""The published JSON Schema of the strategy manifest (`schemas/strategy.v1.json`).

Generated from the pydantic models, so descriptions, units (`x-unit`),
defaults and examples come from the one source. Editors use it for
completion (taplo / Even Better TOML, via `#:schema` or `.taplo.toml`).
"""

from __future__ import annotations

import json
from typing import Any

from qtc.manifest.strategy import SCHEMA_VERSION, Strategy

SCHEMA_ID = "https://qtc.invalid/schemas/strategy.v1.json"
SCHEMA_PATH = f"schemas/strategy.v{SCHEMA_VERSION}.json"


def schema_dict() -> dict[str, Any]:
    """The JSON Schema as a dict."""
    schema = Strategy.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "qtc strategy manifest, schema version 1",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def schema_json() -> str:
    """The JSON Schema as stable, pretty-printed text ending in a newline."""
    return json.dumps(schema_dict(), indent=2, ensure_ascii=False) + "\n"
