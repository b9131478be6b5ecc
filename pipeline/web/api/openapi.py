"""/openapi.json: the OpenAPI 3.1 document of the declared routes (public)."""

from __future__ import annotations

from flask import Response, jsonify

from pipeline.web.api.spec import document, route


@route(
    "GET",
    "/openapi.json",
    "This API's OpenAPI 3.1 document",
    tag="meta",
    public=True,
    returns={"type": "object"},
)
def openapi_document() -> Response:
    return jsonify(document())
