"""Return addresses: bounces+TOKEN@ and unsubscribe+TOKEN@ name an issue and a subscriber, never the address,
and nothing but a genuine, current token of the right kind is read."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsletter.errors import ReturnedMailError
from subscribers.verp import ReturnAddresses, ReturnKind

KEY = b"k" * 32
NONCE = "0123456789abcdef"
TODAY = date(2026, 11, 23)


def addresses(today: date = TODAY, key: bytes = KEY) -> ReturnAddresses:
    return ReturnAddresses(key, "Bounces.News.Example.org", "bounces", "unsubscribe", 90, lambda: today)


@given(subscriber=st.integers(1, 2 ** 48 - 1), issue=st.integers(1, 2 ** 32 - 1),
       nonce=st.binary(min_size=8, max_size=8).map(bytes.hex))
def test_a_bounce_address_reads_back_as_its_issue_and_subscriber(subscriber: int, issue: int, nonce: str) -> None:
    made = addresses()
    address = made.bounce_address(subscriber, nonce, issue)
    local = address.partition("@")[0]
    assert len(local) <= 64
    assert local.startswith("bounces+")
    assert made.read(address) == made.read(address.upper())  # relays may fold the case
    token = made.read(address)
    assert (token.kind, token.subscriber_id, token.issue_id, token.nonce_prefix, token.made) == (
        ReturnKind.ISSUE, subscriber, issue, nonce[:8], TODAY)


def test_the_unsubscribe_address_and_the_confirmation_bounce_address_are_their_own_kinds() -> None:
    made = addresses()
    assert made.read(made.unsubscribe_address(7, NONCE)).kind is ReturnKind.UNSUBSCRIBE
    assert made.read(made.bounce_address(7, NONCE)).kind is ReturnKind.CONFIRMATION
    assert made.unsubscribe_address(7, NONCE).startswith("unsubscribe+")


def test_tokens_of_neighbouring_subscribers_share_nothing_readable() -> None:
    made = addresses()
    one, two = (made.bounce_address(n, NONCE, 5).split("+")[1][:20] for n in (1000, 1001))
    assert sum(a == b for a, b in zip(one, two, strict=True)) < 6


@given(position=st.integers(0, 43), letter=st.sampled_from("abcdefghijklmnopqrstuvwxyz234567"))
def test_a_token_changed_in_any_letter_is_refused(position: int, letter: str) -> None:
    made = addresses()
    address = made.bounce_address(42, NONCE, 3)
    local, _, domain = address.partition("@")
    token = local.split("+")[1]
    changed = token[:position] + letter + token[position + 1:]
    if changed == token:
        return
    with pytest.raises(ReturnedMailError):
        made.read(f"bounces+{changed}@{domain}")


@pytest.mark.parametrize(("address", "why"), [
    ("bounces+abc@bounces.news.example.org", "damaged"),
    ("bounces@bounces.news.example.org", "no local part of ours"),
    ("postmaster@bounces.news.example.org", "no local part of ours"),
    ("bounces+" + "a" * 44 + "@bounces.news.example.org", "forged"),
    ("bounces+" + "1" * 44 + "@bounces.news.example.org", "not base32"),
], ids=["short", "no-token", "other-mailbox", "forged", "not-base32"])
def test_addresses_that_are_not_genuine_tokens_are_refused_saying_why(address: str, why: str) -> None:
    with pytest.raises(ReturnedMailError, match=why):
        addresses().read(address)


def test_a_token_made_under_another_key_is_refused() -> None:
    address = addresses(key=b"x" * 32).bounce_address(42, NONCE, 3)
    with pytest.raises(ReturnedMailError, match="forged"):
        addresses().read(address)


def test_a_token_for_another_domain_is_refused() -> None:
    address = addresses().bounce_address(42, NONCE, 3).replace("example.org", "example.net")
    with pytest.raises(ReturnedMailError, match="bounce domain"):
        addresses().read(address)


def test_a_bounce_token_at_the_unsubscribe_address_unsubscribes_nobody() -> None:
    made = addresses()
    token = made.bounce_address(42, NONCE, 3).split("+")[1]
    with pytest.raises(ReturnedMailError, match="another kind"):
        made.read("unsubscribe+" + token)


def test_a_bounce_token_expires_after_token_days_and_an_unsubscribe_token_never_does() -> None:
    made = addresses()
    bounce, unsubscribe = made.bounce_address(42, NONCE, 3), made.unsubscribe_address(42, NONCE)
    assert addresses(TODAY + timedelta(days=90)).read(bounce).issue_id == 3
    with pytest.raises(ReturnedMailError, match="expired") as caught:
        addresses(TODAY + timedelta(days=91)).read(bounce)
    assert caught.value.expired
    assert addresses(TODAY + timedelta(days=3000)).read(unsubscribe).subscriber_id == 42


def test_no_return_address_is_made_without_a_domain() -> None:
    off = ReturnAddresses(KEY, "", "bounces", "unsubscribe", 90)
    assert not off.enabled
    with pytest.raises(ValueError, match="domain"):
        off.bounce_address(1, NONCE, 1)
