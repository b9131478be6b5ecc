"""E-mail addresses: syntax check (email-validator, no DNS), normalisation, hashing.

The normalised form is what the store keys on, what duplicates are found by and what
the suppression hash is taken of:

- the whole address is lower-cased. RFC 5321 lets a server treat ``Anna@`` and
  ``anna@`` as two mailboxes, but practically none does; treating them as two people
  would let an unsubscribed address come back with different capitals in a later CSV.
- internationalised domains are stored in their ASCII (IDNA) form, so ``münchen.de``
  and ``xn--mnchen-3ya.de`` are one address and any SMTP server can take it.

``Normaliser`` caches the check of each domain: a list has few domains and thousands of
rows, and the domain (IDNA, special-use names) is the expensive half of the check. For a
local part that is a plain ASCII dot-atom email-validator's verdict is fixed by three
things, each reproduced exactly: the dot-atom rule (email-validator's own test for such
local parts), the domain's own check (independent of the local part, so cacheable), and
the 254-octet limit on the address in all three forms it measures (as written, with the
domain in Unicode, with the domain in IDNA ASCII). Everything else, and every address
over the limit, goes through email-validator whole (its message then is the real one).
"""

from __future__ import annotations

import hashlib
import re

from email_validator import EmailNotValidError, validate_email

from pipeline.errors import AudienceError

# RFC 5322 dot-atom of "atext" characters: email-validator's DOT_ATOM_TEXT, the test it
# passes every ASCII local part with (without a length limit: it checks 64 only when strict).
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_MAX_ADDRESS = 254
_CACHE_LIMIT = 10_000
_REFUSED = ("", _MAX_ADDRESS)  # no local part fits: the address takes the full check


class AddressError(AudienceError):
    """An address that is not a valid e-mail address (the message says why)."""


def email_hash(normalised: str) -> str:
    """sha256 of a normalised address: what suppressions keep after an erase."""
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


class Normaliser:
    """Checks and normalises addresses; keep one per import (it caches domains)."""

    def __init__(self) -> None:
        # domain as written -> (IDNA ASCII form, octets of its longest form)
        self._domains: dict[str, tuple[str, int]] = {}

    def normalise(self, raw: str) -> str:
        """The normalised address, or ``AddressError`` with email-validator's reason."""
        text = raw.strip()
        if not text:
            raise AddressError("the address is empty")
        local, at, domain = text.rpartition("@")
        if at and _DOT_ATOM.fullmatch(local):
            found = self._domains.get(domain)
            if found is None:
                found = self._remember(domain)
            # A refused domain counts as too long: such rows (rare) take the full check,
            # so the message is exactly email-validator's.
            if len(local) + 1 + found[1] <= _MAX_ADDRESS:
                return f"{local}@{found[0]}".lower()
        return _full_check(text)

    def _remember(self, domain: str) -> tuple[str, int]:
        if len(self._domains) >= _CACHE_LIMIT:
            self._domains.clear()
        found = self._domains[domain] = _check_domain(domain)
        return found


def _check_domain(domain: str) -> tuple[str, int]:
    """The domain's IDNA form and the octets of its longest form (_REFUSED if invalid)."""
    try:
        # "x@" passes, so only the domain (checked on its own, after the local part)
        # and the length can fail.
        info = validate_email("x@" + domain, check_deliverability=False)
    except EmailNotValidError:
        return _REFUSED
    ascii_domain = info.ascii_domain or info.domain
    # email-validator limits the octets of the address as written, with the domain in
    # Unicode and in ASCII; with an ASCII local part only the domain's forms differ.
    forms = (domain, info.domain, ascii_domain)
    return ascii_domain, max(len(form.encode("utf-8")) for form in forms)


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
