"""Jinja2 → MJML → HTML (mjml-python) → CSS inlined (css-inline), and the text part.

Template environments are built once per template folder list and cached: compiling
Jinja templates costs more than rendering a whole mail. MJML is compiled with
``fonts={}`` (no Google Fonts: they would send every reader's IP address to Google),
and css-inline keeps ``@media`` rules (columns stack on phones) and never fetches
remote stylesheets.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import css_inline
import jinja2
from mjml import mjml2html

from pipeline.config import Settings
from pipeline.errors import RenderError
from pipeline.render.htmlfix import repair_html
from pipeline.render.locale import BUNDLED_TEMPLATES, Strings, load_strings
from pipeline.render.text import References, html_to_text, tidy, wrap

THEME = {
    "accent": "#1d4e89",
    "ink": "#1f2328",
    "muted": "#57606a",
    "page": "#f3f4f6",
    "card": "#ffffff",
    "rule": "#d0d7de",
    # prefers-color-scheme: dark (Apple Mail, iOS, some webmail)
    "dark_page": "#0d1117",
    "dark_card": "#161b22",
    "dark_ink": "#e6edf3",
    "dark_muted": "#9da7b3",
    "dark_link": "#79b8ff",
}

# After the preheader: invisible characters (combining grapheme joiner, zero-width
# non-joiner, no-break space) that fill the inbox's preview line, so the mail's first
# visible text ("Im Browser ansehen", the organisation) does not run on after it.
PREHEADER_PADDING = "\u034f\u200c\u00a0" * 60

_MJML_PREVIEW_STYLE = 'style="display:none;font-size:1px;color:#ffffff;line-height:1px;'
_PREVIEW_STYLE = 'style="display:none;mso-hide:all;'

_inliner = css_inline.CSSInliner(load_remote_stylesheets=False, keep_at_rules=True)


def template_dirs(settings: Settings) -> tuple[Path, ...]:
    """The operator's override folder (if configured) first, then the bundled templates."""
    dirs: list[Path] = []
    if settings.compose.templates_dir:
        folder = settings.path(settings.compose.templates_dir)
        if not folder.is_dir():
            raise RenderError(
                f"{settings.source}: compose.templates_dir {str(folder)!r} is not a folder"
            )
        dirs.append(folder)
    dirs.append(BUNDLED_TEMPLATES)
    return tuple(dirs)


def override_dirs(settings: Settings) -> tuple[Path, ...]:
    return tuple(d for d in template_dirs(settings) if d != BUNDLED_TEMPLATES)


def strings_for(settings: Settings, language: str) -> Strings:
    """The locale strings of ``language``, the operator's overrides applied."""
    return load_strings(language, template_dirs=override_dirs(settings))


@lru_cache(maxsize=8)
def _environment(dirs: tuple[Path, ...], markup: bool) -> jinja2.Environment:
    loader = jinja2.FileSystemLoader([str(d) for d in dirs])
    env = jinja2.Environment(
        loader=loader,
        autoescape=markup,
        undefined=jinja2.StrictUndefined,
        trim_blocks=not markup,
        lstrip_blocks=not markup,
        keep_trailing_newline=True,
        auto_reload=True,
    )
    env.filters["wrap"] = wrap
    env.filters["html_text"] = _html_text
    return env


@jinja2.pass_context
def _html_text(ctx: jinja2.runtime.Context, fragment: str) -> str:
    # Each text part numbers its own links: the References live in the render's context.
    refs = ctx["_refs"]
    assert isinstance(refs, References)
    return html_to_text(fragment, refs)


@dataclass(frozen=True)
class Output:
    html: str
    text: str


def _template(env: jinja2.Environment, name: str) -> jinja2.Template:
    try:
        return env.get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(f"{exc.filename}:{exc.lineno}: template error: {exc.message}") from exc
    except jinja2.TemplateNotFound as exc:
        raise RenderError(f"template {name!r} not found") from exc


def _run(template: jinja2.Template, context: dict[str, Any]) -> str:
    try:
        return template.render(context)
    except jinja2.TemplateError as exc:
        raise RenderError(f"template {template.name}: {exc}") from exc


def mjml_to_html(source: str, *, name: str) -> str:
    """Compile MJML and inline its CSS (keeping media queries)."""
    try:
        html = mjml2html(source, fonts={})
    except Exception as exc:  # mjml-python raises plain exceptions with MRML's message
        raise RenderError(f"{name}: MJML error: {exc}") from exc
    # MJML hides the preheader in 1 px white text as well as with display:none; spam
    # filters score tiny or background-coloured text as hidden text, so only the layout
    # hiding stays (plus mso-hide for Outlook).
    html = repair_html(html.replace(_MJML_PREVIEW_STYLE, _PREVIEW_STYLE, 1))
    try:
        return str(_inliner.inline(html))
    except Exception as exc:
        raise RenderError(f"{name}: CSS inlining failed: {exc}") from exc


def render_templates(
    settings: Settings, base: str, strings: Strings, context: dict[str, Any]
) -> Output:
    """Render ``<base>.mjml.j2`` and ``<base>.txt.j2`` with the same context."""
    dirs = template_dirs(settings)
    shared = {"t": strings.get, "theme": THEME, "preheader_padding": PREHEADER_PADDING, **context}

    html_env = _environment(dirs, True)
    mjml = _run(_template(html_env, f"{base}.mjml.j2"), shared)
    html = mjml_to_html(mjml, name=f"{base}.mjml.j2")

    refs = References()
    text_context = {
        **shared,
        "_refs": refs,
        "ref": refs.ref,
        "references": lambda: refs.render(strings.get("text.links")),
    }
    text = _run(_template(_environment(dirs, False), f"{base}.txt.j2"), text_context)
    return Output(html=html, text=tidy(text))
