"""VERP return paths: ``bounces+ID-MAC@bounce_domain`` names the delivery a bounce is for.

The local part carries the delivery id and the first 10 hex digits of an HMAC-SHA256
over it, so a forged bounce cannot suppress somebody else's address. The message
builder (deliver) puts ``return_path`` into the envelope sender when ``[delivery]
bounce_domain`` is set; bounce matching reads it back with ``delivery_from_address``.
Reading is case-insensitive because some servers fold the case of the address they
bounce to; the token itself is all lower case.

    return_path("s", 48213, "b.example")             -> "bounces+48213-<10 hex>@b.example"
    delivery_from_address("s", that, "b.example")    -> 48213 (None when forged or garbled)
"""

from __future__ import annotations

import hashlib
import hmac
import re

PREFIX = "bounces"
_TOKEN = re.compile(r"^(\d{1,19})-([0-9a-f]{10})$")


def _mac(secret: str, delivery_id: int) -> str:
    tag = hmac.new(secret.encode(), f"verp.{delivery_id}".encode(), hashlib.sha256)
    return tag.hexdigest()[:10]


def encode(secret: str, delivery_id: int) -> str:
    """The token of one delivery: ``ID-MAC``."""
    if delivery_id < 0:
        raise ValueError("a delivery id is never negative")
    return f"{delivery_id}-{_mac(secret, delivery_id)}"


def decode(secret: str, token: str) -> int | None:
    """The delivery id in a token, or None when it is not one we signed."""
    match = _TOKEN.match(token.strip().lower())
    if not match:
        return None
    delivery_id = int(match.group(1))
    if not hmac.compare_digest(match.group(2), _mac(secret, delivery_id)):
        return None
    return delivery_id


def return_path(secret: str, delivery_id: int, bounce_domain: str) -> str:
    """The envelope sender of one delivery: ``bounces+TOKEN@bounce_domain``."""
    return f"{PREFIX}+{encode(secret, delivery_id)}@{bounce_domain.strip().lower()}"


def token_of(address: str, bounce_domain: str = "") -> str | None:
    """The token part of a ``bounces+TOKEN@`` address (on ``bounce_domain`` when given),
    signed or not; None for any other address."""
    local, at, domain = address.strip().strip("<>").rpartition("@")
    if not at:
        return None
    if bounce_domain and domain.lower().rstrip(".") != bounce_domain.strip().lower().rstrip("."):
        return None
    prefix, plus, token = local.partition("+")
    if not plus or prefix.lower() != PREFIX:
        return None
    return token


def delivery_from_address(secret: str, address: str, bounce_domain: str = "") -> int | None:
    """The delivery id of a VERP address (on ``bounce_domain`` when given), else None."""
    token = token_of(address, bounce_domain)
    return decode(secret, token) if token is not None else None
