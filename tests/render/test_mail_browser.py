"""Every mail template in Chromium: text contrast in dark (and light) mode, the layout at
375 px with every ``<style>`` removed (GMX, WEB.DE and T-Online drop them), and the
accessible names of the "Weiterlesen" links."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from pipeline.render import RenderedMailing
from tests.support.browser import CHROMIUM, HAVE_CHROMIUM, chromium, open_mail

NAMES = [f"{kind}-{lang}" for kind in ("newsletter", "press", "confirmation", "welcome") for lang in ("de", "en")]  # fmt: skip

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not HAVE_CHROMIUM, reason=f"{CHROMIUM} is missing (system-deps)"),
]

# Each visible text node: its colour and the colour behind it (the first ancestor with
# a background, blended through translucent ones; the canvas if none), as WCAG contrast.
CONTRAST_JS = """
(canvas) => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, under) => {
    const a = top[3];
    return [0, 1, 2].map(i => top[i] * a + under[i] * (1 - a)).concat([1]);
  };
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let colour = canvas;
    for (let i = layers.length - 1; i >= 0; i--) colour = over(layers[i], colour);
    return colour;
  };
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.replace(/[\\s\\u034f\\u200c]+/g, ' ').trim();
    if (!text) continue;
    const el = node.parentElement;
    const style = getComputedStyle(el);
    const range = document.createRange();
    range.selectNodeContents(node);
    const rect = range.getBoundingClientRect();
    if (rect.width < 1 || rect.height < 1 || style.visibility !== 'visible') continue;
    let hidden = false;
    for (let e = el; e; e = e.parentElement) {
      if (Number(getComputedStyle(e).opacity) === 0) { hidden = true; break; }
    }
    if (hidden || parseFloat(style.fontSize) < 1) continue;
    const bg = background(el);
    const fg = over(parse(style.color), bg);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    out.push({text: text.slice(0, 60), ratio: (a + 0.05) / (b + 0.05), fg: style.color,
              bg: 'rgb(' + bg.slice(0, 3).map(Math.round).join(',') + ')'});
  }
  return out;
}
"""
CANVAS = {False: [255, 255, 255, 1], True: [18, 18, 18, 1]}  # Chromium's canvas per scheme


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as found:
        yield found


def contrasts(browser: Any, html: str, *, dark: bool) -> list[dict[str, Any]]:
    page = open_mail(browser, html, dark=dark)
    try:
        found: list[dict[str, Any]] = page.evaluate(CONTRAST_JS, CANVAS[dark])
        return found
    finally:
        page.context.close()


@pytest.mark.parametrize("dark", [True, False], ids=["dark", "light"])
@pytest.mark.parametrize("name", NAMES)
def test_every_text_has_contrast(
    corpus: dict[str, RenderedMailing], browser: Any, name: str, dark: bool
) -> None:
    texts = contrasts(browser, corpus[name].html, dark=dark)
    assert len(texts) > 10
    low = [t for t in texts if t["ratio"] < 4.5]
    assert low == [], f"{len(low)} texts below 4.5:1, lowest {min(t['ratio'] for t in low):.2f}"


@pytest.mark.parametrize("name", NAMES)
def test_375_px_without_style_blocks(
    corpus: dict[str, RenderedMailing], browser: Any, name: str
) -> None:
    page = open_mail(browser, corpus[name].html, width=375)
    try:
        removed = page.evaluate(
            "() => { const s = [...document.querySelectorAll('style, link[rel=stylesheet]')];"
            " s.forEach(e => e.remove()); return s.length; }"
        )
        assert removed >= 1
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{name} is {width} px wide at 375 px without <style>"
        # the images shrink with the column instead of pushing it wider
        widest = page.evaluate(
            "Math.max(...[...document.images].map(i => i.getBoundingClientRect().right))"
        )
        assert widest <= 375
    finally:
        page.context.close()


@pytest.mark.parametrize("lang", ["de", "en"])
def test_read_more_links_name_their_article(
    corpus: dict[str, RenderedMailing], browser: Any, lang: str
) -> None:
    label = {"de": "Weiterlesen", "en": "Read more"}[lang]
    page = open_mail(browser, corpus[f"newsletter-{lang}"].html)
    try:
        snapshot = page.locator("body").aria_snapshot()
        titles = [
            page.locator("h3").nth(i).inner_text().strip()
            for i in range(page.locator("h3").count())
        ]
    finally:
        page.context.close()
    names = [
        name.replace('\\"', '"')
        for name in re.findall(r'link "((?:[^"\\]|\\.)*)"', snapshot)
        if name.startswith(label)
    ]
    assert len(titles) == 8
    assert names == [f"{label}: {title}" for title in titles]
    assert len(set(names)) == len(names)
