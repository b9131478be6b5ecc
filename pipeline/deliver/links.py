"""The per-recipient values that come from other stages: signed links and the salutation.

One place that calls the audience and render contracts, so the builder stays pure.
"""

from __future__ import annotations

from pipeline.audience import kit_token, preferences_url, test_links, unsubscribe_url
from pipeline.config import Settings
from pipeline.models import Recipient
from pipeline.render import salutation_for


def recipient_links(
    settings: Settings, secret: str, subscriber_id: int, list_name: str
) -> tuple[str, str]:
    """(unsubscribe URL, preferences URL) for one subscriber on one list."""
    return (
        unsubscribe_url(settings, secret, subscriber_id, list_name),
        preferences_url(settings, secret, subscriber_id, list_name),
    )


def test_link_pair(
    settings: Settings, secret: str, subscriber_id: int, list_name: str, language: str
) -> tuple[str, str]:
    """(unsubscribe URL, preferences URL) of a test copy: they change nothing."""
    return test_links(settings, secret, subscriber_id, list_name, language)


def salutation(settings: Settings, recipient: Recipient, language: str) -> str:
    """The greeting line for the recipient's list (formal or informal), written in
    ``language``: the language of the mail it heads, whatever the recipient prefers."""
    return salutation_for(settings, recipient, language=language)


def kit_link_tails(
    secret: str, mailing_id: int, subscriber_id: int, names: tuple[str, ...]
) -> tuple[str, ...]:
    """``?t=TOKEN`` for each press kit file: the links that open them for this recipient
    before the Sperrfrist."""
    return tuple(f"?t={kit_token(secret, mailing_id, subscriber_id, name)}" for name in names)
