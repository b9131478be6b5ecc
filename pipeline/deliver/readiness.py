"""Is this configuration fit to mail real people? The rules of ``rundbrief check``.

A configuration can be valid and still send mail that recipients cannot use and the
large mailbox providers refuse: unsubscribe links to a loopback port, no imprint, no
signing secret. These rules apply when ``[delivery] transport`` reaches people (smtp or
an HTTP provider); a Maildir keeps every message on this machine, so the demo and dry
runs are never held up by them.

    check_readiness(settings) ─▶ [Finding(severity, code, key, message, hint, line)]
    readiness_report(settings, found) ─▶ the text ``check`` prints (a refusal carries it)
    readiness_json(settings, found, strict=) ─▶ what ``check --json`` prints
    require_ready(settings) ─▶ NotReadyError when any finding is an error

``require_ready`` is the one gate: the outbox calls it before a real send (``send``,
the web app, the daemon's send jobs, ``worker``), and the daemon and ``worker`` call it
once at start so they refuse at once rather than at the first send. An error stops
them; a warning only ``check --strict``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pipeline.config import HTTP_PROVIDERS, Settings
from pipeline.errors import NotReadyError

Severity = Literal["error", "warning"]
# Transports whose messages reach people (a Maildir stays on this machine).
REACHING = ("smtp", *HTTP_PROVIDERS)
# The signing secret of unsubscribe and preference links: an HMAC key wants this many
# characters at least (32 random ones are about 190 bits).
MIN_SECRET = 32
# Names no recipient can reach (RFC 2606, RFC 6761, RFC 6762 mDNS, RFC 8375).
RESERVED_SUFFIXES = ("example", "test", "invalid", "localhost", "local", "home.arpa", "internal")
RESERVED_DOMAINS = ("example.com", "example.net", "example.org")


@dataclass(frozen=True)
class Finding:
    """One thing to fix before real people get mail; ``key`` is the configuration key
    (``web.base_url``, ``lists[2].reason``), ``line`` where it is in the file."""

    severity: Severity
    code: str
    key: str
    message: str
    hint: str
    line: int | None = None

    def as_json(self, source: str) -> dict[str, Any]:
        return {**asdict(self), "file": source}


def reaches_people(settings: Settings) -> bool:
    return settings.delivery.transport in REACHING


def check_readiness(settings: Settings, *, strict: bool = False) -> list[Finding]:
    """Every finding for ``settings``, errors first; none for a Maildir. ``strict``
    makes every warning an error."""
    return _with_lines(settings, _findings(settings, strict=strict))


def _findings(settings: Settings, *, strict: bool) -> list[Finding]:
    if not reaches_people(settings):
        return []
    found = [*_errors(settings), *_warnings(settings)]
    if strict:
        found = [replace(f, severity="error") for f in found]
    found.sort(key=lambda f: f.severity != "error")
    return found


def _with_lines(settings: Settings, found: list[Finding]) -> list[Finding]:
    """``found`` with the line of each key (reads the configuration file, so only when
    there is something to report)."""
    if not found:
        return found
    lines = _KeyLines.of(settings.source)
    return [replace(f, line=lines.find(f.key)) for f in found]


def readiness_report(settings: Settings, found: Sequence[Finding]) -> str:
    """What ``check`` prints about ``found``: a summary line, then each finding with
    its file, line and key, and a hint. A refusal to send carries the same text."""
    source, transport = settings.source, settings.delivery.transport
    if not reaches_people(settings):
        return (
            f"{source}: transport {transport} keeps every message on this machine; the "
            f"production rules apply with smtp or a provider ({', '.join(HTTP_PROVIDERS)})"
        )
    errors = sum(f.severity == "error" for f in found)
    warnings = len(found) - errors
    counts = f"{_count(errors, 'error')}, {_count(warnings, 'warning')}"
    if errors:
        head = f"{source}: not ready to send to real people with transport {transport}: {counts}"
    else:
        head = f"{source}: ready to send with transport {transport} ({counts})"
    out = [head]
    for f in found:
        where = f"{source}:{f.line}" if f.line else source
        out.append(f"{where}: {f.severity}: {f.key}: {f.message} [{f.code}]")
        out.append(f"    hint: {f.hint}")
    return "\n".join(out)


def readiness_json(settings: Settings, found: Sequence[Finding], *, strict: bool) -> dict[str, Any]:
    """What ``check --json`` prints: ``ok``, the counts and every finding."""
    errors = sum(f.severity == "error" for f in found)
    return {
        "ok": errors == 0,
        "source": settings.source,
        "transport": settings.delivery.transport,
        "reaches_people": reaches_people(settings),
        "strict": strict,
        "errors": errors,
        "warnings": len(found) - errors,
        "findings": [f.as_json(settings.source) for f in found],
    }


def require_ready(settings: Settings) -> None:
    """Raise ``NotReadyError`` (the text of ``readiness_report``) when a finding is an error."""
    # Asked before every real send: the file is read for line numbers only on a refusal.
    found = _findings(settings, strict=False)
    if any(f.severity == "error" for f in found):
        found = _with_lines(settings, found)
        raise NotReadyError(readiness_report(settings, found), findings=tuple(found))


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _errors(settings: Settings) -> list[Finding]:
    out: list[Finding] = []
    org = settings.organisation
    base = settings.web.base_url
    url = urlsplit(base)
    if url.scheme != "https":
        out.append(
            Finding(
                "error",
                "base-url-not-https",
                "web.base_url",
                f"{base} is not https: List-Unsubscribe and every link in the mail point "
                "there, and Gmail, Yahoo and Microsoft want an https one-click link",
                'serve the web app behind a TLS proxy and set base_url = "https://…" to '
                "its public address",
            )
        )
    why = _unreachable(url.hostname or "")
    if why:
        out.append(
            Finding(
                "error",
                "base-url-not-public",
                "web.base_url",
                f"{base}: {why}; recipients cannot open its unsubscribe and archive links",
                "set base_url to the public name the web app is reached under "
                '(e.g. "https://newsletter.your-organisation.de")',
            )
        )
    if not org.postal_address:
        out.append(
            Finding(
                "error",
                "postal-address-missing",
                "organisation.postal_address",
                "empty: every mail's footer must carry the sender's postal address "
                "(DDG §5, UWG §7)",
                'set postal_address = "Name e. V., Street 1, 12345 City"',
            )
        )
    if not org.imprint_url:
        out.append(
            Finding(
                "error",
                "imprint-missing",
                "organisation.imprint_url",
                "empty: every mail's footer links to the imprint (Impressum, DDG §5)",
                'set imprint_url = "https://…/impressum"',
            )
        )
    elif urlsplit(org.imprint_url).scheme not in ("http", "https"):
        out.append(
            Finding(
                "error",
                "imprint-not-a-link",
                "organisation.imprint_url",
                f"{org.imprint_url!r} is no http(s) address: the footer's imprint link "
                "would lead nowhere",
                'set imprint_url = "https://…/impressum"',
            )
        )
    for number, mailing_list in enumerate(settings.lists, start=1):
        if not mailing_list.reason:
            out.append(
                Finding(
                    "error",
                    "list-reason-missing",
                    f"lists[{number}].reason",
                    f"list {mailing_list.name!r} has no reason: the footer says why the "
                    "recipient gets the mail",
                    'set reason = "Sie erhalten diese E-Mail, weil …" in its [[lists]] table',
                )
            )
    out.extend(_secret(settings))
    return out


def _secret(settings: Settings) -> list[Finding]:
    env = settings.web.secret_env
    value = settings.secrets.get("web.secret_env") if env else ""
    hint = (
        f'export {env or "RUNDBRIEF_SECRET"}="$(python3 -c '
        "'import secrets; print(secrets.token_urlsafe(48))')\" once and keep it: "
        "links in mail already sent are signed with it"
    )
    if not value:
        what = f"the variable {env} is not set" if env else "no variable is named"
        return [
            Finding(
                "error",
                "secret-missing",
                "web.secret_env",
                f"{what}: unsubscribe and preference links are signed with this secret",
                hint,
            )
        ]
    if len(value) < MIN_SECRET:
        return [
            Finding(
                "error",
                "secret-short",
                "web.secret_env",
                f"{env} holds {len(value)} characters; at least {MIN_SECRET} make "
                "unsubscribe links unguessable",
                hint,
            )
        ]
    return []


def _warnings(settings: Settings) -> list[Finding]:
    out: list[Finding] = []
    transport = settings.delivery.transport
    if transport == "smtp" and not settings.dkim.enabled:
        out.append(
            Finding(
                "warning",
                "dkim-off",
                "dkim.enabled",
                "mail goes out unsigned: Gmail, Yahoo and Microsoft want bulk mail "
                "signed by the From domain (DKIM) and put unsigned mail in spam or refuse it",
                "publish a DKIM key in DNS and set [dkim] enabled = true, selector, domain, "
                "key_file (or let the SMTP relay sign)",
            )
        )
    if not settings.bounces.source and not _webhook_configured(settings):
        where = f" and the {transport} webhook has no secret" if transport != "smtp" else ""
        out.append(
            Finding(
                "warning",
                "no-bounce-handling",
                "bounces.source",
                f"no bounce mailbox is configured{where}: addresses that bounce or "
                "complain are mailed again, which harms the sender's reputation",
                'set [bounces] source = "imaps://user@host/INBOX" (or maildir:PATH) and '
                "run the daemon"
                + (f", or set the [{transport}] webhook secret" if transport != "smtp" else ""),
            )
        )
    imprint = settings.organisation.imprint_url
    why = _unreachable(urlsplit(imprint).hostname or "") if imprint else ""
    if why and urlsplit(imprint).scheme in ("http", "https"):
        out.append(
            Finding(
                "warning",
                "imprint-not-public",
                "organisation.imprint_url",
                f"{imprint}: {why}; recipients cannot open the footer's imprint link",
                "link the imprint page of the organisation's public website",
            )
        )
    if not settings.sender.feedback_id:
        out.append(
            Finding(
                "warning",
                "no-feedback-id",
                "sender.feedback_id",
                "list mail carries no Feedback-ID header: Gmail's feedback loop cannot "
                "tell complaints per mailing and list",
                'set feedback_id = "your-sender-id": the header becomes '
                "MAILING:LIST:your-sender-id",
            )
        )
    return out


def _webhook_configured(settings: Settings) -> bool:
    transport = settings.delivery.transport
    if transport not in HTTP_PROVIDERS:
        return False
    from pipeline.deliver.providers import webhook_of

    return webhook_of(settings, transport).configured()


def _unreachable(host: str) -> str:
    """Why recipients cannot reach ``host``, or "" when they can (as far as a name tells)."""
    host = host.lower().rstrip(".")
    if not host:
        return "no host"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None:
        if ip.is_loopback:
            return f"{host} is a loopback address"
        # RFC 1918, link-local, fc00::/7, shared and documentation ranges: not global
        return "" if ip.is_global else f"{host} is a private or reserved address"
    if host == "localhost" or host.endswith(".localhost"):
        return f"{host} is this machine"
    for suffix in RESERVED_SUFFIXES:
        if host == suffix or host.endswith("." + suffix):
            return f"{host} is under .{suffix}, a name reserved for examples and local use"
    for domain in RESERVED_DOMAINS:
        if host == domain or host.endswith("." + domain):
            return f"{host} is under {domain}, a domain reserved for examples"
    if "." not in host:
        return f"{host} is a name without a domain, known only on a local network"
    return ""


class _KeyLines:
    """Where keys are in a TOML file: the line of ``key =`` in its table (``[web]``,
    the n-th ``[[lists]]``), or the table's header when the key is left out."""

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.-]+)\s*\]\]?")
    _KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    @classmethod
    def of(cls, source: str) -> _KeyLines:
        try:
            return cls(Path(source).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            return cls("")

    def find(self, key: str) -> int | None:
        table, _, name = key.rpartition(".")
        wanted_index = 0
        match = re.fullmatch(r"(.+)\[(\d+)\]", table)
        if match:
            table, wanted_index = match.group(1), int(match.group(2))
        current, index, header = "", 0, None
        counts: dict[str, int] = {}
        for number, line in enumerate(self.lines, start=1):
            head = self._HEADER.match(line)
            if head:
                current = head.group(2)
                counts[current] = counts.get(current, 0) + 1
                index = counts[current] if head.group(1) == "[[" else 0
                if current == table and index == wanted_index:
                    header = number
                continue
            found = self._KEY.match(line)
            if found and found.group(1) == name and current == table and index == wanted_index:
                return number
        return header
