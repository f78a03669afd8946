"""The week's issue: selection, render, compose, the dry-run checks, preview; owner of the issue tables."""
