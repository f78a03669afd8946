"""What makes a setting's value acceptable; each check returns what is wrong, or None.

`CHECKS` look at one value. `CONTEXT_CHECKS` also read other settings or the file system (a DKIM key
file, the templates folder). Both run when the configuration loads, so a bad value stops every command
before it does anything. Rules that other stages apply later (the composer's addresses, the signer's
key parser, the key's format) live in config/ and are used from both places. Compiling templates needs
the filters of templating.py, a layer above: `templating.check_templates` does that, called by the
composition root right after loading.
"""

from __future__ import annotations

import ipaddress
import re
import string
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError

from newsletter.config.bounce_checks import BOUNCE_CHECKS, BOUNCE_CONTEXT_CHECKS
from newsletter.config.cron import crontab_trigger
from newsletter.config.dkim_key import dkim_key_problem
from newsletter.config.header_rules import LABEL, SUBJECT_FIELDS, is_address, is_list_id, subject_fields
from newsletter.config.key_text import KEY_PREFIX, decode_key

Check = Callable[[Any], str | None]

_SELECTOR = re.compile(rf"{LABEL}(?:\.{LABEL})*")
_HOST = re.compile(r"[^\s/]+")


@dataclass(frozen=True)
class Context:
    """What a context check may read besides its own value: every setting by name, and where paths start."""

    values: Mapping[str, Any]
    base_dir: Path

    def path(self, value: str) -> Path:
        return self.base_dir / Path(value).expanduser()


ContextCheck = Callable[[Any, Context], str | None]


def _between(low: float, high: float | None = None) -> Check:
    def check(value: Any) -> str | None:
        if value < low or (high is not None and value > high):
            return f"must be {low}..{high}" if high is not None else f"must be at least {low}"
        return None
    return check


def _one_of(*choices: str) -> Check:
    def check(value: Any) -> str | None:
        return None if value in choices else "must be one of " + ", ".join(repr(c) for c in choices)
    return check


def _address(optional: bool) -> Check:
    # The composer's own rule: a plain ASCII address, as every header it writes needs.
    def check(value: Any) -> str | None:
        if optional and value == "":
            return None
        return None if is_address(value) else "must be a plain ASCII email address like news@example.org"
    return check


def _one_line(value: Any) -> str | None:
    return "must be one line" if any(c in value for c in "\r\n\0") else None


def _language(optional: bool) -> Check:
    def check(value: Any) -> str | None:
        if optional and value == "":
            return None
        try:
            Locale.parse(value, sep="-")
        except (ValueError, TypeError, UnknownLocaleError):
            return "is not a language tag Babel knows; use a BCP 47 tag such as en, he, ru or pt-BR"
        return None
    return check


def _subject(value: Any) -> str | None:
    if _one_line(value):
        return "must be one line"
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
    except ValueError as exc:
        return f"is not a valid template ({exc})"
    unknown = fields - set(SUBJECT_FIELDS)
    return f"may use only {subject_fields()}, not {{{sorted(unknown)[0]}}}" if unknown else None


def _addresses(value: Any) -> str | None:
    wrong = [v for v in value if not is_address(v)]
    return f"must be plain ASCII email addresses like editor@example.org (not {wrong[0]!r})" if wrong else None


def _list_id(value: Any) -> str | None:
    return None if is_list_id(value) else "must be a domain-like name such as weekly.example.org"


def _base_url(value: Any) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.query or parts.fragment:
        return "must be an http(s) URL with no query, like https://news.example.org"
    return None


def _database_url(value: Any) -> str | None:
    if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", value):
        return "must be sqlite:///FILE or postgresql+psycopg://USER@HOST/DB"
    return None


def _cron(value: Any) -> str | None:
    # The scheduler's own reading of the line (crontab weekday numbers), so what passes here runs there.
    try:
        crontab_trigger(value, UTC)
    except ValueError as exc:
        return f"is not a valid crontab line: {exc}"
    return None


def _timezone(value: Any) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return "must be an IANA time zone such as UTC or Europe/London"
    return None


def _networks(value: Any) -> str | None:
    for item in value:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            return ("must list IP addresses or networks of your reverse proxies, such as 127.0.0.1 or "
                    "10.0.0.0/8 (a name or '*' would let clients choose the address they are counted under)")
    return None


def _origins(value: Any) -> str | None:
    for item in value:
        parts = urlsplit(item)
        if (parts.scheme not in {"http", "https"} or not parts.hostname or "@" in parts.netloc
                or parts.path not in {"", "/"} or parts.query or parts.fragment):
            return ("must list origins of other sites, each a scheme and host (and port), such as "
                    "https://www.example.org ('*' or a path is not an origin)")
    return None


def _not_empty(value: Any) -> str | None:
    return None if value.strip() else "must not be empty"


def _host(value: Any) -> str | None:
    return None if _HOST.fullmatch(value) else "must be a host name or IP address, such as 127.0.0.1"


def _sources(value: Any) -> str | None:
    return "must not hold an empty entry" if any(not item.strip() for item in value) else None


def _categories(value: Any) -> str | None:
    if any(not item.strip() or "\n" in item for item in value):
        return "must hold category names, one line each and none empty (or be [] to keep every item)"
    return None


def _privacy_key(value: Any) -> str | None:
    # The key is a secret: the message says what is wrong, never what was given.
    if value == "" or decode_key(value) is not None:
        return None
    return f"is not a key: it must be the key line of a key file ({KEY_PREFIX}...), as `newsletter init` writes it"


def _dkim_domain(value: Any) -> str | None:
    return None if value == "" or is_list_id(value) else "must be a domain such as news.example.org"


def _dkim_selector(value: Any) -> str | None:
    return None if value == "" or _SELECTOR.fullmatch(value) else "must be a DNS label such as s2026"


def _smtp_password(value: Any, context: Context) -> str | None:
    if value and not context.values["smtp.username"]:
        return "is set but smtp.username is empty: set both, or neither to send without AUTH"
    return None


def _signing_needs(value: Any, context: Context) -> str | None:
    if context.values["dkim.domain"] and not value:
        return "must be set when dkim.domain is set (or leave dkim.domain empty to sign nothing)"
    return None


def _dkim_key_file(value: Any, context: Context) -> str | None:
    if not context.values["dkim.domain"]:
        return None
    if not value:
        return _signing_needs(value, context)
    path = context.path(value)
    try:
        pem = path.read_bytes()
    except OSError as error:
        return f"{path} cannot be read ({error.strerror})"
    return dkim_key_problem(pem)


def _templates_dir(value: Any, context: Context) -> str | None:
    if value and not context.path(value).is_dir():
        return f"{context.path(value)} is not a folder; create it, or leave templates_dir empty"
    return None


def _outbox_dir(value: Any, context: Context) -> str | None:
    path = context.path(value)
    return f"{path} is a file, not a folder" if path.exists() and not path.is_dir() else None


def _reading_values(check: Callable[[Any, Mapping[str, Any]], str | None]) -> ContextCheck:
    """A check that reads other settings only, as a context check."""
    return lambda value, context: check(value, context.values)


CHECKS: dict[str, Check] = {
    "newsletter.title": lambda v: _not_empty(v) or _one_line(v),
    "newsletter.from_address": _address(optional=False),
    "newsletter.from_name": _one_line,
    "newsletter.reply_to": _address(optional=True),
    "newsletter.list_id": _list_id,
    "newsletter.postal_address": lambda v: _not_empty(v) or _one_line(v),
    "newsletter.subject": _subject,
    "newsletter.language": _language(optional=False),
    "database.url": _database_url,
    "selection.max_excerpts": _between(1),
    "selection.max_words": _between(1),
    "selection.per_day": _between(1),
    "selection.per_source": _between(1),
    "delivery.transport": _one_of("outbox", "smtp"),
    "delivery.give_up_after": _between(1),
    "delivery.drain_seconds": _between(1),
    "delivery.lease_seconds": _between(10, 3600),
    "delivery.batch_size": _between(1, 10_000),
    "delivery.retry_seconds": _between(0.01),
    "delivery.linger_seconds": _between(0),
    "delivery.refusals_in_a_row": _between(1, 100_000),
    "delivery.database_patience": _between(1, 3600),
    "delivery.pause_window": _between(1, 100_000),
    "delivery.pause_on_failure_rate": _between(0.0, 1.0),
    "review.mode": _one_of("auto", "approve"),
    "review.freeze": lambda v: None if v == "" else _cron(v),
    "review.reviewers": _addresses,
    "review.link_hours": _between(1, 24 * 30),
    "outbox.dir": _not_empty,
    "smtp.host": _not_empty,
    "smtp.username": _one_line,
    "smtp.port": _between(1, 65535),
    "smtp.security": _one_of("none", "starttls", "tls"),
    "smtp.connections": _between(1, 100),
    "smtp.rate_per_second": _between(0),
    "smtp.timeout": _between(1),
    "web.host": _host,
    "web.port": _between(0, 65535),
    "web.base_url": _base_url,
    "web.signups_per_client": _between(1),
    "web.signups_per_address": _between(1),
    "web.signups_per_domain": _between(1),
    "web.form_minutes": _between(5, 1440),
    "web.trusted_proxies": _networks,
    "web.allowed_origins": _origins,
    "web.header_timeout": _between(1, 300),
    "web.body_timeout": _between(1, 600),
    "web.max_connections": _between(1, 100_000),
    "schedule.cron": _cron,
    "schedule.timezone": _timezone,
    "schedule.ingest": _sources,
    "schedule.catch_up_hours": _between(1, 168),
    "schedule.retry_minutes": _between(1, 1440),
    "ingest.categories": _categories,
    "ingest.deadline_seconds": _between(1, 3600),
    "ingest.language": _language(optional=True),
    "subscribers.pending_days": _between(1),
    "subscribers.resubscribe_days": _between(1, 3650),
    "subscribers.welcome": _one_of("none", "latest"),
    "privacy.key_file": _not_empty,
    "privacy.key": _privacy_key,
    "dkim.domain": _dkim_domain,
    "dkim.selector": _dkim_selector,
    "logging.format": _one_of("keyvalue", "json"),
    "logging.level": _one_of("debug", "info", "warning", "error"),
    **BOUNCE_CHECKS,
}

def _patterns_file(value: Any, context: Context) -> str | None:
    """The admin's page patterns: TOML whose every pattern compiles (read again, the same way, at ingest)."""
    if not value:
        return None
    path = context.path(value)
    try:
        with path.open("rb") as file:
            table = tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError) as error:
        return f"cannot be read as TOML ({type(error).__name__}: {error}); check {path.name}"
    for language, section in table.items():
        if not isinstance(section, dict):
            return f"must hold one table per language, like [he]; {language!r} is not one"
        rules = [*section.get("source_lines", []), *(pair[0] for pair in section.get("chrome", []))]
        for pattern in rules:
            try:
                re.compile(pattern)
            except (re.error, TypeError) as error:
                return f"holds a pattern for {language!r} that does not compile ({error}): {pattern!r}"
    return None


CONTEXT_CHECKS: dict[str, ContextCheck] = {
    "ingest.patterns_file": _patterns_file,
    "templates_dir": _templates_dir,
    "outbox.dir": _outbox_dir,
    "smtp.password": _smtp_password,
    "dkim.selector": _signing_needs,
    "dkim.key_file": _dkim_key_file,
    **{name: _reading_values(check) for name, check in BOUNCE_CONTEXT_CHECKS.items()},
}
