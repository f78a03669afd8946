"""MIME pieces the issue and the confirmation email share: headers, quoted-printable, DKIM, redaction."""
