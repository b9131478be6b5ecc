"""What the HTTP providers share: one pooled session, timeouts, status mapping, Retry-After.

Every provider module (``postmark``, ``mailgun``, ``sendgrid``, ``brevo``) keeps its own
request shape private and uses ``HttpClient`` to talk, so the answer to "what does a 429
or a timeout mean" is decided once, here:

    2xx, and other 4xx       returned to the provider, which maps them per message
    401, 403 (and 404)       ``PermanentDeliveryError``: the key or the endpoint is wrong,
                             a dead transport; the outbox pauses instead of failing
                             every recipient
    429                      ``TransientDeliveryError`` with ``retry_after`` from the
                             ``Retry-After`` header (seconds or an HTTP date) when given
    5xx, timeouts, refused   ``TransientDeliveryError`` (``retry_after`` when the peer said)
    or dropped connections

``send`` raises only for a dead transport (the contract of ``Transport``): the outbox
pauses the mailing on any exception. Everything transient becomes results instead: the
message that met the 429, 5xx or timeout and the untried rest of the batch come back as
not sent, not permanent, carrying ``retry_after``, so the outbox backs the transport off
and retries them; whatever went out before stays reported as sent. POST requests are
never retried inside requests' adapter (``max_retries=0``): a retry after a timeout
could send a message twice; the outbox decides.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from pipeline import __version__
from pipeline.deliver import MessageParts, OutgoingMessage, SendResult
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
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"[{name}] base_url: expected an http(s) URL, got {base_url!r}")
        self.name = name
        self.base_url = base_url.rstrip("/")
        # connect quickly or give up; the read may take as long as the provider needs
        self.timeout = (min(10.0, timeout), timeout)
        self.connections = connections
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
        except requests.Timeout as exc:
            raise TransientDeliveryError(f"{self.name}: timed out ({url})") from exc
        except requests.ConnectionError as exc:
            raise TransientDeliveryError(f"{self.name}: cannot connect to {url}: {exc}") from exc
        except requests.RequestException as exc:
            raise TransientDeliveryError(f"{self.name}: request failed: {exc}") from exc
        status = response.status_code
        if status in DEAD_STATUSES:
            raise PermanentDeliveryError(
                f"{self.name}: HTTP {status} from {path}: {error_text(response)} "
                f"(check the API key and the [{self.name}] settings)"
            )
        if status == 429 or status >= 500:
            wait = parse_retry_after(response.headers.get("Retry-After"))
            what = "rate limited" if status == 429 else "server error"
            raise TransientDeliveryError(
                f"{self.name}: HTTP {status} {what}: {error_text(response)}", retry_after=wait
            )
        return response

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


def error_text(response: requests.Response, *keys: str) -> str:
    """A short reason from an error answer: a JSON message field, else the body start."""
    try:
        body = response.json()
    except ValueError:
        body = None
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


def ok(message: OutgoingMessage, provider_id: str | None) -> SendResult:
    return SendResult(message.delivery_id, message.recipient, True, provider_message_id=provider_id)


def failed(
    message: OutgoingMessage,
    error: str,
    *,
    permanent: bool,
    hard_bounce: bool = False,
    retry_after: float | None = None,
) -> SendResult:
    return SendResult(
        message.delivery_id,
        message.recipient,
        False,
        error=error,
        permanent=permanent,
        hard_bounce=hard_bounce,
        retry_after=retry_after,
    )


def transient_for(
    messages: Iterable[OutgoingMessage], exc: TransientDeliveryError
) -> list[SendResult]:
    return [failed(m, str(exc), permanent=False, retry_after=exc.retry_after) for m in messages]


def send_each(
    client: HttpClient,
    batch: Sequence[OutgoingMessage],
    send_one: Callable[[OutgoingMessage], SendResult],
) -> list[SendResult]:
    """Send one request per message, ``client.connections`` at a time, results in order.

    Requests go out in windows as wide as the connection pool. A transient failure ends
    the batch after its window (the provider is throttling or down; hammering it with
    the rest helps nobody): the failed and the untried messages come back for a retry.
    A dead key raises when nothing of the batch went out, so the outbox pauses; once a
    message was accepted it is reported per message instead and the next batch raises.
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
        for message, outcome in zip(window, outcomes, strict=True):
            if isinstance(outcome, SendResult):
                results.append(outcome)
            elif isinstance(outcome, TransientDeliveryError):
                throttled = throttled or outcome
                results.append(transient_for([message], outcome)[0])
            else:
                dead = dead or PermanentDeliveryError(str(outcome))
                results.append(failed(message, str(outcome), permanent=False))
        rest = batch[start + width :]
        if dead is not None:
            if not any(r.ok for r in results):
                raise dead
            return results + [failed(m, str(dead), permanent=False) for m in rest]
        if throttled is not None:
            log.warning(
                "provider refused for now",
                extra={"transport": client.name, "error": str(throttled)},
            )
            return results + transient_for(rest, throttled)
    return results


def _attempt(
    send_one: Callable[[OutgoingMessage], SendResult], message: OutgoingMessage
) -> SendResult | DeliveryError:
    try:
        return send_one(message)
    except DeliveryError as exc:
        return exc
