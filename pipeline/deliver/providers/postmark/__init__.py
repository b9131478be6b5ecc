"""Postmark: batch JSON transport (``transport``), bounce and spam-complaint webhook with
basic auth (``webhook``), and its ``[postmark]`` settings (here)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.deliver.providers.base import Provider, ProviderSettings


@dataclass(frozen=True)
class PostmarkSettings(ProviderSettings):
    api_key_env: str = field(
        default="RUNDBRIEF_POSTMARK_TOKEN",
        metadata={"description": "Variable holding the server token."},
    )
    base_url: str = field(
        default="https://api.postmarkapp.com",
        metadata={"url": True, "description": "The API address."},
    )
    message_stream: str = field(
        default="broadcast",
        metadata={"description": "The message stream (`broadcast` is Postmark's for newsletters)."},
    )
    # the webhook URL carries them: https://USER:PASSWORD@host/webhooks/postmark
    webhook_user_env: str = field(
        default="RUNDBRIEF_POSTMARK_WEBHOOK_USER",
        metadata={"description": "Variable holding the basic-auth user of `/webhooks/postmark`."},
    )
    webhook_password_env: str = field(
        default="RUNDBRIEF_POSTMARK_WEBHOOK_PASSWORD",
        metadata={
            "description": "Variable holding the basic-auth password of `/webhooks/postmark`."
        },
    )


PROVIDER = Provider(
    name="postmark",
    title="Postmark",
    settings=PostmarkSettings,
    transport="pipeline.deliver.providers.postmark.transport:PostmarkTransport.from_section",
    webhook="pipeline.deliver.providers.postmark.webhook:PostmarkWebhook",
)
