"""In Chromium: an admin filters the item browser to the disputed pair, reads its votes and
adjudicates it; an annotator flags a pair with the f key. Screenshots of both pages, desktop
and phone, light and dark, go to /tmp/shots/quality/ to be looked at.

Waits are on what the page shows (Playwright's expect), never on time.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.db import Database
from app.models import Adjudication, ItemFlag, Verdict
from app.settings import Settings
from tests.browsing import BROWSER_MARKS, chromium
from tests.conftest import TEST_SECRET
from tests.factories import PASSWORD, make_admin, make_annotator
from tests.factories_review import make_review_project
from tests.live import live_server

SHOTS = Path("/tmp/shots/quality")
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}

pytestmark = BROWSER_MARKS
playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect
__all__ = ["chromium"]


@pytest.fixture
def db(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "browser.db"
    shutil.copy(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    with database.scope() as session:
        make_review_project(session)
        make_admin(session, username="admin")
        make_annotator(session, username="ann")
    yield database
    database.dispose()


@pytest.fixture
def base_url(db: Database, tmp_path: Path) -> Iterator[str]:
    settings = Settings(database_url=db.url, secret_key=TEST_SECRET,
                        secret_key_file=tmp_path / "secret")  # fmt: skip
    with live_server(settings) as url:
        yield url


def new_page(chromium: Any, base_url: str, size: str = "desktop", scheme: str = "light") -> Any:
    width, height = SIZES[size]
    context = chromium.new_context(base_url=base_url, viewport={"width": width, "height": height},
                                   color_scheme=scheme)  # fmt: skip
    page = context.new_page()
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    return page


def log_in(page: Any, username: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log in")).to_have_count(0)


def shoot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_an_admin_filters_reads_the_votes_and_adjudicates(
    chromium: Any, base_url: str, db: Database
) -> None:
    page = new_page(chromium, base_url)
    log_in(page, "admin")
    page.goto("/admin/projects/review/items")
    expect(page.locator("table.items tbody tr")).to_have_count(4)
    page.get_by_label("Disputed").check()
    page.get_by_role("button", name="Show").click()
    expect(page.locator("table.items tbody tr")).to_have_count(1)
    page.locator("table.items tbody th a").click()
    expect(page.locator("table.votes tbody tr")).to_have_count(2)
    expect(page.locator("table.votes")).to_contain_text("A cites the source")
    page.get_by_label("B better", exact=True).check()
    page.get_by_label("Note (optional)").fill("B is right about the date")
    page.get_by_role("button", name="Adjudicate").click()
    expect(page.locator(".notice")).to_contain_text("Adjudicated: B better")
    page.context.close()
    with db.scope() as session:
        (found,) = session.scalars(select(Adjudication)).all()
        assert found.verdict is Verdict.B and found.note == "B is right about the date"


def test_an_annotator_flags_a_pair_with_the_f_key(
    chromium: Any, base_url: str, db: Database
) -> None:
    page = new_page(chromium, base_url)
    log_in(page, "ann")
    page.goto("/projects/review/annotate")
    comment = page.get_by_label("What is wrong? (optional)")
    expect(comment).to_be_hidden()
    page.keyboard.press("f")
    expect(comment).to_be_visible()
    comment.fill("The question is cut off")
    page.get_by_role("button", name="Send the flag").click()
    expect(page.locator("#work")).to_contain_text("Flagged")
    page.context.close()
    with db.scope() as session:
        (found,) = session.scalars(select(ItemFlag).where(ItemFlag.comment.is_not(None))
                                   .where(ItemFlag.comment.like("%cut off"))
                                   .order_by(ItemFlag.id.desc()).limit(1)).all()  # fmt: skip
        assert found.comment == "The question is cut off"


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", list(SIZES))
def test_screenshots_of_the_item_browser_and_the_flag_form(
    chromium: Any, base_url: str, size: str, scheme: str
) -> None:
    page = new_page(chromium, base_url, size, scheme)
    log_in(page, "admin")
    page.goto("/admin/projects/review/items")
    expect(page.locator("table.items")).to_be_visible()
    shoot(page, f"items-{size}-{scheme}")
    page.locator("table.items tbody th a").first.click()
    expect(page.locator("table.votes")).to_be_visible()
    shoot(page, f"item-{size}-{scheme}")
    page.goto("/admin/projects/review/dashboard")
    expect(page.get_by_role("heading", name="Can these labels be trusted?")).to_be_visible()
    shoot(page, f"dashboard-{size}-{scheme}")
    page.goto("/admin/projects/review/settings")
    expect(page.get_by_label("Gold rate")).to_be_visible()
    shoot(page, f"settings-{size}-{scheme}")
    page.context.close()
    page = new_page(chromium, base_url, size, scheme)
    log_in(page, "ann")
    page.goto("/projects/review/annotate")
    page.locator("details.flag-item summary").click()
    expect(page.get_by_label("What is wrong? (optional)")).to_be_visible()
    shoot(page, f"flag-{size}-{scheme}")
    page.context.close()
