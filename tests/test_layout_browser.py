"""Layout in Chromium: admin tables on a phone (Japanese headers, key figures in view, row names
that stay while a table scrolls), the dashboard's charts at a phone's and a desktop's width
(each chart is drawn at three widths and CSS shows one), and right-to-left content on the
labelling page."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.db import Database
from app.demo import seed_demo
from app.settings import Settings
from tests.browsing import BROWSER_MARKS, chromium
from tests.conftest import TEST_SECRET
from tests.factories import PASSWORD, import_rows, make_annotator, make_project
from tests.live import live_server

pytestmark = BROWSER_MARKS
expect = pytest.importorskip("playwright.sync_api").expect
__all__ = ["chromium"]

ARABIC = "عاصمة فرنسا هي باريس، وهي أكبر مدنها وأشهرها."
HEBREW = "הבירה של צרפת היא פריז, העיר הגדולה ביותר בה."
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def site(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The demo (its labelled project fills the dashboard) and a project in Arabic and Hebrew."""
    folder = tmp_path_factory.mktemp("layout")
    path = folder / "layout.db"
    shutil.copy(sqlite_template, path)
    settings = Settings(database_url=f"sqlite:///{path}", secret_key=TEST_SECRET,
                        secret_key_file=folder / "secret")  # fmt: skip
    db = Database(settings.database_url)
    with db.scope() as session:
        logins = dict(seed_demo(session, settings))
        project = make_project(session, name="RTL")
        import_rows(session, project, [{"id": "rtl", "prompt": "ما هي عاصمة فرنسا؟",
                                        "candidates": [ARABIC, HEBREW]}])  # fmt: skip
        make_annotator(session, username="ann")
    db.dispose()
    with live_server(settings) as url:
        yield url, logins


def logged_in(chromium: Any, url: str, username: str, password: str, viewport: Any,
              locale: str = "en-US") -> Any:  # fmt: skip
    page = chromium.new_context(base_url=url, viewport=viewport, locale=locale).new_page()
    page.goto("/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("input[name=password]").press("Enter")
    expect(page.locator("form[action='/logout'] button")).to_be_visible()
    return page


def shown_charts(page: Any) -> list[dict[str, Any]]:
    return list(page.evaluate(
        "() => [...document.querySelectorAll('svg.chart')]"
        ".filter(svg => getComputedStyle(svg).display !== 'none')"
        ".map(svg => { const r = svg.getBoundingClientRect(),"
        " card = svg.parentElement.getBoundingClientRect();"
        " return {cls: svg.getAttribute('class'), left: r.left, right: r.right, width: r.width,"
        " card: card.width}; })"
    ))  # fmt: skip


def test_on_a_phone_each_chart_fits_the_screen_without_scrolling_sideways(
    chromium: Any, site: Any
) -> None:
    url, logins = site
    page = logged_in(chromium, url, "admin", logins["admin"], PHONE)
    page.goto("/admin/projects/demo-labelled/dashboard")
    charts = shown_charts(page)
    assert len(charts) >= 3, "progress, per-annotator activity and position bias are drawn"
    for chart in charts:
        assert "chart-s" in chart["cls"], chart
        assert chart["left"] >= 0 and chart["right"] <= PHONE["width"], chart
    scroll = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll <= PHONE["width"], "the page does not scroll sideways"
    page.context.close()


def test_on_a_desktop_the_wide_chart_fills_its_card(chromium: Any, site: Any) -> None:
    url, logins = site
    page = logged_in(chromium, url, "admin", logins["admin"], DESKTOP)
    page.goto("/admin/projects/demo-labelled/dashboard")
    charts = shown_charts(page)
    assert len(charts) >= 3
    for chart in charts:
        assert "chart-l" in chart["cls"], chart
        assert chart["width"] >= chart["card"] * 0.9, "not half the card"
    page.context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_right_to_left_answers_are_laid_out_right_to_left(
    chromium: Any, site: Any, viewport: Any
) -> None:
    url, _ = site
    page = logged_in(chromium, url, "ann", PASSWORD, viewport)
    page.goto("/projects/rtl/annotate")
    for text in (ARABIC, HEBREW):
        body = page.locator(".candidate-body", has_text=text)
        expect(body).to_be_visible()
        box = body.evaluate(
            "el => { const s = getComputedStyle(el), r = el.getBoundingClientRect(),"
            " range = document.createRange(); range.selectNodeContents(el.querySelector('p'));"
            " const t = range.getBoundingClientRect();"
            " return {dir: s.direction, align: s.textAlign,"
            " inner: r.right - parseFloat(s.paddingRight) - parseFloat(s.borderRightWidth),"
            " left: r.left, textRight: t.right, textLeft: t.left}; }"
        )
        assert box["dir"] == "rtl", box
        assert abs(box["textRight"] - box["inner"]) <= 2, "the text starts at the right edge"
        assert box["textLeft"] >= box["left"], "and stays inside its box"
    prompt = page.locator(".prose", has_text="ما هي")
    assert prompt.evaluate("el => getComputedStyle(el).direction") == "rtl"
    assert page.evaluate("() => document.documentElement.dir || 'ltr'") == "ltr", (
        "the interface around the content stays left to right"
    )
    scroll = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll <= viewport["width"]
    page.context.close()


def test_on_a_phone_in_german_a_verdict_button_breaks_between_words_only(
    chromium: Any, site: Any
) -> None:
    url, _ = site
    page = logged_in(chromium, url, "ann", PASSWORD, PHONE, locale="de-DE")
    page.goto("/projects/rtl/annotate")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    for button in page.locator(".verdicts button").all():
        words = button.evaluate(
            "b => { const out = [];"
            " const walk = document.createTreeWalker(b, NodeFilter.SHOW_TEXT);"
            " while (walk.nextNode()) { const node = walk.currentNode;"
            "  if (node.parentElement.closest('kbd')) continue;"
            "  for (const m of node.data.matchAll(/\\S+/g)) { const r = document.createRange();"
            "   r.setStart(node, m.index); r.setEnd(node, m.index + m[0].length);"
            "   out.push([m[0], r.getClientRects().length]); } }"
            " return out; }"
        )
        assert words, button.inner_text()
        assert all(lines == 1 for _, lines in words), words
    page.context.close()


def test_skip_and_undo_share_a_row_with_the_flag_button_below(chromium: Any, site: Any) -> None:
    url, _ = site
    page = logged_in(chromium, url, "ann", PASSWORD, DESKTOP)
    page.goto("/projects/rtl/annotate")
    skip = page.locator("button[data-key=s]").bounding_box()
    undo = page.locator("button[data-key=u]").bounding_box()
    flag = page.locator("#flag-item > summary").bounding_box()
    assert abs(skip["y"] - undo["y"]) <= 1 and undo["x"] > skip["x"] + skip["width"]
    assert flag["y"] >= skip["y"] + skip["height"], "the flag's own row, below"
    assert flag["height"] >= skip["height"] - 2, "as tall as a button"
    page.context.close()


def test_on_a_phone_a_wide_table_scrolls_in_its_card_with_a_shadow_at_the_edge(
    chromium: Any, site: Any
) -> None:
    url, logins = site
    page = logged_in(chromium, url, "admin", logins["admin"], PHONE)
    page.goto("/admin/people")
    scroller = page.locator(".table-scroll", has=page.locator("table")).first
    sizes = scroller.evaluate(
        "el => ({scroll: el.scrollWidth, client: el.clientWidth,"
        " image: getComputedStyle(el).backgroundImage,"
        " attach: getComputedStyle(el).backgroundAttachment})"
    )
    assert sizes["scroll"] > sizes["client"], "the table is wider than the phone"
    assert sizes["image"].count("radial-gradient") == 2, "a shadow for each edge"
    assert sizes["attach"].startswith("local, local, scroll, scroll"), "covers move, shadows stay"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    page.context.close()


LINES = (
    "el => { const lines = new Map();"
    " const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);"
    " while (walk.nextNode()) { const node = walk.currentNode;"
    "  for (let i = 0; i < node.data.length; i++) { if (!node.data[i].trim()) continue;"
    "   const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1);"
    "   const top = Math.round(r.getBoundingClientRect().top);"
    "   lines.set(top, (lines.get(top) || '') + node.data[i]); } }"
    " return [...lines.values()]; }"
)
"""An element's text as it is laid out, line by line (blanks left out)."""


@pytest.mark.parametrize("path", [
    "/admin", "/admin/projects/demo-labelled", "/admin/projects/demo-labelled/dashboard",
    "/admin/people",
])  # fmt: skip
def test_on_a_phone_in_japanese_table_headers_keep_their_words_whole(
    chromium: Any, site: Any, path: str
) -> None:
    url, logins = site
    page = logged_in(chromium, url, "admin", logins["admin"], PHONE, locale="ja-JP")
    page.goto(path)
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    heads = page.locator(".table-scroll thead th:visible").all()
    assert len(heads) >= 4
    for head in heads:
        lines = head.evaluate(LINES)
        assert min(len(line) for line in lines) >= 2, (path, lines)  # never one character alone
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    page.context.close()


@pytest.mark.parametrize(("locale", "battles", "wins"), [
    ("en-US", "Battles", "Wins"), ("de-DE", "Duelle", "Siege"), ("ja-JP", "対戦", "勝ち"),
])  # fmt: skip
def test_on_a_phone_the_leaderboard_shows_each_models_figures_without_scrolling(
    chromium: Any, site: Any, locale: str, battles: str, wins: str
) -> None:
    url, logins = site
    page = logged_in(chromium, url, "admin", logins["admin"], PHONE, locale=locale)
    page.goto("/admin/projects/demo-labelled/leaderboard")
    ratings = page.locator("table.ratings")
    edge = page.locator(".table-scroll", has=ratings).evaluate(
        "el => el.getBoundingClientRect().left + el.clientWidth"
    )
    for name in (battles, wins):
        head = ratings.locator("thead th", has_text=name).bounding_box()
        assert head is not None and head["x"] + head["width"] <= edge, (name, head, edge)
    first = ratings.locator("tbody tr").first
    rank = first.locator("th").evaluate("th => getComputedStyle(th, '::before').content")
    assert rank == '"1. "', "the rank, before the model's name"
    expect(first.locator("td:visible").first).to_contain_text("–")  # the interval under the rating
    page.context.close()


def test_on_a_phone_a_tables_row_names_stay_in_view_while_it_scrolls(
    chromium: Any, site: Any
) -> None:
    url, logins = site
    page = logged_in(chromium, url, "admin", logins["admin"], PHONE)
    page.goto("/admin/people")
    scroller = page.locator(".table-scroll", has=page.locator("table")).first
    start = scroller.evaluate("el => el.getBoundingClientRect().left")
    scroller.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    assert scroller.evaluate("el => el.scrollLeft") > 0
    for cell in (scroller.locator("thead th").first, scroller.locator("tbody th").first):
        box = cell.bounding_box()
        assert box is not None and abs(box["x"] - start) <= 1, box
    expect(scroller.locator("tbody th").first).to_be_visible()
    page.context.close()
