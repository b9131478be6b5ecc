"""The HTTP providers, each in one place, and the one registry that names them.

    providers/
      base.py        Provider (a registry entry), ProviderSettings and their validation
      http.py        what the transports share: HttpClient, status mapping, Retry-After
      webhooks.py    what the webhooks share: WebhookCall, Refusal, Replays, basic auth
      <name>/        __init__ (its settings and entry), transport.py, webhook.py

``pipeline.config`` validates each ``[name]`` table through ``PROVIDERS`` (so it only
dispatches), ``deliver.factory`` builds the transport and ``POST /webhooks/<name>``
the webhook from it. This module and each ``<name>/__init__`` import nothing heavy: a
provider's HTTP client, wire format and crypto load only when it is used.

Adding a provider: a package with its settings dataclass, ``PROVIDER`` entry,
``transport.py`` and ``webhook.py``, and one line below.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from pipeline.deliver.providers import brevo, mailgun, postmark, sendgrid
from pipeline.deliver.providers.base import Provider, ProviderSettings
from pipeline.errors import ConfigError

PROVIDERS: Mapping[str, Provider] = {
    p.name: p for p in (postmark.PROVIDER, mailgun.PROVIDER, sendgrid.PROVIDER, brevo.PROVIDER)
}

__all__ = ["PROVIDERS", "Provider", "ProviderSettings", "load", "parse_sections"]


def parse_sections(data: Mapping[str, Any], *, source: str) -> dict[str, ProviderSettings]:
    """Every provider's settings from the configuration's tables (defaults when absent)."""
    found: dict[str, ProviderSettings] = {}
    for name, entry in PROVIDERS.items():
        raw = data.get(name, {})
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{source}: {name}: expected a table [{name}], got {raw!r}")
        found[name] = entry.settings.parse(raw, source=source, section=name)
    return found


def load(target: str) -> Any:
    """The object a ``"module:attribute.attribute"`` target names, imported now."""
    module_name, _, attribute = target.partition(":")
    found: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        found = getattr(found, part)
    return found
