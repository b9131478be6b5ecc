"""Configuration: ``config.toml`` validated once into typed, frozen settings.

Every section is a small model with named defaults. Unknown keys, wrong types and
missing values stop the program with one line naming the file, the key and what was
expected (``ConfigError``, exit status 2). Secrets are never in the file: the file names
the environment variable that holds each one (``*_env`` keys). ``load_settings`` reads
every one of them once, at start, into ``Settings.secrets`` (``Secrets``); nothing reads
the environment for a secret later. A secret that is needed but not set is a
``ConfigError`` naming the key and the variable, raised where it is needed (``collect``
needs no SMTP password).

Relative paths (SQLite files, feed files, Maildirs, key files) are resolved against the
directory of the configuration file, so a checkout runs from anywhere.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from pipeline.errors import ConfigError

DEFAULT_CONFIG = "config.toml"
CONFIG_ENV = "RUNDBRIEF_CONFIG"

FeedKind = Literal["article", "event_report", "press_release"]
# Transports that are no HTTP provider.
LOCAL_TRANSPORTS = ("smtp", "maildir")
# The HTTP providers' tables: kept as read, each validated by its provider's own settings
# (``pipeline.deliver.providers``; a test checks both name the same providers).
HTTP_PROVIDERS = ("postmark", "mailgun", "sendgrid", "brevo")
# [bounces] keys that moved to their provider's table: old key -> new key
MOVED = {
    "bounces.postmark_webhook_user_env": "postmark.webhook_user_env",
    "bounces.postmark_webhook_password_env": "postmark.webhook_password_env",
    "bounces.mailgun_signing_key_env": "mailgun.webhook_signing_key_env",
}


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Organisation(Section):
    name: str
    website: str
    postal_address: str
    imprint_url: str
    privacy_url: str = ""
    logo_url: str = ""
    language: Literal["de", "en"] = "de"
    time_zone: str = "Europe/Berlin"

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r} (expected e.g. 'Europe/Berlin')"
            ) from exc
        return value

    @property
    def tz(self) -> tzinfo:
        return ZoneInfo(self.time_zone)


class Storage(Section):
    url: str = "sqlite:///var/rundbrief.db"
    # How long SQLite waits for another process's lock before the command fails.
    busy_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)


class Feed(Section):
    name: str = Field(min_length=1)
    url: str = Field(min_length=1)
    kind: FeedKind = "article"
    enabled: bool = True
    language: str = ""


class Collect(Section):
    timeout: float = Field(default=20.0, gt=0)
    max_bytes: int = Field(default=10_000_000, gt=0)
    backfill_days: int = Field(default=14, ge=0)
    concurrency: int = Field(default=8, ge=1, le=64)
    failures_before_flag: int = Field(default=5, ge=1)
    summary_length: int = Field(default=320, ge=40)


class Compose(Section):
    max_items: int = Field(default=12, ge=1)
    newsletter_lists: list[str] = ["members"]
    press_lists: list[str] = ["press"]
    # Placeholders: {organisation} {week} {year} {date} {lead_title}. The newsletter
    # subject in the organisation's language; empty: the locale's (mail.subject_pattern).
    subject_pattern: str = ""
    # The pattern per language (e.g. en = "..."); a language without one uses
    # subject_pattern if it is the organisation's language, else its locale's.
    subject_patterns: dict[Literal["de", "en"], str] = {}
    max_html_bytes: int = Field(default=100_000, gt=0)
    on_oversize: Literal["error", "cut"] = "error"
    # Languages every mailing is rendered in; empty: the organisation's language only.
    languages: list[Literal["de", "en"]] = []
    # A folder whose templates override the bundled ones (same file names); empty: none.
    templates_dir: str = ""

    @field_validator("subject_pattern")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        return _check_subject_pattern(value)

    @field_validator("subject_patterns")
    @classmethod
    def _known_placeholders_each(cls, value: dict[str, str]) -> dict[str, str]:
        for pattern in value.values():
            _check_subject_pattern(pattern)
        return value


def _check_subject_pattern(value: str) -> str:
    import string

    known = ("organisation", "week", "year", "date", "lead_title")
    for _, name, _, _ in string.Formatter().parse(value):  # ValueError on a lone brace
        if name is not None and name not in known:
            listed = ", ".join("{" + k + "}" for k in known)
            raise ValueError(f"unknown placeholder {{{name}}} (known: {listed})")
    return value


class Press(Section):
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""


class ListText(Section):
    """A list's title and footer reason in one language (``[lists.en]``)."""

    title: str = ""
    reason: str = ""


class MailingList(Section):
    """An audience; ``reason`` is printed in the footer: why the recipient gets the mail.

    ``title`` and ``reason`` are in the organisation's language; ``[lists.de]`` and
    ``[lists.en]`` give them in another language (``title_in``/``reason_in``).
    """

    name: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str
    reason: str
    double_opt_in: bool = True
    # "formal": "Sehr geehrte Frau Dr. Schulz"; "informal": "Liebe Anna"
    salutation: Literal["formal", "informal"] = "informal"
    de: ListText | None = None
    en: ListText | None = None

    def _text(self, language: str) -> ListText | None:
        found = getattr(self, language, None) if language in ("de", "en") else None
        return found if isinstance(found, ListText) else None

    def title_in(self, language: str) -> str:
        """The title in ``language``, else the title as configured (a name reads in any
        language)."""
        text = self._text(language)
        return (text.title if text else "") or self.title

    def reason_in(self, language: str, default_language: str) -> str:
        """The footer reason in ``language``; "" when none is configured for it (the
        configured ``reason`` counts for ``default_language``, the organisation's)."""
        text = self._text(language)
        if text and text.reason:
            return text.reason
        return self.reason if language == default_language else ""


class Sender(Section):
    from_name: str
    from_address: str
    reply_to: str = ""
    # The domain of Message-ID and List-Id; defaults to the domain of from_address.
    domain: str = ""
    unsubscribe_mailto: str = ""
    feedback_id: str = ""
    editors: list[str] = []
    operator: str = ""

    @property
    def message_domain(self) -> str:
        return self.domain or self.from_address.rpartition("@")[2]


class Web(Section):
    base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # Names of environment variables, never the values themselves.
    secret_env: str = "RUNDBRIEF_SECRET"
    editor_user_env: str = "RUNDBRIEF_EDITOR_USER"
    editor_password_env: str = "RUNDBRIEF_EDITOR_PASSWORD"
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted (0: none).
    proxy_hops: int = Field(default=0, ge=0, le=5)

    @field_validator("base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return value.rstrip("/")


class Audience(Section):
    confirm_days: int = Field(default=7, ge=1)
    consent_version: str = "2026-01"
    consent_text: str = (
        "Ich möchte den Newsletter erhalten und kann mich jederzeit mit einem Klick abmelden."
    )
    signups_per_ip_per_hour: int = Field(default=5, ge=1)


class Smtp(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=25, ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] = "none"
    username: str = ""
    password_env: str = "RUNDBRIEF_SMTP_PASSWORD"
    timeout: float = Field(default=30.0, gt=0)
    connections: int = Field(default=4, ge=1, le=64)


class Dkim(Section):
    enabled: bool = False
    selector: str = ""
    domain: str = ""
    key_file: str = ""
    algorithm: Literal["rsa-sha256", "ed25519-sha256"] = "rsa-sha256"


class Delivery(Section):
    transport: str = "maildir"
    maildir: str = "var/outbox"
    batch_size: int = Field(default=200, ge=1, le=10_000)
    per_second: float = Field(default=20.0, gt=0)
    per_hour: int = Field(default=0, ge=0)  # 0: no hourly limit
    max_attempts: int = Field(default=5, ge=1)
    retry_base_seconds: float = Field(default=60.0, gt=0)
    max_retry_hours: float = Field(default=48.0, gt=0)
    # Pause after this many sends in a row (one provider request or SMTP chunk each) in
    # which every recipient was refused permanently: then the sending is broken, not the
    # addresses, and those deliveries are put back. Single refusals never pause.
    pause_after_failures: int = Field(default=3, ge=1)
    # A mailing paused by a fault is probed again by the daemon after this long (0: only
    # by hand, `rundbrief send ID`), with probe_size deliveries; the wait doubles per
    # failed probe, up to an hour.
    resume_after_seconds: float = Field(default=300.0, ge=0)
    probe_size: int = Field(default=5, ge=1, le=1000)
    # A delivery claimed by a worker that vanished is claimed again after this long
    # (at once when that worker ran on this machine and its process is gone).
    lease_seconds: float = Field(default=300.0, gt=0)
    # After a request whose answer never came (it may have been accepted), wait this long
    # before asking the provider whether it has the message, or, where it cannot tell,
    # before sending again (then counted as a possible duplicate).
    unknown_wait_seconds: float = Field(default=600.0, ge=0)
    # VERP return path "bounces+TOKEN@domain" when set, else from_address
    bounce_domain: str = ""

    @field_validator("transport")
    @classmethod
    def _known_transport(cls, value: str) -> str:
        known = (*LOCAL_TRANSPORTS, *HTTP_PROVIDERS)
        if value not in known:
            listed = ", ".join(repr(k) for k in known)
            raise ValueError(f"expected one of {listed}")
        return value


class Bounces(Section):
    # "maildir:PATH", "mbox:PATH" or "imaps://user@host/INBOX"; empty: none configured
    source: str = ""
    password_env: str = "RUNDBRIEF_BOUNCE_PASSWORD"
    soft_bounces_before_suppress: int = Field(default=5, ge=1)


class Schedule(Section):
    collect_every_minutes: int = Field(default=30, ge=1)
    # Cron expressions (minute hour day month day_of_week) in the organisation's time zone.
    compose_newsletter: str = "0 14 * * thu"
    send_newsletter: str = "0 10 * * fri"
    auto_approve: bool = False
    bounces_every_minutes: int = Field(default=15, ge=1)
    misfire_grace_seconds: int = Field(default=3600, ge=1)
    max_send_delay_minutes: int = Field(default=120, ge=0)
    period: Literal["iso_week", "month"] = "iso_week"
    notify_failed_deliveries: int = Field(default=20, ge=1)
    # A job that failed because the store did (locked, server down) runs again after
    # this long, doubling per failure in a row (up to 15 minutes).
    store_retry_seconds: float = Field(default=30.0, gt=0)

    @field_validator("compose_newsletter", "send_newsletter")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        # APScheduler checks each field's range; it is imported here, not at the top,
        # because it is heavy and most commands never need a trigger.
        from apscheduler.triggers.cron import CronTrigger

        fields = cron_fields(value)
        try:
            CronTrigger(**fields, timezone=ZoneInfo("UTC"))
        except ValueError as exc:
            raise ValueError(f"invalid cron expression {value!r}: {exc}") from exc
        return value


_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DAY_NUMBERS = {name: number for number, name in enumerate(_DAY_NAMES)}


def cron_fields(expr: str) -> dict[str, str]:
    """Split a five-field cron expression into APScheduler's ``CronTrigger`` fields.

    The day-of-week numbers follow cron (0 and 7 are Sunday, 1 is Monday), not
    APScheduler 3's own numbering (0 is Monday), so ``0 10 * * 5`` means Friday as
    everywhere else; names (``fri``, ``mon-fri``) work as well. ``ValueError`` says
    what is wrong; the schedule builds its triggers from these fields.
    """
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError("expected five cron fields (minute hour day month day-of-week)")
    minute, hour, day, month, dow = fields
    return {
        "minute": minute,
        "hour": hour,
        "day": day,
        "month": month,
        "day_of_week": _cron_days(dow, expr),
    }


def _day_number(token: str, expr: str) -> int:
    token = token.strip().lower()
    if token in _DAY_NUMBERS:
        return _DAY_NUMBERS[token]
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token) % 7
    raise ValueError(f"cron {expr!r}: day of week {token!r} is not 0-7 or mon…sun")


def _cron_days(field: str, expr: str) -> str:
    """Translate a cron day-of-week field into APScheduler day names (Sunday = 0 or 7)."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            if not step_text.isdigit() or int(step_text) < 1:
                raise ValueError(f"cron {expr!r}: bad step {step_text!r} in day of week")
            step = int(step_text)
        if part == "*":
            first, last = 0, 6
        elif "-" in part:
            low, high = part.split("-", 1)
            first = _day_number(low, expr)
            last = 7 if high.strip() == "7" else _day_number(high, expr)
            if last < first:  # "fri-mon" wraps over the weekend
                last += 7
        else:
            first = last = _day_number(part, expr)
        days.update(day % 7 for day in range(first, last + 1, step))
    # APScheduler orders weekdays from Monday; a sorted list of names is unambiguous.
    return ",".join(_DAY_NAMES[d] for d in sorted(days, key=lambda d: (d - 1) % 7))


@dataclass(frozen=True)
class Secrets:
    """Every secret the configuration names, read from the environment once.

    Looked up by the configuration key that names the variable (``"web.secret_env"``,
    ``"smtp.password_env"``, ``"postmark.api_key_env"`` ...)."""

    source: str = "<defaults>"
    # configuration key -> name of the environment variable
    names: Mapping[str, str] = field(default_factory=dict)
    # configuration key -> value ("" when the variable is not set)
    values: Mapping[str, str] = field(default_factory=dict, repr=False)
    # ``RUNDBRIEF_*`` variables as they were at start: the defaults of keys a table may
    # leave out (a provider's ``webhook_user_env`` ...), validated where the table is.
    defaults: Mapping[str, str] = field(default_factory=dict, repr=False)

    def get(self, key: str) -> str:
        """The secret named by ``key``, or "" when its variable is not set."""
        self._known(key)
        return self.values.get(key, "")

    def has(self, key: str) -> bool:
        return bool(self.get(key))

    def require(self, key: str) -> str:
        """The secret named by ``key``; ``ConfigError`` naming key and variable if unset."""
        value = self.get(key)
        if not value:
            raise ConfigError(
                f"{self.source}: {key} names the environment variable {self.names[key]}, "
                "which is not set"
            )
        return value

    def named(self, key: str, env_name: str) -> str:
        """The secret of ``key`` whose variable is ``env_name``: configured under ``key``,
        or (a key left at its default) a ``RUNDBRIEF_*`` variable read at start."""
        if key in self.names:
            if self.names[key] != env_name:
                raise KeyError(f"{key} does not name the variable {env_name}")
            return self.require(key)
        value = self.defaults.get(env_name, "")
        if not value:
            raise ConfigError(
                f"{self.source}: {key} names the environment variable {env_name}, which is not set"
            )
        return value

    def _known(self, key: str) -> None:
        if key not in self.names:
            raise KeyError(f"no secret is configured under {key!r}")


def resolve_secrets(settings: Settings, environ: Mapping[str, str]) -> Secrets:
    """Read every variable an ``*_env`` key of ``settings`` names from ``environ``."""
    names: dict[str, str] = {}

    def walk(model: BaseModel, prefix: str) -> None:
        for key in type(model).model_fields:
            value = getattr(model, key)
            if isinstance(value, BaseModel):
                walk(value, f"{prefix}{key}.")
            elif isinstance(value, dict):
                walk_table(value, f"{prefix}{key}.")
            elif key.endswith("_env") and isinstance(value, str) and value:
                names[f"{prefix}{key}"] = value

    def walk_table(table: Mapping[str, Any], prefix: str) -> None:
        # The provider tables are kept as read (``providers.<name>``): their keys are
        # named ``<name>.<key>`` like every other section's.
        for name, inner in table.items():
            if not isinstance(inner, Mapping):
                continue
            for key, value in inner.items():
                if key.endswith("_env") and isinstance(value, str) and value:
                    names[f"{name}.{key}"] = value

    walk(settings, "")
    values = {key: environ.get(env, "") for key, env in names.items()}
    defaults = {env: value for env, value in environ.items() if env.startswith("RUNDBRIEF_")}
    return Secrets(source=settings.source, names=names, values=values, defaults=defaults)


class Settings(Section):
    organisation: Organisation
    storage: Storage = Storage()
    feeds: list[Feed] = []
    collect: Collect = Collect()
    compose: Compose = Compose()
    press: Press = Press()
    lists: list[MailingList] = []
    sender: Sender
    web: Web = Web()
    audience: Audience = Audience()
    delivery: Delivery = Delivery()
    smtp: Smtp = Smtp()
    # One ``[name]`` table per HTTP provider, as read: the provider validates its own
    # (``deliver.providers.provider_settings``; the CLI checks every one at start).
    providers: dict[str, dict[str, Any]] = {}
    dkim: Dkim = Dkim()
    bounces: Bounces = Bounces()
    schedule: Schedule = Schedule()

    # Where the file was read from; relative paths are resolved against its directory.
    source: str = "<defaults>"
    base_dir: str = "."
    _secrets: Secrets | None = PrivateAttr(default=None)

    @property
    def secrets(self) -> Secrets:
        """The secrets, read once: by ``load_settings`` at start; settings built otherwise
        (``settings_from_dict``) read them from the environment on first use."""
        if self._secrets is None:
            self._secrets = resolve_secrets(self, os.environ)
        return self._secrets

    def with_secrets(self, environ: Mapping[str, str]) -> Settings:
        """A copy whose secrets are read from ``environ`` now (a restart, in tests)."""
        copy = self.model_copy()
        copy._secrets = resolve_secrets(self, environ)
        return copy

    def path(self, value: str) -> Path:
        """Resolve a path from the configuration against the configuration's directory."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else Path(self.base_dir) / p

    def database_url(self) -> str:
        """The storage URL with a relative SQLite path made absolute."""
        url = self.storage.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and url != "sqlite:///:memory:":
            rest = url[len(prefix) :]
            if not rest.startswith(("/", "file:")):
                return prefix + str(self.path(rest).resolve())
        return url

    def secret(self, env_name: str, *, key: str) -> str:
        """The secret named by the configuration key ``key`` (whose variable is
        ``env_name``), from ``secrets``; ``ConfigError`` when it is not set."""
        return self.secrets.named(key, env_name)

    def list_named(self, name: str) -> MailingList:
        for mailing_list in self.lists:
            if mailing_list.name == name:
                return mailing_list
        known = ", ".join(m.name for m in self.lists) or "none"
        raise ConfigError(f"{self.source}: unknown list {name!r} (configured lists: {known})")

    def feed_named(self, name: str) -> Feed:
        for feed in self.feeds:
            if feed.name == name:
                return feed
        known = ", ".join(f.name for f in self.feeds) or "none"
        raise ConfigError(f"{self.source}: unknown feed {name!r} (configured feeds: {known})")


def resolve_config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--config`` wins, then ``$RUNDBRIEF_CONFIG``, then ``./config.toml``."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(CONFIG_ENV)
    return Path(env) if env else Path(DEFAULT_CONFIG)


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Read and validate a configuration file; raise ``ConfigError`` naming what is wrong."""
    file = resolve_config_path(path)
    try:
        raw = file.read_bytes()
    except FileNotFoundError as exc:
        raise ConfigError(f"{file}: configuration file not found") from exc
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read configuration: {exc.strerror}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{file}: not UTF-8 (byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: invalid TOML: {exc}") from exc
    settings = settings_from_dict(data, source=str(file), base_dir=str(file.resolve().parent))
    return settings.with_secrets(os.environ)


def settings_from_dict(data: dict[str, Any], *, source: str, base_dir: str) -> Settings:
    """Validate an already parsed configuration (tests build settings this way)."""
    for reserved in ("source", "base_dir", "providers"):
        if reserved in data:
            raise ConfigError(f"{source}: unknown key {reserved!r}")
    # each provider validates its own table (deliver.providers); the rest is this module's
    providers = {k: v for k, v in data.items() if k in HTTP_PROVIDERS}
    for name, table in providers.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{source}: {name}: expected a table [{name}], got {table!r}")
    rest = {k: v for k, v in data.items() if k not in HTTP_PROVIDERS}
    try:
        settings = Settings.model_validate(
            {**rest, "providers": providers, "source": source, "base_dir": base_dir}
        )
    except ValidationError as exc:
        raise ConfigError(_describe(exc, data, source)) from exc
    _check_consistency(settings)
    return settings


def _check_consistency(settings: Settings) -> None:
    src = settings.source
    names = [f.name for f in settings.feeds]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(
            f"{src}: [[feeds]] name {dupes[0]!r} is used twice (names must be unique)"
        )
    list_names = [m.name for m in settings.lists]
    dupes = sorted({n for n in list_names if list_names.count(n) > 1})
    if dupes:
        raise ConfigError(
            f"{src}: [[lists]] name {dupes[0]!r} is used twice (names must be unique)"
        )
    for key, wanted in (
        ("compose.newsletter_lists", settings.compose.newsletter_lists),
        ("compose.press_lists", settings.compose.press_lists),
    ):
        for name in wanted:
            if name not in list_names:
                known = ", ".join(list_names) or "none"
                raise ConfigError(
                    f"{src}: {key} names list {name!r}, which is not defined in [[lists]] "
                    f"(defined: {known})"
                )
    if "@" not in settings.sender.from_address:
        raise ConfigError(f"{src}: sender.from_address: expected an e-mail address")


def _describe(exc: ValidationError, data: dict[str, Any], source: str) -> str:
    """Turn pydantic's first error into one line: file, key, what was expected."""
    err = exc.errors()[0]
    loc = [p for p in err["loc"] if p not in ("source", "base_dir")]
    key = _format_loc(loc, data)
    kind = err["type"]
    if kind == "extra_forbidden" and key in MOVED:
        return f"{source}: unknown key {key} (moved: it is now {MOVED[key]})"
    if kind == "extra_forbidden":
        parent = _model_at(loc[:-1])
        hint = ""
        if parent is not None and isinstance(loc[-1], str):
            close = difflib.get_close_matches(loc[-1], list(parent.model_fields), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"{source}: unknown key {key}{hint}"
    if kind == "missing":
        return f"{source}: missing required key {key}"
    got = err.get("input")
    shown = "" if isinstance(got, dict | list) else f", got {got!r}"
    msg = err["msg"]
    msg = msg.removeprefix("Value error, ")
    return f"{source}: {key}: {_lower_first(msg)}{shown}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _format_loc(loc: list[Any], data: dict[str, Any]) -> str:
    out: list[str] = []
    node: Any = data
    for part in loc:
        if isinstance(part, int):
            label = ""
            if isinstance(node, list) and part < len(node) and isinstance(node[part], dict):
                name = node[part].get("name")
                label = f" ({name})" if name else ""
            out[-1] = f"{out[-1]}[{part + 1}]{label}" if out else f"[{part + 1}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
        else:
            out.append(str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return ".".join(out)


def _model_at(loc: list[Any]) -> type[BaseModel] | None:
    model: type[BaseModel] = Settings
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        annotation = field.annotation
        inner = getattr(annotation, "__args__", None)
        candidate = inner[0] if inner else annotation
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            model = candidate
        else:
            return None
    return model
