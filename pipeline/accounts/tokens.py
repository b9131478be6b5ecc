"""API bearer tokens: long random strings; the store keeps only their SHA-256.

A token has 256 random bits, so a fast hash is enough (nobody can guess one from its
hash) and lets ``verify`` find the row by the hash in one lookup. The ``rb_`` prefix
makes a leaked token easy to recognise in logs and secret scanners.
"""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "rb_"


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.strip().encode("utf-8")).hexdigest()
