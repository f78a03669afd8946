"""The header rules the composer and the settings share: plain ASCII addresses, domain-like list ids."""

from __future__ import annotations

import pytest

from newsletter.config.header_rules import is_address, is_list_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [("reader@example.com", True), ("first.last+tag@mail.example.co.uk", True),
     ("reader@localhost", False), ("a b@example.com", False),
     ("reader@example.com\r\nBcc: x@example.net", False), ("<r@example.com>", False),
     (".reader@example.com", False), ("léa@example.com", False)],
    ids=["plain", "dots-and-plus", "no-dot-in-domain", "space", "crlf", "angle-brackets", "leading-dot",
         "non-ascii"],
)
def test_is_address_accepts_only_plain_ascii_addresses(text: str, expected: bool) -> None:
    assert is_address(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("weekly.example.org", True), ("weekly", False), ("weekly.example.org>", False),
     ("-x.example.org", False), ("weekly-.example.org", False)],
    ids=["domain-like", "single-label", "bracket", "leading-hyphen", "trailing-hyphen"],
)
def test_is_list_id_accepts_domain_like_names(text: str, expected: bool) -> None:
    assert is_list_id(text) is expected
