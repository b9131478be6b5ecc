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
from pipeline.render.content import footer_reason
from pipeline.render.engine import override_dirs, render_templates
from pipeline.render.locale import load_strings
from pipeline.render.single import checked, mail_language, single_content


def render_welcome(settings: Settings, *, language: str, list_name: str) -> RenderedMailing:
    """Render the welcome mail of the list ``list_name`` in ``language`` (else the
    organisation's); ``RenderError`` names the list when it has no welcome template or
    the template is missing."""
    language = mail_language(settings, language)
    try:
        mailing_list = settings.list_named(list_name)
    except ConfigError as exc:
        raise RenderError(str(exc)) from exc
    template = mailing_list.welcome
    if not template:
        raise RenderError(f"list {list_name!r} names no welcome template (lists.welcome)")
    list_title = mailing_list.title_in(language)
    strings = load_strings(language, template_dirs=override_dirs(settings))
    content = single_content(
        settings,
        kind="welcome",
        language=language,
        subject=strings.get("welcome.subject", list=list_title),
        preheader=strings.get("welcome.preheader"),
        greeting=SALUTATION,
        reason=footer_reason(settings, [list_name], strings),
        unsubscribe=True,  # subscribed now: the footer lets them leave in one click
    )
    name = f"welcome mail {template!r} of list {list_name!r} ({language})"
    try:
        output = render_templates(
            settings, template, strings, {"mail": content, "list_title": list_title}
        )
    except RenderError as exc:
        raise RenderError(f"{name}: {exc}") from exc
    return checked(settings, output, content, name=name)
