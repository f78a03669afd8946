"""Settings: defaults, the file, the environment, and messages that name the bad key."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.cli.app import App
from newsletter.config import settings as config
from newsletter.errors import ConfigError
from tests.conftest import REPO

EXAMPLE = REPO / "config.example.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "newsletter.toml"
    path.write_text(text)
    return path


def test_every_setting_is_documented_in_the_example_with_its_default() -> None:
    example = tomllib.loads(EXAMPLE.read_text())
    for row in config.settings():
        if row.secret:
            assert row.env in EXAMPLE.read_text(), f"{row.name}: say which variable carries the secret"
            continue
        section = example.get(row.section, {}) if row.section else example
        assert row.key in section, f"{row.name} is missing from config.example.toml"
        assert section[row.key] == row.default, f"{row.name}: example shows {section[row.key]!r}"


def test_every_documented_key_is_a_setting_with_a_comment_above_it() -> None:
    names = {row.name for row in config.settings()}
    section = ""
    previous = ""
    for line in EXAMPLE.read_text().splitlines():
        if header := re.match(r"^\[(\w+)\]$", line):
            section = header[1]
        elif key := re.match(r"^(\w+)\s*=", line):
            name = f"{section}.{key[1]}" if section else key[1]
            assert name in names, f"config.example.toml documents {name}, which is not a setting"
            assert previous.startswith("#"), f"{name} has no comment line above it"
        previous = line


def test_example_file_loads_to_the_defaults(tmp_path: Path) -> None:
    loaded = config.load(EXAMPLE, environ={})
    assert loaded.smtp == config.SmtpSettings()
    assert loaded.selection == config.SelectionSettings()
    assert loaded.base_dir == EXAMPLE.parent


def test_no_file_anywhere_gives_the_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    loaded = config.load(environ={})
    assert loaded == config.Config()


def test_the_file_is_found_through_newsletter_config(tmp_path: Path) -> None:
    path = write(tmp_path, "[smtp]\nport = 2500\n")
    assert config.load(environ={"NEWSLETTER_CONFIG": str(path)}).smtp.port == 2500


def test_newsletter_toml_in_the_working_directory_is_read(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, '[newsletter]\ntitle = "Here"\n')
    monkeypatch.chdir(tmp_path)
    assert config.load(environ={}).newsletter.title == "Here"


@pytest.mark.parametrize(
    ("variable", "value", "read"),
    [
        ("NEWSLETTER_SMTP_PORT", "2525", lambda c: c.smtp.port == 2525),
        ("NEWSLETTER_DATABASE_URL", "postgresql+psycopg://u@h/db",
         lambda c: c.database.url == "postgresql+psycopg://u@h/db"),
        ("NEWSLETTER_SMTP_RATE_PER_SECOND", "12.5", lambda c: c.smtp.rate_per_second == 12.5),
        ("NEWSLETTER_SCHEDULE_INGEST", "a.txt, https://x.org/feed",
         lambda c: c.schedule.ingest == ["a.txt", "https://x.org/feed"]),
        ("NEWSLETTER_TEMPLATES_DIR", "mine", lambda c: c.templates_dir == "mine"),
        ("NEWSLETTER_SMTP_PASSWORD", "s3cret", lambda c: c.smtp.password == "s3cret"),
    ],
    ids=["int", "string", "float", "list", "top-level", "secret"],
)
def test_environment_overrides_the_file(tmp_path: Path, variable: str, value: str, read: object) -> None:
    (tmp_path / "mine").mkdir()
    path = write(tmp_path, '[smtp]\nport = 26\nusername = "news"\n')
    loaded = config.load(path, environ={variable: value})
    assert callable(read)
    assert read(loaded)


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ("[smtp]\nport = 0\n", {}, "config: smtp.port must be 1..65535 (got 0)"),
        ('[smtp]\nport = "25"\n', {}, "config: smtp.port must be a whole number (got '25')"),
        ("", {"NEWSLETTER_SMTP_PORT": "lots"}, "config: smtp.port must be a whole number (got 'lots')"),
        ('[smtp]\nsecurity = "ssl"\n', {}, "config: smtp.security must be one of 'none', 'starttls', 'tls'"),
        ('[smtp]\nprot = 25\n', {}, "config: smtp.prot is not a setting"),
        ('[smtp]\npassword = "x"\n', {}, "set NEWSLETTER_SMTP_PASSWORD"),
        ('[schedule]\ntimezone = "Mars/Base"\n', {}, "config: schedule.timezone must be an IANA time zone"),
        ('[schedule]\ncron = "every monday"\n', {}, "config: schedule.cron is not a valid crontab line: a"),
        ('[newsletter]\nsubject = "{name}"\n', {}, "config: newsletter.subject may use only"),
        ('[newsletter]\nsubject = "{first_title}"\n', {},
         "config: newsletter.subject may use only {title}, {date}, {week}, {first} and {count}, not {first_title}"),
        ('[newsletter]\nfrom_address = "me"\n', {}, "config: newsletter.from_address must be a plain ASCII email"),
        ('[newsletter]\ntitle = "a\\nBcc: x@y.org"\n', {}, "config: newsletter.title must be one line"),
        ('[web]\nbase_url = "news.example.org"\n', {}, "config: web.base_url must be an http(s) URL"),
        ('[database]\nurl = "mysql://x"\n', {}, "config: database.url must be sqlite:///FILE"),
        ("[smtp\n", {}, "is not valid TOML"),
    ],
    ids=["range", "type", "env-type", "choice", "unknown-key", "secret-in-file", "timezone", "cron",
         "subject-field", "subject-misspelt-first", "address", "header-injection", "base-url", "database",
         "toml-syntax"],
)
def test_a_bad_value_stops_with_a_message_naming_the_key(tmp_path: Path, text: str,
                                                         env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config.load(write(tmp_path, text), environ=env)
    assert message in str(caught.value)


def test_an_explicit_config_file_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        config.load(tmp_path / "missing.toml", environ={})


def test_relative_paths_are_taken_from_the_config_files_folder(tmp_path: Path) -> None:
    path = write(tmp_path, '[database]\nurl = "sqlite:///data/news.db"\n[outbox]\ndir = "mail"\n')
    loaded = config.load(path, environ={})
    assert loaded.database_url == f"sqlite:///{tmp_path / 'data' / 'news.db'}"
    assert loaded.path(loaded.outbox.dir) == tmp_path / "mail"


def test_absolute_and_memory_sqlite_urls_are_left_alone(tmp_path: Path) -> None:
    assert config.load(write(tmp_path, '[database]\nurl = "sqlite:////srv/n.db"\n'),
                       environ={}).database_url == "sqlite:////srv/n.db"
    assert config.load(write(tmp_path, '[database]\nurl = "sqlite:///:memory:"\n'),
                       environ={}).database_url == "sqlite:///:memory:"


# A value each setting must refuse, with any other settings it needs to be read at all (the DKIM key
# file is only read when signing is on). Every declared setting is here: a new one needs its bad value.
BAD: dict[str, tuple[object, dict[str, dict[str, object]]]] = {
    "templates_dir": ("no-such-folder", {}),
    "newsletter.title": ("", {}),
    "newsletter.from_address": ("jö@example.org", {}),  # the composer writes plain ASCII addresses only
    "newsletter.from_name": ("Weekly\nLessons", {}),
    "newsletter.reply_to": ("replies", {}),
    "newsletter.list_id": ("weekly-.example.org", {}),  # a label may not end in a hyphen
    "newsletter.postal_address": (" ", {}),
    "newsletter.subject": ("{first.__class__}", {}),  # the new fields are names only, like the old
    "database.url": ("mysql://db/news", {}),
    "selection.max_excerpts": (0, {}),
    "selection.max_words": (0, {}),
    "selection.per_day": (0, {}),
    "selection.per_source": (0, {}),
    "delivery.transport": ("pigeon", {}),
    "delivery.give_up_after": (0, {}),
    "delivery.drain_seconds": (0, {}),
    "delivery.lease_seconds": (5, {}),
    "delivery.batch_size": (0, {}),
    "delivery.retry_seconds": (0.0, {}),
    "delivery.linger_seconds": (-1.0, {}),
    "delivery.refusals_in_a_row": (0, {}),
    "delivery.database_patience": (0, {}),
    "delivery.pause_window": (0, {}),
    "delivery.pause_on_failure_rate": (1.5, {}),
    "review.mode": ("whenever", {}),
    "review.freeze": ("monday at five", {}),
    "review.reviewers": (["editor"], {}),
    "review.link_hours": (0, {}),
    "outbox.dir": ("", {}),
    "smtp.host": ("", {}),
    "smtp.port": (0, {}),
    "smtp.security": ("ssl", {}),
    "smtp.username": ("news\r\nRSET", {}),
    "smtp.password": ("s3cret", {}),  # with no smtp.username, nobody would ever send it
    "smtp.connections": (0, {}),
    "smtp.rate_per_second": (-1.0, {}),
    "smtp.timeout": (0.0, {}),
    "web.host": ("", {}),
    "web.port": (70_000, {}),
    "web.base_url": ("news.example.org", {}),
    "web.signups_per_client": (0, {}),
    "web.signups_per_address": (0, {}),
    "web.signups_per_domain": (0, {}),
    "web.form_minutes": (1, {}),
    "web.trusted_proxies": (["*"], {}),
    "web.allowed_origins": (["https://www.example.org/sign-up"], {}),
    "web.proof_of_work": ("often", {}),
    "web.header_timeout": (0, {}),
    "web.body_timeout": (0, {}),
    "web.max_connections": (0, {}),
    "newsletter.language": ("xx", {}),
    "schedule.cron": ("every monday", {}),
    "schedule.timezone": ("Mars/Base", {}),
    "schedule.ingest": ([""], {}),
    "schedule.catch_up_hours": (0, {}),
    "schedule.retry_minutes": (0, {}),
    "ingest.categories": (["Daily Page", " "], {}),
    "ingest.deadline_seconds": (0, {}),
    "ingest.language": ("klingon-xx", {}),
    "ingest.patterns_file": ("no-such-patterns.toml", {}),
    "subscribers.pending_days": (0, {}),
    "subscribers.dns_checks": ("sometimes", {}),
    "subscribers.smtputf8": ("perhaps", {}),
    "subscribers.welcome": ("first", {}),
    "subscribers.resubscribe_days": (0, {}),
    "privacy.key_file": ("", {}),
    "privacy.key": ("nlk1.too-short", {}),
    "dkim.domain": ("news example org", {}),
    "dkim.selector": ("not a selector", {}),
    "dkim.key_file": ("dkim.pem", {"dkim": {"domain": "news.example.org", "selector": "s1"}}),
    "logging.format": ("xml", {}),
    "logging.level": ("loud", {}),
    "bounces.domain": ("bounces example org", {}),
    "bounces.local_part": ("bounces+x", {}),  # the + separates the token
    "bounces.unsubscribe_local_part": ("bounces", {}),  # the same as local_part: ambiguous
    "bounces.token_days": (0, {}),
    "bounces.soft_limit": (0, {}),
    "bounces.soft_days": (0, {}),
    "bounces.listen_host": ("", {}),
    "bounces.listen_port": (70_000, {}),
    "bounces.protocol": ("pop3", {}),
    "bounces.max_message_bytes": (100, {}),
    "bounces.per_minute": (0, {}),
    "bounces.spool_dir": ("", {}),
    "bounces.imap_host": ("mail host", {}),
    "bounces.imap_port": (0, {}),
    "bounces.imap_security": ("ssl", {}),
    "bounces.imap_username": ("news\r\nLOGOUT", {}),
    "bounces.imap_password": ("s3cret", {}),  # with no imap_username it could never be used
    "bounces.imap_folder": ('IN"BOX', {}),
    "bounces.imap_done_folder": ("INBOX", {}),  # the polled folder itself: mail would be read again
    "bounces.imap_minutes": (0, {}),
}


def test_every_declared_setting_has_a_bad_value_in_the_walk_below() -> None:
    assert set(BAD) == {row.name for row in config.settings()}


@pytest.mark.parametrize("row", config.settings(), ids=lambda row: row.name)
def test_every_setting_stops_the_load_naming_itself_when_its_value_is_bad(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, row: config.SettingInfo) -> None:
    value, needs = BAD[row.name]
    (tmp_path / "dkim.pem").write_text("-----BEGIN RSA PRIVATE KEY-----\nnot a key\n-----END RSA PRIVATE KEY-----\n")
    sections: dict[str, dict[str, object]] = {name: dict(items) for name, items in needs.items()}
    if row.secret:
        monkeypatch.setenv(row.env, str(value))  # secrets come from the environment only
    elif row.section:
        sections.setdefault(row.section, {})[row.key] = value
    lines = [] if row.section or row.secret else [f"{row.key} = {_toml(value)}"]
    for section, items in sections.items():
        lines += [f"[{section}]", *(f"{key} = {_toml(item)}" for key, item in items.items())]
    path = write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(ConfigError) as caught:
        App(path).config  # noqa: B018  (what every command loads first)
    assert caught.value.key == row.name
    if row.secret:
        assert str(value) not in str(caught.value)


def _toml(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") + '"'
    return str(value)


@pytest.mark.parametrize(("name", "source", "problem"), [
    ("email/confirm.txt", "Confirm: {{ confirm_url }\n", "line 1: unexpected '}'"),
    ("web/message.html", "{{ heading | shout }}\n", "line 1: No filter named 'shout'."),
], ids=["syntax", "unknown-filter"])
def test_a_template_that_does_not_compile_stops_the_load_naming_the_file(tmp_path: Path, name: str, source: str,
                                                                         problem: str) -> None:
    (tmp_path / "mine" / name).parent.mkdir(parents=True)
    (tmp_path / "mine" / name).write_text(source)
    with pytest.raises(ConfigError) as caught:
        App(write(tmp_path, 'templates_dir = "mine"\n')).config  # noqa: B018
    assert caught.value.key == "templates_dir"
    assert str(caught.value).startswith(f"config: templates_dir holds {name}, which does not compile: {problem}")


def test_an_unknown_language_tag_stops_the_command_with_one_line_naming_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, '[newsletter]\nlanguage = "klingon"\n')
    result = CliRunner().invoke(cli, ["--config", str(path), "status"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: config: newsletter.language is not a language tag Babel knows; use a BCP 47 tag such "
        "as en, he, ru or pt-BR (got 'klingon')"]
