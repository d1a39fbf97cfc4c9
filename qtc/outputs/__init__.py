"""Outputs: versioned run artifacts and reports, written from a RunResult."""
