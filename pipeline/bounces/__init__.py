"""Bounces and complaints: read reports, match them to deliveries, suppress addresses.

    sources (Maildir, mbox, IMAP) ─▶ dsn.parse_report ─┐
    provider webhooks (deliver.providers) ─▶ events ───┴▶ process.BounceProcessor
                                                            ├ match (webhook ids, VERP, our
                                                            │   Message-ID; same recipient)
                                                            ├ audience.suppress (hard, complaint,
                                                            │   too many soft)
                                                            └ store.bounces (bounce_events)

``verp`` makes and reads the ``bounces+ID-MAC@bounce_domain`` return paths the message
builder puts on each delivery. ``dsn`` is pure. This package knows no provider: each
provider's webhook (``deliver/providers/<name>/webhook.py``) turns its payloads into the
normalised ``BounceEvent`` values defined here.

Public API: ``process_source(settings, store, *, clock, source=None) -> ProcessReport``
(what ``rundbrief bounces process`` and a scheduled job call); ``BounceEvent``,
``BounceKind``, ``classify`` and ``status_from_text`` (``status``) for event decoders.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.bounces.status import BounceEvent, BounceKind, classify, status_from_text

if TYPE_CHECKING:
    from pipeline.bounces.process import ProcessReport
    from pipeline.clock import Clock
    from pipeline.config import Settings
    from pipeline.store import Store

__all__ = ["BounceEvent", "BounceKind", "classify", "process_source", "status_from_text"]


def process_source(
    settings: Settings, store: Store, *, clock: Clock, source: str | None = None
) -> ProcessReport:
    """Read every new report from ``source`` (default ``[bounces] source``) and act on it.

    Raises ``ConfigError`` when no source is configured or its secret is missing and
    ``BounceSourceError`` (a ``DeliveryError``) when the mailbox cannot be read.
    """
    from pipeline.bounces.process import BounceProcessor
    from pipeline.bounces.sources import parse_source, read_source
    from pipeline.errors import ConfigError

    text = source or settings.bounces.source
    if not text:
        raise ConfigError(
            f"{settings.source}: no bounce source given and [bounces] source is empty"
        )
    spec = parse_source(text)
    processor = BounceProcessor(settings, store, clock=clock)
    read_source(spec, settings, processor.process_message)
    processor.report.source = spec.describe()
    return processor.report
