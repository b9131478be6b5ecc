"""Bounce and complaint webhooks: ``POST /webhooks/postmark`` and ``POST /webhooks/mailgun``.

Postmark authenticates with HTTP basic auth (user and password from the environment
variables named in ``[bounces] postmark_webhook_user_env`` / ``_password_env``; put them
into the webhook URL in Postmark: ``https://user:password@host/webhooks/postmark``).
Mailgun signs every call (HMAC-SHA256 of timestamp + token under the key named in
``[bounces] mailgun_signing_key_env``); calls older than five minutes and tokens seen
before are refused. Without the configured secret an endpoint answers 503: it never
accepts unauthenticated events.

Events go through the same processing as bounce mails (``BounceProcessor``): a hard
bounce or a complaint about one of our deliveries suppresses the address at once.
Authentication says the provider sent the event, not that we sent the message: the
delivery id in its metadata counts only when the event's message id is that delivery's
(``bounces.match``); anything else is recorded as unmatched. A failure while processing answers
500 so the provider retries; ``bounce_events.source_id`` makes the retry count once.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import threading
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request

from pipeline.bounces.dsn import BounceEvent
from pipeline.bounces.process import BounceProcessor
from pipeline.bounces.webhook_events import (
    MAILGUN_MAX_AGE,
    mailgun_events,
    mailgun_signature_problem,
    postmark_events,
)
from pipeline.errors import ConfigError
from pipeline.web import deps

log = logging.getLogger(__name__)
blueprint = Blueprint("webhooks", __name__, url_prefix="/webhooks")
_TOKENS = "rundbrief.webhook_tokens"


class SeenTokens:
    """Mailgun tokens accepted within the freshness window: a replay inside it is refused.

    ``rundbrief serve`` is one process (waitress threads), so memory is enough; older
    tokens fail the timestamp check anyway.
    """

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def seen(self, token: str, now: float) -> bool:
        with self._lock:
            self._forget(now)
            return token in self._seen

    def add(self, token: str, now: float) -> None:
        with self._lock:
            self._seen[token] = now

    def _forget(self, now: float) -> None:
        horizon = now - 2 * MAILGUN_MAX_AGE
        for token in [t for t, at in self._seen.items() if at < horizon]:
            del self._seen[token]


def _answer(status: int, **body: Any) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


def _secret(env_key: str) -> str | None:
    settings = deps().settings
    env_name = getattr(settings.bounces, env_key)
    try:
        return settings.secret(env_name, key=f"bounces.{env_key}")
    except ConfigError:
        return None


def _process(provider: str, decode: Callable[[Any], list[BounceEvent]]) -> Response:
    payload = request.get_json(silent=True)
    try:
        events = decode(payload)
    except ValueError as exc:
        return _answer(400, error=f"{provider}: {exc}")
    web = deps()
    try:
        processor = BounceProcessor(web.settings, web.store, clock=web.clock)
        processor.process_events(events)
    except Exception:
        log.exception("webhook processing failed", extra={"provider": provider})
        return _answer(500, error="processing failed; retry later")
    return _answer(200, ok=True, **processor.report.as_dict())


def _basic_credentials() -> tuple[bytes, bytes] | None:
    """User and password of a Basic Authorization header, as raw bytes: clients encode
    non-ASCII characters as UTF-8 or as Latin-1, so the comparison must not guess."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, colon, password = raw.partition(b":")
    return (user, password) if colon else None


def _same(given: bytes, expected: str) -> bool:
    utf8 = hmac.compare_digest(given, expected.encode("utf-8"))
    try:
        latin1 = hmac.compare_digest(given, expected.encode("latin-1"))
    except UnicodeEncodeError:
        latin1 = False
    return utf8 or latin1


@blueprint.post("/postmark")
def postmark() -> Response:
    user = _secret("postmark_webhook_user_env")
    password = _secret("postmark_webhook_password_env")
    if not user or not password:
        return _answer(503, error="the Postmark webhook is not configured")
    given = _basic_credentials()
    user_ok = given is not None and _same(given[0], user)
    password_ok = given is not None and _same(given[1], password)
    if not (user_ok and password_ok):
        log.warning("webhook authentication failed", extra={"provider": "postmark"})
        response = _answer(401, error="authentication required")
        response.headers["WWW-Authenticate"] = 'Basic realm="rundbrief webhooks"'
        return response
    return _process("postmark", postmark_events)


@blueprint.post("/mailgun")
def mailgun() -> Response:
    key = _secret("mailgun_signing_key_env")
    if not key:
        return _answer(503, error="the Mailgun webhook is not configured")
    payload = request.get_json(silent=True)
    signature = payload.get("signature") if isinstance(payload, dict) else None
    now = deps().clock.now().timestamp()
    problem = mailgun_signature_problem(key, signature, now=now)
    tokens: SeenTokens = current_app.extensions[_TOKENS]
    token = str(signature.get("token", "")) if isinstance(signature, dict) else ""
    if problem is None and tokens.seen(token, now):
        problem = "replayed token"
    if problem:
        log.warning("webhook refused", extra={"provider": "mailgun", "reason": problem})
        return _answer(401, error=problem)
    response = _process("mailgun", mailgun_events)
    if response.status_code < 500:
        # remembered only once handled: a provider's retry after our 500 must get through
        tokens.add(token, now)
    return response


def register(app: Flask) -> None:
    """Add the webhook endpoints (no CSRF: providers authenticate by their own means)."""
    app.extensions[_TOKENS] = SeenTokens()
    app.register_blueprint(blueprint)
