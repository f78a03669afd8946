"""Content in: sources, sanitising, the page and feed parsers, the excerpt store, ingest."""
