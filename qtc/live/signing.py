"""Order-plan signatures: an HMAC-SHA256 whose key is not in the plan.

An order plan's `sha256` names its content, but whoever can edit the file can recompute it.
The signature cannot be recomputed without the key:

* the key is `$QTC_PLAN_KEY` (at least 32 characters) when set, else the key file
  `<state>/plan.key`: 32 random bytes as hex, created on first use with mode 0600 (never
  overwritten; two processes creating it at once end up with the same key);
* a key file that others can read or write (any group/other permission bit) is refused,
  as ssh refuses such private keys;
* `signature = {"alg": "hmac-sha256", "key_id": ..., "value": ...}` where `value` is the
  HMAC of the canonical JSON of the whole plan except `signature` (so `sha256` is covered)
  and `key_id` is a one-way tag of the key (it tells "signed with another key" apart from
  "edited"; it reveals nothing about the key).

The key is never written anywhere else, never logged and never part of an error message.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from qtc.errors import UserError

KEY_ENV = "QTC_PLAN_KEY"
"""Environment variable that, when set, holds the signing key (instead of the key file)."""

KEY_FILE = "plan.key"
"""Name of the key file in qtc's state folder."""

ALGORITHM = "hmac-sha256"
MIN_ENV_KEY = 32
"""Shortest accepted `$QTC_PLAN_KEY` (characters)."""


def signing_key(state: Path, environ: Mapping[str, str]) -> bytes:
    """The plan-signing key: `$QTC_PLAN_KEY`, else `<state>/plan.key` (created on first use).

    Raises:
        UserError: `$QTC_PLAN_KEY` is too short, or the key file is readable by others or
            is not a key.
    """
    from_env = environ.get(KEY_ENV)
    if from_env is not None:
        if len(from_env) < MIN_ENV_KEY:
            raise UserError(
                f"${KEY_ENV} is too short (at least {MIN_ENV_KEY} characters)",
                hint=f'e.g. `export {KEY_ENV}="$(openssl rand -hex 32)"`',
            )
        return from_env.encode("utf-8")
    path = state / KEY_FILE
    if not path.exists():
        _create_key_file(path)
    return _read_key_file(path)


def _create_key_file(path: Path) -> None:
    """Write a new random key, mode 0600, without ever replacing an existing key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)  # atomic and never clobbers: the first creator wins
    finally:
        tmp.unlink(missing_ok=True)


def _read_key_file(path: Path) -> bytes:
    """Read the key file, refusing one that others can access or that is not a key."""
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise UserError(
            f"the plan-signing key {path} is accessible by others (mode {mode:04o})",
            hint=f"`chmod 600 {path}`, or set ${KEY_ENV}",
        )
    text = path.read_text(encoding="ascii", errors="replace").strip()
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise UserError(
            f"{path} is not a qtc plan-signing key (64 hex digits expected)",
            hint="delete it to get a new key (plans signed with the old one can no longer "
            "be applied), or set $" + KEY_ENV,
        )
    return bytes.fromhex(text)


def key_id(key: bytes) -> str:
    """A one-way tag of the key (16 hex digits)."""
    return hashlib.sha256(b"qtc-plan-key-id\0" + key).hexdigest()[:16]


def _mac(doc: Mapping[str, Any], key: bytes) -> str:
    body = {k: v for k, v in doc.items() if k != "signature"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def sign(doc: Mapping[str, Any], key: bytes) -> dict[str, str]:
    """The signature of an order plan (everything but `signature` itself)."""
    return {"alg": ALGORITHM, "key_id": key_id(key), "value": _mac(doc, key)}


def check_signature(doc: Mapping[str, Any], key: bytes, path: Path) -> None:
    """Refuse a plan that is unsigned, signed with another key, or edited since signing.

    Raises:
        UserError: Any of those; nothing may be sent.
    """
    sig = doc.get("signature")
    again = "make a new plan: `qtc rebalance FILE --broker B --dry-run`"
    if not isinstance(sig, dict) or sig.get("alg") != ALGORITHM:
        raise UserError(f"{path} is not signed; nothing was sent", hint=again)
    if sig.get("key_id") != key_id(key):
        raise UserError(
            f"{path} was signed with another key than this machine's; nothing was sent",
            hint=f"apply it where it was made (or with the same ${KEY_ENV}), or {again}",
        )
    value = sig.get("value")
    if not isinstance(value, str) or not hmac.compare_digest(value, _mac(doc, key)):
        raise UserError(
            f"{path} was modified after it was signed (its signature does not match); "
            "nothing was sent",
            hint=again,
        )
