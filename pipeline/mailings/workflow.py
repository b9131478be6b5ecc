"""Every operation on a mailing, for the CLI, the web app and the daemon alike.

    Workflow(settings, store, clock, policy=…)   (policy default: FourEyes(settings))
      compose ─ compose_newsletter · compose_press · compose_press_text (written here)
                · compose_followup (correction, update, lift, withdraw: ``followups``)
      edit    ─ edit · add_item · restore_item · drop_item · move_item · reorder
                · set_send_at · clear_send_at · set_embargo · rerender
      decide  ─ approve (asks the ApprovalPolicy) · schedule · cancel
      send    ─ send_now · pause · resume · send_test_copy (to test_recipients)
                · send_soon · hand_back (the daemon sends: for the web app)
      look    ─ get · find · list_mailings · renders · overview · preview
                · distribution_record (the Versandprotokoll) · follow_ups · withdrawal
                · published_mailings · find_published (what the public may see: ``public``)
      kit     ─ files · add_file · remove_file · download · preview_image (``kits``)

Each operation checks the lifecycle (``lifecycle``) and moves the status with one
conditional update in the store, which names the status it expects: of two editors (or
an editor and the daemon) acting on the same mailing at once, one wins and the other
gets a ``TransitionError``. The adapters turn the typed errors into one CLI line, a web
flash or a 409.

Every change is done ``by`` an ``Actor``: the operation first asks the role table
(``access.require``; ``PermissionDenied`` otherwise), then does its work, then writes one
audit entry (``pipeline.audit``) naming the actor. Looking (``get``, ``overview``, …) needs
only ``view``, which every role has; the adapters let nobody in without an account.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from pipeline import audit
from pipeline.access import Action, Actor, allowed, require
from pipeline.clock import Clock
from pipeline.config import Settings
from pipeline.deliver import (
    ProgressCallback,
    SendReport,
    SendResult,
    StopCheck,
    Transport,
    send_mailing,
    send_test,
)
from pipeline.errors import (
    ApprovalRefused,
    ComposeError,
    ConfigError,
    NotDueError,
    PressFileError,
    TestPersonRefused,
    TransitionError,
)
from pipeline.mailings import (
    compose,
    followups,
    items,
    kits,
    lifecycle,
    public,
    record,
    test_recipients,
    times,
    written,
)
from pipeline.mailings.overview import MailingOverview, overview
from pipeline.mailings.policy import ApprovalPolicy, FourEyes
from pipeline.mailings.preview import Preview, build_preview, people, person_for, sample_for
from pipeline.mailings.renders import load_items, render_draft, renders_of
from pipeline.mailings.segment import choose_segment
from pipeline.mailings.times import check_times
from pipeline.mailings.written import WrittenRelease
from pipeline.models import (
    FollowKind,
    Item,
    Mailing,
    MailingKind,
    MailingStatus,
    PressFile,
    Recipient,
    RenderedMailing,
)
from pipeline.render import mailing_languages
from pipeline.store import Store
from pipeline.store import followups as store_followups
from pipeline.store import items as store_items
from pipeline.store import mailings as store_mailings
from pipeline.store import press_files as store_files

log = logging.getLogger(__name__)

S = MailingStatus
_UNSET: Any = object()


@dataclass
class Workflow:
    """The operations on mailings, bound to one store, clock and approval policy."""

    settings: Settings
    store: Store
    clock: Clock
    policy: ApprovalPolicy | None = None  # None: FourEyes(settings), the [approval] rules
    transport_factory: Callable[[], Transport] | None = None

    def __post_init__(self) -> None:
        if self.policy is None:
            self.policy = FourEyes(self.settings)

    # --- looking -------------------------------------------------------------------

    def get(self, mailing_id: int) -> Mailing:
        """The mailing; ``ComposeError`` if there is none."""
        return store_mailings.get_mailing(self.store, mailing_id)

    def find(self, mailing_id: int) -> Mailing | None:
        return store_mailings.find_mailing(self.store, mailing_id)

    def list_mailings(
        self,
        *,
        status: MailingStatus | str | Iterable[MailingStatus | str] | None = None,
        kind: MailingKind | str | None = None,
    ) -> list[Mailing]:
        return store_mailings.list_mailings(self.store, status=status, kind=kind)

    def published_mailings(self) -> list[Mailing]:
        """What the public archive shows now (``public.published``), the last sent first."""
        found = self.list_mailings(status=public.OUT)
        return public.newest_first(found, self.clock.now())

    def find_published(self, mailing_id: int) -> Mailing | None:
        """The mailing if the public may see it now (``public.published``), else None:
        unknown, not sent, or under embargo look the same from outside."""
        found = self.find(mailing_id)
        return found if public.published(found, self.clock.now()) else None

    def languages(self, mailing: Mailing) -> tuple[str, ...]:
        return mailing_languages(self.settings, mailing)

    def items(self, mailing: Mailing) -> dict[int, Item]:
        return load_items(self.store, mailing.item_ids)

    def renders(self, mailing: Mailing, *, fresh: bool = False) -> dict[str, RenderedMailing]:
        """The render of every language (a draft without one is rendered now)."""
        return renders_of(self.settings, self.store, mailing, clock=self.clock, fresh=fresh)

    def overview(self, mailing_id: int) -> MailingOverview:
        mailing = self.get(mailing_id)
        return overview(
            self.store, mailing, languages=self.languages(mailing), items=self.items(mailing)
        )

    def distribution_record(
        self, mailing_id: int, *, by: Actor, after: int | None = None, limit: int | None = None
    ) -> Iterator[record.RecordEntry]:
        """Who got the mailing and what came back (``record``), a line per delivery after
        delivery ``after``: ``limit`` lines, or all of them, streamed. A look: ``view``
        is enough and nothing is audited (as for ``overview``)."""
        require(by, Action.VIEW)
        self.get(mailing_id)  # no such mailing: ComposeError, before the first line
        return record.entries(self.store, mailing_id, after=after, limit=limit)

    def follow_ups(self, mailing_id: int, *, sent_only: bool = False) -> list[Mailing]:
        """The follow-ups of a press release, oldest first (``sent_only``: those that
        have gone out, what the archive lists)."""
        found = store_followups.follow_ups_of(self.store, mailing_id)
        return followups.went_out(found) if sent_only else found

    def withdrawal(self, mailing_id: int) -> Mailing | None:
        """The withdrawal of a press release, once it has gone out (else None)."""
        return followups.withdrawal(self.store, mailing_id)

    def public_follow_ups(self, mailing_id: int) -> tuple[list[Mailing], Mailing | None]:
        """What the public may see now of a release's follow-ups (``public.published``):
        those that went out, oldest first, and its withdrawal if there is one; the
        archive page and the public API show the same."""
        now = self.clock.now()
        shown = [m for m in self.follow_ups(mailing_id, sent_only=True) if public.published(m, now)]
        withdrawal = self.withdrawal(mailing_id)
        return shown, withdrawal if public.published(withdrawal, now) else None

    def preview(self, mailing_id: int, *, to: str | None = None) -> Preview:
        return build_preview(
            self.settings, self.store, self.get(mailing_id), clock=self.clock, to=to
        )

    # --- composing -----------------------------------------------------------------

    def plan_newsletter(self) -> compose.NewsletterPlan:
        return compose.plan_newsletter(self.settings, self.store, clock=self.clock)

    def compose_newsletter(
        self, *, by: Actor, segment: str | None = None, where: str | None = None
    ) -> Mailing | None:
        """This period's newsletter draft; ``segment`` (a name in ``[segments]``) or
        ``where`` (a condition) narrows its lists."""
        require(by, Action.COMPOSE)
        mailing = compose.compose_newsletter(
            self.settings,
            self.store,
            clock=self.clock,
            composed_by=by.email,
            segment=segment,
            where=where,
        )
        if mailing is not None:
            self._audit(
                by,
                Action.COMPOSE,
                mailing.id,
                f"composed newsletter {mailing.id}: {mailing.subject}",
                {"kind": str(mailing.kind), "items": list(mailing.item_ids), **_segment(mailing)},
            )
        return mailing

    def compose_press(
        self,
        item_id: int,
        *,
        by: Actor,
        send_at: datetime | None = None,
        embargo: datetime | None = None,
        segment: str | None = None,
        where: str | None = None,
    ) -> Mailing:
        """A press release draft from an item: it goes out at ``send_at`` (None: once
        approved) and may be published from ``embargo`` on (None: at once); ``segment``
        or ``where`` narrows its lists."""
        require(by, Action.COMPOSE)
        return self._compose_press(
            item_id, f"item {item_id}", by, send_at, embargo, segment, where, {}
        )

    def compose_press_text(
        self,
        release: WrittenRelease,
        *,
        by: Actor,
        send_at: datetime | None = None,
        embargo: datetime | None = None,
        segment: str | None = None,
        where: str | None = None,
    ) -> Mailing:
        """A press release draft from a text written here (``written``): it becomes an
        item of its own (no feed, not for newsletters), then a draft as from any item."""
        require(by, Action.COMPOSE)
        # before the item exists, so a refused time or segment leaves nothing behind
        compose.check_press_times(self.settings, send_at, embargo, self.clock)
        choose_segment(self.settings, self.store, segment, where)
        item_id = store_items.create_item(
            self.store, written.item_row(release, self.settings, self.clock.now())
        )
        return self._compose_press(
            item_id, "a written text", by, send_at, embargo, segment, where, {"written": True}
        )

    def compose_followup(
        self,
        original_id: int,
        kind: FollowKind | str,
        *,
        by: Actor,
        text_md: str | None = None,
        title: str | None = None,
        send_at: datetime | None = None,
    ) -> Mailing:
        """A follow-up draft of press release ``original_id`` (``followups``: the rules):
        a correction, update, lift or withdrawal that goes to exactly the addresses the
        original was delivered to. ``text_md`` (Markdown) is the press officer's text (a
        lift and a withdrawal have a default), ``title`` replaces the original's title."""
        require(by, Action.COMPOSE)
        follow_kind = followups.parse_kind(kind)
        original = self.get(original_id)
        mailing = followups.compose(
            self.settings,
            self.store,
            original,
            follow_kind,
            clock=self.clock,
            composed_by=by.email,
            text_md=text_md,
            title=title,
            send_at=send_at,
        )
        self._audit(
            by,
            Action.COMPOSE,
            mailing.id,
            f"composed {followups.NAMES[follow_kind]} {mailing.id} of press release "
            f"{original_id}: {mailing.subject}" + self._times_words(mailing),
            {
                "kind": str(mailing.kind),
                "follow_kind": str(follow_kind),
                "follows": original_id,
                "items": list(mailing.item_ids),
                **self._times_details(mailing),
            },
        )
        return mailing

    def _compose_press(
        self,
        item_id: int,
        source: str,
        by: Actor,
        send_at: datetime | None,
        embargo: datetime | None,
        segment: str | None,
        where: str | None,
        extra: dict[str, Any],
    ) -> Mailing:
        """The press draft of ``item_id`` and its one audit entry (``source`` says where
        the text came from)."""
        mailing = compose.compose_press(
            self.settings,
            self.store,
            item_id,
            clock=self.clock,
            send_at=send_at,
            embargo=embargo,
            composed_by=by.email,
            segment=segment,
            where=where,
        )
        self._audit(
            by,
            Action.COMPOSE,
            mailing.id,
            f"composed press release {mailing.id} from {source}: {mailing.subject}"
            + self._times_words(mailing),
            {
                "kind": str(mailing.kind),
                "items": [item_id],
                **self._times_details(mailing),
                **extra,
                **_segment(mailing),
            },
        )
        return mailing

    def _times_words(self, mailing: Mailing) -> str:
        words = []
        if mailing.send_at is not None:
            words.append(f"send time {self.local(mailing.send_at)}")
        if mailing.embargo_at is not None:
            words.append(f"embargo {self.local(mailing.embargo_at)}")
        return f" ({', '.join(words)})" if words else ""

    @staticmethod
    def _times_details(mailing: Mailing) -> dict[str, Any]:
        return {"send_at": mailing.send_at, "embargo": mailing.embargo_at}

    # --- editing -------------------------------------------------------------------

    def edit(
        self,
        mailing_id: int,
        *,
        by: Actor,
        subject: str | None = None,
        intro_md: str | None = None,
        preheader: str | None = None,
        item_ids: Sequence[int] | None = None,
        send_at: datetime | None = _UNSET,
        embargo_at: datetime | None = _UNSET,
        lists: Sequence[str] | None = None,
        segment: str | None = _UNSET,
        where: str | None = _UNSET,
        version: datetime | None = None,
    ) -> Mailing:
        """Change a mailing; an approved or scheduled one returns to draft (renders dropped).

        ``segment`` (a name in ``[segments]``) or ``where`` (a condition) replaces the
        mailing's segment; either given as None and the other not given clears it.

        ``version`` (the ``updated_at`` the editor saw): refuse if it changed since.
        ``by`` becomes the mailing's last editor (the four-eyes rule asks for another).
        """
        require(by, Action.EDIT)
        return self._edit(
            mailing_id,
            by=by,
            subject=subject,
            intro_md=intro_md,
            preheader=preheader,
            item_ids=item_ids,
            send_at=send_at,
            embargo_at=embargo_at,
            lists=lists,
            segment=segment,
            where=where,
            version=version,
        )

    def _edit(
        self,
        mailing_id: int,
        *,
        by: Actor,
        subject: str | None = None,
        intro_md: str | None = None,
        preheader: str | None = None,
        item_ids: Sequence[int] | None = None,
        send_at: datetime | None = _UNSET,
        embargo_at: datetime | None = _UNSET,
        lists: Sequence[str] | None = None,
        segment: str | None = _UNSET,
        where: str | None = _UNSET,
        version: datetime | None = None,
        action: Action = Action.EDIT,
        editor: bool = True,
    ) -> Mailing:
        """The edit, checked by the caller; ``editor=False``: ``by`` does not become the
        last editor (the send time set by ``schedule``, part of an approver's decision)."""
        values: dict[str, Any] = {}
        if subject is not None:
            if not subject.strip():
                raise ComposeError(
                    f"mailing {mailing_id}: the subject cannot be empty", mailing_id=mailing_id
                )
            values["subject"] = subject.strip()
        if intro_md is not None:
            values["intro_md"] = intro_md
        if preheader is not None:
            values["preheader"] = preheader.strip()
        if send_at is not _UNSET:
            values["send_at"] = send_at
        if embargo_at is not _UNSET:
            values["embargo_at"] = embargo_at
        if lists is not None:
            values["lists"] = list(lists)
        if segment is not _UNSET or where is not _UNSET:
            name, condition = choose_segment(
                self.settings,
                self.store,
                None if segment is _UNSET else segment,
                None if where is _UNSET else where,
            )
            values.update(segment_name=name, segment_where=condition)
        if item_ids is not None:
            if len(set(item_ids)) != len(item_ids):
                raise ComposeError(
                    f"mailing {mailing_id}: the same item cannot appear twice",
                    mailing_id=mailing_id,
                )
            if not item_ids:
                raise ComposeError(
                    f"mailing {mailing_id} would have no items left; cancel it instead",
                    mailing_id=mailing_id,
                )
        mailing = self.get(mailing_id)
        lifecycle.require_editable(mailing)
        self._check_version(mailing, version)
        if mailing.follows_id is not None:
            followups.check_edit(mailing, values)
        changed = frozenset(values) & {"send_at", "embargo_at"}
        # Only a change of a time needs the zone (tests step mailings without settings).
        tz = self.settings.organisation.tz if changed else None
        if tz is not None:
            check_times(
                send_at=values.get("send_at", mailing.send_at),
                embargo_at=values.get("embargo_at", mailing.embargo_at),
                now=self.clock.now(),
                tz=tz,
                kind=mailing.kind,
                changed=changed,
                mailing_id=mailing_id,
            )
        if editor:
            values["last_edited_by"] = by.email
        if mailing.status != S.DRAFT:
            values.update(status=str(S.DRAFT), approved_at=None, approved_by=None)
        if not store_mailings.update_mailing(
            self.store,
            mailing_id,
            expected=[mailing.status],
            now=self.clock.now(),
            values=values,
            item_ids=item_ids,
        ):
            self._lost_race(mailing_id, "edited")
        after = self.get(mailing_id)
        summary, details = describe_edit(mailing, after, tz)
        if action == Action.EDIT:
            self._audit(by, Action.EDIT, mailing_id, summary, details)
        return after

    def reorder(
        self,
        mailing_id: int,
        *,
        drop: Collection[int] = (),
        positions: Mapping[int, float] | None = None,
        step: tuple[int, int] | None = None,
        version: datetime | None = None,
        by: Actor,
    ) -> Mailing:
        """Drop and move items in one change (see ``items.reorder`` for the rules)."""
        require(by, Action.EDIT)
        mailing = self.get(mailing_id)
        order = items.reorder(mailing.item_ids, drop=drop, positions=positions, step=step)
        return self.edit(mailing_id, item_ids=order, version=version, by=by)

    def drop_item(self, mailing_id: int, item_id: int, *, by: Actor) -> Mailing:
        return self.reorder(mailing_id, drop={item_id}, by=by)

    def move_item(self, mailing_id: int, item_id: int, position: int, *, by: Actor) -> Mailing:
        """Move an item to ``position`` (1 is the first)."""
        require(by, Action.EDIT)
        mailing = self.get(mailing_id)
        return self.edit(
            mailing_id, item_ids=items.moved(mailing.item_ids, item_id, position), by=by
        )

    def add_item(
        self, mailing_id: int, item_id: int, *, by: Actor, position: int | None = None
    ) -> Mailing:
        """Add any collected item (at ``position``, default the end)."""
        require(by, Action.EDIT)
        if item_id not in load_items(self.store, [item_id]):
            raise ComposeError(f"item {item_id}: no such item", mailing_id=mailing_id)
        mailing = self.get(mailing_id)
        return self.edit(
            mailing_id, item_ids=items.added(mailing.item_ids, item_id, position), by=by
        )

    def restore_item(
        self, mailing_id: int, item_id: int, *, by: Actor, position: int | None = None
    ) -> Mailing:
        """Bring a dropped item back (at ``position``, default the end)."""
        return self.add_item(mailing_id, item_id, position=position, by=by)

    def set_send_at(self, mailing_id: int, when: datetime | None, *, by: Actor) -> Mailing:
        """Set (or with None clear) the send time; like any edit this needs a new
        approval, because the render states the time (embargo line, issue date)."""
        return self.edit(mailing_id, send_at=when, by=by)

    def clear_send_at(self, mailing_id: int, *, by: Actor) -> Mailing:
        return self.set_send_at(mailing_id, None, by=by)

    def set_embargo(self, mailing_id: int, when: datetime | None, *, by: Actor) -> Mailing:
        """Set (or with None lift) a press release's embargo; a new approval follows,
        because subject and text state it."""
        return self.edit(mailing_id, embargo_at=when, by=by)

    def rerender(self, mailing_id: int, *, by: Actor) -> list[RenderedMailing]:
        """Render a draft again (items or templates may have changed). Not audited: it
        changes no content, only brings the stored render up to date."""
        require(by, Action.EDIT)
        mailing = self.get(mailing_id)
        if mailing.status != S.DRAFT:
            raise TransitionError(
                f"mailing {mailing_id} is {mailing.status}; only a draft is rendered again",
                mailing_id=mailing_id,
                current=str(mailing.status),
            )
        return render_draft(self.settings, self.store, mailing, clock=self.clock)

    # --- deciding ------------------------------------------------------------------

    def approve(self, mailing_id: int, *, by: Actor, version: datetime | None = None) -> Mailing:
        """Render, check and approve a draft, if the policy lets ``by``: ``scheduled`` when
        its send time lies ahead, else ``approved``. From now on its render is frozen."""
        require(by, Action.APPROVE)
        approved = self._approve(mailing_id, by=by, version=version)
        self._audit(
            by,
            Action.APPROVE,
            mailing_id,
            f"approved {_label(approved)}"
            + (
                f" for {self.local(approved.send_at)}"
                if approved.status == S.SCHEDULED and approved.send_at
                else ""
            ),
            {"status": str(approved.status)},
        )
        return approved

    def _approve(self, mailing_id: int, *, by: Actor, version: datetime | None) -> Mailing:
        mailing = self.get(mailing_id)
        lifecycle.require(mailing, S.APPROVED)
        self._check_version(mailing, version)
        if not mailing.item_ids:
            raise ComposeError(
                f"mailing {mailing_id} has no items; add some or cancel it", mailing_id=mailing_id
            )
        times.check_not_passed(
            mailing.embargo_at,
            now=self.clock.now(),
            tz=self.settings.organisation.tz,
            mailing_id=mailing_id,
        )
        if mailing.follows_id is not None and mailing.follow_kind is not None:
            # what held at compose may not hold now (the embargo ran out, a withdrawal)
            followups.check(
                self.settings,
                self.store,
                self.get(mailing.follows_id),
                mailing.follow_kind,
                now=self.clock.now(),
                send_at=mailing.send_at,
            )
        assert self.policy is not None
        refusal = self.policy(mailing, by)
        if refusal:
            raise ApprovalRefused(
                f"mailing {mailing_id}: {by.email} may not approve it: {refusal}",
                mailing_id=mailing_id,
            )
        render_draft(self.settings, self.store, mailing, clock=self.clock)
        target = lifecycle.approval_target(mailing, self.clock.now())
        # The version is part of the same update: an edit between the render and this
        # step (which dropped the render) makes the approval fail instead of slipping by.
        if not store_mailings.set_status(
            self.store,
            mailing_id,
            target,
            expected=S.DRAFT,
            now=self.clock.now(),
            by=by.email,
            version=mailing.updated_at,
        ):
            self._lost_race(mailing_id, "approved")
        log.info("mailing %s", target, extra={"mailing": mailing_id, "by": by.email})
        return self.get(mailing_id)

    def schedule(self, mailing_id: int, when: datetime, *, by: Actor) -> Mailing:
        """Set the send time of a draft and approve it: it is ``scheduled`` until then.

        The send time is part of this decision, so it does not make ``by`` the last
        editor (the four-eyes rule looks at who wrote the content); the audit entry says
        which time was set."""
        require(by, Action.SCHEDULE)
        require(by, Action.APPROVE)
        before = self.get(mailing_id)
        check_times(
            send_at=when,
            embargo_at=before.embargo_at,
            now=self.clock.now(),
            tz=self.settings.organisation.tz,
            kind=before.kind,
            changed=frozenset({"send_at"}),
            mailing_id=mailing_id,
        )
        assert self.policy is not None
        # Asked before the send time is written, so a refused schedule changes nothing.
        refusal = self.policy(before, by)
        if refusal:
            raise ApprovalRefused(
                f"mailing {mailing_id}: {by.email} may not approve it: {refusal}",
                mailing_id=mailing_id,
            )
        self._edit(mailing_id, send_at=when, by=by, action=Action.SCHEDULE, editor=False)
        scheduled = self._approve(mailing_id, by=by, version=None)
        self._audit(
            by,
            Action.SCHEDULE,
            mailing_id,
            f"scheduled {_label(scheduled)} for {self.local(when)}",
            {"send_at": when, "was": before.send_at, "status": str(scheduled.status)},
        )
        return scheduled

    def cancel(self, mailing_id: int, *, by: Actor) -> Mailing:
        """Cancel a mailing that is not sending (a newsletter's period is free again)."""
        require(by, Action.CANCEL)
        mailing = self.get(mailing_id)
        lifecycle.require(mailing, S.CANCELLED)
        if not store_mailings.set_status(
            self.store, mailing_id, S.CANCELLED, expected=mailing.status, now=self.clock.now()
        ):
            self._lost_race(mailing_id, "cancelled")
        log.info("mailing cancelled", extra={"mailing": mailing_id, "by": by.email})
        self._audit(
            by,
            Action.CANCEL,
            mailing_id,
            f"cancelled {_label(mailing)} (was {mailing.status})",
            {"was": str(mailing.status)},
        )
        return self.get(mailing_id)

    # --- sending -------------------------------------------------------------------

    def check_due(self, mailing: Mailing) -> None:
        """``NotDueError`` for an approved or scheduled mailing whose send time lies ahead."""
        if mailing.status in lifecycle.SENDABLE and not lifecycle.is_due(
            mailing.send_at, self.clock.now()
        ):
            assert mailing.send_at is not None
            raise NotDueError(
                f"mailing {mailing.id} is {mailing.status} for {self.local(mailing.send_at)} "
                f"({self.settings.organisation.time_zone}) and is not sent before then; "
                f"to send it earlier, change its send time and approve it again",
                mailing_id=mailing.id,
            )

    def send_now(
        self,
        mailing_id: int,
        *,
        transport: Transport | None = None,
        dry_run: bool = False,
        stop: StopCheck | None = None,
        progress: ProgressCallback | None = None,
        wait_for_retries: bool = True,
        worker: str | None = None,
        resume_paused: bool = True,
        by: Actor,
    ) -> SendReport:
        """Send an approved mailing whose time has come, or resume one that is sending
        or paused (``resume_paused=False``, the daemon: leave a paused one alone); each
        recipient gets it once (the outbox). A run that moved nothing (the daemon's look
        at a send waiting for retries) writes no audit entry."""
        require(by, Action.SEND)
        report = self._send(
            mailing_id,
            transport=transport,
            dry_run=dry_run,
            stop=stop,
            progress=progress,
            wait_for_retries=wait_for_retries,
            worker=worker,
            resume_paused=resume_paused,
        )
        if not dry_run and (report.sent or report.failed or report.status != S.SENDING):
            self._audit(
                by,
                Action.SEND,
                mailing_id,
                f"sent mailing {mailing_id}: {report.sent} sent, {report.failed} failed"
                + (f", {report.status}" if report.status else ""),
                {"sent": report.sent, "failed": report.failed, "status": report.status},
            )
        if not dry_run:
            self._lifted(mailing_id, by)
        return report

    def _lifted(self, mailing_id: int, by: Actor) -> None:
        """A lift that has gone out moves its original's embargo (``followups``); the
        original's audit trail says so."""
        lift = self.find(mailing_id)
        if lift is None or lift.follows_id is None:
            return
        at = followups.after_send(self.store, lift, now=self.clock.now())
        if at is not None:
            self._audit(
                by,
                Action.SEND,
                lift.follows_id,
                f"embargo of press release {lift.follows_id} lifted by mailing {mailing_id}: "
                f"it may be published from {self.local(at)}",
                {"lifted_by": mailing_id, "embargo": at},
            )

    def _send(
        self,
        mailing_id: int,
        *,
        transport: Transport | None,
        dry_run: bool,
        stop: StopCheck | None,
        progress: ProgressCallback | None,
        wait_for_retries: bool,
        worker: str | None,
        resume_paused: bool = True,
    ) -> SendReport:
        mailing = self.find(mailing_id)
        if mailing is not None and mailing.status == S.DRAFT:
            raise TransitionError(
                f"mailing {mailing_id} is a draft; approve it before sending",
                mailing_id=mailing_id,
                current=str(mailing.status),
                wanted=str(S.SENDING),
            )
        if mailing is not None:
            self.check_due(mailing)
        # The outbox refuses the rest (unknown, sent, cancelled) in its own words.
        return send_mailing(
            self.settings,
            self.store,
            mailing_id,
            clock=self.clock,
            transport=transport,
            dry_run=dry_run,
            stop=stop,
            progress=progress,
            wait_for_retries=wait_for_retries,
            worker=worker,
            resume_paused=resume_paused,
        )

    def pause(self, mailing_id: int, *, reason: str, by: Actor) -> Mailing:
        """Stop a mailing that is sending (senders finish their chunk and let go)."""
        require(by, Action.SEND)
        mailing = self.get(mailing_id)
        lifecycle.require(mailing, S.PAUSED)
        if not store_mailings.set_status(
            self.store,
            mailing_id,
            S.PAUSED,
            expected=S.SENDING,
            now=self.clock.now(),
            reason=reason,
        ):
            self._lost_race(mailing_id, "paused")
        self._audit(
            by, audit.PAUSE, mailing_id, f"paused {_label(mailing)}: {reason}", {"reason": reason}
        )
        return self.get(mailing_id)

    def resume(self, mailing_id: int, *, by: Actor, **send: Any) -> SendReport:
        """Send a paused mailing on from where it stopped."""
        require(by, Action.SEND)
        mailing = self.get(mailing_id)
        lifecycle.require(mailing, S.SENDING)
        self._audit(by, audit.RESUME, mailing_id, f"resumed {_label(mailing)}", {})
        return self.send_now(mailing_id, by=by, **send)

    def send_soon(self, mailing_id: int, *, by: Actor) -> Mailing:
        """Hand an approved mailing to the sending service to go out now ("Jetzt
        senden" in the web app): it becomes ``scheduled`` for this moment, and the
        daemon's next look (``sync``, every minute) sends it. Nothing is sent in the
        caller's process. Approval and render stay: what was approved is what goes out.

        A mailing already due is left as it is (a second click changes nothing); one
        scheduled for a later time is refused, because its render states that time:
        give it a new send time instead (``schedule``)."""
        require(by, Action.SEND)
        mailing = self.get(mailing_id)
        now = self.clock.now()
        if mailing.status == S.SCHEDULED and lifecycle.is_due(mailing.send_at, now):
            return mailing
        if mailing.status == S.SCHEDULED:
            assert mailing.send_at is not None
            raise TransitionError(
                f"mailing {mailing_id} is scheduled for {self.local(mailing.send_at)}; "
                "to send it earlier, give it a new send time",
                mailing_id=mailing_id,
                current=str(mailing.status),
                wanted=str(S.SENDING),
            )
        if mailing.status != S.APPROVED:
            why = (
                "a draft; approve it before sending"
                if mailing.status == S.DRAFT
                else f"{mailing.status}; it cannot be sent now"
            )
            raise TransitionError(
                f"mailing {mailing_id} is {why}",
                mailing_id=mailing_id,
                current=str(mailing.status),
                wanted=str(S.SENDING),
            )
        times.check_not_passed(
            mailing.embargo_at, now=now, tz=self.settings.organisation.tz, mailing_id=mailing_id
        )
        if not store_mailings.make_due(self.store, mailing_id, now=now):
            self._lost_race(mailing_id, "handed to the sending service")
        self._audit(
            by,
            Action.SEND,
            mailing_id,
            f"handed {_label(mailing)} to the sending service to go out now",
            {"send_at": now, "was": mailing.send_at, "status": str(S.SCHEDULED)},
        )
        return self.get(mailing_id)

    def hand_back(self, mailing_id: int, *, by: Actor) -> Mailing:
        """Resume a paused mailing through the sending service ("Fortsetzen" in the web
        app): it is ``sending`` again and the daemon's next look (``sync``) sends on from
        where it stopped, each recipient once; nothing is sent in the caller's process."""
        require(by, Action.SEND)
        mailing = self.get(mailing_id)
        lifecycle.require(mailing, S.SENDING)
        if not store_mailings.set_status(
            self.store, mailing_id, S.SENDING, expected=S.PAUSED, now=self.clock.now()
        ):
            self._lost_race(mailing_id, "resumed")
        self._audit(
            by,
            audit.RESUME,
            mailing_id,
            f"resumed {_label(mailing)}: handed back to the sending service",
            {"by_service": True},
        )
        return self.get(mailing_id)

    def send_test_copy(
        self,
        mailing_id: int,
        to: str,
        *,
        language: str | None = None,
        transport: Transport | None = None,
        person: str | None = None,
        by: Actor,
    ) -> SendResult:
        """One copy marked as a test to ``to``; changes no state (a draft is rendered).
        ``to`` must be one of ``test_recipients`` (``PermissionDenied`` otherwise).

        It is the copy of ``person`` (the address of one of the mailing's recipients,
        ``TestPersonRefused`` for anyone else) or of the preview's sample person: the
        same greeting and name; only its links are test links, which change nothing."""
        require(by, Action.TEST_COPY)
        to = test_recipients.check(self.settings, self.store, by, to)
        mailing = self.get(mailing_id)
        if mailing.status in (S.SENT, S.CANCELLED):
            raise TransitionError(
                f"mailing {mailing_id} is {mailing.status}; no test copies any more",
                mailing_id=mailing_id,
                current=str(mailing.status),
            )
        wanted = language or (mailing.languages or (self.settings.organisation.language,))[0]
        if person:
            recipient = person_for(self.store, mailing, person)
            if recipient is None:
                raise TestPersonRefused(
                    f"{person.strip()!r} is not a recipient of mailing {mailing_id} "
                    "(its lists and segment): a test copy is the sample person's or a "
                    "recipient's",
                    mailing_id=mailing_id,
                    person=person.strip(),
                )
        else:
            recipient = sample_for(mailing, wanted)
        self.renders(mailing)
        own = transport is None and self.transport_factory is not None
        if own:
            assert self.transport_factory is not None
            transport = self.transport_factory()
        try:
            result = send_test(
                self.settings,
                self.store,
                mailing_id,
                to,
                clock=self.clock,
                transport=transport,
                language=language,
                person=recipient,
            )
        finally:
            if own and transport is not None:
                transport.close()
        self._audit(
            by,
            Action.TEST_COPY,
            mailing_id,
            f"test copy of {_label(mailing)} to {to} as "
            + (recipient.email if person else "the sample person")
            + ("" if result.ok else " (refused)"),
            {
                "to": to,
                "language": language,
                "person": recipient.email if person else "",
                "ok": result.ok,
                "error": result.error,
            },
        )
        return result

    def test_people(self, mailing_id: int, *, limit: int = 25) -> list[Recipient]:
        """Whose copy a test copy can be besides the sample person: the first ``limit``
        recipients of the mailing (a look)."""
        return people(self.store, self.get(mailing_id), limit=limit)

    def test_recipients(self, by: Actor) -> list[str]:
        """The addresses ``by`` may send test copies to (see ``test_recipients``)."""
        return test_recipients.allowed(self.settings, self.store, by)

    # --- press kits (``kits``) -------------------------------------------------------

    def files(self, mailing_id: int) -> list[PressFile]:
        """The press kit of a mailing, by name (a look)."""
        self.get(mailing_id)
        return store_files.list_files(self.store, mailing_id)

    def add_file(
        self,
        mailing_id: int,
        *,
        by: Actor,
        data: bytes | None = None,
        path: Path | None = None,
        name: str | None = None,
        credit: str = "",
        licence: str = "",
        alt_text: str = "",
    ) -> PressFile:
        """Add a file (``data``, or the file at ``path``) to a press release's kit while
        it is editable; ``name`` (default: the path's) is made safe and unique. An image
        gets a preview for the mail; a broken one is refused. Back to draft, audited."""
        require(by, Action.EDIT)
        mailing = self._kit_editable(mailing_id)
        if data is None:
            if path is None:
                raise PressFileError("give the file's bytes or its path", field="file")
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise PressFileError(
                    f"cannot read {path}: {exc.strerror or exc}", field="file"
                ) from exc
            name = name or path.name
        if not data:
            raise PressFileError(f"file {name or ''!r} is empty", field="file")
        limit = self.settings.press.max_file_bytes
        if len(data) > limit:
            raise PressFileError(
                f"file {name or ''!r} has {len(data)} bytes, more than [press] "
                f"max_file_bytes ({limit})",
                field="file",
            )
        values = kits.new_file_values(
            self.settings,
            self.store,
            mailing_id,
            name=name or "",
            data=data,
            credit=credit,
            licence=licence,
            alt_text=alt_text,
        )
        added = store_files.add_file(self.store, values, now=self.clock.now())
        self._kit_changed(mailing, by)
        self._audit(
            by,
            Action.EDIT,
            mailing_id,
            f"added {added.name} ({added.content_type}, {added.size} bytes) to the press kit "
            f"of {_label(mailing)}",
            {"file": added.name, "sha256": added.sha256, "size": added.size},
        )
        return added

    def remove_file(self, mailing_id: int, name: str, *, by: Actor) -> PressFile:
        """Remove a file from the kit while the release is editable; back to draft, audited."""
        require(by, Action.EDIT)
        mailing = self._kit_editable(mailing_id)
        found = store_files.find_file(self.store, mailing_id, name)
        if found is None:
            raise PressFileError(
                f"mailing {mailing_id} has no file {name!r}", mailing_id=mailing_id, field="name"
            )
        store_files.remove_file(self.store, found, kits.folder(self.settings))
        self._kit_changed(mailing, by)
        self._audit(
            by,
            Action.EDIT,
            mailing_id,
            f"removed {found.name} from the press kit of {_label(mailing)}",
            {"file": found.name, "sha256": found.sha256},
        )
        return found

    def download(
        self, mailing_id: int, name: str, *, token: str = "", by: Actor | None = None
    ) -> kits.Download | None:
        """The file with its checked bytes if ``kits.may_download`` lets this request
        have it (``by``: a logged-in account), else None (the same for an unknown one).
        ``PressFileError`` when the bytes on disk are missing or altered."""
        mailing = self.find(mailing_id)
        if mailing is None:
            return None
        found = store_files.find_file(self.store, mailing_id, name)
        if found is None:
            return None
        now = self.clock.now()
        editor = by is not None and allowed(by, Action.VIEW)
        try:
            secret = self.settings.secret(self.settings.web.secret_env, key="web.secret_env")
        except ConfigError:
            secret = ""  # no signing secret: no personal link can be genuine
        if not kits.may_download(
            self.settings, self.store, mailing, name, now=now, secret=secret, token=token,
            editor=editor,
        ):  # fmt: skip
            return None
        data = store_files.read_blob(
            kits.folder(self.settings), found.sha256, what=f"mailing {mailing_id}, {name}"
        )
        return kits.Download(found, data, kits.released(mailing, now))

    def preview_image(
        self, mailing_id: int, name: str, *, token: str = "", by: Actor | None = None
    ) -> kits.Download | None:
        """An image's preview under the same rule as the file (None otherwise)."""
        found = self.download(mailing_id, name, token=token, by=by)
        if found is None or found.file.preview_sha256 is None:
            return None
        data = store_files.read_blob(
            kits.folder(self.settings),
            found.file.preview_sha256,
            what=f"mailing {mailing_id}, preview of {name}",
        )
        return kits.Download(found.file, data, found.public)

    def _kit_editable(self, mailing_id: int) -> Mailing:
        mailing = self.get(mailing_id)
        if mailing.kind != MailingKind.PRESS:
            raise PressFileError(
                f"mailing {mailing_id} is a newsletter; press kits belong to press releases",
                mailing_id=mailing_id,
            )
        lifecycle.require_editable(mailing)
        return mailing

    def _kit_changed(self, mailing: Mailing, by: Actor) -> None:
        """The mail lists the files: the render is dropped, an approval is needed again."""
        values: dict[str, Any] = {"last_edited_by": by.email}
        if mailing.status != S.DRAFT:
            values.update(status=str(S.DRAFT), approved_at=None, approved_by=None)
        if not store_mailings.update_mailing(
            self.store, mailing.id, expected=[mailing.status], now=self.clock.now(), values=values
        ):
            self._lost_race(mailing.id, "edited")

    # --- helpers -------------------------------------------------------------------

    def local(self, when: datetime) -> str:
        """An instant in the organisation's time zone, as people read it."""
        return times.local(when, self.settings.organisation.tz)

    def _check_version(self, mailing: Mailing, version: datetime | None) -> None:
        if version is not None and version != mailing.updated_at:
            raise TransitionError(
                f"mailing {mailing.id} was changed in the meantime; look at it again",
                mailing_id=mailing.id,
                current=str(mailing.status),
            )

    def _audit(
        self,
        by: Actor,
        action: Action | str,
        mailing_id: int,
        summary: str,
        details: dict[str, Any],
    ) -> None:
        audit.record(
            self.store,
            by,
            action,
            target=("mailing", mailing_id),
            summary=summary,
            details=details,
            clock=self.clock,
        )

    def _lost_race(self, mailing_id: int, action: str) -> None:
        now = self.get(mailing_id)
        raise TransitionError(
            f"mailing {mailing_id} changed while it was being {action} (it is {now.status} "
            "now); look at it again",
            mailing_id=mailing_id,
            current=str(now.status),
        )


def _label(mailing: Mailing) -> str:
    kind = "press release" if mailing.kind == MailingKind.PRESS else "newsletter"
    return f"{kind} {mailing.id} ({mailing.subject})"


def describe_edit(
    before: Mailing, after: Mailing, tz: tzinfo | None = None
) -> tuple[str, dict[str, Any]]:
    """What an edit changed, in words for the audit log and as data (old, new)."""
    changes: dict[str, Any] = {}
    words: list[str] = []
    for name in ("subject", "preheader", "send_at", "embargo_at", "lists", "segment_where"):
        old, new = getattr(before, name), getattr(after, name)
        if old != new:
            changes[name] = {"from": old, "to": new}
            label = "embargo" if name == "embargo_at" else name.replace("_", " ")
            words.append(f"{label} {_short(old, tz)} → {_short(new, tz)}")
    if before.intro_md != after.intro_md:
        changes["intro_md"] = {"from_chars": len(before.intro_md), "to_chars": len(after.intro_md)}
        words.append("intro text")
    if before.item_ids != after.item_ids:
        added = [i for i in after.item_ids if i not in before.item_ids]
        dropped = [i for i in before.item_ids if i not in after.item_ids]
        changes["items"] = {"from": list(before.item_ids), "to": list(after.item_ids)}
        parts = [f"+{i}" for i in added] + [f"-{i}" for i in dropped]
        words.append("items " + (" ".join(parts) if parts else "reordered"))
    if before.status != after.status:
        changes["status"] = {"from": str(before.status), "to": str(after.status)}
    summary = f"edited {_label(after)}: " + ("; ".join(words) if words else "no change")
    if before.status != after.status:
        summary += f" (was {before.status}, a draft again)"
    return summary, changes


def _short(value: Any, tz: tzinfo | None = None) -> str:
    if value is None or value == () or value == "":
        return "(none)"
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, datetime):
        # In the organisation's zone: the audit log is read by people, not in UTC.
        return times.local(value, tz) if tz is not None else value.isoformat(timespec="minutes")
    text = str(value)
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _segment(mailing: Mailing) -> dict[str, Any]:
    """The segment of a new mailing for its audit entry (nothing when it has none)."""
    if mailing.segment_where is None:
        return {}
    return {"segment": mailing.segment_name, "where": mailing.segment_where}
