"""Bounce and complaint webhooks: ``POST /webhooks/<provider>``, one route for all.

The provider's webhook (``deliver/providers/<name>/webhook.py``, from the registry)
authenticates the call its own way (Postmark and Brevo: credentials in the URL; Mailgun:
an HMAC signature; SendGrid: an ECDSA signature; Brevo also a bearer token) and decodes
its events. Without the configured secret a webhook answers 503: it never accepts
unauthenticated events; a refused call answers 401 and nothing in it is read further.
A call whose signature was seen before, within its freshness window, is refused too.

Events go through the same processing as bounce mails (``BounceProcessor``): a hard
bounce, a complaint or an unsubscribe about one of our deliveries suppresses the address
at once. Authentication says the provider sent the event, not that we sent the message:
the delivery id in its metadata counts only when the event's message id is that
delivery's (``bounces.match``); anything else is recorded as unmatched. A failure while
processing answers 500 so the provider retries; ``bounce_events.source_id`` makes the
retry count once.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request

from pipeline.bounces import BounceProcessor
from pipeline.deliver.providers import PROVIDERS, Replays, WebhookCall, webhook_of
from pipeline.web.context import deps

log = logging.getLogger(__name__)
blueprint = Blueprint("webhooks", __name__, url_prefix="/webhooks")
_REPLAYS = "rundbrief.webhook_replays"
DEFAULT_WINDOW = 300.0  # seconds a nonce is remembered when the webhook names none


def _answer(status: int, **body: Any) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


@blueprint.post("/<provider>")
def webhook(provider: str) -> Response:
    entry = PROVIDERS.get(provider)
    if entry is None:
        return _answer(404, error=f"no webhook for {provider!r}")
    web = deps()
    hook = webhook_of(web.settings, provider)
    now = web.clock.now().timestamp()
    call = WebhookCall(
        headers={name.lower(): value for name, value in request.headers.items()},
        body=request.get_data(cache=True),
        now=now,
        query=request.args.to_dict(),
    )
    refusal = hook.authenticate(call)
    if refusal is not None:
        log.warning("webhook refused", extra={"provider": provider, "reason": refusal.reason})
        response = _answer(refusal.status, error=refusal.reason)
        for name, value in refusal.headers:
            response.headers[name] = value
        return response
    replays: dict[str, Replays] = current_app.extensions[_REPLAYS]
    seen = replays.setdefault(provider, Replays(getattr(hook, "max_age", DEFAULT_WINDOW)))
    nonce = hook.nonce(call)
    if nonce is not None and seen.seen(nonce, now):
        log.warning("webhook refused", extra={"provider": provider, "reason": "replayed"})
        return _answer(401, error="replayed call")
    try:
        events = hook.events(call)
    except ValueError as exc:
        return _answer(400, error=f"{provider}: {exc}")
    try:
        processor = BounceProcessor(web.settings, web.store, clock=web.clock)
        processor.process_events(events)
    except Exception:
        log.exception("webhook processing failed", extra={"provider": provider})
        return _answer(500, error="processing failed; retry later")
    if nonce is not None:
        # remembered only once handled: a provider's retry after our 500 must get through
        seen.add(nonce, now)
    return _answer(200, ok=True, **processor.report.as_dict())


def register(app: Flask) -> None:
    """Add the webhook route (no CSRF: providers authenticate by their own means)."""
    app.extensions[_REPLAYS] = {}
    app.register_blueprint(blueprint)
