"""Rendering cost: prompt and system text are capped at import like candidates; a text with
too much markup to parse cheaply is shown as plain text; each text is rendered once per
process (a cache); and the labelling page renders after its lease is committed, so a slow
render holds no lock (SQLite) and no transaction open."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import Database
from app.models import Assignment, Role
from app.web import rendering
from tests.clients import bearer, login
from tests.factories import import_rows, make_annotator, make_project, native_rows
from tests.factories_labels import make_labeller


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every text markdown-it parses, with an empty cache to start from."""
    seen: list[str] = []
    real = rendering._markdown.render
    monkeypatch.setattr(rendering, "_cache", rendering.HtmlCache(rendering.CACHE_CHARS))

    def counted(text: str, env: object = None) -> str:
        seen.append(text)
        return real(text)

    monkeypatch.setattr(rendering._markdown, "render", counted)
    yield seen


def test_a_text_is_parsed_once_then_served_from_the_cache(parses: list[str]) -> None:
    first = rendering.render_markdown("**bold** and a [link](https://example.org)")
    again = rendering.render_markdown("**bold** and a [link](https://example.org)")
    assert first == again and "<strong>bold</strong>" in first
    assert len(parses) == 1


def test_a_text_with_too_much_markup_is_shown_as_plain_text(parses: list[str]) -> None:
    html = rendering.render_markdown("![" * 750_000)
    assert parses == [], "markdown-it never sees it"
    assert "Shown as plain text" in html and "![![" in html


def test_code_in_fences_does_not_count_as_markup(parses: list[str]) -> None:
    text = "```json\n" + '[1, [2], {"a": [3]}]\n' * 5_000 + "```\n"
    html = rendering.render_markdown(text)
    assert len(parses) == 1 and "<pre>" in html


def test_the_cache_keeps_to_its_budget() -> None:
    cache = rendering.HtmlCache(budget=100)
    for i in range(50):
        cache.get(f"text number {i}")
    assert cache.used <= 100 and len(cache.entries) < 50


def upload(client: TestClient, headers: dict[str, str], row: dict[str, object]):  # type: ignore[no-untyped-def]
    files = {"file": ("b.jsonl", orjson.dumps(row) + b"\n", "application/jsonl")}
    return client.post("/api/v1/projects/long/batches", headers=headers, files=files)


@pytest.mark.parametrize("field", ["prompt", "system"])
def test_prompt_and_system_text_are_capped_like_candidates(
    client: TestClient, session: Session, field: str
) -> None:
    make_project(session, name="Long")
    headers = bearer(session, make_labeller(session, "root", Role.ADMIN))
    session.commit()
    row: dict[str, object] = {"prompt": "Q?", "candidates": ["a", "b"]}
    row[field] = "x" * 200_001
    response = upload(client, headers, row)
    assert response.status_code == 422, response.text[:300]
    assert "longer than 200,000 characters" in response.text
    row[field] = "x" * 200_000
    assert upload(client, headers, row).status_code == 201


def test_the_labelling_page_renders_after_its_lease_is_committed(
    client: TestClient, session: Session, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_rows(session, make_project(session, name="Render"), native_rows(1))
    ann = make_annotator(session, username="ann")
    session.commit()
    seen_while_rendering: list[int] = []
    real = rendering._render

    def watching(text: str) -> object:
        # Another connection, while the page renders: the lease is already there to see,
        # and (SQLite) a writer can start at once.
        with db.scope() as other:
            seen_while_rendering.append(
                other.scalar(select(func.count()).where(Assignment.user_id == ann.id)) or 0
            )
        return real(text)

    monkeypatch.setattr(rendering, "_cache", rendering.HtmlCache(rendering.CACHE_CHARS))
    monkeypatch.setattr(rendering, "_render", watching)
    assert login(client, "ann") == 303
    page = client.get("/projects/render/annotate")
    assert page.status_code == 200
    assert seen_while_rendering and set(seen_while_rendering) == {1}
