"""The subscriber store and sign-up endpoint: the only code that sees addresses in clear."""
