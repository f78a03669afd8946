"""Whether a file holds a private key DKIM can sign with: the signer's own parser (dkimpy), so a key the
settings accept at load time is one the send can use."""

from __future__ import annotations


def dkim_key_problem(pem: bytes) -> str | None:
    """What is wrong with `pem` as a DKIM signing key, or None."""
    # Imported here: dkimpy brings dnspython, and only a configuration that signs needs it.
    import dkim.crypto  # type: ignore[import-untyped]

    try:
        dkim.crypto.parse_pem_private_key(pem)
    except (dkim.crypto.UnparsableKeyError, ValueError, IndexError) as error:
        # dkimpy's reasons run over several lines; an error is one line.
        return f"is not a PEM RSA private key ({' '.join(str(error).split())})"
    return None
