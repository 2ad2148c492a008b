"""The Models page in Chromium: a generation run started from the form, still there after a
reload, and its row brought up to date by htmx while it runs."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.db import Database
from app.jobs import JobRunner
from app.llm import runs
from app.settings import Settings
from app.web.main import create_app
from tests.conftest import TEST_SECRET
from tests.factories import PASSWORD, make_admin
from tests.factories_llm import fast_retries, prompt_only_project
from tests.fake_llm import Script, fake_llm
from tests.live import live_server

__all__ = ["fast_retries"]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's Chromium (/usr/bin/chromium) is not installed: apt-get install chromium",
    ),
]
playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect


@pytest.fixture
def db(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "browser.db"
    shutil.copy(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()


@pytest.fixture
def served(db: Database, tmp_path: Path) -> Iterator[str]:
    """The app with its job runner (the live server runs no lifespan), on a free port."""
    settings = Settings(database_url=db.url, secret_key=TEST_SECRET,
                        secret_key_file=tmp_path / "secret")  # fmt: skip
    app = create_app(settings)
    runner = JobRunner(app.state.db, runs.execute)
    app.state.job_runner = runner
    runner.start()
    try:
        with live_server(settings, app) as url:
            yield url
    finally:
        runner.close()


def test_a_run_started_from_the_page_survives_a_reload_and_is_watched_to_the_end(
    db: Database, served: str, fast_retries: None
) -> None:
    with db.scope() as session:
        project = prompt_only_project(session, 3, name="Browser gen")
        make_admin(session, username="root")
        slug = project.slug
    script = Script(block_after=2)
    with fake_llm(script) as (llm, _), playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page: Any = browser.new_page(base_url=served)
        page.goto("/login")
        page.get_by_label("Username").fill("root")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.goto(f"/admin/projects/{slug}/models")
        page.get_by_label("Models").fill(f"alpha={llm}")
        page.locator("form[action$='/generate']").get_by_label("prompts").check()
        page.get_by_label("Per prompt").fill("2")
        page.get_by_role("button", name="Start generation").click()
        row = page.locator("table.jobs tbody tr").first
        expect(row).to_contain_text("#1 generate")
        expect(page.get_by_role("button", name="Start generation")).to_be_disabled()
        page.reload()
        expect(row).to_contain_text("per prompt 2")
        expect(row.locator(".status")).to_have_text("running", timeout=30_000)
        script.block_after = None
        script.release.set()
        # no reload from here: the list polls itself until the job is done
        expect(row.locator(".status")).to_have_text("done", timeout=30_000)
        expect(row).to_contain_text("6 candidates, 3 comparisons")
        expect(page.get_by_role("button", name="Start generation")).to_be_enabled()
        browser.close()
