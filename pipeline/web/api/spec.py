"""Routes with their documentation: each view is declared once, with ``route(...)``, and
both the Flask rule and its OpenAPI 3.1 operation come from that declaration.

    @route("POST", "/mailings/{mailing_id}/approve", "Approve a draft", tag="mailings",
           action="approve", body=obj(version=DATETIME))
    def approve(mailing_id: int) -> Response: ...

``document()`` builds the OpenAPI document served at ``/api/v1/openapi.json``; the tests
validate it and compare it with the app's URL map, so a route without a declaration
(or a declaration without a route) is found. ``action`` names the ``access.Action``
the workflow asks for (documentation only: the workflow checks it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint

from pipeline.access import LEAST_ROLE, Action
from pipeline.web.api.errors import CODES

PREFIX = "/api/v1"
VERSION = "1.0.0"

bp = Blueprint("api", __name__, url_prefix=PREFIX)

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
BOOLEAN: Schema = {"type": "boolean"}
DATETIME: Schema = {"type": "string", "format": "date-time"}
EMAIL: Schema = {"type": "string", "format": "email"}
ANY_OBJECT: Schema = {"type": "object"}


def obj(required: tuple[str, ...] = (), **properties: Schema) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def page_of(name: str) -> Schema:
    return obj(
        ("data", "next_cursor"),
        data=array(ref(name)),
        next_cursor={"type": ["string", "null"]},
    )


@dataclass(frozen=True)
class Param:
    name: str
    schema: Schema
    description: str = ""
    required: bool = False


CURSOR = Param("cursor", STRING, "Where the previous page ended (its `next_cursor`).")
LIMIT = Param(
    "limit", {"type": "integer", "minimum": 1, "maximum": 200}, "Items per page (default 50)."
)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # OpenAPI style, below PREFIX: /mailings/{mailing_id}
    summary: str
    tag: str
    endpoint: str
    action: Action | None = None
    public: bool = False  # no token (sign-up, this document)
    query: tuple[Param, ...] = ()
    body: Schema | None = None
    body_type: str = "application/json"
    status: int = 200
    returns: Schema = field(default_factory=lambda: ANY_OBJECT)
    description: str = ""

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"\{(\w+)\}", self.path)


OPERATIONS: list[Operation] = []


def _flask_rule(path: str) -> str:
    # ids are integers; everything else (an e-mail address) a string without "/"
    return re.sub(
        r"\{(\w+)\}",
        lambda m: f"<int:{m[1]}>" if m[1].endswith("_id") else f"<{m[1]}>",
        path,
    )


def route(
    method: str,
    path: str,
    summary: str,
    *,
    tag: str,
    action: Action | None = None,
    public: bool = False,
    query: tuple[Param, ...] = (),
    body: Schema | None = None,
    body_type: str = "application/json",
    status: int = 200,
    returns: Schema | None = None,
    description: str = "",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def declare(view: Callable[..., Any]) -> Callable[..., Any]:
        endpoint = f"{tag}_{view.__name__}"
        OPERATIONS.append(
            Operation(
                method=method,
                path=path,
                summary=summary,
                tag=tag,
                endpoint=endpoint,
                action=action,
                public=public,
                query=query,
                body=body,
                body_type=body_type,
                status=status,
                returns=returns if returns is not None else ANY_OBJECT,
                description=description or (view.__doc__ or "").strip(),
            )
        )
        bp.add_url_rule(_flask_rule(path), endpoint=endpoint, view_func=view, methods=[method])
        return view

    return declare


def operation_for(endpoint: str | None) -> Operation | None:
    """The declaration of a request's endpoint (``api.`` prefix as Flask names it)."""
    name = (endpoint or "").removeprefix(f"{bp.name}.")
    return next((o for o in OPERATIONS if o.endpoint == name), None)


# --- the document ----------------------------------------------------------------------

SCHEMAS: dict[str, Schema] = {
    "Error": obj(
        ("error",),
        error=obj(
            ("code", "message"),
            code={"type": "string", "enum": list(CODES)},
            message=STRING,
            field=STRING,
        ),
    ),
    "Mailing": obj(
        ("id", "kind", "status", "subject", "updated_at"),
        id=INTEGER,
        kind={"type": "string", "enum": ["newsletter", "press"]},
        status=STRING,
        subject=STRING,
        preheader=STRING,
        intro_md=STRING,
        languages=array(STRING),
        lists=array(STRING),
        item_ids=array(INTEGER),
        send_at={"type": ["string", "null"], "format": "date-time"},
        embargo={"type": ["string", "null"], "format": "date-time"},
        created_at=DATETIME,
        updated_at=DATETIME,
        approved_at={"type": ["string", "null"], "format": "date-time"},
        approved_by={"type": ["string", "null"]},
        sent_at={"type": ["string", "null"], "format": "date-time"},
        composed_by={"type": ["string", "null"]},
        last_edited_by={"type": ["string", "null"]},
        paused_reason={"type": ["string", "null"]},
        segment_name={"type": ["string", "null"]},
        segment_where={"type": ["string", "null"]},
    ),
    "Item": obj(
        ("id", "title"),
        id=INTEGER,
        feed={"type": ["string", "null"]},
        kind=STRING,
        title=STRING,
        link=STRING,
        summary=STRING,
        published_at={"type": ["string", "null"], "format": "date-time"},
        language=STRING,
        eligible=BOOLEAN,
        tags=array(STRING),
    ),
    "AuditEntry": obj(
        ("id", "at", "actor", "channel", "action", "summary"),
        id=INTEGER,
        at=DATETIME,
        actor=obj(("email", "role"), email=STRING, role=STRING),
        channel={"type": "string", "enum": ["web", "cli", "api", "daemon"]},
        address=STRING,
        action=STRING,
        target={
            "type": ["object", "null"],
            "properties": {"kind": STRING, "id": STRING},
        },
        summary=STRING,
        details={"type": "object"},
    ),
    "RecordEntry": obj(
        ("delivery_id", "email", "erased", "status"),
        delivery_id=INTEGER,
        email={"type": ["string", "null"], "description": "null once the person was erased"},
        erased=BOOLEAN,
        name={"type": ["string", "null"]},
        outlet={"type": ["string", "null"]},
        beat={"type": ["string", "null"]},
        list=STRING,
        language=STRING,
        status={
            "type": "string",
            "enum": ["queued", "sending", "sent", "retry", "failed", "suppressed"],
        },
        delivered_at={"type": ["string", "null"], "format": "date-time"},
        message_id={"type": ["string", "null"]},
        provider_message_id={"type": ["string", "null"]},
        bounce={
            "type": ["object", "null"],
            "properties": {
                "kind": {"type": "string", "enum": ["hard", "soft"]},
                "status": {"type": ["string", "null"]},
                "at": DATETIME,
            },
        },
        complained_at={"type": ["string", "null"], "format": "date-time"},
        error={"type": ["string", "null"]},
        follow_ups=array(INTEGER),
    ),
    "Subscriber": obj(
        ("id", "email"),
        id=INTEGER,
        email=EMAIL,
        first_name=STRING,
        last_name=STRING,
        language=STRING,
        lists={"type": "object", "additionalProperties": STRING},
    ),
}

_STATUS_TEXT = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    400: "The request is not JSON or not an object",
    401: "No token, or an unknown, expired or revoked one, or a disabled account",
    403: "The token owner's role does not allow this (`forbidden`, `approval_refused`)",
    404: "No such resource",
    409: "The mailing's state does not allow this step (`conflict`, `not_due`)",
    422: "A field is invalid (`invalid`, with `field`)",
    429: "Too many requests (`rate_limited`, with `Retry-After`)",
    503: "The store is unavailable (`store_unavailable`, with `Retry-After`)",
}


def _error_response(status: int) -> Schema:
    return {
        "description": _STATUS_TEXT[status],
        "content": {"application/json": {"schema": ref("Error")}},
    }


def _operation(op: Operation) -> Schema:
    parameters: list[Schema] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": INTEGER if name.endswith("_id") else STRING,
        }
        for name in op.path_params
    ]
    parameters += [
        {
            "name": p.name,
            "in": "query",
            "required": p.required,
            "schema": p.schema,
            **({"description": p.description} if p.description else {}),
        }
        for p in op.query
    ]
    doc: Schema = {
        "operationId": op.endpoint,
        "summary": op.summary,
        "tags": [op.tag],
        "responses": {
            str(op.status): {
                "description": _STATUS_TEXT.get(op.status, "OK"),
                "content": {"application/json": {"schema": op.returns}},
            },
        },
    }
    description = op.description
    if op.action is not None:
        role = LEAST_ROLE[op.action]
        description = (
            f"{description}\n\nNeeds the role **{role}** or higher (action `{op.action}`)."
        ).strip()
    if description:
        doc["description"] = description
    if parameters:
        doc["parameters"] = parameters
    if op.body is not None:
        doc["requestBody"] = {"required": True, "content": {op.body_type: {"schema": op.body}}}
    statuses = [400, 404, 409, 422, 429, 503] if not op.public else [400, 422, 429, 503]
    if op.public and op.path_params:
        statuses.append(404)  # a public resource by id (the archive) may not exist
    if not op.public:
        statuses += [401, 403]
        doc["security"] = [{"bearer": []}]
    else:
        doc["security"] = []
    for status in sorted(statuses):
        doc["responses"].setdefault(str(status), _error_response(status))
    return doc


def document() -> Schema:
    """The OpenAPI 3.1 document of every declared route."""
    paths: dict[str, dict[str, Schema]] = {}
    for op in OPERATIONS:
        paths.setdefault(PREFIX + op.path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Rundbrief API",
            "version": VERSION,
            "description": "Mailings, items, subscribers, lists, sign-up and statistics "
            "over the same workflow as the web app and the CLI. Authenticate with "
            "`Authorization: Bearer rb_…` (a token from `rundbrief users token`); the "
            "token's account and its role decide what is allowed.",
        },
        "servers": [{"url": "/"}],
        "tags": sorted(({"name": t} for t in {o.tag for o in OPERATIONS}), key=str),
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
