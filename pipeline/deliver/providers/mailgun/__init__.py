"""Mailgun: MIME transport (``transport``), signed bounce and complaint webhook
(``webhook``), and its ``[mailgun]`` settings (here)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.deliver.providers.base import Provider, ProviderSettings


@dataclass(frozen=True)
class MailgunSettings(ProviderSettings):
    api_key_env: str = "RUNDBRIEF_MAILGUN_API_KEY"
    base_url: str = field(
        default="https://api.eu.mailgun.net",
        metadata={"url": True, "description": "The API address (US: `https://api.mailgun.net`)."},
    )
    domain: str = field(
        default="",
        metadata={
            "description": "The Mailgun sending domain; empty: the domain of `[sender] from_address`."
        },
    )
    webhook_signing_key_env: str = field(
        default="RUNDBRIEF_MAILGUN_SIGNING_KEY",
        metadata={"description": "Variable holding Mailgun's webhook signing key."},
    )


PROVIDER = Provider(
    name="mailgun",
    title="Mailgun",
    settings=MailgunSettings,
    transport="pipeline.deliver.providers.mailgun.transport:MailgunTransport.from_section",
    webhook="pipeline.deliver.providers.mailgun.webhook:MailgunWebhook",
)
