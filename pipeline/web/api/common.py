"""What the resource modules share: the workflow of this request, reading the request
(JSON object, fields, cursor pages) and writing plain JSON values."""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from flask import Response, jsonify, request

from pipeline.mailings import Workflow
from pipeline.models import Item, Mailing
from pipeline.subscribers import Subscribers
from pipeline.web.api.errors import ApiError, invalid, not_found
from pipeline.web.context import deps

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def flow() -> Workflow:
    d = deps()
    return Workflow(d.settings, d.store, d.clock, transport_factory=d.transport_factory)


def people() -> Subscribers:
    d = deps()
    return Subscribers(d.settings, d.store, d.clock)


def mailing_or_404(mailing_id: int) -> Mailing:
    found = flow().find(mailing_id)
    if found is None:
        raise not_found(f"no mailing {mailing_id}")
    return found


# --- reading the request ---------------------------------------------------------------


def body() -> dict[str, Any]:
    """The request's JSON object (an empty body is an empty object)."""
    if not request.get_data(cache=True):
        return {}
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", "the body must be a JSON object")
    return data


def text(data: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            raise invalid(f"{name} is required", name)
        return None
    if not isinstance(value, str):
        raise invalid(f"{name} must be a string", name)
    return value


def integer(data: dict[str, Any], name: str, *, required: bool = False) -> int | None:
    value = data.get(name)
    if value is None:
        if required:
            raise invalid(f"{name} is required", name)
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"{name} must be an integer", name)
    return value


def instant(data: dict[str, Any], name: str, *, required: bool = False) -> datetime | None:
    """An ISO 8601 time with its offset (``2026-06-20T09:00:00+02:00``)."""
    raw = text(data, name, required=required)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise invalid(
            f"{name} must be an ISO 8601 time, e.g. 2026-06-20T09:00:00+02:00", name
        ) from None
    if value.tzinfo is None:
        raise invalid(f"{name} needs a time zone offset (…+02:00 or …Z)", name)
    return value


def strings(data: dict[str, Any], name: str) -> list[str] | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid(f"{name} must be a list of strings", name)
    return list(value)


# --- pages -----------------------------------------------------------------------------


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(str(last_id).encode("ascii")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = int(base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii"))
    except (ValueError, binascii.Error, UnicodeError):
        raise invalid("cursor is not one this API gave out", "cursor") from None
    if value < 0:
        raise invalid("cursor is not one this API gave out", "cursor")
    return value


def page_args() -> tuple[int | None, int]:
    """(the id the previous page ended at or None, the page size) of ``?cursor=&limit=``."""
    raw = request.args.get("cursor", "")
    after = decode_cursor(raw) if raw else None
    raw_limit = request.args.get("limit", "")
    try:
        limit = int(raw_limit) if raw_limit else DEFAULT_LIMIT
    except ValueError:
        raise invalid("limit must be an integer", "limit") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid(f"limit must be between 1 and {MAX_LIMIT}", "limit")
    return after, limit


def page(
    rows: Sequence[T], limit: int, key: Callable[[T], int], show: Callable[[T], Any]
) -> Response:
    """One page of ``rows`` (asked for ``limit + 1``: one more tells there is a next)."""
    more = len(rows) > limit
    shown = list(rows[:limit])
    cursor = encode_cursor(key(shown[-1])) if more and shown else None
    return jsonify(data=[show(r) for r in shown], next_cursor=cursor)


# --- writing JSON ----------------------------------------------------------------------


def plain(value: Any) -> Any:
    """Dataclasses, tuples, times and enums as JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        # a StrEnum (status, kind) becomes its plain value
        return str(value) if isinstance(value, str) else value
    return str(value)


def mailing_json(mailing: Mailing) -> dict[str, Any]:
    """A mailing with its times in the organisation's zone (``+02:00`` in a Berlin
    summer), the instants people read in the web app; the Sperrfrist is ``embargo``,
    as in the request bodies."""
    tz = deps().settings.organisation.tz
    local = dataclasses.replace(
        mailing,
        **{
            f.name: getattr(mailing, f.name).astimezone(tz)
            for f in dataclasses.fields(mailing)
            if isinstance(getattr(mailing, f.name), datetime)
        },
    )
    out: dict[str, Any] = plain(local)
    out["embargo"] = out.pop("embargo_at")
    return out


def item_json(item: Item) -> dict[str, Any]:
    return {
        "id": item.id,
        "feed": item.feed,
        "kind": item.kind,
        "title": item.title,
        "link": item.link,
        "summary": item.summary,
        "published_at": plain(item.published_at),
        "language": item.language,
        "eligible": item.eligible,
        "tags": list(item.tags),
        "image_url": item.image_url,
        "image_credit": item.image_credit,
    }
