"""What every area of the web app shares: its dependencies (``deps()``) and the session
length. Kept out of the package ``__init__`` so that the areas, which import it, can be
imported there at the top."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app

from pipeline.clock import Clock
from pipeline.config import Settings
from pipeline.deliver import SystemMailWorker, Transport
from pipeline.store import Store

SESSION_HOURS = 12


@dataclass
class WebDeps:
    settings: Settings
    store: Store
    clock: Clock
    # Built on first use: the web app must start even when the transport is misconfigured.
    transport_factory: Callable[[], Transport] | None = None
    # False when no signing secret is configured: editor login is then refused.
    has_secret: bool = True
    # Sends the system mail (sign-up confirmations) after the answer; None: the daemon's
    # ``mail`` job or ``rundbrief mail drain`` does.
    mail_worker: SystemMailWorker | None = None


def deps() -> WebDeps:
    """The settings, store, clock and transport of the app handling this request."""
    value = current_app.extensions["rundbrief"]
    assert isinstance(value, WebDeps)
    return value
