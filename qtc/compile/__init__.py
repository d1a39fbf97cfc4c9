"""Compile a validated Strategy into a frozen, fingerprinted Plan (pure: no data, engine or clock)."""
