"""The contract between the one webhook route and each provider's webhook (pure).

    POST /webhooks/<provider> ─▶ WebhookCall (headers, body, query, now)
        webhook.authenticate(call) ─ Refusal? ─▶ 401 / 503, nothing is read further
        webhook.nonce(call) seen before? ─▶ 401 "replayed"
        webhook.events(call) ─▶ BounceEvent values ─▶ bounces.BounceProcessor

A provider's webhook is built per request from its settings and ``secret`` (the one
function that turns an ``*_env`` name into its value, None when unset): a webhook whose
secret is not configured refuses with 503 and never accepts unauthenticated events.
``events`` raises ``ValueError`` for a body that is not the provider's; the events it
returns are normalised (``bounces`` knows no provider). Authentication says the provider
sent the event, not that we sent the message: ``bounces.match`` ties it to a delivery.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from pipeline.bounces import BounceEvent

# (environment variable name, configuration key naming it) -> its value, or None
SecretLookup = Callable[[str, str], str | None]


@dataclass(frozen=True)
class WebhookCall:
    """One request as the route received it; header names in lower case."""

    headers: Mapping[str, str]
    body: bytes
    now: float  # seconds since the epoch, from the app's clock
    query: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValueError("the body is not JSON") from exc


@dataclass(frozen=True)
class Refusal:
    status: int  # 401 (authentication failed) or 503 (not configured)
    reason: str
    headers: tuple[tuple[str, str], ...] = ()


class Webhook(Protocol):
    def configured(self) -> bool:
        """Whether its secret (or key) is set; without it every call is refused (503)."""
        ...

    def authenticate(self, call: WebhookCall) -> Refusal | None:
        """None when the call is the provider's; else why not."""
        ...

    def nonce(self, call: WebhookCall) -> str | None:
        """What makes this authenticated call unique (a replay inside the freshness
        window carries the same), or None when the provider gives nothing."""
        ...

    def events(self, call: WebhookCall) -> list[BounceEvent]:
        """The bounces and complaints in the call (empty for deliveries, opens, ...)."""
        ...


class Replays:
    """Nonces accepted within a freshness window: a replay inside it is refused.

    ``rundbrief serve`` is one process (waitress threads), so memory is enough; older
    calls fail their provider's timestamp check anyway.
    """

    def __init__(self, window: float) -> None:
        self.window = window
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def seen(self, nonce: str, now: float) -> bool:
        with self._lock:
            horizon = now - 2 * self.window
            for old in [n for n, at in self._seen.items() if at < horizon]:
                del self._seen[old]
            return nonce in self._seen

    def add(self, nonce: str, now: float) -> None:
        with self._lock:
            self._seen[nonce] = now


NOT_CONFIGURED = 503
REALM = 'Basic realm="rundbrief webhooks"'


def not_configured(provider: str) -> Refusal:
    return Refusal(NOT_CONFIGURED, f"the {provider} webhook is not configured")


def basic_credentials(call: WebhookCall) -> tuple[bytes, bytes] | None:
    """User and password of a Basic Authorization header, as raw bytes: clients encode
    non-ASCII characters as UTF-8 or as Latin-1, so the comparison must not guess."""
    scheme, _, value = call.header("Authorization").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, colon, password = raw.partition(b":")
    return (user, password) if colon else None


def same_secret(given: bytes | str, expected: str) -> bool:
    """Constant-time comparison of a credential with its configured value."""
    if isinstance(given, str):
        given = given.encode("utf-8")
    utf8 = hmac.compare_digest(given, expected.encode("utf-8"))
    try:
        latin1 = hmac.compare_digest(given, expected.encode("latin-1"))
    except UnicodeEncodeError:
        latin1 = False
    return utf8 or latin1


def basic_auth_refusal(call: WebhookCall, user: str, password: str) -> Refusal | None:
    given = basic_credentials(call)
    user_ok = given is not None and same_secret(given[0], user)
    password_ok = given is not None and same_secret(given[1], password)
    if user_ok and password_ok:
        return None
    return Refusal(401, "authentication required", (("WWW-Authenticate", REALM),))


def delivery_id(value: Any) -> int | None:
    """Our delivery id as a provider echoes it (a string in metadata or arguments)."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def address(value: Any) -> str | None:
    text = str(value or "").strip().strip("<>").lower()
    return text if "@" in text else None


def bracketed(message_id: Any) -> str | None:
    """A Message-ID in angle brackets, or None for an empty value."""
    text = str(message_id or "").strip().strip("<>").strip()
    return f"<{text}>" if text else None
