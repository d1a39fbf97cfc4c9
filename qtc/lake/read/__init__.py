"""Reading the lake: the `Lake` reader, cached matrices, point-in-time tables, read-only SQL."""
