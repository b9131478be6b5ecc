"""The database schema (SQLAlchemy Core), portable between SQLite and PostgreSQL.

Instants are stored as time-zone aware UTC (``UtcDateTime``); JSON values as text so
both back ends behave the same. SQLAlchemy appears only inside ``pipeline.store``.

Ownership: feeds/items (collect), mailings/mailing_items/renders (compose, render),
saved_segments (mailings),
subscribers/subscriptions/suppressions/signups (audience), deliveries/mailing_senders/
bounce_events/rate_limits/system_mail (deliver), notifications/job_runs (schedule),
web_sessions/kept_forms/used_form_tokens (web), accounts/login_failures/api_tokens (accounts), audit (audit).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

# Integer on SQLite (rowid alias), BIGINT on PostgreSQL: outboxes outgrow 2**31.
BigId = BigInteger().with_variant(Integer(), "sqlite")
# JSON as text on SQLite, JSONB on PostgreSQL (subscribers' attributes, read by segments).
Attributes = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, whatever the back end keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use an aware one (UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# --- collect ---------------------------------------------------------------------------

feeds = Table(
    "feeds",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    # where it is fetched now: config_url until a 301/308 moves it
    Column("url", Text, nullable=False),
    # the URL as written in config.toml: a change there resets url (and a 410 disable)
    Column("config_url", Text, nullable=False, default=""),
    Column("kind", String(32), nullable=False),
    Column("language", String(16), nullable=False, default=""),
    Column("title", Text),
    # False once the feed is removed from config.toml (its items stay)
    Column("in_config", Boolean, nullable=False, default=True),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("disabled_reason", Text),
    Column("etag", Text),
    Column("last_modified", Text),
    # sha256 of the last body parsed: an identical body (server without 304) skips parsing
    Column("body_hash", String(64)),
    Column("last_status", String(16)),  # ok | not_modified | error
    Column("last_fetched_at", UtcDateTime),
    Column("last_success_at", UtcDateTime),
    Column("failures", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("flagged", Boolean, nullable=False, default=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

items = Table(
    "items",
    metadata,
    Column("id", BigId, primary_key=True),
    # guid/id, else canonical link, else a hash of title and content
    Column("identity", String(1000), nullable=False, unique=True),
    Column("canonical_link", String(2000), index=True),
    Column("feed_id", BigId, ForeignKey("feeds.id", ondelete="SET NULL")),
    Column("kind", String(32), nullable=False),
    Column("title", Text, nullable=False),
    Column("link", Text, nullable=False, default=""),
    Column("summary", Text, nullable=False, default=""),
    Column("content_html", Text, nullable=False, default=""),
    Column("image_url", Text),
    Column("image_alt", Text),
    Column("image_credit", Text),
    Column("author", Text),
    Column("published_at", UtcDateTime, index=True),
    Column("source_updated_at", UtcDateTime),
    Column("tags", JSON, nullable=False, default=list),
    Column("language", String(16), nullable=False, default=""),
    # sha256 of the entry as the feed sent it: unchanged entries are not sanitized again
    Column("content_hash", String(64), nullable=False),
    # False for entries already older than the backfill window when first seen
    Column("eligible", Boolean, nullable=False, default=True),
    Column("first_seen_at", UtcDateTime, nullable=False, index=True),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_items_kind_published", "kind", "published_at"),
)

# --- compose and render ----------------------------------------------------------------

mailings = Table(
    "mailings",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("kind", String(16), nullable=False),  # newsletter | press
    # draft | approved | scheduled | sending | sent | cancelled (| paused while sending)
    Column("status", String(16), nullable=False, default="draft"),
    Column("subject", Text, nullable=False),
    Column("intro_md", Text, nullable=False, default=""),
    Column("preheader", Text, nullable=False, default=""),
    Column("languages", JSON, nullable=False, default=list),
    Column("lists", JSON, nullable=False, default=list),
    # "newsletter:2026-W48": at most one newsletter per period, enforced here
    Column("period_key", String(64), unique=True),
    Column("send_at", UtcDateTime),  # when it goes out (None: when approved or sent)
    # press: the Sperrfrist, when it may be published; never before send_at
    Column("embargo_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("approved_at", UtcDateTime),
    Column("approved_by", Text),
    # who composed it and who changed it last (actor e-mail addresses): the four-eyes
    # rule of press releases asks for an approver other than last_edited_by
    Column("composed_by", Text),
    Column("last_edited_by", Text),
    Column("sending_started_at", UtcDateTime),
    Column("sent_at", UtcDateTime),
    Column("cancelled_at", UtcDateTime),
    Column("paused_reason", Text),
    Column("paused_at", UtcDateTime),  # when the current pause began (one notice per pause)
    # Unused since migration 5 (the senders are in mailing_senders); kept so that older
    # databases and fresh ones agree.
    Column("claimed_by", Text),
    Column("claimed_at", UtcDateTime),
    # set once every eligible recipient has a delivery row: until then a resumed send
    # (after a crash) records the missing ones first
    Column("queued_at", UtcDateTime),
    # A mailing paused by a fault (not by a person) is tried again by itself: the daemon
    # sends a small probe batch at resume_at; resume_tries counts the failed probes (the
    # wait doubles each time) and is reset by the first delivery that goes through.
    Column("resume_at", UtcDateTime),
    Column("resume_tries", Integer, nullable=False, default=0, server_default="0"),
    # A segment narrows the lists to some of their people: the condition as written when
    # the mailing was composed (``pipeline.segments``), so a later change of config.toml
    # does not change who an approved mailing reaches; the name it came from, if any.
    Column("segment_name", String(64)),
    Column("segment_where", Text),
    # A follow-up (correction, update, lift, withdraw) of a press release: the release
    # it follows and its kind. It goes to the addresses that release was delivered to.
    Column("follows_id", BigId, ForeignKey("mailings.id", ondelete="SET NULL"), index=True),
    Column("follow_kind", String(16)),
)

# Segments saved by name in the web app, the CLI or the API (``[segments]`` in
# config.toml holds the others; a saved name never shadows one of those). A mailing
# keeps the condition it was composed with, so deleting or changing a saved segment
# does not change whom an existing mailing reaches.
saved_segments = Table(
    "saved_segments",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("expression", Text, nullable=False),
    Column("created_by", String(320), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_by", String(320), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

mailing_items = Table(
    "mailing_items",
    metadata,
    Column("mailing_id", BigId, ForeignKey("mailings.id", ondelete="CASCADE"), primary_key=True),
    Column("item_id", BigId, ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, nullable=False),
)

renders = Table(
    "renders",
    metadata,
    Column("mailing_id", BigId, ForeignKey("mailings.id", ondelete="CASCADE"), primary_key=True),
    Column("language", String(16), primary_key=True),
    Column("subject", Text, nullable=False),
    Column("preheader", Text, nullable=False, default=""),
    Column("html", Text, nullable=False),  # with ⟦PLACEHOLDERS⟧ for per-recipient parts
    Column("text", Text, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("rendered_at", UtcDateTime, nullable=False),
)

# --- audience --------------------------------------------------------------------------

subscribers = Table(
    "subscribers",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),  # normalised
    # sha256 of email, as in suppressions: recipients are filtered by a join on it (the
    # lookup goes into suppressions' unique index, so this column needs none of its own)
    Column("email_hash", String(64), nullable=False),
    Column("first_name", Text, nullable=False, default=""),
    Column("last_name", Text, nullable=False, default=""),
    Column("salutation", String(16), nullable=False, default=""),  # Frau | Herr | neutral | ""
    Column("title", Text, nullable=False, default=""),
    Column("language", String(16), nullable=False, default="de"),
    # JSONB on PostgreSQL (migration _segments): a segment reads several keys per row,
    # and plain json is parsed again for each of them, jsonb once on write.
    Column("attributes", Attributes, nullable=False, default=dict),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # Links in mails name subscribers by id: an id must never pass to another person, so
    # SQLite must not hand out the id of an erased newest row again (migration 2).
    # Mailings and deliveries (ids in archive links and VERP tokens) are never deleted,
    # so their ids cannot be freed and need no AUTOINCREMENT.
    sqlite_autoincrement=True,
)

# The largest subscriber id when migration 2 ran (one row): version-1 tokens, made before
# ids were guaranteed unique for life, are honoured only up to it (audience/tokens.py).
legacy_tokens = Table(
    "legacy_tokens",
    metadata,
    Column("max_subscriber_id", BigId, nullable=False),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", BigId, primary_key=True),
    Column(
        "subscriber_id", BigId, ForeignKey("subscribers.id", ondelete="CASCADE"), nullable=False
    ),
    Column("list_name", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # pending | active | unsubscribed
    Column("source", Text, nullable=False, default=""),  # import:FILE | form:URL | api
    Column("consent_version", Text),
    Column("signup_at", UtcDateTime),
    Column("signup_ip", String(64)),
    Column("confirm_sent_at", UtcDateTime),
    Column("confirmed_at", UtcDateTime),
    Column("confirm_ip", String(64)),
    Column("unsubscribed_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("subscriber_id", "list_name"),
    Index("ix_subscriptions_list_status", "list_name", "status", "subscriber_id"),
)

suppressions = Table(
    "suppressions",
    metadata,
    Column("id", BigId, primary_key=True),
    # sha256 of the normalised address: still matches after the address itself is erased
    Column("email_hash", String(64), nullable=False, unique=True),
    Column("email", String(320)),
    Column(
        "reason", String(32), nullable=False
    ),  # unsubscribed|hard_bounce|complaint|manual|erased
    Column("detail", Text),
    Column("created_at", UtcDateTime, nullable=False),
)

signups = Table(
    "signups",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("ip", String(64), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_signups_ip_at", "ip", "at"),
)

# A press release's press kit: its files, kept in ``[press] files_dir`` by checksum (the
# row names the bytes; ``store.press_files`` reads and checks them).
press_files = Table(
    "press_files",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("mailing_id", BigId, ForeignKey("mailings.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),  # safe: the last part of its URL
    Column("content_type", String(200), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("credit", Text, nullable=False, default=""),
    Column("licence", Text, nullable=False, default=""),
    Column("alt_text", Text, nullable=False, default=""),
    Column("width", Integer),  # images only
    Column("height", Integer),
    Column("preview_sha256", String(64)),  # the preview for the mail, images only
    Column("preview_type", String(64)),
    Column("preview_width", Integer),
    Column("preview_height", Integer),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("mailing_id", "name"),
)

# --- deliver ---------------------------------------------------------------------------

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("mailing_id", BigId, ForeignKey("mailings.id", ondelete="CASCADE"), nullable=False),
    Column("subscriber_id", BigId, ForeignKey("subscribers.id", ondelete="SET NULL")),
    Column("email", String(320), nullable=False),
    Column("list_name", String(64), nullable=False),
    Column("language", String(16), nullable=False, default="de"),
    # queued | sending | sent | retry | failed | suppressed
    Column("status", String(16), nullable=False, default="queued"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime),
    Column("last_error", Text),
    Column("message_id", Text),
    Column("provider_message_id", Text),
    Column("claimed_by", Text),
    Column("claimed_at", UtcDateTime),
    Column("sent_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    # set when the last attempt went unanswered (the provider may have the message):
    # the next attempt asks the provider first, or waits and is a possible duplicate
    Column("unknown_at", UtcDateTime),
    # sent again after an unanswered attempt that nobody could confirm: may have arrived twice
    Column("possible_duplicate", Boolean, nullable=False, default=False, server_default="0"),
    # a follow-up's delivery: the Message-ID of the copy of the original this address
    # got (In-Reply-To and References thread the follow-up under it)
    Column("in_reply_to", Text),
    UniqueConstraint("mailing_id", "email"),
    Index("ix_deliveries_mailing_status_id", "mailing_id", "status", "id"),
    # the distribution record reads one mailing's deliveries in keyset pages by id
    Index("ix_deliveries_mailing_id", "mailing_id", "id"),
    Index("ix_deliveries_message_id", "message_id"),
    # the distribution record finds the follow-ups each original delivery led to
    Index("ix_deliveries_in_reply_to", "in_reply_to"),
)

# Who is sending a mailing now: one lease per sender (``deliver.lease``). Any number of
# senders work on one mailing; each renews only its own row. A sender is gone when its
# process on this host has ended, or when its heartbeat is older than lease_seconds.
mailing_senders = Table(
    "mailing_senders",
    metadata,
    Column("mailing_id", BigId, ForeignKey("mailings.id", ondelete="CASCADE"), primary_key=True),
    Column("worker", String(200), primary_key=True),  # host:pid:random
    Column("joined_at", UtcDateTime, nullable=False),
    Column("heartbeat_at", UtcDateTime, nullable=False),
)

bounce_events = Table(
    "bounce_events",
    metadata,
    Column("id", BigId, primary_key=True),
    # indexed: the distribution record reads the events of a page of deliveries
    Column("delivery_id", BigId, ForeignKey("deliveries.id", ondelete="SET NULL"), index=True),
    Column("email_hash", String(64), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # hard | soft | complaint | unsubscribe
    Column("status_code", String(16)),
    Column("detail", Text),
    Column("source", String(64), nullable=False),
    # the source's own id (DSN Message-ID, webhook event id): processing twice counts once
    Column("source_id", String(500), unique=True),
    Column("received_at", UtcDateTime, nullable=False),
)

rate_limits = Table(
    "rate_limits",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("blocked_until", UtcDateTime),
    Column("hour_start", UtcDateTime),
    Column("hour_count", Integer, nullable=False, default=0),
)

# --- schedule --------------------------------------------------------------------------

notifications = Table(
    "notifications",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("key", String(300), nullable=False, unique=True),  # one mail per event
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
)

# The outbox of mail the system sends on its own (double opt-in confirmations, operator
# notifications, editors' test copies): the whole message is built and recorded here
# before it is sent, then drained and retried like deliveries (``deliver.system``).
system_mail = Table(
    "system_mail",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("kind", String(16), nullable=False),  # confirmation|notification|test_copy|welcome
    Column("recipient", String(320), nullable=False),
    Column("envelope_from", String(320), nullable=False),
    Column("message_id", String(200), nullable=False),
    Column("data", Text, nullable=False),  # the complete message (ASCII, CRLF)
    Column("parts", JSON),  # the same as fields, for HTTP providers (MessageParts)
    Column("status", String(16), nullable=False),  # queued|sending|sent|retry|failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UtcDateTime),
    Column("last_error", Text),
    Column("claimed_by", String(128)),
    Column("claimed_at", UtcDateTime),
    Column("provider_message_id", String(200)),
    # a confirmation: the subscription whose ``confirm_sent_at`` is set once it went out
    Column("subscriber_id", BigId),
    Column("list_name", String(64)),
    # a mail that may exist once only (a welcome: "welcome:SUBSCRIBER:LIST"); NULL: any
    Column("once_key", String(200)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    Index("ix_system_mail_status_id", "status", "id"),
    Index("ix_system_mail_once_key", "once_key", unique=True),
)

job_runs = Table(
    "job_runs",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("job", String(64), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    Column("outcome", String(16)),  # ok | error | skipped
    Column("detail", Text),
    Index("ix_job_runs_job_started", "job", "started_at"),
)

# --- web -------------------------------------------------------------------------------

# One row per login. The cookie carries a random session id; only its hash is kept, so a
# copy of the database logs nobody in. A session counts while ended_at is empty,
# expires_at is ahead and password_fingerprint matches the account's current password.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("account", String(320), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime),
    Column("end_reason", String(32)),  # logout | password_changed
    Column("client_address", String(64)),
    Column("user_agent", String(200)),
    Column("password_fingerprint", String(64), nullable=False),
    # The named account since issue 12 (``account`` keeps its e-mail address as shown);
    # empty for sessions of the old shared login.
    Column("account_id", BigId, index=True),
)

# What an editor typed into a form whose session had ended (``pipeline.web.kept_forms``):
# kept for one log-in, found by the SHA-256 of a one-time token held in the cookie.
kept_forms = Table(
    "kept_forms",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("account", String(320)),  # the ended session's account, if known
    Column("endpoint", String(100), nullable=False),  # the view the form was posted to
    Column("page", String(2000), nullable=False),  # where the editor returns
    Column("fields", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False, index=True),
)

# The one-time tokens of forms that act (approve, test copy, follow-up) that were used
# (``pipeline.web.once``): the primary key makes a second use fail, even at the same instant.
used_form_tokens = Table(
    "used_form_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("endpoint", String(100), nullable=False),
    Column("used_at", UtcDateTime, nullable=False, index=True),
)

# --- accounts --------------------------------------------------------------------------

# A named user of the web app, the CLI and the API. ``email_key`` is the address
# case-folded: the unique key, so "Anna@…" and "anna@…" are one account.
accounts = Table(
    "accounts",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("email", String(320), nullable=False),
    Column("email_key", String(320), nullable=False, unique=True),
    Column("name", Text, nullable=False, default=""),
    Column("role", String(16), nullable=False),  # editor | approver | admin
    Column("active", Boolean, nullable=False, default=True),
    Column("password_hash", Text, nullable=False),  # argon2id, PHC string
    Column("totp_secret", String(64)),  # base32; empty: no second factor enrolled
    # the 30-second step of the last code accepted: a code works once (RFC 6238, 5.2)
    Column("totp_last_step", BigInteger),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_login_at", UtcDateTime),
    Column("password_changed_at", UtcDateTime),
    # the language of the editors' pages for this person ("de", "en"; NULL: the default)
    Column("ui_language", String(8)),
)

# Failed log-ins per throttle key ("pair:<account>|<address>", "address:…",
# "account:…"): in the store, so every web worker sees the same counts.
login_failures = Table(
    "login_failures",
    metadata,
    Column("key", String(400), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", UtcDateTime, nullable=False),
    Column("blocked_until", UtcDateTime, nullable=False),
)

# Bearer tokens of the JSON API: only the SHA-256 of a token is kept (tokens are long
# and random, so a fast hash is enough and lets a lookup find the row by it).
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("name", Text, nullable=False, default=""),
    Column(
        "account_id",
        BigId,
        ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime),
    Column("revoked_at", UtcDateTime),
    Column("last_used_at", UtcDateTime),
)

# --- audit -----------------------------------------------------------------------------

# The audit log (``pipeline.audit``): one row per thing an actor did. Entries are never
# deleted; erasing a subscriber scrubs its personal data from them (the target names the
# subscriber by id only). details is JSON as text.
audit = Table(
    "audit",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("at", UtcDateTime, nullable=False, index=True),
    Column("actor_email", String(320), nullable=False, index=True),
    Column("actor_role", String(16), nullable=False),
    Column("channel", String(16), nullable=False),  # web | cli | api | daemon
    Column("address", String(64), nullable=False, default=""),  # client IP, "" for cli
    Column("action", String(64), nullable=False),
    Column("target_kind", String(32), nullable=False, default=""),  # mailing | subscriber | …
    Column("target_id", String(64), nullable=False, default=""),
    Column("summary", Text, nullable=False, default=""),
    Column("details", Text, nullable=False, default="{}"),
    Index("ix_audit_target", "target_kind", "target_id"),
)
