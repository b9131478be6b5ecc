"""/segments: the named segments (``[segments]`` of config.toml and the saved ones)
with how many people each reaches per list; save, delete, and count a condition."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from pipeline.access import Action
from pipeline.mailings import NamedSegment, SegmentCount, Segments
from pipeline.web.api import common as c
from pipeline.web.api.auth import actor
from pipeline.web.api.errors import invalid, not_found
from pipeline.web.api.spec import BOOLEAN, INTEGER, STRING, array, obj, route
from pipeline.web.context import deps

TAG = "segments"
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
COUNT = obj(
    ("expression", "lists", "total"),
    expression=STRING,
    lists={"type": "object", "additionalProperties": INTEGER},
    total=INTEGER,
    unknown_attributes=array(STRING),
)
SEGMENT = obj(
    ("name", "expression", "source", "count"),
    name=STRING,
    expression=STRING,
    source={"type": "string", "enum": ["config", "saved"]},
    shadowed=BOOLEAN,
    created_by={"type": ["string", "null"]},
    created_at=NULLABLE_TIME,
    updated_by={"type": ["string", "null"]},
    updated_at=NULLABLE_TIME,
    count=COUNT,
)


def segments() -> Segments:
    d = deps()
    return Segments(d.settings, d.store, d.clock)


def count_json(count: SegmentCount) -> dict[str, Any]:
    return {
        "expression": count.expression,
        "lists": dict(count.per_list),
        "total": count.total,
        "unknown_attributes": list(count.unknown_attributes),
    }


def segment_json(segment: NamedSegment) -> dict[str, Any]:
    tz = deps().settings.organisation.tz
    return {
        "name": segment.name,
        "expression": segment.expression,
        "source": segment.source,
        "shadowed": segment.shadowed,
        "created_by": segment.created_by,
        "created_at": c.plain(segment.created_at and segment.created_at.astimezone(tz)),
        "updated_by": segment.updated_by,
        "updated_at": c.plain(segment.updated_at and segment.updated_at.astimezone(tz)),
        "count": count_json(segment.count),
    }


@route(
    "GET",
    "/segments",
    "The named segments with their counts",
    tag=TAG,
    action=Action.VIEW,
    returns=obj(("data",), data=array(SEGMENT)),
    description="Those of `[segments]` in config.toml (`source: config`, changed in the "
    "file only) in the file's order, then the saved ones by name. `count` says how many "
    "people each reaches now, per list and in all. A saved segment whose name "
    "config.toml took since is `shadowed`: the file's wins.",
)
def list_segments() -> Response:
    return jsonify(data=[segment_json(s) for s in segments().list(by=actor())])


@route(
    "POST",
    "/segments",
    "Save a segment by name",
    tag=TAG,
    action=Action.COMPOSE,
    body=obj(("name", "expression"), name=STRING, expression=STRING, replace=BOOLEAN),
    status=201,
    returns=obj(("data",), data=SEGMENT),
    description="`expression` is a condition such as "
    '`beat in ["Kommunalpolitik", "Digitales"] and region = "Bayern"` (docs/press.md, '
    '"Segments"); a condition that cannot be read is 422 with `field: expression` and '
    "the column in the message. The name (a letter, then letters, digits, `_`, `-`) may "
    "not be one of config.toml; a taken name is refused unless `replace` is true, which "
    "changes the condition of a saved segment. Mailings composed with it keep theirs.",
)
def save_segment() -> tuple[Response, int]:
    data = c.body()
    name = c.text(data, "name", required=True)
    expression = c.text(data, "expression", required=True)
    replace = data.get("replace", False)
    if not isinstance(replace, bool):
        raise invalid("replace must be true or false", "replace")
    assert name is not None and expression is not None
    saved = segments().save(name, expression, by=actor(), replace=replace)
    return jsonify(data=segment_json(saved)), 201


@route(
    "POST",
    "/segments/count",
    "Count the people a condition reaches",
    tag=TAG,
    action=Action.VIEW,
    body=obj(("expression",), expression=STRING, lists=array(STRING)),
    returns=obj(("data",), data=COUNT),
    description="How many people `expression` reaches now on `lists` (default: every "
    "configured list), before anything is saved or composed. `unknown_attributes` names "
    "the attributes it tests that no subscriber has (a typo matches nobody).",
)
def count_segment() -> Response:
    data = c.body()
    expression = c.text(data, "expression", required=True)
    assert expression is not None
    counted = segments().count(expression, by=actor(), lists=c.strings(data, "lists"))
    return jsonify(data=count_json(counted))


@route(
    "DELETE",
    "/segments/{name}",
    "Delete a saved segment",
    tag=TAG,
    action=Action.COMPOSE,
    returns=obj(("data",), data=obj(("name", "expression"), name=STRING, expression=STRING)),
    description="Those of config.toml are changed in the file (422). Mailings composed "
    "with the segment keep their condition.",
)
def delete_segment(name: str) -> Response:
    flow = segments()
    found = flow.get(name, by=actor())
    if found is None:
        raise not_found(f"no segment {name!r}")
    deleted = flow.delete(name, by=actor())
    return jsonify(data={"name": deleted.name, "expression": deleted.expression})
