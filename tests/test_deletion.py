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
from app.models import (
    Adjudication,
    Batch,
    Comparison,
    ItemFlag,
    JudgeAnswer,
    Judgement,
    ModelPair,
    Project,
    Protocol,
    User,
    Verdict,
)
from app.settings import Settings
from app.web.main import create_app
from tests.clients import bearer, label_all, soup
from tests.conftest import PG_URL
from tests.factories import import_rows, make_annotator, make_project, native_rows
from tests.factories_admin import admin_client, project_with_comparisons
from tests.factories_labels import make_judgement
from tests.factories_models import model_rows
from tests.tally_checks import assert_tallies_exact


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
    assert {c["kind"] for c in line["comparisons"]} == {"single"}
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
    assert judgement["ranking"] == best_first
    assert [c["kind"] for c in line["comparisons"]] == ["ranking"]
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


def late_label(session: Session, kind: str) -> None:
    """A label given on the first comparison, as if while the archive was being written."""
    first = session.scalars(select(Comparison).order_by(Comparison.id)).first()
    assert first is not None
    late = session.scalars(select(User).where(User.username == "late")).one()
    if kind == "verdict":
        make_judgement(session, first, late, "b")
    elif kind == "flag":
        session.add(ItemFlag(comparison_id=first.id, user_id=late.id, comment="typo"))
    else:  # the newest verdict taken back and given otherwise: SQLite gives it the same id
        newest = session.scalars(select(Judgement).order_by(Judgement.id.desc())).first()
        assert newest is not None
        taken, comparison, who = newest.id, newest.comparison_id, newest.user_id
        session.delete(newest)
        session.flush()
        again = Judgement(comparison_id=comparison, user_id=who, verdict=Verdict.B)
        session.add(again)
        session.flush()
        if session.get_bind().dialect.name == "sqlite":
            assert again.id == taken, "the case this checks: an id given again"


@pytest.mark.parametrize("kind", ["verdict", "flag", "changed"])
def test_a_label_given_while_the_archive_is_written_stops_the_delete(
    client: TestClient, session: Session, project: Project, archive: Path,
    monkeypatch: pytest.MonkeyPatch, kind: str,
) -> None:  # fmt: skip
    from app import deletion

    write_archive = deletion.write_archive
    make_annotator(session, username="late")
    admin_client(client, session)

    def and_a_late_label(db: Database, *args: Any) -> Any:
        written = write_archive(db, *args)
        with db.scope() as s:
            late_label(s, kind)
        return written

    monkeypatch.setattr(deletion, "write_archive", and_a_late_label)
    refused = delete_by_name(client, "doomed", "Doomed")
    assert refused.status_code == 409
    assert "Labels were given while the archive was being written" in refused.text
    assert count(session, Project) == 1
    monkeypatch.setattr(deletion, "write_archive", write_archive)
    assert delete_by_name(client, "doomed", "Doomed").status_code == 200
    newest = max(archive.glob("*.labels.jsonl"))
    lines = [orjson.loads(line) for line in newest.read_bytes().splitlines()]
    kept = [x for line in lines for x in line["flags" if kind == "flag" else "judgements"]]
    assert len(kept) == {"verdict": 6, "flag": 1, "changed": 5}[kind]
    if kind == "changed":
        assert sorted(j["verdict"] for j in kept) == ["a"] * 4 + ["b"], "the answer given again"
    assert count(session, Judgement) == 0


def test_a_batch_archive_holds_the_pairs_a_later_import_added_to_older_prompts(
    client: TestClient, session: Session, archive: Path
) -> None:
    project, _ = project_with_comparisons(session, 2, name="Grown")
    grown = [{**row, "candidates": [*row["candidates"], f"Answer 2 to {row['id']}"]}
             for row in native_rows(2)]  # fmt: skip
    import_rows(session, project, grown, batch_name="more")
    more = session.scalars(select(Batch).where(Batch.name == "more")).one()
    added = list(session.scalars(select(Comparison).where(Comparison.batch_id == more.id)))
    assert len(added) == 4, "two new pairs on each old prompt"
    ann = make_annotator(session, username="ann")
    for comparison in added:
        make_judgement(session, comparison, ann, "a")
    session.commit()
    admin_client(client, session)
    done = client.post(f"/admin/projects/grown/batches/{more.id}/delete", data={"confirm": "more"})
    assert done.status_code == 200
    lines = labels_file(archive)
    assert {line["prompt"]["external_id"] for line in lines} == {"p0", "p1"}
    judged = {j["comparison_id"] for line in lines for j in line["judgements"]}
    assert judged == {c.id for c in added}
    batches = {c["id"]: c["batch"] for line in lines for c in line["comparisons"]}
    assert {batches[c.id] for c in added} == {"more"}
    assert count(session, Judgement) == 0 and count(session, Comparison) == 2


def test_deleting_a_batch_leaves_the_other_batches_tallies_and_model_pairs_exact(
    client: TestClient, session: Session
) -> None:
    project = make_project(session, name="Grown")
    import_rows(session, project, model_rows(3)[:2], batch_name="first")
    import_rows(session, project, model_rows(2, prefix="n"), batch_name="more")
    older = [{**row, "candidates": [*row["candidates"], {"content": f"late {row['id']}",
                                                        "model": "late"}]}
             for row in model_rows(3)[:2]]  # fmt: skip
    import_rows(session, project, older, batch_name="late")  # pairs of "late" on "first"'s prompts
    ann = make_annotator(session, username="ann")
    for comparison in session.scalars(select(Comparison).order_by(Comparison.id)):
        make_judgement(session, comparison, ann, "a")
    first = session.scalars(select(Batch).where(Batch.name == "first")).one()
    session.commit()
    admin_client(client, session)
    page = soup(client.get(f"/admin/projects/grown/batches/{first.id}/delete").text)
    figures = {dt.get_text(): dd.get_text() for dt, dd in zip(page.select("dt"), page.select("dd"),
                                                               strict=True)}  # fmt: skip
    # its 2 prompts' 3 pairs each, and "late"'s 3 more on each of them
    assert figures == {"Prompts": "2", "Comparisons": "12", "Judgements": "12"}
    done = client.post(f"/admin/projects/grown/batches/{first.id}/delete",
                       data={"confirm": "first"})  # fmt: skip
    assert done.status_code == 200
    session.expire_all()
    left = {b.name for b in session.scalars(select(Batch))}
    assert left == {"more", "late"}
    assert_tallies_exact(session)
    for pair in session.scalars(select(ModelPair)):
        judged = select(func.coalesce(func.sum(Comparison.judgement_count), 0)).where(
            Comparison.model_pair_id == pair.id, Comparison.gold.is_(None)
        )
        assert pair.judgements == session.scalar(judged), (pair.model_low, pair.model_high)
    session.commit()


def test_the_archive_keeps_gold_adjudications_flags_judge_answers_and_the_settings(
    client: TestClient, session: Session, archive: Path
) -> None:
    rubric = [{"name": "helpfulness", "min": 0, "max": 4}]
    _, pairs = project_with_comparisons(session, 2, name="Kept", rubric=rubric)
    ann, judge = make_annotator(session, username="ann"), make_annotator(session, username="j")
    pairs[1].gold = Verdict.B  # an unjudged gold pair
    session.add_all([
        Adjudication(comparison_id=pairs[0].id, verdict=Verdict.TIE, note="both fine"),
        ItemFlag(comparison_id=pairs[0].id, user_id=ann.id, comment="typo in A"),
        JudgeAnswer(comparison_id=pairs[0].id, user_id=judge.id, a_first=Verdict.A,
                    b_first=Verdict.B, consistent=False),
    ])  # fmt: skip
    session.commit()
    admin_client(client, session)
    assert delete_by_name(client, "kept", "Kept").status_code == 200
    lines = labels_file(archive)
    first, second = lines
    assert first["adjudications"][0]["verdict"] == "tie"
    assert first["adjudications"][0]["note"] == "both fine"
    assert first["flags"][0]["comment"] == "typo in A"
    answer = first["judge_answers"][0]
    assert (answer["a_first"], answer["b_first"], answer["consistent"]) == ("a", "b", False)
    assert second["comparisons"][0]["gold"] == "b" and second["judgements"] == []
    (settings_file,) = archive.glob("*.project.json")
    kept = orjson.loads(settings_file.read_bytes())
    assert kept["project"]["name"] == "Kept" and kept["project"]["rubric"] == rubric
    assert kept["project"]["protocol"] == "pairwise"
    assert [b["name"] for b in kept["batches"]] == ["first"]


@pytest.mark.skipif(not PG_URL, reason="row locks held by another connection: Postgres")
def test_labelling_under_way_on_the_rows_makes_the_delete_give_up_and_keep_everything(
    client: TestClient, session: Session, project: Project, database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from app import deletion

    if not database_url.startswith("postgresql"):
        pytest.skip("row locks held by another connection: Postgres")
    monkeypatch.setattr(deletion, "LOCK_TIMEOUT", "200ms")
    admin_client(client, session)
    first = session.scalars(select(Comparison.id).order_by(Comparison.id)).first()
    session.commit()
    other = Database(database_url)
    try:
        with other.scope() as busy:  # a verdict under way holds its comparison's row
            busy.execute(select(Comparison.id).where(Comparison.id == first).with_for_update())
            refused = delete_by_name(client, "doomed", "Doomed")
    finally:
        other.dispose()
    assert refused.status_code == 409
    assert "Labelling was under way on it, so nothing was deleted" in refused.text
    assert count(session, Project) == 1 and count(session, Judgement) == 5
