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

Public API (the modules behind it are internal):

- ``process_source(settings, store, *, clock, source=None) -> ProcessReport``: what
  ``rundbrief bounces process`` and the daemon's job call.
- ``BounceProcessor(settings, store, clock=...)``: ``process_message`` for one report,
  ``process_events`` for a webhook's decoded events; its ``report`` is a ``ProcessReport``
  (both load the processor, hence the store, on first use: PEP 562 below).
- ``BounceEvent``, ``BounceKind``, ``classify``, ``status_from_text`` (``status``) for
  event decoders; ``return_path`` (``verp``) for the message builder.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from pipeline.bounces.status import BounceEvent, BounceKind, classify, status_from_text
from pipeline.bounces.verp import return_path
from pipeline.errors import ConfigError

if TYPE_CHECKING:
    from pipeline.bounces.process import BounceProcessor, ProcessReport
    from pipeline.clock import Clock
    from pipeline.config import Settings
    from pipeline.store import Store

__all__ = [
    "BounceEvent",
    "BounceKind",
    "BounceProcessor",
    "ProcessReport",
    "classify",
    "process_source",
    "return_path",
    "status_from_text",
]


def __getattr__(name: str) -> Any:
    # The processor needs the audience and the store; the provider webhooks import this
    # package for its event types with every command's settings, so it loads on first use.
    if name not in ("BounceProcessor", "ProcessReport"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module("pipeline.bounces.process"), name)
    globals()[name] = value
    return value


def process_source(
    settings: Settings, store: Store, *, clock: Clock, source: str | None = None
) -> ProcessReport:
    """Read every new report from ``source`` (default ``[bounces] source``) and act on it.

    Raises ``ConfigError`` when no source is configured or its secret is missing and
    ``BounceSourceError`` (a ``DeliveryError``) when the mailbox cannot be read.
    """
    from pipeline.bounces.process import BounceProcessor
    from pipeline.bounces.sources import parse_source, read_source

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
