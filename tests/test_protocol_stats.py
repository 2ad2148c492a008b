"""Quality figures of rankings and rubrics: α checked against Krippendorff's published
example, τ and position bias on rankings given through the API, and the dashboard's tables."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.models import Protocol
from app.projects import get_project
from app.stats.protocols import alpha, aspect_figures, interval, ordinal, ranking_figures
from tests.clients import bearer, soup
from tests.factories import import_rows, make_annotator, make_project, native_rows
from tests.factories_admin import admin_client

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": 4 coders, 12 units with
# gaps. Published: interval 0.849, ordinal 0.815.
N = None
CODERS = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
]


def test_alpha_matches_the_published_example() -> None:
    units: dict[object, dict[int, float]] = {}
    for coder, values in enumerate(CODERS):
        for unit, value in enumerate(values):
            if value is not None:
                units.setdefault(unit, {})[coder] = float(value)
    assert round(alpha(units, interval) or 0, 3) == 0.849
    assert round(alpha(units, ordinal) or 0, 3) == 0.815
    assert alpha({0: {0: 1.0, 1: 1.0}}, interval) is None  # no variation: undefined


def rank_all(client: TestClient, auth: dict[str, str], order: Any) -> None:
    while (
        lease := client.post("/api/v1/projects/rank/assignments", headers=auth)
    ).status_code == 201:
        work = lease.json()
        body = {"ranking": order(work)}
        sent = client.post(f"/api/v1/assignments/{work['id']}/judgement", json=body, headers=auth)
        assert sent.status_code == 201, sent.text


def by_text(work: Any, reverse: bool = False) -> list[int]:
    ordered = sorted(work["candidates"], key=lambda c: c["content"], reverse=reverse)
    return [c["candidate_id"] for c in ordered]


@pytest.mark.parametrize(("reverse", "tau"), [(False, 1.0), (True, -1.0)])
def test_kendall_tau_and_ordinal_alpha_of_two_annotators(
    client: TestClient, session: Session, reverse: bool, tau: float
) -> None:
    project = make_project(session, name="Rank", protocol=Protocol.RANKING, overlap=2)
    import_rows(session, project, native_rows(3, candidates=4))
    ann, bob = (bearer(session, make_annotator(session, username=n)) for n in ("ann", "bob"))
    session.commit()
    rank_all(client, ann, by_text)
    rank_all(client, bob, lambda w: by_text(w, reverse))
    session.expire_all()
    figures = ranking_figures(session, get_project(session, "rank"))
    assert (figures.rankings, figures.shared) == (6, 3)
    assert figures.kendall_tau == pytest.approx(tau)
    assert figures.alpha_ordinal is not None
    assert (figures.alpha_ordinal == pytest.approx(1.0)) is (not reverse)
    assert sum(figures.first_by_position) == 6 and len(figures.first_by_position) == 4


def test_position_bias_counts_first_places_by_position_shown(
    client: TestClient, session: Session
) -> None:
    project = make_project(session, name="Rank", protocol=Protocol.RANKING)
    import_rows(session, project, native_rows(5, candidates=3))
    ann = bearer(session, make_annotator(session, username="ann"))
    session.commit()
    rank_all(client, ann, lambda w: [c["candidate_id"] for c in w["candidates"]])  # as shown
    session.expire_all()
    figures = ranking_figures(session, get_project(session, "rank"))
    assert figures.first_by_position == [5, 0, 0]
    assert figures.first_shares == [1.0, 0.0, 0.0]
    assert figures.kendall_tau is None  # no prompt ranked twice


def test_interval_alpha_per_aspect_and_the_dashboard_tables(
    client: TestClient, session: Session
) -> None:
    rubric = [{"name": "helpfulness", "min": 0, "max": 4}]
    project = make_project(session, name="Rate", protocol=Protocol.RATING, rubric=rubric, overlap=2)
    import_rows(session, project, native_rows(3, candidates=1))
    ann, bob = (bearer(session, make_annotator(session, username=n)) for n in ("ann", "bob"))
    session.commit()
    for auth in (ann, bob):
        while (
            lease := client.post("/api/v1/projects/rate/assignments", headers=auth)
        ).status_code == 201:
            work = lease.json()
            score = int(work["candidates"][0]["content"][-1])  # "…p0" .. "…p2": 0, 1, 2
            body = {"rating": True, "scores": {"helpfulness": score}}
            assert (
                client.post(
                    f"/api/v1/assignments/{work['id']}/judgement", json=body, headers=auth
                ).status_code
                == 201
            )
    session.expire_all()
    (figures,) = aspect_figures(session, get_project(session, "rate"))
    assert (figures.aspect, figures.scores, figures.units) == ("helpfulness", 6, 3)
    assert figures.alpha_interval == pytest.approx(1.0)
    admin_client(client, session)
    page = soup(client.get("/admin/projects/rate/dashboard").text)
    table = page.find("caption", string=lambda s: bool(s) and "per aspect" in s)
    assert table is not None
    assert "1.000" in table.find_parent("table").get_text()  # type: ignore[union-attr]


def test_the_dashboard_shows_the_ranking_figures(client: TestClient, session: Session) -> None:
    project = make_project(session, name="Rank", protocol=Protocol.RANKING, overlap=2)
    import_rows(session, project, native_rows(2, candidates=3))
    ann, bob = (bearer(session, make_annotator(session, username=n)) for n in ("ann", "bob"))
    session.commit()
    rank_all(client, ann, by_text)
    rank_all(client, bob, by_text)
    admin_client(client, session)
    page = soup(client.get("/admin/projects/rank/dashboard").text)
    section = page.find(id="rankings-title")
    assert section is not None
    text = section.find_parent("section").get_text()  # type: ignore[union-attr]
    assert "Kendall's τ between annotators" in text and "1.000" in text
    assert "Position shown" in text
