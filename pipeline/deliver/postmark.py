"""Postmark: up to 500 messages per ``POST /email/batch``, one result each inside a 200.

Postmark takes JSON, not MIME: our message is mapped to its fields (From, To, Subject,
HtmlBody, TextBody, ReplyTo, Headers with List-Unsubscribe and List-Unsubscribe-Post,
MessageStream, Metadata with the delivery id so bounce webhooks find the delivery).
The answer is a JSON array in request order; ``ErrorCode`` 0 means accepted, 406 means
Postmark already holds the address as inactive (it hard-bounced or complained), which we
treat as a hard bounce. A 422 answer rejects the whole request.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.utils import formataddr
from typing import Any

import requests

from pipeline.config import Provider, Settings
from pipeline.deliver import OutgoingMessage, SendResult
from pipeline.deliver.http import (
    HttpClient,
    error_text,
    failed,
    message_parts,
    ok,
    transient_for,
)
from pipeline.errors import PermanentDeliveryError, TransientDeliveryError

BATCH_LIMIT = 500
INACTIVE_RECIPIENT = 406
# Whole-request error codes that mean this server token or sender cannot send at all.
DEAD_CODES = frozenset({10, 400, 401, 405, 412, 413})
TRANSIENT_CODES = frozenset({100, 429})


class PostmarkTransport:
    name = "postmark"
    batch_hint = BATCH_LIMIT
    wants_parts = True

    def __init__(
        self, config: Provider, token: str, *, session: requests.Session | None = None
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
    def from_settings(cls, settings: Settings) -> PostmarkTransport:
        token = settings.secret(settings.postmark.api_key_env, key="postmark.api_key_env")
        return cls(settings.postmark, token)

    def send(self, batch: Sequence[OutgoingMessage]) -> list[SendResult]:
        results: list[SendResult] = []
        for start in range(0, len(batch), BATCH_LIMIT):
            chunk = batch[start : start + BATCH_LIMIT]
            try:
                results.extend(self._send_chunk(chunk))
            except TransientDeliveryError as exc:
                # throttled or down: this chunk and the rest come back for a retry later
                results.extend(transient_for(batch[start:], exc))
                break
            except PermanentDeliveryError as exc:
                if not results:
                    raise
                # the token died after an accepted chunk: report that chunk as sent
                results.extend(failed(m, str(exc), permanent=False) for m in batch[start:])
                break
        return results

    def _send_chunk(self, chunk: Sequence[OutgoingMessage]) -> list[SendResult]:
        payload = [self._payload(m) for m in chunk]
        response = self.client.post("/email/batch", json=payload)
        if response.status_code == 422:
            return self._rejected(chunk, response)
        if response.status_code != 200:
            reason = f"postmark: HTTP {response.status_code}: {error_text(response)}"
            return [failed(m, reason, permanent=True) for m in chunk]
        try:
            answers = response.json()
        except ValueError as exc:
            raise TransientDeliveryError("postmark: unreadable batch answer") from exc
        if not isinstance(answers, list) or len(answers) != len(chunk):
            raise TransientDeliveryError(
                f"postmark: batch answer has {len(answers) if isinstance(answers, list) else 0}"
                f" results for {len(chunk)} messages"
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
        if parts.reply_to:
            body["ReplyTo"] = parts.reply_to
        if message.delivery_id is not None:
            # comes back in bounce and complaint webhooks: the delivery, not a guess
            body["Metadata"] = {"delivery_id": str(message.delivery_id)}
        return body

    def _result(self, message: OutgoingMessage, answer: Any) -> SendResult:
        if not isinstance(answer, dict):
            return failed(message, "postmark: malformed result", permanent=False)
        code = int(answer.get("ErrorCode", -1))
        if code == 0:
            return ok(message, answer.get("MessageID"))
        reason = f"postmark: error {code}: {answer.get('Message', '')}"
        if code == INACTIVE_RECIPIENT:
            return failed(message, reason, permanent=True, hard_bounce=True)
        return failed(message, reason, permanent=code not in TRANSIENT_CODES)

    def _rejected(
        self, chunk: Sequence[OutgoingMessage], response: requests.Response
    ) -> list[SendResult]:
        try:
            code = int(response.json().get("ErrorCode", -1))
        except (ValueError, AttributeError, TypeError):
            code = -1
        reason = f"postmark: request rejected (error {code}): {error_text(response)}"
        if code in DEAD_CODES:
            raise PermanentDeliveryError(reason)
        if code in TRANSIENT_CODES:
            raise TransientDeliveryError(reason)
        return [failed(m, reason, permanent=True) for m in chunk]

    def close(self) -> None:
        self.client.close()
