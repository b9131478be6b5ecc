"""The web app (Flask): editors' pages, the public archive, sign-up, unsubscribe, webhooks.

``create_app(settings, store, clock=..., transport=...)`` wires one blueprint per area:

    editor    /editor/...        login required, CSRF on every form (compose, preview, approve)
    public    /archive/...       sent newsletters without personal data
    audience  /signup /confirm /u/<token> /p/<token>   double opt-in, unsubscribe, preferences
    webhooks  /webhooks/<provider>                    bounce and complaint events

Dependencies are passed in and kept on ``app.extensions["rundbrief"]`` (see ``deps()``);
nothing is global, so tests run several apps side by side.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Flask, current_app

from pipeline.clock import Clock, SystemClock
from pipeline.config import Settings
from pipeline.store import Store

if TYPE_CHECKING:
    from pipeline.deliver import Transport


@dataclass
class WebDeps:
    settings: Settings
    store: Store
    clock: Clock
    # Built on first use: the web app must start even when the transport is misconfigured.
    transport_factory: Callable[[], Transport] | None = None


def deps() -> WebDeps:
    """The settings, store, clock and transport of the app handling this request."""
    value = current_app.extensions["rundbrief"]
    assert isinstance(value, WebDeps)
    return value


def create_app(
    settings: Settings,
    store: Store,
    *,
    clock: Clock | None = None,
    transport_factory: Callable[[], Transport] | None = None,
) -> Flask:
    app = Flask(__name__, template_folder="templates", static_folder=None)
    app.extensions["rundbrief"] = WebDeps(
        settings=settings,
        store=store,
        clock=clock or SystemClock(),
        transport_factory=transport_factory,
    )
    for register in _blueprints():
        register(app)
    return app


def _blueprints() -> list[Callable[[Flask], None]]:
    """Each area module exposes ``register(app)``; areas land one by one."""
    import importlib

    found: list[Callable[[Flask], None]] = []
    for area in ("editor", "archive", "audience", "webhooks"):
        try:
            module = importlib.import_module(f"pipeline.web.{area}")
        except ModuleNotFoundError as exc:
            if exc.name != f"pipeline.web.{area}":
                raise
            continue
        found.append(module.register)
    return found
