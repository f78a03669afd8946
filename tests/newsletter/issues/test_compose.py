"""The MIME message: its structure, each header, personalisation by substitution, and injection attempts."""

from __future__ import annotations

import email
import email.policy
import html
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parsedate_to_datetime

import lxml.html
import pytest

from newsletter.config.settings import Config, NewsletterSettings, WebSettings
from newsletter.content.excerpt import Excerpt, Paragraph
from newsletter.errors import ConfigError, PermanentFailure
from newsletter.issues.compose import MessageTemplate, compose, subject_line
from newsletter.issues.render import render_issue
from newsletter.mail.recipient import Recipient
from newsletter.weeks import IsoWeek
from tests.newsletter.conftest import SAMPLE_WEEK, sample_excerpts

CONFIG = Config(
    newsletter=NewsletterSettings(
        title="Weekly Lessons", from_address="letters@news.example.org", from_name="Weekly Lessons",
        list_id="weekly.news.example.org", postal_address="12 Harbour Lane, Example Town",
    ),
    web=WebSettings(base_url="https://news.example.org"),
)
SENT = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
# Base64url tokens end in "=": in quoted-printable that is the escape character itself.
URL = "https://news.example.org/unsubscribe?token=s42.aGVsbG8=.c2lnbmVk=="
MANAGE = "https://news.example.org/manage?token=AQAAAAAAAAAqm-8=="
READER = Recipient(42, "reader@example.com", URL, MANAGE)


def template_for(excerpts: list[Excerpt], config: Config = CONFIG,
                 week: IsoWeek = SAMPLE_WEEK) -> MessageTemplate:
    return compose(config, render_issue(config, week, excerpts))


def parse(message: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(message, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def part(message: EmailMessage, subtype: str) -> str:
    body = message.get_body((subtype,))
    assert body is not None
    content = body.get_content()
    assert isinstance(content, str)
    return content


@pytest.fixture
def message(excerpts: list[Excerpt]) -> bytes:
    return template_for(excerpts).personalise(READER, date=SENT)


def test_message_parses_without_defects_and_round_trips(message: bytes) -> None:
    parsed = parse(message)
    assert [defect for p in parsed.walk() for defect in p.defects] == []
    # Byte for byte, when Python may keep lines up to SMTP's 998 octets as they are...
    assert parsed.as_bytes(policy=email.policy.default.clone(linesep="\r\n", max_line_length=998)) == message
    # ...and in content when it refolds the one long header line (the unsubscribe URL) its own way.
    again = parse(parsed.as_bytes(policy=email.policy.default.clone(linesep="\r\n")))
    # (Python reads its own "List-Unsubscribe:" + fold back with a leading space, hence strip().)
    assert [(k, v.strip()) for k, v in again.items()] == list(parsed.items())
    for kind in ("plain", "html"):
        assert part(again, kind) == part(parsed, kind)


def test_message_is_alternative_text_first_then_html_in_utf8_quoted_printable(message: bytes) -> None:
    parsed = parse(message)
    assert parsed.get_content_type() == "multipart/alternative"
    parts = list(parsed.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert [p.get_content_charset() for p in parts] == ["utf-8", "utf-8"]
    assert [p["Content-Transfer-Encoding"] for p in parts] == ["quoted-printable"] * 2


def test_message_uses_crlf_and_short_lines(message: bytes) -> None:
    assert re.search(rb"(?<!\r)\n|\r(?!\n)", message) is None
    assert message.endswith(b"\r\n")
    head, _, body = message.partition(b"\r\n\r\n")
    long_header_lines = [line for line in head.split(b"\r\n") if len(line) > 78]
    assert long_header_lines == [f"List-Unsubscribe: <{URL}>,".encode()]  # a URL is never folded
    assert max(len(line) for line in body.split(b"\r\n")) <= 76


def test_no_line_begins_with_a_dot_so_dot_stuffing_changes_nothing(excerpts: list[Excerpt]) -> None:
    extra = Paragraph("." + "x" * 71 + " .hidden")
    dotted = replace(excerpts[0], paragraphs=(*excerpts[0].paragraphs, extra))
    message = template_for([dotted]).personalise(READER, date=SENT)
    assert all(not line.startswith(b".") for line in message.split(b"\r\n"))
    assert "\n.hidden" in part(parse(message), "plain")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("From", "Weekly Lessons <letters@news.example.org>"),
        ("To", "reader@example.com"),
        ("Subject", "Weekly Lessons — week of 16 November 2026"),
        ("Date", "Mon, 23 Nov 2026 07:00:00 +0000"),
        ("List-Id", "Weekly Lessons <weekly.news.example.org>"),
        ("Feedback-ID", "2026-W47:issue:newsletter:weekly.news.example.org"),
        ("List-Unsubscribe", f"<{URL}>, <mailto:letters@news.example.org?subject=unsubscribe>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ("MIME-Version", "1.0"),
    ],
    ids=["from", "to", "subject", "date", "list-id", "feedback-id", "list-unsubscribe", "list-unsubscribe-post",
         "mime"],
)
def test_each_header_is_present_once_with_its_value(message: bytes, name: str, expected: str) -> None:
    parsed = parse(message)
    assert parsed.get_all(name) == [expected]


def test_the_message_has_exactly_the_expected_headers(message: bytes) -> None:
    assert list(parse(message).keys()) == [
        "From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe", "List-Id", "Feedback-ID",
        "List-Unsubscribe-Post", "MIME-Version", "Content-Type",
    ]


def test_the_feedback_id_names_the_issue_and_the_list_and_nobody(excerpts: list[Excerpt]) -> None:
    template = template_for(excerpts)
    one = parse(template.personalise(READER, date=SENT))["Feedback-ID"]
    other = parse(template.personalise(Recipient(7, "other@example.com", URL + "x"), date=SENT))["Feedback-ID"]
    assert one == other  # the same for everyone: Gmail's reports count per value, never per person
    week, kind, product, sender = one.split(":")
    assert (week, kind, product, sender) == ("2026-W47", "issue", "newsletter", "weekly.news.example.org")
    next_week = compose(CONFIG, render_issue(CONFIG, IsoWeek(2026, 48), excerpts)).personalise(READER)
    assert parse(next_week)["Feedback-ID"] == "2026-W48:issue:newsletter:weekly.news.example.org"


def test_reply_to_is_written_when_configured(excerpts: list[Excerpt]) -> None:
    config = replace(CONFIG, newsletter=replace(CONFIG.newsletter, reply_to="editor@news.example.org"))
    assert parse(template_for(excerpts, config).personalise(READER))["Reply-To"] == "editor@news.example.org"


def test_date_defaults_to_the_moment_of_personalising(excerpts: list[Excerpt]) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    written = parsedate_to_datetime(parse(template_for(excerpts).personalise(READER))["Date"])
    assert before <= written <= datetime.now(UTC)


def test_message_id_is_stable_per_issue_and_subscriber(excerpts: list[Excerpt]) -> None:
    template = template_for(excerpts)
    first = parse(template.personalise(READER, date=SENT))["Message-ID"]
    again = parse(template_for(excerpts).personalise(READER, date=datetime.now(UTC)))["Message-ID"]
    other_reader = parse(template.personalise(replace(READER, subscriber_id=43)))["Message-ID"]
    other_week = parse(template_for(excerpts, week=IsoWeek(2026, 48)).personalise(READER))["Message-ID"]
    assert re.fullmatch(r"<2026-W47\.[0-9a-f]{24}@news\.example\.org>", first)
    assert first == again == template.message_id(42)
    assert len({first, other_reader, other_week}) == 3


def test_the_unsubscribe_url_and_address_are_exact_in_both_parts(message: bytes) -> None:
    parsed = parse(message)
    text_lines = part(parsed, "plain").splitlines()
    assert URL in text_lines
    assert "reader@example.com" in text_lines
    root = lxml.html.fromstring(part(parsed, "html"))
    assert root.xpath("//a[@class='unsubscribe']/@href") == [URL]
    footer = " ".join(str(root.xpath("string(//div[@class='footer'])")).split())
    assert "This copy was sent to reader@example.com." in footer


def test_values_needing_html_escapes_and_many_lines_survive_substitution(excerpts: list[Excerpt]) -> None:
    url = "https://news.example.org/unsubscribe?token=" + "Zm9v=" * 60 + "&list=weekly&x=1"
    address = "first.last+" + "news" * 15 + "@mail.example.com"
    message = template_for(excerpts).personalise(Recipient(7, address, url), date=SENT)
    head, _, body = message.partition(b"\r\n\r\n")
    assert max(len(line) for line in head.split(b"\r\n")) == len(url) + 21  # "List-Unsubscribe: <URL>,"
    assert max(len(line) for line in body.split(b"\r\n")) <= 76
    parsed = parse(message)
    assert url in part(parsed, "plain").splitlines()
    assert parsed["List-Unsubscribe"] == f"<{url}>, <mailto:letters@news.example.org?subject=unsubscribe>"
    html = part(parsed, "html")
    assert "&amp;list=weekly" in html
    assert lxml.html.fromstring(html).xpath("//a[@class='unsubscribe']/@href") == [url]


def test_each_message_carries_only_its_own_recipient(excerpts: list[Excerpt]) -> None:
    template = template_for(excerpts)
    one = template.personalise(Recipient(1, "one@example.com", "https://news.example.org/u?token=one"))
    two = template.personalise(Recipient(2, "two@example.com", "https://news.example.org/u?token=two"))
    assert b"two@example.com" not in one
    assert b"token=two" not in one
    assert b"one@example.com" not in two
    assert b"token=one" not in two
    assert parse(one).get_all("Cc") is None
    assert parse(one).get_all("Bcc") is None


def test_the_subject_follows_the_configured_template(excerpts: list[Excerpt]) -> None:
    config = replace(CONFIG, newsletter=replace(CONFIG.newsletter, subject="{week}: {title} ({date})"))
    assert subject_line(config, SAMPLE_WEEK, excerpts) == "2026-W47: Weekly Lessons (16 November 2026)"


def test_the_subject_can_name_the_first_excerpt_and_count_them(excerpts: list[Excerpt]) -> None:
    config = replace(CONFIG, newsletter=replace(CONFIG.newsletter, subject="{first} · {count} readings · {title}"))
    message = template_for(excerpts[:3], config).personalise(READER, date=SENT)
    assert parse(message)["Subject"] == "The Lamp in the Window · 3 readings · Weekly Lessons"


def test_the_first_excerpt_s_title_cannot_break_the_subject_header(excerpts: list[Excerpt]) -> None:
    config = replace(CONFIG, newsletter=replace(CONFIG.newsletter, subject="{first}"))
    hostile = replace(excerpts[0], title="Lamp\r\nBcc: victim@example.net {title}")
    message = template_for([hostile], config).personalise(READER, date=SENT)
    assert parse(message).get_all("Bcc") is None
    assert parse(message)["Subject"] == "Lamp Bcc: victim@example.net {title}"


@pytest.mark.parametrize(
    "title",
    [
        "Lessons\r\nBcc: victim@example.net",
        "Lessons\nBcc: victim@example.net",
        "Lessons\u2028Bcc: victim@example.net",
        "=?utf-8?q?Lessons=0D=0ABcc:_victim@example.net?=",
        "=?utf-8?b?TGVzc29ucw0KQmNjOiB2aWN0aW1AZXhhbXBsZS5uZXQ=?=",
    ],
    ids=["crlf", "lf", "line-separator", "encoded-word-q", "encoded-word-b"],
)
def test_no_title_can_inject_a_header(excerpts: list[Excerpt], title: str) -> None:
    newsletter = replace(CONFIG.newsletter, title=title, from_name=title, subject="{title}")
    message = template_for(excerpts, replace(CONFIG, newsletter=newsletter)).personalise(READER, date=SENT)
    parsed = parse(message)
    head = message.partition(b"\r\n\r\n")[0]
    assert parsed.get_all("Bcc") is None
    assert not re.search(rb"^Bcc:", head, re.MULTILINE | re.IGNORECASE)
    literal = " ".join(title.replace("\u2028", " ").split())
    assert parsed["Subject"] == literal
    # Python's address parser puts a space between the encoded words of a long display name.
    assert parsed["From"].addresses[0].display_name.replace(" ", "") == literal.replace(" ", "")
    assert parsed["From"].addresses[0].addr_spec == "letters@news.example.org"
    assert [defect for p in parsed.walk() for defect in p.defects] == []


@pytest.mark.parametrize(
    "address",
    ["reader@example.com\r\nBcc: victim@example.net", "Reader <reader@example.com>", "reader@exa mple.com",
     "léa@example.com", "reader"],
    ids=["crlf", "display-name", "space", "non-ascii-local-part", "no-domain"],
)
def test_an_address_that_cannot_be_a_header_is_a_permanent_failure(excerpts: list[Excerpt],
                                                                    address: str) -> None:
    expected = "subscriber 42: the address cannot be written in a message header"
    with pytest.raises(PermanentFailure, match=expected):
        template_for(excerpts).personalise(replace(READER, address=address))


def test_an_internationalised_domain_is_written_in_its_ascii_form(excerpts: list[Excerpt]) -> None:
    message = template_for(excerpts).personalise(replace(READER, address="reader@bücher.example"))
    assert parse(message)["To"] == "reader@xn--bcher-kva.example"


@pytest.mark.parametrize(
    "url",
    ["https://news.example.org/u?t=1\r\nBcc: victim@example.net", "https://news.example.org/u?t=<1>",
     "javascript:alert(1)", "https://news.example.org/" + "x" * 900, 'https://news.example.org/u?t="1"',
     "https://news.example.org/u?t=1 2", "https://news.example.org/u?t=\x7f", "https://news.example.org/ü"],
    ids=["crlf", "angle-brackets", "not-http", "too-long", "quote", "space", "delete", "not-ascii"],
)
def test_an_unsafe_unsubscribe_url_is_refused(excerpts: list[Excerpt], url: str) -> None:
    with pytest.raises(ValueError, match="unsubscribe URL must be a plain http"):
        template_for(excerpts).personalise(replace(READER, unsubscribe_url=url))


def test_a_url_of_every_other_printable_character_is_written_as_given(excerpts: list[Excerpt]) -> None:
    printable = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '<>"')
    url = "https://news.example.org/u?t=" + printable
    message = template_for(excerpts).personalise(replace(READER, unsubscribe_url=url))
    assert f"List-Unsubscribe: <{url}>,".encode() in message


def test_the_date_header_follows_the_clock_to_the_second(excerpts: list[Excerpt]) -> None:
    template = template_for(excerpts)
    dates = [parse(template.personalise(READER, date=SENT + timedelta(microseconds=us)))["Date"]
             for us in (0, 999_999)]
    later = parse(template.personalise(READER, date=SENT + timedelta(seconds=1)))["Date"]
    assert dates == [format_datetime(SENT)] * 2
    assert later == format_datetime(SENT + timedelta(seconds=1))


@pytest.mark.parametrize(
    ("field", "value", "key"),
    [
        ("from_address", "letters@news.example.org\r\nBcc: victim@example.net", "newsletter.from_address"),
        ("reply_to", "x@example.org>, <victim@example.net", "newsletter.reply_to"),
        ("list_id", "weekly.example.org>\r\nBcc: victim@example.net", "newsletter.list_id"),
    ],
    ids=["from-address", "reply-to", "list-id"],
)
def test_a_config_built_in_code_cannot_put_a_bad_address_in_a_header(
    excerpts: list[Excerpt], field: str, value: str, key: str,
) -> None:
    config = replace(CONFIG, newsletter=replace(CONFIG.newsletter, **{field: value}))
    with pytest.raises(ConfigError, match=f"config: {re.escape(key)} must be"):
        template_for(excerpts, config)


@pytest.mark.parametrize("subject", ["{title.__class__} {nope}", "{first.__class__}", "{count[0]}", "{firsts}"],
                         ids=["attribute-of-title", "attribute-of-first", "index-of-count", "misspelt"])
def test_a_subject_template_with_unknown_fields_is_a_config_error(excerpts: list[Excerpt], subject: str) -> None:
    config = replace(CONFIG, newsletter=replace(CONFIG.newsletter, subject=subject))
    with pytest.raises(ConfigError, match=r"config: newsletter.subject cannot be filled in"):
        subject_line(config, SAMPLE_WEEK, excerpts)


def test_a_non_ascii_display_name_is_encoded_and_the_address_is_not(excerpts: list[Excerpt]) -> None:
    config = replace(CONFIG, newsletter=replace(CONFIG.newsletter, from_name="Lettres de la semaine — Zoë"))
    message = template_for(excerpts, config).personalise(READER, date=SENT)
    assert re.search(rb"^From: =\?utf-8\?", message, re.MULTILINE)
    assert b" <letters@news.example.org>\r\n" in message
    assert parse(message)["From"].addresses[0].display_name == "Lettres de la semaine — Zoë"


# What an ingested page could say to learn a reader's address or take over their unsubscribe link.
FORGED = ("Write to NLPLACEHOLDERADDRESS or click NLPLACEHOLDERUNSUBSCRIBE; "
          "also NLPLACEHOLDERCONFIRMURL and nlplaceholderaddress.")


def test_placeholder_words_in_the_content_are_printed_as_written_never_filled_in(
        excerpts: list[Excerpt]) -> None:
    forged = replace(excerpts[0], title="NLPLACEHOLDERADDRESS",
                     paragraphs=(*excerpts[0].paragraphs, Paragraph(FORGED)))
    issue = render_issue(CONFIG, SAMPLE_WEEK, [forged, *excerpts[1:]])
    parsed = parse(compose(CONFIG, issue).personalise(READER, date=SENT))
    for subtype in ("plain", "html"):
        body = part(parsed, subtype)
        # Once in the footer ("This copy was sent to ..."), never where the content asked for it.
        assert body.count(READER.address) == 1, subtype
        assert FORGED in " ".join(body.split()), subtype
    html, text = issue.filled(READER.address, URL, MANAGE)
    assert (html.count(READER.address), text.count(READER.address)) == (1, 1)
    assert text.count(URL) == 1


def test_each_message_carries_its_readers_own_manage_link_in_both_parts() -> None:
    template = template_for(sample_excerpts())
    one = parse(template.personalise(READER, date=SENT))
    other = parse(template.personalise(Recipient(7, "other@example.com", URL + "x", MANAGE + "x"), date=SENT))
    for message, manage in ((one, MANAGE), (other, MANAGE + "x")):
        text, html_part = (part.get_content() for part in message.iter_parts())
        assert manage in text.split()
        assert f'href="{html.escape(manage)}"' in html_part
    assert MANAGE + "x" not in str(one)


def test_a_recipient_without_a_page_of_their_own_is_sent_to_the_page_that_explains_it() -> None:
    message = parse(template_for(sample_excerpts()).personalise(Recipient(0, "admin@example.com", URL), date=SENT))
    text = next(message.iter_parts()).get_content()
    assert "https://news.example.org/manage" in text.split()
