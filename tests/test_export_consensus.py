"""Consensus (FORMATS.md "Consensus") and what an export selects: thresholds, batches, time
window, excluded annotators, and the train/validation split."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from app.db import Database
from app.exports.consensus import Outcome, RatingVotes, Thresholds, Votes
from app.exports.run import split_of
from tests.export_helpers import rows_of, run_export
from tests.factories import import_rows, make_annotator, make_project, native_rows
from tests.factories_labels import T0, judge, make_mixed_project

DEFAULT = Thresholds()


@pytest.mark.parametrize(
    ("votes", "outcome", "agreement"),
    [
        (Votes(), None, 0.0),
        (Votes(a=1), Outcome.A, 1.0),
        (Votes(a=2, b=1), Outcome.A, 2 / 3),
        (Votes(a=1, b=3), Outcome.B, 0.75),
        (Votes(a=1, b=1), Outcome.DISPUTED, 0.5),
        (Votes(tie=2, a=1), Outcome.TIE, 2 / 3),
        (Votes(both_bad=1, tie=1, a=1), Outcome.DISPUTED, 1 / 3),
        (Votes(both_bad=3, a=1, b=1), Outcome.BOTH_BAD, 0.6),
    ],
)
def test_the_outcome_is_the_verdict_with_most_votes(
    votes: Votes, outcome: Outcome | None, agreement: float
) -> None:
    assert votes.outcome is outcome
    assert votes.agreement == pytest.approx(agreement)


@pytest.mark.parametrize(
    ("votes", "thresholds", "reason"),
    [
        (Votes(), DEFAULT, "no_votes"),
        (Votes(a=1), DEFAULT, None),
        (Votes(b=1), Thresholds(min_votes=2), "too_few_votes"),
        (Votes(a=1, b=1), DEFAULT, "disputed"),
        (Votes(a=2, b=1), Thresholds(min_agreement=0.7), "low_agreement"),
        (Votes(a=2, b=1), Thresholds(min_agreement=2 / 3), None),
        (Votes(a=2, b=1), Thresholds(min_agreement=0.6667), "low_agreement"),
        (Votes(a=2, tie=1, both_bad=1), DEFAULT, None),
        (Votes(a=2, tie=1, both_bad=2), DEFAULT, "disputed"),
        (Votes(tie=1), DEFAULT, "tie"),
        (Votes(both_bad=2, a=1), DEFAULT, "both_bad"),
        (Votes(both_bad=2, a=1, b=1), Thresholds(min_agreement=0.75), "low_agreement"),
    ],
)
def test_a_pair_needs_an_a_or_b_outcome_enough_votes_and_agreement(
    votes: Votes, thresholds: Thresholds, reason: str | None
) -> None:
    assert votes.left_out_reason(thresholds) == reason


@pytest.mark.parametrize(
    ("good", "bad", "thresholds", "label"),
    [
        (1, 0, DEFAULT, True),
        (0, 2, DEFAULT, False),
        (1, 1, DEFAULT, "conflict"),
        (2, 1, DEFAULT, True),
        (2, 1, Thresholds(min_agreement=0.8), "low_agreement"),
        (1, 0, Thresholds(min_votes=2), "too_few_votes"),
    ],
)
def test_ratings_follow_the_majority(
    good: int, bad: int, thresholds: Thresholds, label: bool | str
) -> None:
    assert RatingVotes(good, bad).label(thresholds) == label


@pytest.fixture
def mixed(db: Database) -> str:
    with db.scope() as session:
        return make_mixed_project(session).slug


def test_min_votes_and_min_agreement_are_applied(db: Database, mixed: str) -> None:
    _, strict = run_export(db, mixed, format="trl-dpo", min_votes=2)
    assert strict["rows"] == 3, "two Kyoto pairs and the formal answer have two votes or more"
    assert strict["left_out"]["too_few_votes"] == 6
    _, unanimous = run_export(db, mixed, format="trl-dpo", min_agreement=1.0)
    assert unanimous["left_out"]["low_agreement"] == 1
    assert unanimous["rows"] == 7


def test_an_annotator_can_be_excluded_by_name(db: Database, mixed: str) -> None:
    _, everyone = run_export(db, mixed, format="judgements")
    _, without = run_export(db, mixed, format="judgements", exclude_annotator=["ann1"])
    assert everyone["rows"] - without["rows"] == 9
    data, _ = run_export(db, mixed, format="trl-dpo", exclude_annotator=["ann1", "ann2"])
    assert [r["chosen"][0]["content"] for r in rows_of(data)] == [
        "Pack for summer heat.",
        "Good day. How may I assist you?",
    ]


def test_since_and_until_select_labels_by_when_they_were_made(db: Database, mixed: str) -> None:
    window = {"since": T0 + timedelta(minutes=9), "until": T0 + timedelta(minutes=11)}
    data, manifest = run_export(db, mixed, format="judgements", **window)
    assert [r["created_at"] for r in rows_of(data)] == [
        "2026-01-02T09:09:00.000000Z",
        "2026-01-02T09:10:00.000000Z",
    ]
    assert manifest["params"]["since"] == "2026-01-02T09:09:00Z"


def test_batches_are_selected_by_name(db: Database, session: Session) -> None:
    project = make_project(session)
    import_rows(session, project, native_rows(3, prefix="x"), batch_name="first")
    import_rows(session, project, native_rows(2, prefix="y"), batch_name="second")
    ann = make_annotator(session)
    for prefix, n in (("x", 3), ("y", 2)):
        for i in range(n):
            judge(session, f"Answer 0 to {prefix}{i}", f"Answer 1 to {prefix}{i}", [(ann, "first")])
    session.commit()
    assert run_export(db, project.slug, format="trl-dpo")[1]["rows"] == 5
    assert run_export(db, project.slug, format="trl-dpo", batch=["second"])[1]["rows"] == 2
    both = run_export(db, project.slug, format="trl-dpo", batch=["first", "second"])
    assert both[1]["rows"] == 5


def test_unknown_names_are_refused(db: Database, mixed: str) -> None:
    from app.errors import DomainError

    with pytest.raises(DomainError, match="no batch named 'nope'"):
        run_export(db, mixed, format="kto", batch=["nope"])
    with pytest.raises(DomainError, match="no annotator named 'ghost'"):
        run_export(db, mixed, format="kto", exclude_annotator=["ghost"])


def test_the_split_is_by_prompt_stable_and_disjoint(db: Database, session: Session) -> None:
    project = make_project(session)
    import_rows(session, project, native_rows(60))
    ann = make_annotator(session)
    for i in range(60):
        judge(session, f"Answer 0 to p{i}", f"Answer 1 to p{i}", [(ann, "first")])
    session.commit()
    params = {"format": "trl-dpo", "validation_fraction": 0.25}
    train, _ = run_export(db, project.slug, **params)
    validation, manifest = run_export(db, project.slug, **params, split="validation")
    prompts = [{r["prompt"][-1]["content"] for r in rows_of(f)} for f in (train, validation)]
    assert not prompts[0] & prompts[1]
    assert len(prompts[0] | prompts[1]) == 60
    assert 5 <= len(prompts[1]) <= 25
    assert manifest["params"]["split"] == "validation"
    assert run_export(db, project.slug, **params)[0] == train


def test_split_of_depends_only_on_the_prompt_hash() -> None:
    assert split_of("0" * 64, 0.1) == "validation"
    assert split_of("f" * 64, 0.9) == "train"
    assert split_of("f" * 64, None) == "train"
