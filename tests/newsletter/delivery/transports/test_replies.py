"""Which permanent refusals are about us (the relay will not send for us) and which about the recipient."""

from __future__ import annotations

import pytest

from newsletter.delivery.transports.replies import refuses_us


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (554, "5.7.1 <reader@example.com>: Relay access denied"),
        (550, "5.7.1 Relaying denied"),
        (530, "5.7.0 Authentication required"),
        (535, "5.7.8 Authentication credentials invalid"),
        (550, "5.7.1 Client host rejected: sender policy"),
        (550, "5.7.26 This mail has been blocked because the sender is unauthenticated"),
        (550, "5.7.23 SPF validation failed"),
        (554, "Relay access denied"),
    ],
    ids=["554-relay", "550-relaying", "530-auth", "535-login", "policy", "dmarc", "spf", "no-enhanced-code"],
)
def test_a_refusal_that_names_relaying_authentication_or_policy_is_about_us(code: int, message: str) -> None:
    assert refuses_us(code, message)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (550, "5.1.1 <reader@example.com>: Recipient address rejected: User unknown in relay recipient table"),
        (550, "5.7.1 Access denied"),
        (552, "5.2.2 Mailbox full"),
        (554, "5.7.1 Message rejected as spam"),
        (451, "4.7.1 Relaying temporarily denied, try again"),
        (250, "2.0.0 OK relay"),
    ],
    ids=["unknown-user", "bare-access-denied", "mailbox-full", "spam", "temporary", "not-a-refusal"],
)
def test_any_other_refusal_is_about_the_recipient_or_not_permanent(code: int, message: str) -> None:
    assert not refuses_us(code, message)
