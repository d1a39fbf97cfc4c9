"""Compile a validated Strategy into a frozen, fingerprinted Plan.

Pure: no data, no engine, no clock.
"""
