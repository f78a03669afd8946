"""Settings: declared once below (name, default, help), read from one TOML file and the environment.

Where the file comes from: `--config PATH`, else `$NEWSLETTER_CONFIG`, else `./newsletter.toml` when it
exists, else the defaults alone. Every key can be overridden by `NEWSLETTER_<SECTION>_<KEY>` (top-level
keys by `NEWSLETTER_<KEY>`). Secrets are read from the environment only. Relative paths are taken from
the directory of the config file (or the working directory when there is none).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from newsletter.config.checks import CHECKS, CONTEXT_CHECKS, Context
from newsletter.errors import ConfigError

ENV_PREFIX = "NEWSLETTER_"
DEFAULT_FILE = "newsletter.toml"


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


@dataclass(frozen=True)
class Config:
    newsletter: NewsletterSettings = field(default_factory=NewsletterSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    selection: SelectionSettings = field(default_factory=SelectionSettings)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    review: ReviewSettings = field(default_factory=ReviewSettings)
    outbox: OutboxSettings = field(default_factory=OutboxSettings)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    web: WebSettings = field(default_factory=WebSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    subscribers: SubscribersSettings = field(default_factory=SubscribersSettings)
    bounces: BouncesSettings = field(default_factory=BouncesSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    dkim: DkimSettings = field(default_factory=DkimSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    templates_dir: str = setting("", "Folder of templates that override the packaged ones; empty: none.")
    base_dir: Path = field(default=Path(), metadata={"internal": True})

    def path(self, value: str) -> Path:
        """A path setting resolved against the config file's directory."""
        return self.base_dir / Path(value).expanduser()

    def ingest_settings(self) -> IngestSettings:
        """`[ingest]` as the ingest uses it: the pages' language (the readers' unless said otherwise) and
        the patterns file resolved against the config file's directory."""
        patterns = str(self.path(self.ingest.patterns_file)) if self.ingest.patterns_file else ""
        return dataclasses.replace(self.ingest, language=self.ingest.language or self.newsletter.language,
                                   patterns_file=patterns)

    @property
    def database_url(self) -> str:
        """database.url with a relative SQLite file placed beside the config file."""
        url = self.database.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/"):
            rest = url[len(prefix):]
            if rest and not rest.startswith(":memory:"):
                return prefix + str(self.path(rest).absolute())
        return url


@dataclass(frozen=True)
class SettingInfo:
    """One row of the settings table."""

    section: str
    key: str
    default: Any
    help: str
    type: Any
    secret: bool

    @property
    def name(self) -> str:
        return f"{self.section}.{self.key}" if self.section else self.key

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.replace(".", "_").upper()


def _rows(cls: type, section: str) -> list[SettingInfo]:
    hints = get_type_hints(cls)
    rows = []
    for f in dataclasses.fields(cls):
        if f.metadata.get("internal") or dataclasses.is_dataclass(hints[f.name]):
            continue
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        rows.append(SettingInfo(section, f.name, default, f.metadata["help"], hints[f.name],
                                f.metadata["secret"]))
    return rows


def settings() -> list[SettingInfo]:
    """Every setting, in the order config.example.toml documents them."""
    hints = get_type_hints(Config)
    rows = _rows(Config, "")
    for f in dataclasses.fields(Config):
        if dataclasses.is_dataclass(hints[f.name]):
            rows.extend(_rows(hints[f.name], f.name))
    return rows


def _coerce(info: SettingInfo, value: Any, from_env: bool) -> Any:
    want = info.type
    if from_env:
        value = _from_text(want, value, info.name)
    if want is bool:
        ok = isinstance(value, bool)
    elif want is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif want is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(want, types.GenericAlias):
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    else:
        ok = isinstance(value, str)
    if not ok:
        raise ConfigError(info.name, f"must be {_describe(want)} (got {value!r})")
    return value


def _from_text(want: Any, text: str, name: str) -> Any:
    if want is str:
        return text
    if isinstance(want, types.GenericAlias):
        return [part.strip() for part in text.split(",") if part.strip()]
    if want is bool:
        lowered = text.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        return text
    try:
        return want(text.strip())
    except ValueError:
        raise ConfigError(name, f"must be {_describe(want)} (got {text!r})") from None


def _describe(want: Any) -> str:
    names: dict[Any, str] = {str: "a string", int: "a whole number", float: "a number", bool: "true or false"}
    return names.get(want, "a list of strings")


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError("file", f"{path} does not exist; pass --config with an existing file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("file", f"{path} is not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        line = exc.object[:exc.start].count(b"\n") + 1
        raise ConfigError("file", f"{path} is not UTF-8 text (line {line}): save it as UTF-8, as TOML files are"
                          ) from None
    except OSError as exc:
        raise ConfigError("file", f"{path} cannot be read: {exc.strerror}") from None


def _choose_file(path: Path | None, environ: Mapping[str, str]) -> Path | None:
    if path is not None:
        return path
    if environ.get(ENV_PREFIX + "CONFIG"):
        return Path(environ[ENV_PREFIX + "CONFIG"])
    default = Path(DEFAULT_FILE)
    return default if default.is_file() else None


def load(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read the settings; any problem is a ConfigError that names the key."""
    environ = os.environ if environ is None else environ
    chosen = _choose_file(path, environ)
    data = _read_file(chosen) if chosen is not None else {}
    rows = settings()
    known = {row.name for row in rows}
    sections = {row.section for row in rows if row.section}
    values: dict[str, dict[str, Any]] = {section: {} for section in sections}
    top: dict[str, Any] = {}
    for name, value in data.items():
        if isinstance(value, dict) and name in sections:
            for key, item in value.items():
                _accept(known, f"{name}.{key}", values[name], key, item, rows)
        else:
            _accept(known, name, top, name, value, rows)
    for row in rows:
        if row.env in environ:
            target = values[row.section] if row.section else top
            target[row.key] = _coerce(row, environ[row.env], from_env=True)
    base = chosen.parent if chosen is not None else Path()
    named = {row.name: (values[row.section] if row.section else top).get(row.key, row.default) for row in rows}
    for row in rows:
        check: Callable[[Any], str | None] | None = CHECKS.get(row.name)
        _refuse(row, named[row.name], check(named[row.name]) if check else None)
    context = Context(named, base)
    for row in rows:
        context_check = CONTEXT_CHECKS.get(row.name)
        _refuse(row, named[row.name], context_check(named[row.name], context) if context_check else None)
    hints = get_type_hints(Config)
    built = {section: hints[section](**fields) for section, fields in values.items()}
    return Config(**built, **top, base_dir=base)


def _refuse(row: SettingInfo, value: Any, problem: str | None) -> None:
    if problem:
        # A secret is never repeated back: the message goes to terminals and logs.
        raise ConfigError(row.name, problem if row.secret else f"{problem} (got {value!r})")


def _accept(known: set[str], name: str, target: dict[str, Any], key: str, value: Any,
            rows: list[SettingInfo]) -> None:
    if name not in known:
        raise ConfigError(name, "is not a setting; see config.example.toml for every key")
    row = next(r for r in rows if r.name == name)
    if row.secret:
        raise ConfigError(name, f"is a secret and is read from the environment only: set {row.env}")
    target[key] = _coerce(row, value, from_env=False)
