"""The signed links in every mail: unsubscribe (``/u/TOKEN``) and preferences (``/p/TOKEN``).

Both are built per recipient from ``web.base_url`` and a token per subscriber and list;
the confirmation link of the double opt-in (``/confirm/TOKEN``) also carries its issue
time, so it expires. A test copy's links (``test_links``) open the same two addresses
with a token of purpose ``test``: the pages only say it was a test (``read_test_link``).
"""

from __future__ import annotations

from datetime import datetime

from pipeline.audience.tokens import Purpose, Token, TokenError, admit, make_token, read_token
from pipeline.config import Settings
from pipeline.store import Store
from pipeline.store import audience as q


def signing_secret(settings: Settings) -> str:
    """The secret that signs every link (``[web] secret_env``; ConfigError when unset)."""
    return settings.secret(settings.web.secret_env, key="web.secret_env")


def read_link(store: Store, secret: str, token: str, *, purpose: Purpose) -> Token:
    """The token of a link, checked: signature, purpose, that its subscriber still exists
    (an erased person's link is as unknown as a forged one) and, for a version-1 token,
    that its id existed before ids were unique for life; ``TokenError`` otherwise."""
    found = read_token(secret, token, purpose=purpose)
    with store.connect() as conn:
        if q.get_subscriber(conn, found.subscriber_id) is None:
            raise TokenError("token for a subscriber who no longer exists")
        return admit(found, q.legacy_token_limit(conn)) if found.legacy else found


def unsubscribe_url(settings: Settings, secret: str, subscriber_id: int, list_name: str) -> str:
    """``{web.base_url}/u/{token}``: the List-Unsubscribe target (RFC 8058) and body link."""
    token = make_token(secret, subscriber_id, list_name, purpose="unsubscribe")
    return f"{settings.web.base_url}/u/{token}"


def preferences_url(settings: Settings, secret: str, subscriber_id: int, list_name: str) -> str:
    """``{web.base_url}/p/{token}``: the page where a recipient changes lists and language."""
    token = make_token(secret, subscriber_id, list_name, purpose="preferences")
    return f"{settings.web.base_url}/p/{token}"


def confirm_url(
    settings: Settings, secret: str, subscriber_id: int, list_name: str, *, issued_at: datetime
) -> str:
    """``{web.base_url}/confirm/{token}``: valid ``audience.confirm_days`` from ``issued_at``."""
    token = make_token(secret, subscriber_id, list_name, purpose="confirm", issued_at=issued_at)
    return f"{settings.web.base_url}/confirm/{token}"


def test_links(
    settings: Settings, secret: str, subscriber_id: int, list_name: str, language: str
) -> tuple[str, str]:
    """(unsubscribe URL, preferences URL) of a test copy in ``language``: the same
    addresses as a real copy's, with a ``test`` token that changes nothing."""
    token = make_token(
        secret, subscriber_id, list_name or "test", purpose="test", language=language
    )
    return f"{settings.web.base_url}/u/{token}", f"{settings.web.base_url}/p/{token}"


def read_test_link(secret: str, token: str) -> Token | None:
    """The test token in a link, or None when it is none (a real, forged or other one)."""
    try:
        return read_token(secret, token, purpose="test")
    except TokenError:
        return None
