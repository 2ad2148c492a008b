"""Exports of ranking and rating projects: rankings as pairs in every pair format, KTO and
rubric rows from ratings, trl-reward margins."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.db import Database
from app.models import Protocol
from tests.clients import bearer, label_all
from tests.export_helpers import RULES, rows_of, run_export
from tests.factories import import_rows, make_annotator, make_project, native_rows

PAIR_FORMATS = ("openai-dpo", "nova-dpo", "trl-dpo", "vertex-preference", "trl-reward")
RUBRIC = [{"name": "helpfulness", "min": 0, "max": 4}, {"name": "verbosity", "min": 1, "max": 5}]


def by_content(work: Any) -> list[int]:
    """The candidates best first by their text ("Answer 0" best): both annotators agree."""
    return [c["candidate_id"] for c in sorted(work["candidates"], key=lambda c: c["content"])]


@pytest.fixture
def ranked(client: TestClient, session: Session) -> str:
    project = make_project(session, name="Rank", protocol=Protocol.RANKING, overlap=2)
    import_rows(session, project, native_rows(3, candidates=4))
    people = [bearer(session, make_annotator(session, username=n)) for n in ("ann", "bob")]
    session.commit()
    for auth in people:
        assert label_all(client, auth, "rank", lambda w: {"ranking": by_content(w)}) == 3
    return "rank"


@pytest.mark.parametrize("fmt", PAIR_FORMATS)
def test_a_ranking_of_four_gives_six_pairs_per_prompt_in_every_pair_format(
    db: Database, ranked: str, fmt: str
) -> None:
    data, manifest = run_export(db, ranked, format=fmt)
    rows = rows_of(data)
    assert len(rows) == 3 * 6
    assert manifest["left_out"] == {}
    if fmt in RULES:
        for row in rows:
            RULES[fmt](row)


def test_the_chosen_side_is_always_the_better_ranked(db: Database, ranked: str) -> None:
    rows = rows_of(run_export(db, ranked, format="trl-dpo")[0])
    for row in rows:
        chosen, rejected = row["chosen"][0]["content"], row["rejected"][0]["content"]
        assert chosen < rejected  # "Answer 0 …" was ranked first by both
    margins = Counter(r["margin"] for r in rows_of(run_export(db, ranked, format="trl-reward")[0]))
    assert margins == {1.0: 3 * 3, 2.0: 3 * 2, 3.0: 3 * 1}  # rank distances of C(4, 2)


@pytest.mark.parametrize(
    ("policy", "per_prompt"), [("adjacent", 3), ("best-vs-rest", 3), ("all", 6)]
)
def test_the_ranking_pairs_policy_chooses_the_pairs(
    db: Database, ranked: str, policy: str, per_prompt: int
) -> None:
    rows = rows_of(run_export(db, ranked, format="openai-dpo", ranking_pairs=policy)[0])
    assert len(rows) == 3 * per_prompt


def test_none_acceptable_gives_kto_false_for_every_candidate_and_no_pair(
    client: TestClient, session: Session, db: Database
) -> None:
    project = make_project(session, name="Rank", protocol=Protocol.RANKING)
    import_rows(session, project, native_rows(1, candidates=3))
    auth = bearer(session, make_annotator(session, username="ann"))
    session.commit()
    label_all(client, auth, "rank", lambda w: {"ranking": [], "none_acceptable": True})
    data, manifest = run_export(db, "rank", format="trl-dpo")
    assert rows_of(data) == [] and manifest["left_out"] == {"both_bad": 3}
    kto = rows_of(run_export(db, "rank", format="kto")[0])
    assert [r["label"] for r in kto] == [False, False, False]


def test_a_rating_project_with_a_rubric_exports_exactly_the_scores_given(
    client: TestClient, session: Session, db: Database
) -> None:
    project = make_project(session, name="Rate", protocol=Protocol.RATING, rubric=RUBRIC, overlap=2)
    import_rows(session, project, native_rows(1, candidates=2))
    ann, bob = (bearer(session, make_annotator(session, username=n)) for n in ("ann", "bob"))
    session.commit()

    def scored(helpful: int) -> Any:
        def body(work: Any) -> dict[str, Any]:
            good = work["candidates"][0]["content"].startswith("Answer 0")
            h = helpful if good else 0
            return {"rating": good, "scores": {"helpfulness": h, "verbosity": 2}}

        return body

    assert label_all(client, ann, "rate", scored(4)) == 2
    assert label_all(client, bob, "rate", scored(3)) == 2
    kto = rows_of(run_export(db, "rate", format="kto")[0])
    assert sorted((r["completion"][0]["content"], r["label"]) for r in kto) == [
        ("Answer 0 to p0", True), ("Answer 1 to p0", False),
    ]  # fmt: skip
    rows = rows_of(run_export(db, "rate", format="rubric")[0])
    assert [list(r) for r in rows] == [
        ["prompt", "response", "helpfulness", "verbosity", "raters"]
    ] * 2
    got = {r["response"]: (r["helpfulness"], r["verbosity"], r["raters"]) for r in rows}
    assert got == {"Answer 0 to p0": (3.5, 2.0, 2), "Answer 1 to p0": (0.0, 2.0, 2)}
    assert rows[0]["prompt"] == [{"role": "user", "content": "Question p0?"}]
    only_ann = rows_of(run_export(db, "rate", format="rubric", exclude_annotator=["bob"])[0])
    assert {r["response"]: r["helpfulness"] for r in only_ann}["Answer 0 to p0"] == 4.0
    assert run_export(db, "rate", format="rubric", min_votes=3)[1]["left_out"] == {
        "too_few_votes": 2
    }


def test_pair_margins_come_from_strength(
    client: TestClient, session: Session, db: Database
) -> None:
    project = make_project(session, name="Pairs", max_strength=3)
    import_rows(session, project, native_rows(2))
    auth = bearer(session, make_annotator(session, username="ann"))
    session.commit()
    strengths = iter([3, None])

    def body(work: Any) -> dict[str, Any]:
        side = "left" if work["left"]["content"].startswith("Answer 0") else "right"
        strength = next(strengths)
        return {"verdict": side, **({"strength": strength} if strength else {})}

    label_all(client, auth, "pairs", body)
    rows = rows_of(run_export(db, "pairs", format="trl-reward")[0])
    assert sorted(r["margin"] for r in rows) == [1.0, 3.0]
    assert all(r["chosen"][-1]["content"].startswith("Answer 0") for r in rows)


USER = [{"role": "user", "content": "Q?"}]
REWARD = {
    "chosen": [*USER, {"role": "assistant", "content": "good"}],
    "rejected": [*USER, {"role": "assistant", "content": "bad"}],
    "margin": 2.0,
}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"margin": 0}, "bad_margin"),
        ({"margin": True}, "bad_margin"),
        (
            {"rejected": [{"role": "user", "content": "Other?"}, REWARD["rejected"][1]]},
            "prompts_differ",
        ),
        ({"extra": 1}, "bad_keys"),
    ],
)
def test_the_trl_reward_checker_refuses_what_trl_would_not_train_on(
    change: dict[str, Any], reason: str
) -> None:
    from app.exports import FORMATS
    from app.exports.base import Options

    assert FORMATS["trl-reward"].check(REWARD, Options()) is None
    assert FORMATS["trl-reward"].check({**REWARD, **change}, Options()) == reason


def test_the_rubric_checker_wants_prompt_response_aspects_raters() -> None:
    from app.exports import FORMATS
    from app.exports.base import Options

    good = {"prompt": USER, "response": "x", "helpfulness": 2.5, "raters": 2}
    check = FORMATS["rubric"].check
    assert check(good, Options()) is None
    assert check({**good, "helpfulness": "high"}, Options()) == "bad_score"
    assert check({"response": "x", "prompt": USER, "raters": 1}, Options()) == "bad_keys"


def test_the_export_page_offers_the_ranking_pairs_policy_to_ranking_projects(
    client: TestClient, session: Session, ranked: str
) -> None:
    from tests.clients import soup
    from tests.factories_admin import admin_client

    make_project(session, name="Pairs")
    admin_client(client, session)
    page = soup(client.get("/admin/projects/rank/export").text)
    choice = page.select_one("select#ranking_pairs")
    assert choice is not None
    assert [o["value"] for o in choice.select("option")] == ["all", "adjacent", "best-vs-rest"]
    assert (
        soup(client.get("/admin/projects/pairs/export").text).select_one("#ranking_pairs") is None
    )
    shown = client.get("/admin/projects/rank/export?format=trl-dpo&ranking_pairs=adjacent")
    assert shown.status_code == 200
    assert 'value="adjacent" selected' in shown.text
