"""The folders sweeps and evolutions write: find one by id, read its document.

Shared by `sweep_files` and `evolve_files`; an id is 12 hex digits, checked before it is
used in a file pattern.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from qtc.errors import UserError


def find_folder(out: Path, search_id: str, document: str, noun: str) -> Path:
    """The folder `<out>/<strategy>/<search_id>` that holds `document`.

    Raises:
        UserError: If the id is malformed or no such folder exists.
    """
    if re.fullmatch(r"[0-9a-f]{12}", search_id) is None:
        raise UserError(
            f"{search_id!r} is not {_article(noun)} {noun} id",
            hint=f"an id is 12 hex digits (see {document})",
        )
    found = sorted(p for p in out.glob(f"*/{search_id}") if (p / document).is_file())
    if not found:
        raise UserError(
            f"no {noun} {search_id!r} under {out}/", hint=f"check the id and --out (see {document})"
        )
    return found[0]


def read_document(folder: Path, document: str, noun: str, schema_version: int) -> dict[str, Any]:
    """A folder's JSON document, checked for its schema version.

    Raises:
        UserError: If it is missing, damaged or of another version.
    """
    path = folder / document
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(
            f"{path}: cannot read the {noun} ({exc.__class__.__name__})",
            hint=f"the {noun} folder is damaged; run the {noun} again",
        ) from None
    if not isinstance(doc, dict) or doc.get("schema_version") != schema_version:
        raise UserError(
            f"{path}: not {_article(noun)} {noun} of schema version {schema_version}",
            hint=f"run the {noun} again with this qtc",
        )
    return doc


def _article(noun: str) -> str:
    """`a` or `an`."""
    return "an" if noun[:1] in "aeiou" else "a"
