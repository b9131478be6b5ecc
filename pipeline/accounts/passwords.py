"""Password hashes: argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).

The PHC string keeps its parameters, so hashes made with older parameters still verify
and are upgraded at the next successful log-in (``needs_rehash``).
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

# Verified against when the account does not exist, so a log-in for an unknown address
# costs as long as one for a known address (no enumeration by timing).
_DUMMY = _HASHER.hash("not the password of any account")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; ``None`` (no such account) costs the same and fails."""
    try:
        return _HASHER.verify(password_hash or _DUMMY, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)
