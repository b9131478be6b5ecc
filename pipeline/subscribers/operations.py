"""The audience operations an account does, checked and audited (see the package)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline import audience, audit, segments
from pipeline.access import Action, Actor, require
from pipeline.clock import Clock
from pipeline.config import Settings
from pipeline.errors import AudienceError
from pipeline.store import Store
from pipeline.store import audience as store_audience
from pipeline.welcome import Welcomes


def address_ref(email: str) -> str:
    """A reference to an address that does not show it: the start of its hash (as the
    suppression list keys it), for entries about an address that is no subscriber."""
    try:
        key = audience.normalise_email(email)
    except audience.AddressError:
        key = email.strip().lower()
    return audience.email_hash(key)[:16]


def _target(subscriber_id: int | None, email: str) -> audit.Target:
    if subscriber_id is not None:
        return ("subscriber", subscriber_id)
    return ("address", address_ref(email))


def _who(subscriber_id: int | None, email: str) -> str:
    if subscriber_id is not None:
        return audit.subscriber_ref(subscriber_id)
    return f"address {address_ref(email)}…"


@dataclass
class Subscribers:
    """The audience operations, bound to one store and clock."""

    settings: Settings
    store: Store
    clock: Clock

    def show(
        self, subscriber_id: int, *, by: Actor
    ) -> tuple[audience.SubscriberRecord | None, list[audit.AuditEntry]]:
        """A subscriber (None once erased) and the audit entries about them."""
        require(by, Action.VIEW)
        return (
            audience.subscriber_record(self.store, subscriber_id),
            audit.entries(self.store, subscriber=subscriber_id),
        )

    def search(
        self,
        *,
        by: Actor,
        text: str | None = None,
        list_name: str | None = None,
        status: str | None = None,
        after_id: int = 0,
        limit: int = 50,
        where: str | None = None,
    ) -> list[store_audience.SubscriberRow]:
        """Subscribers whose address or name contains ``text``, on ``list_name`` with
        ``status`` when given, for whom the segment expression ``where`` holds (their
        attributes: ``region = "Brandenburg"``; ``SegmentError`` when it does not parse),
        in id order from ``after_id`` (keyset pages)."""
        require(by, Action.VIEW)
        condition = segments.parse_optional(where)
        return store_audience.list_subscribers(
            self.store,
            list_name=list_name or None,
            status=status or None,
            after_id=after_id,
            limit=limit,
            search=text or None,
            segment=condition,
        )

    def history(self, email: str, *, by: Actor) -> audience.PersonHistory:
        """What was sent to ``email`` and what came back (the person's page)."""
        require(by, Action.VIEW)
        return audience.person_history(self.store, email)

    def pending(self, *, by: Actor, limit: int = 200) -> list[store_audience.PendingSignup]:
        """Sign-ups waiting for their confirmation, the oldest first."""
        require(by, Action.VIEW)
        return store_audience.pending_signups(self.store, limit=limit)

    def counts(self, *, by: Actor) -> dict[str, dict[str, int]]:
        """``{list: {status: n}}`` over every subscription, from one grouped query."""
        require(by, Action.VIEW)
        return store_audience.count_subscriptions(self.store)

    def import_csv(
        self,
        path: str | Path,
        *,
        by: Actor,
        list_name: str | None = None,
        dry_run: bool = False,
        welcome: bool = False,
    ) -> audience.ImportReport:
        """Import a CSV file (``audience.import_file``); a dry run is not recorded.

        ``welcome``: the people the import subscribed (new subscriptions, pending ones
        activated) get their list's welcome mail, once per person and list whatever is
        imported again later. The templates are rendered before the import, so a
        missing one stops it before anybody is subscribed.
        """
        require(by, Action.IMPORT)
        welcomes = None
        if welcome and not dry_run:
            welcomes = Welcomes(
                self.settings, self.store, self.clock, audience.signing_secret(self.settings)
            )
            if list_name is not None and not self.settings.list_named(list_name).welcome:
                raise AudienceError(
                    f"--welcome: the list {list_name!r} names no welcome template "
                    "(lists.welcome in the configuration)"
                )
            welcomes.check([list_name] if list_name else [m.name for m in self.settings.lists])
        report = audience.import_file(
            self.settings,
            self.store,
            path,
            clock=self.clock,
            list_name=list_name,
            dry_run=dry_run,
            keep_joined=welcomes is not None,
        )
        if welcomes is not None and report.joined is not None:
            report.welcomed = welcomes.queue_all(
                (j.subscriber_id, j.list_name) for j in report.joined
            )
        if not dry_run:
            lists = ", ".join(report.lists) or "(lists column)"
            self._record(
                by,
                Action.IMPORT,
                ("list", ",".join(report.lists)),
                f"imported {Path(path).name} into {lists}: {report.created} new, "
                f"{report.updated} updated, {report.subscribed} subscribed, "
                f"{len(report.errors)} bad rows"
                + (f", {report.welcomed} welcome mails" if welcomes is not None else ""),
                {
                    "file": Path(path).name,
                    "lists": list(report.lists),
                    "rows": report.rows,
                    "created": report.created,
                    "updated": report.updated,
                    "unchanged": report.unchanged,
                    "subscribed": report.subscribed,
                    "errors": len(report.errors),
                    **({"welcomed": report.welcomed} if welcomes is not None else {}),
                },
            )
        return report

    def unsubscribe(
        self, email: str, list_names: Sequence[str] | None = None, *, by: Actor
    ) -> audience.UnsubscribeOutcome:
        """End ``email``'s subscriptions (all when ``list_names`` is None), by an editor."""
        require(by, Action.UNSUBSCRIBE)
        for name in list_names or ():
            self.settings.list_named(name)  # an unknown list stops here (ConfigError)
        ident = audience.subscriber_id(self.store, email)
        outcome = audience.unsubscribe(
            self.store, email, list(list_names) if list_names else None, clock=self.clock
        )
        if not outcome.lists and not outcome.suppressed:
            return outcome  # nothing changed, nothing to record
        ended = ", ".join(outcome.lists) or "no list"
        self._record(
            by,
            Action.UNSUBSCRIBE,
            _target(ident, email),
            f"unsubscribed {_who(ident, email)} from {ended}"
            + ("; address suppressed" if outcome.suppressed else ""),
            {
                "lists": list(outcome.lists),
                "suppressed": outcome.suppressed,
                "cancelled_deliveries": outcome.cancelled_deliveries,
            },
        )
        return outcome

    def suppress(
        self, email: str, reason: str = "manual", *, by: Actor, detail: str | None = None
    ) -> bool:
        """Put an address on the suppression list; False when it was there already."""
        require(by, Action.SUPPRESS)
        ident = audience.subscriber_id(self.store, email)
        added = audience.suppress(self.store, email, reason, clock=self.clock, detail=detail)
        self._record(
            by,
            Action.SUPPRESS,
            _target(ident, email),
            f"suppressed {_who(ident, email)} ({reason})"
            + ("" if added else ": it was suppressed already"),
            # the detail is free text and may name the person: it stays in the
            # suppression entry (scrubbed on erasure there), not in the log
            {"reason": reason, "added": added},
        )
        return added

    def export(self, email: str, *, by: Actor) -> dict[str, Any]:
        """Everything held on one person (DSGVO Art. 15); the export itself is recorded."""
        require(by, Action.EXPORT)
        ident = audience.subscriber_id(self.store, email)
        data = audience.export_person(self.settings, self.store, email, clock=self.clock)
        self._record(by, Action.EXPORT, _target(ident, email), f"exported {_who(ident, email)}", {})
        return data

    def erase(self, email: str, *, by: Actor) -> audience.EraseReport:
        """Erase a person (DSGVO Art. 17): their data goes, from the audit log too; the
        entries stay, naming them by id only."""
        require(by, Action.ERASE)
        ident = audience.subscriber_id(self.store, email)
        report = audience.erase_person(self.store, email, clock=self.clock)
        # erase_person refused an address that does not normalise: this one does
        addresses = [email, audience.normalise_email(email)]
        scrubbed = audit.scrub_subscriber(self.store, ident, addresses)
        self._record(
            by,
            Action.ERASE,
            _target(ident, email),
            f"erased {_who(ident, email)}: {report.subscriptions} subscriptions, "
            f"{report.deliveries_scrubbed} deliveries scrubbed",
            {
                "subscriber_erased": report.subscriber_erased,
                "subscriptions": report.subscriptions,
                "deliveries_scrubbed": report.deliveries_scrubbed,
                "audit_entries_scrubbed": scrubbed,
            },
        )
        return report

    def _record(
        self,
        by: Actor,
        action: Action,
        target: audit.Target,
        summary: str,
        details: dict[str, Any],
    ) -> None:
        audit.record(
            self.store,
            by,
            action,
            target=target,
            summary=summary,
            details=details,
            clock=self.clock,
        )
