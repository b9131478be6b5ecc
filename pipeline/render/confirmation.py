"""The double opt-in mail: a request to confirm, one button, nothing promotional.

It has no per-recipient placeholders (the address is not subscribed yet, so there is
nothing to unsubscribe from) and no view-in-browser link; the footer still names the
organisation, its address and imprint, and why the mail came.
"""

from __future__ import annotations

from pipeline.config import Settings
from pipeline.errors import ConfigError, RenderError
from pipeline.render import RenderedMailing
from pipeline.render.checks import check_html, check_size
from pipeline.render.content import Footer, MailContent
from pipeline.render.engine import override_dirs, render_templates
from pipeline.render.locale import load_strings
from pipeline.render.sanitize import safe_url


def render_confirmation(
    settings: Settings, *, language: str, list_name: str, confirm_url: str
) -> RenderedMailing:
    """Render the confirmation mail for a sign-up to the list ``list_name``, in
    ``language`` (else the organisation's), with the list's title in that language."""
    language = language if language in ("de", "en") else settings.organisation.language
    try:
        list_title = settings.list_named(list_name).title_in(language)
    except ConfigError as exc:
        raise RenderError(str(exc)) from exc
    strings = load_strings(language, template_dirs=override_dirs(settings))
    org = settings.organisation
    content = MailContent(
        kind="confirmation",
        language=language,
        subject=strings.get("confirmation.subject", list=list_title),
        preheader=strings.get("confirmation.preheader"),
        organisation=org.name,
        website=safe_url(org.website),
        logo_url=safe_url(org.logo_url, image=True),
        issue_date="",
        greeting="",
        intro_html="",
        sections=(),
        footer=Footer(
            organisation=org.name,
            postal_address=org.postal_address,
            website=safe_url(org.website),
            imprint_url=safe_url(org.imprint_url),
            privacy_url=safe_url(org.privacy_url),
            reason=strings.get("footer.confirm_reason", list=list_title),
            archive_url="",
            unsubscribe_url="",
            preferences_url="",
        ),
    )
    output = render_templates(
        settings,
        "confirmation",
        strings,
        {
            "mail": content,
            "confirm_url": safe_url(confirm_url),
            "list_title": list_title,
            "days": settings.audience.confirm_days,
        },
    )
    name = f"confirmation mail ({language})"
    check_size(output.html, limit=settings.compose.max_html_bytes, name=name)
    check_html(output.html, language=language, preheader=content.preheader, name=name)
    return RenderedMailing(
        mailing_id=None,
        language=language,
        subject=content.subject,
        preheader=content.preheader,
        html=output.html,
        text=output.text,
    )
