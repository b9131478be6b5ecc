"""What the mails sent to one person outside a mailing share (the confirmation, the
welcome mail): the organisation's header and footer, the language they fall back to,
and the checks every rendered mail passes."""

from __future__ import annotations

from pipeline.config import Settings
from pipeline.render import PREFS_URL, UNSUB_URL, RenderedMailing
from pipeline.render.checks import check_html, check_size
from pipeline.render.content import Footer, MailContent
from pipeline.render.engine import Output
from pipeline.render.sanitize import safe_url


def mail_language(settings: Settings, language: str) -> str:
    """``language`` if there are templates for it, else the organisation's."""
    return language if language in ("de", "en") else settings.organisation.language


def single_content(
    settings: Settings,
    *,
    kind: str,
    language: str,
    subject: str,
    preheader: str,
    greeting: str,
    reason: str,
    unsubscribe: bool,
) -> MailContent:
    """The content of a one-person mail: no sections, no archive link; ``unsubscribe``
    keeps the per-recipient unsubscribe and preferences placeholders in the footer."""
    org = settings.organisation
    return MailContent(
        kind=kind,
        language=language,
        subject=subject,
        preheader=preheader,
        organisation=org.name,
        website=safe_url(org.website),
        logo_url=safe_url(org.logo_url, image=True),
        issue_date="",
        greeting=greeting,
        intro_html="",
        sections=(),
        footer=Footer(
            organisation=org.name,
            postal_address=org.postal_address,
            website=safe_url(org.website),
            imprint_url=safe_url(org.imprint_url),
            privacy_url=safe_url(org.privacy_url),
            reason=reason,
            archive_url="",
            unsubscribe_url=UNSUB_URL if unsubscribe else "",
            preferences_url=PREFS_URL if unsubscribe else "",
        ),
    )


def checked(
    settings: Settings, output: Output, content: MailContent, *, name: str
) -> RenderedMailing:
    """The render, once it passes the size and HTML checks (``RenderError`` naming it)."""
    check_size(output.html, limit=settings.compose.max_html_bytes, name=name)
    check_html(output.html, language=content.language, preheader=content.preheader, name=name)
    return RenderedMailing(
        mailing_id=None,
        language=content.language,
        subject=content.subject,
        preheader=content.preheader,
        html=output.html,
        text=output.text,
    )
