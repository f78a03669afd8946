"""The weekly newsletter pipeline: content -> selection -> render -> compose -> deliver."""

__version__ = "0.2.0"
