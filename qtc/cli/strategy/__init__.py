"""`qtc check|compile|schema`: strategy files without data, one module per command."""
