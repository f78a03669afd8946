"""The settings, declared once: one frozen dataclass per section of the TOML file, each field with its
default and its help (`setting`). `settings.py` reads the file and the environment into them and
`checks.py` holds each value's check; this module only says what exists and what it means.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def setting(default: Any, help: str, *, secret: bool = False) -> Any:
    """Declare one setting; its checks live in config.checks.CHECKS under "section.key"."""
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"help": help, "secret": secret})
    return field(default=default, metadata={"help": help, "secret": secret})


@dataclass(frozen=True)
class NewsletterSettings:
    title: str = setting("Weekly Lessons", "Name of the newsletter, shown in every email and page.")
    from_address: str = setting("newsletter@example.org", "Address the emails come from.")
    from_name: str = setting("Weekly Lessons", "Display name beside from_address.")
    reply_to: str = setting("", "Reply-To address; empty sends no Reply-To header.")
    list_id: str = setting("weekly.example.org", "List-Id (RFC 2919): a domain-like name you own.")
    postal_address: str = setting(
        "Example Org, 1 Example Street, Example City", "Sender's postal address, printed in the footer."
    )
    subject: str = setting(
        "{title} — week of {date}",
        "Subject template; fields: {title}, {date} (Monday), {week}, {first} (the first excerpt's title), "
        "{count} (excerpts).",
    )
    language: str = setting(
        "en", "The readers' language, a BCP 47 tag (en, he, ru, pt-BR): every word of the emails and pages, "
        "dates, and right-to-left layout for he, ar, fa, yi.",
    )


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = setting("sqlite:///newsletter.db", "SQLAlchemy URL: sqlite:///FILE or postgresql+psycopg://...")


@dataclass(frozen=True)
class SelectionSettings:
    max_excerpts: int = setting(7, "Most excerpts in one issue.")
    max_words: int = setting(2500, "Word budget of one issue (titles not counted).")
    per_day: int = setting(1, "Most excerpts from one lesson date.")
    per_source: int = setting(1, "Most excerpts sharing one source line (one part of one lesson).")


@dataclass(frozen=True)
class DeliverySettings:
    transport: str = setting("outbox", '"outbox" writes .eml files to [outbox] dir; "smtp" sends.')
    give_up_after: int = setting(72, "Hours after which a deferred message is marked failed.")
    drain_seconds: int = setting(30, "On SIGTERM, seconds to finish in-flight messages before exit.")
    lease_seconds: int = setting(
        30, "A claim's lease; its sender renews it every third of it while it works, so only a dead "
            "sender's rows are taken again (at once on the same host, else when the lease lapses)."
    )
    batch_size: int = setting(100, "Recipients a worker claims at once; each outcome is recorded as it happens.")
    retry_seconds: float = setting(60.0, "First retry delay after a temporary failure; doubles, at most 1 h.")
    linger_seconds: float = setting(120.0, "A send waits this long for deferred messages to come due.")
    refusals_in_a_row: int = setting(
        20, "A send stops after this many permanent refusals in a row and bounces none of them: a relay "
            "that refuses everyone must not empty the list. The rows are left for a later run."
    )
    database_patience: int = setting(
        60, "Seconds a send waits for a database that is locked, full or unreachable before it stops "
            "safely (run it again once the database is back)."
    )
    pause_window: int = setting(
        100, "The automatic pause looks at this many latest outcomes of a send (once it has seen them all)."
    )
    pause_on_failure_rate: float = setting(
        0.1, "A send pauses itself (the issue becomes paused, the reviewers are told) when more than this "
             "share of its last pause_window outcomes were refused for good, or deferred."
    )


@dataclass(frozen=True)
class ReviewSettings:
    mode: str = setting("auto", '"auto": the draft is sent at the cron time unless held; "approve": sent only '
                                "once approved (the reviewers are reminded otherwise).")
    freeze: str = setting("", "When the week's draft is made and proofed (crontab, in [schedule] timezone), "
                              'e.g. "0 5 * * mon"; empty: no scheduled freeze.')
    reviewers: list[str] = setting([], "Staff addresses that get the proof and the editor's notices "
                                       "(never subscribers, never stored in the list).")
    link_hours: int = setting(72, "Hours the Approve and Hold links of a proof keep working.")


@dataclass(frozen=True)
class OutboxSettings:
    dir: str = setting("outbox", "Folder for the outbox transport (one .eml per message).")


@dataclass(frozen=True)
class SmtpSettings:
    host: str = setting("localhost", "SMTP relay host.")
    port: int = setting(25, "SMTP relay port.")
    security: str = setting("none", '"none", "starttls" or "tls".')
    username: str = setting("", "SMTP login; empty sends without AUTH.")
    password: str = setting("", "SMTP password: environment only (NEWSLETTER_SMTP_PASSWORD).", secret=True)
    connections: int = setting(4, "SMTP connections used in parallel.")
    rate_per_second: float = setting(0.0, "Most messages per second in all; 0 means no limit.")
    timeout: float = setting(30.0, "Seconds to wait for the SMTP server before giving up on a step.")


@dataclass(frozen=True)
class WebSettings:
    host: str = setting("127.0.0.1", "Address the sign-up endpoint listens on.")
    port: int = setting(8080, "Port the sign-up endpoint listens on.")
    base_url: str = setting("http://localhost:8080", "Public URL of the endpoint; every link in every email.")
    signups_per_client: int = setting(20, "Sign-ups a minute from one client (IPv4 address or IPv6 /64).")
    signups_per_address: int = setting(5, "Sign-ups an hour acted on for one mailbox (name+tag@ is name@).")
    signups_per_domain: int = setting(200, "Sign-ups an hour acted on for one domain.")
    form_minutes: int = setting(60, "Minutes a sign-up form stays good after it was served.")
    trusted_proxies: list[str] = setting([], "Reverse proxies (IP addresses or networks) whose X-Forwarded-For "
                                         "names the client; none by default.")
    allowed_origins: list[str] = setting([], "Other sites (origins such as https://www.example.org) whose pages "
                                         "may carry the sign-up form; none by default.")
    proof_of_work: bool = setting(False, "Ask the sign-up form for an ALTCHA proof of work, made and checked here.")
    header_timeout: float = setting(10.0, "Seconds a client has to send a request's headers.")
    body_timeout: float = setting(30.0, "Seconds a client has to send a request's body.")
    max_connections: int = setting(500, "Connections served at once; more are answered 503 as they arrive.")


@dataclass(frozen=True)
class ScheduleSettings:
    cron: str = setting("0 7 * * mon", "When the weekly send runs (crontab: minute hour day month weekday).")
    timezone: str = setting("UTC", "Time zone of the cron expression, e.g. Europe/London.")
    ingest: list[str] = setting([], "Sources (files, folders, URLs) ingested before each weekly send.")
    catch_up_hours: int = setting(
        48, "A weekly send missed while `newsletter run` was down runs at start-up if at most this late."
    )
    retry_minutes: int = setting(10, "How often `newsletter run` retries deferred and unfinished deliveries.")


@dataclass(frozen=True)
class IngestSettings:
    language: str = setting("", "Language of the pages ingested (BCP 47); empty: newsletter.language.")
    patterns_file: str = setting("", "A TOML file of more source-line, label and chrome patterns per language "
                                 "(the shape of newsletter/content/page_languages.toml); empty: none.")
    categories: list[str] = setting([], "Feed categories whose items are ingested (any case); empty: every item.")
    deadline_seconds: float = setting(
        120.0, "Most seconds one URL may take to arrive, however slowly it trickles in; then it is cut off."
    )


@dataclass(frozen=True)
class SubscribersSettings:
    pending_days: int = setting(7, "Unconfirmed sign-ups older than this many days are purged.")
    resubscribe_days: int = setting(30, "An unsubscribed or bounced address signed up again gets at most one "
                                    "confirmation email per this many days.")
    dns_checks: bool = setting(False, "Check that an address's domain accepts mail (DNS) at sign-up.")
    smtputf8: bool = setting(False, "Accept new addresses with letters outside ASCII before the @ "
                             "(only if the relay offers SMTPUTF8, which they need).")
    welcome: str = setting("none", '"latest" sends a new reader the latest sent issue right after they confirm '
                                   '(through the outbox, with their own unsubscribe link); "none" sends nothing.')


@dataclass(frozen=True)
class BouncesSettings:
    domain: str = setting("", "Domain of the per-message return addresses (bounces+TOKEN@, unsubscribe+TOKEN@); "
                              "empty: the envelope sender is from_address and nothing comes back to us.")
    local_part: str = setting("bounces", "Local part before the + of the bounce address (envelope sender).")
    unsubscribe_local_part: str = setting("unsubscribe", "Local part before the + of the List-Unsubscribe mailto.")
    token_days: int = setting(90, "Days a message's bounce address keeps working; later bounces are ignored.")
    soft_limit: int = setting(3, "Temporary bounces (mailbox full, ...) within soft_days that suppress a subscriber.")
    soft_days: int = setting(30, "Days over which temporary bounces are counted.")
    listen_host: str = setting("127.0.0.1", "Address the inbound SMTP/LMTP listener of `newsletter run` binds.")
    listen_port: int = setting(0, "Port of the inbound listener; 0 runs none.")
    protocol: str = setting("smtp", '"smtp" or "lmtp": what the MX or relay that forwards the domain speaks.')
    max_message_bytes: int = setting(2_000_000, "Largest message the listener accepts (552 beyond).")
    per_minute: int = setting(600, "Messages a minute the listener accepts from one client (451 beyond).")
    spool_dir: str = setting("bounces", "Folder where received messages wait (0600) until processed, then are deleted.")
    imap_host: str = setting("", "IMAP server of a mailbox that receives the return addresses; empty polls none.")
    imap_port: int = setting(993, "IMAP port.")
    imap_security: str = setting("tls", '"tls", "starttls" or "none".')
    imap_username: str = setting("", "IMAP login.")
    imap_password: str = setting("", "IMAP password: environment only (NEWSLETTER_BOUNCES_IMAP_PASSWORD).",
                                 secret=True)
    imap_folder: str = setting("INBOX", "Folder polled for returned mail.")
    imap_done_folder: str = setting("Processed", "Folder handled messages are moved to (created if missing).")
    imap_minutes: int = setting(5, "How often `newsletter run` polls the IMAP folder.")


@dataclass(frozen=True)
class PrivacySettings:
    key_file: str = setting("newsletter.key", "Key file from `newsletter init`; lose it, lose the list.")
    key: str = setting("", "The key itself instead of the file: environment only (NEWSLETTER_PRIVACY_KEY).",
                       secret=True)


@dataclass(frozen=True)
class DkimSettings:
    domain: str = setting("", "DKIM signing domain (d=); empty turns signing off.")
    selector: str = setting("", "DKIM selector (s=).")
    key_file: str = setting("", "PEM private key used to sign.")


@dataclass(frozen=True)
class LoggingSettings:
    format: str = setting("keyvalue", '"keyvalue" (time=... level=... msg="...") or "json": one line per event.')
    level: str = setting("info", '"debug", "info", "warning" or "error".')
