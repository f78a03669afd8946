"""Addresses: one normal form per mailbox, and every trick refused with a reason that does not echo it."""

from __future__ import annotations

import pytest

from subscribers.addresses import Address, parse
from subscribers.errors import AddressError


@pytest.mark.parametrize(("typed", "deliver", "lookup", "smtputf8"), [
    ("alice@example.org", "alice@example.org", "alice@example.org", False),
    ("  Alice@Example.ORG \r\n", "Alice@example.org", "alice@example.org", False),
    ("alice@bücher.example", "alice@xn--bcher-kva.example", "alice@bücher.example", False),
    ("alice@xn--bcher-kva.example", "alice@xn--bcher-kva.example", "alice@bücher.example", False),
    ("ALICE@BÜCHER.EXAMPLE", "ALICE@xn--bcher-kva.example", "alice@bücher.example", False),
    ("üser@bücher.example", "üser@xn--bcher-kva.example", "üser@bücher.example", True),
    ("Üser@example.org", "Üser@example.org", "üser@example.org", True),
    ("用户@例子.广告", "用户@xn--fsqu00a.xn--4rr70v", "用户@例子.广告", True),
    ("first.last+tag@sub.example.org", "first.last+tag@sub.example.org", "first.last+tag@sub.example.org",
     False),
], ids=["plain", "case-and-space", "idn-unicode", "idn-punycode", "idn-upper", "utf8-local",
        "utf8-upper", "cjk", "plus-tag"])
def test_an_address_gets_its_delivery_and_lookup_forms(typed: str, deliver: str, lookup: str,
                                                       smtputf8: bool) -> None:
    address = parse(typed)
    assert (address.deliver, address.lookup, address.smtputf8) == (deliver, lookup, smtputf8)


def test_every_spelling_of_one_mailbox_has_one_lookup_form() -> None:
    spellings = ["alice@bücher.example", "ALICE@xn--bcher-kva.example", "Alice@BÜCHER.example "]
    assert {parse(s).lookup for s in spellings} == {"alice@bücher.example"}


def test_an_address_never_shows_in_a_repr() -> None:
    assert repr(parse("alice@example.org")) == "Address(<hidden>)"
    assert "alice" not in str(Address("alice@example.org", "alice@example.org", False))


MALFORMED = [
    ("", "Enter your email address, as in name@example.org."),
    ("alice", "An email address needs an @ sign, as in name@example.org."),
    ("a@b@c", "An email address has exactly one @ sign."),
    ("alice@example.org(<bob@example.org>", "Type the address alone, without a name or angle brackets."),
    ("Alice <alice@example.org>", "Type the address alone, without a name or angle brackets."),
    ("alice@example.org\r\nBcc: eve@example.org",
     "An email address cannot contain line breaks or other control characters."),
    ("alice@example.org\nBcc:eve@example.org",
     "An email address cannot contain line breaks or other control characters."),
    ("alice%0D%0ABcc:eve@example.org", None),
    ("ali\x00ce@example.org", "An email address cannot contain line breaks or other control characters."),
    ("alice smith@example.org", "An email address cannot contain spaces."),
    ("x" * 10_000 + "@example.org", "That is too long for an email address (at most 254 characters)."),
    ("alice@example", "The part after the @-sign is not valid. It should have a period."),
    ("alice@exam_ple.org", "The part after the @-sign contains invalid characters: '_'."),
    ("\"alice\"@example.org", "Quoting the part before the @-sign is not allowed here."),
    ("alice@[192.0.2.1]", "A bracketed IP address after the @-sign is not allowed here."),
    ("al\u200bice@example.org", "The email address contains unsafe characters: ZERO WIDTH SPACE."),
    ("alice@exa\u202emple.org", "The email address contains unsafe characters: RIGHT-TO-LEFT OVERRIDE."),
    ("\u0430lice@example.org",
     "The address mixes letters from different alphabets (Cyrillic and Latin), which is how look-alike "
     "addresses are made."),
    ("alice@\u0435xample.org",
     "The address mixes letters from different alphabets (Cyrillic and Latin), which is how look-alike "
     "addresses are made."),
    ("\u03b1lice@example.org",
     "The address mixes letters from different alphabets (Greek and Latin), which is how look-alike "
     "addresses are made."),
    ("\uff41lice@example.org",
     "The address uses full-width or other stand-in forms of letters; type it with ordinary letters."),
    ("alice@\uff45xample.org",
     "The address uses full-width or other stand-in forms of letters; type it with ordinary letters."),
    ("x" * 65 + "@example.org", "The part before the @ is too long: at most 64 bytes (here 65)."),
    ("\u00e9" * 33 + "@example.org", "The part before the @ is too long: at most 64 bytes (here 66)."),
    ("=?utf-8?b?YWxpY2U=?=@example.org",
     "That is an encoded word (=?charset?encoding?text?=), not an email address; type the address itself."),
    ("=?UTF-8?Q?j=C3=B6?=@example.org",
     "That is an encoded word (=?charset?encoding?text?=), not an email address; type the address itself."),
]


@pytest.mark.parametrize(("typed", "reason"), MALFORMED,
                         ids=["empty", "no-at", "two-ats", "comment-smuggle", "display-name", "crlf-bcc",
                              "lf-bcc", "encoded-crlf", "nul", "space", "10kb",
                              "no-dot", "underscore-domain", "quoted", "ip-literal", "zero-width", "bidi",
                              "cyrillic-a", "cyrillic-domain", "greek-alpha", "fullwidth", "fullwidth-domain",
                              "local-65-octets", "local-33-accents", "encoded-word-b", "encoded-word-q"])
def test_a_malformed_address_is_refused_with_a_reason_that_does_not_repeat_it(typed: str,
                                                                               reason: str | None) -> None:
    with pytest.raises(AddressError) as caught:
        parse(typed)
    assert caught.value.plausible is False
    if reason is not None:
        assert caught.value.reason == reason
    local = typed.split("@", maxsplit=1)[0].strip()
    if len(local) > 3:
        assert local not in caught.value.reason


@pytest.mark.parametrize("typed", ["alice@example.test", "alice@mail.invalid", "alice@printer.local",
                                   "alice@localhost", "alice@hidden.onion"],
                         ids=["test", "invalid", "local", "localhost", "onion"])
def test_a_well_formed_address_that_cannot_get_mail_is_plausible(typed: str) -> None:
    with pytest.raises(AddressError) as caught:
        parse(typed)
    assert caught.value.plausible is True


def test_a_single_script_address_in_another_alphabet_is_a_different_address() -> None:
    cyrillic = parse("\u0430\u043b\u0438\u0441\u0430@example.org")
    assert cyrillic.lookup != parse("alisa@example.org").lookup


@pytest.mark.parametrize("typed", ["jö@example.org", "用户@example.org", "Üser@bücher.example"],
                         ids=["latin", "cjk", "with-idn"])
def test_a_local_part_that_needs_smtputf8_is_refused_unless_the_relay_takes_it(typed: str) -> None:
    with pytest.raises(AddressError) as caught:
        parse(typed, smtputf8=False)
    assert caught.value.plausible is False
    assert caught.value.reason == (
        "This address has letters outside a-z before the @, and our mail server cannot deliver to such "
        "addresses. Please use an address with plain letters before the @.")
    assert parse(typed, smtputf8=True).smtputf8 is True


def test_an_international_domain_alone_needs_no_smtputf8() -> None:
    address = parse("alice@bücher.example", smtputf8=False)
    assert (address.deliver, address.smtputf8) == ("alice@xn--bcher-kva.example", False)
