"""Credentials in text the CLI quotes back (a diagnostic's source frame): never echoed."""

from __future__ import annotations

from qtc.manifest.secrets import redact_line as redact_line
