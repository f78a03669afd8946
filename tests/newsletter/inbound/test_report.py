"""Reading returned mail: what kind it is, which of our return addresses it carries, whether a bounce is
permanent, and a reason with no address in it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.config.bounce_checks import RETURN_TOKEN_CHARS
from newsletter.inbound.report import ReportKind, ReturnPattern, read_report
from subscribers.verp import ReturnAddresses
from tests.newsletter.inbound.returned_mail import arf, dsn, out_of_office, plain_mail, qmail_bounce

DOMAIN = "bounces.news.example.org"
PATTERN = ReturnPattern(DOMAIN, "bounces", "unsubscribe", RETURN_TOKEN_CHARS)
MADE = ReturnAddresses(b"k" * 32, DOMAIN, "bounces", "unsubscribe", 90)
BOUNCE = MADE.bounce_address(42, "0123456789abcdef", 7)
UNSUBSCRIBE = MADE.unsubscribe_address(42, "0123456789abcdef")
READER = "maria.lopez@example.com"


def test_a_dsn_with_a_5xx_status_is_a_permanent_bounce_to_its_bounce_address_with_the_address_redacted() -> None:
    report = read_report(dsn(BOUNCE, READER), PATTERN)
    assert report.kind is ReportKind.BOUNCE
    assert report.return_addresses[0] == BOUNCE
    assert report.permanent
    assert report.reason.startswith("5.1.1 550 5.1.1")
    assert "maria" not in report.reason
    assert "m***@example.com" in report.reason


def test_a_dsn_the_relay_gave_up_on_with_a_4xx_status_is_a_temporary_bounce() -> None:
    report = read_report(dsn(BOUNCE, READER, status="4.2.2", diagnostic="smtp; 452 4.2.2 Mailbox full"), PATTERN)
    assert (report.kind, report.permanent) == (ReportKind.BOUNCE, False)
    assert "4.2.2" in report.reason


def test_the_envelope_recipient_comes_before_any_address_the_report_quotes() -> None:
    other = MADE.bounce_address(43, "0123456789abcdef", 7)
    report = read_report(dsn(other, READER), PATTERN, envelope_to=[BOUNCE.upper()])
    assert report.return_addresses == (BOUNCE, other)


def test_a_bounce_in_an_older_format_is_read_by_the_parsers_heuristics() -> None:
    report = read_report(qmail_bounce(BOUNCE, READER), PATTERN)
    assert (report.kind, report.permanent, report.return_addresses[0]) == (ReportKind.BOUNCE, True, BOUNCE)


def test_an_arf_abuse_report_is_a_complaint_naming_the_return_addresses_of_the_original() -> None:
    report = read_report(arf("fbl@news.example.org", BOUNCE, UNSUBSCRIBE), PATTERN)
    assert report.kind is ReportKind.COMPLAINT
    assert report.return_addresses == (BOUNCE, UNSUBSCRIBE)


def test_an_arf_report_that_is_not_a_complaint_is_nothing_to_act_on() -> None:
    report = read_report(arf("fbl@news.example.org", BOUNCE, UNSUBSCRIBE, feedback_type="not-spam"), PATTERN)
    assert report.kind is ReportKind.OTHER


def test_an_out_of_office_reply_to_the_bounce_address_is_an_auto_reply_not_a_bounce() -> None:
    assert read_report(out_of_office(BOUNCE), PATTERN).kind is ReportKind.AUTO_REPLY


@pytest.mark.parametrize("subject", ["unsubscribe", "", "Re: Weekly Lessons", "Out of office"],
                         ids=["says-unsubscribe", "empty", "reply", "looks-automatic"])
def test_any_mail_to_an_unsubscribe_address_is_an_unsubscribe(subject: str) -> None:
    report = read_report(plain_mail(UNSUBSCRIBE, subject), PATTERN)
    assert report.kind is ReportKind.UNSUBSCRIBE
    assert report.return_addresses == (UNSUBSCRIBE,)


def test_a_persons_reply_to_the_bounce_address_is_nothing_to_act_on() -> None:
    assert read_report(plain_mail(BOUNCE, "Re: Weekly Lessons"), PATTERN).kind is ReportKind.OTHER


@settings(max_examples=200)
@given(st.binary(max_size=3000))
def test_any_bytes_at_all_are_read_without_an_error(raw: bytes) -> None:
    report = read_report(raw, PATTERN)
    assert report.kind in ReportKind
