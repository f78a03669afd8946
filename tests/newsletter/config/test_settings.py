"""Settings: defaults, the file, the environment, and messages that name the bad key."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

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
    path = write(tmp_path, "[smtp]\nport = 26\n")
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
        ('[newsletter]\nfrom_address = "me"\n', {}, "config: newsletter.from_address must be an email"),
        ('[newsletter]\ntitle = "a\\nBcc: x@y.org"\n', {}, "config: newsletter.title must be one line"),
        ('[web]\nbase_url = "news.example.org"\n', {}, "config: web.base_url must be an http(s) URL"),
        ('[database]\nurl = "mysql://x"\n', {}, "config: database.url must be sqlite:///FILE"),
        ("[smtp\n", {}, "is not valid TOML"),
    ],
    ids=["range", "type", "env-type", "choice", "unknown-key", "secret-in-file", "timezone", "cron",
         "subject-field", "address", "header-injection", "base-url", "database", "toml-syntax"],
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
