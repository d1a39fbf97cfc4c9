"""Strategy manifest: TOML text to a validated Strategy."""
