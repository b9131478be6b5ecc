"""Postmark: up to 500 messages per ``POST /email/batch``, one result each inside a 200.

Postmark takes JSON, not MIME: our message is mapped to its fields (From, To, Subject,
HtmlBody, TextBody, ReplyTo, Headers with List-Unsubscribe and List-Unsubscribe-Post,
MessageStream, Metadata with the delivery id so bounce webhooks find the delivery).
The answer is a JSON array in request order, one ``ErrorCode`` per message.

Who is to blame, by Postmark's "API error codes" (developer/api/overview#error-codes):
0 accepted; 406 "Inactive recipient" (it hard-bounced or complained: a hard bounce) and
300 "Invalid email request" naming the To address are the RECIPIENT's, permanent; 100
"Maintenance" and 429 "Rate limit exceeded" are the PEER's, for now; every other code is
about the sender, the account or the request (10 bad token, 400 sender signature not
found, 401 not confirmed, 405 not allowed to send, 412 account pending approval, 413
account may not send, 402/403/409/410 malformed request, 411 attachment type): SENDER,
no message is failed. A 422 rejects the whole request: SENDER for every message of it.

``confirm`` asks the outbound message search (``GET /messages/outbound``, "Messages
API": count and offset required, filters recipient and ``metadata_<key>``) for the
delivery id we send as metadata: the one place that knows whether an unanswered batch
was accepted.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from email.utils import formataddr
from typing import Any

import requests

from pipeline.deliver import Blame, OutgoingMessage, SendResult
from pipeline.deliver.providers.http import (
    HttpClient,
    HttpTransport,
    PeerTrouble,
    Unanswered,
    error_text,
    failed,
    json_body,
    look_up,
    message_parts,
    names_recipient,
    ok,
    refused_sender,
    transient_for,
)
from pipeline.deliver.providers.postmark import PostmarkSettings
from pipeline.errors import PermanentDeliveryError, TransientDeliveryError

BATCH_LIMIT = 500
INACTIVE_RECIPIENT = 406
INVALID_REQUEST = 300  # the recipient's only when it names the To address
# Whole-request codes that mean this server token cannot send at all: a dead transport.
DEAD_CODES = frozenset({10})
PEER_CODES = frozenset({100, 429})
SEARCH_COUNT = 50  # one delivery id matches one message; a few more for safety


# "Total message size, including attachments, can be 10 MB" (counted after base64) and
# a batch request at most 50 MB: Postmark's support article on size limits.
MAX_MESSAGE_BYTES = 10_000_000
MAX_BATCH_BYTES = 45_000_000  # below the 50 MB of a batch, for the JSON around them


class PostmarkTransport(HttpTransport):
    name = "postmark"
    batch_hint = BATCH_LIMIT
    wants_parts = True
    max_message_bytes = MAX_MESSAGE_BYTES

    def __init__(
        self, config: PostmarkSettings, token: str, *, session: requests.Session | None = None
    ) -> None:
        self.stream = config.message_stream or "broadcast"
        self.client = HttpClient(
            "postmark",
            config.base_url,
            timeout=config.timeout,
            connections=config.connections,
            headers={"X-Postmark-Server-Token": token, "Content-Type": "application/json"},
            session=session,
        )

    @classmethod
    def from_section(
        cls, config: PostmarkSettings, api_key: str, *, sender_domain: str
    ) -> PostmarkTransport:
        """Built by ``deliver.factory`` from the ``[postmark]`` section and its API key."""
        return cls(config, api_key)

    def send(self, batch: Sequence[OutgoingMessage]) -> list[SendResult]:
        results: list[SendResult] = []
        for start, end in _chunks(batch):
            chunk = batch[start:end]
            rest = batch[end:]
            try:
                results.extend(self._send_chunk(chunk))
            except TransientDeliveryError as exc:
                # throttled, down or unanswered: this chunk (perhaps accepted, perhaps
                # not) and the untried rest come back for later
                results.extend(transient_for(chunk, exc))
                results.extend(transient_for(rest, exc, sent=False))
                break
            except PermanentDeliveryError as exc:
                if not results:
                    raise
                # the token died after an accepted chunk: report that chunk as sent
                results.extend(refused_sender(batch[start:], str(exc)))
                break
        return results

    def _send_chunk(self, chunk: Sequence[OutgoingMessage]) -> list[SendResult]:
        payload = [self._payload(m) for m in chunk]
        response = self.client.post("/email/batch", json=payload)
        if response.status_code == 422:
            return self._rejected(chunk, response)
        if response.status_code != 200:
            # 413 payload too large, or another refusal of the request as a whole
            reason = f"postmark: HTTP {response.status_code}: {error_text(response)}"
            return refused_sender(chunk, reason)
        answers = json_body(response)
        if not isinstance(answers, list) or len(answers) != len(chunk):
            # a 200 that is not Postmark's answer: it may have been accepted behind it
            raise Unanswered(
                f"postmark: unreadable batch answer ({len(answers) if isinstance(answers, list) else 'no'}"
                f" results for {len(chunk)} messages): {error_text(response)}"
            )
        return [self._result(m, a) for m, a in zip(chunk, answers, strict=True)]

    def _payload(self, message: OutgoingMessage) -> dict[str, Any]:
        parts = message_parts(message)
        body: dict[str, Any] = {
            "From": formataddr((parts.from_name, parts.from_address)),
            "To": formataddr((parts.to_name, parts.to_address or message.recipient)),
            "Subject": parts.subject,
            "TextBody": parts.text,
            "HtmlBody": parts.html,
            "MessageStream": self.stream,
            "TrackOpens": False,  # no tracking without consent (DESIGN.md)
            "TrackLinks": "None",
            "Headers": [{"Name": n, "Value": v} for n, v in parts.headers],
        }
        if parts.attachments:
            body["Attachments"] = [
                {
                    "Name": a.name,
                    "Content": base64.b64encode(a.data).decode("ascii"),
                    "ContentType": a.content_type,
                }
                for a in parts.attachments
            ]
        if parts.reply_to:
            body["ReplyTo"] = parts.reply_to
        if message.delivery_id is not None:
            # comes back in bounce and complaint webhooks: the delivery, not a guess
            body["Metadata"] = {"delivery_id": str(message.delivery_id)}
        return body

    def _result(self, message: OutgoingMessage, answer: Any) -> SendResult:
        if not isinstance(answer, dict):
            return failed(message, "postmark: malformed result", permanent=False, blame=Blame.PEER)
        try:
            code = int(answer.get("ErrorCode", -1))
        except (TypeError, ValueError):
            code = -1
        if code == 0:
            return ok(message, answer.get("MessageID"))
        text = str(answer.get("Message", ""))
        reason = f"postmark: error {code}: {text}"
        if code == INACTIVE_RECIPIENT:
            return failed(message, reason, permanent=True, hard_bounce=True)
        if code == INVALID_REQUEST and names_recipient(text, message, "'to'", "recipient"):
            return failed(message, reason, permanent=True)
        if code in PEER_CODES:
            return failed(message, reason, permanent=False, blame=Blame.PEER)
        return refused_sender([message], reason)[0]

    def _rejected(
        self, chunk: Sequence[OutgoingMessage], response: requests.Response
    ) -> list[SendResult]:
        body = json_body(response)
        try:
            code = int(body.get("ErrorCode", -1)) if isinstance(body, dict) else -1
        except (TypeError, ValueError):
            code = -1
        reason = f"postmark: request rejected (error {code}): {error_text(response)}"
        if code in DEAD_CODES:
            raise PermanentDeliveryError(reason)
        if code in PEER_CODES:
            raise PeerTrouble(reason)
        if len(chunk) == 1:  # a request of one: a recipient code is about that recipient
            return [self._result(chunk[0], body)]
        return refused_sender(chunk, reason)

    def confirm(self, batch: Sequence[OutgoingMessage]) -> Mapping[int, str | None]:
        """Per delivery: Postmark's MessageID if its search holds the message (by our
        ``delivery_id`` metadata and the recipient), None if not; left out when the
        search failed (cannot tell)."""
        return look_up(self.client, batch, self._ask)

    def _ask(self, message: OutgoingMessage) -> tuple[bool, str | None]:
        wanted = str(message.delivery_id)
        answer = self.client.get(
            "/messages/outbound",
            params={
                "count": SEARCH_COUNT,
                "offset": 0,
                "recipient": message.recipient,
                "metadata_delivery_id": wanted,  # one metadata field per search
            },
        )
        messages = answer.get("Messages") if isinstance(answer, dict) else None
        if not isinstance(messages, list):
            return False, None
        for found in messages:
            if not isinstance(found, dict) or not found.get("MessageID"):
                continue
            metadata = found.get("Metadata") or {}
            if str(metadata.get("delivery_id", wanted)) == wanted:
                return True, str(found["MessageID"])
        return True, None


def _chunks(batch: Sequence[OutgoingMessage]) -> list[tuple[int, int]]:
    """(start, end) of each batch request: at most BATCH_LIMIT messages and, with
    attachments, at most MAX_BATCH_BYTES of them (the MIME size is close to the JSON's)."""
    out: list[tuple[int, int]] = []
    start = 0
    size = 0
    for index, message in enumerate(batch):
        grown = size + len(message.data)
        if index > start and (index - start >= BATCH_LIMIT or grown > MAX_BATCH_BYTES):
            out.append((start, index))
            start, grown = index, len(message.data)
        size = grown
    if start < len(batch):
        out.append((start, len(batch)))
    return out
