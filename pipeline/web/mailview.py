"""Showing a stored render in the browser: the values its placeholders get, and the answer.

The editor preview fills the placeholders for a sample recipient (so editors see a real
salutation); the public archive fills them neutrally, so no copy on the web ever carries
a person's name, address or unsubscribe token. Unsubscribe and preferences links point
to a generic page that explains how to unsubscribe from one's own copy.

A mail is served as its own document with a Content-Security-Policy that allows no
script, no form, no plugin and no font from elsewhere: the HTML came from feeds and must
never run anything, even if sanitising upstream missed something.
"""

from __future__ import annotations

from flask import Response, url_for

from pipeline.config import Settings
from pipeline.mailings import sample_for
from pipeline.models import Mailing, Recipient
from pipeline.render import Personalisation, RenderedMailing, personalise, salutation_for

# Mail HTML uses inline styles and <style> (MJML); images come from the organisation's
# server. Nothing else is allowed, least of all scripts.
MAIL_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; "
    "form-action 'none'; base-uri 'none'; frame-ancestors 'self'; "
    "sandbox allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation"
)


def info_url(settings: Settings) -> str:
    """The generic page unsubscribe links point to in copies that belong to nobody."""
    return settings.web.base_url + url_for("archive.unsubscribe_info")


def sample_values(settings: Settings, mailing: Mailing, language: str) -> Personalisation:
    """A sample recipient of the mailing's first list, for the editor preview."""
    recipient = sample_for(mailing, language)  # the test copy's sample person too
    link = info_url(settings)
    return Personalisation(
        salutation=salutation_for(settings, recipient),
        first_name=recipient.first_name,
        last_name=recipient.last_name,
        email=recipient.email,
        unsubscribe_url=link,
        preferences_url=link,
    )


def neutral_values(settings: Settings, mailing: Mailing, language: str) -> Personalisation:
    """Values without any personal data, for the public archive.

    The salutation is the list's own form for someone whose name we do not know
    ("Hallo", "Sehr geehrte Damen und Herren").
    """
    nobody = Recipient(
        subscriber_id=0,
        email="",
        list_name=mailing.lists[0] if mailing.lists else "",
        language=language,
    )
    link = info_url(settings)
    return Personalisation(
        salutation=salutation_for(settings, nobody),
        first_name="",
        last_name="",
        email="",
        unsubscribe_url=link,
        preferences_url=link,
    )


def fill(rendered: RenderedMailing, values: Personalisation) -> tuple[str, str]:
    """The HTML and text of ``rendered`` with ``values`` filled in."""
    mail = personalise(rendered, values)
    return mail.html, mail.text


def mail_response(html: str, *, cache_seconds: int = 0) -> Response:
    """Serve mail HTML as its own document under the no-script policy."""
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = MAIL_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    if cache_seconds:
        response.headers["Cache-Control"] = f"public, max-age={cache_seconds}"
    else:
        response.headers["Cache-Control"] = "no-store"
    return response
