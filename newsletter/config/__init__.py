"""Settings: declared once with their defaults and checks, read from TOML and the environment."""
