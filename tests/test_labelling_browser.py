"""The labelling page in Chromium, from the keyboard only: the `?` list of keys, strength and
marks by key, undo of a skip, undo that gives back what was entered; guidelines remembered per
project; long answers shown whole; tables that keep words whole; no key badges without a
script."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.db import Database
from app.models import Judgement, RationaleMode
from app.settings import Settings
from tests.browsing import BROWSER_MARKS, chromium
from tests.conftest import TEST_SECRET
from tests.factories import PASSWORD, import_rows, make_annotator, make_project, native_rows
from tests.live import live_server

pytestmark = BROWSER_MARKS
expect = pytest.importorskip("playwright.sync_api").expect
__all__ = ["chromium"]

TABLE = "| Model | Score | Latency |\n|---|---|---|\n| " + " | ".join(["Model"] * 3) + " |\n"
LONG = "\n\n".join(f"Paragraph {i} of a long answer." for i in range(120))


@pytest.fixture
def db(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "browser.db"
    shutil.copy(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    with database.scope() as session:
        project = make_project(session, name="Pairs", guidelines="Prefer **correct** answers.",
                               rationale=RationaleMode.OPTIONAL, rate_singletons=True)  # fmt: skip
        rows = native_rows(3)
        rows[0]["candidates"] = [TABLE, LONG]
        import_rows(session, project, rows)
        make_project(session, name="Other", guidelines="Other rules.")
        make_annotator(session, username="ann")
    yield database
    database.dispose()


@pytest.fixture
def base_url(db: Database, tmp_path: Path) -> Iterator[str]:
    settings = Settings(database_url=db.url, secret_key=TEST_SECRET,
                        secret_key_file=tmp_path / "secret")  # fmt: skip
    with live_server(settings) as url:
        yield url


def new_page(chromium: Any, base_url: str, **options: Any) -> Any:
    context = chromium.new_context(base_url=base_url, viewport={"width": 1280, "height": 800},
                                   **options)  # fmt: skip
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Username").fill("ann")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page.get_by_role("heading", name="My projects")).to_be_visible()
    return page


@pytest.fixture
def page(chromium: Any, base_url: str) -> Iterator[Any]:
    page = new_page(chromium, base_url)
    page.goto("/projects/pairs/annotate")
    yield page
    page.context.close()


def judged(page: Any, n: int) -> None:
    expect(page.locator("#work")).to_have_attribute("data-judged", str(n))


def test_keyboard_only_labelling_with_the_keys_list_undo_of_a_skip_and_restored_inputs(
    page: Any, db: Database
) -> None:
    work = page.locator("#work")
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard keys")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Skip this pair")
    page.keyboard.press("1")  # ignored while the list is open
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    judged(page, 0)

    first = work.get_attribute("data-assignment")
    page.keyboard.press("x")  # much better
    expect(page.locator("input[name=strength][value='2']")).to_be_checked()
    expect(page.get_by_role("button", name="Tie")).to_be_disabled()
    page.keyboard.press("g")  # left good
    page.keyboard.press("n")  # right bad
    page.keyboard.press("n")  # again: no mark
    page.keyboard.press("n")
    page.keyboard.press("Tab")
    page.get_by_label("Why?").focus()
    page.keyboard.type("left is right")
    page.keyboard.press("Escape")
    page.keyboard.press("1")
    judged(page, 1)
    second = work.get_attribute("data-assignment")
    assert second != first

    page.keyboard.press("s")
    expect(page.locator(".flash")).to_have_text("Skipped.")
    assert work.get_attribute("data-assignment") not in (first, second)
    page.keyboard.press("u")
    expect(page.locator(".flash")).to_contain_text("Skip undone")
    expect(work).to_have_attribute("data-assignment", str(second))
    judged(page, 1)

    page.keyboard.press("u")
    judged(page, 0)
    expect(work).to_have_attribute("data-assignment", str(first))
    expect(page.get_by_label("Why?")).to_have_value("left is right")
    expect(page.locator("input[name=strength][value='2']")).to_be_checked()
    expect(page.locator("input[name=rate_left][value=good]")).to_be_checked()
    expect(page.locator("input[name=rate_right][value=bad]")).to_be_checked()
    expect(page.get_by_role("button", name="Tie")).to_be_disabled()
    page.keyboard.press("x")  # again: not said, so a tie is possible
    expect(page.get_by_role("button", name="Tie")).to_be_enabled()
    page.keyboard.press("3")
    judged(page, 1)
    with db.scope() as session:
        judgement = session.scalars(select(Judgement)).one()
        assert (judgement.verdict.value, judgement.strength) == ("tie", None)
        assert judgement.rationale == "left is right"


def test_the_guidelines_are_open_on_a_first_visit_and_remembered_per_project(page: Any) -> None:
    panel = page.locator("#guidelines")
    expect(panel).to_have_attribute("open", "")
    box = panel.bounding_box()
    assert box is not None and box["y"] < 200, "reachable from the top of the page"
    panel.locator("summary").click()
    expect(panel).not_to_have_attribute("open", "")
    page.reload()
    expect(page.locator("#guidelines")).not_to_have_attribute("open", "")
    page.goto("/projects/other/annotate")
    expect(page.locator("#guidelines")).to_have_attribute("open", "")


def test_tables_keep_words_whole_and_a_long_answer_can_be_shown_whole(page: Any) -> None:
    if "Score" not in page.locator(".candidates").inner_text():
        page.keyboard.press("s")  # the pair with the table is the first imported
    cell = page.locator(".candidate-body th", has_text="Latency")
    lines = cell.evaluate(
        "th => { const r = document.createRange(); r.selectNodeContents(th);"
        " return r.getClientRects().length; }"
    )
    assert lines == 1, "the word is not broken across lines"
    long_side = page.locator(".candidate-body", has_text="Paragraph 119")
    side = str(long_side.get_attribute("id")).removesuffix("-body")
    button = page.locator(f"[data-expand={side}-body]")
    expect(button).to_be_visible()
    before = long_side.bounding_box()["height"]
    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    assert long_side.bounding_box()["height"] > before * 2


def test_without_a_script_no_key_badges_show(chromium: Any, base_url: str) -> None:
    page = new_page(chromium, base_url, java_script_enabled=False)
    page.goto("/projects/pairs/annotate")
    expect(page.get_by_role("button", name="Left better")).to_be_visible()
    assert page.locator("kbd.key:visible").count() == 0
    expect(page.get_by_role("button", name="Keys")).to_be_hidden()
    page.context.close()
