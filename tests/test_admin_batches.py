"""A project's batches page: upload through the CLI's import, errors shown by line with
nothing written, counts and progress per batch, and pausing or archiving a batch."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.batches import queued_batch_ids, set_status
from app.db import Database
from app.models import Batch, BatchStatus, Comparison, Judgement, Prompt
from app.stats.progress import project_progress, queue_open
from tests.clients import soup
from tests.factories import jsonl, make_annotator, make_project, native_rows
from tests.factories_admin import HX, admin_client, judge, project_with_comparisons, reading

BAD = jsonl(
    [
        *native_rows(2),
        {"prompt": "x", "candidates": ["only one"]},
        {"prompt": "y", "candidates": []},
    ]
)


def upload(client: TestClient, slug: str, data: bytes, name: str = "", **kw: object):  # type: ignore[no-untyped-def]
    files = {"file": ("batch.jsonl", data, "application/jsonl")}
    return client.post(f"/admin/projects/{slug}/batches", files=files, data={"name": name}, **kw)


def prompts_in(db: Database) -> int:
    with reading(db) as s:
        return s.scalar(select(func.count()).select_from(Prompt)) or 0


def test_the_page_offers_a_labelled_multipart_upload_that_works_without_js(
    client: TestClient, session: Session
) -> None:
    project = make_project(session)
    admin_client(client, session)
    page = soup(client.get(f"/admin/projects/{project.slug}").text)
    form = page.find("form", attrs={"data-upload-form": True})
    assert form["method"] == "post"
    assert form["enctype"] == "multipart/form-data"
    assert form["action"] == form["hx-post"] == f"/admin/projects/{project.slug}/batches"
    field = form.find("input", type="file")
    assert page.find("label", attrs={"for": field["id"]}) is not None
    assert "No batches yet" in page.get_text()


def test_a_good_file_is_imported_and_listed_with_its_counts(
    client: TestClient, session: Session, db: Database
) -> None:
    project = make_project(session)
    admin_client(client, session)
    rows = jsonl(native_rows(3, candidates=3))
    response = upload(client, project.slug, rows, name="Erste Charge", follow_redirects=False)
    assert response.status_code == 303
    page = soup(client.get(response.headers["location"]).text)
    assert "3 prompts, 9 candidates, 9 comparisons added" in page.find(role="status").get_text()
    row = page.find("span", string="Erste Charge").find_parent("tr")
    cells = [td.get_text(" ", strip=True) for td in row.find_all("td")]
    assert cells[0] == "active"
    assert cells[2:4] == ["3", "9"]
    assert row.find("progress")["max"] == "9"
    with reading(db) as s:
        batch = s.scalars(select(Batch)).one()
        assert (batch.source_filename, batch.created_by is not None) == ("batch.jsonl", True)


def test_a_bad_file_is_refused_whole_with_its_errors_by_line(
    client: TestClient, session: Session, db: Database
) -> None:
    project = make_project(session)
    admin_client(client, session)
    response = upload(client, project.slug, BAD)
    assert response.status_code == 422
    errors = soup(response.text).find(id="import-errors")
    assert "nothing was imported" in errors.find("h3").get_text()
    items = [li.get_text(" ", strip=True) for li in errors.find_all("li")]
    assert items[0].startswith("line 3 candidates at least 2 required")
    assert items[1].startswith("line 4 candidates at least 2 required")
    assert len(items) == 2
    assert prompts_in(db) == 0
    with reading(db) as s:
        assert s.scalar(select(func.count()).select_from(Batch)) == 0


def test_the_htmx_upload_answers_with_the_batches_fragment(
    client: TestClient, session: Session, db: Database
) -> None:
    project = make_project(session)
    admin_client(client, session)
    refused = upload(client, project.slug, BAD, headers=HX)
    assert refused.status_code == 422
    fragment = soup(refused.text)
    assert fragment.find("nav") is None, "only the fragment"
    assert fragment.find(id="batches") is not None
    assert len(fragment.select("#import-errors li")) == 2

    accepted = upload(client, project.slug, jsonl(native_rows(2)), headers=HX)
    assert accepted.status_code == 200
    fragment = soup(accepted.text)
    assert fragment.find(id="import-errors") is None
    assert "2 prompts" in fragment.find(role="status").get_text()
    assert len(fragment.select("#batches tbody tr")) == 1
    assert prompts_in(db) == 2


def test_the_same_file_twice_adds_nothing_and_says_so(client: TestClient, session: Session) -> None:
    project = make_project(session)
    admin_client(client, session)
    upload(client, project.slug, jsonl(native_rows(2)))
    again = upload(client, project.slug, jsonl(native_rows(2)), headers=HX)
    assert "nothing added" in soup(again.text).find(role="status").get_text()
    assert len(soup(again.text).select("#batches tbody tr")) == 1


def test_no_file_chosen_is_an_error_on_the_page(client: TestClient, session: Session) -> None:
    project = make_project(session)
    admin_client(client, session)
    response = client.post(f"/admin/projects/{project.slug}/batches", data={"name": "x"})
    assert response.status_code == 422
    assert "choose a file" in soup(response.text).find(id="import-errors").get_text()


def test_a_file_over_the_limit_is_refused(
    client: TestClient, session: Session, db: Database
) -> None:
    client.app.state.settings.max_upload_mb = 1  # type: ignore[attr-defined]
    project = make_project(session)
    admin_client(client, session)
    big = jsonl(native_rows(2)) + b" " * (1 << 20)
    response = upload(client, project.slug, big)
    assert response.status_code == 422
    assert "1 MB upload limit" in soup(response.text).find(id="import-errors").get_text()
    assert prompts_in(db) == 0


def _status_of(db: Database) -> BatchStatus:
    with reading(db) as s:
        return s.scalars(select(Batch.status)).one()


def test_pausing_resuming_and_archiving_by_form_and_by_fragment(
    client: TestClient, session: Session, db: Database
) -> None:
    project, _ = project_with_comparisons(session, 2)
    batch_id = session.scalar(select(Batch.id))
    admin_client(client, session)
    url = f"/admin/projects/{project.slug}/batches/{batch_id}/status"
    response = client.post(url, data={"status": "paused"}, follow_redirects=False)
    assert response.status_code == 303
    assert _status_of(db) is BatchStatus.PAUSED
    page = soup(client.get(f"/admin/projects/{project.slug}").text)
    buttons = [b.get_text() for b in page.select("#batches td.actions button")]
    assert buttons == ["Resume", "Archive"]

    fragment = soup(client.post(url, data={"status": "archived"}, headers=HX).text)
    assert fragment.find("nav") is None
    assert fragment.select("#batches td.actions button") == []
    assert "now archived" in fragment.find(role="status").get_text()
    assert _status_of(db) is BatchStatus.ARCHIVED

    refused = client.post(url, data={"status": "active"})
    assert refused.status_code == 400
    assert "cannot become active" in refused.text
    assert client.post(url, data={"status": "gone"}).status_code == 422
    assert (
        client.post(url.replace(str(batch_id), "999"), data={"status": "paused"}).status_code == 404
    )


def test_paused_and_archived_batches_leave_the_queue_but_keep_their_labels(
    session: Session,
) -> None:
    project, comparisons = project_with_comparisons(session, 3, overlap=1)
    first = session.scalars(select(Batch)).one()
    from tests.factories import import_rows

    import_rows(session, project, native_rows(2, prefix="q"), batch_name="second")
    judge(session, comparisons[0], make_annotator(session), "a")
    assert queue_open(session, project) == 4  # 3 + 2 comparisons, one judged

    set_status(session, first, BatchStatus.PAUSED)
    assert queue_open(session, project) == 2
    queued = session.scalars(
        select(Comparison.id).where(Comparison.batch_id.in_(queued_batch_ids(project.id)))
    ).all()
    assert len(queued) == 2
    assert project_progress(session, project).needed == 5, "paused work is still to be done"

    set_status(session, first, BatchStatus.ARCHIVED)
    assert project_progress(session, project).needed == 2, "archived work is not"
    assert session.scalar(select(func.count()).select_from(Judgement)) == 1


def test_the_plain_form_post_carries_its_csrf_token_in_the_multipart_body(
    client: TestClient, session: Session, db: Database
) -> None:
    project = make_project(session)
    admin_client(client, session)
    token = client.headers.pop("X-CSRF-Token")
    files = {"file": ("batch.jsonl", jsonl(native_rows(2)), "application/jsonl")}
    url = f"/admin/projects/{project.slug}/batches"
    refused = client.post(url, files=files, data={"name": "x"})
    assert refused.status_code == 403
    assert prompts_in(db) == 0
    accepted = client.post(url, files=files, data={"csrf_token": token}, follow_redirects=False)
    assert accepted.status_code == 303
    assert prompts_in(db) == 2
