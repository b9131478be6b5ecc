"""Build the bytes of each recipient's copy without re-encoding what all copies share.

``MessageBuilder`` is made once per mailing, language and list. It splits the rendered
text and HTML into lines; lines without a ⟦PLACEHOLDER⟧ are quoted-printable encoded
once, lines with one are kept as small templates. A copy is then: a few header lines,
the pre-encoded byte blocks, and the handful of personal lines filled in and encoded
(``binascii.b2a_qp``, the C encoder). Quoted-printable encodes each line on its own, so
the spliced result is byte for byte what encoding the whole personalised body would give.

Values are filled in like ``pipeline.render.personalise``: plain text in the text part,
HTML-escaped in the HTML part. Every header value passes ``headers.clean`` (no CR/LF).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from email.utils import format_datetime

from pipeline.bounces import return_path
from pipeline.clock import Clock, SystemClock
from pipeline.config import Settings
from pipeline.deliver import Attachment, MessageParts, OutgoingMessage
from pipeline.deliver.headers import check_address, clean, fold, mailbox, phrase, unstructured
from pipeline.deliver.links import kit_link_tails, recipient_links, salutation
from pipeline.models import Recipient
from pipeline.render import Personalisation, RenderedMailing

# ⟦KIT_0⟧, ⟦KIT_1⟧ …: the tails of the press kit links, one per file (``render.kit``).
_PLACEHOLDER = re.compile(r"⟦[A-Z][A-Z0-9_]*⟧")
TEST_HEADER = "X-Rundbrief-Test"
TEST_PREFIX = "[TEST] "

# Placeholder name (inside ⟦…⟧) -> attribute of Personalisation.
_FIELDS = {
    "SALUTATION": "salutation",
    "FIRST_NAME": "first_name",
    "LAST_NAME": "last_name",
    "EMAIL": "email",
    "UNSUB_URL": "unsubscribe_url",
    "PREFS_URL": "preferences_url",
}


@dataclass(frozen=True)
class _Line:
    """A line with placeholders as a ``str.format_map`` template (filled at C speed)."""

    template: str

    def fill(self, values: _Values) -> str:
        return self.template.format_map(values)


class _Values(dict[str, str]):
    """Placeholder name -> value; an unknown placeholder stays as it was written."""

    def __missing__(self, key: str) -> str:
        # A copy without personal kit links (a test copy) links the files plainly.
        return "" if key.startswith("KIT_") else f"⟦{key}⟧"


class _Body:
    """One MIME part's body: pre-encoded blocks and per-recipient lines, in order."""

    def __init__(self, text: str, *, escape: bool) -> None:
        self.escape = escape
        self.segments: list[bytes | _Line] = []
        static: list[str] = []
        for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
            if "⟦" in line and _PLACEHOLDER.search(line):
                self._flush(static)
                self.segments.append(_Line(_template(line)))
            else:
                static.append(line)
        self._flush(static)

    def _flush(self, lines: list[str]) -> None:
        if lines:
            self.segments.append(_qp("\r\n".join(lines) + "\r\n"))
            lines.clear()

    def render(self, values: _Values) -> bytes:
        return b"".join(
            segment if isinstance(segment, bytes) else _qp(segment.fill(values) + "\r\n")
            for segment in self.segments
        )

    def plain(self, values: _Values) -> str:
        """The filled-in text (for providers that post JSON fields)."""
        out: list[str] = []
        for segment in self.segments:
            if isinstance(segment, bytes):
                out.append(binascii.a2b_qp(segment).decode("utf-8"))
            else:
                out.append(segment.fill(values) + "\r\n")
        # The last CRLF belongs to the MIME boundary that follows, not to the content.
        return "".join(out).replace("\r\n", "\n").removesuffix("\n")


def reflow_html(html: str, *, limit: int = 300) -> str:
    """Break long lines at whitespace between the attributes of a tag.

    Minified HTML (what css-inline writes) can be one 40 KB line; a placeholder in it
    would make every copy re-encode the whole line. A line break between two attributes
    means the same to every HTML parser, so lines are cut there once they pass ``limit``
    characters; text content and attribute values are never touched.
    """
    if all(len(line) <= limit for line in html.split("\n")):
        return html
    out: list[str] = []
    column = 0
    in_tag = False
    quote = ""
    for char in html:
        if quote:
            if char == quote:
                quote = ""
        elif in_tag:
            if char in "\"'":
                quote = char
            elif char == ">":
                in_tag = False
            elif char == " " and column >= limit:
                out.append("\n")
                column = 0
                continue
        elif char == "<":
            in_tag = True
        out.append(char)
        column = 0 if char == "\n" else column + 1
    return "".join(out)


def _template(line: str) -> str:
    """``Hallo ⟦FIRST_NAME⟧ {x}`` -> ``Hallo {FIRST_NAME} {{x}}``."""
    out: list[str] = []
    last = 0
    for match in _PLACEHOLDER.finditer(line):
        out.append(line[last : match.start()].replace("{", "{{").replace("}", "}}"))
        out.append("{" + match.group(0)[1:-1] + "}")
        last = match.end()
    out.append(line[last:].replace("{", "{{").replace("}", "}}"))
    return "".join(out)


def _qp(text: str) -> bytes:
    return binascii.b2a_qp(text.encode("utf-8"), istext=True)


def message_id_for(
    secret: str, mailing_id: int | None, delivery_id: int | None, domain: str
) -> str:
    """Stable per delivery: a resent copy (after a crash) carries the same Message-ID."""
    if delivery_id is None:
        return f"<rb.{secrets.token_hex(10)}@{domain}>"
    # Not ``hmac.digest``: it releases the GIL even for a few bytes, and getting it back
    # while the SMTP threads are busy stalled the sending loop.
    tag = hmac.new(secret.encode(), f"{mailing_id}.{delivery_id}".encode(), hashlib.sha256).digest()
    return f"<rb.{mailing_id}.{delivery_id}.{tag.hex()[:12]}@{domain}>"


class MessageBuilder:
    """Per mailing, language and list: encodes the shared parts once, then ``build`` each copy.

    ``personalisation`` turns a recipient into the placeholder values; by default it uses
    the audience links (signed unsubscribe and preferences URLs) and the configured
    salutation rules.
    """

    def __init__(
        self,
        settings: Settings,
        rendered: RenderedMailing,
        *,
        list_name: str | None,
        secret: str,
        clock: Clock | None = None,
        wants_parts: bool = False,
        personalisation: Callable[[Recipient], Personalisation] | None = None,
        auto_submitted: bool = False,
        kit_names: Sequence[str] = (),
        attachments: Sequence[Attachment] = (),
    ) -> None:
        self.settings = settings
        # The press kit's file names in the kit's order: each link's personal token.
        self.kit_names = tuple(kit_names)
        self.attachments = tuple(attachments)
        self.auto_submitted = auto_submitted
        self.rendered = rendered
        self.list_name = list_name
        self.secret = secret
        self.clock = clock or SystemClock()
        self.wants_parts = wants_parts
        self.personalisation = personalisation or self._default_personalisation
        sender = settings.sender
        self.domain = sender.message_domain
        self.from_address = check_address(sender.from_address)
        self._text = _Body(rendered.text, escape=False)
        self._html = _Body(reflow_html(rendered.html), escape=True)
        self._boundary = "=_rb_" + secrets.token_hex(12)
        self._subject_dynamic = "⟦" in rendered.subject
        self._subjects = {
            test: fold("Subject", unstructured((TEST_PREFIX if test else "") + rendered.subject))
            for test in (False, True)
        }
        self._fixed = self._fixed_headers()
        self._date_at: datetime | None = None
        self._date_line = ""
        self._mime_head = (
            "MIME-Version: 1.0\r\n"
            f'Content-Type: multipart/alternative; boundary="{self._boundary}"\r\n'
            "\r\n"
        ).encode()
        mixed = "=_rb_mixed_" + secrets.token_hex(12)
        if self.attachments:
            # multipart/mixed around the alternative: the attachments are encoded once.
            self._mime_head = (
                "MIME-Version: 1.0\r\n"
                f'Content-Type: multipart/mixed; boundary="{mixed}"\r\n'
                "\r\n"
                f"--{mixed}\r\n"
                f'Content-Type: multipart/alternative; boundary="{self._boundary}"\r\n'
                "\r\n"
            ).encode()
        self._text_head = (
            f"--{self._boundary}\r\n"
            'Content-Type: text/plain; charset="utf-8"\r\n'
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        ).encode()
        self._html_head = (
            f"--{self._boundary}\r\n"
            'Content-Type: text/html; charset="utf-8"\r\n'
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        ).encode()
        self._tail = f"--{self._boundary}--\r\n".encode()
        if self.attachments:
            self._tail += b"".join(attachment_part(a, mixed) for a in self.attachments)
            self._tail += f"--{mixed}--\r\n".encode()
        from pipeline.deliver.factory import signer_from_settings

        self._signer = signer_from_settings(settings)

    def _fixed_headers(self) -> str:
        sender = self.settings.sender
        out = fold("From", mailbox(sender.from_name, self.from_address))
        if sender.reply_to:
            out += fold("Reply-To", [check_address(sender.reply_to)])
        if self.list_name:
            title = self.list_name
            for mailing_list in self.settings.lists:
                if mailing_list.name == self.list_name:
                    title = mailing_list.title
            list_id = f"<{clean(self.list_name)}.{self.domain}>"
            out += fold("List-Id", [*unstructured_phrase(title), list_id])
        for name, value in self._kind_headers():
            out += fold(name, [value])
        return out

    def _kind_headers(self) -> list[tuple[str, str]]:
        # List mail is bulk (no vacation replies, RFC 2076); a mail made by the system
        # for one person (the opt-in mail) is auto-generated (RFC 3834).
        out = []
        if self.list_name:
            out.append(("Precedence", "bulk"))
        if self.auto_submitted:
            out.append(("Auto-Submitted", "auto-generated"))
        return out

    def _default_personalisation(self, recipient: Recipient) -> Personalisation:
        unsubscribe, preferences = recipient_links(
            self.settings, self.secret, recipient.subscriber_id, recipient.list_name
        )
        kit: tuple[str, ...] = ()
        if self.kit_names and self.rendered.mailing_id is not None:
            kit = kit_link_tails(
                self.secret, self.rendered.mailing_id, recipient.subscriber_id, self.kit_names
            )
        return Personalisation(
            salutation=salutation(self.settings, recipient, self.rendered.language),
            first_name=recipient.first_name,
            last_name=recipient.last_name,
            email=recipient.email,
            unsubscribe_url=unsubscribe,
            preferences_url=preferences,
            kit_links=kit,
        )

    def build(
        self,
        recipient: Recipient,
        *,
        delivery_id: int | None,
        test: bool = False,
        in_reply_to: str | None = None,
    ) -> OutgoingMessage:
        """One recipient's copy. Raises ``PermanentDeliveryError`` for an unusable address.
        ``in_reply_to``: the Message-ID of the copy this one follows up (a correction
        to a press release), so mail clients show both in one thread."""
        return self.build_personal(
            recipient.email,
            " ".join(p for p in (recipient.first_name, recipient.last_name) if p),
            self.personalisation(recipient),
            delivery_id=delivery_id,
            test=test,
            in_reply_to=in_reply_to,
        )

    def build_personal(
        self,
        email: str,
        name: str,
        personal: Personalisation,
        *,
        delivery_id: int | None,
        test: bool = False,
        in_reply_to: str | None = None,
    ) -> OutgoingMessage:
        """A copy for explicit placeholder values (opt-in mails, test copies)."""
        address = check_address(email)
        values = _Values({key: clean(getattr(personal, attr)) for key, attr in _FIELDS.items()})
        for index, tail in enumerate(personal.kit_links):
            values[f"KIT_{index}"] = clean(tail)
        escaped = _Values({key: html.escape(value, quote=True) for key, value in values.items()})
        mailing_id = self.rendered.mailing_id
        message_id = message_id_for(self.secret, mailing_id, delivery_id, self.domain)
        head = [
            self._date(),
            self._fixed,
            fold("To", mailbox(name, address)),
        ]
        if self._subject_dynamic:
            subject = _Line(_template(self.rendered.subject)).fill(values)
            head.append(fold("Subject", unstructured((TEST_PREFIX if test else "") + subject)))
        else:
            head.append(self._subjects[test])
        head.append(fold("Message-ID", [message_id]))
        thread = _thread_headers(in_reply_to)
        head.extend(fold(k, [v]) for k, v in thread)
        extra = self._list_headers(values["UNSUB_URL"], delivery_id, test)
        head.extend(
            fold(k, v, separator=", " if k == "List-Unsubscribe" else " ") for k, v in extra
        )
        data = b"".join(
            (
                "".join(head).encode("ascii"),
                self._mime_head,
                self._text_head,
                self._text.render(values),
                self._html_head,
                self._html.render(escaped),
                self._tail,
            )
        )
        if self._signer is not None:
            data = self._signer.sign(data)
        parts = None
        if self.wants_parts:
            parts = self._parts(address, name, values, escaped, extra, message_id, test)
            if thread:
                parts = replace(parts, headers=(*parts.headers[:1], *thread, *parts.headers[1:]))
        envelope_from = self.from_address
        bounce_domain = self.settings.delivery.bounce_domain
        if bounce_domain and delivery_id is not None:
            envelope_from = return_path(self.secret, delivery_id, bounce_domain)
        return OutgoingMessage(
            delivery_id=delivery_id,
            envelope_from=envelope_from,
            recipient=address,
            message_id=message_id,
            data=data,
            parts=parts,
            idempotency_key=f"rb-{mailing_id}-{delivery_id}" if delivery_id is not None else "",
        )

    def _date(self) -> str:
        # Formatting a date costs more than the rest of the headers; once per second.
        now = self.clock.now().replace(microsecond=0)
        if now != self._date_at:
            self._date_at = now
            self._date_line = fold("Date", [format_datetime(now)])
        return self._date_line

    def _list_headers(
        self, unsubscribe_url: str, delivery_id: int | None, test: bool
    ) -> list[tuple[str, list[str]]]:
        sender = self.settings.sender
        out: list[tuple[str, list[str]]] = []
        if self.list_name and unsubscribe_url:
            targets = [f"<{_url(unsubscribe_url)}>"]
            if sender.unsubscribe_mailto:
                mailto = check_address(sender.unsubscribe_mailto)
                targets.append(f"<mailto:{mailto}?subject=unsubscribe>")
            out.append(("List-Unsubscribe", targets))
            out.append(("List-Unsubscribe-Post", ["List-Unsubscribe=One-Click"]))
        if sender.feedback_id and self.rendered.mailing_id is not None:
            fid = f"{self.rendered.mailing_id}:{self.list_name or 'single'}:{clean(sender.feedback_id)}"
            out.append(("Feedback-ID", [fid.replace(" ", "")]))
        if test:
            out.append((TEST_HEADER, ["yes"]))
        return out

    def _parts(
        self,
        address: str,
        name: str,
        values: _Values,
        escaped: _Values,
        extra: list[tuple[str, list[str]]],
        message_id: str,
        test: bool,
    ) -> MessageParts:
        sender = self.settings.sender
        subject = _Line(_template(self.rendered.subject)).fill(values)
        headers = [("Message-ID", message_id)]
        headers += [(k, ", ".join(v) if k == "List-Unsubscribe" else " ".join(v)) for k, v in extra]
        if self.list_name:
            headers.append(("List-Id", f"<{self.list_name}.{self.domain}>"))
        headers += self._kind_headers()
        return MessageParts(
            from_name=clean(sender.from_name),
            from_address=self.from_address,
            to_name=clean(name),
            to_address=address,
            reply_to=sender.reply_to,
            subject=clean((TEST_PREFIX if test else "") + subject),
            text=self._text.plain(values),
            html=self._html.plain(escaped),
            headers=tuple(headers),
            attachments=self.attachments,
        )


def attachment_part(attachment: Attachment, boundary: str) -> bytes:
    """One attachment as a MIME part: base64 in lines of 76 characters."""
    name = clean(attachment.name).replace('"', "")
    kind = clean(attachment.content_type) or "application/octet-stream"
    encoded = base64.encodebytes(attachment.data).replace(b"\n", b"\r\n")
    head = (
        f"--{boundary}\r\n"
        f'Content-Type: {kind}; name="{name}"\r\n'
        f'Content-Disposition: attachment; filename="{name}"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
    )
    return head.encode("ascii") + encoded


def unstructured_phrase(text: str) -> list[str]:
    """A List-Id description: quoted or encoded, never bare (it precedes ``<id>``)."""
    return phrase(text)


_MESSAGE_ID = re.compile(r"^<[^<>\s@]+@[^<>\s@]+>$")


def _thread_headers(in_reply_to: str | None) -> list[tuple[str, str]]:
    """``In-Reply-To`` and ``References`` (RFC 5322 3.6.4) naming the one message a
    follow-up answers; a stored value that is not a plain ``<id@domain>`` is left out
    rather than written into a header."""
    if not in_reply_to or not _MESSAGE_ID.match(in_reply_to.strip()):
        return []
    message_id = in_reply_to.strip()
    return [("In-Reply-To", message_id), ("References", message_id)]


_URL_UNSAFE = re.compile(r"[\s<>\"]")


def _url(value: str) -> str:
    # A URL inside <...> in a header: no spaces, no angle brackets, no controls.
    return _URL_UNSAFE.sub("", value)
