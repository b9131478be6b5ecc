"""What every provider declares: its settings (validated here, pure) and its entry.

Each provider declares, in its package ``__init__``, a frozen dataclass of this shape and
a ``Provider`` entry naming its transport and its webhook (imported only when used);
``pipeline.config`` hands the provider's TOML table to ``ProviderSettings.parse`` and
keeps the result. A secret is never in the file: fields ending in ``_env`` name the
environment variable that holds it, resolved by ``deliver.factory`` (``Settings.secret``) and handed to the transport.

Validation speaks like the rest of the configuration: one line naming the file, the key
and what was expected (``ConfigError``). Limits live in each field's metadata:
``gt``/``ge``/``le`` for numbers, ``url`` for an http(s) URL.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Self, get_type_hints

from pipeline.errors import ConfigError


@dataclass(frozen=True)
class Provider:
    """One provider in the registry: its ``[name]`` settings, and where its transport
    factory (``(its settings, API key, *, sender_domain) -> Transport``, called by
    ``deliver.factory``) and webhook factory (``(its settings, secret) ->
    Webhook``) live, as ``"module:attribute"`` so neither loads before it is used."""

    name: str
    title: str
    settings: type[ProviderSettings]
    transport: str
    webhook: str


@dataclass(frozen=True)
class ProviderSettings:
    """Settings shared by the HTTP providers; a provider adds its own fields."""

    # "description" metadata is what the configuration reference (docs/) prints.
    api_key_env: str = field(
        default="", metadata={"description": "Variable holding the provider's API key."}
    )
    base_url: str = field(default="", metadata={"url": True, "description": "The API address."})
    timeout: float = field(
        default=30.0, metadata={"gt": 0, "description": "Seconds one request may take."}
    )
    connections: int = field(
        default=4,
        metadata={
            "ge": 1,
            "le": 64,
            "description": "Connections kept open to the provider (requests at a time).",
        },
    )

    @classmethod
    def parse(cls, raw: Mapping[str, Any], *, source: str, section: str) -> Self:
        """Validate one TOML table (``[section]``) into these settings."""
        known = {f.name: f for f in fields(cls)}
        hints = get_type_hints(cls)
        values: dict[str, Any] = {}
        for key, value in raw.items():
            where = f"{source}: {section}.{key}"
            if key not in known:
                close = difflib.get_close_matches(key, list(known), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ConfigError(f"{source}: unknown key {section}.{key}{hint}")
            values[key] = _checked(where, value, hints[key], known[key].metadata)
        return cls(**values)


def _checked(where: str, value: Any, kind: Any, limits: Mapping[str, Any]) -> Any:
    if kind is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        value = value.strip()
        if limits.get("url") and value and not value.startswith(("http://", "https://")):
            raise ConfigError(f"{where}: expected an http:// or https:// URL, got {value!r}")
        return value.rstrip("/") if limits.get("url") else value
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if kind in (int, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        if kind is int and not isinstance(value, int):
            raise ConfigError(f"{where}: expected a whole number, got {value!r}")
        if "gt" in limits and not value > limits["gt"]:
            raise ConfigError(
                f"{where}: expected a number greater than {limits['gt']}, got {value!r}"
            )
        if "ge" in limits and not value >= limits["ge"]:
            raise ConfigError(f"{where}: expected at least {limits['ge']}, got {value!r}")
        if "le" in limits and not value <= limits["le"]:
            raise ConfigError(f"{where}: expected at most {limits['le']}, got {value!r}")
        return kind(value)
    raise TypeError(f"unsupported settings field type {kind!r}")  # a programming error
