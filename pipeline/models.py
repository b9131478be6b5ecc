"""The plain, frozen values stages hand each other (never ORM rows).

Named by role, as in the domain words of DESIGN.md: what a feed is and how it fared,
what an item is, what a mailing is, who a recipient is, what a delivery is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class MailingKind(StrEnum):
    NEWSLETTER = "newsletter"
    PRESS = "press"


class FollowKind(StrEnum):
    """What a follow-up does to the press release it follows (``mailings.followups``)."""

    CORRECTION = "correction"  # Berichtigung: something in it was wrong
    UPDATE = "update"  # Aktualisierung: something new to add
    LIFT = "lift"  # Sperrfrist aufgehoben: it may be published now
    WITHDRAW = "withdraw"  # Rückzug: it must not be published


class MailingStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    SENT = "sent"
    CANCELLED = "cancelled"


S = MailingStatus

# The lifecycle, as the one table of allowed steps (from → to). Every status change of a
# mailing names its step against this table, in the workflow layer and in the store's
# conditional updates alike (``check_step``):
#
#     draft ──approve──▶ approved ─────────────▶ sending ──▶ sent
#       │   (send time ahead)▶ scheduled ──(due)──▶   │  ▲
#       ▲── edit ─── approved | scheduled             ▼  │
#                                                   paused
#     draft | approved | scheduled | paused ──cancel──▶ cancelled
MAILING_STEPS: frozenset[tuple[MailingStatus, MailingStatus]] = frozenset(
    {
        (S.DRAFT, S.APPROVED),
        (S.DRAFT, S.SCHEDULED),
        (S.DRAFT, S.CANCELLED),
        (S.APPROVED, S.DRAFT),
        (S.APPROVED, S.SCHEDULED),  # "send now": due at once, for the daemon
        (S.APPROVED, S.SENDING),
        (S.APPROVED, S.CANCELLED),
        (S.SCHEDULED, S.DRAFT),
        (S.SCHEDULED, S.SENDING),
        (S.SCHEDULED, S.CANCELLED),
        (S.SENDING, S.PAUSED),
        (S.SENDING, S.SENT),
        (S.PAUSED, S.SENDING),
        (S.PAUSED, S.CANCELLED),
    }
)


def check_step(current: str, wanted: str) -> bool:
    """Whether ``current → wanted`` is a step of the lifecycle."""
    return (MailingStatus(current), MailingStatus(wanted)) in MAILING_STEPS


def steps_from(wanted: MailingStatus, *sources: MailingStatus) -> tuple[str, ...]:
    """The ``sources`` as column values for a conditional UPDATE to ``wanted``; a source
    that the table does not allow is a programming error (``ValueError``)."""
    for source in sources:
        if (source, wanted) not in MAILING_STEPS:
            raise ValueError(f"{source} → {wanted} is not a step of the mailing lifecycle")
    return tuple(str(s) for s in sources)


class DeliveryStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    SUPPRESSED = "suppressed"


class SuppressionReason(StrEnum):
    UNSUBSCRIBED = "unsubscribed"
    HARD_BOUNCE = "hard_bounce"
    COMPLAINT = "complaint"
    MANUAL = "manual"
    ERASED = "erased"


@dataclass(frozen=True)
class FeedState:
    id: int
    name: str
    url: str
    kind: str
    enabled: bool
    etag: str | None
    last_modified: str | None
    last_fetched_at: datetime | None
    last_success_at: datetime | None
    failures: int
    last_error: str | None
    flagged: bool
    disabled_reason: str | None = None
    title: str | None = None
    in_config: bool = True
    last_status: str | None = None  # ok | not_modified | error


@dataclass(frozen=True)
class Item:
    id: int
    identity: str
    feed: str | None
    kind: str
    title: str
    link: str
    summary: str
    content_html: str
    image_url: str | None
    image_alt: str | None
    image_credit: str | None
    author: str | None
    published_at: datetime | None
    updated_at: datetime | None
    tags: tuple[str, ...]
    language: str
    eligible: bool = True


@dataclass(frozen=True)
class StoredItem:
    """What collect's decision needs to know about an item already in the store."""

    id: int
    identity: str
    canonical_link: str | None
    feed_id: int | None
    content_hash: str


@dataclass(frozen=True)
class Mailing:
    id: int
    kind: MailingKind
    status: MailingStatus
    subject: str
    intro_md: str
    preheader: str
    languages: tuple[str, ...]
    lists: tuple[str, ...]
    item_ids: tuple[int, ...]
    period_key: str | None
    send_at: datetime | None
    created_at: datetime
    updated_at: datetime
    approved_at: datetime | None = None
    sent_at: datetime | None = None
    paused_reason: str | None = None
    approved_by: str | None = None
    # actor e-mail addresses: who composed it, who changed it last (the four-eyes rule)
    composed_by: str | None = None
    last_edited_by: str | None = None
    # the segment that narrows ``lists`` (``pipeline.segments``): its condition as
    # written, and the name in [segments] it came from (None: written for this mailing)
    segment_where: str | None = None
    segment_name: str | None = None
    # press: the Sperrfrist (when it may be published), separate from the send time
    embargo_at: datetime | None = None
    # a follow-up: the press release it follows and what it does (``FollowKind``); it
    # goes to exactly the addresses that release was delivered to
    follows_id: int | None = None
    follow_kind: FollowKind | None = None

    def under_embargo(self, now: datetime) -> bool:
        """Whether an embargo is set and has not passed yet."""
        return self.embargo_at is not None and self.embargo_at > now


@dataclass(frozen=True)
class RenderedMailing:
    """One mailing in one language, rendered, with placeholders still in it.

    Made by ``render``, stored by ``store``, sent by ``deliver``: it lives here because
    all three handle it.
    """

    mailing_id: int | None
    language: str
    subject: str
    preheader: str
    html: str
    text: str


@dataclass(frozen=True)
class Recipient:
    """One address a mailing goes to, with what personalisation needs."""

    subscriber_id: int
    email: str
    list_name: str
    first_name: str = ""
    last_name: str = ""
    salutation: str = ""  # Frau | Herr | neutral | ""
    title: str = ""  # e.g. "Dr."
    language: str = "de"
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PressFile:
    """A file of a press release's press kit (a PDF, a photo, any other type).

    ``name`` is the safe name in its URL (``/press/ID/files/NAME``), unique per mailing;
    the bytes are kept by their ``sha256`` (the preview of an image by ``preview_sha256``).
    """

    id: int
    mailing_id: int
    name: str
    content_type: str
    size: int
    sha256: str
    credit: str = ""
    licence: str = ""
    alt_text: str = ""
    width: int | None = None
    height: int | None = None
    preview_sha256: str | None = None
    preview_type: str | None = None
    preview_width: int | None = None
    preview_height: int | None = None
    created_at: datetime | None = None

    @property
    def is_image(self) -> bool:
        return self.preview_sha256 is not None
