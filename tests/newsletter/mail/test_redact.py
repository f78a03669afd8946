from __future__ import annotations

import pytest

from newsletter.mail.redact import redact, redact_text


@pytest.mark.parametrize(
    ("address", "shown"),
    [
        ("john@example.org", "j***@example.org"),
        ("a@example.org", "a***@example.org"),
        ("Mary.Smith+news@Mail.Example.ORG", "M***@mail.example.org"),
        ("  john@example.org\n", "j***@example.org"),
        ("John Smith <john@example.org>", "j***@example.org"),
        ('"odd@local"@example.org', '"***@example.org'),
        ("élodie@exemple.fr", "é***@exemple.fr"),
        (b"ann@example.org", "a***@example.org"),
    ],
    ids=["plain", "one-letter", "case-and-plus", "whitespace", "display-name", "quoted-at",
         "unicode", "bytes"],
)
def test_redact_keeps_the_first_letter_and_the_domain_only(address: str | bytes, shown: str) -> None:
    assert redact(address) == shown


@pytest.mark.parametrize(
    ("address", "shown"),
    [
        ("", "***"),
        (None, "***"),
        ("   ", "***"),
        ("john", "j***"),
        ("@example.org", "***@example.org"),
        ("john@", "j***@"),
        ("<>", "***"),
        ("john\r\nInjected: line@example.org", "j***@example.org"),
        ("\x1b[31m@example.org", "?***@example.org"),
        ("j@exa\nmple.org", "j***@exa?mple.org"),
        (b"\xff\xfe@example.org", "\ufffd***@example.org"),
    ],
    ids=["empty", "none", "blank", "no-at", "no-local-part", "no-domain", "empty-brackets",
         "line-break-in-local-part", "escape-code", "line-break-in-domain", "undecodable-bytes"],
)
def test_redact_never_raises_on_malformed_input(address: str | bytes | None, shown: str) -> None:
    assert redact(address) == shown


def test_redact_hides_the_length_of_the_local_part() -> None:
    assert redact("jo@example.org") == redact("jonathan.livingstone@example.org")


def test_redact_text_redacts_every_address_in_a_server_reply() -> None:
    reply = "5.1.1 <john.doe@example.org>: Recipient address rejected; forwarded from ann@example.net"

    assert redact_text(reply) == (
        "5.1.1 <j***@example.org>: Recipient address rejected; forwarded from a***@example.net"
    )


def test_redact_text_leaves_text_without_addresses_alone() -> None:
    assert redact_text("4.7.1 Greylisted, try again in 300 seconds") == (
        "4.7.1 Greylisted, try again in 300 seconds"
    )


def test_redact_text_cannot_forge_log_lines() -> None:
    assert redact_text("550 no\r\nFAKE LOG LINE") == "550 no??FAKE LOG LINE"
