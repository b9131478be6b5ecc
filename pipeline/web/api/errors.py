"""The API's errors: every failure is JSON with a stable ``code``.

    {"error": {"code": "forbidden", "message": "...", "field": "subject"}}

One handler maps the typed errors of ``pipeline.errors`` (raised by the workflow layer,
which owns the rules) to a status and a code; the API adds only its own ``ApiError``
for what the adapter itself checks (the request's shape, an unknown id, no token).
Programs branch on ``code``; the message is for people and may change.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, jsonify
from werkzeug.exceptions import HTTPException

from pipeline.audience import AddressError, RateLimited
from pipeline.errors import (
    AccountError,
    ApprovalRefused,
    AudienceError,
    ComposeError,
    ConfigError,
    DeliveryError,
    LoginRefused,
    NotDueError,
    PermissionDenied,
    RenderError,
    RundbriefError,
    StoreError,
    TransitionError,
)

log = logging.getLogger(__name__)

# How long a client should wait when the store is unavailable (as the web pages say).
STORE_RETRY_AFTER_SECONDS = 30

# Every code the API answers with (the OpenAPI document lists them).
CODES = (
    "bad_request",
    "unauthorized",
    "forbidden",
    "not_found",
    "method_not_allowed",
    "conflict",
    "not_due",
    "approval_refused",
    "nothing_to_compose",
    "invalid",
    "too_large",
    "rate_limited",
    "delivery_failed",
    "unavailable",
    "store_unavailable",
    "error",
)


class ApiError(Exception):
    """What the adapter itself refuses: ``status``, ``code``, and the ``field`` at fault."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}


def invalid(message: str, field: str | None = None) -> ApiError:
    return ApiError(422, "invalid", message, field=field)


def not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)


def answer(
    status: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    error: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    error.update(extra)
    response = jsonify(error=error)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "bad_request",
    422: "invalid",
    429: "rate_limited",
}


def http_error(exc: HTTPException) -> Response:
    """werkzeug's errors (no such route, wrong method, too big) in the API's shape."""
    status = exc.code or 500
    code = _HTTP_CODES.get(status, "error")
    headers = {k: v for k, v in exc.get_headers() if k.lower() == "allow"}
    return answer(status, code, exc.description or exc.name, headers=headers)


def _status_code(exc: BaseException) -> tuple[int, str, dict[str, str], str | None]:
    """(status, code, headers, field) of a typed error; the most specific class first."""
    if isinstance(exc, ApiError):
        return exc.status, exc.code, exc.headers, exc.field
    if isinstance(exc, LoginRefused):
        return 401, "unauthorized", {"WWW-Authenticate": 'Bearer realm="rundbrief"'}, None
    if isinstance(exc, PermissionDenied):
        return 403, "forbidden", {}, None
    if isinstance(exc, ApprovalRefused):
        return 403, "approval_refused", {}, None
    if isinstance(exc, TransitionError):
        return 409, "conflict", {}, None
    if isinstance(exc, NotDueError):
        return 409, "not_due", {}, None
    if isinstance(exc, ComposeError):
        # (an unknown mailing is answered 404 by the resource before it gets here)
        return 422, "invalid", {}, exc.field or None
    if isinstance(exc, RateLimited):
        return 429, "rate_limited", {"Retry-After": str(max(1, exc.retry_after))}, None
    if isinstance(exc, AddressError):
        return 422, "invalid", {}, "email"
    if isinstance(exc, AudienceError | AccountError | ConfigError | RenderError):
        return 422, "invalid", {}, None
    if isinstance(exc, StoreError):
        return 503, "store_unavailable", {"Retry-After": str(STORE_RETRY_AFTER_SECONDS)}, None
    if isinstance(exc, DeliveryError):
        return 502, "delivery_failed", {}, None
    return 400, "error", {}, None


def typed_error(exc: RundbriefError | ApiError) -> Response:
    """The one mapping of the typed errors to the API's answers."""
    status, code, headers, field = _status_code(exc)
    if status >= 500:
        log.error("api: %s", exc, extra={"code": code})
    message = exc.message if isinstance(exc, ApiError) else str(exc)
    extra: dict[str, Any] = {}
    if isinstance(exc, TransitionError) and exc.current:
        extra["current"] = exc.current
    if isinstance(exc, PermissionDenied) and exc.action:
        extra["action"] = exc.action
    return answer(status, code, message, field=field, headers=headers, **extra)
