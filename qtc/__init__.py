"""qtc: a declarative strategy compiler for systematic equity trading."""
