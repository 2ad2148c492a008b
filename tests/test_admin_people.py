"""People: create annotators and admins, deactivate (sessions and tokens stop at once, labels
stay), reset a password, create and revoke API tokens (shown once)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.auth import create_token, get_user, verify_password
from app.db import Database
from app.models import ApiToken, Judgement, Role
from app.settings import Settings
from app.web.main import create_app
from tests.clients import login, soup
from tests.factories import PASSWORD, make_annotator
from tests.factories_admin import HX, admin_client, judge, project_with_comparisons, reading


def secret_of(html: str) -> str:
    return soup(html).select_one(".secret-value").get_text()


def test_the_list_shows_everyone_with_role_status_and_work(
    client: TestClient, session: Session
) -> None:
    _, comparisons = project_with_comparisons(session, 2)
    ann = make_annotator(session, username="ann")
    judge(session, comparisons[0], ann, "a")
    judge(session, comparisons[1], ann, "tie")
    create_token(session, ann)
    admin_client(client, session, username="root")
    page = soup(client.get("/admin/people").text)
    rows = {
        tr.th.get_text(strip=True): [td.get_text(" ", strip=True) for td in tr.find_all("td")]
        for tr in page.select("tbody tr")
    }
    assert rows["ann"][0] == "2" and rows["ann"][2:] == ["annotator", "active", "1"]
    assert rows["root"] == ["0", "–", "admin", "active", "0"]


def test_creating_an_annotator_shows_the_generated_password_once(
    client: TestClient, session: Session, db: Database
) -> None:
    admin_client(client, session)
    response = client.post("/admin/people", data={"username": "ann", "role": "annotator"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    password = secret_of(response.text)
    with reading(db) as s:
        user = get_user(s, "ann")
        assert user.role is Role.ANNOTATOR
        assert verify_password(user.password_hash, password)
    assert password not in client.get("/admin/people").text


def test_creating_an_admin_with_a_chosen_password_shows_no_secret(
    client: TestClient, session: Session, db: Database
) -> None:
    admin_client(client, session)
    data = {"username": "ada", "role": "admin", "password": "a long password"}
    fragment = client.post("/admin/people", data=data, headers=HX)
    assert fragment.status_code == 200
    page = soup(fragment.text)
    assert page.find("nav") is None
    assert page.select_one(".secret-value") is None
    assert "Created admin ada" in page.find(role="status").get_text(" ", strip=True)
    with reading(db) as s:
        assert get_user(s, "ada").role is Role.ADMIN


def test_bad_people_are_refused_with_the_reason(client: TestClient, session: Session) -> None:
    admin_client(client, session, username="root")
    cases = [
        ({"username": "root"}, "already exists"),
        ({"username": "   "}, "1 to 64 characters"),
        ({"username": "x", "password": "short"}, "at least 8 characters"),
        ({"username": "x", "role": "wizard"}, "Choose admin or annotator."),
    ]
    for data, reason in cases:
        response = client.post("/admin/people", data=data)
        assert response.status_code == 422, data
        assert reason in soup(response.text).find(role="alert").get_text()


def test_deactivating_stops_sessions_and_tokens_at_once_and_keeps_labels(
    client: TestClient, session: Session, settings: Settings, db: Database
) -> None:
    _, comparisons = project_with_comparisons(session, 1)
    ann = make_annotator(session, username="ann")
    judge(session, comparisons[0], ann, "a")
    token = create_token(session, ann)
    session.commit()
    other_app = create_app(settings)
    with TestClient(other_app) as annotator:
        assert login(annotator, "ann") == 303
        assert annotator.get("/admin").status_code == 403  # known (as an annotator)
        bearer = {"Authorization": f"Bearer {token}"}
        assert annotator.get("/api/v1/projects/x", headers=bearer).status_code == 403  # alive

        admin_client(client, session)
        response = client.post(f"/admin/people/{ann.id}/deactivate", headers=HX)
        assert "deactivated" in soup(response.text).find(role="status").get_text()

        assert (
            annotator.get("/admin", follow_redirects=False).headers["location"].startswith("/login")
        )
        assert annotator.get("/api/v1/projects/x", headers=bearer).status_code == 401
        assert login(annotator, "ann") == 403  # told the account is inactive
    other_app.state.db.dispose()
    with reading(db) as s:
        assert s.scalar(select(Judgement.user_id)) == ann.id, "labels stay"
        assert s.scalar(select(ApiToken.revoked_at)) is not None


def test_reactivating_lets_them_log_in_again_but_revives_no_token(
    client: TestClient, session: Session, db: Database
) -> None:
    ann = make_annotator(session, username="ann")
    create_token(session, ann)
    admin_client(client, session)
    client.post(f"/admin/people/{ann.id}/deactivate")
    response = client.post(f"/admin/people/{ann.id}/reactivate", follow_redirects=False)
    assert response.headers["location"] == f"/admin/people/{ann.id}"
    page = soup(client.get(response.headers["location"]).text)
    assert "can log in again" in page.find(role="status").get_text()
    assert [s.get_text() for s in page.select("tbody .status")] == [
        page.select_one("tbody .status").get_text()
    ]
    assert "revoked" in page.select_one("tbody .status").get_text()
    with reading(db) as s:
        assert get_user(s, "ann").is_active


def test_an_admin_cannot_deactivate_themselves(client: TestClient, session: Session) -> None:
    admin = admin_client(client, session)
    page = soup(client.get(f"/admin/people/{admin.id}").text)
    assert page.find("form", action=f"/admin/people/{admin.id}/deactivate") is None
    response = client.post(f"/admin/people/{admin.id}/deactivate")
    assert response.status_code == 400
    assert "cannot deactivate yourself" in response.text


def test_resetting_a_password_shows_the_new_one_once(
    client: TestClient, session: Session, db: Database
) -> None:
    ann = make_annotator(session, username="ann")
    admin_client(client, session)
    response = client.post(f"/admin/people/{ann.id}/password", headers=HX)
    assert response.headers["cache-control"] == "no-store"
    password = secret_of(response.text)
    with reading(db) as s:
        user = get_user(s, "ann")
        assert verify_password(user.password_hash, password)
        assert not verify_password(user.password_hash, PASSWORD)


def test_tokens_are_shown_once_work_and_can_be_revoked(
    client: TestClient, session: Session, db: Database
) -> None:
    admin = admin_client(client, session)
    response = client.post(f"/admin/people/{admin.id}/tokens", data={"name": "nightly import"})
    token = secret_of(response.text)
    assert token.startswith("arb_")
    page = soup(client.get(f"/admin/people/{admin.id}").text)
    assert token not in str(page)
    assert page.select_one("tbody th").get_text() == "nightly import"
    with reading(db) as s:
        token_id = s.scalar(select(ApiToken.id))

    api = TestClient(client.app)
    bearer = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/projects/none", headers=bearer).status_code == 404
    fragment = soup(
        client.post(f"/admin/people/{admin.id}/tokens/{token_id}/revoke", headers=HX).text
    )
    assert "revoked" in fragment.select_one("tbody .status").get_text()
    assert api.get("/api/v1/projects/none", headers=bearer).status_code == 401
    assert client.post(f"/admin/people/{admin.id}/tokens/999/revoke").status_code == 404


def test_an_inactive_person_gets_no_new_token(client: TestClient, session: Session) -> None:
    ann = make_annotator(session, username="ann")
    admin_client(client, session)
    client.post(f"/admin/people/{ann.id}/deactivate")
    response = client.post(f"/admin/people/{ann.id}/tokens", data={"name": "x"})
    assert response.status_code == 400
    assert "inactive" in response.text
    assert client.get("/admin/people/999").status_code == 404
