"""The confirmation email: one recipient, the link, CRLF, nothing else the visitor typed, and a DKIM
signature dkimpy verifies when a signer is given."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import dkim  # type: ignore[import-untyped]
import lxml.html
import pytest

from newsletter.config import settings
from newsletter.mail.dkim import DkimSigner
from subscribers.confirmation import ConfirmationMail
from tests.conftest import write_config

NOW = datetime(2026, 11, 16, 9, 30, tzinfo=UTC)
LINK = "https://news.example.org/confirm?token=AbC-_123"


def message_for(tmp_path: Path, address: str) -> tuple[EmailMessage, bytes]:
    config = settings.load(write_config(tmp_path, "sqlite:///x.db", newsletter={"reply_to": "help@example.org"}),
                           environ={})
    outgoing = ConfirmationMail(config).build(address, LINK, NOW)
    assert outgoing.recipient == address
    assert outgoing.sender == "letters@news.example.org"
    parsed = email.message_from_bytes(outgoing.data, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed["Message-ID"] == outgoing.message_id
    return parsed, outgoing.data


def test_the_confirmation_goes_to_one_recipient_with_the_link_in_both_parts(tmp_path: Path) -> None:
    message, data = message_for(tmp_path, "alice@example.org")
    assert message["To"] == "alice@example.org"
    assert [message[h] for h in ("Cc", "Bcc")] == [None, None]
    assert message["From"] == "Weekly Lessons <letters@news.example.org>"
    assert message["Reply-To"] == "help@example.org"
    assert message["Subject"] == "Please confirm your subscription to Weekly Lessons"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Date"] == "Mon, 16 Nov 2026 09:30:00 +0000"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    assert LINK in text.get_content()
    assert f'href="{LINK}"' in html.get_content()
    assert b"\r\n" in data
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert "alice" not in text.get_content()
    assert "alice" not in html.get_content()


def test_the_html_part_has_its_css_inlined_and_no_tracking(tmp_path: Path) -> None:
    message, _ = message_for(tmp_path, "alice@example.org")
    html = message.get_body(("html",))
    assert html is not None
    content = html.get_content()
    assert 'style="' in content
    assert "<img" not in content


def document(html: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(html)


def test_the_inbox_shows_a_preheader_that_says_what_to_do(tmp_path: Path) -> None:
    message, _ = message_for(tmp_path, "alice@example.org")
    html = message.get_body(("html",))
    assert html is not None
    body = document(html.get_content()).xpath("//body")[0].text_content().lstrip()
    sentence = "One click to start getting Weekly Lessons every week. Nothing is sent until you confirm."
    assert body.startswith(sentence)
    assert set(body[len(sentence):][:140]) <= set("\u034f\u200c\u00a0 ")  # then blanks, not the body


def test_the_raw_link_is_a_link_of_its_own_that_may_break_anywhere(tmp_path: Path) -> None:
    message, _ = message_for(tmp_path, "alice@example.org")
    html = message.get_body(("html",))
    assert html is not None
    [raw] = document(html.get_content()).xpath("//p[@class='raw-link']")
    assert raw.text_content() == LINK
    assert raw.xpath("a/@href") == [LINK]
    assert "word-break:break-all" in raw.get("style").replace(" ", "")


def test_an_address_with_a_unicode_local_part_gets_an_smtputf8_message(tmp_path: Path) -> None:
    message, data = message_for(tmp_path, "üser@xn--bcher-kva.example")
    assert message["To"] == "üser@xn--bcher-kva.example"
    assert "To: üser@xn--bcher-kva.example\r\n".encode() in data


def dkim_dns(record: str) -> Callable[..., bytes]:
    """A DNS that knows one DKIM key: `weekly._domainkey.news.example.org`."""
    def lookup(name: bytes, timeout: int = 5) -> bytes:
        return record.encode() if name == b"weekly._domainkey.news.example.org." else b""
    return lookup


@pytest.mark.parametrize("address", ["alice@example.org", "üser@xn--bcher-kva.example"],
                         ids=["ascii", "smtputf8"])
def test_a_signed_confirmation_verifies_with_dkimpy(tmp_path: Path, key_pair: tuple[bytes, str],
                                                    address: str) -> None:
    config = settings.load(write_config(tmp_path, "sqlite:///x.db"), environ={})
    signer = DkimSigner("news.example.org", "weekly", key_pair[0])
    data = ConfirmationMail(config, sign=signer.sign).build(address, LINK, NOW).data
    assert data.startswith(b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=news.example.org;")
    assert dkim.verify(data, dnsfunc=dkim_dns(key_pair[1]))
    head = data.split(b"\r\n\r\n")[0].decode().replace("\r\n", "")
    signed = re.search(r"h=([^;]+);", head)
    assert signed is not None
    assert {"from", "to", "subject", "date", "message-id", "auto-submitted", "content-type"} <= {
        name.strip() for name in signed[1].split(":")}


def test_a_changed_link_breaks_the_confirmation_s_signature(tmp_path: Path, key_pair: tuple[bytes, str]) -> None:
    config = settings.load(write_config(tmp_path, "sqlite:///x.db"), environ={})
    signer = DkimSigner("news.example.org", "weekly", key_pair[0])
    data = ConfirmationMail(config, sign=signer.sign).build("alice@example.org", LINK, NOW).data
    tampered = data.replace(b"AbC-_123", b"AbC-_124")
    assert tampered != data
    assert not dkim.verify(tampered, dnsfunc=dkim_dns(key_pair[1]))


def test_without_a_signer_the_confirmation_is_not_signed(tmp_path: Path) -> None:
    _, data = message_for(tmp_path, "alice@example.org")
    assert b"DKIM-Signature" not in data


def test_a_hebrew_confirmation_asks_in_hebrew_right_to_left_with_an_encoded_subject(tmp_path: Path) -> None:
    config = settings.load(write_config(tmp_path, "sqlite:///x.db",
                                        newsletter={"language": "he", "title": "שיעורי השבוע"}), environ={})
    data = ConfirmationMail(config).build("alice@example.org", LINK, NOW).data
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert str(message["Subject"]) == "אנא אשרו את ההרשמה לשיעורי השבוע"
    assert data.split(b"\r\n\r\n")[0].isascii()
    html = message.get_body(("html",))
    assert html is not None
    root = lxml.html.document_fromstring(html.get_content())
    assert (root.get("lang"), root.get("dir")) == ("he", "rtl")
    assert root.xpath("string(//h1)") == "אשרו את ההרשמה"
    assert root.xpath("string(//*[@class='raw-link']/a/@dir)") == "ltr"
