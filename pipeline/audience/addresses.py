"""E-mail addresses: syntax check (email-validator, no DNS), normalisation, hashing.

The normalised form is what the store keys on, what duplicates are found by and what
the suppression hash is taken of:

- the whole address is lower-cased. RFC 5321 lets a server treat ``Anna@`` and
  ``anna@`` as two mailboxes, but practically none does; treating them as two people
  would let an unsubscribed address come back with different capitals in a later CSV.
- internationalised domains are stored in their ASCII (IDNA) form, so ``münchen.de``
  and ``xn--mnchen-3ya.de`` are one address and any SMTP server can take it.

``Normaliser`` caches the check of each domain: a list has few domains and thousands of
rows, and the domain (IDNA, special-use names) is the expensive half of the check. Local
parts that are a plain ASCII dot-atom are checked by the same rule email-validator
applies; everything else goes through email-validator whole.
"""

from __future__ import annotations

import hashlib
import re

from email_validator import EmailNotValidError, validate_email

from pipeline.errors import AudienceError

# RFC 5322 dot-atom of "atext" characters: exactly what email-validator accepts for an
# unquoted ASCII local part.
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_MAX_LOCAL = 64
_MAX_ADDRESS = 254
_CACHE_LIMIT = 10_000


class AddressError(AudienceError):
    """An address that is not a valid e-mail address (the message says why)."""


def email_hash(normalised: str) -> str:
    """sha256 of a normalised address: what suppressions keep after an erase."""
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


class Normaliser:
    """Checks and normalises addresses; keep one per import (it caches domains)."""

    def __init__(self) -> None:
        self._domains: dict[str, str | AddressError] = {}

    def normalise(self, raw: str) -> str:
        """The normalised address, or ``AddressError`` with email-validator's reason."""
        text = raw.strip()
        if not text:
            raise AddressError("the address is empty")
        local, at, domain = text.rpartition("@")
        if at and _DOT_ATOM.fullmatch(local) and len(local) <= _MAX_LOCAL:
            ascii_domain = self._domain(domain)
            address = f"{local}@{ascii_domain}".lower()
            if len(address) <= _MAX_ADDRESS:
                return address
        return _full_check(text)

    def _domain(self, domain: str) -> str:
        found = self._domains.get(domain)
        if found is None:
            try:
                found = _full_check("x@" + domain).partition("@")[2]
            except AddressError as exc:
                found = exc
            if len(self._domains) >= _CACHE_LIMIT:
                self._domains.clear()
            self._domains[domain] = found
        if isinstance(found, AddressError):
            raise AddressError(str(found))
        return found


def _full_check(text: str) -> str:
    try:
        info = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise AddressError(str(exc)) from exc
    domain = info.ascii_domain or info.domain
    return f"{info.local_part}@{domain}".lower()


def normalise_email(raw: str) -> str:
    """Check and normalise one address (``AddressError`` when it is not valid)."""
    return Normaliser().normalise(raw)
