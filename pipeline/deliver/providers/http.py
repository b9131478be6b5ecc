"""What the HTTP providers share: one pooled session, timeouts, status mapping, Retry-After.

Every provider's transport (``<name>/transport.py``) keeps its own request shape private
and uses ``HttpClient`` to talk, so the answer to "what does a 429
or a timeout mean, and who is to blame" is decided once, here (``Blame`` in
``pipeline.deliver``):

    2xx, and other 4xx       returned to the provider, which maps them per message:
                             a refusal naming the recipient is RECIPIENT, one about the
                             sender, the account or the request is SENDER
    401, 403 (and 404)       ``PermanentDeliveryError``: the key or the endpoint is wrong,
                             a dead transport (SENDER); the outbox pauses instead of
                             failing every recipient
    429, 5xx, a 4xx that is  ``PeerTrouble`` (PEER): retried with back-off; ``retry_after``
    not the provider's own   only when the peer named a positive wait (``Retry-After: 0``
    JSON (an HTML page)      names none)
    refused connection,      ``PeerTrouble`` (PEER): nothing was sent
    connect timeout
    read timeout, connection ``Unanswered`` (PEER, ``unknown``): the request went out and
    lost after sending       may have been accepted; the outbox asks ``confirm`` (where the
                             provider can tell) before sending it again. A client made
                             ``idempotent`` (Brevo's key) reports plain ``PeerTrouble``.

``send`` raises only for a dead transport (the contract of ``Transport``). Everything
else becomes results: the message that met the 429, 5xx or timeout and the untried rest
of the batch come back as not sent, blamed on the peer, so the outbox backs off and
retries them; whatever went out before stays reported as sent. POST requests are never
retried inside requests' adapter (``max_retries=0``): a retry after a timeout could send
a message twice; the outbox decides.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ProtocolError

from pipeline import __version__
from pipeline.deliver import Blame, ClosedOnExit, MessageParts, OutgoingMessage, SendResult
from pipeline.errors import (
    ConfigError,
    DeliveryError,
    PermanentDeliveryError,
    TransientDeliveryError,
)

log = logging.getLogger(__name__)

# Headers the providers build themselves from their own fields (or must not receive: a
# provider re-signs the message, so our DKIM signature would no longer verify). The same
# set the builder leaves out of ``MessageParts.headers``.
STRUCTURAL_HEADERS = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "subject",
        "reply-to",
        "date",
        "sender",
        "return-path",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        "dkim-signature",
    }
)
DEAD_STATUSES = frozenset({401, 403, 404})
MAX_RETRY_AFTER = 24 * 3600.0


class PeerTrouble(TransientDeliveryError):
    """The provider or the network, for now: retry later, nothing was accepted."""

    unknown = False


class Unanswered(PeerTrouble):
    """The request went out but its answer never came: it may have been accepted."""

    unknown = True


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP date.

    Returns None for a missing or unreadable value; never negative, capped at a day so a
    broken peer cannot park a mailing for a year.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return min(float(text), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return min(max(0.0, (when - now).total_seconds()), MAX_RETRY_AFTER)


def message_parts(message: OutgoingMessage) -> MessageParts:
    """The fields a JSON provider asks for: the builder's ``parts`` when it filled them
    (the transport declares ``wants_parts``), else our own MIME bytes parsed once."""
    if message.parts is not None:
        return message.parts
    parsed = message_from_bytes(message.data, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    from_name, from_address = _first_address(parsed.get("From", ""))
    to_name, to_address = _first_address(parsed.get("To", ""))
    text_part = parsed.get_body(preferencelist=("plain",))
    html_part = parsed.get_body(preferencelist=("html",))
    headers = tuple(
        (name, " ".join(str(value).split()))
        for name, value in parsed.items()
        if name.lower() not in STRUCTURAL_HEADERS
    )
    return MessageParts(
        from_name=from_name,
        from_address=from_address or message.envelope_from,
        to_name=to_name,
        to_address=to_address or message.recipient,
        reply_to=str(parsed.get("Reply-To", "")),
        subject=str(parsed.get("Subject", "")),
        text=text_part.get_content() if text_part is not None else "",  # type: ignore[attr-defined]
        html=html_part.get_content() if html_part is not None else "",  # type: ignore[attr-defined]
        headers=headers,
    )


def _first_address(value: Any) -> tuple[str, str]:
    pairs = getaddresses([str(value)])
    return pairs[0] if pairs else ("", "")


class HttpClient:
    """One ``requests.Session`` per transport with a pool sized to its connections."""

    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        timeout: float,
        connections: int,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        session: requests.Session | None = None,
        idempotent: bool = False,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"[{name}] base_url: expected an http(s) URL, got {base_url!r}")
        self.name = name
        self.base_url = base_url.rstrip("/")
        # connect quickly or give up; the read may take as long as the provider needs
        self.timeout = (min(10.0, timeout), timeout)
        self.connections = connections
        self.idempotent = idempotent
        self._pool: ThreadPoolExecutor | None = None
        self.session = session or requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=connections, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update(
            {"User-Agent": f"rundbrief/{__version__}", "Accept": "application/json"}
        )
        if headers:
            self.session.headers.update(headers)
        if auth:
            self.session.auth = auth

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        """POST and translate transport-wide failures; return every other answer."""
        url = self.base_url + path
        try:
            response = self.session.post(url, timeout=self.timeout, **kwargs)
        except requests.ConnectTimeout as exc:  # before ReadTimeout/ConnectionError: both
            raise PeerTrouble(f"{self.name}: connect timed out ({url})") from exc
        except requests.Timeout as exc:
            raise self._unanswered(f"{self.name}: timed out waiting for {url}") from exc
        except requests.ConnectionError as exc:
            if _sent_then_lost(exc):
                raise self._unanswered(
                    f"{self.name}: connection lost after sending: {exc}"
                ) from exc
            raise PeerTrouble(f"{self.name}: cannot connect to {url}: {exc}") from exc
        except requests.RequestException as exc:  # a cut or undecodable answer
            raise self._unanswered(f"{self.name}: answer lost: {exc}") from exc
        status = response.status_code
        if status in DEAD_STATUSES:
            raise PermanentDeliveryError(
                f"{self.name}: HTTP {status} from {path}: {error_text(response)} "
                f"(check the API key and the [{self.name}] settings)"
            )
        if status == 429 or status >= 500:
            what = "rate limited" if status == 429 else "server error"
            raise PeerTrouble(
                f"{self.name}: HTTP {status} {what}: {error_text(response)}",
                retry_after=retry_after(response),
            )
        if status >= 400 and status != 413 and json_body(response) is None:
            # every provider here answers its refusals in JSON: an HTML page is a proxy,
            # a load balancer or a firewall in between, not a verdict on the message
            raise PeerTrouble(
                f"{self.name}: HTTP {status} without an API answer: {error_text(response)}"
            )
        return response

    def get(self, path: str, **kwargs: Any) -> Any | None:
        """GET a JSON answer for a read-only look-up (``confirm``); None for any failure.

        A look-up never raises: "cannot tell" is an answer, and the caller then waits."""
        try:
            response = self.session.get(self.base_url + path, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            log.info("look-up failed", extra={"transport": self.name, "error": str(exc)})
            return None
        if response.status_code != 200:
            log.info(
                "look-up refused",
                extra={"transport": self.name, "status": response.status_code},
            )
            return None
        return json_body(response)

    def _unanswered(self, text: str) -> PeerTrouble:
        # an idempotent API (Brevo's key) counts a resent request once: a plain retry
        return PeerTrouble(text) if self.idempotent else Unanswered(text)

    @property
    def pool(self) -> ThreadPoolExecutor:
        """Worker threads for one-request-per-message providers, one per connection."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.connections, thread_name_prefix=self.name)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self.session.close()


class HttpTransport(ClosedOnExit):
    """The part every HTTP transport shares: its client, and ``with transport:`` to open
    and close it (the pool of connections and worker threads is released on exit)."""

    name: str
    client: HttpClient

    def close(self) -> None:
        self.client.close()


def _sent_then_lost(exc: requests.ConnectionError) -> bool:
    """Whether the connection broke after the request was written (urllib3 raises a
    ``ProtocolError`` for a peer that hung up or reset mid-exchange); a refused or
    unreachable address comes wrapped in ``MaxRetryError`` instead."""
    return any(isinstance(arg, ProtocolError) for arg in exc.args)


def json_body(response: requests.Response) -> Any | None:
    try:
        return response.json()
    except ValueError:
        return None


def retry_after(response: requests.Response) -> float | None:
    """The wait the peer named, if positive: ``Retry-After: 0`` names no wait, and the
    outbox then backs off by itself instead of hammering."""
    return parse_retry_after(response.headers.get("Retry-After")) or None


def error_text(response: requests.Response, *keys: str) -> str:
    """A short reason from an error answer: a JSON message field, else the body start."""
    body = json_body(response)
    if isinstance(body, dict):
        for key in (*keys, "message", "Message", "error", "errors", "code"):
            value = body.get(key)
            if isinstance(value, list) and value:
                value = (
                    value[0].get("message", value[0]) if isinstance(value[0], dict) else value[0]
                )
            if value:
                return str(value)[:300]
    text = response.text.strip().replace("\n", " ")
    return text[:300] or response.reason or f"HTTP {response.status_code}"


def names_recipient(text: str, message: OutgoingMessage, *words: str) -> bool:
    """Whether a refusal is about this recipient: it names the address, or one of the
    provider's own words for the recipient field (``words``, lower case, matched as
    whole words: "in to" is not "in token")."""
    lowered = text.lower()
    return message.recipient.lower() in lowered or any(
        re.search(rf"(?<!\w){re.escape(w)}(?!\w)", lowered) for w in words
    )


def look_up(
    client: HttpClient,
    batch: Sequence[OutgoingMessage],
    ask: Callable[[OutgoingMessage], tuple[bool, str | None]],
) -> dict[int, str | None]:
    """``confirm`` for providers that answer one message per look-up: ``ask`` returns
    (could tell, provider id or None), run ``client.connections`` at a time."""
    wanted = [m for m in batch if m.delivery_id is not None]
    answers = list(client.pool.map(ask, wanted)) if len(wanted) > 1 else [ask(m) for m in wanted]
    return {
        m.delivery_id: found
        for m, (told, found) in zip(wanted, answers, strict=True)
        if told and m.delivery_id is not None
    }


def ok(message: OutgoingMessage, provider_id: str | None) -> SendResult:
    return SendResult(message.delivery_id, message.recipient, True, provider_message_id=provider_id)


def failed(
    message: OutgoingMessage,
    error: str,
    *,
    permanent: bool,
    hard_bounce: bool = False,
    retry_after: float | None = None,
    blame: Blame = Blame.RECIPIENT,
    unknown: bool = False,
) -> SendResult:
    return SendResult(
        message.delivery_id,
        message.recipient,
        False,
        error=error,
        permanent=permanent,
        hard_bounce=hard_bounce,
        retry_after=retry_after,
        blame=blame,
        unknown=unknown,
    )


def refused_sender(messages: Iterable[OutgoingMessage], error: str) -> list[SendResult]:
    """The sender, the account or the request was refused: no message is at fault."""
    return [failed(m, error, permanent=False, blame=Blame.SENDER) for m in messages]


def transient_for(
    messages: Iterable[OutgoingMessage], exc: TransientDeliveryError, *, sent: bool = True
) -> list[SendResult]:
    """PEER results for ``messages``; ``unknown`` only for requests that went out
    (``sent``) and met ``Unanswered``, never for the untried rest of a batch."""
    unknown = sent and isinstance(exc, Unanswered)
    return [
        failed(
            m,
            str(exc),
            permanent=False,
            retry_after=exc.retry_after,
            blame=Blame.PEER,
            unknown=unknown,
        )
        for m in messages
    ]


def send_each(
    client: HttpClient,
    batch: Sequence[OutgoingMessage],
    send_one: Callable[[OutgoingMessage], SendResult],
) -> list[SendResult]:
    """Send one request per message, ``client.connections`` at a time, results in order.

    Requests go out in windows as wide as the connection pool. A failure that is not the
    recipient's ends the batch after its window: the peer is throttling or down (PEER;
    hammering it with the rest helps nobody), or the sender was refused (SENDER; the
    rest would be refused too). The failed and the untried messages come back for
    later. A dead key raises when nothing of the batch went out, so the outbox pauses;
    once a message was accepted it is reported per message (SENDER) instead.
    """
    results: list[SendResult] = []
    width = client.connections
    for start in range(0, len(batch), width):
        window = batch[start : start + width]
        if len(window) == 1:
            outcomes: list[SendResult | DeliveryError] = [_attempt(send_one, window[0])]
        else:
            outcomes = list(client.pool.map(lambda m: _attempt(send_one, m), window))
        throttled: TransientDeliveryError | None = None
        dead: PermanentDeliveryError | None = None
        refused: SendResult | None = None
        for message, outcome in zip(window, outcomes, strict=True):
            if isinstance(outcome, SendResult):
                results.append(outcome)
                if not outcome.ok and outcome.blame == Blame.SENDER:
                    refused = refused or outcome
            elif isinstance(outcome, TransientDeliveryError):
                throttled = throttled or outcome
                results.append(transient_for([message], outcome)[0])
            else:
                dead = dead or PermanentDeliveryError(str(outcome))
                results.append(refused_sender([message], str(outcome))[0])
        rest = batch[start + width :]
        if dead is not None:
            if not any(r.ok for r in results):
                raise dead
            return results + refused_sender(rest, str(dead))
        if refused is not None:
            return results + refused_sender(rest, refused.error or "sender refused")
        if throttled is not None:
            log.warning(
                "provider refused for now",
                extra={"transport": client.name, "error": str(throttled)},
            )
            return results + transient_for(rest, throttled, sent=False)
    return results


def _attempt(
    send_one: Callable[[OutgoingMessage], SendResult], message: OutgoingMessage
) -> SendResult | DeliveryError:
    try:
        return send_one(message)
    except DeliveryError as exc:
        return exc
