"""Build validated settings for tests: a config.toml written into a temporary folder."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from pipeline.config import HTTP_PROVIDERS, Settings, settings_from_dict

BASE: dict[str, Any] = {
    "organisation": {
        "name": "Netzwerk Junge Bürgermeister*innen",
        "website": "https://www.junge-buergermeister.example",
        "postal_address": "Marienstraße 6, 10117 Berlin",
        "imprint_url": "https://www.junge-buergermeister.example/impressum",
        "language": "de",
        "time_zone": "Europe/Berlin",
    },
    "lists": [
        {
            "name": "members",
            "title": "Mitglieder-Newsletter",
            "reason": "Sie erhalten diese E-Mail als Mitglied des Netzwerks.",
            "double_opt_in": False,
            "salutation": "informal",
        },
        {
            "name": "press",
            "title": "Presseverteiler",
            "reason": "Sie erhalten diese E-Mail, weil Sie sich für den Presseverteiler angemeldet haben.",
            "double_opt_in": True,
            "salutation": "formal",
        },
    ],
    "sender": {
        "from_name": "Netzwerk Junge Bürgermeister*innen",
        "from_address": "newsletter@junge-buergermeister.example",
        "reply_to": "kontakt@junge-buergermeister.example",
        "editors": ["redaktion@junge-buergermeister.example"],
        "operator": "betrieb@junge-buergermeister.example",
    },
    "web": {"base_url": "https://rundbrief.junge-buergermeister.example"},
}


# A web address recipients could reach (no reserved name like .example): what
# `rundbrief check` asks of a configuration whose transport reaches people. The tests'
# SMTP servers and providers still listen on loopback; nothing is ever fetched from it.
PUBLIC_BASE_URL = "https://rundbrief.junge-buergermeister.de"


def merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings rooted in ``tmp_path`` with a SQLite file there; sections merge deeply.

    With smtp or a provider as transport the base URL is ``PUBLIC_BASE_URL``, so the
    outbox's production gate lets the send through (a test's own ``web`` wins)."""
    data = merge(BASE, {"storage": {"url": f"sqlite:///{tmp_path / 'rundbrief.db'}"}})
    data = merge(data, {"delivery": {"maildir": str(tmp_path / "outbox")}})
    if overrides.get("delivery", {}).get("transport") in ("smtp", *HTTP_PROVIDERS):
        data = merge(data, {"web": {"base_url": PUBLIC_BASE_URL}})
    data = merge(data, overrides)
    return settings_from_dict(data, source=str(tmp_path / "config.toml"), base_dir=str(tmp_path))


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path
