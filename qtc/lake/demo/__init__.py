"""The SYNTHETIC demo market: a deterministic generator and the lake built from it."""
