"""In Chromium, by keyboard alone: rank four responses by their numbers (Backspace, Enter),
rate one response on a rubric scale with arrows, and judge a pair with scores; drag and drop
orders a ranking too. Screenshots of both new screens go to /tmp/shots/protocols/.

Each test serves the app with uvicorn on 127.0.0.1 against its own SQLite file; waits are on
conditions (Playwright's expect), never on time.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.db import Database
from app.models import Candidate, Judgement, Project, Protocol, Rating, Score
from app.settings import Settings
from tests.browsing import BROWSER_MARKS, chromium
from tests.conftest import TEST_SECRET
from tests.factories import PASSWORD, import_rows, make_annotator, make_project, native_rows
from tests.live import live_server

__all__ = ["chromium"]  # the fixture, shared from tests/browsing.py

SHOTS = Path("/tmp/shots/protocols")
RUBRIC = [{"name": "helpfulness", "min": 0, "max": 4, "description": "Does it help?",
           "labels": {"0": "not at all", "4": "fully"}},
          {"name": "verbosity", "min": 1, "max": 5,
           "description": "Too short (1) to too long (5)."}]  # fmt: skip

pytestmark = BROWSER_MARKS

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect
Page = Any


@pytest.fixture
def db(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "browser.db"
    shutil.copy(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()


@pytest.fixture
def seed(db: Database) -> Callable[..., Project]:
    def make(name: str, rows: list[Any], **options: Any) -> Project:
        with db.scope() as session:
            project = make_project(session, name=name, **options)
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
    context = chromium.new_context(base_url=base_url, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    yield page
    context.close()


def open_project(page: Page, name: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill("ann")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name=f"Start {name}").click()
    expect(page.locator("#work")).to_have_attribute("data-judged", "0")


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for label, size in (("desktop", (1280, 800)), ("phone", (390, 844))):
            page.set_viewport_size({"width": size[0], "height": size[1]})
            page.screenshot(path=str(SHOTS / f"{name}-{label}-{scheme}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.emulate_media(color_scheme="light")


def shown_ids(page: Page) -> list[int]:
    cards = page.locator("#ranking-form [data-candidate]")
    return [int(str(cards.nth(i).get_attribute("data-candidate"))) for i in range(cards.count())]


def one(db: Database, stmt: Any) -> Any:
    with db.scope() as session:
        return session.scalars(stmt).one()


def tab_to(page: Page, name_prefix: str, limit: int = 80) -> None:
    """Press Tab until the focused control's name starts with ``name_prefix``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if str(page.evaluate("document.activeElement.name || ''")).startswith(name_prefix):
            return
    pytest.fail(f"Tab never reached a control named {name_prefix}…")


def test_rank_four_by_their_numbers_take_one_back_and_save_with_enter(
    page: Page, seed: Callable[..., Project], db: Database
) -> None:
    seed("Rank", native_rows(2, candidates=4), protocol=Protocol.RANKING)
    open_project(page, "Rank")
    shown = shown_ids(page)
    shoot(page, "ranking-empty")
    for key in ("3", "1", "4"):
        page.keyboard.press(key)
    expect(page.locator("#order-built")).to_have_text("Response 3 › Response 1 › Response 4")
    page.keyboard.press("Backspace")
    expect(page.locator("#order-built")).to_have_text("Response 3 › Response 1")
    for key in ("2", "4"):
        page.keyboard.press(key)
    expect(page.locator("#order-built")).to_have_text(
        "Response 3 › Response 1 › Response 2 › Response 4"
    )
    shoot(page, "ranking-built")
    page.keyboard.press("Enter")
    expect(page.locator("#work")).to_have_attribute("data-judged", "1")
    judgement = one(db, select(Judgement))
    assert judgement.ranking == [shown[2], shown[0], shown[1], shown[3]]
    assert judgement.shown == shown


def test_drag_and_drop_orders_a_ranking(
    page: Page, seed: Callable[..., Project], db: Database
) -> None:
    seed("Rank", native_rows(1, candidates=3), protocol=Protocol.RANKING)
    open_project(page, "Rank")
    shown = shown_ids(page)
    cards = page.locator("#ranking-form [data-candidate]")
    cards.nth(2).drag_to(cards.nth(0))
    expect(page.locator("#order-built")).to_have_text("Response 3 › Response 1 › Response 2")
    page.keyboard.press("Enter")
    expect(page.locator("#work")).to_have_attribute("data-judged", "1")
    assert one(db, select(Judgement)).ranking == [shown[2], shown[0], shown[1]]


def test_rate_one_response_on_its_rubric_by_keyboard(
    page: Page, seed: Callable[..., Project], db: Database
) -> None:
    long_answer = "A long answer.\n\n" + "\n\n".join(f"Paragraph {i}: " + "words " * 40
                                                  for i in range(8))  # fmt: skip
    rows = [{"prompt": "Explain 量子 and Größe?", "candidates": [long_answer]}]
    seed("Rate", rows, protocol=Protocol.RATING, rubric=RUBRIC)
    open_project(page, "Rate")
    shoot(page, "rating")
    tab_to(page, "score__")
    for _ in range(3):  # along the helpfulness scale: 1, 2, 3
        page.keyboard.press("ArrowRight")
    tab_to(page, "score__", limit=5)  # the next scale: verbosity
    page.keyboard.press("ArrowRight")  # 2
    page.keyboard.press("Escape")
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("g")
    expect(page.locator("#work")).to_have_attribute("data-judged", "1")
    assert one(db, select(Rating.good)) is True
    with db.scope() as session:
        scores = {s.aspect: s.value for s in session.scalars(select(Score))}
    assert scores == {"helpfulness": 3, "verbosity": 2}


def test_a_pair_with_a_rubric_and_a_three_step_strength_by_keyboard(
    page: Page, seed: Callable[..., Project], db: Database
) -> None:
    seed("Pairs", native_rows(1), rubric=RUBRIC[:1], max_strength=3)
    open_project(page, "Pairs")
    shoot(page, "pair-rubric")
    tab_to(page, "score__left__")
    page.keyboard.press("ArrowRight")
    tab_to(page, "score__right__")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("c")
    page.keyboard.press("1")
    expect(page.locator("#work")).to_have_attribute("data-judged", "1")
    judgement = one(db, select(Judgement))
    assert judgement.strength == 3
    with db.scope() as session:
        left = session.scalar(
            select(Candidate.id).where(Candidate.id == judgement.left_candidate_id)
        )
        scores = {s.candidate_id: s.value for s in session.scalars(select(Score))}
    assert scores[left] == 1 and sorted(scores.values()) == [1, 2]
