"""In Chromium (Debian's, driven by Playwright): log in, judge by keyboard, undo, skip, see the
next pair swapped in without a page load, and see markup in a candidate shown as text.

Each test serves the app with uvicorn on 127.0.0.1 against its own SQLite file. Waits are on
conditions (Playwright's expect), never on time.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from app.db import Database
from app.models import Judgement, Project, RationaleMode, Verdict
from app.settings import Settings
from tests.browsing import BROWSER_MARKS, chromium
from tests.conftest import TEST_SECRET
from tests.factories import PASSWORD, import_rows, make_annotator, make_project, native_rows
from tests.live import live_server

pytestmark = BROWSER_MARKS
playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect
Page = Any
__all__ = ["chromium"]


@pytest.fixture
def db(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    """The browser tests run on an SQLite file of their own."""
    path = tmp_path / "browser.db"
    shutil.copy(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()


@pytest.fixture
def seed(db: Database) -> Callable[..., Project]:
    """Create a project (with ``rows``) and the annotator ``ann``, committed."""

    def make(rows: list[Any], **options: Any) -> Project:
        with db.scope() as session:
            project = make_project(session, name="Pairs", **options)
            import_rows(session, project, rows)
            make_annotator(session, username="ann")
        return project

    return make


@pytest.fixture
def base_url(db: Database, tmp_path: Path) -> Iterator[str]:
    settings = Settings(database_url=db.url, secret_key=TEST_SECRET,
                        secret_key_file=tmp_path / "secret")  # fmt: skip
    with live_server(settings) as url:
        yield url


@pytest.fixture
def page(chromium: Any, base_url: str) -> Iterator[Page]:
    context = chromium.new_context(base_url=base_url)
    page = context.new_page()
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    yield page
    context.close()


def log_in(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill("ann")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="My projects")).to_be_visible()


def open_pairs(page: Page) -> None:
    log_in(page)
    page.get_by_role("link", name="Start Pairs").click()
    expect(page.locator("#work")).to_have_attribute("data-judged", "0")
    page.evaluate("window.stillTheSamePage = true")


def press_and_wait(page: Page, key: str, judged: int) -> None:
    page.keyboard.press(key)
    expect(page.locator("#work")).to_have_attribute("data-judged", str(judged))


def assignment(page: Page) -> str:
    return str(page.locator("#work").get_attribute("data-assignment"))


def judgements(db: Database) -> int:
    with db.scope() as session:
        return session.scalar(select(func.count()).select_from(Judgement)) or 0


def test_judge_undo_and_skip_by_keyboard_with_pairs_swapped_in(
    page: Page, seed: Callable[..., Project], db: Database
) -> None:
    seed(native_rows(3))
    open_pairs(page)
    first = assignment(page)
    press_and_wait(page, "1", 1)
    second = assignment(page)
    assert second != first
    expect(page.locator(".flash")).to_have_text("Saved.")
    press_and_wait(page, "u", 0)
    assert assignment(page) == first, "undo shows the same pair again"
    press_and_wait(page, "2", 1)
    assert assignment(page) == second
    page.keyboard.press("s")
    expect(page.locator(".flash")).to_have_text("Skipped.")
    assert assignment(page) not in (first, second)
    press_and_wait(page, "4", 2)
    expect(page.get_by_role("heading", name="Nothing left for you here")).to_be_visible()
    assert page.evaluate("window.stillTheSamePage") is True, "htmx swapped; no page load"
    assert judgements(db) == 2


def test_keys_are_ignored_while_typing_a_rationale(
    page: Page, seed: Callable[..., Project], db: Database
) -> None:
    seed(native_rows(2), rationale=RationaleMode.OPTIONAL)
    open_pairs(page)
    box = page.get_by_label("Why?")
    box.click()
    page.keyboard.type("1 is clearer; u s")
    expect(box).to_have_value("1 is clearer; u s")
    assert judgements(db) == 0
    page.keyboard.press("Escape")
    press_and_wait(page, "1", 1)
    with db.scope() as session:
        assert session.scalar(select(Judgement.rationale)) == "1 is clearer; u s"


def test_a_script_in_a_candidate_is_shown_as_text_and_not_run(
    page: Page, seed: Callable[..., Project]
) -> None:
    seed([{"prompt": "Show me a script tag.", "candidates": [
        "<script>window.pwned = true</script> Here it is.",
        '<img src=x onerror="window.pwned = true"> An image.']}])  # fmt: skip
    open_pairs(page)
    bodies = page.locator(".candidate-body")
    expect(bodies.filter(has_text="<script>window.pwned = true</script>")).to_have_count(1)
    expect(bodies.filter(has_text='<img src=x onerror="window.pwned = true">')).to_have_count(1)
    assert page.evaluate("window.pwned") is None
    assert page.locator(".candidates script, .candidates img").count() == 0


def test_every_action_works_without_javascript(
    chromium: Any, base_url: str, seed: Callable[..., Project], db: Database
) -> None:
    seed(native_rows(3))
    context = chromium.new_context(base_url=base_url, java_script_enabled=False)
    page = context.new_page()
    log_in(page)
    page.goto("/projects/pairs/annotate")
    first = assignment(page)
    page.get_by_role("button", name="Left better").click()
    expect(page.locator(".flash")).to_have_text("Saved.")
    page.get_by_role("button", name="Undo last verdict").click()
    expect(page.locator("#work")).to_have_attribute("data-assignment", first)
    page.get_by_role("button", name="Skip this pair").click()
    expect(page.locator(".flash")).to_have_text("Skipped.")
    page.get_by_role("button", name="Tie").click()
    expect(page.locator("#work")).to_have_attribute("data-judged", "1")
    context.close()
    assert judgements(db) == 1


@pytest.mark.slow
def test_a_thousand_comparisons_labelled_end_to_end_by_keyboard(
    page: Page, seed: Callable[..., Project], db: Database
) -> None:
    seed(native_rows(1000))
    open_pairs(page)
    for n in range(1, 1001):
        press_and_wait(page, "1234"[n % 4], n)
    expect(page.get_by_role("heading", name="Nothing left for you here")).to_be_visible()
    assert page.evaluate("window.stillTheSamePage") is True
    assert judgements(db) == 1000
    with db.scope() as session:
        stmt = select(Judgement.verdict, func.count()).group_by(Judgement.verdict)
        by_verdict = {verdict: n for verdict, n in session.execute(stmt)}
    assert by_verdict[Verdict.TIE] == by_verdict[Verdict.BOTH_BAD] == 250
    assert by_verdict[Verdict.A] + by_verdict[Verdict.B] == 500, "keys 1 and 2, sides at random"
