"""Gold pairs: imported or marked by an admin, mixed into queues at the project's gold rate,
each at most once per annotator, never counted toward overlap, out of exports by default."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import Database
from app.importing import ImportRefused
from app.models import Comparison, Project, Verdict
from app.quality.annotators import annotator_quality
from app.quality.gold import gold_scores, set_gold
from app.stats.progress import project_progress
from tests.clients import bearer
from tests.export_helpers import rows_of, run_export
from tests.factories import import_rows, make_admin, make_annotator, make_project, native_rows
from tests.factories_quality import (
    always_left,
    always_right,
    gold_rows,
    label_all,
    make_gold_project,
)
from tests.tally_checks import assert_tallies_exact


def golds(session: Session, project: Project) -> dict[int, Verdict | None]:
    stmt = select(Comparison.id, Comparison.gold).where(Comparison.project_id == project.id)
    return dict(session.execute(stmt).all())  # type: ignore[arg-type]


def test_an_import_row_names_the_better_candidate_or_tie_or_both_bad(session: Session) -> None:
    project = make_project(session)
    rows = [{**r, "gold": g} for r, g in zip(native_rows(3), [0, 1, "tie"], strict=True)]
    import_rows(session, project, rows)
    found = session.execute(
        select(Comparison.gold, Comparison.candidate_a_id).order_by(Comparison.id)
    ).all()
    # Candidates are stored in row order, so the row's first candidate is candidate_a.
    assert [g for g, _ in found] == [Verdict.A, Verdict.B, Verdict.TIE]
    assert_tallies_exact(session)
    assert project_progress(session, project).comparisons == 0


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({**native_rows(1, candidates=3)[0], "gold": 0}, "exactly two candidates"),
        ({**native_rows(1)[0], "gold": 2}, "0 or 1"),
        ({**native_rows(1)[0], "gold": "left"}, "0 or 1"),
        ({**native_rows(1)[0], "gold": True}, ""),
    ],
)
def test_a_bad_gold_field_refuses_the_file_naming_the_field(
    session: Session, row: dict[str, object], message: str
) -> None:
    project = make_project(session)
    with pytest.raises(ImportRefused) as refused:
        import_rows(session, project, [row])
    errors = refused.value.errors
    assert {e.field for e in errors} == {"gold"}
    assert any(message in e.message for e in errors)
    assert golds(session, project) == {}


def test_without_a_gold_rate_gold_pairs_are_never_handed_out(session: Session) -> None:
    project = make_project(session)
    make_gold_project(session, project, regular=3, gold=3)
    done = label_all(session, make_annotator(session), project, always_left, random.Random(1))
    gold = {cid for cid, g in golds(session, project).items() if g is not None}
    assert len(done) == 3 and not {a.comparison_id for a in done} & gold


def test_gold_is_mixed_in_once_per_annotator_and_never_counts_toward_overlap(
    session: Session,
) -> None:
    project = make_project(session, overlap=2, gold_rate=0.5)
    make_gold_project(session, project, regular=20, gold=10)
    before = project_progress(session, project)
    rng = random.Random(7)
    people = [make_annotator(session) for _ in range(3)]
    handed = {u.id: label_all(session, u, project, always_left, rng) for u in people}
    gold = {cid for cid, g in golds(session, project).items() if g is not None}
    for done in handed.values():
        seen = Counter(a.comparison_id for a in done if a.comparison_id in gold)
        assert seen and max(seen.values()) == 1
    after = project_progress(session, project)
    assert (before.comparisons, before.needed) == (after.comparisons, after.needed) == (20, 40)
    assert after.done == after.needed  # the regular work is all done: gold filled no slot
    regular = sum(1 for d in handed.values() for a in d if a.comparison_id not in gold)
    assert regular == 40
    assert_tallies_exact(session)


def test_marking_a_pair_gold_takes_it_out_of_the_queue_and_back(session: Session) -> None:
    project = make_project(session)
    import_rows(session, project, native_rows(2))
    first = session.scalars(select(Comparison).order_by(Comparison.id)).first()
    assert first is not None
    set_gold(session, first, Verdict.B)
    assert_tallies_exact(session)
    assert project_progress(session, project).comparisons == 1
    set_gold(session, first, None)
    assert_tallies_exact(session)
    assert project_progress(session, project).comparisons == 2


def test_gold_accuracy_is_one_for_the_careful_about_a_half_for_the_left_clicker(
    db: Database,
) -> None:
    """The issue's "Done when": and --min-gold-accuracy 0.9 keeps only the careful one's votes."""
    with db.scope() as session:
        project = make_project(session, name="Gold", gold_rate=0.5, too_fast_ms=0)
        make_gold_project(session, project, regular=60, gold=40)
        careful = make_annotator(session, username="careful")
        lefty = make_annotator(session, username="lefty")
        rng = random.Random(3)
        label_all(session, careful, project, always_right(rng), rng, limit=40)
        label_all(session, lefty, project, always_left, rng, limit=40)
        scores = gold_scores(session, project)
        assert scores[careful.id].accuracy == 1.0
        left_accuracy = scores[lefty.id].accuracy
        assert left_accuracy is not None and 0.3 <= left_accuracy <= 0.7
        assert scores[lefty.id].seen >= 10
        quality = {q.username: q for q in annotator_quality(session, project)}
        assert "low_gold_accuracy" in quality["lefty"].flags
        assert "position_biased" in quality["lefty"].flags
        assert quality["careful"].flags == []
        careful_votes = quality["careful"].judgements - quality["careful"].gold_seen
        lefty_votes = quality["lefty"].judgements
    data, manifest = run_export(db, "Gold", format="judgements", min_gold_accuracy=0.9)
    annotators = {row["annotator"] for row in rows_of(data)}
    assert len(annotators) == 1 and len(rows_of(data)) == careful_votes
    assert manifest["votes_left_out"] == {"min_gold_accuracy": lefty_votes}
    everyone, _ = run_export(db, "Gold", format="judgements")
    assert len({row["annotator"] for row in rows_of(everyone)}) == 2


def test_gold_pairs_are_left_out_of_exports_unless_asked_for(db: Database) -> None:
    with db.scope() as session:
        project = make_project(session, name="Golden", gold_rate=0.5)
        make_gold_project(session, project, regular=4, gold=4)
        rng = random.Random(5)
        label_all(session, make_annotator(session), project, always_right(rng), rng)
        gold = {cid for cid, g in golds(session, project).items() if g is not None}
    data, _ = run_export(db, "Golden", format="judgements")
    assert {row["comparison_id"] for row in rows_of(data)}.isdisjoint(gold)
    kept, manifest = run_export(db, "Golden", format="judgements", include_gold=True)
    assert {row["comparison_id"] for row in rows_of(kept)} & gold
    assert manifest["params"]["include_gold"] is True


def test_put_gold_sets_and_clears_the_answer(client: TestClient, session: Session) -> None:
    project = make_project(session)
    import_rows(session, project, gold_rows(1) + native_rows(1))
    admin, annotator = make_admin(session), make_annotator(session)
    ids = sorted(golds(session, project))
    headers = bearer(session, admin)
    annotator_headers = bearer(session, annotator)
    session.commit()
    url = f"/api/v1/comparisons/{ids[1]}/gold"
    answer = client.put(url, json={"verdict": "tie"}, headers=headers)
    assert answer.status_code == 200 and answer.json() == {
        "comparison_id": ids[1],
        "verdict": "tie",
    }
    refused = client.put(url, json={"verdict": "left"}, headers=headers)
    assert refused.status_code == 422 and "verdict" in refused.text
    assert client.put(url, json={"verdict": "a"}, headers=annotator_headers).status_code == 403
    assert client.put("/api/v1/comparisons/99999/gold", json={"verdict": "a"},
                      headers=headers).status_code == 404  # fmt: skip
    cleared = client.put(f"/api/v1/comparisons/{ids[0]}/gold", json={"verdict": None},
                         headers=headers)  # fmt: skip
    assert cleared.json()["verdict"] is None
    session.expire_all()
    assert golds(session, project) == {ids[0]: None, ids[1]: Verdict.TIE}
    assert_tallies_exact(session)
