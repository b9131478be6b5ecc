"""What a bounce is: the event value, and hard or soft from a status code.

Classification (``classify``): 4.x.x is soft; 5.x.x is hard except 5.2.2 (mailbox full)
and 5.7.x (policy: a block of our server, not a dead address), which count as soft.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class BounceKind(StrEnum):
    HARD = "hard"
    SOFT = "soft"
    COMPLAINT = "complaint"
    # the recipient unsubscribed through the provider (its own link or list)
    UNSUBSCRIBE = "unsubscribe"


@dataclass(frozen=True)
class BounceEvent:
    """One recipient that bounced or complained, as far as the report says."""

    kind: BounceKind
    # the address that failed, lower case; None when the report hides it (some ARF)
    recipient: str | None
    status: str | None  # enhanced status code "5.1.1"
    diagnostic: str
    # unique per report and recipient: processing a report twice counts once
    source_id: str
    original_message_id: str | None = None
    # the address as first given (a DSN's Original-Recipient), when it differs
    original_recipient: str | None = None
    # the addresses the report was sent to (where a VERP token lives)
    report_addresses: tuple[str, ...] = ()
    delivery_id: int | None = None  # known already (a webhook's metadata)
    provider_message_id: str | None = None
    source: str = "dsn"  # dsn | arf | text | a provider name (its webhook)


_ENHANCED = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
# a basic SMTP reply code ("550 ", "452-") not inside an enhanced one
BASIC_CODE = re.compile(r"(?<![\d.])([45]\d\d)(?:[ -])")
_HARD_WORDS = re.compile(
    r"user unknown|unknown user|no such user|does not exist|doesn't exist|"
    r"mailbox unavailable|address rejected|invalid recipient|recipient not found",
    re.IGNORECASE,
)
_FULL_WORDS = re.compile(
    r"mailbox (is )?full|over ?quota|quota exceeded|insufficient storage", re.I
)


def classify(status: str | None, diagnostic: str = "") -> BounceKind | None:
    """Hard, soft or nothing (a success or delay code) for an enhanced status code."""
    if not status:
        return None
    klass, subject, detail = ([*status.split("."), "0", "0"])[:3]
    if klass == "4":
        return BounceKind.SOFT
    if klass != "5":
        return None
    if (subject, detail) == ("2", "2") or subject == "7":
        return BounceKind.SOFT
    if (subject, detail) == ("0", "0") and _FULL_WORDS.search(diagnostic):
        return BounceKind.SOFT
    return BounceKind.HARD


def status_from_text(text: str) -> str | None:
    """The most telling status code in free text: an enhanced code, else a basic one."""
    enhanced = [".".join(m.groups()) for m in _ENHANCED.finditer(text)]
    specific = [code for code in enhanced if not code.endswith(".0.0")]
    if specific:
        return specific[0]
    basic = BASIC_CODE.search(text)
    if basic:
        code = basic.group(1)
        if code[0] == "5" and _HARD_WORDS.search(text):
            return "5.1.1"
        if _FULL_WORDS.search(text):
            return f"{code[0]}.2.2"
        return f"{code[0]}.0.0"
    if enhanced:
        return enhanced[0]
    return None
