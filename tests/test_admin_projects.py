"""Admin pages for projects: the list with progress, create and edit with a guidelines
preview, and members."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.db import Database
from app.models import Project, Protocol, RationaleMode
from app.projects import get_project, member_names
from tests.clients import soup
from tests.factories import make_annotator, make_project
from tests.factories_admin import HX, admin_client, judge, project_with_comparisons, reading

FORM = {
    "name": "Helpful answers",
    "guidelines": "## Judge\n\nPrefer **correct** answers.",
    "overlap": "3",
    "allow_tie": "true",
    "rationale": "optional",
    "rate_singletons": "true",
}


def test_the_list_shows_each_project_with_its_progress(
    client: TestClient, session: Session
) -> None:
    _, comparisons = project_with_comparisons(session, 4, name="Zebra", overlap=2)
    annotator = make_annotator(session)
    for c in comparisons[:3]:
        judge(session, c, annotator, "a")
    admin_client(client, session)
    page = soup(client.get("/admin").text)
    row = page.find("a", string="Zebra").find_parent("tr")
    bar = row.find("progress")
    assert (bar["value"], bar["max"]) == ("3", "8")
    assert "37%" in row.get_text()  # 3 of 4 × 2
    assert page.find("a", href="/admin/projects/new") is not None


def test_an_empty_console_invites_the_first_project(client: TestClient, session: Session) -> None:
    admin_client(client, session)
    page = soup(client.get("/admin").text)
    assert page.find("table") is None
    assert "Create the first project" in page.get_text()


def test_the_new_project_form_labels_every_control(client: TestClient, session: Session) -> None:
    admin_client(client, session)
    page = soup(client.get("/admin/projects/new").text)
    form = page.find("form", action="/admin/projects")
    for control in form.find_all(["input", "textarea", "select"]):
        if control.get("type") in ("hidden",):
            continue
        labelled = control.find_parent("label") or page.find(
            "label", attrs={"for": control.get("id")}
        )
        assert labelled is not None, control
    checked = {i["name"] for i in form.find_all("input", checked=True)}
    assert checked == {"allow_tie", "allow_both_bad", "rationale", "protocol", "max_strength",
                       "sampling"}  # fmt: skip
    assert form.find("input", attrs={"name": "sampling", "checked": True})["value"] == "queue"
    assert form.find("input", attrs={"name": "rationale", "checked": True})["value"] == "off"


def test_creating_a_project_saves_every_option(
    client: TestClient, session: Session, db: Database
) -> None:
    admin_client(client, session)
    response = client.post("/admin/projects", data=FORM, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/projects/helpful-answers"
    with reading(db) as s:
        p = get_project(s, "helpful-answers")
        assert (p.overlap, p.allow_tie, p.allow_both_bad) == (3, True, False)
        assert (p.rationale, p.rate_singletons) == (RationaleMode.OPTIONAL, True)
        assert p.guidelines == FORM["guidelines"]
    page = client.get(response.headers["location"]).text
    assert "Saved Helpful answers." in soup(page).find(role="status").get_text()


def _errors(html: str) -> dict[str, str]:
    return {e["id"].removesuffix("-error"): e.get_text() for e in soup(html).select(".field-error")}


def test_a_refused_form_comes_back_with_its_errors_and_values(
    client: TestClient, session: Session, db: Database
) -> None:
    admin_client(client, session)
    response = client.post("/admin/projects", data={**FORM, "name": "  ", "overlap": "zero"})
    assert response.status_code == 422
    assert set(_errors(response.text)) == {"name", "overlap"}
    page = soup(response.text)
    assert page.find("textarea", id="guidelines").get_text() == FORM["guidelines"]
    assert page.find("input", id="name")["aria-invalid"] == "true"
    with reading(db) as s:
        assert s.query(Project).count() == 0


def test_a_taken_name_is_refused(client: TestClient, session: Session) -> None:
    project_with_comparisons(session, 1, name="Helpful answers")
    admin_client(client, session)
    response = client.post("/admin/projects", data=FORM)
    assert response.status_code == 422
    assert "already exists" in _errors(response.text)["name"]


def test_overlap_has_bounds(client: TestClient, session: Session) -> None:
    admin_client(client, session)
    for bad in ("0", "51", "-1", "2.5"):
        response = client.post("/admin/projects", data={**FORM, "overlap": bad})
        assert response.status_code == 422, bad
        assert "overlap" in _errors(response.text)


def test_the_preview_renders_sanitized_markdown_as_a_page_and_as_a_fragment(
    client: TestClient, session: Session, db: Database
) -> None:
    admin_client(client, session)
    data = {**FORM, "guidelines": "**bold** <script>alert(1)</script>", "action": "preview"}
    full = client.post("/admin/projects", data=data)
    assert full.status_code == 200
    assert soup(full.text).find("form", action="/admin/projects") is not None
    fragment = client.post("/admin/projects", data=data, headers=HX)
    assert "HX-Request" in fragment.headers["vary"]
    preview = soup(fragment.text)
    assert preview.find("form") is None
    assert preview.find(id="guidelines-preview").find("strong").get_text() == "bold"
    assert preview.find("script") is None
    with reading(db) as s:
        assert s.query(Project).count() == 0, "a preview saves nothing"


def _settings_of(project: Project) -> dict[str, Any]:
    return {
        "name": project.name, "overlap": project.overlap, "tie": project.allow_tie,
        "both_bad": project.allow_both_bad, "rationale": project.rationale,
        "singletons": project.rate_singletons,
    }  # fmt: skip


def test_editing_keeps_the_slug_and_saves_unticked_boxes_as_off(
    client: TestClient, session: Session, db: Database
) -> None:
    project, _ = project_with_comparisons(session, 1, name="Old name")
    admin_client(client, session)
    page = soup(client.get(f"/admin/projects/{project.slug}/settings").text)
    assert page.find("input", id="name")["value"] == "Old name"
    data = {
        "name": "Neuer Name – Prüfung",
        "guidelines": "",
        "overlap": "2",
        "rationale": "required",
    }
    response = client.post(
        f"/admin/projects/{project.slug}/settings", data=data, follow_redirects=False
    )
    assert response.headers["location"] == f"/admin/projects/{project.slug}"
    with reading(db) as s:
        saved = _settings_of(get_project(s, project.slug))
    assert saved == {
        "name": "Neuer Name – Prüfung",
        "overlap": 2,
        "tie": False,
        "both_bad": False,
        "rationale": RationaleMode.REQUIRED,
        "singletons": False,
    }


def test_members_can_be_added_and_removed_by_page_and_by_fragment(
    client: TestClient, session: Session, db: Database
) -> None:
    project, _ = project_with_comparisons(session, 1)
    ann = make_annotator(session, username="ann")
    make_annotator(session, username="bea")
    admin_client(client, session)
    url = f"/admin/projects/{project.slug}/members"
    page = soup(client.get(url).text)
    assert "every annotator" in page.find(id="members").get_text()
    options = [
        o["value"] for o in page.find("select", attrs={"name": "username"}).find_all("option")
    ]
    assert options == ["ann", "bea"]  # admins are not offered

    response = client.post(url, data={"username": "ann"}, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, url)
    fragment = soup(client.post(url, data={"username": "bea"}, headers=HX).text)
    assert fragment.find("nav") is None
    assert [a.get_text() for a in fragment.select("#members li a")] == ["ann", "bea"]
    with reading(db) as s:
        assert member_names(s, get_project(s, project.slug)) == ["ann", "bea"]

    removed = soup(client.post(f"{url}/{ann.id}/remove", headers=HX).text)
    assert [a.get_text() for a in removed.select("#members li a")] == ["bea"]
    assert client.post(url, data={"username": "nobody"}).status_code == 404


def test_an_unknown_project_is_a_404_page(client: TestClient, session: Session) -> None:
    admin_client(client, session)
    response = client.get("/admin/projects/nope")
    assert response.status_code == 404
    assert soup(response.text).find("h1").get_text() == "Not found"


def test_settings_refuse_another_projects_name_and_change_nothing(
    client: TestClient, session: Session, db: Database
) -> None:
    project, _ = project_with_comparisons(session, 1, name="Mine", overlap=2)
    project_with_comparisons(session, 1, name="Theirs")
    admin_client(client, session)
    url = f"/admin/projects/{project.slug}/settings"
    response = client.post(url, data={"name": "Theirs", "overlap": "3"})
    assert response.status_code == 422
    assert "already exists" in _errors(response.text)["name"]
    with reading(db) as s:
        assert _settings_of(get_project(s, project.slug))["overlap"] == 2
    assert client.post(f"/admin/projects/{project.slug}/members/999/remove").status_code == 404


def test_a_rubric_preset_fills_the_box_and_the_protocol_is_saved(
    client: TestClient, session: Session, db: Database
) -> None:
    admin_client(client, session)
    form = {**FORM, "protocol": "rating", "max_strength": "3", "action": "preset:helpsteer2"}
    page = soup(client.post("/admin/projects", data=form).text)
    box = page.select_one("textarea#rubric")
    assert box is not None and '"name": "verbosity"' in box.get_text()
    response = client.post(
        "/admin/projects", data={**form, "rubric": box.get_text(), "action": "save"},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303
    with reading(db) as s:
        saved = get_project(s, "helpful-answers")
        assert (saved.protocol.value, saved.max_strength, len(saved.rubric)) == ("rating", 3, 5)


def test_the_protocol_radios_are_off_once_a_batch_is_imported_and_saving_keeps_it(
    client: TestClient, session: Session
) -> None:
    admin_client(client, session)
    project_with_comparisons(session, 1, name="Ranked", protocol=Protocol.RANKING)
    make_project(session, name="Empty")
    session.commit()
    empty = soup(client.get("/admin/projects/empty/settings").text)
    radios = empty.find_all("input", attrs={"name": "protocol", "type": "radio"})
    assert len(radios) == 3 and not any(r.has_attr("disabled") for r in radios)
    assert empty.find("input", attrs={"name": "protocol", "type": "hidden"}) is None
    page = soup(client.get("/admin/projects/ranked/settings").text)
    radios = page.find_all("input", attrs={"name": "protocol", "type": "radio"})
    assert len(radios) == 3 and all(r.has_attr("disabled") for r in radios)
    assert [r["value"] for r in radios if r.has_attr("checked")] == ["ranking"]
    assert all(r["aria-describedby"] == "protocol-help" for r in radios)
    assert "Fixed once a batch" in page.find(id="protocol-help").get_text()  # type: ignore[union-attr]
    kept = page.find("input", attrs={"name": "protocol", "type": "hidden"})
    assert kept is not None and kept["value"] == "ranking"  # what the form sends, radios off
    saved = client.post("/admin/projects/ranked/settings", follow_redirects=False,
                        data={**FORM, "name": "Ranked", "protocol": "ranking"})  # fmt: skip
    assert saved.status_code == 303, saved.text
    session.expire_all()
    assert get_project(session, "ranked").protocol is Protocol.RANKING


def test_a_bad_rubric_and_a_protocol_change_after_import_are_refused_on_the_form(
    client: TestClient, session: Session
) -> None:
    admin_client(client, session)
    project_with_comparisons(session, 1, name="Pairs")
    session.commit()
    rubric = '[{"name": "x", "min": 2, "max": 1}]'
    bad = client.post(
        "/admin/projects/pairs/settings", data={**FORM, "name": "Pairs", "rubric": rubric}
    )
    assert bad.status_code == 422
    assert "max must be above min" in soup(bad.text).select_one("[role=alert]").get_text()  # type: ignore[union-attr]
    moved = client.post("/admin/projects/pairs/settings",
                        data={**FORM, "name": "Pairs", "protocol": "ranking"})  # fmt: skip
    assert moved.status_code == 422
    assert (
        "fixed once a batch is imported" in soup(moved.text).select_one("[role=alert]").get_text()
    )  # type: ignore[union-attr]
