"""The leaderboard page in Chromium, on both databases: the table, the chart with its
intervals, the filters swapped in by htmx, and a phone-sized screen with nothing cut off.
Screenshots (desktop and phone, light and dark) go to /tmp/shots/leaderboard/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.accounts.auth import create_user
from app.models import Role
from app.settings import Settings
from tests.factories_models import simulated_project
from tests.live import live_server

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip
SHOTS = Path("/tmp/shots/leaderboard")
PASSWORD = "browser-test-password"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"
    ),
]
playwright = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def browser() -> Iterator[Any]:
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def _log_in(page: Any) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")


def test_an_admin_reads_the_leaderboard_on_a_desktop_and_a_phone(
    browser: Any, session: Session, settings: Settings, database_url: str
) -> None:
    project = simulated_project(session, prompts=40)
    create_user(session, "boss", Role.ADMIN, PASSWORD)
    session.commit()
    backend = "postgres" if database_url.startswith("postgresql") else "sqlite"
    SHOTS.mkdir(parents=True, exist_ok=True)
    with live_server(settings) as url:
        for scheme in ("light", "dark"):
            for name, size in (("desktop", (1280, 800)), ("phone", (390, 844))):
                viewport = {"width": size[0], "height": size[1]}
                context = browser.new_context(base_url=url, color_scheme=scheme, viewport=viewport)
                page = context.new_page()
                errors: list[str] = []
                page.on(
                    "console",
                    lambda m, seen=errors: seen.append(m.text) if m.type == "error" else None,
                )
                _log_in(page)
                page.goto(f"/admin/projects/{project.slug}/leaderboard")
                table = page.locator("table.ratings")
                playwright.expect(table.locator("tbody tr")).to_have_count(3)
                playwright.expect(table.locator("tbody th").first).to_have_text("alpha")
                chart = page.locator("svg.interval-chart")
                playwright.expect(chart).to_be_visible()
                box = chart.bounding_box()
                assert box is not None and box["width"] <= size[0]
                labels = chart.locator("text.bar-label")
                playwright.expect(labels).to_have_count(3)
                first = labels.first.bounding_box()
                assert first is not None and first["x"] >= 0  # labels are not cut off
                overflow = page.evaluate("document.documentElement.scrollWidth > innerWidth")
                assert not overflow, "the page scrolls sideways"
                page.screenshot(path=str(SHOTS / f"{backend}-{name}-{scheme}.png"), full_page=True)
                assert errors == []
                context.close()
        context = browser.new_context(base_url=url)
        page = context.new_page()
        _log_in(page)
        page.goto(f"/admin/projects/{project.slug}/leaderboard")
        page.get_by_label("Rate at equal length (length difference as a covariate)").check()
        page.get_by_role("button", name="Fit").click()
        playwright.expect(page.get_by_text("Length effect (style control)")).to_be_visible()
        playwright.expect(page.get_by_text("Bradley–Terry at equal length")).to_be_visible()
        context.close()
