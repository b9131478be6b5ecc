"""The double opt-in mail: a request to confirm, one button, nothing promotional.

It has no per-recipient placeholders (the address is not subscribed yet, so there is
nothing to unsubscribe from) and no view-in-browser link; the footer still names the
organisation, its address and imprint, and why the mail came.
"""

from __future__ import annotations

from pipeline.config import Settings
from pipeline.errors import ConfigError, RenderError
from pipeline.render import RenderedMailing
from pipeline.render.engine import override_dirs, render_templates
from pipeline.render.locale import load_strings
from pipeline.render.sanitize import safe_url
from pipeline.render.single import checked, mail_language, single_content


def render_confirmation(
    settings: Settings, *, language: str, list_name: str, confirm_url: str
) -> RenderedMailing:
    """Render the confirmation mail for a sign-up to the list ``list_name``, in
    ``language`` (else the organisation's), with the list's title in that language."""
    language = mail_language(settings, language)
    try:
        list_title = settings.list_named(list_name).title_in(language)
    except ConfigError as exc:
        raise RenderError(str(exc)) from exc
    strings = load_strings(language, template_dirs=override_dirs(settings))
    content = single_content(
        settings,
        kind="confirmation",
        language=language,
        subject=strings.get("confirmation.subject", list=list_title),
        preheader=strings.get("confirmation.preheader"),
        greeting="",
        reason=strings.get("footer.confirm_reason", list=list_title),
        unsubscribe=False,  # not subscribed yet: nothing to leave
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
    return checked(settings, output, content, name=f"confirmation mail ({language})")
