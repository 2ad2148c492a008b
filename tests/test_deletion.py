"""Deleting a project or a batch: labels written to the archive first, a typed confirmation,
and nothing else touched."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Batch, Comparison, Judgement, Project
from app.settings import Settings
from app.web.main import create_app
from tests.clients import soup
from tests.factories import import_rows, make_annotator, native_rows
from tests.factories_admin import admin_client, project_with_comparisons
from tests.factories_labels import make_judgement


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return tmp_path / "archive"


@pytest.fixture
def client(settings: Settings, archive: Path) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"archive_dir": archive}))
    with TestClient(app) as c:
        yield c
    app.state.db.dispose()


@pytest.fixture
def project(session: Session) -> Project:
    """Two batches, each comparison judged once."""
    project, _ = project_with_comparisons(session, 3, name="Doomed")
    import_rows(session, project, native_rows(2, prefix="q"), batch_name="second")
    ann = make_annotator(session, username="ann")
    for comparison in session.scalars(select(Comparison)):
        make_judgement(session, comparison, ann, "a")
    session.commit()
    return project


def count(session: Session, model: type) -> int:
    session.expire_all()
    n = session.scalar(select(func.count()).select_from(model)) or 0
    session.commit()
    return n


def archived_rows(archive: Path) -> list[dict[str, object]]:
    (path,) = archive.glob("*.judgements.jsonl")
    assert list(archive.glob("*.manifest.json")), "a manifest beside the file"
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_the_page_says_what_goes_and_asks_for_the_name(
    client: TestClient, session: Session, project: Project
) -> None:
    admin_client(client, session)
    page = soup(client.get("/admin/projects/doomed/delete").text)
    terms, values = page.select("dt"), page.select("dd")
    figures = {dt.get_text(): dd.get_text() for dt, dd in zip(terms, values, strict=True)}
    assert figures == {"Prompts": "5", "Comparisons": "5", "Judgements": "5"}
    assert page.select_one("label[for=confirm]").get_text(" ", strip=True) == (  # type: ignore[union-attr]
        "Type Doomed to confirm"
    )
    assert "format=judgements" in str(page.select_one("a[download]")["href"])  # type: ignore[index]


def test_a_wrong_name_deletes_nothing(
    client: TestClient, session: Session, project: Project, archive: Path
) -> None:
    admin_client(client, session)
    refused = client.post("/admin/projects/doomed/delete", data={"confirm": "doomed"})
    assert refused.status_code == 422
    assert "Type the name exactly (Doomed) to delete it." in refused.text
    assert count(session, Project) == 1 and count(session, Judgement) == 5
    assert not archive.exists()


def test_a_project_is_deleted_after_its_labels_are_archived(
    client: TestClient, session: Session, project: Project, archive: Path
) -> None:
    admin_client(client, session)
    done = client.post("/admin/projects/doomed/delete", data={"confirm": "Doomed"})
    assert done.status_code == 200 and done.url.path == "/admin"
    assert "Project Doomed deleted; its 5 judgements were written to" in done.text
    assert len(archived_rows(archive)) == 5
    assert (count(session, Project), count(session, Comparison), count(session, Judgement)) == (
        0, 0, 0)  # fmt: skip


def test_a_batch_is_deleted_alone_after_its_labels_are_archived(
    client: TestClient, session: Session, project: Project, archive: Path
) -> None:
    admin_client(client, session)
    second = session.scalar(select(Batch.id).where(Batch.name == "second"))
    session.commit()
    page = client.get(f"/admin/projects/doomed/batches/{second}/delete")
    assert "Type second to confirm" in soup(page.text).get_text(" ", strip=True)
    done = client.post(f"/admin/projects/doomed/batches/{second}/delete",
                       data={"confirm": "second"})  # fmt: skip
    assert done.url.path == "/admin/projects/doomed"
    assert "Batch second deleted; its 2 judgements were written to" in done.text
    assert len(archived_rows(archive)) == 2
    assert (count(session, Batch), count(session, Comparison), count(session, Judgement)) == (
        1, 3, 3)  # fmt: skip


def test_the_breadcrumb_names_the_project_by_its_name_not_its_slug(
    client: TestClient, session: Session, project: Project
) -> None:
    admin_client(client, session)
    second = session.scalar(select(Batch.id).where(Batch.name == "second"))
    session.commit()
    batch = f"/admin/projects/doomed/batches/{second}/delete"
    for path in ("/admin/projects/doomed/delete", batch):
        crumbs = soup(client.get(path).text).select(".crumbs a")
        assert [(a["href"], a.get_text(strip=True)) for a in crumbs] == [
            ("/admin", "Projects"), ("/admin/projects/doomed", "Doomed")]  # fmt: skip
    refused = client.post("/admin/projects/doomed/delete", data={"confirm": "doomed"})
    assert soup(refused.text).select(".crumbs a")[1].get_text(strip=True) == "Doomed"
