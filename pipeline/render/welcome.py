"""The welcome mail of a list: a greeting, what the person now receives, how to leave.

Rendered once per mail with the per-recipient placeholders left in (salutation,
unsubscribe and preferences links), like a mailing: the person is subscribed now, so
the footer and the ``List-Unsubscribe`` header let them leave in one click. The
template is the one the list names (``[[lists]] welcome``): ``welcome`` is bundled, an
operator's own lives in ``compose.templates_dir``.
"""

from __future__ import annotations

from pipeline.config import Settings
from pipeline.errors import ConfigError, RenderError
from pipeline.render import SALUTATION, RenderedMailing
from pipeline.render.checks import check_html, check_size
from pipeline.render.content import Footer, MailContent, footer_reason
from pipeline.render.engine import override_dirs, render_templates
from pipeline.render.locale import load_strings
from pipeline.render.sanitize import safe_url


def render_welcome(settings: Settings, *, language: str, list_name: str) -> RenderedMailing:
    """Render the welcome mail of the list ``list_name`` in ``language`` (else the
    organisation's); ``RenderError`` names the list when it has no welcome template or
    the template is missing."""
    language = language if language in ("de", "en") else settings.organisation.language
    try:
        mailing_list = settings.list_named(list_name)
    except ConfigError as exc:
        raise RenderError(str(exc)) from exc
    template = mailing_list.welcome
    if not template:
        raise RenderError(f"list {list_name!r} names no welcome template (lists.welcome)")
    list_title = mailing_list.title_in(language)
    strings = load_strings(language, template_dirs=override_dirs(settings))
    org = settings.organisation
    content = MailContent(
        kind="welcome",
        language=language,
        subject=strings.get("welcome.subject", list=list_title),
        preheader=strings.get("welcome.preheader"),
        organisation=org.name,
        website=safe_url(org.website),
        logo_url=safe_url(org.logo_url, image=True),
        issue_date="",
        greeting=SALUTATION,
        intro_html="",
        sections=(),
        footer=Footer(
            organisation=org.name,
            postal_address=org.postal_address,
            website=safe_url(org.website),
            imprint_url=safe_url(org.imprint_url),
            privacy_url=safe_url(org.privacy_url),
            reason=footer_reason(settings, [list_name], strings),
            archive_url="",
        ),
    )
    name = f"welcome mail {template!r} of list {list_name!r} ({language})"
    try:
        output = render_templates(
            settings, template, strings, {"mail": content, "list_title": list_title}
        )
    except RenderError as exc:
        raise RenderError(f"{name}: {exc}") from exc
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
