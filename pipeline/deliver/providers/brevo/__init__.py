"""Brevo: transactional JSON transport (``transport``), transactional webhook for
bounces, blocks, spam reports and unsubscribes (``webhook``), and its ``[brevo]``
settings (here)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.deliver.providers.base import Provider, ProviderSettings


@dataclass(frozen=True)
class BrevoSettings(ProviderSettings):
    api_key_env: str = "RUNDBRIEF_BREVO_API_KEY"
    base_url: str = field(default="https://api.brevo.com", metadata={"url": True})
    # Brevo does not sign its calls; the webhook is created with one of: user and
    # password in its URL (https://USER:PASSWORD@host/webhooks/brevo), or a bearer
    # token (Brevo's "auth" option, or ?token=TOKEN in the URL). Either set is enough.
    webhook_user_env: str = field(
        default="RUNDBRIEF_BREVO_WEBHOOK_USER",
        metadata={"description": "Variable holding the basic-auth user of `/webhooks/brevo`."},
    )
    webhook_password_env: str = field(
        default="RUNDBRIEF_BREVO_WEBHOOK_PASSWORD",
        metadata={"description": "Variable holding the basic-auth password of `/webhooks/brevo`."},
    )
    webhook_token_env: str = field(
        default="RUNDBRIEF_BREVO_WEBHOOK_TOKEN",
        metadata={"description": "Variable holding its bearer token (header or `?token=`)."},
    )


PROVIDER = Provider(
    name="brevo",
    title="Brevo",
    settings=BrevoSettings,
    transport="pipeline.deliver.providers.brevo.transport:BrevoTransport.from_section",
    webhook="pipeline.deliver.providers.brevo.webhook:BrevoWebhook",
)


CUSTOM_PREFIX = "rundbrief-delivery:"


def custom_header(delivery_id: int) -> str:
    """The ``X-Mailin-custom`` value our transport sends: Brevo echoes it in webhooks."""
    return f"{CUSTOM_PREFIX}{delivery_id}"


def delivery_of_custom(value: object) -> int | None:
    """The delivery id in an echoed ``X-Mailin-custom`` value, if it is ours."""
    text = str(value or "").strip()
    if not text.startswith(CUSTOM_PREFIX):
        return None
    number = text[len(CUSTOM_PREFIX) :]
    return int(number) if number.isdigit() and int(number) > 0 else None
