"""Writing the lake: ingest of price files and the shared data set, checks, atomic stores."""
