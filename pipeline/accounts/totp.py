"""The optional second factor: time-based one-time codes (RFC 6238) through pyotp.

Codes of the 30-second step before and after are accepted too (clock drift of a phone).
A code works once: the service records the step of the last code accepted per account
and refuses that step and earlier ones (RFC 6238, section 5.2), so a code read over a
shoulder or from a phishing page is worthless after its owner used it.
"""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp

STEP_SECONDS = 30

ISSUER = "Rundbrief"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str, issuer: str = ISSUER) -> str:
    """The otpauth:// URI an authenticator app reads (as text or a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def code_at(secret: str, at: datetime) -> str:
    """The code valid at ``at`` (for tests and the demo)."""
    return pyotp.TOTP(secret).at(at)


def matching_step(secret: str, code: str, at: datetime) -> int | None:
    """The 30-second step (``unix time // 30``) whose code ``code`` is, among the step
    of ``at`` and its two neighbours; None when it is none of them."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    now = int(at.timestamp()) // STEP_SECONDS
    generator = pyotp.TOTP(secret)
    for step in (now, now - 1, now + 1):
        if hmac.compare_digest(generator.at(step * STEP_SECONDS), code):
            return step
    return None


def verify_code(secret: str, code: str, at: datetime) -> bool:
    return matching_step(secret, code, at) is not None
