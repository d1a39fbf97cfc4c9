"""`qtc validate`: the research command."""
