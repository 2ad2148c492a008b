"""The labelling page in Chromium, from the keyboard only: the `?` list of keys, strength and
marks by key, the rationale reached by Tab, undo of a skip, undo that gives back what was
entered; a strength turning tie and both bad off; a verdict pressed after logging out in another
tab, saved after logging in; a deactivated account; guidelines remembered per project; long
answers shown whole; tables that keep words whole; no key badges without a script."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.db import Database
from app.models import Assignment, Comparison, Judgement, RationaleMode, User, Verdict
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
    log_in(page)
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


MAX_TABS = 40


def tab_to(page: Any, element_id: str) -> int:
    """Press Tab until the element with ``element_id`` has the focus (at most ``MAX_TABS``
    presses); the number of presses it took."""
    for presses in range(1, MAX_TABS + 1):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement && document.activeElement.id") == element_id:
            return presses
    raise AssertionError(f"#{element_id} not reached with {MAX_TABS} presses of Tab")


def log_in(page: Any) -> None:
    page.get_by_label("Username").fill("ann")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")


ON_LOGIN = re.compile(r"/login\?next=(/|%2F)projects(/|%2F)pairs(/|%2F)annotate$")


def test_keyboard_only_labelling_with_the_keys_list_undo_of_a_skip_and_restored_inputs(
    page: Any, db: Database
) -> None:
    work = page.locator("#work")
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard keys")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Skip this one")
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
    presses = tab_to(page, "rationale")
    assert presses > 1, "the box is reached past the other controls, by Tab alone"
    expect(page.get_by_label("Why?")).to_be_focused()
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


def test_a_strength_turns_both_tie_and_both_bad_off_until_it_is_cleared(page: Any) -> None:
    tie = page.get_by_role("button", name="Tie")
    both_bad = page.get_by_role("button", name="Both bad")
    expect(tie).to_be_enabled()
    expect(both_bad).to_be_enabled()
    page.keyboard.press("z")  # slightly better
    expect(page.locator("input[name=strength][value='1']")).to_be_checked()
    expect(tie).to_be_disabled()
    expect(both_bad).to_be_disabled()
    page.keyboard.press("z")  # again: not said
    expect(page.locator("input[name=strength][value='']")).to_be_checked()
    expect(tie).to_be_enabled()
    expect(both_bad).to_be_enabled()
    page.keyboard.press("x")
    expect(tie).to_be_disabled()
    expect(both_bad).to_be_disabled()
    page.get_by_label("Not said").check()
    expect(tie).to_be_enabled()
    expect(both_bad).to_be_enabled()
    page.keyboard.press("4")
    judged(page, 1)


def test_a_verdict_pressed_after_logging_out_in_another_tab_is_saved_after_logging_in(
    page: Any, db: Database
) -> None:
    first = int(page.locator("#work").get_attribute("data-assignment"))
    page.keyboard.press("x")
    page.get_by_label("Why?").fill("clearer")
    page.keyboard.press("Escape")
    other = page.context.new_page()
    other.goto("/")
    other.get_by_role("button", name="Log out").click()
    expect(other.get_by_role("heading", name="Log in")).to_be_visible()
    other.close()

    page.keyboard.press("1")
    expect(page).to_have_url(ON_LOGIN)
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    log_in(page)
    expect(page).to_have_url(re.compile(r"/projects/pairs/annotate$"))
    expect(page.get_by_role("heading", name="Pairs")).to_be_visible()
    expect(page.locator(".flash")).to_have_text("Saved: the verdict you sent while logged out.")
    expect(page.locator(".progress-text")).to_contain_text("You: 1 judged")
    judged(page, 1)
    expect(page.locator("#work")).not_to_have_attribute("data-assignment", str(first))
    with db.scope() as session:
        judgement = session.scalars(select(Judgement)).one()
        shown = session.get_one(Assignment, first)
        comparison = session.get_one(Comparison, shown.comparison_id)
        left = Verdict.A if shown.left_candidate_id == comparison.candidate_a_id else Verdict.B
        assert (judgement.comparison_id, judgement.verdict) == (comparison.id, left), "left better"
        assert (judgement.strength, judgement.rationale) == (2, "clearer")


def test_a_deactivated_annotator_is_sent_to_log_in_told_the_account_is_inactive_and_nothing_is_kept(
    page: Any, db: Database
) -> None:
    expect(page.get_by_role("button", name="Left better")).to_be_visible()
    with db.scope() as session:
        session.scalars(select(User).where(User.username == "ann")).one().is_active = False
    page.keyboard.press("1")
    expect(page).to_have_url(ON_LOGIN)
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    log_in(page)
    expect(page.get_by_role("alert")).to_have_text(
        "This account is inactive. Ask an admin to reactivate it."
    )
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    with db.scope() as session:
        assert session.scalars(select(Judgement)).all() == []


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
