"""Why the editor pages refused something, in the pages' language (German).

The workflow says it for operators in English ("… may not approve: that needs the role
approver or higher"); an editor in the browser gets the same fact in German, naming her
role and the one needed.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from pipeline.access import LEAST_ROLE, Action, Role
from pipeline.errors import (
    FollowUpRefused,
    PermissionDenied,
    RecipientNotAllowed,
    RundbriefError,
    TimesRefused,
)

ROLE_NAMES = {Role.EDITOR: "Redaktion", Role.APPROVER: "Freigabe", Role.ADMIN: "Administration"}
ACTION_NAMES = {
    Action.VIEW: "Ansehen",
    Action.COMPOSE: "Ein Mailing anlegen",
    Action.EDIT: "Bearbeiten",
    Action.PREVIEW: "Die Vorschau",
    Action.TEST_COPY: "Eine Testkopie",
    Action.IMPORT: "Ein Import",
    Action.UNSUBSCRIBE: "Abmelden",
    Action.APPROVE: "Freigeben",
    Action.SCHEDULE: "Einplanen",
    Action.SEND: "Versenden",
    Action.CANCEL: "Absagen",
    Action.SUPPRESS: "Sperren",
    Action.EXPORT: "Eine Auskunft",
    Action.ERASE: "Löschen",
    Action.MANAGE_ACCOUNTS: "Konten verwalten",
    Action.MANAGE_LISTS: "Listen verwalten",
}


def reason(exc: RundbriefError, tz: tzinfo | None = None) -> str:
    """The refusal as an editor reads it: a role refusal or a time against the rule in
    German (times in ``tz``, the organisation's zone), else the message."""
    if isinstance(exc, TimesRefused) and tz is not None:
        return times_reason(exc, tz)
    if isinstance(exc, FollowUpRefused) and exc.problem in FOLLOW_UP_REASONS:
        return FOLLOW_UP_REASONS[exc.problem]
    if isinstance(exc, RecipientNotAllowed):
        return "Testkopien gehen nur an Adressen der Redaktion und an Konten des Vereins."
    if isinstance(exc, PermissionDenied) and exc.action in Action._value2member_map_:
        action = Action(exc.action)
        role = Role(exc.role) if exc.role in Role._value2member_map_ else None
        needed = ROLE_NAMES[LEAST_ROLE[action]]
        yours = f"Ihre Rolle ({ROLE_NAMES[role]})" if role else "Ihre Rolle"
        return f"{yours} erlaubt das nicht: {ACTION_NAMES[action]} braucht die Rolle {needed}."
    return str(exc)


# Why a follow-up was refused (``mailings.followups``), as the press office reads it.
FOLLOW_UP_REASONS = {
    "newsletter": "Nachträge gibt es nur zu Pressemitteilungen, nicht zu Newslettern.",
    "follow_up": "Dieses Mailing ist selbst ein Nachtrag. Bitte schreiben Sie den Nachtrag "
    "zur ursprünglichen Pressemitteilung.",
    "not_delivered": "Die Pressemitteilung wurde noch niemandem zugestellt; ein Nachtrag "
    "geht nur an die, die sie erhalten haben.",
    "withdrawn": "Die Pressemitteilung wurde zurückgezogen; danach gibt es keine Nachträge mehr.",
    "no_embargo": "Die Pressemitteilung hat keine Sperrfrist, die aufgehoben werden könnte.",
    "embargo_over": "Die Sperrfrist ist dann schon abgelaufen; es gibt nichts aufzuheben.",
    "no_text": "Eine Berichtigung oder Aktualisierung braucht einen Text: Was hat sich geändert?",
    "kind": "Bitte wählen Sie die Art des Nachtrags.",
    "audience": "Ein Nachtrag geht genau an die Empfänger der Pressemitteilung; Listen und "
    "Segment lassen sich nicht ändern.",
}


def _when(value: datetime | None, tz: tzinfo) -> str:
    return value.astimezone(tz).strftime("%d.%m.%Y, %H:%M Uhr") if value else ""


def times_reason(exc: TimesRefused, tz: tzinfo) -> str:
    """A send time or embargo against the rule (``mailings.times``), in German."""
    label = "Die Sperrfrist" if exc.field == "embargo" else "Der Versandzeitpunkt"
    at, other = _when(exc.at, tz), _when(exc.other, tz)
    if exc.problem == "past":
        return f"{label} {at} liegt in der Vergangenheit (jetzt ist es {other})."
    if exc.problem == "before_send":
        return (
            f"Die Sperrfrist ({at}) liegt vor dem Versand ({other}): Die Redaktionen bekämen "
            "die Mitteilung erst, wenn sie schon veröffentlicht werden darf. Legen Sie die "
            "Sperrfrist später oder den Versand früher."
        )
    if exc.problem == "passed":
        return f"Die Sperrfrist ({at}) ist abgelaufen. Setzen Sie eine neue oder entfernen Sie sie."
    if exc.problem == "newsletter":
        return "Nur eine Pressemitteilung hat eine Sperrfrist; ein Newsletter hat einen Versandzeitpunkt."
    return f"{label} braucht eine Zeitzone."
