"""qtc: a declarative strategy compiler for systematic equity trading."""

__version__ = "0.1.0"
