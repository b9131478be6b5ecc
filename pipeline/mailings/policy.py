"""Who may approve what: the rule the workflow asks after the role table.

The role table (``access``) says who may approve at all (approvers and admins); the
approval policy says whether this approver may approve this mailing. A policy is a
callable ``(mailing, by) -> str | None``: None lets ``by`` approve, a string is the reason
why not (``ApprovalRefused`` carries it).

``FourEyes(settings)`` is the configured one (``[approval]``): per kind (default: a press
release needs an approver who did not last edit it, a newsletter any approver) and per
list (``[approval.lists]``); the strictest rule that applies wins, so adding a list to a
mailing can only make its approval stricter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pipeline.access import Actor
from pipeline.config import Settings
from pipeline.models import Mailing, MailingKind

FOUR_EYES = "four-eyes"
ANY_APPROVER = "any-approver"


class ApprovalPolicy(Protocol):
    def __call__(self, mailing: Mailing, by: Actor) -> str | None:
        """None when ``by`` may approve ``mailing``; otherwise the reason why not."""
        ...


def anyone_may_approve(mailing: Mailing, by: Actor) -> str | None:
    """Every approver may approve every mailing (the role table still applies)."""
    return None


def _kind_label(kind: MailingKind) -> str:
    return "press release" if kind == MailingKind.PRESS else "newsletter"


@dataclass(frozen=True)
class FourEyes:
    """The policy of ``[approval]``."""

    settings: Settings

    def rule(self, mailing: Mailing) -> str:
        """The rule that applies to ``mailing``: ``four-eyes`` if any source asks for it."""
        approval = self.settings.approval
        rules = [approval.press if mailing.kind == MailingKind.PRESS else approval.newsletter]
        rules += [approval.lists[name] for name in mailing.lists if name in approval.lists]
        return FOUR_EYES if FOUR_EYES in rules else ANY_APPROVER

    def __call__(self, mailing: Mailing, by: Actor) -> str | None:
        if self.rule(mailing) != FOUR_EYES:
            return None
        last = mailing.last_edited_by or mailing.composed_by
        if last and last.strip().lower() == by.email.strip().lower():
            return (
                f"{last} edited this {_kind_label(mailing.kind)} last; another approver "
                "must approve it (four-eyes rule, [approval])"
            )
        return None
