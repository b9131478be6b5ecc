"""Issue 12, item 6: the OpenAPI document is valid OpenAPI 3.1 and matches the routes:
every Flask route under /api/v1 is in it, every documented path and method exists."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

PREFIX = "/api/v1"


def _routes(app: Flask) -> set[tuple[str, str]]:
    out = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX + "/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods or ():
            if method not in ("HEAD", "OPTIONS"):
                out.add((path, method.lower()))
    return out


def test_the_document_is_valid_openapi_3_1(client: FlaskClient) -> None:
    answer = client.get("/api/v1/openapi.json")  # public: no token
    assert answer.status_code == 200
    document = answer.get_json()
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_the_document_and_the_routes_match(app: Flask, client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    documented = {
        (path, method) for path, methods in document["paths"].items() for method in methods
    }
    routes = _routes(app)
    assert routes, "the API has routes"
    assert routes - documented == set(), "routes missing from the document"
    assert documented - routes == set(), "documented operations without a route"


def test_every_operation_states_its_errors_and_its_credential(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            assert op["operationId"] and op["summary"], (path, method)
            if op["security"]:
                assert {"401", "403"} <= set(op["responses"]), (path, method)
            else:
                assert path in (
                    "/api/v1/signup",
                    "/api/v1/openapi.json",
                    "/api/v1/archive",
                    "/api/v1/archive/{mailing_id}",
                )
