"""Test shortcuts over the workflow layer, with the call shapes the tests read best.

``render_mailing`` renders a draft (stored) or loads an approved mailing's render,
``approve`` approves through the workflow (or, without settings, steps a draft whose
render a test stored itself), ``set_status`` drives the lifecycle one allowed step from
wherever the mailing is, the way a sender or the daemon would.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from pipeline.access import Actor, Role
from pipeline.clock import Clock
from pipeline.config import Settings
from pipeline.errors import TransitionError
from pipeline.mailings import Workflow, lifecycle
from pipeline.models import Mailing, MailingStatus, RenderedMailing
from pipeline.store import Store
from pipeline.store import mailings as store_mailings

_UNSET: Any = object()

# Who the shortcuts act as unless a test says otherwise: an admin, so the role table
# never stands in the way of a test about something else.
EDITOR = "editor@example.org"


def actor(who: str | Actor = EDITOR, role: Role = Role.ADMIN, channel: str = "cli") -> Actor:
    """An actor from an e-mail address (or the actor itself)."""
    return who if isinstance(who, Actor) else Actor(email=who, role=role, channel=channel)


def _flow(store: Store, clock: Clock, settings: Settings | None = None) -> Workflow:
    # Editing, cancelling and stepping read no settings; rendering does.
    return Workflow(cast(Settings, settings), store, clock)


def render_mailing(
    settings: Settings, store: Store, mailing_id: int, *, clock: Clock
) -> list[RenderedMailing]:
    flow = _flow(store, clock, settings)
    return list(flow.renders(flow.get(mailing_id), fresh=True).values())


def approve(
    store: Store,
    mailing_id: int,
    *,
    clock: Clock,
    by: str | Actor,
    settings: Settings | None = None,
) -> Mailing:
    if settings is not None:
        return _flow(store, clock, settings).approve(mailing_id, by=actor(by))
    mailing = store_mailings.get_mailing(store, mailing_id)
    lifecycle.require(mailing, MailingStatus.APPROVED)
    target = lifecycle.approval_target(mailing, clock.now())
    assert store_mailings.set_status(
        store, mailing_id, target, expected=MailingStatus.DRAFT, now=clock.now(), by=actor(by).email
    )
    return store_mailings.get_mailing(store, mailing_id)


def set_status(
    store: Store,
    mailing_id: int,
    status: MailingStatus,
    *,
    clock: Clock,
    reason: str | None = None,
) -> Mailing:
    mailing = store_mailings.get_mailing(store, mailing_id)
    lifecycle.require(mailing, status)
    if not store_mailings.set_status(
        store, mailing_id, status, expected=mailing.status, now=clock.now(), reason=reason
    ):
        raise TransitionError(f"mailing {mailing_id} moved on")
    return store_mailings.get_mailing(store, mailing_id)


def edit_mailing(
    store: Store,
    mailing_id: int,
    *,
    clock: Clock,
    subject: str | None = None,
    intro_md: str | None = None,
    preheader: str | None = None,
    item_ids: Sequence[int] | None = None,
    send_at: datetime | None = _UNSET,
    by: str | Actor = EDITOR,
) -> Mailing:
    changes: dict[str, Any] = {}
    if send_at is not _UNSET:
        changes["send_at"] = send_at
    return _flow(store, clock).edit(
        mailing_id,
        subject=subject,
        intro_md=intro_md,
        preheader=preheader,
        item_ids=item_ids,
        by=actor(by),
        **changes,
    )


def drop_item(
    store: Store, mailing_id: int, item_id: int, *, clock: Clock, by: str | Actor = EDITOR
) -> Mailing:
    return _flow(store, clock).drop_item(mailing_id, item_id, by=actor(by))


def move_item(
    store: Store,
    mailing_id: int,
    item_id: int,
    position: int,
    *,
    clock: Clock,
    by: str | Actor = EDITOR,
) -> Mailing:
    return _flow(store, clock).move_item(mailing_id, item_id, position, by=actor(by))


def cancel(store: Store, mailing_id: int, *, clock: Clock, by: str | Actor = EDITOR) -> Mailing:
    return _flow(store, clock).cancel(mailing_id, by=actor(by))
