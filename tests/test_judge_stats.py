"""Humans vs an LLM judge: agreement with the human majority, flips, each person's agreement;
on the dashboard and through the API."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.importing.labels import inactive_annotator, source_annotator
from app.llm.judge import record
from app.models import Project, Verdict
from app.stats.judges import judge_figures
from tests.clients import soup
from tests.factories import import_rows, make_project
from tests.factories_admin import HX, admin_client
from tests.factories_labels import comparison, judge, make_labeller


def _project(session: Session) -> Project:
    """Four pairs; two humans, a source and a judge.

    pair   ann   bob   source   judge (A first, B first)
    1      a     a     b        a, a   → agrees with the majority a; both humans agree
    2      a     b     -        a, a   → humans draw: no majority; ann agrees, bob not
    3      b     b     -        b, b   → agrees
    4      -     a     -        a, b   → flipped: no judgement
    """
    project = make_project(session, name="Versus", overlap=2)
    rows = [{"prompt": f"Q{i}?", "candidates": [f"A{i}", f"B{i}"]} for i in range(1, 5)]
    import_rows(session, project, rows)
    ann, bob = make_labeller(session, "ann"), make_labeller(session, "bob")
    judge(session, "A1", "B1", [(ann, "first"), (bob, "first")])
    judge(session, "A2", "B2", [(ann, "first"), (bob, "second")])
    judge(session, "A3", "B3", [(ann, "second"), (bob, "second")])
    judge(session, "A4", "B4", [(bob, "first")])
    src = source_annotator(session, "hh")
    judge(session, "A1", "B1", [(src, "second")])
    llm = inactive_annotator(session, "judge:gpt")
    a, b = Verdict.A, Verdict.B
    answers_by_pair = {("A1", "B1"): (a, a), ("A2", "B2"): (a, a), ("A3", "B3"): (b, b),
                       ("A4", "B4"): (a, b)}  # fmt: skip
    for (first, second), answers in answers_by_pair.items():
        pair = comparison(session, first, second)
        # the factories name A{i} first; candidate ids follow, so "first" is candidate a
        assert pair.candidate_a_id < pair.candidate_b_id
        record(session, pair.id, llm.id, *answers)
    return project


def test_the_figures_are_the_hand_computed_ones(session: Session) -> None:
    figures = judge_figures(session, _project(session))
    (row,) = figures.judges
    assert (row.username, row.answered, row.inconsistent, row.judgements) == ("judge:gpt", 4, 1, 3)
    assert (row.with_majority, row.agreed) == (2, 2)  # pairs 1 and 3; pair 2 has no majority
    assert row.inconsistency_rate == 0.25 and row.majority_share == 1.0
    people = {(h.username, h.judge): (h.compared, h.agreed) for h in figures.humans}
    assert people == {("ann", "judge:gpt"): (3, 3), ("bob", "judge:gpt"): (3, 2)}


def test_the_dashboard_and_the_api_show_them(client: TestClient, session: Session) -> None:
    project = _project(session)
    admin_client(client, session)
    page = soup(client.get(f"/admin/projects/{project.slug}/dashboard").text)
    table = page.find("table", class_="judges")
    cells = [td.get_text(" ", strip=True) for td in table.find("tbody").find("tr").find_all("td")]
    assert cells == ["4", "3", "25.0% (1) order-swayed", "100.0%", "2"]
    people = page.find("table", class_="judges-humans").find("tbody").find_all("tr")
    assert [r.get_text(" ", strip=True) for r in people] == [
        "ann judge:gpt 100.0% 3", "bob judge:gpt 66.7% 3"]  # fmt: skip
    annotators = page.find("table", class_="annotators")
    headers = [th.get_text(" ", strip=True) for th in annotators.find("thead").find_all("th")]
    assert headers[-1] == "Agrees with judge:gpt"
    bob = annotators.find("bdi", string="bob").find_parent("tr").find_all("td")
    assert bob[-1].get_text(" ", strip=True) == "66.7% (3)"
    fragment = client.get(f"/admin/projects/{project.slug}/dashboard", headers=HX).text
    assert "Humans and the LLM judge" in fragment and "<html" not in fragment
    body = client.get(f"/api/v1/projects/{project.slug}/judges").json()
    assert body["judges"] == [{
        "username": "judge:gpt", "answered": 4, "judgements": 3, "position_inconsistent": 1,
        "position_inconsistency_rate": 0.25, "with_human_majority": 2,
        "agreement_with_human_majority": 1.0}]  # fmt: skip
    assert body["humans"][1] == {"username": "bob", "judge": "judge:gpt", "compared": 3,
                                 "agreed": 2, "agreement_with_judge": 2 / 3}  # fmt: skip
    listed = client.get(f"/api/v1/projects/{project.slug}/annotators").json()
    by_name = {row["username"]: row["agreement_with_judge"] for row in listed}
    assert by_name["ann"] == {"judge:gpt": 1.0}
    assert by_name["bob"] == {"judge:gpt": 2 / 3}


def test_without_a_judge_the_dashboard_says_how_to_run_one(
    client: TestClient, session: Session
) -> None:
    project = make_project(session, name="Plain")
    admin_client(client, session)
    page = soup(client.get(f"/admin/projects/{project.slug}/dashboard").text)
    section = page.find("section", attrs={"aria-labelledby": "judges-title"})
    assert "arbiter judge" in section.get_text()
