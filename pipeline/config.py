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

from pipeline.errors import ConfigError, SegmentError
from pipeline.segments import NAME_RULE as SEGMENT_NAME_RULE
from pipeline.segments import is_name as is_segment_name
from pipeline.segments import parse as parse_segment

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
    """Who sends: printed in every footer, with the imprint the law asks for."""

    name: str = Field(description="Shown in the header and footer of every mail.")
    website: str = Field(description="The organisation's website.")
    postal_address: str = Field(
        description="Printed in every footer (German law asks for a postal address)."
    )
    imprint_url: str = Field(description="Link to the imprint (DDG §5) in every footer.")
    privacy_url: str = Field(default="", description="Link to the privacy notice.")
    logo_url: str = Field(
        default="", description="Logo in the mail header (on the organisation's own server)."
    )
    language: Literal["de", "en"] = Field(
        default="de", description="Default language of mail and pages, `de` or `en`."
    )
    time_zone: str = Field(
        default="Europe/Berlin",
        description="Every schedule and every displayed date uses this time zone.",
    )

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
    """The store: a SQLite file by default, PostgreSQL for several workers. It is created
    on first use and migrated in place when a release adds migrations."""

    url: str = Field(
        default="sqlite:///var/rundbrief.db",
        description="SQLAlchemy URL of the store; `postgresql+psycopg://user:pw@host/db` "
        "lets several workers share one outbox (messages show it without the password).",
    )
    busy_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="How long SQLite waits for another process's lock before the "
        "operation fails with one line.",
    )


class Feed(Section):
    """One ``[[feeds]]`` table per feed; ``name`` must be unique."""

    name: str = Field(
        min_length=1,
        description="Unique short name, used by `--feed`, in logs and in `rundbrief feeds`.",
    )
    url: str = Field(
        min_length=1,
        description="`http(s)://` URL, `file://` URL or a path (relative to the "
        "configuration file).",
    )
    kind: FeedKind = Field(
        default="article", description="`article`, `event_report` or `press_release`."
    )
    enabled: bool = Field(
        default=True, description="`false` keeps the feed and its items but stops fetching it."
    )
    language: str = Field(
        default="", description="Language of its items when the feed does not say (`de`, `en`)."
    )


class Collect(Section):
    """How feeds are fetched and turned into items."""

    timeout: float = Field(
        default=20.0,
        gt=0,
        description="Seconds for the whole fetch of one feed (connecting, redirects, "
        "headers and body together), enforced during reads.",
    )
    max_bytes: int = Field(
        default=10_000_000,
        gt=0,
        description="Largest feed body accepted, counted after gzip/deflate decoding.",
    )
    backfill_days: int = Field(
        default=14,
        ge=0,
        description="Entries older than this when first seen are stored as seen, never mailed.",
    )
    concurrency: int = Field(default=8, ge=1, le=64, description="Feeds fetched at the same time.")
    failures_before_flag: int = Field(
        default=5, ge=1, description="Consecutive failures after which a feed is flagged."
    )
    summary_length: int = Field(
        default=320,
        ge=40,
        description="Longest plain-text summary of an item, cut at a word.",
    )


class Compose(Section):
    """What goes into a mailing and how it is rendered."""

    max_items: int = Field(
        default=12, ge=1, description="Most items in one newsletter (the newest are kept)."
    )
    newsletter_lists: list[str] = Field(
        default=["members"], description="Lists a newsletter goes to (names from `[[lists]]`)."
    )
    press_lists: list[str] = Field(default=["press"], description="Lists a press release goes to.")
    subject_pattern: str = Field(
        default="",
        description="The newsletter subject in the organisation's language; placeholders "
        "`{organisation}`, `{week}`, `{year}` (ISO week and year), `{date}` "
        '("19. Juni 2026"), `{lead_title}` (the first item\'s title). Empty: the '
        'locale\'s pattern ("{organisation} · Newsletter KW {week}/{year}" in German, '
        '"{organisation} · Newsletter week {week}/{year}" style in English).',
    )
    subject_patterns: dict[Literal["de", "en"], str] = Field(
        default={},
        description='The subject pattern per language (`en = "…"`); a language without '
        "one uses `subject_pattern` if it is the organisation's language, else its "
        "locale's pattern.",
    )
    max_html_bytes: int = Field(
        default=100_000,
        gt=0,
        description="Largest HTML part allowed (Gmail clips at about 102 KB).",
    )
    on_oversize: Literal["error", "cut"] = Field(
        default="error",
        description="`error`: a bigger mail is refused, naming its size; `cut`: the last "
        'items are left out and a "more on our website" link is added.',
    )
    languages: list[Literal["de", "en"]] = Field(
        default=[],
        description="Languages every mailing is rendered in (`de`, `en`); empty: "
        "`organisation.language` only (subscribers of another language then get that "
        "version, greeting included).",
    )
    templates_dir: str = Field(
        default="",
        description="A folder whose files override the bundled templates of the same name "
        "(see [templates](templates.md)); empty: none.",
    )

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


# What a newsletter subject pattern may name (``pipeline.render.subject`` fills them).
SUBJECT_PLACEHOLDERS = ("organisation", "week", "year", "date", "lead_title")


def unknown_subject_placeholder(pattern: str) -> str | None:
    """Why ``pattern`` cannot be a subject ("unknown placeholder {x} (known: …)"), or
    None. The one check of configured and locale patterns alike; ``ValueError`` on a
    lone brace."""
    import string

    for _, name, _, _ in string.Formatter().parse(pattern):
        if name is not None and name not in SUBJECT_PLACEHOLDERS:
            listed = ", ".join("{" + k + "}" for k in SUBJECT_PLACEHOLDERS)
            return f"unknown placeholder {{{name}}} (known: {listed})"
    return None


def _check_subject_pattern(value: str) -> str:
    problem = unknown_subject_placeholder(value)
    if problem:
        raise ValueError(problem)
    return value


class Press(Section):
    """The press contact box of every press release and its press kit files."""

    contact_name: str = Field(
        default="",
        description="The press contact printed in every press release (the box is left "
        "out when all three contact keys are empty).",
    )
    contact_email: str = Field(default="", description="Their address (a `mailto:` link).")
    contact_phone: str = Field(default="", description="Their phone number (a `tel:` link).")
    files_dir: str = Field(
        default="var/press-files",
        description="Folder of the press kit files, kept by their SHA-256 checksum "
        "(relative to the configuration file).",
    )
    attach_below_bytes: int = Field(
        default=0,
        ge=0,
        description="Press kit files smaller than this are attached to the mail as well as "
        "linked, as long as the whole message stays under the transport's size limit "
        "(`0`: never attach, only links).",
    )
    max_file_bytes: int = Field(
        default=50_000_000,
        ge=1024,
        description="Largest file a press kit takes (the web app's upload form too).",
    )
    preview_width: int = Field(
        default=600,
        ge=100,
        le=2000,
        description="Width in pixels of the preview an image of a press kit gets for the mail.",
    )


class ListText(Section):
    """A list's title and footer reason in one language (``[lists.en]``)."""

    title: str = Field(default="", description="The list's title in this language.")
    reason: str = Field(default="", description="The footer reason in this language.")
    description: str = Field(
        default="", description="The sign-up and preferences pages' description in this language."
    )
    consent_text: str = Field(
        default="", description="The list's consent sentence in this language."
    )


class MailingList(Section):
    """An audience; ``reason`` is printed in the footer: why the recipient gets the mail.

    ``title`` and ``reason`` are in the organisation's language; ``[lists.de]`` and
    ``[lists.en]`` give them in another language (``title_in``/``reason_in``).
    """

    name: str = Field(
        min_length=1,
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="Unique short name (`a-z`, `0-9`, `-`, `_`) used by `--list`, in CSV "
        "`lists` columns, in `[compose]` and in tokens.",
    )
    title: str = Field(
        description="Shown to people: sign-up form, unsubscribe and preferences pages, "
        "confirmation mail (in the organisation's language)."
    )
    reason: str = Field(
        description="Printed in every mail's footer: why the recipient gets it (in the "
        "organisation's language)."
    )
    description: str = Field(
        default="",
        description="What the list brings and how often, shown on its sign-up form "
        "(`/signup/NAME`) and the preferences page (in the organisation's language).",
    )
    consent_text: str = Field(
        default="",
        description="The consent sentence next to the tick box of the list's sign-up form "
        "and on the preferences page; empty: `[audience] consent_text`.",
    )
    double_opt_in: bool = Field(
        default=True,
        description="`true`: people may sign up on `/signup` (double opt-in); `false`: "
        "filled by imports only (e.g. members).",
    )
    salutation: Literal["formal", "informal"] = Field(
        default="informal",
        description='`informal` ("Liebe Anna") or `formal` ("Sehr geehrte Frau Dr. Schulz").',
    )
    welcome: str = Field(
        default="",
        pattern=r"^([a-z0-9][a-z0-9_-]*)?$",
        description='The template of the welcome mail (`"welcome"`: the bundled one; '
        "another name: `NAME.mjml.j2` and `NAME.txt.j2` in `compose.templates_dir`), sent "
        "once per person after a confirmation or an import with `--welcome`; empty: none.",
    )
    de: ListText | None = Field(
        default=None,
        description="`[lists.de]`: `title` and `reason` in German, when the organisation "
        "writes in another language.",
    )
    en: ListText | None = Field(
        default=None,
        description="`[lists.en]`: `title` and `reason` in English (the English mail's "
        "footer and pages use them).",
    )

    def _text(self, language: str) -> ListText | None:
        found = getattr(self, language, None) if language in ("de", "en") else None
        return found if isinstance(found, ListText) else None

    def title_in(self, language: str) -> str:
        """The title in ``language``, else the title as configured (a name reads in any
        language)."""
        text = self._text(language)
        return (text.title if text else "") or self.title

    def description_in(self, language: str) -> str:
        """The description in ``language``, else the description as configured."""
        text = self._text(language)
        return (text.description if text else "") or self.description

    def consent_in(self, language: str, fallback: str) -> str:
        """The consent sentence in ``language``: ``[lists.LANG] consent_text``, else the
        list's ``consent_text``, else ``fallback`` (``[audience] consent_text``)."""
        text = self._text(language)
        return (text.consent_text if text else "") or self.consent_text or fallback

    def reason_in(self, language: str, default_language: str) -> str:
        """The footer reason in ``language``; "" when none is configured for it (the
        configured ``reason`` counts for ``default_language``, the organisation's)."""
        text = self._text(language)
        if text and text.reason:
            return text.reason
        return self.reason if language == default_language else ""


class Sender(Section):
    """The ``From`` of every mail and who hears about what."""

    from_name: str = Field(description="The display name in `From`.")
    from_address: str = Field(description="The address in `From`.")
    reply_to: str = Field(default="", description="`Reply-To` address; empty: none.")
    domain: str = Field(
        default="",
        description="The domain of `Message-ID` and `List-Id`; empty: the domain of "
        "`from_address`.",
    )
    unsubscribe_mailto: str = Field(
        default="",
        description="An address added to `List-Unsubscribe` as a `mailto:` link; empty: "
        "the https link only.",
    )
    feedback_id: str = Field(
        default="",
        description="Value of the `Feedback-ID` header (the complaint reports of Gmail's "
        "feedback loop are grouped by it); empty: no header.",
    )
    editors: list[str] = Field(
        default=[],
        description='Addresses that get the daemon\'s "draft ready" note with a test copy. '
        "Test copies go only to these, the acting account's own address and the addresses "
        "of active accounts.",
    )
    operator: str = Field(
        default="",
        description="Where operator notifications go (failing feeds, paused mailings, "
        "finished sends); empty: only recorded and logged.",
    )

    @property
    def message_domain(self) -> str:
        return self.domain or self.from_address.rpartition("@")[2]


class Web(Section):
    """The web app (``rundbrief serve``) and the public address every mail links to."""

    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The public address of the web app: every link in every mail "
        "(unsubscribe, preferences, archive) starts with it; https turns on `Secure` cookies.",
    )
    host: str = Field(default="127.0.0.1", description="Address `rundbrief serve` listens on.")
    port: int = Field(
        default=8000, ge=1, le=65535, description="Port `rundbrief serve` listens on."
    )
    # Names of environment variables, never the values themselves.
    secret_env: str = Field(
        default="RUNDBRIEF_SECRET",
        description="Variable holding the secret that signs sessions, unsubscribe links "
        "and VERP return paths (required by `serve`, `preview` and sending).",
    )
    editor_user_env: str = Field(
        default="RUNDBRIEF_EDITOR_USER",
        description="Before accounts: the variable of the shared login name. Set together "
        "with editor_password_env while the store has no account, it becomes the first "
        "admin; after that it is not read.",
    )
    editor_password_env: str = Field(
        default="RUNDBRIEF_EDITOR_PASSWORD",
        description="Before accounts: the variable of the shared password (see editor_user_env).",
    )
    proxy_hops: int = Field(
        default=0,
        ge=0,
        le=5,
        description="Reverse proxies in front of the app whose `X-Forwarded-For`/`-Proto` "
        "are trusted (0: forwarded headers are ignored).",
    )

    @field_validator("base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return value.rstrip("/")


class Accounts(Section):
    """Named accounts of the web app, the CLI and the API (``rundbrief users``)."""

    operator: str = Field(
        default="",
        description="E-mail address of the account the daemon acts as (`auto_approve`, "
        "scheduled sends); it needs the role approver or admin. Empty: the daemon acts "
        "as the built-in operator `daemon@localhost` with the role approver.",
    )
    require_totp_for_admins: bool = Field(
        default=False,
        description="Admins must log in to the web app with a second factor (TOTP): an "
        "admin without one enrolled cannot log in until `rundbrief users totp EMAIL`.",
    )
    min_password_length: int = Field(
        default=12, ge=8, le=128, description="Shortest password `users add`/`passwd` accept."
    )


class Api(Section):
    """The JSON API at `/api/v1/` (bearer tokens from `rundbrief users token`)."""

    requests_per_minute: int = Field(
        default=120,
        ge=1,
        le=100_000,
        description="Requests one API token may make per minute (a token bucket kept in "
        "the store, so every web worker counts the same requests); beyond it the API "
        "answers 429 with `Retry-After`.",
    )


class Audience(Section):
    """Sign-up, double opt-in and the consent evidence kept."""

    confirm_days: int = Field(default=7, ge=1, description="Days a confirmation link stays valid.")
    resend_confirmation_minutes: int = Field(
        default=60,
        ge=1,
        description="Minutes an admin waits before the confirmation mail of a pending "
        "sign-up may be sent again (`subscribers resend-confirmation`), counted from the "
        "last one.",
    )
    consent_version: str = Field(
        default="2026-01",
        description="Version of the consent text, stored with every sign-up as evidence "
        "(change it whenever the text changes).",
    )
    consent_text: str = Field(
        default="Ich möchte den Newsletter erhalten und kann mich jederzeit mit einem Klick "
        "abmelden.",
        description="The consent sentence the sign-up form shows next to its tick box.",
    )
    signups_per_ip_per_hour: int = Field(
        default=5,
        ge=1,
        description="Sign-ups accepted from one IP address per hour (then 429).",
    )


class Smtp(Section):
    """The ``smtp`` transport (see ``[delivery] transport``)."""

    host: str = Field(default="127.0.0.1", description="The SMTP server or relay.")
    port: int = Field(
        default=25, ge=1, le=65535, description="25, 587 (STARTTLS) or 465 (implicit TLS)."
    )
    security: Literal["none", "starttls", "tls"] = Field(
        default="none", description="`none`, `starttls` or `tls` (implicit TLS)."
    )
    username: str = Field(default="", description="AUTH user; empty: no AUTH.")
    password_env: str = Field(
        default="RUNDBRIEF_SMTP_PASSWORD",
        description="Variable holding the password (read only when `username` is set).",
    )
    timeout: float = Field(default=30.0, gt=0, description="Seconds per SMTP command.")
    connections: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Persistent connections, each worked by a thread.",
    )
    max_message_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=64 * 1024,
        description="Largest message the server takes when its EHLO names no `SIZE`; a "
        "`SIZE` it announces wins. Attachments of press kits keep messages below it.",
    )


class Dkim(Section):
    """DKIM signing of every message, when the relay does not sign for you."""

    enabled: bool = Field(default=False, description="Sign every message.")
    selector: str = Field(
        default="", description="The DKIM selector (`selector._domainkey.domain`)."
    )
    domain: str = Field(
        default="",
        description="The signing domain; empty: the domain of `[sender] from_address`.",
    )
    key_file: str = Field(
        default="",
        description="PEM RSA key, or the base64 Ed25519 seed (relative to the configuration file).",
    )
    algorithm: Literal["rsa-sha256", "ed25519-sha256"] = Field(
        default="rsa-sha256", description="`rsa-sha256` or `ed25519-sha256`."
    )


class Delivery(Section):
    """The outbox: which transport, how fast, how retries and pauses work."""

    transport: str = Field(
        default="maildir",
        description="`smtp`, `maildir`, `postmark`, `mailgun`, `sendgrid` or `brevo`.",
    )
    maildir: str = Field(
        default="var/outbox",
        description="The Maildir of the `maildir` transport (relative to the configuration file).",
    )
    batch_size: int = Field(
        default=200, ge=1, le=10_000, description="Deliveries claimed at a time."
    )
    per_second: float = Field(
        default=20.0,
        gt=0,
        description="Messages per second for this transport, shared by all threads and workers.",
    )
    per_hour: int = Field(default=0, ge=0, description="Messages per hour (0: no hourly limit).")
    max_attempts: int = Field(
        default=5,
        ge=1,
        description="Attempts before a transient refusal of a recipient becomes a failure.",
    )
    retry_base_seconds: float = Field(
        default=60.0,
        gt=0,
        description="First retry delay; doubles with each attempt, jittered.",
    )
    max_retry_hours: float = Field(
        default=48.0, gt=0, description="A delivery older than this is not retried again."
    )
    # Then the sending is broken, not the addresses, and those deliveries are put back.
    pause_after_failures: int = Field(
        default=3,
        ge=1,
        description="Sends in a row (a provider request or an SMTP chunk each) whose every "
        "recipient was refused permanently before the mailing pauses; single refusals and "
        "trouble at the server never pause.",
    )
    resume_after_seconds: float = Field(
        default=300.0,
        ge=0,
        description="When the daemon first tries a mailing paused by a fault again (the "
        "wait doubles per failed try, up to an hour); `0`: only `rundbrief send ID` "
        "resumes it.",
    )
    probe_size: int = Field(
        default=5, ge=1, le=1000, description="How many deliveries that first try sends."
    )
    lease_seconds: float = Field(
        default=300.0,
        gt=0,
        description="A sender's lease, renewed several times within it: a sender on "
        "another machine silent for longer is gone and its claimed deliveries are taken "
        "over (at once for a dead process on the same machine).",
    )
    unknown_wait_seconds: float = Field(
        default=600.0,
        ge=0,
        description="After a request that went unanswered: how long to wait before asking "
        "the provider whether it has the message, or (where it cannot tell) sending it "
        "again as a possible duplicate.",
    )
    bounce_domain: str = Field(
        default="",
        description="VERP return paths `bounces+TOKEN@bounce_domain` when set, else "
        "`[sender] from_address`.",
    )

    @field_validator("transport")
    @classmethod
    def _known_transport(cls, value: str) -> str:
        known = (*LOCAL_TRANSPORTS, *HTTP_PROVIDERS)
        if value not in known:
            listed = ", ".join(repr(k) for k in known)
            raise ValueError(f"expected one of {listed}")
        return value


class Bounces(Section):
    """Reading bounce mail and when soft bounces suppress."""

    source: str = Field(
        default="",
        description="Where `rundbrief bounces process` reads when no source is given: "
        "`maildir:PATH`, `mbox:PATH` or `imaps://user@host/FOLDER` (user URL-encoded, "
        "`%40` for `@`); empty: none.",
    )
    password_env: str = Field(
        default="RUNDBRIEF_BOUNCE_PASSWORD", description="Variable holding the IMAP password."
    )
    soft_bounces_before_suppress: int = Field(
        default=5,
        ge=1,
        description="Mailings to one address that may bounce softly before it is suppressed.",
    )


class Schedule(Section):
    """The daemon's jobs (``rundbrief run``); times in ``[organisation] time_zone``."""

    collect_every_minutes: int = Field(
        default=30, ge=1, description="Minutes between two collects."
    )
    compose_newsletter: str = Field(
        default="0 14 * * thu",
        description="Cron expression (minute hour day month day-of-week, in "
        "`organisation.time_zone`) for composing the draft; day numbers as in cron "
        "(`0`/`7` Sunday).",
    )
    send_newsletter: str = Field(
        default="0 10 * * fri",
        description="Cron expression for sending the period's newsletter.",
    )
    auto_approve: bool = Field(
        default=False,
        description="`true`: the newsletter goes out at its send time without an editor's "
        "approval (it is rendered and checked first).",
    )
    bounces_every_minutes: int = Field(
        default=15,
        ge=1,
        description="Minutes between two bounce runs (only when `[bounces] source` is set).",
    )
    misfire_grace_seconds: int = Field(
        default=3600,
        ge=1,
        description="How late (after downtime) compose and send may still start; later "
        "times are skipped and caught up by the `sync` job within `max_send_delay_minutes`.",
    )
    max_send_delay_minutes: int = Field(
        default=120,
        ge=0,
        description="A newsletter or press release more than this late is not sent by "
        "itself: it is held for an editor and the operator is told (`0`: only on time).",
    )
    period: Literal["iso_week", "month"] = Field(
        default="iso_week",
        description="One newsletter per `iso_week` or per `month` (its `period_key`, e.g. "
        "`newsletter:2026-W48`).",
    )
    notify_failed_deliveries: int = Field(
        default=20,
        ge=1,
        description="Failed deliveries of one mailing that make an operator mail.",
    )
    store_retry_seconds: float = Field(
        default=30.0,
        gt=0,
        description="A job that failed because the store did (locked, server down) runs "
        "again after this long, doubling per failure in a row (up to 15 minutes).",
    )

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


ApprovalRule = Literal["four-eyes", "any-approver"]


class Approval(Section):
    """Who may approve what (docs/mailings.md, "Four eyes"): per mailing kind and per list.

    `four-eyes`: an approver who did not edit the mailing last (composing counts as
    editing); `any-approver`: every account with the approver role. A mailing to several
    lists, or with a list rule and a kind rule, takes the strictest of them.
    """

    press: ApprovalRule = Field(default="four-eyes", description="The rule for press releases.")
    newsletter: ApprovalRule = Field(
        default="any-approver", description="The rule for newsletters."
    )
    lists: dict[str, ApprovalRule] = Field(
        default={},
        description='A rule per list name (`[approval.lists] presse = "four-eyes"`), on '
        "top of the kind's.",
    )


class Segments(Section):
    """Named segments (docs/press.md, "Segments"): one key per segment, its value a
    condition on subscriber fields and attributes, such as
    `bayern_politik = 'beat in ["Kommunalpolitik", "Digitales"] and region = "Bayern"'`.
    `rundbrief compose press ITEM --segment bayern_politik` sends to those people of the
    press lists only. Each condition is checked when the file is read.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    @property
    def named(self) -> dict[str, str]:
        """``{name: expression}`` in the file's order."""
        return {k: v for k, v in (self.model_extra or {}).items()}

    def expression(self, name: str) -> str:
        """The expression of segment ``name``; ``ConfigError`` naming the known ones."""
        found = self.named.get(name)
        if found is None:
            known = ", ".join(self.named) or "none"
            raise ConfigError(f"unknown segment {name!r} (segments in [segments]: {known})")
        return found


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
    accounts: Accounts = Accounts()
    api: Api = Api()
    audience: Audience = Audience()
    delivery: Delivery = Delivery()
    smtp: Smtp = Smtp()
    # One ``[name]`` table per HTTP provider, as read: the provider validates its own
    # (``deliver.providers.provider_settings``; the CLI checks every one at start).
    providers: dict[str, dict[str, Any]] = {}
    dkim: Dkim = Dkim()
    bounces: Bounces = Bounces()
    schedule: Schedule = Schedule()
    approval: Approval = Approval()
    segments: Segments = Segments()

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


def _check_welcome_templates(settings: Settings) -> None:
    """A list's welcome template exists as both parts, in ``compose.templates_dir`` or
    bundled: found at load, not when the first person confirms."""
    bundled = Path(__file__).resolve().parent / "_templates"
    folders = [bundled]
    if settings.compose.templates_dir:
        folders.insert(0, settings.path(settings.compose.templates_dir))
    for mailing_list in settings.lists:
        name = mailing_list.welcome
        for part in (f"{name}.mjml.j2", f"{name}.txt.j2") if name else ():
            if not any((folder / part).is_file() for folder in folders):
                where = " or ".join(
                    "the bundled templates" if f == bundled else str(f) for f in folders
                )
                raise ConfigError(
                    f"{settings.source}: [[lists]] {mailing_list.name!r}: welcome = "
                    f"{name!r} names a template that is not there: no {part} in {where}"
                )


def _check_consistency(settings: Settings) -> None:
    src = settings.source
    _check_welcome_templates(settings)
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
    for name in settings.approval.lists:
        if name not in list_names:
            known = ", ".join(list_names) or "none"
            raise ConfigError(
                f"{src}: approval.lists names list {name!r}, which is not defined in "
                f"[[lists]] (defined: {known})"
            )
    _check_segments(settings.segments.named, src)
    if "@" not in settings.sender.from_address:
        raise ConfigError(f"{src}: sender.from_address: expected an e-mail address")


def _check_segments(named: Mapping[str, Any], src: str) -> None:
    for name, text in named.items():
        if not is_segment_name(name):
            raise ConfigError(f"{src}: segments.{name}: a segment name is {SEGMENT_NAME_RULE}")
        if not isinstance(text, str):
            raise ConfigError(
                f"{src}: segments.{name}: expected a condition in quotes, got {text!r}"
            )
        try:
            parse_segment(text)
        except SegmentError as exc:
            raise ConfigError(f"{src}: segments.{name}: {exc}") from exc


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
