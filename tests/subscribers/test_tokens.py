"""Tokens: genuine ones carry their claims; forged, foreign, expired and damaged ones are refused."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from subscribers.errors import TokenError
from subscribers.tokens import Claims, Purpose, TokenSigner, new_nonce

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
NONCE = "0123456789abcdef"
# What the confirm and unsubscribe pages tell a reader whose link is refused.
FORGED = "This link is not valid: it was changed or was not made by this newsletter."
INCOMPLETE = "This link is not valid: it is incomplete or too long."
DAMAGED = "This link is not valid: it is damaged; copy the whole link."


@pytest.fixture
def signer() -> TokenSigner:
    return TokenSigner(b"k" * 32)


def test_a_token_carries_purpose_subscriber_nonce_and_expiry(signer: TokenSigner) -> None:
    token = signer.issue(Purpose.CONFIRM, 42, NONCE, NOW + timedelta(days=7))
    assert len(token) == 55
    assert token.isascii()
    expires = int((NOW + timedelta(days=7)).timestamp())
    assert signer.verify(token, Purpose.CONFIRM, NOW) == Claims(Purpose.CONFIRM, 42, NONCE, expires)


def test_an_unsubscribe_token_never_expires(signer: TokenSigner) -> None:
    token = signer.issue(Purpose.UNSUBSCRIBE, 7, NONCE, None)
    assert signer.verify(token, Purpose.UNSUBSCRIBE, NOW + timedelta(days=3650)).subscriber_id == 7


def test_an_expired_token_is_refused_as_expired(signer: TokenSigner) -> None:
    token = signer.issue(Purpose.CONFIRM, 42, NONCE, NOW + timedelta(days=7))
    with pytest.raises(TokenError) as caught:
        signer.verify(token, Purpose.CONFIRM, NOW + timedelta(days=7, seconds=1))
    assert caught.value.expired is True
    assert caught.value.reason == "This link has expired."


def test_a_token_is_good_until_the_end_of_its_last_second(signer: TokenSigner) -> None:
    token = signer.issue(Purpose.CONFIRM, 42, NONCE, NOW + timedelta(days=7))
    assert signer.verify(token, Purpose.CONFIRM, NOW + timedelta(days=7)).subscriber_id == 42


def test_a_token_for_one_purpose_does_not_serve_another(signer: TokenSigner) -> None:
    token = signer.issue(Purpose.UNSUBSCRIBE, 42, NONCE, None)
    with pytest.raises(TokenError) as caught:
        signer.verify(token, Purpose.CONFIRM, NOW)
    assert caught.value.reason == "This link is for something else; use the link from the email."
    assert caught.value.expired is False


def test_a_token_edited_to_name_another_subscriber_is_refused(signer: TokenSigner) -> None:
    token = signer.issue(Purpose.UNSUBSCRIBE, 42, NONCE, None)
    raw = bytearray(base64.urlsafe_b64decode(token + "="))
    raw[8] = 43  # the last byte of the subscriber id
    forged = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    with pytest.raises(TokenError) as caught:
        signer.verify(forged, Purpose.UNSUBSCRIBE, NOW)
    assert caught.value.reason == FORGED


def test_a_token_made_with_another_key_is_refused(signer: TokenSigner) -> None:
    token = TokenSigner(b"x" * 32).issue(Purpose.CONFIRM, 42, NONCE, NOW + timedelta(days=1))
    with pytest.raises(TokenError) as caught:
        signer.verify(token, Purpose.CONFIRM, NOW)
    assert caught.value.reason == FORGED


@pytest.mark.parametrize(("token", "reason"), [
    ("", INCOMPLETE), ("  ", INCOMPLETE), ("abc", DAMAGED), ("A" * 54, DAMAGED), ("A" * 64, DAMAGED),
    ("A" * 65, INCOMPLETE), ("A" * 10_000, INCOMPLETE), ("é" * 55, DAMAGED), ("!" * 55, DAMAGED),
    ("AAAA\x00" * 11, DAMAGED), ("AAAA\r\nBcc: x", DAMAGED),
], ids=["empty", "blank", "short", "one-short", "longest-read", "too-long", "huge", "non-ascii", "punctuation",
        "nul", "crlf"])
def test_damaged_tokens_are_refused_without_a_crash(signer: TokenSigner, token: str, reason: str) -> None:
    with pytest.raises(TokenError) as caught:
        signer.verify(token, Purpose.CONFIRM, NOW)
    assert caught.value.reason == reason


@pytest.mark.parametrize("inserted", ["\r\n", "!!", ".."], ids=["line-break", "punctuation", "dots"])
def test_a_genuine_token_with_characters_slipped_in_is_refused(signer: TokenSigner, inserted: str) -> None:
    # Base64 decoding that skipped what is not base64 would read the genuine token out of these.
    token = signer.issue(Purpose.CONFIRM, 42, NONCE, None)
    with pytest.raises(TokenError) as caught:
        signer.verify(token[:20] + inserted + token[20:], Purpose.CONFIRM, NOW)
    assert caught.value.reason == DAMAGED


def test_form_tokens_differ_each_time_and_expire(signer: TokenSigner) -> None:
    first, second = signer.form_token(NOW + timedelta(hours=12)), signer.form_token(NOW + timedelta(hours=12))
    assert first != second
    assert signer.verify(first, Purpose.FORM, NOW).subscriber_id == 0
    with pytest.raises(TokenError, match="expired"):
        signer.verify(first, Purpose.FORM, NOW + timedelta(hours=13))


def test_nonces_are_sixteen_hex_digits_and_fresh() -> None:
    nonces = {new_nonce() for _ in range(100)}
    assert len(nonces) == 100
    assert all(len(n) == 16 and int(n, 16) >= 0 for n in nonces)
