"""Every setting Iolaus reads, declared once: name, environment variable, parser, default, help.

Each setting has a default (SQLite next to the working directory) so that Iolaus runs with no
configuration at all; operators override with ``IOLAUS_*`` variables or CLI options. The edges —
the CLI callback, the app factory, the worker — build one ``Settings`` with ``Settings.load`` and
pass it down; nothing below them reads the environment, so every entry point runs with the same
deadlines, rules and lexicon. A bad value fails there, naming the variable and what it expects,
instead of at the first request that needs it. ``tests/test_docs.py`` keeps the README's table in
step with ``SETTINGS``.

This module sits below the domain: it imports only from ``iolaus.model`` and ``iolaus.errors``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

from iolaus.errors import IolausError
from iolaus.model.cases import DEFAULT_DEADLINES, OTHER_DEADLINE
from iolaus.model.signals import Category

T = TypeVar("T")

KEY_BYTES = 32
MIN_WEBHOOK_SECRET = 16
REDACTED = "•••• (set)"
UNSET = "(unset)"


class ConfigError(IolausError, ValueError):
    """A setting holds a value Iolaus cannot use; the message names the variable and what it
    expects, and shows the value only when it is not a secret."""

    exit_code = 2


class Origin(StrEnum):
    """Where a setting's effective value came from (``iolaus config show``)."""

    DEFAULT = "default"
    ENVIRONMENT = "environment"
    OPTION = "option"


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One setting. ``parse`` turns the variable's text into the value or raises ``ValueError``
    saying what is expected; ``show`` writes a value back as the variable would hold it."""

    name: str
    env: str
    parse: Callable[[str], T]
    default: T
    help: str
    show: Callable[[T], str] = str
    secret: bool = False

    def read(self, text: str) -> T:
        try:
            return self.parse(text)
        except ValueError as exc:
            given = "(value hidden)" if self.secret else repr(text)
            raise ConfigError(f"{self.env}={given}: {exc}") from None

    def shown(self, value: T) -> str:
        """The value for people: a secret only says whether it is set."""
        if self.secret and value:
            return REDACTED
        return self.show(value) or UNSET


# -- value types and parsers ----------------------------------------------------------------------


@dataclass(frozen=True)
class Deadlines:
    """Time allowed for a decision, per category; ``other`` for the categories not named."""

    by_category: Mapping[Category, timedelta]
    other: timedelta


_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def _duration(text: str) -> timedelta:
    """``30m``, ``24h``, ``2d``: a positive whole number of minutes, hours or days."""
    text = text.strip()
    if len(text) < 2 or text[-1] not in _UNITS or not text[:-1].isdigit() or int(text[:-1]) < 1:
        raise ValueError(f"bad duration {text!r}: a positive whole number of m, h or d, e.g. 24h")
    return timedelta(**{_UNITS[text[-1]]: int(text[:-1])})


def _show_duration(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def _deadlines(text: str) -> Deadlines:
    known = ", ".join(c.value for c in Category)
    by_category, other = dict(DEFAULT_DEADLINES), OTHER_DEADLINE
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = (s.strip() for s in part.partition("="))
        if not sep:
            raise ValueError(
                f"expected category=duration pairs, e.g. csam=30m,other=48h; got {part!r}"
            )
        if name == "other":
            other = _duration(value)
        elif name in {c.value for c in Category}:
            by_category[Category(name)] = _duration(value)
        else:
            raise ValueError(f"unknown category {name!r}: expected one of {known} or other")
    return Deadlines(MappingProxyType(by_category), other)


def _show_deadlines(value: Deadlines) -> str:
    parts = [f"{c.value}={_show_duration(d)}" for c, d in value.by_category.items()]
    return ",".join([*parts, f"other={_show_duration(value.other)}"])


_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def _flag(text: str) -> bool:
    if text.lower() in _TRUE | _FALSE:
        return text.lower() in _TRUE
    raise ValueError("expected 1 or 0 (or true/false, yes/no, on/off)")


LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("console", "json")


def _choice(text: str, choices: tuple[str, ...]) -> str:
    if text not in choices:
        raise ValueError(f"expected one of {', '.join(choices)}")
    return text


def _show_flag(value: bool) -> str:
    return "1" if value else "0"


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 1:
        raise ValueError("expected a fraction in [0, 1), e.g. 0.25")
    return value


def _byte_count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise ValueError("expected a positive whole number of bytes, e.g. 104857600")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0 or value == float("inf"):
        raise ValueError("expected a positive number of seconds, e.g. 30")
    return value


def _show_float(value: float) -> str:
    return f"{value:g}"


def _rate(text: str) -> str:
    found = re.fullmatch(r"(\d+)/(\d+)", text)
    if not found or int(found.group(1)) < 1 or int(found.group(2)) < 1:
        raise ValueError("expected hits/seconds, e.g. 10/600")
    return text


def _items(text: str) -> list[str]:
    return [item for item in re.split(r"[\s,]+", text) if item]


def _hosts(text: str) -> tuple[str, ...]:
    return tuple(h.lower().rstrip(".") for h in _items(text))


def _paths(text: str) -> tuple[Path, ...]:
    return tuple(Path(p.strip()) for p in text.split(",") if p.strip())


def _show_items(values: tuple[object, ...]) -> str:
    return ",".join(str(v) for v in values)


def _optional_path(text: str) -> Path | None:
    return Path(text)


def _show_optional(value: object) -> str:
    return "" if value is None else str(value)


def _urls(text: str) -> tuple[str, ...]:
    """http(s) URLs; errors never repeat one, since webhook URLs often carry tokens."""
    urls = _items(text)
    for url in urls:
        parts = urlsplit(url)
        try:
            parts.port  # noqa: B018  (raises on a malformed port)
        except ValueError:
            raise ValueError("a URL has a bad port") from None
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("expected http(s)://host/… URLs, separated by spaces or commas")
    return tuple(urls)


def _webhook_secret(text: str) -> str:
    if len(text) < MIN_WEBHOOK_SECRET:
        raise ValueError(f"expected at least {MIN_WEBHOOK_SECRET} characters")
    return text


def base64_key(text: str) -> bytes:
    """A key written as standard or URL-safe base64 of ``KEY_BYTES`` bytes (padding optional).
    Also reads the key file, so the variable and the file take the same text."""
    text = text.strip().translate(str.maketrans("-_", "+/"))
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise ValueError(f"expected base64 of {KEY_BYTES} random bytes (openssl rand -base64 32)")
    return key


def _show_key(value: bytes | None) -> str:
    return "" if value is None else base64.b64encode(value).decode()


def _optional_text(text: str) -> str | None:
    return text


# -- the table ------------------------------------------------------------------------------------

DATABASE_URL = Setting(
    "database_url",
    "IOLAUS_DATABASE_URL",
    str,
    "sqlite:///iolaus.db",
    "Database. A bare path means an SQLite file; postgresql://user@host/db uses psycopg 3. "
    "The --db option overrides it.",
)
DATA_DIR = Setting(
    "data_dir",
    "IOLAUS_DATA_DIR",
    Path,
    Path("iolaus-data"),
    "Where Iolaus keeps files other than the database (secret.key).",
)
AUTO_MIGRATE = Setting(
    "auto_migrate",
    "IOLAUS_AUTO_MIGRATE",
    _flag,
    True,
    "Commands bring the schema to the current revision on start. Set 0 where migrations run "
    "explicitly with `iolaus db upgrade`; commands then refuse an out-of-date schema.",
    show=_show_flag,
)
CASE_DEADLINES = Setting(
    "case_deadlines",
    "IOLAUS_CASE_DEADLINES",
    _deadlines,
    Deadlines(MappingProxyType(dict(DEFAULT_DEADLINES)), OTHER_DEADLINE),
    "Time to a decision per category, e.g. csam=30m,ncii=12h,other=48h (m, h or d); "
    "categories not named keep their default.",
    show=_show_deadlines,
)
CASE_ESCALATE_BEFORE = Setting(
    "case_escalate_before",
    "IOLAUS_CASE_ESCALATE_BEFORE",
    _fraction,
    0.25,
    "A case escalates once this fraction of its deadline is left (CSAM: 15 minutes).",
    show=_show_float,
)
RULES_FILE = Setting[Path | None](
    "rules_file",
    "IOLAUS_RULES",
    _optional_path,
    None,
    "Rule file (TOML) replacing the built-in detection rules, for every detection: scan, "
    "import, worker. The --rules option overrides it.",
    show=_show_optional,
)
LEXICON_FILES = Setting[tuple[Path, ...]](
    "lexicon_files",
    "IOLAUS_LEXICON",
    _paths,
    (),
    "Extra term lists (CSV term,category,weight), comma-separated, added to the built-in "
    "lexicon for every detection; --lexicon adds more.",
    show=_show_items,
)
FETCH_ALLOWED_HOSTS = Setting[tuple[str, ...]](
    "fetch_allowed_hosts",
    "IOLAUS_FETCH_ALLOWED_HOSTS",
    _hosts,
    (),
    "Hosts the HTTP API may fetch ?url= from, comma-separated; an entry admits itself and its "
    "subdomains. Empty: no fetching.",
    show=_show_items,
)
MAX_FILE_SIZE = Setting(
    "max_file_size",
    "IOLAUS_MAX_REMOTE_FILE_SIZE",
    _byte_count,
    100 * 1024 * 1024,
    "Largest file the HTTP API fetches or accepts as an upload, in bytes; request bodies may "
    "be 1 MiB larger.",
)
FETCH_TIMEOUT = Setting(
    "fetch_timeout",
    "IOLAUS_FETCH_TIMEOUT",
    _seconds,
    30.0,
    "Seconds allowed for a whole remote fetch, connection to last byte.",
    show=_show_float,
)
REPORT_RATE_LIMIT = Setting(
    "report_rate_limit",
    "IOLAUS_REPORT_RATE_LIMIT",
    _rate,
    "10/600",
    "Report and appeal submissions allowed per address, as hits/seconds.",
)
REPORT_STATUS_RATE_LIMIT = Setting(
    "report_status_rate_limit",
    "IOLAUS_REPORT_STATUS_RATE_LIMIT",
    _rate,
    "60/60",
    "Report status lookups allowed per address, as hits/seconds.",
)
CSRF_KEY = Setting[str | None](
    "csrf_key",
    "IOLAUS_CSRF_KEY",
    _optional_text,
    None,
    "Key signing the public forms' CSRF tokens. Set it when several processes serve the "
    "forms; unset, each process signs with its own random key.",
    show=_show_optional,
    secret=True,
)
COOKIE_SECURE = Setting(
    "cookie_secure",
    "IOLAUS_COOKIE_SECURE",
    _flag,
    False,
    "Mark console cookies Secure even over plain HTTP: set 1 behind a TLS-terminating proxy.",
    show=_show_flag,
)
SECRET_KEY = Setting[bytes | None](
    "secret_key",
    "IOLAUS_SECRET_KEY",
    base64_key,
    None,
    "Key that encrypts exchange credentials: base64 of 32 random bytes. Unset, "
    "<data_dir>/secret.key is created on first need with mode 0600.",
    show=_show_key,
    secret=True,
)
WEBHOOK_URLS = Setting[tuple[str, ...]](
    "webhook_urls",
    "IOLAUS_WEBHOOK_URL",
    _urls,
    (),
    "Where decisions' actions are delivered as signed webhooks: one URL or several, separated "
    "by spaces or commas. Hidden by `config show`: such URLs often carry tokens.",
    show=_show_items,
    secret=True,
)
WEBHOOK_SECRET = Setting[str | None](
    "webhook_secret",
    "IOLAUS_WEBHOOK_SECRET",
    _webhook_secret,
    None,
    f"Secret signing the webhooks, shared with the receivers (at least {MIN_WEBHOOK_SECRET} "
    "characters).",
    show=_show_optional,
    secret=True,
)
LOG_LEVEL = Setting(
    "log_level",
    "IOLAUS_LOG_LEVEL",
    lambda text: _choice(text.lower(), LOG_LEVELS),
    "info",
    "Least severe log events written to stderr by `iolaus serve` and `iolaus worker`: "
    "debug, info, warning or error.",
)
LOG_FORMAT = Setting(
    "log_format",
    "IOLAUS_LOG_FORMAT",
    lambda text: _choice(text.lower(), LOG_FORMATS),
    "console",
    "`json` for one JSON object per log line (for log shippers), `console` for key=value lines.",
)

SETTINGS: tuple[Setting[Any], ...] = (
    DATABASE_URL,
    DATA_DIR,
    AUTO_MIGRATE,
    CASE_DEADLINES,
    CASE_ESCALATE_BEFORE,
    RULES_FILE,
    LEXICON_FILES,
    FETCH_ALLOWED_HOSTS,
    MAX_FILE_SIZE,
    FETCH_TIMEOUT,
    REPORT_RATE_LIMIT,
    REPORT_STATUS_RATE_LIMIT,
    CSRF_KEY,
    COOKIE_SECURE,
    SECRET_KEY,
    WEBHOOK_URLS,
    WEBHOOK_SECRET,
    LOG_LEVEL,
    LOG_FORMAT,
)
"""Every setting, in the order ``iolaus config show`` and the README list them."""


@dataclass(frozen=True, repr=False)
class Settings:
    """The effective settings of one process, built once at the edge and passed down.

    Fields are the table's names, with its defaults; ``tests/test_config.py`` checks that the
    two agree. Constructing ``Settings(...)`` directly (tests) skips parsing: pass typed values.
    """

    database_url: str = DATABASE_URL.default
    data_dir: Path = DATA_DIR.default
    auto_migrate: bool = AUTO_MIGRATE.default
    case_deadlines: Deadlines = CASE_DEADLINES.default
    case_escalate_before: float = CASE_ESCALATE_BEFORE.default
    rules_file: Path | None = RULES_FILE.default
    lexicon_files: tuple[Path, ...] = LEXICON_FILES.default
    fetch_allowed_hosts: tuple[str, ...] = FETCH_ALLOWED_HOSTS.default
    """An entry admits itself and its subdomains. Addresses in private, loopback or link-local
    ranges are reachable only through an entry naming that very host (or IP address)."""
    max_file_size: int = MAX_FILE_SIZE.default
    fetch_timeout: float = FETCH_TIMEOUT.default
    report_rate_limit: str = REPORT_RATE_LIMIT.default
    report_status_rate_limit: str = REPORT_STATUS_RATE_LIMIT.default
    csrf_key: str | None = CSRF_KEY.default
    cookie_secure: bool = COOKIE_SECURE.default
    secret_key: bytes | None = SECRET_KEY.default
    webhook_urls: tuple[str, ...] = WEBHOOK_URLS.default
    webhook_secret: str | None = WEBHOOK_SECRET.default
    log_level: str = LOG_LEVEL.default
    log_format: str = LOG_FORMAT.default
    origins: Mapping[str, Origin] = field(default_factory=lambda: MappingProxyType({}))
    """Where each value came from; a setting not listed holds its default."""

    @classmethod
    def load(cls, environ: Mapping[str, str], **overrides: Any) -> Settings:
        """Settings from ``IOLAUS_*`` variables in ``environ``; ``overrides`` (CLI options, as
        typed values; ``None`` = not given) win. An empty variable counts as unset. Raises
        ``ConfigError`` on the first bad value."""
        names = {s.name for s in SETTINGS}
        if unknown := set(overrides) - names:
            raise TypeError(f"not settings: {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        origins: dict[str, Origin] = {}
        for setting in SETTINGS:
            text = environ.get(setting.env, "").strip()
            if overrides.get(setting.name) is not None:
                values[setting.name], origins[setting.name] = overrides[setting.name], Origin.OPTION
            elif text:
                values[setting.name] = setting.read(text)
                origins[setting.name] = Origin.ENVIRONMENT
        return cls(**values, origins=MappingProxyType(origins))

    def value(self, setting: Setting[T]) -> T:
        return getattr(self, setting.name)

    def origin(self, setting: Setting[Any]) -> Origin:
        return self.origins.get(setting.name, Origin.DEFAULT)

    def __repr__(self) -> str:
        shown = ", ".join(f"{s.name}={s.shown(self.value(s))}" for s in SETTINGS)
        return f"Settings({shown})"


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """``IOLAUS_*`` variables that are no setting: most often a typo, silently ignored else."""
    known = {s.env for s in SETTINGS}
    return sorted(name for name in environ if name.startswith("IOLAUS_") and name not in known)
