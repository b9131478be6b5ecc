"""E-mail addresses: the one address policy, normalisation, hashing.

**The policy** (one for import, sign-up, the web app and the sender): an address is
accepted when email-validator (no DNS) accepts it *and* the sender can put it on the
wire: the local part (before the @) is a plain ASCII dot-atom and the domain has an
ASCII (IDNA) form. Addresses such as ``jörg@münchen.de`` need SMTPUTF8 (RFC 6531) on
every hop; not every SMTP relay offers it, and of the HTTP providers Postmark and
SendGrid refuse such recipients, so one configuration change would silently make them
undeliverable. They are therefore refused where they come in (CSV import with the line,
sign-up with a clear message: ``NonAsciiLocalPart``) instead of being accepted and then
failing at every send. ``wire_address`` is the sender's check and ``accept`` calls it,
so nothing is accepted that the sender would refuse. Internationalised *domains* are
fine: they go out in their IDNA form.

``normalise`` (without the policy) gives the key of any valid address, for looking up,
suppressing and erasing addresses that are already stored or named in a bounce report.

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
    """An address that is not a valid e-mail address (the message says why).

    ``reason`` names the problem for pages that explain it in the reader's language:
    empty, no_at, no_local, no_domain, local, domain, dots, too_long or invalid.
    """

    def __init__(self, message: str, reason: str = "invalid") -> None:
        super().__init__(message)
        self.reason = reason


class NonAsciiLocalPart(AddressError):
    """A valid address that needs SMTPUTF8 (characters outside ASCII before the @)."""


# What the sender puts on the wire: an ASCII dot-atom and an ASCII (IDNA) host name.
_WIRE_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
_NON_ASCII = (
    "{address!r} has characters outside ASCII before the @; such addresses need "
    "SMTPUTF8, which not every mail server and provider carries, so Rundbrief does not "
    "accept them"
)


def wire_address(address: str) -> str:
    """The address as the sender writes it into the envelope and the To header.

    The domain is given its IDNA (ASCII) form; the local part must be an ASCII dot-atom
    (``NonAsciiLocalPart`` otherwise, ``AddressError`` for anything else unusable).
    Cheap on the common path: it runs once per recipient of every mailing.
    """
    text = address.strip()
    local, at, domain = text.rpartition("@")
    if at and local and not local.isascii():
        raise NonAsciiLocalPart(_NON_ASCII.format(address=text))
    if at and domain and not domain.isascii():
        ascii_domain, _ = _check_domain(domain)
        if not ascii_domain:
            raise AddressError(f"invalid domain in address {text!r}")
        domain = ascii_domain
    candidate = f"{local}@{domain}"
    if (
        not at
        or len(candidate) > _MAX_ADDRESS
        or not _DOT_ATOM.fullmatch(local)
        or not _WIRE_DOMAIN.fullmatch(domain)
        or ".." in domain
    ):
        raise AddressError(f"invalid e-mail address {text!r}")
    return candidate


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
            raise AddressError("the address is empty", "empty")
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

    def accept(self, raw: str) -> str:
        """The normalised address if the policy accepts it (import, sign-up, web app):
        valid, and one the sender can carry (``NonAsciiLocalPart`` otherwise)."""
        normalised = self.normalise(raw)
        local = normalised.rpartition("@")[0]
        if not local.isascii():
            raise NonAsciiLocalPart(_NON_ASCII.format(address=raw.strip()))
        # The sender's own check, so that both can never disagree.
        return wire_address(normalised)

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


# email-validator's messages (English prose) → our reason; the first match wins.
_REASONS = (
    ("must have an @-sign", "no_at"),
    ("something before the @-sign", "no_local"),
    ("something after the @-sign", "no_domain"),
    ("too long", "too_long"),
    ("period", "dots"),
    ("before the @-sign", "local"),
    ("after the @-sign", "domain"),
    ("domain", "domain"),
)


def reason_of(message: str) -> str:
    """The reason code of one of email-validator's messages ("invalid" if unknown)."""
    return next((code for part, code in _REASONS if part in message), "invalid")


def _full_check(text: str) -> str:
    try:
        info = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise AddressError(str(exc), reason_of(str(exc))) from exc
    domain = info.ascii_domain or info.domain
    return f"{info.local_part}@{domain}".lower()


def normalise_email(raw: str) -> str:
    """Check and normalise one address (``AddressError`` when it is not valid).

    The key form, without the sending policy: for addresses already stored or reported.
    """
    return Normaliser().normalise(raw)


def accept_address(raw: str) -> str:
    """Check one new address against the policy and normalise it (see ``accept``)."""
    return Normaliser().accept(raw)
