"""Issue 13, item 4: attachments in each HTTP provider's own request format, and each
provider's documented message size limit (what keeps an attached press kit under it)."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from pipeline.deliver import Attachment, MessageParts, OutgoingMessage
from pipeline.deliver.attachments import message_limit
from pipeline.deliver.providers.http import message_parts
from pipeline.deliver.providers.postmark import transport as postmark
from tests.deliver.test_providers import ENDPOINT, make, outgoing, success_answer
from tests.support.kits import pdf, photo
from tests.support.settings import make_settings

FILES = (
    Attachment("Pressemappe.pdf", "application/pdf", pdf()),
    Attachment("Rathaus-Goerlitz.jpg", "image/jpeg", photo(300, 200)),
)


def with_attachments(message: OutgoingMessage) -> OutgoingMessage:
    parts = replace(message_parts(message), attachments=FILES)
    assert isinstance(parts, MessageParts)
    return replace(message, parts=parts)


@pytest.fixture
def transports(httpserver: HTTPServer) -> Iterator[Callable[[str], Any]]:
    made: list[Any] = []

    def factory(kind: str) -> Any:
        made.append(make(kind, httpserver))
        return made[-1]

    yield factory
    for transport in made:
        transport.close()


def _sent_json(kind: str, httpserver: HTTPServer, transports: Callable[[str], Any]) -> Any:
    httpserver.expect_request(ENDPOINT[kind], method="POST").respond_with_handler(
        lambda r: success_answer(kind, r)
    )
    results = transports(kind).send([with_attachments(m) for m in outgoing(1)])
    assert results[0].ok
    return httpserver.log[0][0].get_json()


def test_postmark_attachments(httpserver: HTTPServer, transports: Callable[[str], Any]) -> None:
    (body,) = _sent_json("postmark", httpserver, transports)
    assert [(a["Name"], a["ContentType"]) for a in body["Attachments"]] == [
        ("Pressemappe.pdf", "application/pdf"),
        ("Rathaus-Goerlitz.jpg", "image/jpeg"),
    ]
    assert base64.b64decode(body["Attachments"][0]["Content"]) == pdf()


def test_sendgrid_attachments(httpserver: HTTPServer, transports: Callable[[str], Any]) -> None:
    body = _sent_json("sendgrid", httpserver, transports)
    first = body["attachments"][0]
    assert (first["filename"], first["type"], first["disposition"]) == (
        "Pressemappe.pdf",
        "application/pdf",
        "attachment",
    )
    assert base64.b64decode(first["content"]) == pdf()


def test_brevo_attachments(httpserver: HTTPServer, transports: Callable[[str], Any]) -> None:
    body = _sent_json("brevo", httpserver, transports)
    assert [a["name"] for a in body["attachment"]] == ["Pressemappe.pdf", "Rathaus-Goerlitz.jpg"]
    assert base64.b64decode(body["attachment"][1]["content"]) == FILES[1].data


def test_without_attachments_no_field_is_sent(
    httpserver: HTTPServer, transports: Callable[[str], Any]
) -> None:
    httpserver.expect_request(ENDPOINT["sendgrid"], method="POST").respond_with_handler(
        lambda r: success_answer("sendgrid", r)
    )
    transports("sendgrid").send(outgoing(1))
    assert "attachments" not in httpserver.log[0][0].get_json()


def test_each_provider_has_its_documented_limit(
    httpserver: HTTPServer, transports: Callable[[str], Any], tmp_path: Any
) -> None:
    settings = make_settings(tmp_path)
    limits = {kind: message_limit(settings, transports(kind)) for kind in ENDPOINT}
    assert limits == {
        "postmark": 10_000_000,
        "mailgun": 25_000_000,
        "sendgrid": 30_000_000,
        "brevo": 20_000_000,
    }


def test_postmark_batches_stay_under_its_request_limit() -> None:
    small = outgoing(3)
    assert postmark._chunks(small) == [(0, 3)]
    big = [replace(m, data=b"x" * 9_000_000) for m in outgoing(12)]
    chunks = postmark._chunks(big)
    assert chunks == [(0, 5), (5, 10), (10, 12)]
    many = outgoing(3) * 400  # 1,200 small messages: 500 a request, as before
    assert [end - start for start, end in postmark._chunks(many)] == [500, 500, 200]


def test_a_queued_test_copy_keeps_its_attachments_for_a_provider(store: Any, clock: Any) -> None:
    import pipeline.store.system_mail as system_db
    from pipeline.deliver.system import _outgoing, enqueue

    # (the builder's MIME is ASCII, as the system mail keeps it)
    message = replace(with_attachments(outgoing(1)[0]), data=b"Subject: Test\r\n\r\nTest\r\n")
    mail_id = enqueue(store, kind="test_copy", message=message, clock=clock)
    kept = system_db.get(store, mail_id)
    assert kept is not None
    again = _outgoing(kept, wants_parts=True)
    assert again.parts is not None and again.parts.attachments == FILES
