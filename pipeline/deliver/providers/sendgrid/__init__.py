"""SendGrid: v3 JSON transport (``transport``), the Signed Event Webhook for bounces,
drops and spam reports (``webhook``), and its ``[sendgrid]`` settings (here)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.deliver.providers.base import Provider, ProviderSettings


@dataclass(frozen=True)
class SendgridSettings(ProviderSettings):
    api_key_env: str = "RUNDBRIEF_SENDGRID_API_KEY"
    base_url: str = field(default="https://api.sendgrid.com", metadata={"url": True})
    # base64 DER of an ECDSA P-256 public key: public, so it is kept in the file
    webhook_public_key: str = field(
        default="",
        metadata={
            "description": "The Signed Event Webhook's verification key as SendGrid shows it "
            "(base64); empty: `/webhooks/sendgrid` answers 503."
        },
    )
    webhook_max_age_seconds: float = field(
        default=300.0,
        metadata={
            "gt": 0,
            "description": "Signed calls further from now than this are refused.",
        },
    )


PROVIDER = Provider(
    name="sendgrid",
    title="SendGrid",
    settings=SendgridSettings,
    transport="pipeline.deliver.providers.sendgrid.transport:SendgridTransport.from_section",
    webhook="pipeline.deliver.providers.sendgrid.webhook:SendgridWebhook",
)


def base_message_id(sg_message_id: str) -> str:
    """The ``X-Message-Id`` SendGrid answered for a message, from the longer id its
    events and activity carry ("<X-Message-Id>.filter0001..." or ".recvd-...")."""
    text = sg_message_id.strip()
    for marker in (".filter", ".recvd"):
        text = text.split(marker, 1)[0]
    return text
