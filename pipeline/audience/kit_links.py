"""The personal part of a press kit link in the mail (``/press/ID/files/NAME?t=TOKEN``,
see ``render.kit``): the token that opens the file for its recipient before the
Sperrfrist.

A token is ``<subscriber id>.<signature>``: HMAC-SHA256 (a key of its own purpose) over
mailing, subscriber and file name, so it opens exactly one file of one release for the
one person it was made for; nobody without the secret can make one for another file,
release or person. After the embargo the file is public and the token is not needed.
"""

from __future__ import annotations

import base64
import hmac

from pipeline.audience.tokens import signature

_PURPOSE = "press-file"  # the key is that of the other tokens, for this purpose
_MAX_TOKEN = 64


def kit_token(secret: str, mailing_id: int, subscriber_id: int, name: str) -> str:
    """The token that opens file ``name`` of ``mailing_id`` for ``subscriber_id``."""
    signature = _sign(secret, mailing_id, subscriber_id, name)
    return f"{int(subscriber_id)}.{signature}"


def read_kit_token(secret: str, token: str, mailing_id: int, name: str) -> int | None:
    """The subscriber a genuine token for this file names; None for anything else."""
    if not secret or not token or len(token) > _MAX_TOKEN or token.count(".") != 1:
        return None
    head, _, signature = token.partition(".")
    if not head.isascii() or not head.isdigit():
        return None
    subscriber_id = int(head)
    expected = _sign(secret, mailing_id, subscriber_id, name)
    if not hmac.compare_digest(signature.encode("ascii", "replace"), expected.encode("ascii")):
        return None
    return subscriber_id


def _sign(secret: str, mailing_id: int, subscriber_id: int, name: str) -> str:
    if not secret:
        raise ValueError("cannot sign a press kit link without a secret")
    payload = f"{int(mailing_id)}.{int(subscriber_id)}.{name}".encode()
    # 18 bytes (144 bits) encode to 24 characters without padding.
    return base64.urlsafe_b64encode(signature(secret, _PURPOSE, payload)[:18]).decode()
