"""The composition root of `run` and `serve`: scheduler, jobs, logs, the site and one lifecycle."""
