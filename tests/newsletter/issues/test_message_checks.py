"""The dry run's checks of one personalised message: a sound message passes them all, and each fault a
message can have is caught by its own check, which says what is wrong."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from newsletter.config.settings import Config, NewsletterSettings, WebSettings
from newsletter.issues.compose import compose
from newsletter.issues.message_checks import OK, REQUIRED_HEADERS, check_message
from newsletter.issues.render import CLIP_LIMIT, RenderedIssue, render_issue
from newsletter.mail.recipient import Recipient
from tests.newsletter.conftest import SAMPLE_WEEK, sample_excerpts

CONFIG = Config(
    newsletter=NewsletterSettings(
        title="Weekly Lessons", from_address="letters@news.example.org", from_name="Weekly Lessons",
        list_id="weekly.news.example.org", postal_address="12 Harbour Lane, Example Town",
    ),
    web=WebSettings(base_url="https://news.example.org"),
)
SENT = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
# The "&" is written "&amp;" in the HTML part and as itself in the text part: the link is in both all the same.
URL = "https://news.example.org/unsubscribe?token=abc&list=weekly"
CHECKS = ("size", "headers", "unsubscribe_link", "text_part", "line_length", "settings")


@pytest.fixture(scope="module")
def rendered() -> RenderedIssue:
    return render_issue(CONFIG, SAMPLE_WEEK, sample_excerpts())


def personalised(rendered: RenderedIssue, url: str = URL, config: Config = CONFIG) -> bytes:
    return compose(config, rendered).personalise(Recipient(42, "reader@example.com", url), date=SENT)


@pytest.fixture(scope="module")
def message(rendered: RenderedIssue) -> bytes:
    return personalised(rendered)


def problems(message: bytes, rendered: RenderedIssue, url: str = URL, config: Config = CONFIG) -> dict[str, str]:
    """The checks that did not pass, with what each says."""
    checks = check_message(config, rendered, message, url)
    assert set(checks) == set(CHECKS)
    return {name: outcome for name, outcome in checks.items() if outcome != OK}


def without_header(message: bytes, name: str) -> bytes:
    """`message` with every `name:` header line (and its folded continuation lines) left out."""
    head, _, body = message.partition(b"\r\n\r\n")
    pattern = rb"(?im)^" + re.escape(name.encode()) + rb":.*\r\n(?:[ \t].*\r\n)*"
    return re.sub(pattern, b"", head + b"\r\n") + b"\r\n" + body


def with_header(message: bytes, line: str) -> bytes:
    return line.encode() + b"\r\n" + message


def test_a_sound_message_passes_every_check(message: bytes, rendered: RenderedIssue) -> None:
    assert check_message(CONFIG, rendered, message, URL) == dict.fromkeys(CHECKS, OK)


def test_an_issue_that_left_excerpts_out_to_stay_unclipped_names_them(message: bytes,
                                                                      rendered: RenderedIssue) -> None:
    excerpts = sample_excerpts()
    clipped = replace(rendered, clipped=(excerpts[3], excerpts[4]))
    assert problems(message, clipped) == {
        "size": "left out to stay under Gmail's clipping size: 'The Order of the Words', 'A Question Asked Together'"}


@pytest.mark.parametrize(("html_bytes", "expected"),
                         [(CLIP_LIMIT, {}), (CLIP_LIMIT + 1, {"size": "HTML is 100,001 bytes"})],
                         ids=["at the limit", "one byte over"])
def test_html_over_the_clipping_limit_fails_the_size_check(message: bytes, rendered: RenderedIssue,
                                                           html_bytes: int, expected: dict[str, str]) -> None:
    assert problems(message, replace(rendered, html="x" * html_bytes)) == expected


@pytest.mark.parametrize("name", REQUIRED_HEADERS)
def test_a_message_without_a_required_header_fails_and_names_it(message: bytes, rendered: RenderedIssue,
                                                                name: str) -> None:
    assert problems(without_header(message, name), rendered)["headers"] == f"missing {name}"


def test_every_missing_header_is_named_at_once(message: bytes, rendered: RenderedIssue) -> None:
    damaged = without_header(without_header(message, "List-Id"), "Date")
    assert problems(damaged, rendered) == {"headers": "missing Date, List-Id"}


def test_a_message_that_does_not_parse_cleanly_fails_and_names_the_defects(message: bytes,
                                                                           rendered: RenderedIssue) -> None:
    head, _, body = message.partition(b"\r\n\r\n")
    # A header line without a colon, and a multipart body whose closing boundary is cut off.
    damaged = head + b"\r\nnot a header\r\n\r\n" + body[:body.rindex(b"\r\n--")] + b"\r\n"
    assert problems(damaged, rendered)["headers"] == (
        "the message does not parse cleanly: CloseBoundaryNotFoundDefect, MissingHeaderBodySeparatorDefect")


@pytest.mark.parametrize("extra", ["To: someone.else@example.com", "Cc: someone.else@example.com",
                                   "Bcc: someone.else@example.com"], ids=["second To", "Cc", "Bcc"])
def test_a_message_for_more_than_its_one_recipient_fails(message: bytes, rendered: RenderedIssue,
                                                         extra: str) -> None:
    assert problems(with_header(message, extra), rendered) == {
        "headers": "a message must have exactly one To and no Cc or Bcc"}


@pytest.mark.parametrize("header", [
    "List-Unsubscribe: <mailto:letters@news.example.org?subject=unsubscribe>",
    f"List-Unsubscribe: <{URL}>",
    "List-Unsubscribe: <https://news.example.org/unsubscribe?token=someone-else>, <mailto:letters@news.example.org>",
], ids=["no URL", "no mailto", "another recipient's URL"])
def test_a_list_unsubscribe_header_without_the_recipients_url_and_the_mailto_fails(
        message: bytes, rendered: RenderedIssue, header: str) -> None:
    damaged = with_header(without_header(message, "List-Unsubscribe"), header)
    assert problems(damaged, rendered) == {
        "unsubscribe_link": "List-Unsubscribe lacks the recipient's URL or the mailto"}


def test_a_message_without_list_unsubscribe_post_fails_the_dry_run(message: bytes, rendered: RenderedIssue) -> None:
    assert problems(without_header(message, "List-Unsubscribe-Post"), rendered) == {
        "headers": "missing List-Unsubscribe-Post",
        "unsubscribe_link": "List-Unsubscribe-Post is not List-Unsubscribe=One-Click"}


def test_a_list_unsubscribe_post_with_another_value_fails(message: bytes, rendered: RenderedIssue) -> None:
    damaged = with_header(without_header(message, "List-Unsubscribe-Post"), "List-Unsubscribe-Post: Unsubscribe")
    assert problems(damaged, rendered) == {
        "unsubscribe_link": "List-Unsubscribe-Post is not List-Unsubscribe=One-Click"}


@pytest.mark.parametrize("part", ["text", "html"])
def test_a_body_part_without_the_unsubscribe_link_fails(rendered: RenderedIssue, part: str) -> None:
    # A customised template that forgot the link in one of the two parts.
    forgot = replace(rendered, **{part: getattr(rendered, part).replace(rendered.placeholders.unsubscribe_url, "")})
    assert problems(personalised(forgot), forgot) == {
        "unsubscribe_link": "the unsubscribe link is missing from a body part"}


def test_links_that_are_not_https_fail_and_say_which_setting_to_change(rendered: RenderedIssue) -> None:
    config = replace(CONFIG, web=WebSettings(base_url="http://localhost:8080"))
    url = "http://localhost:8080/unsubscribe?token=preview"
    assert problems(personalised(rendered, url, config), rendered, url, config) == {
        "unsubscribe_link": "links start with http://localhost:8080: mail providers want https for one-click "
                            "unsubscribe; set web.base_url to your public https URL"}


@pytest.mark.parametrize(("line", "expected"), [
    ("x" * 78, {}),
    ("x" * 79, {"text_part": "1 text line(s) are longer than 78 characters"}),
    ("see https://news.example.org/" + "x" * 80, {}),
], ids=["78 characters", "79 characters", "a long link"])
def test_a_text_line_over_78_characters_fails_unless_it_is_a_link(rendered: RenderedIssue, line: str,
                                                                  expected: dict[str, str]) -> None:
    longer = replace(rendered, text=rendered.text + line + "\n")
    assert problems(personalised(longer), longer) == expected


@pytest.mark.parametrize(("words", "expected"), [(19, {"text_part": "the text part is nearly empty"}), (20, {})],
                         ids=["19 words", "20 words"])
def test_a_nearly_empty_text_part_fails(rendered: RenderedIssue, words: int, expected: dict[str, str]) -> None:
    # The unsubscribe link is one of the words.
    short = replace(rendered, text=" ".join(["word"] * (words - 1) + [rendered.placeholders.unsubscribe_url]) + "\n")
    assert problems(personalised(short), short) == expected


def test_a_message_without_a_text_part_before_the_html_part_fails(rendered: RenderedIssue) -> None:
    html, text = rendered.filled("reader@example.com", URL, URL)
    reordered = EmailMessage()
    reordered.set_content(html, subtype="html")
    reordered.add_alternative(text)
    outcome = problems(bytes(reordered), rendered)["text_part"]
    assert outcome == "parts are ['text/html', 'text/plain'], expected text/plain then text/html"


def test_bare_lf_line_endings_fail(message: bytes, rendered: RenderedIssue) -> None:
    head, _, body = message.partition(b"\r\n\r\n")
    assert problems(head + b"\r\n\r\n" + body.replace(b"\r\n", b"\n", 1), rendered) == {
        "line_length": "bare LF line endings"}


@pytest.mark.parametrize(("octets", "expected"),
                         [(998, {}), (999, {"line_length": "a line is 999 octets; SMTP allows 998"})],
                         ids=["998 octets", "999 octets"])
def test_a_line_over_smtps_998_octets_fails(message: bytes, rendered: RenderedIssue, octets: int,
                                            expected: dict[str, str]) -> None:
    # Words, not one long token: the length is that of the line, whatever it holds.
    line = ("X-Padding: " + "word " * 200)[:octets]
    assert problems(with_header(message, line), rendered) == expected


@pytest.mark.parametrize(("newsletter", "expected"), [
    ({"from_address": "newsletter@example.org"}, "newsletter.from_address"),
    ({"postal_address": "Example Org, 1 Example Street, Example City"}, "newsletter.postal_address"),
    ({"from_address": "newsletter@example.org", "postal_address": "Example Org, 1 Example Street, Example City"},
     "newsletter.from_address, newsletter.postal_address"),
], ids=["from_address", "postal_address", "both"])
def test_settings_left_at_their_example_values_are_named(message: bytes, rendered: RenderedIssue,
                                                         newsletter: dict[str, str], expected: str) -> None:
    config = replace(CONFIG, newsletter=replace(CONFIG.newsletter, **newsletter))
    assert problems(message, rendered, config=config) == {"settings": f"still the example value: {expected}"}
