"""Preview files of a mailing: the HTML, the text and the whole message one recipient gets.

``build_preview`` takes the render (a draft is rendered first), picks the recipient (the
subscriber with the given address, else the first recipient of the mailing's lists, else
a sample person) and builds the message with the same ``MessageBuilder`` the send uses,
so ``preview.eml`` is byte for byte that recipient's copy apart from the Date header and
MIME boundary.

The editor pages and test copies choose their person among the same few: the sample
person of the mail's language (``sample_for``, what the web preview shows) or one of the
mailing's real recipients (``people``, ``person_for``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.audience import iter_recipients, signing_secret
from pipeline.clock import Clock
from pipeline.config import Settings
from pipeline.deliver import MessageBuilder
from pipeline.mailings.renders import render_for, renders_of
from pipeline.models import Mailing, MailingKind, Recipient, RenderedMailing
from pipeline.render import PersonalMail, personalise
from pipeline.segments import parse_optional
from pipeline.store import Store
from pipeline.store.audience import find_subscriber, recipient_batch

SAMPLE = Recipient(
    subscriber_id=0,
    email="erika.mustermann@example.org",
    list_name="",
    first_name="Erika",
    last_name="Mustermann",
    salutation="Frau",
    title="Dr.",
)


# The sample person of the editor preview and of test copies, by the mail's language.
SAMPLES = {
    "de": ("erika.mustermann@example.org", "Erika", "Mustermann"),
    "en": ("jane.doe@example.org", "Jane", "Doe"),
}


def sample_for(mailing: Mailing, language: str) -> Recipient:
    """The sample person of ``language`` on the mailing's first list (a press release's
    with a doctor's title, as journalists often have one)."""
    email, first, last = SAMPLES.get(language, SAMPLES["de"])
    return Recipient(
        subscriber_id=0,
        email=email,
        list_name=mailing.lists[0] if mailing.lists else "",
        first_name=first,
        last_name=last,
        salutation="Frau",
        title="Dr." if mailing.kind == MailingKind.PRESS else "",
        language=language,
    )


def people(store: Store, mailing: Mailing, *, limit: int = 25) -> list[Recipient]:
    """The first ``limit`` real recipients of the mailing (its lists and segment)."""
    segment = parse_optional(mailing.segment_where)
    out: list[Recipient] = []
    for recipient in iter_recipients(store, mailing.lists, batch_size=limit, segment=segment):
        out.append(recipient)
        if len(out) >= limit:
            break
    return out


def person_for(store: Store, mailing: Mailing, address: str) -> Recipient | None:
    """The recipient of the mailing with ``address`` (on its lists, in its segment, not
    unsubscribed or suppressed), or None when it would not get this mailing."""
    with store.connect() as conn:
        found = find_subscriber(conn, address.strip().lower())
        if found is None or not mailing.lists:
            return None
        batch = recipient_batch(
            conn, list(dict.fromkeys(mailing.lists)), found.id - 1, 1,
            parse_optional(mailing.segment_where),
        )  # fmt: skip
    return batch[0] if batch and batch[0].subscriber_id == found.id else None


@dataclass(frozen=True)
class Preview:
    mailing: Mailing
    recipient: Recipient
    sample: bool  # True when no real subscriber was found
    rendered: RenderedMailing
    personal: PersonalMail
    eml: bytes


def pick_recipient(store: Store, mailing: Mailing, to: str | None) -> tuple[Recipient, bool]:
    """The recipient a preview is for, and whether it is a made-up sample."""
    list_name = mailing.lists[0] if mailing.lists else ""
    if to:
        with store.connect() as conn:
            found = find_subscriber(conn, to.strip().lower())
        if found is None:
            return Recipient(subscriber_id=0, email=to.strip(), list_name=list_name), True
        return (
            Recipient(
                subscriber_id=found.id,
                email=found.email,
                list_name=list_name,
                first_name=found.first_name,
                last_name=found.last_name,
                salutation=found.salutation,
                title=found.title,
                language=found.language,
            ),
            False,
        )
    segment = parse_optional(mailing.segment_where)
    for recipient in iter_recipients(store, mailing.lists, batch_size=1, segment=segment):
        return recipient, False
    return Recipient(**{**SAMPLE.__dict__, "list_name": list_name}), True


def build_preview(
    settings: Settings, store: Store, mailing: Mailing, *, clock: Clock, to: str | None = None
) -> Preview:
    """Everything a preview shows, for ``to`` (or a sample recipient)."""
    recipient, sample = pick_recipient(store, mailing, to)
    rendered = render_for(
        renders_of(settings, store, mailing, clock=clock, fresh=True), recipient.language
    )
    builder = MessageBuilder(
        settings,
        rendered,
        list_name=recipient.list_name or None,
        secret=signing_secret(settings),
        clock=clock,
    )
    values = builder.personalisation(recipient)
    message = builder.build(recipient, delivery_id=None)
    return Preview(
        mailing=mailing,
        recipient=recipient,
        sample=sample,
        rendered=rendered,
        personal=personalise(rendered, values),
        eml=message.data,
    )


def write_preview(preview: Preview, folder: Path) -> dict[str, Path]:
    """Write ``preview.html``, ``preview.txt`` and ``preview.eml`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "html": folder / "preview.html",
        "text": folder / "preview.txt",
        "eml": folder / "preview.eml",
    }
    paths["html"].write_text(preview.personal.html, encoding="utf-8")
    paths["text"].write_text(preview.personal.text, encoding="utf-8")
    paths["eml"].write_bytes(preview.eml)
    return paths
