"""Items carry hostile HTML; nothing executable may reach a mail."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from pipeline.clock import FakeClock
from pipeline.config import Settings
from pipeline.errors import RenderError
from pipeline.mailings.compose import compose_newsletter, compose_press
from pipeline.render.checks import check_html
from pipeline.store import Store
from tests.support import mailings as mailing_ops
from tests.support.mail_items import add_item
from tests.support.mailings import render_mailing

HOSTILE_HTML = (
    "<p onclick=\"alert('p')\">Bürgermeister*innen <b onmouseover=alert(1)>fett</b></p>"
    "<script>alert('script')</script><style>body{display:none}</style>"
    '<img src=x onerror=alert(1)><img src="data:image/svg+xml;base64,PHN2Zz4=">'
    '<img src="https://www.junge-buergermeister.example/bild.jpg" onload="alert(2)">'
    '<a href="javascript:alert(3)">Klick</a> <a href="JaVaScRiPt:alert(4)">Klick</a>'
    '<a href="jav&#x61;script:alert(5)">Klick</a> <a href="data:text/html,<script>x</script>">d</a>'
    '<iframe src="https://evil.example"></iframe><form action="https://evil.example"><input name=q>'
    '<button formaction="javascript:alert(6)">b</button></form>'
    '<svg onload=alert(7)><circle/></svg><object data="x.swf"></object>'
    '<link rel=stylesheet href="https://evil.example/x.css">'
    '<a href="https://www.junge-buergermeister.example/ok">sicher</a>'
)

# Looked for inside tags: escaped text such as "&lt;img onerror=…&gt;" is harmless.
FORBIDDEN = [
    re.compile(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", re.I),
    re.compile(r"<[a-zA-Z][^>]*=\s*[\"']?\s*javascript:", re.I),
    re.compile(r"<\s*(iframe|form|object|embed|input|svg|link)\b", re.I),
    re.compile(r"href=\"data:", re.I),
    re.compile(r"evil\.example"),
]


def _hostile_item(store: Store, clock: FakeClock, kind: str = "article") -> int:
    return add_item(
        store,
        title="<script>alert('titel')</script>Sommerfest „im Rathaus“",
        kind=kind,
        published_at=clock.now() - timedelta(hours=2),
        summary="<img src=x onerror=alert(1)> Zusammenfassung mit <b>Markup</b>",
        content_html=HOSTILE_HTML,
        link="javascript:alert('link')",
        image_url="javascript:alert('bild')",
        image_alt='" onerror="alert(8)',
    )


def _assert_clean(html: str) -> None:
    for pattern in FORBIDDEN:
        assert not pattern.search(html), pattern.pattern
    # "<" inside a quoted attribute value (an alt text quoting a title) is text, not a tag
    tags_only = re.sub(r'="[^"]*"', '=""', html)
    assert not re.search(r"<\s*script", tags_only, re.I)


def test_hostile_item_in_a_newsletter(settings: Settings, store: Store, clock: FakeClock) -> None:
    _hostile_item(store, clock)
    add_item(store, title="Harmlos", published_at=clock.now() - timedelta(hours=3))
    mailing = compose_newsletter(settings, store, clock=clock)
    assert mailing is not None
    mailing_ops.edit_mailing(
        store,
        mailing.id,
        clock=clock,
        intro_md="<script>alert(9)</script> [Link](javascript:alert(10)) <img src=x onerror=y>",
    )
    rendered = render_mailing(settings, store, mailing.id, clock=clock)[0]
    _assert_clean(rendered.html)
    # hostile markup in titles and summaries is shown as text, escaped
    assert "&lt;script&gt;alert(" in rendered.html
    assert "Sommerfest „im Rathaus“" in rendered.text


def test_hostile_item_as_a_press_release(
    settings: Settings, store: Store, clock: FakeClock
) -> None:
    item = _hostile_item(store, clock, kind="press_release")
    mailing = compose_press(settings, store, item, clock=clock)
    rendered = render_mailing(settings, store, mailing.id, clock=clock)[0]
    _assert_clean(rendered.html)
    # the full text keeps its harmless parts
    assert "<b>fett</b>" in rendered.html
    assert 'href="https://www.junge-buergermeister.example/ok"' in rendered.html
    assert "sicher [1]" in rendered.text
    assert "javascript:" not in rendered.text


@pytest.mark.parametrize(
    "snippet, problem",
    [
        ("<script>alert(1)</script>", "<script>"),
        ('<div onclick="x()">', "onclick"),
        ('<a href=" javascript:alert(1)">', "javascript"),
        ('<a href="jav&#x61;script:alert(1)">', "javascript"),
        ('<a href="data:text/html,x">', "data:"),
        ('<img src="https://example.org/a.png">', "images without alt text"),
        ("<!--[if mso]><script>alert(1)</script><![endif]-->", "<script>"),
    ],
)
def test_checks_refuse_what_slips_through(snippet: str, problem: str) -> None:
    html = (
        '<!doctype html><html lang="de"><body><div style="display:none">Vorschau</div>'
        f"{snippet}</body></html>"
    )
    with pytest.raises(RenderError) as caught:
        check_html(html, language="de", preheader="Vorschau", name="mailing 1 (de)")
    assert problem in str(caught.value)
    assert str(caught.value).startswith("mailing 1 (de): ")


def test_checks_want_lang_and_preheader() -> None:
    html = '<!doctype html><html lang="und"><body><p>Hallo</p></body></html>'
    with pytest.raises(RenderError) as caught:
        check_html(html, language="de", preheader="Vorschau", name="m")
    assert 'lang="und"' in str(caught.value)
    assert "preheader is not in the HTML" in str(caught.value)
    with pytest.raises(RenderError, match="no preheader"):
        check_html(html.replace("und", "de"), language="de", preheader=" ", name="m")
