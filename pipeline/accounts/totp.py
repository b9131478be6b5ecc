"""The optional second factor: time-based one-time codes (RFC 6238) through pyotp.

Codes of the 30-second step before and after are accepted too (clock drift of a phone).
"""

from __future__ import annotations

from datetime import datetime

import pyotp

ISSUER = "Rundbrief"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str, issuer: str = ISSUER) -> str:
    """The otpauth:// URI an authenticator app reads (as text or a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def code_at(secret: str, at: datetime) -> str:
    """The code valid at ``at`` (for tests and the demo)."""
    return pyotp.TOTP(secret).at(at)


def verify_code(secret: str, code: str, at: datetime) -> bool:
    code = "".join(code.split())
    if not code.isdigit():
        return False
    return bool(pyotp.TOTP(secret).verify(code, for_time=at, valid_window=1))
