"""`qtc sweep` and `qtc trials`: search commands, one module each."""
