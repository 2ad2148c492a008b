"""Markdown as pages show it: code highlighted on the server, images from other sites
explained instead of broken, and the light theme's focus ring visible (contrast ≥ 3:1)."""

from __future__ import annotations

import re

import pytest

from app.web.rendering import render_markdown
from tests.clients import soup
from tests.paths import REPO


def test_fenced_code_is_highlighted_into_class_named_spans() -> None:
    html = soup(render_markdown('```python\ndef f():\n    return "<b>"\n```'))
    assert html.select_one("pre code span.k").get_text() == "def"  # type: ignore[union-attr]
    assert html.select_one("pre code span.s2").get_text() == '"<b>"'  # type: ignore[union-attr]
    assert html.find("b") is None, "code stays text"


def test_code_in_an_unknown_language_stays_plain_and_escaped() -> None:
    html = soup(render_markdown("```nosuchlanguage\n<script>x</script>\n```"))
    assert html.select("pre code span") == []
    assert html.find("script") is None
    assert "<script>x</script>" in html.get_text()


def test_only_highlighting_classes_survive_sanitising() -> None:
    html = soup(render_markdown('```python\nx = 1\n```\n\n<span class="evil">a</span>'))
    classes = {c for span in html.select("span") for c in span.get("class") or []}
    assert classes and classes <= {"n", "o", "mi", "w", "p"}


def test_an_image_from_another_site_says_why_it_is_not_shown() -> None:
    html = soup(render_markdown("![a chart](https://cdn.example.com/c.png)"))
    assert html.find("img") is None
    note = html.select_one(".blocked-image")
    assert note is not None
    assert "cdn.example.com" in note.get_text() and "a chart" in note.get_text()
    assert note.find("a")["href"] == "https://cdn.example.com/c.png"  # type: ignore[index]


def test_an_image_of_this_site_is_kept() -> None:
    assert soup(render_markdown("![logo](/static/favicon.svg)")).find("img") is not None


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def tokens(block: str) -> dict[str, str]:
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", block))


def themes() -> dict[str, dict[str, str]]:
    css = (REPO / "static" / "app.css").read_text(encoding="utf-8")
    light = tokens(css[css.index(":root {") : css.index("}", css.index(":root {"))])
    dark_start = css.index("@media (prefers-color-scheme: dark)")
    dark = {**light, **tokens(css[dark_start : css.index("}\n}", dark_start)])}
    return {"light": light, "dark": dark}


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("behind", ["bg", "surface", "surface-2"])
def test_the_focus_ring_stands_out_from_every_background(theme: str, behind: str) -> None:
    colours = themes()[theme]
    assert contrast(colours["focus"], colours[behind]) >= 3.0
