"""The text helpers, locale strings and operator template overrides."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from pipeline.clock import FakeClock
from pipeline.errors import RenderError
from pipeline.mailings.compose import compose_newsletter
from pipeline.render.locale import load_strings, long_date
from pipeline.render.sanitize import clean_html, markdown_to_html
from pipeline.render.text import References, html_to_text, tidy, wrap
from pipeline.store import Store
from tests.support.mail_items import add_item
from tests.support.mailings import render_mailing


def test_wrap_never_breaks_urls_or_words() -> None:
    url = "https://www.junge-buergermeister.example/" + "a" * 80
    text = wrap(f"Bürgermeister*innen lesen {url} und mehr über „Kommune 2030“ " * 3)
    assert url in text
    assert all(len(line) <= 72 or url in line for line in text.splitlines())


def test_html_to_text_paragraphs_lists_and_link_references() -> None:
    refs = References()
    fragment = clean_html(
        "<h2>Auf dem Weg</h2><p>Lesen Sie <a href='https://a.example/1'>hier</a> und "
        "<a href='mailto:presse@example.org'>schreiben</a> Sie uns.</p>"
        "<ul><li>Wärmeplanung</li><li>Digitalpakt mit <a href='https://a.example/1'>Link</a></li></ul>"
        "<ol><li>eins</li><li>zwei</li></ol><p>Ende<br>neue Zeile</p>"
    )
    text = html_to_text(fragment, refs)
    assert text == (
        "AUF DEM WEG\n\n"
        "Lesen Sie hier [1] und schreiben <presse@example.org> Sie uns.\n\n"
        "-  Wärmeplanung\n"
        "-  Digitalpakt mit Link [1]\n"
        "1. eins\n"
        "2. zwei\n\n"
        "Ende\nneue Zeile"
    )
    assert refs.render("Links") == "Links\n-----\n[1] https://a.example/1"


def test_markdown_intro_is_sanitized() -> None:
    html = markdown_to_html(
        "**Hallo** <script>x()</script> [a](javascript:alert(1)) [b](https://b.example)"
    )
    assert "<strong>Hallo</strong>" in html
    # raw HTML and unsafe links stay visible as text, never as markup
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html
    assert '<a href="https://b.example" rel="noopener">b</a>' in html


def test_tidy_keeps_the_signature_separator() -> None:
    assert tidy("a  \n\n\n\nb\n--\nc") == "a\n\nb\n-- \nc\n"


def test_german_dates_and_strings() -> None:
    assert long_date(date(2023, 6, 23), "de") == "Freitag, 23. Juni 2023"
    strings = load_strings("de")
    assert strings("sections.event_report") == "Veranstaltungsberichte"
    with pytest.raises(RenderError, match=r"missing string 'mail\.nope'"):
        strings("mail.nope")
    with pytest.raises(RenderError, match="no strings for language 'fr'"):
        load_strings("fr")


def test_both_locales_have_the_same_keys() -> None:
    assert set(load_strings("de").table) == set(load_strings("en").table)


def test_operator_templates_override_the_bundled_ones(
    settings_factory: object, clock: FakeClock, tmp_path: Path
) -> None:
    custom = tmp_path / "my-templates"
    (custom / "locale").mkdir(parents=True)
    (custom / "locale" / "de.toml").write_text('[mail]\nread_more = "Zum Artikel"\n', "utf-8")
    bundled = Path(__file__).resolve().parents[2] / "templates" / "partials" / "footer.mjml.j2"
    (custom / "partials").mkdir()
    (custom / "partials" / "footer.mjml.j2").write_text(
        bundled.read_text("utf-8").replace(
            "{{ mail.footer.postal_address }}",
            "{{ mail.footer.postal_address }}<br />Vereinsregister VR 12345 B",
        ),
        "utf-8",
    )
    settings = settings_factory(compose={"templates_dir": str(custom)})  # type: ignore[operator]
    store = Store.open(settings.database_url())
    add_item(store, title="Sommerfest", published_at=clock.now() - timedelta(hours=1))
    mailing = compose_newsletter(settings, store, clock=clock)
    assert mailing is not None
    rendered = render_mailing(settings, store, mailing.id, clock=clock)[0]
    assert ">Zum Artikel<" in rendered.html and "Zum Artikel [1]" in rendered.text
    assert "Weiterlesen" not in rendered.html
    assert "Vereinsregister VR 12345 B" in rendered.html
    store.close()


def test_a_broken_template_names_file_and_line(
    settings_factory: object, clock: FakeClock, tmp_path: Path
) -> None:
    custom = tmp_path / "broken"
    custom.mkdir()
    (custom / "newsletter.mjml.j2").write_text("<mjml>\n{% if %}\n</mjml>\n", "utf-8")
    settings = settings_factory(compose={"templates_dir": str(custom)})  # type: ignore[operator]
    store = Store.open(settings.database_url())
    add_item(store, title="Sommerfest", published_at=clock.now() - timedelta(hours=1))
    mailing = compose_newsletter(settings, store, clock=clock)
    assert mailing is not None
    with pytest.raises(RenderError, match=r"newsletter\.mjml\.j2:2: template error"):
        render_mailing(settings, store, mailing.id, clock=clock)
    store.close()


@pytest.mark.parametrize(
    ("source", "html"),
    [
        (
            "Liebe Bürgermeister*innen und Kolleg*innen!",
            "<p>Liebe Bürgermeister*innen und Kolleg*innen!</p>",
        ),
        ("**Bürger*innen** lesen *das*", "<p><strong>Bürger*innen</strong> lesen <em>das</em></p>"),
        ("3*4 und 5 * 6", "<p>3*4 und 5 * 6</p>"),
    ],
)
def test_the_gender_star_is_text_not_emphasis(source: str, html: str) -> None:
    """Two gender stars in a paragraph set everything between them in italics when the
    Markdown reads them as emphasis (seen in the seed article's second paragraph)."""
    assert markdown_to_html(source).strip() == html
