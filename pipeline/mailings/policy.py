"""Who may approve what: a policy hook the workflow asks before every approval.

A policy is a callable ``(mailing, by) -> str | None``: None lets ``by`` approve,
a string is the reason why not (``ApprovalRefused`` carries it). The default lets
everyone approve everything; named users with roles and a second person for press
releases plug in here.
"""

from __future__ import annotations

from typing import Protocol

from pipeline.models import Mailing


class ApprovalPolicy(Protocol):
    def __call__(self, mailing: Mailing, by: str) -> str | None:
        """None when ``by`` may approve ``mailing``; otherwise the reason why not."""
        ...


def anyone_may_approve(mailing: Mailing, by: str) -> str | None:
    """The default policy: every approver may approve every mailing."""
    return None
