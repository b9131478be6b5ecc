"""The JSON API at ``/api/v1/``: a thin adapter over the workflow layer.

    auth        Authorization: Bearer rb_… → the token owner's Actor; per-token rate limit
    errors      every failure as {"error": {"code", "message", "field"?}}
    spec        route declarations → Flask rules and the OpenAPI 3.1 document
    mailings    /mailings …                 items        /items …
    record      /mailings/{id}/record (the distribution record)
    followups   /mailings/{id}/followups (corrections, updates, lifts, withdrawals)
    files       /mailings/{id}/files (the press kit)
    subscribers /subscribers …              lists        /lists
    audit       /audit
    signup      /signup (public)            stats        /stats
    segments    /segments …                 archive      /archive … (public)
    openapi     /openapi.json (public)

No rule lives here: the views read the request, call one operation of
``pipeline.mailings.Workflow`` or ``pipeline.subscribers.Subscribers`` ``by`` the token's
actor, and write the result; the role table, the four-eyes rule and the audit log are
the workflow's. The API uses no cookie and no session (the bearer token is the only
credential), so the web app's CSRF check and log-in guard are not applied to it.
"""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from pipeline.errors import RundbriefError
from pipeline.web.api import (  # noqa: F401  (each module declares its routes)
    archive,
    audit,
    files,
    followups,
    items,
    lists,
    mailings,
    openapi,
    record,
    segments,
    signup,
    stats,
    subscribers,
)
from pipeline.web.api.auth import authenticate
from pipeline.web.api.errors import ApiError, http_error, typed_error
from pipeline.web.api.spec import OPERATIONS, PREFIX, bp, document

bp.before_request(authenticate)
bp.register_error_handler(RundbriefError, typed_error)
bp.register_error_handler(ApiError, typed_error)
bp.register_error_handler(HTTPException, http_error)


def is_api_request() -> bool:
    """Whether this request is the API's (for the app's own 404/405 answers)."""
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


def error_response(exc: HTTPException) -> Response:
    """An HTTP error outside any view of the API (no such route) in the API's shape."""
    return http_error(exc)


def register(app: Flask) -> None:
    app.register_blueprint(bp)


__all__ = ["OPERATIONS", "PREFIX", "document", "error_response", "is_api_request", "register"]
