"""The command-line interface: thin Typer commands over `qtc.api`."""
