"""Signed tokens for the links in mails: unsubscribe, preferences, opt-in confirmation.

A token is ``<payload>.<signature>``, both base64url without padding, so it can stand in
a URL path as it is. The payload names the purpose, the subscriber and the list (and,
for confirmations, when it was issued); the signature is HMAC-SHA256 over the payload
with a key derived from the secret for that purpose, so a token minted for one purpose
is worthless for another, and nobody without the secret can make one for a different
subscriber or list. ``read_token`` compares signatures in constant time and raises
``AudienceError`` for anything that is not a token we made.

A test copy's unsubscribe and preferences links carry a token of purpose ``test`` (and
the mail's language): signed with its own key, so it can never pass as a real link, and
the pages it opens only say that this was a test.

Unsubscribe and preferences tokens carry no time: they stand in mails that are read for
years and must keep working. Confirmation tokens carry the time they were issued and
expire after ``audience.confirm_days`` (checked by the caller, who knows the clock).

A token names a subscriber by id, so it is only as good as the promise that an id is
never given to anyone else. Since migration 2 that holds on every back end (AUTOINCREMENT
on SQLite, sequences on PostgreSQL): the id dies with the subscriber, and the link of an
erased person finds nobody. Before it, SQLite handed the id of an erased newest
subscriber to the next one. Tokens made since carry version 2; a version-1 token (in
mails delivered before the upgrade) is honoured only for an id that existed when
migration 2 ran (``legacy_tokens``), because only those ids can still name the person
the token was made for. ``admit`` makes that check.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pipeline.errors import AudienceError

Purpose = Literal["unsubscribe", "preferences", "confirm", "test"]
PURPOSES: tuple[Purpose, ...] = ("unsubscribe", "preferences", "confirm", "test")
_VERSION = "2"
_LEGACY = "1"  # before migration 2: honoured only for ids up to legacy_tokens
_MAX_TOKEN = 512


class TokenError(AudienceError):
    """A token that is malformed, altered, expired or signed with another secret."""


@dataclass(frozen=True)
class Token:
    subscriber_id: int
    list_name: str
    purpose: Purpose
    issued_at: datetime | None = None
    legacy: bool = False  # version 1, made before ids were guaranteed never reused
    language: str = ""  # a test token: the language of the test copy it stands in


def admit(found: Token, legacy_limit: int) -> Token:
    """``found`` unless it is a version-1 token for an id created after migration 2 ran
    (``legacy_limit`` is the largest id then): such an id may have been an erased person's."""
    if found.legacy and found.subscriber_id > legacy_limit:
        raise TokenError("old-format token for a subscriber created after the upgrade")
    return found


def make_token(
    secret: str,
    subscriber_id: int,
    list_name: str,
    *,
    purpose: Purpose = "unsubscribe",
    issued_at: datetime | None = None,
    language: str = "",
) -> str:
    """A URL-safe signed token for one subscriber, list and purpose (``test``: with the
    test copy's ``language``)."""
    if not secret:
        raise AudienceError("cannot sign a token without a secret")
    if purpose not in PURPOSES:
        raise AudienceError(f"unknown token purpose {purpose!r}")
    if "." in list_name or not list_name:
        raise AudienceError(f"cannot make a token for list {list_name!r}")
    fields = [_VERSION, purpose, str(int(subscriber_id)), list_name]
    if purpose == "confirm":
        if issued_at is None:
            raise AudienceError("a confirmation token needs the time it is issued")
        fields.append(str(int(issued_at.timestamp())))
    if purpose == "test":
        if not language.isalpha():
            raise AudienceError(f"a test token needs the mail's language, not {language!r}")
        fields.append(language)
    payload = ".".join(fields).encode("utf-8")
    return f"{_b64(payload)}.{_b64(signature(secret, purpose, payload))}"


def read_token(secret: str, token: str, *, purpose: Purpose | None = None) -> Token:
    """Verify and decode a token; ``TokenError`` unless it is genuine (and of ``purpose``)."""
    if not secret:
        raise AudienceError("cannot check a token without a secret")
    if not token or len(token) > _MAX_TOKEN or token.count(".") != 1:
        raise TokenError("malformed token")
    encoded, _, signed = token.partition(".")
    try:
        payload = _unb64(encoded)
        sent = _unb64(signed)
        fields = payload.decode("utf-8").split(".")
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise TokenError("malformed token") from exc
    if len(fields) < 4 or fields[0] not in (_VERSION, _LEGACY) or fields[1] not in PURPOSES:
        raise TokenError("malformed token")
    found: Purpose = fields[1]  # type: ignore[assignment]
    expected = signature(secret, found, payload)
    if not hmac.compare_digest(sent, expected):
        raise TokenError("token signature does not match")
    if purpose is not None and found != purpose:
        raise TokenError(f"token is for {found}, not {purpose}")
    try:
        subscriber_id = int(fields[2])
        issued = (
            datetime.fromtimestamp(int(fields[4]), tz=UTC)
            if found == "confirm" and len(fields) == 5
            else None
        )
    except (ValueError, OverflowError, OSError) as exc:
        raise TokenError("malformed token") from exc
    if found == "test":
        if len(fields) != 5 or not fields[4].isalpha():
            raise TokenError("malformed token")
        return Token(subscriber_id, fields[3], found, None, fields[0] == _LEGACY, fields[4])
    if (found == "confirm") != (issued is not None) or len(fields) > 5:
        raise TokenError("malformed token")
    return Token(subscriber_id, fields[3], found, issued, fields[0] == _LEGACY)


def signature(secret: str, purpose: str, payload: bytes) -> bytes:
    """HMAC-SHA256 of ``payload`` under the key of ``purpose`` (also the press kit links')."""
    # One key per purpose: a preferences token can never pass as an unsubscribe token.
    key = hmac.new(
        secret.encode("utf-8"), f"rundbrief-token:{purpose}".encode(), hashlib.sha256
    ).digest()
    return hmac.new(key, payload, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text or any(c not in _ALPHABET for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
