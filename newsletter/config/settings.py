"""Settings: declared once (`sections.py`: name, default, help), read from one TOML file and the environment.

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
from newsletter.config.sections import (
    BouncesSettings,
    DatabaseSettings,
    DeliverySettings,
    DkimSettings,
    IngestSettings,
    LoggingSettings,
    NewsletterSettings,
    OutboxSettings,
    PrivacySettings,
    ReviewSettings,
    ScheduleSettings,
    SelectionSettings,
    SmtpSettings,
    SubscribersSettings,
    WebSettings,
    setting,
)
from newsletter.errors import ConfigError

__all__ = ["DEFAULT_FILE", "ENV_PREFIX", "BouncesSettings", "Config", "DatabaseSettings", "DeliverySettings",
           "DkimSettings", "IngestSettings", "LoggingSettings", "NewsletterSettings", "OutboxSettings",
           "PrivacySettings", "ReviewSettings", "ScheduleSettings", "SelectionSettings", "SettingInfo",
           "SmtpSettings", "SubscribersSettings", "WebSettings", "load", "setting", "settings"]

ENV_PREFIX = "NEWSLETTER_"
DEFAULT_FILE = "newsletter.toml"


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
