"""DKIM: a signature dkimpy verifies, whose h= covers the unsubscribe headers, and its configuration."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import dkim  # type: ignore[import-untyped]
import pytest

from newsletter.config.settings import Config, DkimSettings, NewsletterSettings
from newsletter.content.excerpt import Excerpt
from newsletter.errors import ConfigError
from newsletter.issues.compose import compose
from newsletter.issues.render import render_issue
from newsletter.mail.dkim import DkimSigner
from newsletter.mail.recipient import Recipient
from tests.newsletter.conftest import SAMPLE_WEEK

CONFIG = Config(newsletter=NewsletterSettings(from_address="letters@news.example.org",
                                              list_id="weekly.news.example.org"))
READER = Recipient(42, "reader@example.com", "https://news.example.org/unsubscribe?token=abc==")


@pytest.fixture
def signed(key_pair: tuple[bytes, str], excerpts: list[Excerpt]) -> bytes:
    message = compose(CONFIG, render_issue(CONFIG, SAMPLE_WEEK, excerpts)).personalise(READER)
    return DkimSigner("news.example.org", "weekly", key_pair[0]).sign(message)


def verifies(message: bytes, record: str) -> bool:
    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"weekly._domainkey.news.example.org."
        return record.encode()

    return bool(dkim.verify(message, dnsfunc=dns))


def signed_headers(message: bytes) -> list[str]:
    signature = message.split(b"\r\n\r\n")[0].decode()
    match = re.search(r"h=([^;]+);", signature.replace("\r\n", ""))
    assert match is not None
    return [name.strip() for name in match[1].split(":")]


def test_the_signature_verifies_with_dkimpy(signed: bytes, key_pair: tuple[bytes, str]) -> None:
    assert signed.startswith(b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=news.example.org;")
    assert verifies(signed, key_pair[1])


def test_h_covers_from_subject_and_both_unsubscribe_headers_twice(signed: bytes) -> None:
    names = signed_headers(signed)
    for name in ("from", "subject", "list-unsubscribe", "list-unsubscribe-post"):
        assert names.count(name) == 2, name
    assert {"to", "date", "message-id", "list-id", "feedback-id", "mime-version", "content-type"} <= set(names)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n", b""),
        (b"token=abc==", b"token=xyz=="),
        (b"Subject: ", b"Subject: Re: "),
        (b"\r\n\r\n", b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\r\n"),
        (b"\r\n\r\n", b"\r\nFrom: someone@else.example\r\n\r\n"),
        (b"Feedback-ID: 2026-W47:", b"Feedback-ID: 2026-W48:"),
    ],
    ids=["post-header-removed", "unsubscribe-url-changed", "subject-changed", "second-post-header-added",
         "second-from-added", "feedback-id-changed"],
)
def test_a_changed_or_added_header_breaks_the_signature(signed: bytes, key_pair: tuple[bytes, str],
                                                        old: bytes, new: bytes) -> None:
    assert old in signed
    assert not verifies(signed.replace(old, new, 1), key_pair[1])


def test_signing_is_off_without_a_domain() -> None:
    assert DkimSigner.from_config(Config()) is None


def test_the_signer_reads_its_key_file_relative_to_the_config(tmp_path: Path,
                                                              key_pair: tuple[bytes, str]) -> None:
    (tmp_path / "dkim.pem").write_bytes(key_pair[0])
    config = replace(CONFIG, dkim=DkimSettings("news.example.org", "weekly", "dkim.pem"), base_dir=tmp_path)
    signer = DkimSigner.from_config(config)
    assert signer is not None
    assert (signer.domain, signer.selector) == ("news.example.org", "weekly")


@pytest.mark.parametrize(
    ("settings", "key_text", "expected"),
    [
        (DkimSettings("news.example.org", "", "dkim.pem"), None,
         "config: dkim.selector must be set when dkim.domain is set"),
        (DkimSettings("news.example.org", "weekly", ""), None,
         "config: dkim.key_file must be set when dkim.domain is set"),
        (DkimSettings("news.example.org", "weekly", "missing.pem"), None,
         r"config: dkim.key_file .*missing.pem cannot be read \(No such file or directory\)"),
        (DkimSettings("news.example.org", "weekly", "dkim.pem"), "not a key",
         "config: dkim.key_file is not a PEM RSA private key"),
    ],
    ids=["no-selector", "no-key-file", "missing-key-file", "not-a-key"],
)
def test_an_incomplete_dkim_setting_names_the_key(tmp_path: Path, settings: DkimSettings,
                                                  key_text: str | None, expected: str) -> None:
    if key_text is not None:
        (tmp_path / settings.key_file).write_text(key_text, encoding="utf-8")
    with pytest.raises(ConfigError, match=expected):
        DkimSigner.from_config(replace(CONFIG, dkim=settings, base_dir=tmp_path))
