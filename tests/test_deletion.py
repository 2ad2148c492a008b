"""Deleting a project or a batch: labels written to the archive first, a typed confirmation,
and nothing else touched."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import Database
from app.models import Batch, Comparison, Judgement, Project, Protocol, User
from app.settings import Settings
from app.web.main import create_app
from tests.clients import bearer, label_all, soup
from tests.factories import import_rows, make_annotator, make_project, native_rows
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


def test_a_wrong_batch_name_deletes_nothing(
    client: TestClient, session: Session, project: Project, archive: Path
) -> None:
    admin_client(client, session)
    second = session.scalar(select(Batch.id).where(Batch.name == "second"))
    session.commit()
    refused = client.post(f"/admin/projects/doomed/batches/{second}/delete",
                          data={"confirm": "Second"})  # fmt: skip
    assert refused.status_code == 422
    assert "Type the name exactly (second) to delete it." in refused.text
    assert count(session, Batch) == 2 and count(session, Judgement) == 5
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


def labels_file(archive: Path) -> list[dict[str, Any]]:
    (path,) = archive.glob("*.labels.jsonl")
    assert not list(archive.glob("*.part")), "no half-written file left"
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def delete_by_name(client: TestClient, slug: str, name: str) -> Any:
    return client.post(f"/admin/projects/{slug}/delete", data={"confirm": name})


def test_the_labels_file_keeps_marks_scores_and_texts_the_judgements_export_leaves_out(
    client: TestClient, session: Session, archive: Path
) -> None:
    rubric = [{"name": "helpfulness", "min": 0, "max": 4}]
    make_project(session, name="Rated", protocol=Protocol.RATING, rubric=rubric)
    import_rows(session, session.scalars(select(Project)).one(), native_rows(1))
    auth = bearer(session, make_annotator(session, username="ann"))
    admin_client(client, session)

    def body(work: Any) -> dict[str, Any]:
        good = work["candidates"][0]["content"] == "Answer 0 to p0"
        return {"rating": good, "scores": {"helpfulness": 4 if good else 1}}

    assert label_all(client, auth, "rated", body) == 2
    assert delete_by_name(client, "rated", "Rated").status_code == 200
    assert count(session, Project) == 0
    (line,) = labels_file(archive)
    assert line["prompt"]["messages"] == [{"role": "user", "content": "Question p0?"}]
    texts = {c["id"]: c["content"] for c in line["candidates"]}
    assert sorted(texts.values()) == ["Answer 0 to p0", "Answer 1 to p0"]
    marks = {texts[r["candidate_id"]]: r["good"] for r in line["ratings"]}
    assert marks == {"Answer 0 to p0": True, "Answer 1 to p0": False}
    scores = {texts[s["candidate_id"]]: s["value"] for j in line["judgements"]
              for s in j["scores"]}  # fmt: skip
    assert scores == {"Answer 0 to p0": 4, "Answer 1 to p0": 1}
    assert {j["kind"] for j in line["judgements"]} == {"single"}
    assert {r["annotator"] for r in line["ratings"]} == {j["annotator"] for j in line["judgements"]}


def test_a_ranking_is_kept_in_the_labels_file(
    client: TestClient, session: Session, archive: Path
) -> None:
    make_project(session, name="Ranked", protocol=Protocol.RANKING)
    import_rows(session, session.scalars(select(Project)).one(), native_rows(1, candidates=3))
    auth = bearer(session, make_annotator(session, username="ann"))
    admin_client(client, session)
    best_first: list[int] = []

    def body(work: Any) -> dict[str, Any]:
        best_first.extend(c["candidate_id"] for c in reversed(work["candidates"]))
        return {"ranking": best_first}

    assert label_all(client, auth, "ranked", body) == 1
    assert delete_by_name(client, "ranked", "Ranked").status_code == 200
    (line,) = labels_file(archive)
    (judgement,) = line["judgements"]
    assert judgement["kind"] == "ranking" and judgement["ranking"] == best_first
    assert {c["id"] for c in line["candidates"]} == set(best_first)


def test_an_archive_that_cannot_be_written_deletes_nothing_and_says_why(
    settings: Settings, session: Session, project: Project, tmp_path: Path
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    app = create_app(settings.model_copy(update={"archive_dir": blocked / "archive"}))
    with TestClient(app) as client:
        admin_client(client, session)
        refused = delete_by_name(client, "doomed", "Doomed")
    app.state.db.dispose()
    assert refused.status_code == 503
    said = soup(refused.text).select_one("[role=alert]").get_text(" ", strip=True)  # type: ignore[union-attr]
    assert said.startswith("The labels could not be written to the archive folder (")
    assert said.endswith("so nothing was deleted.")
    assert count(session, Project) == 1 and count(session, Judgement) == 5


def test_a_label_given_while_the_archive_is_written_stops_the_delete(
    client: TestClient, session: Session, project: Project, archive: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from app import deletion

    write_labels = deletion.write_labels
    late = make_annotator(session, username="late")
    admin_client(client, session)

    def and_a_late_verdict(db: Database, *args: Any) -> Any:
        written = write_labels(db, *args)
        with db.scope() as s:
            first = s.scalars(select(Comparison).order_by(Comparison.id)).first()
            make_judgement(s, first, s.get_one(User, late.id), "b")  # type: ignore[arg-type]
        return written

    monkeypatch.setattr(deletion, "write_labels", and_a_late_verdict)
    refused = delete_by_name(client, "doomed", "Doomed")
    assert refused.status_code == 409
    assert "Labels were given while the archive was being written" in refused.text
    assert count(session, Project) == 1 and count(session, Judgement) == 6
    monkeypatch.setattr(deletion, "write_labels", write_labels)
    assert delete_by_name(client, "doomed", "Doomed").status_code == 200
    newest = max(archive.glob("*.labels.jsonl"))
    archived = [j for line in newest.read_bytes().splitlines()
                for j in orjson.loads(line)["judgements"]]  # fmt: skip
    assert len(archived) == 6 and count(session, Judgement) == 0
