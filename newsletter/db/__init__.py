"""The database: engines for SQLite and PostgreSQL, the declarative base, and migrations."""
