"""Layout in Chromium: the dashboard's charts at a phone's and a desktop's width (each chart is
drawn at three widths and CSS shows one), right-to-left content on the labelling page, the
labelling page's controls in each protocol (pair, ranking, rating) on a phone and a desktop,
and admin tables on a phone (Japanese headers, key figures in view, row names that stay in
view while a table scrolls), tables in answers on a phone, and the focus ring's contrast in a
light and a dark browser."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.db import Database
from app.demo import seed_demo
from app.models import Protocol
from app.settings import Settings
from tests.browsing import BROWSER_MARKS, chromium
from tests.conftest import TEST_SECRET
from tests.factories import PASSWORD, import_rows, make_annotator, make_project, native_rows
from tests.live import live_server

pytestmark = BROWSER_MARKS
expect = pytest.importorskip("playwright.sync_api").expect
__all__ = ["chromium"]

ARABIC = "عاصمة فرنسا هي باريس، وهي أكبر مدنها وأشهرها."
HEBREW = "הבירה של צרפת היא פריז, העיר הגדולה ביותר בה."
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
ANSWER_TABLE = (
    "| Model | Score | Latency | Tokens | Notes |\n|---|---|---|---|---|\n"
    "| Multilingual | Excellent | Acceptable | Thousands | Recommended |\n"
    "| Compact | Adequate | Excellent | Hundreds | Inexpensive |\n"
)
"""Wider than a phone: more columns than fit, each cell one long word."""


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
        ranking = make_project(session, name="Rank", protocol=Protocol.RANKING)
        import_rows(session, ranking, native_rows(3, candidates=4))
        rating = make_project(session, name="Rate", protocol=Protocol.RATING)
        import_rows(session, rating, native_rows(3, candidates=1))
        tables = make_project(session, name="Tables")
        import_rows(session, tables, [{"id": "t", "prompt": "Compare the models.",
                                       "candidates": [ANSWER_TABLE, "No table."]}])  # fmt: skip
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


# Each word of an element's text (outside its key badges) with the number of lines it takes.
WORD_LINES = (
    "b => { const out = [];"
    " const walk = document.createTreeWalker(b, NodeFilter.SHOW_TEXT);"
    " while (walk.nextNode()) { const node = walk.currentNode;"
    "  if (node.parentElement.closest('kbd')) continue;"
    "  for (const m of node.data.matchAll(/\\S+/g)) { const r = document.createRange();"
    "   r.setStart(node, m.index); r.setEnd(node, m.index + m[0].length);"
    "   out.push([m[0], r.getClientRects().length]); } }"
    " return out; }"
)


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
        assert "chart-xs" in chart["cls"], chart
        assert chart["left"] >= 0 and chart["right"] <= PHONE["width"], chart
    sizes = page.evaluate(
        "() => [...document.querySelectorAll('svg.chart-xs text')].map(t => {"
        " const svg = t.ownerSVGElement;"
        " const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;"
        " return parseFloat(getComputedStyle(t).fontSize) * scale; })"
    )  # fmt: skip
    assert sizes and min(sizes) >= 11, "axis labels drawn at 11 px or more on the screen"
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
        words = button.evaluate(WORD_LINES)
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
def test_on_a_phone_in_japanese_table_cells_keep_their_words_whole(
    chromium: Any, site: Any, path: str
) -> None:
    url, logins = site
    page = logged_in(chromium, url, "admin", logins["admin"], PHONE, locale="ja-JP")
    page.goto(path)
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    heads = page.locator(".table-scroll thead th:visible").all()
    assert len(heads) >= 4
    cells = page.locator(".table-scroll tbody :is(th, td):not([dir=auto]):visible").all()
    for cell in heads + cells:
        lines = [line for line in cell.evaluate(LINES) if line]
        shortest = min(2, len("".join(lines)))
        assert all(len(line) >= shortest for line in lines), (path, lines)  # no lone character
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


def test_on_a_phone_in_german_the_ranking_buttons_break_between_words_only(
    chromium: Any, site: Any
) -> None:
    url, _ = site
    page = logged_in(chromium, url, "ann", PASSWORD, PHONE, locale="de-DE")
    page.goto("/projects/rank/annotate")
    save = page.locator("#save-ranking")
    expect(save).to_contain_text("Diese Reihenfolge speichern")
    for button in page.locator(".verdicts button").all():
        words = button.evaluate(WORD_LINES)
        assert words and all(lines == 1 for _, lines in words), words
        assert button.evaluate("b => b.scrollWidth <= b.clientWidth"), "nothing sticks out"
    page.keyboard.press("2")
    expect(page.locator("#order-built")).to_have_text("Antwort 2")  # the page's language
    page.context.close()


def test_on_a_phone_long_guidelines_are_shown_whole_and_scroll_by_keyboard_on_a_desktop(
    chromium: Any, site: Any
) -> None:
    url, _ = site
    for viewport in (PHONE, DESKTOP):
        page = logged_in(chromium, url, "ann", PASSWORD, viewport)
        page.goto("/projects/demo/annotate")
        prose = page.locator("#guidelines .prose")
        expect(prose).to_contain_text("Keys:")
        keys = prose.locator("p", has_text="Keys:")
        box, line = prose.bounding_box(), keys.bounding_box()
        if viewport is PHONE:
            assert prose.evaluate("el => el.scrollHeight <= el.clientHeight + 1"), "not cut off"
            assert line["y"] + line["height"] <= box["y"] + box["height"] + 1, "the last line shows"
            assert keys.evaluate("el => el.scrollWidth <= el.clientWidth"), "it wraps"
        else:
            assert prose.get_attribute("tabindex") == "0", "a keyboard can scroll it"
            assert prose.get_attribute("aria-label") == "Guidelines"
        page.context.close()


FLAG_LOOK = (
    "el => { const s = getComputedStyle(el); return [s.display, s.borderTopStyle,"
    " s.borderTopWidth, s.borderRadius, s.backgroundColor, s.paddingLeft, s.minHeight,"
    " s.textDecorationLine, Math.round(el.getBoundingClientRect().height)]; }"
)


def test_the_flag_is_the_same_button_like_toggle_for_a_pair_a_ranking_and_a_rating(
    chromium: Any, site: Any
) -> None:
    url, _ = site
    page = logged_in(chromium, url, "ann", PASSWORD, DESKTOP)
    looks = {}
    for slug in ("demo", "rank", "rate"):
        page.goto(f"/projects/{slug}/annotate")
        flag = page.locator("#flag-item > summary")
        expect(flag).to_be_visible()
        looks[slug] = flag.evaluate(FLAG_LOOK)
        skip = page.locator("button[data-key=s]").evaluate(FLAG_LOOK)
        assert looks[slug][:7] == skip[:7], (slug, looks[slug], skip)  # drawn as the skip button
        assert looks[slug][7] == "none", "not an underlined link"
    assert looks["demo"] == looks["rank"] == looks["rate"], looks
    page.context.close()


def test_tab_goes_from_skip_to_undo_to_flag_in_the_order_they_are_shown(
    chromium: Any, site: Any
) -> None:
    url, _ = site
    page = logged_in(chromium, url, "ann", PASSWORD, DESKTOP)
    page.goto("/projects/rate/annotate")
    page.keyboard.press("s")  # a skip to undo: the undo button is on
    expect(page.locator(".flash")).to_have_text("Skipped.")
    skip, undo = page.locator("button[data-key=s]"), page.locator("button[data-key=u]")
    flag = page.locator("#flag-item > summary")
    expect(undo).to_be_enabled()
    s, u, f = skip.bounding_box(), undo.bounding_box(), flag.bounding_box()
    assert abs(s["y"] - u["y"]) <= 1 and u["x"] > s["x"] and f["y"] > s["y"], "skip, undo; flag"
    skip.focus()
    page.keyboard.press("Tab")
    expect(undo).to_be_focused()
    page.keyboard.press("Tab")
    expect(flag).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(undo).to_be_focused()
    page.context.close()


def test_on_a_desktop_the_rating_card_fills_the_work_area(chromium: Any, site: Any) -> None:
    url, _ = site
    page = logged_in(chromium, url, "ann", PASSWORD, DESKTOP)
    page.goto("/projects/rate/annotate")
    card = page.locator("#rating-form .candidate").bounding_box()
    area = page.locator("#rating-form .candidates").bounding_box()
    verdicts = page.locator("#rating-form .verdicts").bounding_box()
    assert abs(card["width"] - area["width"]) <= 1, (card, area)
    assert abs(card["x"] - verdicts["x"]) <= 1 and abs(card["width"] - verdicts["width"]) <= 1
    page.context.close()


def test_the_save_order_button_is_off_until_every_response_has_a_place(
    chromium: Any, site: Any
) -> None:
    url, _ = site
    page = logged_in(chromium, url, "ann", PASSWORD, DESKTOP)
    page.goto("/projects/rank/annotate")
    work, save = page.locator("#work"), page.locator("#save-ranking")
    expect(save).to_have_attribute("aria-disabled", "true")
    assert save.evaluate("b => getComputedStyle(b).opacity") != "1", "it looks off"
    for key in "312":
        page.keyboard.press(key)
        expect(save).to_have_attribute("aria-disabled", "true")
    clicked = "b => !b.dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true}))"
    assert save.evaluate(clicked), "a click on it is refused in the page"
    expect(work).to_have_attribute("data-judged", "0")
    page.keyboard.press("4")
    expect(save).to_have_attribute("aria-disabled", "false")
    assert save.evaluate("b => getComputedStyle(b).opacity") == "1"
    page.keyboard.press("Backspace")
    expect(save).to_have_attribute("aria-disabled", "true")
    page.keyboard.press("4")
    page.keyboard.press("Enter")
    expect(work).to_have_attribute("data-judged", "1")
    page.context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_keys_list_opens_at_its_title_with_close_in_view(
    chromium: Any, site: Any, viewport: Any
) -> None:
    url, _ = site
    page = logged_in(chromium, url, "ann", PASSWORD, viewport, locale="de-DE")
    page.goto("/projects/demo/annotate")  # rates single responses too: a long list
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Tastenkürzel")
    expect(dialog).to_be_visible()
    close = dialog.get_by_role("button", name="Schließen")
    expect(close).to_be_focused()
    box = dialog.bounding_box()
    title = dialog.get_by_role("heading").bounding_box()
    shown = close.bounding_box()
    if viewport is PHONE:
        assert dialog.evaluate("d => d.scrollHeight > d.clientHeight"), "taller than the screen"
    assert title["y"] >= box["y"], "the title is in view, not scrolled away"
    assert shown["y"] + shown["height"] <= box["y"] + box["height"], "and so is Close"
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.context.close()


def test_on_a_narrow_screen_the_key_badges_go_with_the_keys_line(chromium: Any, site: Any) -> None:
    url, _ = site
    for viewport, shown in ((PHONE, False), (DESKTOP, True)):
        page = logged_in(chromium, url, "ann", PASSWORD, viewport, locale="de-DE")
        page.goto("/projects/demo/annotate")
        expect(page.locator(".verdicts button").first).to_be_visible()
        badges = page.locator(".verdicts kbd, .more-actions kbd")
        assert badges.count() >= 6
        for badge in badges.all():
            assert badge.is_visible() is shown, (viewport, badge.inner_text())
        assert page.locator(".keys").is_visible() is shown
        expect(page.get_by_role("button", name="Tasten")).to_be_visible()  # the list stays
        page.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_api_docs_follow_the_browsers_colour_scheme(
    chromium: Any, site: Any, scheme: str
) -> None:
    url, _ = site
    context = chromium.new_context(base_url=url, viewport=DESKTOP, color_scheme=scheme)
    page = context.new_page()
    page.goto("/docs")
    expect(page.locator("#swagger-ui .opblock").first).to_be_visible()  # drawn offline
    swagger = page.locator("#swagger-ui").evaluate("el => getComputedStyle(el).filter")
    page.goto("/redoc")
    menu = page.locator(".menu-content")
    expect(menu).to_be_visible()
    sidebar = menu.evaluate("el => getComputedStyle(el).backgroundColor")
    body = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    if scheme == "dark":
        assert "invert" in swagger, swagger
        assert sidebar == "rgb(30, 31, 36)" and body == "rgb(21, 22, 26)", (sidebar, body)
    else:
        assert swagger == "none"
        assert sidebar == "rgb(250, 250, 250)" and body == "rgb(255, 255, 255)", (sidebar, body)
    context.close()


@pytest.mark.parametrize(("locale", "outcome", "agreement", "batch"), [
    ("en-US", "Outcome", "Agreement", "Batch"), ("de-DE", "Ergebnis", "Übereinstimmung", "Batch"),
])  # fmt: skip
def test_on_a_phone_the_item_list_shows_each_pairs_outcome_without_scrolling(
    chromium: Any, site: Any, locale: str, outcome: str, agreement: str, batch: str
) -> None:
    url, logins = site
    page = logged_in(chromium, url, "admin", logins["admin"], PHONE, locale=locale)
    page.goto("/admin/projects/demo-labelled/items")
    items = page.locator("table.items")
    edge = page.locator(".table-scroll", has=items).evaluate(
        "el => el.getBoundingClientRect().left + el.clientWidth"
    )
    for name in (outcome, agreement):
        head = items.locator("thead th", has_text=name).bounding_box()
        assert head is not None and head["x"] + head["width"] <= edge, (name, head, edge)
    expect(items.locator("thead th", has_text=batch)).to_be_hidden()  # it is in the filter
    page.context.close()


def upload_preview(page: Any, folder: Path) -> None:
    """The demo project's upload preview of a small CSV (column pickers and its first rows)."""
    sample = folder / "sample.csv"
    sample.write_text("prompt,chosen,rejected,source\n" + "".join(
        f'"Question {i}: what is {i}+{i}?","{2 * i}","{2 * i + 1}",web\n' for i in range(5)
    ))  # fmt: skip
    page.goto("/admin/projects/demo")
    page.locator("#batch-file").set_input_files(str(sample))
    page.locator("button[formaction$='/preview'], button[hx-post$='/preview']").first.click()
    expect(page.locator(".file-preview .mapping-grid select").first).to_be_visible()


def test_in_german_each_column_picker_is_as_wide_as_its_choices(
    chromium: Any, site: Any, tmp_path: Path
) -> None:
    url, logins = site
    page = logged_in(chromium, url, "admin", logins["admin"], DESKTOP, locale="de-DE")
    upload_preview(page, tmp_path)
    selects = page.locator(".mapping-grid select")
    assert selects.count() >= 3
    expect(selects.first.locator("option").first).to_have_text("wie benannt")
    for select in selects.all():
        widths = select.evaluate(
            "el => { const shown = el.getBoundingClientRect().width;"
            " el.style.width = 'max-content'; const needed = el.getBoundingClientRect().width;"
            " el.style.width = ''; return [shown, needed]; }"
        )
        assert widths[0] >= widths[1] - 0.5, widths  # not cut to "wie benann"
    page.context.close()


def test_on_a_phone_the_upload_preview_scrolls_rather_than_split_a_prompts_words(
    chromium: Any, site: Any, tmp_path: Path
) -> None:
    url, logins = site
    page = logged_in(chromium, url, "admin", logins["admin"], PHONE)
    upload_preview(page, tmp_path)
    scroller = page.locator(".preview-rows")
    assert scroller.evaluate("el => el.scrollWidth > el.clientWidth"), "the table scrolls"
    prompt = scroller.locator("tbody td", has_text="Question 0:")
    words = prompt.evaluate(WORD_LINES)
    assert [w for w, _ in words][:2] == ["Question", "0:"]
    assert all(lines == 1 for _, lines in words), words  # not "Questio" / "n 0:"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    page.context.close()


def tops(page: Any, *selectors: str) -> list[float]:
    return [page.locator(s).first.bounding_box()["y"] for s in selectors]


def test_side_by_side_fields_on_the_models_page_start_level(chromium: Any, site: Any) -> None:
    url, logins = site
    page = logged_in(chromium, url, "admin", logins["admin"], DESKTOP)
    page.goto("/admin/projects/demo-labelled/models")
    kinds = page.locator("[id$='-concurrency']").evaluate_all("els => els.map(e => e.id)")
    assert kinds, "a form with a concurrency field"
    for kind in (k.removesuffix("-concurrency") for k in kinds):
        labels = tops(page, f"label[for={kind}-concurrency]", f"label[for={kind}-key]")
        inputs = tops(page, f"#{kind}-concurrency", f"#{kind}-key")
        assert abs(labels[0] - labels[1]) <= 1 and abs(inputs[0] - inputs[1]) <= 1, (
            kind,
            labels,
            inputs,
        )
    page.context.close()


@pytest.mark.parametrize("locale", ["en-US", "de-DE"])
def test_the_item_filters_labels_and_controls_stand_level(
    chromium: Any, site: Any, locale: str
) -> None:
    url, logins = site
    page = logged_in(chromium, url, "admin", logins["admin"], DESKTOP, locale=locale)
    page.goto("/admin/projects/demo-labelled/items")
    expect(page.locator("#agreement-help")).to_be_visible()  # the hint below one input
    labels = tops(page, "label[for=batch]", "label[for=annotator]", "label[for=agreement_below]")
    controls = tops(page, "#batch", "#annotator", "#agreement_below")
    assert max(labels) - min(labels) <= 1, labels
    assert max(controls) - min(controls) <= 1, controls
    middle = [b["y"] + b["height"] / 2 for b in (
        page.locator("#batch").bounding_box(),
        page.locator(".item-filters button[type=submit]").bounding_box(),
        page.locator(".item-filters label.check").first.bounding_box(),
    )]  # fmt: skip
    assert max(middle) - min(middle) <= 4, middle  # Show and the boxes beside the controls
    page.context.close()


def test_on_a_phone_in_japanese_the_item_filters_checkboxes_keep_their_words(
    chromium: Any, site: Any
) -> None:
    url, logins = site
    page = logged_in(chromium, url, "admin", logins["admin"], PHONE, locale="ja-JP")
    page.goto("/admin/projects/demo-labelled/items")
    checks = page.locator(".item-filters label.check")
    assert checks.count() == 3
    for check in checks.all():
        lines = [line for line in check.evaluate(LINES) if line]
        assert len(lines) == 1, lines  # not "ゴー" / "ルド"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    page.context.close()


@pytest.mark.parametrize("path", ["/no/such/page", "/logout"], ids=["404", "405"])
def test_a_cards_room_below_its_last_line_is_the_room_above_its_first(
    chromium: Any, site: Any, path: str
) -> None:
    url, logins = site
    page = logged_in(chromium, url, "admin", logins["admin"], DESKTOP)
    page.goto(path)
    gaps = page.locator("main .panel").first.evaluate(
        "el => { const r = el.getBoundingClientRect(),"
        " first = el.firstElementChild.getBoundingClientRect(),"
        " shown = [...el.children].filter(c => c.offsetParent !== null),"
        " last = shown[shown.length - 1].getBoundingClientRect();"
        " return [first.top - r.top, r.bottom - last.bottom]; }"
    )
    assert abs(gaps[0] - gaps[1]) <= 1, gaps
    page.context.close()


CONTRAST = (
    "el => { const rgb = c => c.match(/[\\d.]+/g).map(Number);"
    " const lum = c => { const [r, g, b] = rgb(c).slice(0, 3).map(v => { v /= 255;"
    "  return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });"
    "  return 0.2126 * r + 0.7152 * g + 0.0722 * b; };"
    " let bg = 'rgb(255, 255, 255)';"
    " for (let e = el; e; e = e.parentElement) { const c = getComputedStyle(e).backgroundColor;"
    "  const v = rgb(c); if (v.length < 4 || v[3] > 0.5) { bg = c; break; } }"
    " const a = lum(getComputedStyle(el).color), b = lum(bg);"
    " return [el.textContent.trim(), (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)]; }"
)
"""An element's text and the contrast of its colour on the background behind it."""


def test_in_a_dark_browser_the_api_docs_buttons_tabs_and_verbs_are_legible(
    chromium: Any, site: Any
) -> None:
    url, _ = site
    context = chromium.new_context(base_url=url, viewport=DESKTOP, color_scheme="dark")
    page = context.new_page()
    page.goto("/docs")
    names = page.locator("#swagger-ui section.models button")
    expect(names.first).to_be_visible()
    assert names.count() >= 3
    for text, ratio in names.evaluate_all(f"els => els.map({CONTRAST})"):
        assert ratio >= 4.5, (text, ratio)  # under the inversion, which keeps it
    page.goto("/redoc")
    tabs = page.locator("#redoc .react-tabs__tab--selected")
    expect(tabs.first).to_be_attached()
    verbs = page.locator("#redoc :is(.http-verb, .operation-type)")
    assert verbs.count() >= 3
    media = page.locator("#redoc h5 span", has_text="application/json")  # "Request body schema:"
    assert media.count() >= 3
    shown = tabs.evaluate_all(f"els => els.map({CONTRAST})")
    shown += verbs.evaluate_all(f"els => els.map({CONTRAST})")
    shown += media.evaluate_all(f"els => els.map({CONTRAST})")
    for text, ratio in shown:
        assert ratio >= 4.5, (text, ratio)
    context.close()


def test_on_a_phone_the_leaderboard_keeps_each_models_name_whole(chromium: Any, site: Any) -> None:
    url, logins = site
    page = logged_in(chromium, url, "admin", logins["admin"], PHONE)
    page.goto("/admin/projects/demo-labelled/leaderboard")
    names = page.locator(":is(table.ratings tbody, table.win-rates) th bdi")
    assert names.count() >= 6
    assert any("-" in name for name in names.all_inner_texts())  # "demo-large"
    for name in names.all():
        lines = [line for line in name.evaluate(LINES) if line]
        assert len(lines) == 1, lines
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    page.context.close()


TEXT_LINES = (
    "el => { const lines = [];"
    " const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);"
    " while (walk.nextNode()) { const node = walk.currentNode;"
    "  for (let i = 0; i < node.data.length; i++) { if (!node.data[i].trim()) continue;"
    "   const range = document.createRange(); range.setStart(node, i); range.setEnd(node, i + 1);"
    "   const r = range.getBoundingClientRect(), mid = (r.top + r.bottom) / 2;"
    "   const line = lines.find(l => mid >= l.top && mid <= l.bottom);"
    "   if (line) line.text += node.data[i];"
    "   else lines.push({top: r.top, bottom: r.bottom, text: node.data[i]}); } }"
    " return lines.map(l => l.text); }"
)
"""An element's text line by line, a character on the line its middle falls in (so a smaller
font's characters, as in <code>, count on their line)."""
TRAILING = "。、．.,:：）)」』"


def test_on_a_phone_in_japanese_no_hint_or_paragraph_ends_on_one_character(
    chromium: Any, site: Any
) -> None:
    url, logins = site
    page = logged_in(chromium, url, "admin", logins["admin"], PHONE, locale="ja-JP")
    page.goto("/admin/projects/demo-labelled/settings")
    expect(page.locator("#protocol-help")).to_be_visible()
    texts = page.locator("main :is(p, .hint, label, dd):visible").all()
    assert len(texts) >= 10
    wrapped = 0
    for text in texts:
        lines = text.evaluate(TEXT_LINES)
        if len(lines) > 1:
            wrapped += 1
            assert len(lines[-1].rstrip(TRAILING)) >= 2, lines  # not "…くださ" / "い。"
    assert wrapped >= 3
    page.context.close()


def test_on_a_phone_a_wrapping_fieldset_title_sits_inside_its_box(chromium: Any, site: Any) -> None:
    url, logins = site
    page = logged_in(chromium, url, "admin", logins["admin"], PHONE, locale="de-DE")
    page.goto("/admin/projects/demo-labelled/settings")
    boxes = page.locator("main fieldset:not(.checks):has(> legend)")
    assert boxes.count() >= 4
    wrapped = 0
    for box in boxes.all():
        legend = box.locator(":scope > legend")
        if len(legend.evaluate(TEXT_LINES)) > 1:
            wrapped += 1
        top = box.evaluate("el => el.getBoundingClientRect().top")
        assert legend.evaluate("el => el.getBoundingClientRect().top") >= top, legend.inner_text()
    assert wrapped >= 1, "a German title long enough to wrap"
    assert page.locator("input[type=hidden][name=protocol]").count() == 1, "a fixed protocol"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    page.context.close()


SMALL_KANA = "ーァィゥェォッャュョヮヵヶぁぃぅぇぉっゃゅょゎ"


def test_on_a_phone_in_japanese_no_label_line_starts_with_a_long_vowel_or_small_kana(
    chromium: Any, site: Any
) -> None:
    """Labels and headings break between phrases: never "アノテータ" / "ーの票"."""
    url, logins = site
    page = logged_in(chromium, url, "admin", logins["admin"], PHONE, locale="ja-JP")
    checked = 0
    for path in ("/admin/projects/demo-labelled/dashboard", "/admin/people/3",
                 "/admin/projects/demo-labelled"):  # fmt: skip
        page.goto(path)
        for label in page.locator("main :is(dt, th, legend, label, h2, h3):visible").all():
            lines = label.evaluate(TEXT_LINES)  # blank characters are left out
            checked += 1
            for line in lines[1:]:
                assert line[0] not in SMALL_KANA, (path, lines)
    assert checked >= 30
    page.context.close()


def test_on_a_phone_a_table_in_an_answer_keeps_each_word_of_each_cell_on_one_line(
    chromium: Any, site: Any
) -> None:
    url, _ = site
    page = logged_in(chromium, url, "ann", PASSWORD, PHONE)
    page.goto("/projects/tables/annotate")
    table = page.locator(".candidate-body.prose table")
    expect(table).to_be_visible()
    cells = table.locator("th, td")
    assert cells.count() == 15, "five columns, a header and two rows"
    words = [word for cell in cells.all() for word in cell.evaluate(WORD_LINES)]
    assert {"Model", "Score", "Latency", "Multilingual", "Recommended"} <= {w for w, _ in words}
    broken = [(word, lines) for word, lines in words if lines != 1]
    assert not broken, broken  # not "Multilingu" / "al"
    assert table.evaluate("el => el.scrollWidth > el.clientWidth"), "the table scrolls instead"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    page.context.close()


RING = (
    "() => { const el = document.activeElement;"
    " if (!el || el === document.body) return null;"
    " if ((window.ringSeen ||= new Set()).has(el)) return {seen: true};"
    " window.ringSeen.add(el);"
    " const rgba = c => { const v = c.match(/[\\d.]+/g).map(Number);"
    "  return v.length < 4 ? [...v, 1] : v; };"
    " const lum = v => { const [r, g, b] = v.slice(0, 3).map(x => { x /= 255;"
    "  return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; });"
    "  return 0.2126 * r + 0.7152 * g + 0.0722 * b; };"
    " const behind = start => { const layers = [];"
    "  for (let e = start; e; e = e.parentElement) {"
    "   const c = rgba(getComputedStyle(e).backgroundColor);"
    "   if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; } }"
    "  let out = [255, 255, 255];"
    "  for (const c of layers.reverse()) out = out.map((v, i) => c[i] * c[3] + v * (1 - c[3]));"
    "  return out; };"
    " const rings = [];"
    " for (let e = el; e && e !== document.body; e = e.parentElement) {"
    "  const s = getComputedStyle(e);"
    "  if (s.outlineStyle === 'none' || !parseFloat(s.outlineWidth)) continue;"
    "  const ring = rgba(s.outlineColor), ground = behind(e.parentElement);"
    "  const a = lum(ring), b = lum(ground);"
    "  rings.push({on: e.tagName.toLowerCase(), style: s.outlineStyle,"
    "   width: parseFloat(s.outlineWidth), alpha: ring[3], colour: s.outlineColor,"
    "   behind: 'rgb(' + ground.map(Math.round).join(', ') + ')',"
    "   ratio: Math.round((Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05) * 100) / 100}); }"
    " const kind = el.type === 'radio' ? 'radio' : el.tagName === 'A' ? 'link'"
    "  : el.tagName === 'BUTTON' ? 'button' : el.tagName.toLowerCase();"
    " return {kind, name: (el.innerText || el.value || '').trim().slice(0, 30),"
    "  visible: el.matches(':focus-visible'), rings}; }"
)
"""The focused element (null on the page itself, {seen: true} once Tab comes back round) and
each focus ring drawn for it: its own, and an ancestor's :focus-within one (a chip's). A ring's
style, width, colour and contrast with the background it is drawn on: the first opaque one up
from the ringed element's parent, with translucent ones on the way laid over it."""


def focus_stops(page: Any, limit: int = 80) -> list[dict[str, Any]]:
    """Every stop of Tab through the page, once round."""
    stops: list[dict[str, Any]] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        stop = page.evaluate(RING)
        if stop is not None and stop.get("seen"):
            return stops
        if stop is not None:
            stops.append(stop)
    raise AssertionError(f"Tab did not come back round in {limit} presses: {stops}")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(("path", "kinds"), [
    ("/projects/demo/annotate", {"link", "button", "radio"}), ("/login", {"link", "button"}),
], ids=["labelling", "login"])  # fmt: skip
def test_the_focus_ring_is_drawn_at_3_to_1_or_more_on_what_is_behind_it(
    chromium: Any, site: Any, scheme: str, path: str, kinds: set[str]
) -> None:
    url, _ = site
    if path == "/login":
        page = chromium.new_context(base_url=url, viewport=DESKTOP).new_page()
    else:
        page = logged_in(chromium, url, "ann", PASSWORD, DESKTOP)
    page.emulate_media(color_scheme=scheme)
    page.goto(path)
    assert page.evaluate(f"() => matchMedia('(prefers-color-scheme: {scheme})').matches")
    stops = focus_stops(page)
    assert kinds <= {stop["kind"] for stop in stops}, stops
    for stop in stops:
        assert stop["visible"], stop  # the keyboard's focus: :focus-visible
        assert stop["rings"], stop
        for ring in stop["rings"]:
            assert ring["style"] != "none" and ring["width"] >= 2 and ring["alpha"] == 1, stop
            assert ring["ratio"] >= 3.0, stop
    radios = [stop for stop in stops if stop["kind"] == "radio"]
    assert all({ring["on"] for ring in stop["rings"]} == {"input", "label"} for stop in radios), (
        "a radio's own ring and its chip's"
    )
    page.context.close()


COVERED = (
    "() => { const el = document.activeElement, r = el.getBoundingClientRect();"
    " const hit = document.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2);"
    " return hit && !el.contains(hit) ? [el.outerHTML.slice(0, 60), hit.outerHTML.slice(0, 60)]"
    "  : null; }"
)
"""What covers the middle of the focused element (null when nothing does)."""


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_what_tab_focuses_on_the_labelling_page_is_not_under_the_verdict_bar(
    chromium: Any, site: Any, viewport: Any
) -> None:
    url, _ = site
    page = logged_in(chromium, url, "ann", PASSWORD, viewport)
    page.goto("/projects/demo/annotate")
    covered, stops = [], 0
    on_the_page = "() => document.activeElement === document.body"
    while stops < 80 and not (stops and page.evaluate(on_the_page)):
        page.keyboard.press("Tab")
        stops += 1
        covered += [c for c in [page.evaluate(COVERED)] if c]
    page.context.close()
    assert 10 <= stops < 80, "Tab goes through the page and back round"
    assert not covered, covered  # e.g. the "No mark" radio under "Left better" on a desktop
